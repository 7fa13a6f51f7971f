"""The delivery job: due deliveries claimed in batches, sent concurrently, written back in batches.

A pipeline rather than rounds, so a slow receiver holds its own threads, never the others.
Each run of the job writes back what finished since the last run, claims due deliveries,
and returns at once; the worker runs it again right away while it finds work. What is
claimed waits in a queue per subscription, and up to `per_subscription` threads ("lanes")
send from each queue, one delivery after another over kept-alive connections. So a
receiver that answers slowly (or not at all, until the timeout) ties up its own lanes
only, no receiver gets more requests at once from one worker than it has lanes, and the
threads never wait for the next claim. Fewer threads busy at once is also faster: Python
threads doing TLS contend for one lock.

A subscription holds at most `QUEUED_PER_LANE` deliveries per lane in one process, and
claims lease their rows for as long as that many attempts can take, and a margin. A
worker that dies (even by SIGKILL) leaves its deliveries to be taken again once the lease
runs out: delivery is at least once, and a repeat carries the same event id. A worker
that is stopped sends what it holds for a while, then gives back what it has not started.

Each attempt resolves and checks the URL (webhooks/addresses.py), then POSTs the body the
API wrote and signed to the checked address (webhooks/transport.py), over connections
kept alive between deliveries to the same receiver, never following a redirect, and
keeps only an excerpt of the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update

from core.columns import aware, utcnow
from core.jobs import Backlog, Job, JobContext, claim_due
from core.ops.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_IN_FLIGHT
from core.unit_of_work import UnitOfWork
from core.webhooks.addresses import UnsafeAddressError, check_url
from core.webhooks.registry import Message, Registry, Target
from core.webhooks.schedule import next_attempt
from core.webhooks.settings import WebhookSettings
from core.webhooks.tables import CANCELLED, DELIVERED, FAILED, PENDING, WebhookAttempt, WebhookDelivery
from core.webhooks.transport import SendError, Transport

logger = logging.getLogger(__name__)

_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)
GONE = 410
QUEUED_PER_LANE = 4  # deliveries a subscription holds per lane in one process, sending one included


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    message: Message
    target: Target
    attempts: int  # before this one
    leased_until: datetime  # what the claim wrote; the write-back changes the row only if it is still that


@dataclass(frozen=True)
class _Outcome:
    claimed: _Claimed
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None
    given_back: bool = False  # not attempted: its lease ran short, or its subscription is gone

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Sends one API's deliveries from this process; `job()` is what the worker runs."""

    def __init__(self, registry: Registry, settings: WebhookSettings) -> None:
        self.registry = registry
        self.api = registry.api
        self.settings = settings
        self.depth = settings.per_subscription * QUEUED_PER_LANE
        # Long enough for the last of a subscription's queue to be sent, and written back.
        attempt = settings.connect_timeout + settings.total_timeout
        self.lease = timedelta(seconds=QUEUED_PER_LANE * attempt + 30)
        self._pool: ThreadPoolExecutor | None = None
        self._transport = Transport(settings)
        self._results: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued: dict[str, deque[_Claimed]] = {}  # by subscription
        self._lanes: dict[str, int] = {}  # threads sending, by subscription
        self._held = 0  # claimed and not yet sent to the end, in all
        self._stopping = False
        self._in_flight = WEBHOOK_IN_FLIGHT.labels(self.api)

    def job(self) -> Job:
        """The worker's job; when the worker stops, what is in flight is finished and written."""
        backlog = Backlog(
            WebhookDelivery,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.created_at,
            [WebhookDelivery.api == self.api, WebhookDelivery.status == PENDING],
        )
        return Job(f"{self.api}-webhook-delivery", self.run, interval=0.05, stop=self.stop, backlog=backlog)

    def run(self, context: JobContext) -> int:
        written = self._write_back(context)
        with self._lock:
            held = {
                subscription: len(waiting) + self._lanes.get(subscription, 0)
                for subscription, waiting in self._queued.items()
            }
            held_ids = [item.delivery_id for waiting in self._queued.values() for item in waiting]
            room = self.settings.concurrency * QUEUED_PER_LANE - self._held
        claimed = self._claim(context, min(room, self.settings.batch), held, held_ids) if room > 0 else []
        if claimed:
            with self._lock:
                self._held += len(claimed)
                for item in claimed:
                    self._queued.setdefault(item.target.subscription_id, deque()).append(item)
        self._open_lanes()
        self._in_flight.set(self._held + self._results.qsize())
        return written + len(claimed)

    def drain(self, context: JobContext, timeout: float = 30.0) -> None:
        """Wait until everything claimed is sent, and write the outcomes (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._open_lanes()
            with self._lock:
                held = self._held
            if not held and self._results.empty():
                return
            self._write_back(context)
            time.sleep(0.01)

    def stop(self, context: JobContext, grace: float = 20.0) -> None:
        """Send what was claimed for up to `grace` seconds, then give back what was not
        started, let what is being sent finish, and write it all."""
        self.drain(context, timeout=grace)
        with self._lock:
            self._stopping = True
            unsent = [item for waiting in self._queued.values() for item in waiting]
            self._held -= len(unsent)
            self._queued.clear()
        for item in unsent:
            self._results.put(_Outcome(item, utcnow(), None, 0, None, None, given_back=True))
        self.close()
        self._write_back(context)
        self._in_flight.set(0)

    def close(self) -> None:
        """Stop the threads and close the kept-alive connections (what is in flight finishes)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._transport.close()

    # Claiming ------------------------------------------------------------------------------

    def _claim(self, context: JobContext, limit: int, held: dict[str, int], held_ids: list[int]) -> list[_Claimed]:
        pending = [WebhookDelivery.api == self.api, WebhookDelivery.status == PENDING]
        chosen = self._choose(context, [*pending, WebhookDelivery.id.not_in(held_ids)], limit, held)
        if not chosen:
            return []
        with context.unit() as unit:
            ids = claim_due(
                unit,
                WebhookDelivery,
                due=WebhookDelivery.next_attempt_at,
                where=[*pending, WebhookDelivery.id.in_(chosen)],
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
                claimed.append(_Claimed(row.id, message, target, row.attempts, row.next_attempt_at))
            if gone:
                unit.connection.execute(
                    update(_DELIVERIES)
                    .where(_DELIVERIES.c.id.in_(gone))
                    .values(status=CANCELLED, next_attempt_at=None, last_error="The subscription is gone.")
                )
            unit.commit()
        return claimed

    def _choose(self, context: JobContext, pending: list[Any], limit: int, held: dict[str, int]) -> list[int]:
        """The due deliveries to claim, oldest first, leaving out those over a subscription's
        share; read without locks (the claim then locks them, skipping any taken meanwhile)."""
        full = [subscription for subscription, count in held.items() if count >= self.depth]
        now = utcnow()
        query = (
            select(_DELIVERIES.c.id, _DELIVERIES.c.subscription_id)
            .where(
                *pending,
                or_(_DELIVERIES.c.next_attempt_at.is_(None), _DELIVERIES.c.next_attempt_at <= now),
                _DELIVERIES.c.subscription_id.not_in(full),
            )
            .order_by(_DELIVERIES.c.id)
            .limit(limit * 2)
        )
        with context.unit() as unit:
            candidates = unit.connection.execute(query).all()
            unit.commit()
        chosen, taken = [], dict(held)
        for row_id, subscription in candidates:
            if taken.get(subscription, 0) < self.depth:
                taken[subscription] = taken.get(subscription, 0) + 1
                chosen.append(row_id)
                if len(chosen) == limit:
                    break
        return chosen

    # Sending -------------------------------------------------------------------------------

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix=f"{self.api}-webhooks")
        return self._pool

    def _open_lanes(self) -> None:
        """Start lanes for the subscriptions with deliveries waiting and lanes to spare, those
        served least recently first (so that many busy subscriptions share the threads)."""
        starts = []
        with self._lock:
            if self._stopping:
                return
            lanes = sum(self._lanes.values())
            for subscription in list(self._queued):
                waiting = self._queued[subscription]
                sending = self._lanes.get(subscription, 0)
                more = min(self.settings.per_subscription - sending, len(waiting), self.settings.concurrency - lanes)
                if more > 0:
                    self._lanes[subscription] = sending + more
                    lanes += more
                    starts.extend([subscription] * more)
                    self._queued[subscription] = self._queued.pop(subscription)  # to the back of the line
        if not starts:
            return
        pool = self._thread_pool()
        for subscription in starts:
            pool.submit(self._lane, subscription)

    def _lane(self, subscription: str) -> None:
        """Send the subscription's waiting deliveries one after another, until none is left or
        another subscription waits for a thread. One whose lease has run too short to be sent
        and written back in time is given back, never sent: another worker may take it then."""
        margin = timedelta(seconds=self.settings.connect_timeout + self.settings.total_timeout + 10)
        while True:
            with self._lock:
                waiting = self._queued.get(subscription)
                if self._stopping or not waiting or self._others_wait(subscription):
                    self._lanes[subscription] -= 1
                    if not self._lanes[subscription]:
                        del self._lanes[subscription]
                        if not waiting:
                            self._queued.pop(subscription, None)
                    return
                item = waiting.popleft()
            if aware(item.leased_until) - utcnow() < margin:
                self._results.put(_Outcome(item, utcnow(), None, 0, None, None, given_back=True))
            else:
                self._results.put(self._attempt(item))
            with self._lock:
                self._held -= 1

    def _others_wait(self, subscription: str) -> bool:
        """Whether every thread is busy while another subscription waits with no lane (under the lock)."""
        if sum(self._lanes.values()) < self.settings.concurrency:
            return False
        return any(
            waiting and other not in self._lanes for other, waiting in self._queued.items() if other != subscription
        )

    def _attempt(self, item: _Claimed) -> _Outcome:
        started, attempted_at = time.perf_counter(), utcnow()
        status: int | None = None
        error: str | None = None
        excerpt: str | None = None
        try:
            destination = check_url(item.target.url, self.settings)
            request = self.registry.request(replace(item.message, sent_at=attempted_at), item.target)
            answer = self._transport.post(
                destination, request.body, {**request.headers, "Content-Type": "application/json"}
            )
            status, excerpt = answer.status, answer.excerpt
        except UnsafeAddressError as exc:
            error = f"refused: {exc}"[:500]
        except SendError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must not lose the delivery: it is retried like a failure
            logger.exception("webhook delivery %s failed unexpectedly", item.delivery_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = round((time.perf_counter() - started) * 1000)
        return _Outcome(item, attempted_at, status, latency, error, excerpt)

    # Writing back --------------------------------------------------------------------------

    def _write_back(self, context: JobContext) -> int:
        """Record the outcomes that came in: each attempt, and where its delivery stands now.

        A delivery row changes only if it is still pending under the lease this worker's
        claim wrote; if not, someone else took it meanwhile (after the lease ran out, or a
        `redeliver`), and their outcome stands. If writing fails, the outcomes are kept for
        the next run.
        """
        outcomes: list[_Outcome] = []
        while True:
            try:
                outcomes.append(self._results.get_nowait())
            except queue.Empty:
                break
        if not outcomes:
            return 0
        try:
            self._record(context, outcomes)
        except Exception:
            for outcome in outcomes:
                self._results.put(outcome)
            raise
        return len(outcomes)

    def _record(self, context: JobContext, outcomes: list[_Outcome]) -> None:
        attempted = [outcome for outcome in outcomes if not outcome.given_back]
        gone = list(dict.fromkeys(o.claimed.target.subscription_id for o in attempted if o.status_code == GONE))
        if gone:
            self._give_back_queued(gone)
        leased = [
            _DELIVERIES.c.id == bindparam("delivery_id"),
            _DELIVERIES.c.status == PENDING,
            _DELIVERIES.c.next_attempt_at == bindparam("leased_until"),
        ]
        states = [self._next_state(outcome) for outcome in attempted]
        with context.unit() as unit:
            if attempted:
                unit.connection.execute(insert(_ATTEMPTS), [_attempt_row(outcome) for outcome in attempted])
                unit.connection.execute(
                    update(_DELIVERIES)
                    .where(*leased)
                    .values(
                        status=bindparam("new_status"),
                        attempts=bindparam("new_attempts"),
                        next_attempt_at=bindparam("new_next_attempt_at"),
                        last_status=bindparam("new_last_status"),
                        last_error=bindparam("new_last_error"),
                        delivered_at=bindparam("new_delivered_at"),
                    ),
                    states,
                )
            returned = [
                {"delivery_id": o.claimed.delivery_id, "leased_until": o.claimed.leased_until}
                for o in outcomes
                if o.given_back
            ]
            if returned:
                unit.connection.execute(update(_DELIVERIES).where(*leased).values(next_attempt_at=utcnow()), returned)
            for subscription_id in gone:
                self.registry.gone(unit, subscription_id)
            unit.commit()
        self._count(attempted, states)

    def _count(self, attempted: list[_Outcome], states: list[dict[str, Any]]) -> None:
        """Count the attempts written, and where each left its delivery, in the metrics."""
        for outcome, state in zip(attempted, states, strict=True):
            if outcome.acknowledged:
                result = "acknowledged"
            else:
                result = "refused" if outcome.status_code is not None else "error"
            WEBHOOK_ATTEMPTS.labels(self.api, result).inc()
            status = state["new_status"]
            WEBHOOK_DELIVERIES.labels(self.api, "retrying" if status == PENDING else status).inc()

    def _give_back_queued(self, subscriptions: list[str]) -> None:
        """Take the deliveries queued for `subscriptions` out of their queues, to be given back
        (a receiver that answered 410 Gone gets nothing more from this worker)."""
        with self._lock:
            for subscription in subscriptions:
                waiting = self._queued.get(subscription)
                while waiting:
                    item = waiting.popleft()
                    self._held -= 1
                    self._results.put(_Outcome(item, utcnow(), None, 0, None, None, given_back=True))

    def _next_state(self, outcome: _Outcome) -> dict[str, Any]:
        attempts = outcome.claimed.attempts + 1
        state = {
            "delivery_id": outcome.claimed.delivery_id,
            "leased_until": outcome.claimed.leased_until,
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
        .where(
            _DELIVERIES.c.api == api,
            _DELIVERIES.c.id.in_(delivery_ids),
            _DELIVERIES.c.status.in_((FAILED, CANCELLED)),
        )
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), last_error=None)
    )
    changed: int = result.rowcount
    return changed
