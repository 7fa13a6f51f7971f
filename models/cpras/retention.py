"""Forgetting what CPRAS no longer needs: webhook deliveries after 30 days (the spec promises
event ids are remembered at least that long, and an ignored delivery is kept that long for
review), and hand-offs once they can no longer be returned from. In batches, each its own
short transaction, so a backlog never holds long locks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from core.columns import utcnow
from core.jobs import Job, JobContext
from models.cpras.tables import Handoff, WebhookEventRow

EVENT_RETENTION = timedelta(days=30)
BATCH = 1000


def purge(context: JobContext, handoff_lifetime: timedelta) -> int:
    """Delete one batch of each; how many rows went."""
    removed = 0
    with context.unit() as unit:
        now = utcnow()
        for key, since, before in (
            (WebhookEventRow.event_id, WebhookEventRow.received_at, now - EVENT_RETENTION),
            (Handoff.handoff_id, Handoff.created_at, now - handoff_lifetime - timedelta(days=1)),
        ):
            ids = list(unit.connection.scalars(select(key).where(since < before).limit(BATCH)))
            if ids:
                unit.connection.execute(delete(key.class_).where(key.in_(ids)))
            removed += len(ids)
        unit.commit()
    return removed


def retention_job(handoff_lifetime: int, interval: float = 3600.0) -> Job:
    return Job("cpras-retention", lambda context: purge(context, timedelta(seconds=handoff_lifetime)), interval)
