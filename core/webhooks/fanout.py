"""Fan-out: one delivery per subscription an event goes to, recorded with the event's handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from core.columns import utcnow
from core.outbox import Event, EventHandler
from core.unit_of_work import UnitOfWork
from core.webhooks.registry import Registry
from core.webhooks.tables import PENDING, WebhookDelivery

_DELIVERIES = cast(Table, WebhookDelivery.__table__)


def fan_out(registry_of: Callable[[UnitOfWork], Registry]) -> EventHandler:
    """The outbox handler that turns each event of an API into its deliveries (register it
    for "*" in `Api.event_handlers`). An event handled twice (the relay is at least once)
    is fanned out once: a delivery is unique per event and subscription."""

    def handle(unit: UnitOfWork, event: Event) -> None:
        registry = registry_of(unit)
        targets = registry.targets(unit, event)
        if not targets:
            return
        now = utcnow()
        rows = [
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
            for target in targets
        ]
        insert = postgresql.insert if unit.connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(_DELIVERIES).on_conflict_do_nothing(
            index_elements=[_DELIVERIES.c.api, _DELIVERIES.c.event_id, _DELIVERIES.c.subscription_id]
        )
        unit.connection.execute(statement, rows)

    return handle
