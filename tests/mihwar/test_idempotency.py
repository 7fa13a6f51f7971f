"""`Idempotency-Key` on ingestion, as the IETF draft has it: replay, 422, 409, and concurrency."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from core.columns import utcnow
from core.idempotency import IdempotencyKeys, IdempotencyRecord, fingerprint, key_from_header
from core.problems import Conflict
from core.unit_of_work import UnitOfWork
from models.mihwar.tables import ImportBatch, InventoryItem, OrderHistoryLine
from tests.mihwar.conftest import INGEST, Tenant, ingest, line, problem

REPLAYED = ("content-type", "content-length")
# 1-255 visible ASCII characters, or those in double quotes, as the spec's parameter says.
KEY_PATTERN = 'Must match the pattern ^(?!""$)("[\\x21-\\x7E]{1,255}"|[\\x21-\\x7E]{1,255})$.'


@pytest.fixture
def stocked(unit: UnitOfWork, tenant: Tenant) -> Tenant:
    unit.session.add(InventoryItem(organization_id=tenant.id, sku="COF-1KG", name="Coffee"))
    unit.commit()
    return tenant


def batches(unit: UnitOfWork, tenant: Tenant) -> int:
    unit.session.expire_all()
    return unit.session.scalar(select(func.count()).where(ImportBatch.organization_id == tenant.id)) or 0


def lines_of(unit: UnitOfWork, tenant: Tenant) -> int:
    return unit.session.scalar(select(func.count()).where(OrderHistoryLine.organization_id == tenant.id)) or 0


def test_the_same_key_and_body_replay_the_first_status_body_and_headers(
    client: TestClient, unit: UnitOfWork, stocked: Tenant
) -> None:
    first = ingest(client, stocked, [line()], key="erp-export-1")
    again = ingest(client, stocked, [line()], key="erp-export-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert {name: again.headers[name] for name in REPLAYED} == {name: first.headers[name] for name in REPLAYED}
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # the new request's own
    assert (batches(unit, stocked), lines_of(unit, stocked)) == (1, 1)


def test_a_quoted_key_is_the_same_key_as_the_bare_one(client: TestClient, unit: UnitOfWork, stocked: Tenant) -> None:
    first = ingest(client, stocked, [line()], key='"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    again = ingest(client, stocked, [line()], key="8e03978e-40d5-43e8-bc93-6894a57f9324")

    assert again.json() == first.json()
    assert batches(unit, stocked) == 1


@pytest.mark.parametrize(
    ("header", "key"),
    [('"abc"', "abc"), ("abc", "abc"), ('"a\\"b"', 'a"b'), ('"a\\\\b"', "a\\b"), ('"', '"'), ('abc"', 'abc"')],
)
def test_keys_are_read_from_the_header_as_the_draft_writes_them(header: str, key: str) -> None:
    assert key_from_header(header) == key


def test_an_empty_quoted_key_answers_400(client: TestClient, stocked: Tenant) -> None:
    response = ingest(client, stocked, [line()], key='""')

    assert response.status_code == 400
    assert problem(response)["errors"] == [{"pointer": "Idempotency-Key", "detail": KEY_PATTERN}]


def test_the_same_key_with_another_body_answers_422(client: TestClient, unit: UnitOfWork, stocked: Tenant) -> None:
    ingest(client, stocked, [line(quantity=1)], key="reused")

    response = ingest(client, stocked, [line(quantity=2)], key="reused")

    assert response.status_code == 422
    body = problem(response)
    assert body["title"] == "Unprocessable Content"
    assert body["detail"] == "This Idempotency-Key was already used for a request with a different body."
    assert batches(unit, stocked) == 1


def test_keys_belong_to_one_organization(
    client: TestClient, unit: UnitOfWork, stocked: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    other = new_tenant()

    first = ingest(client, stocked, [line()], key="shared-name")
    second = ingest(client, other, [line()], key="shared-name")

    assert second.status_code == 201
    assert second.json()["data"]["importBatchId"] != first.json()["data"]["importBatchId"]


def test_a_request_still_in_progress_answers_409_with_retry_after(
    client: TestClient, unit: UnitOfWork, stocked: Tenant
) -> None:
    in_progress(unit, stocked, "running", locked_for=timedelta(seconds=30))

    response = send_claimed(client, stocked, "running")

    assert response.status_code == 409
    assert problem(response)["detail"] == "A request with this Idempotency-Key is still in progress."
    assert 1 <= int(response.headers["retry-after"]) <= 5
    assert batches(unit, stocked) == 0


def test_a_claim_whose_request_died_is_taken_over(client: TestClient, unit: UnitOfWork, stocked: Tenant) -> None:
    in_progress(unit, stocked, "orphaned", locked_for=timedelta(seconds=-1))

    response = send_claimed(client, stocked, "orphaned")

    assert response.status_code == 201
    assert batches(unit, stocked) == 1


def test_a_failed_request_is_not_remembered(client: TestClient, unit: UnitOfWork, stocked: Tenant) -> None:
    refused = ingest(client, stocked, [line(quantity=-1)], key="fix-and-retry")
    fixed = ingest(client, stocked, [line(quantity=1)], key="fix-and-retry")

    assert (refused.status_code, fixed.status_code) == (400, 201)


def test_a_key_is_forgotten_after_24_hours(client: TestClient, unit: UnitOfWork, stocked: Tenant) -> None:
    ingest(client, stocked, [line()], key="yesterday")
    unit.connection.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.key == "yesterday").values(expires_at=utcnow())
    )
    unit.commit()

    response = ingest(client, stocked, [line(quantity=5)], key="yesterday")

    assert response.status_code == 201
    assert batches(unit, stocked) == 2


def test_the_purge_forgets_expired_keys_only(unit: UnitOfWork, stocked: Tenant) -> None:
    in_progress(unit, stocked, "expired", locked_for=timedelta(0), expires_in=timedelta(seconds=-1))
    in_progress(unit, stocked, "kept", locked_for=timedelta(0), expires_in=timedelta(hours=1))

    IdempotencyKeys.purge(unit)
    unit.commit()

    keys = set(unit.session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.scope == stocked.id)))
    assert keys == {"kept"}


def test_concurrent_requests_with_one_key_make_exactly_one_batch(
    client: TestClient, unit: UnitOfWork, stocked: Tenant
) -> None:
    """Eight clients send the same 5000-line request with one key at the same moment."""
    body = [line(day=f"2026-03-{1 + i % 28:02d}") for i in range(5000)]
    start = Barrier(8)

    def send(_: int) -> Any:
        start.wait()
        return ingest(client, stocked, body, key="thundering-herd")

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))

    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, [response.text for response in responses]
    created = {response.json()["data"]["importBatchId"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    assert (batches(unit, stocked), lines_of(unit, stocked)) == (1, 5000)
    again = ingest(client, stocked, body, key="thundering-herd")
    assert again.json()["data"]["importBatchId"] in created


CLAIMED_BODY = b'{"lines":[{"sku":"COF-1KG","orderedQty":12,"orderDate":"2026-03-15"}]}'


def send_claimed(client: TestClient, tenant: Tenant, key: str) -> Any:
    """The request whose key `in_progress` claimed, byte for byte."""
    headers = {**tenant.headers, "Idempotency-Key": key, "Content-Type": "application/json"}
    return client.post(INGEST, content=CLAIMED_BODY, headers=headers)


def in_progress(
    unit: UnitOfWork,
    tenant: Tenant,
    key: str,
    *,
    locked_for: timedelta,
    expires_in: timedelta = timedelta(hours=24),
) -> None:
    """A key claimed by a request that is still running (or that died, when the lock is past)."""
    now = utcnow()
    unit.session.add(
        IdempotencyRecord(
            api="mihwar",
            scope=tenant.id,
            key=key,
            fingerprint=fingerprint(CLAIMED_BODY),
            locked_until=now + locked_for,
            created_at=now,
            expires_at=now + expires_in,
        )
    )
    unit.commit()


def test_a_quoted_key_of_255_characters_is_taken(client: TestClient, stocked: Tenant) -> None:
    key = "k" * 255

    assert ingest(client, stocked, [line()], key=f'"{key}"').status_code == 201
    assert ingest(client, stocked, [line()], key=key).status_code == 201  # the same key: a replay


def test_a_bare_key_of_256_characters_answers_400(client: TestClient, stocked: Tenant) -> None:
    response = ingest(client, stocked, [line()], key="k" * 256)

    assert response.status_code == 400
    assert problem(response)["errors"] == [{"pointer": "Idempotency-Key", "detail": KEY_PATTERN}]


def test_a_request_whose_key_was_taken_over_records_nothing(unit: UnitOfWork, stocked: Tenant) -> None:
    """A request that outlived its lease, and whose key another request took over, neither
    records its answer nor commits its work: it answers 409."""
    keys = IdempotencyKeys("mihwar")

    def slow_work() -> Any:
        with UnitOfWork(unit.database, unit.settings) as other:
            other.connection.execute(
                update(IdempotencyRecord).where(IdempotencyRecord.key == "outlived").values(locked_until=utcnow())
            )
            other.commit()
        return {"done": True}, 201, {"Content-Type": "application/json"}

    with UnitOfWork(unit.database, unit.settings) as request, pytest.raises(Conflict):
        keys.run(request, stocked.id, "outlived", b"{}", slow_work)

    record = unit.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "outlived"))
    assert record is not None
    assert record.status is None  # still the other request's claim
