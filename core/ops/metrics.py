"""The service's Prometheus metrics, one set for every API, counted in every process.

Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` is set before anything imports the client
(gunicorn.conf.py): each web worker, and the background worker the master starts, then
counts in files of its own there, and a scrape of any worker adds them all up (the
client's multiprocess mode). Without it (tests, one process) the counts live in memory.
Gauges of a process (database connections in use, webhooks in flight) are summed over
the live processes. The queues are read from the database at scrape time, so they are
the same whichever node is asked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from core.columns import aware, utcnow
from core.database import Database
from core.jobs import Job
from core.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)
# The classic text format, which every Prometheus version reads (metric names here are plain).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

REQUESTS = Counter(
    "partner_gateway_http_requests",
    "HTTP requests answered, by API, operation (operationId) and status.",
    ["api", "operation", "method", "status"],
)
LATENCY = Histogram(
    "partner_gateway_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by API and operation.",
    ["api", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
VALIDATION_REJECTIONS = Counter(
    "partner_gateway_validation_rejections",
    "Requests refused for their parameters or body before the handler ran, by API and operation.",
    ["api", "operation"],
)
AUTH_FAILURES = Counter("partner_gateway_auth_failures", "Requests answered 401, by API.", ["api"])
RATE_LIMITED = Counter("partner_gateway_rate_limit_refusals", "Requests answered 429, by API.", ["api"])
POOL = Gauge(
    "partner_gateway_db_pool_connections",
    "Database connections of the processes' pools: `in_use` checked out, `capacity` the most they may hold.",
    ["state"],
    multiprocess_mode="livesum",
)
WEBHOOK_ATTEMPTS = Counter(
    "partner_gateway_webhook_attempts",
    "Webhook sends, by API and result: `acknowledged` (2xx), `refused` (another status), `error` (no answer).",
    ["api", "result"],
)
WEBHOOK_DELIVERIES = Counter(
    "partner_gateway_webhook_deliveries",
    "Webhook deliveries after an attempt, by API and outcome: delivered, retrying, failed, cancelled.",
    ["api", "outcome"],
)
WEBHOOK_IN_FLIGHT = Gauge(
    "partner_gateway_webhook_in_flight",
    "Webhook deliveries claimed by background workers and not yet written back, by API.",
    ["api"],
    multiprocess_mode="livesum",
)
RECORDS = Counter(
    "partner_gateway_records",
    "Records taken in or handed out in bulk, by API and flow (an order-history import, a push, a pull).",
    ["api", "flow"],
)
JOB_ITEMS = Counter("partner_gateway_job_items", "Items background jobs handled, by job.", ["job"])
JOB_FAILURES = Counter("partner_gateway_job_failures", "Background job runs that failed, by job.", ["job"])


def count_records(unit: UnitOfWork, api: str, flow: str, records: int) -> None:
    """Count `records` of `flow` once `unit` has committed them (a rolled-back import counts nothing)."""
    counter = RECORDS.labels(api, flow)
    unit.after_commit(lambda: counter.inc(records))


def watch_pool(engine: Engine) -> None:
    """Count `engine`'s connections in use, and what its pool may hold, in the pool gauge."""
    pool: Any = engine.pool
    if hasattr(pool, "size") and hasattr(pool, "_max_overflow"):
        POOL.labels("capacity").inc(pool.size() + max(pool._max_overflow, 0))
    in_use = POOL.labels("in_use")
    event.listen(engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine, "checkin", lambda *_: in_use.dec())


class QueueCollector(Collector):
    """The background queues as they stand in the database: items due now, items waiting
    (leased by a worker, or to be retried later), and the age of the oldest waiting item."""

    def __init__(self, database: Database, jobs: Sequence[Job]) -> None:
        self.database = database
        self.backlogs = [(job.name, job.backlog) for job in jobs if job.backlog is not None]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        items = GaugeMetricFamily(
            "partner_gateway_queue_items",
            "Background queue items, by queue and state: `due` to be taken now, `waiting` leased or retried later.",
            labels=["queue", "state"],
        )
        oldest = GaugeMetricFamily(
            "partner_gateway_queue_oldest_age_seconds",
            "Age of the oldest item still to be done, by queue (0 when none).",
            labels=["queue"],
        )
        readable = GaugeMetricFamily(
            "partner_gateway_queues_readable", "1 when the queues could be read from the database, else 0."
        )
        now = utcnow()
        try:
            with self.database.engine.connect() as connection:
                for name, backlog in self.backlogs:
                    due_now = or_(backlog.due.is_(None), backlog.due <= now)
                    due, waiting, since = connection.execute(
                        select(
                            func.count().filter(due_now),
                            func.count().filter(~due_now),
                            func.min(backlog.since),
                        ).where(*backlog.waiting)
                    ).one()
                    items.add_metric([name, "due"], due)
                    items.add_metric([name, "waiting"], waiting)
                    oldest.add_metric([name], (now - aware(since)).total_seconds() if since is not None else 0.0)
        except SQLAlchemyError:
            logger.warning("the queues could not be read for the metrics", exc_info=True)
            readable.add_metric([], 0)
            yield readable
            return
        readable.add_metric([], 1)
        yield items
        yield oldest
        yield readable


class Exposition:
    """What `GET /metrics` answers: every process's counts, and the queues."""

    def __init__(self, queues: QueueCollector | None = None) -> None:
        self.queues = CollectorRegistry(auto_describe=False)
        if queues is not None:
            self.queues.register(queues)

    def render(self) -> bytes:
        """The text exposition; blocking (it reads files and the database): call it off the loop."""
        return generate_latest(counted()) + generate_latest(self.queues)


def counted() -> CollectorRegistry:
    """The registry holding the counts: every process's, in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY
