"""The deliveries of PrintPLANR's webhook: each applied once, by event id, and never moving
an order or a supplier link back to an older state.

A delivery is first recorded under its event id, in a savepoint, so that a second delivery
of the id (a retry, or one arriving at the same moment on another worker) fails on the
primary key and is a duplicate, with no effect. Then, if it is a `WebhookEvent` as the
spec defines it, it is applied to its order or supplier link, locked for the change, unless
that already holds a later event by `occurred_at`. A delivery that is no event is kept,
with the reason, for review: PrintPLANR retries until 200, so it is acknowledged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.columns import aware, utcnow
from core.unit_of_work import UnitOfWork
from models.cpras.tables import PrintOrder, SupplierLink, WebhookEventRow

APPLIED, STALE, IGNORED = "applied", "stale", "ignored"
LARGEST_TOTAL = Decimal("1e16")  # what the total's column holds (18 digits, 2 of them decimals)
# Of two events of one order at the same moment, the later kind wins.
ORDER_EVENT_RANKS = {"order.created": 0, "order.updated": 1, "order.completed": 2}

# What the spec's `WebhookEvent` says of a delivery: None if it is one, else why not.
EventCheck = Callable[[Any], str | None]


@dataclass(frozen=True)
class Receipt:
    id: str
    duplicate: bool = False
    ignored: bool = False
    applied: bool = False
    reason: str | None = None

    def acknowledgement(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "duplicate": self.duplicate,
            "ignored": self.ignored,
            "applied": self.applied,
        }
        if self.reason:
            body["reason"] = self.reason[:512]
        return body


class Inbox:
    def __init__(self, unit: UnitOfWork, check: EventCheck) -> None:
        self.session: Session = unit.session
        self.check = check

    def receive(self, delivery: Any, raw: bytes) -> Receipt:
        reason = self.check(delivery) or _beyond_columns(delivery)
        event = delivery if reason is None else {}
        event_id = str(event["id"]) if event else _id_of(delivery, raw)
        row = WebhookEventRow(
            event_id=event_id,
            type=str(event["type"]) if event else None,
            occurred_at=_when(event["occurred_at"]) if event else None,
            outcome=IGNORED if reason else APPLIED,
            reason=reason[:512] if reason else None,
            body=delivery,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return Receipt(event_id, duplicate=True)
        if reason:
            return Receipt(event_id, ignored=True, reason=reason)
        applied = self._apply(event, event_id)
        if not applied:
            row.outcome = STALE
            self.session.flush()
        return Receipt(event_id, applied=applied)

    def _apply(self, event: Mapping[str, Any], event_id: str) -> bool:
        occurred = _when(event["occurred_at"])
        data = event["data"]
        if event["type"] == "supplier.provisioned":
            return self._upsert(
                SupplierLink,
                data["supplier_id"],
                occurred,
                event_id,
                {
                    "supplier_external_id": data.get("supplier_external_id"),
                    "status": data.get("status"),
                },
            )
        # An event carries what PrintPLANR has; a field it leaves out keeps its value.
        kept = ("buyer_id", "project_id", "lot_id", "supplier_id", "currency", "status")
        values = {name: data[name] for name in kept if data.get(name) is not None}
        if data.get("total") is not None:
            values["total"] = Decimal(str(data["total"])).quantize(Decimal("0.01"))
        rank = ORDER_EVENT_RANKS.get(event["type"], 0)
        return self._upsert(PrintOrder, data["order_id"], occurred, event_id, {**values, "updated_at": utcnow()}, rank)

    def _upsert(
        self, table: Any, key: str, occurred: datetime, event_id: str, values: dict[str, Any], rank: int = 0
    ) -> bool:
        """Write `values` to the row `key` of `table` (made if missing), unless the row already
        holds a later event: one later by `occurred_at`, or at the same moment one of the same
        or a later kind (created, then updated, then completed), so that the first of two
        events at one moment wins and a status never moves backwards. The row is locked
        first, so that two events of one order apply one after the other; a row two requests
        make at once is made by one, and the other finds it."""
        for _ in range(2):
            current = self.session.get(table, key, with_for_update=True, populate_existing=True)
            if current is not None:
                latest = aware(current.last_event_at)
                if latest > occurred or (latest == occurred and self._rank_of(current.last_event_id) >= rank):
                    return False
                for name, value in values.items():
                    setattr(current, name, value)
                current.last_event_at, current.last_event_id = occurred, event_id
                self.session.flush()
                return True
            try:
                with self.session.begin_nested():
                    self.session.add(
                        table(
                            **{table.__mapper__.primary_key[0].key: key},
                            **values,
                            last_event_at=occurred,
                            last_event_id=event_id,
                        )
                    )
                    self.session.flush()
                return True
            except IntegrityError:
                continue  # made meanwhile by another request: lock it and compare
        return False

    def _rank_of(self, event_id: str) -> int:
        last = self.session.get(WebhookEventRow, event_id)
        return ORDER_EVENT_RANKS.get(last.type or "", 0) if last is not None else 0


def _when(text: str) -> datetime:
    return aware(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _beyond_columns(event: Any) -> str | None:
    """What the schema admits but CPRAS cannot keep: a total of 17 digits or more, a date and
    time Python cannot read."""
    if not isinstance(event, Mapping):
        return None
    total = event.get("data", {}).get("total")
    if isinstance(total, int | float) and abs(Decimal(str(total))) >= LARGEST_TOTAL:
        return f"data.total: {total} is beyond the largest total CPRAS keeps."
    try:
        _when(str(event.get("occurred_at")))
    except ValueError:
        return f"occurred_at: {str(event.get('occurred_at'))[:64]!r} is not a date and time."
    return None


def _id_of(delivery: Any, raw: bytes) -> str:
    """A usable `id` if the delivery has one, else one from its bytes (so a retry of it is a duplicate)."""
    given = delivery.get("id") if isinstance(delivery, Mapping) else None
    if isinstance(given, str) and 1 <= len(given) <= 128:
        return given
    return "body:" + hashlib.sha256(raw).hexdigest()
