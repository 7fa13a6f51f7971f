"""The transactional outbox: events recorded with the change that caused them, handled later.

A service that changes state and must tell the world (a webhook, say) does not call out
in the request: it `publish`es an event through the request's unit of work, so the event
row commits exactly when the change does and a change that rolls back leaves no event. The
worker's outbox relay (`relay_job`) then hands each event to the handlers its API
registered for that type (`Api.event_handlers`). A claimed batch is handled in one
transaction, and marked handled in it; if a handler fails, that transaction rolls back and
the batch is handled again one event per transaction, so only the failing event waits,
retried with back-off. An event no handler is registered for is marked handled as it is.
Every event has an id and a time of its own that stay the same however often it is
handled, so consumers can drop duplicates and order events.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Index, Integer, String, Table, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import BigId, aware, utcnow
from core.database import Base
from core.jobs import Backlog, Job, JobContext, claim_due
from core.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# How long a relay's claim on a batch lasts. Handing a batch on takes well under a second
# (its handlers insert rows), so a worker killed in between holds its events back for this
# long only; a batch that somehow outlives it may be handed on twice, which handlers bear
# (they are idempotent: events are handled at least once).
RELAY_LEASE = timedelta(seconds=15)
RETENTION = timedelta(days=7)


class OutboxEvent(Base):
    """One event, from the moment its cause commits until it has been handled (and a while after)."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "dispatched_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    api: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    tenant: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


_OUTBOX = cast(Table, OutboxEvent.__table__)


@dataclass(frozen=True)
class Event:
    """An event as its handlers see it."""

    id: str
    api: str
    type: str
    key: str | None
    payload: Mapping[str, Any]
    occurred_at: datetime
    tenant: str | None = None  # whose event it is, in an API with tenants (whose subscribers get it)


EventHandler = Callable[[UnitOfWork, Event], None]
"""Handles one event inside the unit of work that marks it handled (so both commit together).

A handler that can do a batch of events at a time for less than one at a time (one INSERT
for all, say) also has a `batch(unit, events)` method; the relay then hands it the batch.
"""


class Outbox:
    """The outbox, as one API publishes to it within one unit of work."""

    def __init__(self, unit: UnitOfWork, api: str) -> None:
        self.unit = unit
        self.api = api

    def publish(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        key: str | None = None,
        tenant: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record an event, to be handled once (and only if) this unit of work commits.

        `key` names what the event is about (an order, say), for consumers that keep order;
        `tenant` whose it is, in an API with tenants (its webhooks go to that tenant's
        subscribers only).
        """
        event = Event(str(uuid.uuid4()), self.api, kind, key, dict(payload), occurred_at or utcnow(), tenant)
        self.unit.session.add(
            OutboxEvent(
                event_id=event.id,
                api=event.api,
                type=event.type,
                key=event.key,
                tenant=event.tenant,
                payload=dict(event.payload),
                occurred_at=event.occurred_at,
            )
        )
        return event


def handlers_for(handlers: Mapping[str, Mapping[str, EventHandler]], api: str, kind: str) -> list[EventHandler]:
    """The handlers an API registered for an event type: by exact type, or "*" for every type."""
    registered = handlers.get(api, {})
    return [handler for pattern, handler in registered.items() if pattern in (kind, "*")]


def relay_job(handlers: Mapping[str, Mapping[str, EventHandler]], batch: int = 500) -> Job:
    """The job that hands outbox events to their handlers; `handlers` is by API, then event type."""

    def relay(context: JobContext) -> int:
        with context.unit() as unit:
            ids = claim_due(
                unit,
                OutboxEvent,
                due=OutboxEvent.next_attempt_at,
                where=[OutboxEvent.dispatched_at.is_(None)],
                limit=batch,
                lease=RELAY_LEASE,
            )
            unit.commit()
        if ids and not _dispatch_together(context, handlers, ids):
            for row_id in ids:
                _dispatch(context, handlers, row_id)
        return len(ids)

    backlog = Backlog(
        OutboxEvent, OutboxEvent.next_attempt_at, OutboxEvent.occurred_at, [OutboxEvent.dispatched_at.is_(None)]
    )
    return Job("outbox", relay, interval=1.0, backlog=backlog)


def _event(row: Any) -> Event:
    """The event of an outbox row (an OutboxEvent, or a row of its table)."""
    return Event(row.event_id, row.api, row.type, row.key, row.payload, aware(row.occurred_at), row.tenant)


def _dispatch_together(context: JobContext, handlers: Mapping[str, Mapping[str, EventHandler]], ids: list[int]) -> bool:
    """Handle the events `ids` in one transaction; False (and nothing written) if a handler failed."""
    with context.unit() as unit:
        rows = unit.connection.execute(
            select(_OUTBOX).where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.dispatched_at.is_(None)).order_by(_OUTBOX.c.id)
        ).all()
        by_handler: dict[EventHandler, list[Event]] = {}
        for row in rows:
            event = _event(row)
            for handler in handlers_for(handlers, event.api, event.type):
                by_handler.setdefault(handler, []).append(event)
        try:
            for handler, events in by_handler.items():
                batch = getattr(handler, "batch", None)
                if batch is not None:
                    batch(unit, events)
                else:
                    for event in events:
                        handler(unit, event)
            unit.session.flush()
        except Exception:
            unit.rollback()
            return False
        handled = [row.id for row in rows]
        if handled:
            unit.connection.execute(
                update(_OUTBOX).where(_OUTBOX.c.id.in_(handled)).values(dispatched_at=utcnow(), last_error=None)
            )
        unit.commit()
    return True


def _dispatch(context: JobContext, handlers: Mapping[str, Mapping[str, EventHandler]], row_id: int) -> None:
    with context.unit() as unit:
        row = unit.session.get(OutboxEvent, row_id)
        if row is None or row.dispatched_at is not None:
            return
        event = _event(row)
        try:
            for handler in handlers_for(handlers, event.api, event.type):
                handler(unit, event)
            unit.session.flush()
        except Exception as exc:
            unit.rollback()
            _failed(context, row_id, exc)
            return
        row.dispatched_at = utcnow()
        row.last_error = None
        unit.commit()


def _failed(context: JobContext, row_id: int, exc: Exception) -> None:
    with context.unit() as unit:
        row = unit.session.get(OutboxEvent, row_id)
        if row is None:
            return
        row.attempts += 1
        delay = min(timedelta(seconds=2**row.attempts), MAX_BACKOFF)
        row.next_attempt_at = utcnow() + delay
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        unit.commit()
    logger.warning("outbox event %s: handler failed, retried in %s: %s", row_id, delay, exc)


def purge_job(retention: timedelta = RETENTION) -> Job:
    """The job that forgets events handled more than `retention` ago."""

    def purge(context: JobContext) -> int:
        with context.unit() as unit:
            result = unit.session.execute(delete(OutboxEvent).where(OutboxEvent.dispatched_at < utcnow() - retention))
            unit.commit()
        removed: int = result.rowcount  # type: ignore[attr-defined]
        return removed

    return Job("outbox-purge", purge, interval=3600.0)
