"""Jobs claim their work with leases, so many workers never take one item twice; the outbox relays."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.columns import aware, utcnow
from core.config import Settings
from core.database import Database
from core.jobs import JobContext, claim_due
from core.outbox import Event, Outbox, OutboxEvent, purge_job, relay_job
from core.unit_of_work import UnitOfWork

WORKERS = 6


@pytest.fixture
def context(database: Settings) -> Iterator[JobContext]:
    db = Database(database.database_url)
    yield JobContext(db, database)
    db.dispose()


@pytest.fixture
def api() -> str:
    """An API name of this test's own, so only its events are claimed."""
    return f"t{uuid.uuid4().hex[:12]}"


def publish(context: JobContext, api: str, count: int) -> list[str]:
    with context.unit() as unit:
        ids = [Outbox(unit, api).publish("thing.happened", {"n": n}, key=f"thing:{n}").id for n in range(count)]
        unit.commit()
    return ids


def rows(context: JobContext, api: str) -> list[OutboxEvent]:
    with context.unit() as unit:
        found = list(unit.session.scalars(select(OutboxEvent).where(OutboxEvent.api == api).order_by(OutboxEvent.id)))
        unit.session.expunge_all()
    return found


def claim(context: JobContext, api: str, limit: int = 5, lease: timedelta = timedelta(minutes=5)) -> list[int]:
    with context.unit() as unit:
        ids = claim_due(
            unit,
            OutboxEvent,
            due=OutboxEvent.next_attempt_at,
            where=[OutboxEvent.api == api, OutboxEvent.dispatched_at.is_(None)],
            limit=limit,
            lease=lease,
        )
        unit.commit()
    return ids


def test_concurrent_claimers_never_take_one_item_twice(context: JobContext, api: str) -> None:
    publish(context, api, 60)
    start = threading.Barrier(WORKERS)

    def claim_until_empty(_: int) -> list[int]:
        start.wait(timeout=30)
        mine: list[int] = []
        while batch := claim(context, api, limit=4):
            mine.extend(batch)
        return mine

    with ThreadPoolExecutor(WORKERS) as pool:
        claimed = [row_id for batch in pool.map(claim_until_empty, range(WORKERS)) for row_id in batch]

    assert len(claimed) == 60
    assert len(set(claimed)) == 60


def test_a_claimed_item_waits_for_its_lease_to_run_out(context: JobContext, api: str) -> None:
    publish(context, api, 1)

    first = claim(context, api)
    assert len(first) == 1
    assert claim(context, api) == []
    with context.unit() as unit:  # the worker that held it died: its lease runs out
        unit.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == first[0])
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        unit.commit()
    assert claim(context, api) == first


def test_the_relay_hands_each_event_to_its_apis_handlers_once(context: JobContext, api: str) -> None:
    ids = publish(context, api, 3)
    seen: list[Event] = []

    def handler(unit: UnitOfWork, event: Event) -> None:
        seen.append(event)

    relay = relay_job({api: {"thing.happened": handler, "other.thing": handler}})
    while relay.run(context):
        pass

    mine = [event for event in seen if event.api == api]
    assert [event.id for event in mine] == ids
    assert [event.payload for event in mine] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(row.dispatched_at is not None for row in rows(context, api))


def test_a_failing_handler_is_retried_later_and_the_event_kept(context: JobContext, api: str) -> None:
    publish(context, api, 1)

    def broken(unit: UnitOfWork, event: Event) -> None:
        raise ConnectionError("receiver down")

    relay = relay_job({api: {"*": broken}})
    while relay.run(context):
        pass

    (row,) = rows(context, api)
    assert row.dispatched_at is None
    assert row.attempts == 1
    assert row.last_error == "ConnectionError: receiver down"
    assert row.next_attempt_at is not None
    assert aware(row.next_attempt_at) > utcnow()


def test_one_failing_event_of_a_batch_holds_back_only_itself(context: JobContext, api: str) -> None:
    ids = publish(context, api, 4)

    def picky(unit: UnitOfWork, event: Event) -> None:
        if event.payload["n"] == 2:
            raise ValueError("cannot take this one")
        Outbox(unit, f"{api}x").publish("forwarded", {"from": event.id})

    relay = relay_job({api: {"*": picky}})
    while relay.run(context):
        pass

    assert [row.dispatched_at is not None for row in rows(context, api)] == [True, True, False, True]
    forwarded = [row.payload["from"] for row in rows(context, f"{api}x")]
    assert forwarded == [ids[0], ids[1], ids[3]]  # the batch's first try rolled back: each is written once


def test_a_batch_handler_gets_the_claimed_events_at_once(context: JobContext, api: str) -> None:
    ids = publish(context, api, 5)
    batches: list[list[str]] = []

    class Batching:
        def __call__(self, unit: UnitOfWork, event: Event) -> None:
            raise AssertionError("handed one event at a time")

        def batch(self, unit: UnitOfWork, events: list[Event]) -> None:
            batches.append([event.id for event in events if event.api == api])

    relay = relay_job({api: {"*": Batching()}})
    while relay.run(context):
        pass

    assert [event_id for batch in batches for event_id in batch] == ids
    assert len([batch for batch in batches if batch]) == 1


def test_a_handlers_writes_commit_with_the_event(context: JobContext, api: str) -> None:
    publish(context, api, 1)
    follow_up = f"{api}x"

    def forward(unit: UnitOfWork, event: Event) -> None:
        Outbox(unit, follow_up).publish("forwarded", {"from": event.id})

    relay = relay_job({api: {"*": forward}})
    relay.run(context)

    assert [row.type for row in rows(context, follow_up)] == ["forwarded"]


def test_handled_events_are_purged_after_their_retention(context: JobContext, api: str) -> None:
    publish(context, api, 2)
    relay = relay_job({})
    while relay.run(context):
        pass
    with context.unit() as unit:
        unit.session.execute(
            update(OutboxEvent).where(OutboxEvent.api == api).values(dispatched_at=utcnow() - timedelta(days=8))
        )
        unit.commit()

    purge_job().run(context)

    assert rows(context, api) == []
