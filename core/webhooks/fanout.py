"""Fan-out: one delivery per subscription an event goes to, recorded with the event's handling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from core.columns import utcnow
from core.outbox import Event
from core.unit_of_work import UnitOfWork
from core.webhooks.registry import Registry, Target
from core.webhooks.tables import PENDING, WebhookDelivery

_DELIVERIES = cast(Table, WebhookDelivery.__table__)


class FanOut:
    """The outbox handler that turns each event of an API into its deliveries (register it
    for "*" in `Api.event_handlers`). An event handled twice (the relay is at least once)
    is fanned out once: a delivery is unique per event and subscription.

    The relay hands it a batch at a time: the subscriptions are read once per tenant and
    event type of the batch, and every delivery is written by one INSERT.
    """

    def __init__(self, registry_of: Callable[[UnitOfWork], Registry]) -> None:
        self.registry_of = registry_of

    def __call__(self, unit: UnitOfWork, event: Event) -> None:
        self.batch(unit, [event])

    def batch(self, unit: UnitOfWork, events: Sequence[Event]) -> None:
        registry = self.registry_of(unit)
        targets: dict[tuple[str | None, str], Sequence[Target]] = {}
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for event in events:
            key = (event.tenant, event.type)
            if key not in targets:
                targets[key] = registry.targets(unit, event)
            rows.extend(
                {
                    "api": registry.api,
                    "subscription_id": target.subscription_id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "occurred_at": event.occurred_at,
                    "payload": dict(event.payload),
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for target in targets[key]
            )
        if not rows:
            return
        insert = postgresql.insert if unit.connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(_DELIVERIES).on_conflict_do_nothing(
            index_elements=[_DELIVERIES.c.api, _DELIVERIES.c.event_id, _DELIVERIES.c.subscription_id]
        )
        unit.connection.execute(statement, rows)


def fan_out(registry_of: Callable[[UnitOfWork], Registry]) -> FanOut:
    """The fan-out handler of the API whose registry `registry_of` gives."""
    return FanOut(registry_of)
