"""The delivery job: due deliveries claimed in batches, sent concurrently, written back in batches.

A pipeline rather than rounds, so a slow receiver holds one thread, never the others: each
run of the job first writes back what finished since the last run, then claims as many
due deliveries as there are free threads and hands them to the pool, and returns at once.
The worker runs it again right away while it finds work. Claims lease the rows for as long
as an attempt can take and a margin, so a worker that dies (even by SIGKILL) leaves its
deliveries to be taken again once the lease runs out: delivery is at least once, and a
repeat carries the same event id.

Each thread resolves and checks the URL (webhooks/addresses.py), connects to the checked
address with the name kept for `Host` and TLS, POSTs the body the API wrote and signed,
never follows a redirect, and keeps only an excerpt of the answer. One HTTP client per
process keeps connections alive between deliveries to the same receiver.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, insert, select, update

from core.columns import aware, utcnow
from core.jobs import Job, JobContext, claim_due
from core.unit_of_work import UnitOfWork
from core.webhooks.addresses import UnsafeAddressError, check_url
from core.webhooks.registry import Message, Registry, Target
from core.webhooks.schedule import next_attempt
from core.webhooks.settings import WebhookSettings
from core.webhooks.tables import CANCELLED, DELIVERED, FAILED, PENDING, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)
GONE = 410


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    message: Message
    target: Target
    attempts: int  # before this one


@dataclass(frozen=True)
class _Outcome:
    claimed: _Claimed
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Sends one API's deliveries from this process; `job()` is what the worker runs."""

    def __init__(self, registry: Registry, settings: WebhookSettings) -> None:
        self.registry = registry
        self.api = registry.api
        self.settings = settings
        # Long enough for an attempt that takes its whole time, and for the write-back after it.
        self.lease = timedelta(seconds=settings.connect_timeout + settings.total_timeout + 30)
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._results: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self._in_flight = 0
        self._lock = threading.Lock()

    def job(self) -> Job:
        """The worker's job; when the worker stops, what is in flight is finished and written."""
        return Job(f"{self.api}-webhook-delivery", self.run, interval=0.05, stop=self.stop)

    def stop(self, context: JobContext) -> None:
        self.drain(context)
        self.close()

    def run(self, context: JobContext) -> int:
        written = self._write_back(context)
        with self._lock:
            free = self.settings.concurrency - self._in_flight
        claimed = self._claim(context, min(free, self.settings.batch)) if free > 0 else []
        if claimed:
            with self._lock:
                self._in_flight += len(claimed)
            pool = self._thread_pool()
            for item in claimed:
                pool.submit(self._attempt, item)
        return written + len(claimed)

    def drain(self, context: JobContext, timeout: float = 30.0) -> None:
        """Wait for every delivery in flight, and write their outcomes (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = self._in_flight
            if not busy and self._results.empty():
                return
            self._write_back(context)
            time.sleep(0.01)

    def close(self) -> None:
        """Stop the threads and close the kept-alive connections (what is in flight finishes)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    # Claiming ------------------------------------------------------------------------------

    def _claim(self, context: JobContext, limit: int) -> list[_Claimed]:
        with context.unit() as unit:
            ids = claim_due(
                unit,
                WebhookDelivery,
                due=WebhookDelivery.next_attempt_at,
                where=[WebhookDelivery.api == self.api, WebhookDelivery.status == PENDING],
                limit=limit,
                lease=self.lease,
            )
            if not ids:
                unit.commit()
                return []
            rows = unit.connection.execute(select(_DELIVERIES).where(_DELIVERIES.c.id.in_(ids))).all()
            registry = self.registry
            targets: dict[str, Target | None] = {}
            claimed, gone = [], []
            now = utcnow()
            for row in rows:
                if row.subscription_id not in targets:
                    targets[row.subscription_id] = registry.target(unit, row.subscription_id)
                target = targets[row.subscription_id]
                if target is None:
                    gone.append(row.id)
                    continue
                message = Message(
                    row.event_id, row.event_type, aware(row.occurred_at), row.payload, now, row.attempts + 1
                )
                claimed.append(_Claimed(row.id, message, target, row.attempts))
            if gone:
                unit.connection.execute(
                    update(_DELIVERIES)
                    .where(_DELIVERIES.c.id.in_(gone))
                    .values(status=CANCELLED, next_attempt_at=None, last_error="The subscription is gone.")
                )
            unit.commit()
        return claimed

    # Sending -------------------------------------------------------------------------------

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix=f"{self.api}-webhooks")
        return self._pool

    def _http(self) -> httpx.Client:
        """The process's one client (made once, under the lock: the threads ask at once)."""
        with self._lock:
            return self._client or self._new_client()

    def _new_client(self) -> httpx.Client:
        if self._client is None:
            context = ssl.create_default_context()
            if self.settings.ca_file is not None:
                context.load_verify_locations(cafile=str(self.settings.ca_file))
            connect = min(self.settings.connect_timeout, self.settings.total_timeout)
            self._client = httpx.Client(
                verify=context,
                # Connecting may take `connect`; the rest of the total is for the answer.
                timeout=httpx.Timeout(max(self.settings.total_timeout - connect, 0.5), connect=connect),
                limits=httpx.Limits(
                    max_connections=self.settings.concurrency, max_keepalive_connections=self.settings.concurrency
                ),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    def _attempt(self, item: _Claimed) -> None:
        started, attempted_at = time.perf_counter(), utcnow()
        status: int | None = None
        error: str | None = None
        excerpt: str | None = None
        try:
            destination = check_url(item.target.url, self.settings)
            message = item.message
            sent = Message(
                message.event_id,
                message.event_type,
                message.occurred_at,
                message.payload,
                attempted_at,
                message.attempt,
            )
            request = self.registry.request(sent, item.target)
            headers = {**request.headers, "Host": destination.host_header, "Content-Type": "application/json"}
            extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
            with self._http().stream(
                "POST", destination.url, content=request.body, headers=headers, extensions=extensions
            ) as response:
                status = response.status_code
                excerpt = _excerpt(response, self.settings.excerpt_bytes)
        except UnsafeAddressError as exc:
            error = f"refused: {exc}"
        except httpx.TimeoutException as exc:
            error = f"timeout: {type(exc).__name__}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        except Exception as exc:  # a bug must not lose the delivery: it is retried like a failure
            logger.exception("webhook delivery %s failed unexpectedly", item.delivery_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = round((time.perf_counter() - started) * 1000)
        self._results.put(_Outcome(item, attempted_at, status, latency, error, excerpt))
        with self._lock:
            self._in_flight -= 1

    # Writing back --------------------------------------------------------------------------

    def _write_back(self, context: JobContext) -> int:
        outcomes: list[_Outcome] = []
        while True:
            try:
                outcomes.append(self._results.get_nowait())
            except queue.Empty:
                break
        if not outcomes:
            return 0
        with context.unit() as unit:
            unit.connection.execute(insert(_ATTEMPTS), [_attempt_row(outcome) for outcome in outcomes])
            updates, gone = [], []
            for outcome in outcomes:
                updates.append(self._next_state(outcome))
                if outcome.status_code == GONE:
                    gone.append(outcome.claimed.target.subscription_id)
            unit.connection.execute(
                update(_DELIVERIES)
                .where(_DELIVERIES.c.id == bindparam("delivery_id"))
                .values(
                    status=bindparam("new_status"),
                    attempts=bindparam("new_attempts"),
                    next_attempt_at=bindparam("new_next_attempt_at"),
                    last_status=bindparam("new_last_status"),
                    last_error=bindparam("new_last_error"),
                    delivered_at=bindparam("new_delivered_at"),
                ),
                updates,
            )
            for subscription_id in dict.fromkeys(gone):
                self.registry.gone(unit, subscription_id)
            unit.commit()
        return len(outcomes)

    def _next_state(self, outcome: _Outcome) -> dict[str, Any]:
        attempts = outcome.claimed.attempts + 1
        state = {
            "delivery_id": outcome.claimed.delivery_id,
            "new_attempts": attempts,
            "new_last_status": outcome.status_code,
            "new_last_error": outcome.error,
            "new_delivered_at": None,
        }
        if outcome.acknowledged:
            return {**state, "new_status": DELIVERED, "new_next_attempt_at": None, "new_delivered_at": utcnow()}
        if outcome.status_code == GONE:
            return {**state, "new_status": CANCELLED, "new_next_attempt_at": None}
        retry_at = next_attempt(self.settings, attempts, utcnow())
        if retry_at is None:
            return {**state, "new_status": FAILED, "new_next_attempt_at": None}
        return {**state, "new_status": PENDING, "new_next_attempt_at": retry_at}


def _excerpt(response: httpx.Response, limit: int) -> str | None:
    """At most `limit` bytes of the answer's body, as text."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= limit:
            break
    return kept[:limit].decode("utf-8", errors="replace") if kept else None


def _attempt_row(outcome: _Outcome) -> dict[str, Any]:
    return {
        "delivery_id": outcome.claimed.delivery_id,
        "attempted_at": outcome.attempted_at,
        "url": outcome.claimed.target.url,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
        "response_excerpt": outcome.excerpt,
    }


def redeliver(unit: UnitOfWork, api: str, delivery_ids: Sequence[int]) -> int:
    """Send failed (or cancelled) deliveries again, from the first step of the schedule; how many."""
    result = unit.connection.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.api == api, _DELIVERIES.c.id.in_(delivery_ids), _DELIVERIES.c.status != DELIVERED)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), last_error=None)
    )
    changed: int = result.rowcount
    return changed
