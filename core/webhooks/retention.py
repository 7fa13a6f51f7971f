"""Forgetting what was sent: delivered and cancelled deliveries, and their attempts, after a while.

At hundreds of deliveries a second the tables would otherwise grow without end. Failed
deliveries are kept, whatever their age: they wait for an operator (`redeliver`). Rows go
in batches, each its own short transaction, so a large backlog never holds long locks.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from core.columns import utcnow
from core.jobs import Job, JobContext
from core.webhooks.tables import CANCELLED, DELIVERED, WebhookAttempt, WebhookDelivery

BATCH = 1000


def retention_job(api: str, retention: timedelta, interval: float = 3600.0) -> Job:
    """The job that deletes `api`'s delivered and cancelled deliveries older than `retention`."""

    def forget(context: JobContext) -> int:
        with context.unit() as unit:
            ids = list(
                unit.connection.scalars(
                    select(WebhookDelivery.id)
                    .where(
                        WebhookDelivery.api == api,
                        WebhookDelivery.status.in_((DELIVERED, CANCELLED)),
                        WebhookDelivery.created_at < utcnow() - retention,
                    )
                    .limit(BATCH)
                )
            )
            if ids:
                unit.connection.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
                unit.connection.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
            unit.commit()
        return len(ids)

    return Job(f"{api}-webhook-retention", forget, interval=interval)
