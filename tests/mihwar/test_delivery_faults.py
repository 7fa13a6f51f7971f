"""Webhook delivery under faults, with real worker processes and a real HTTPS receiver.

Each test starts `partner-gateway worker` processes on the test database, as an operator
would (trusting the receiver's throwaway certificate authority and allowed to reach
127.0.0.1), makes real orders through Mihwar's order service, and watches what the
receiver gets: a receiver that was down, a worker killed mid-batch, two workers at once
for a minute, a slow receiver beside a quick one, and a receiver that fails before it
succeeds. Only on PostgreSQL, where many workers share the work with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

import tests.conftest as root
from core.columns import aware
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from core.webhooks import WebhookDelivery, WebhookSettings
from models.mihwar.accounts import SignedIn
from models.mihwar.ordering import OrderedLine, Orders
from models.mihwar.tables import ADMIN, InventoryItem
from models.mihwar.webhooks import SubscriptionService
from tests.conftest import free_port
from tests.mihwar.conftest import Tenant, session_of
from tests.webhook_receiver import Received, Receiver, serving

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="delivery workers are tested as processes on PostgreSQL, where they share the work (SKIP LOCKED)",
)

GATEWAY = str(Path(sys.executable).parent / "partner-gateway")
HOOKS = "/mihwar/api/settings/webhooks"
LOCAL = "127.0.0.1/32"


@dataclass(frozen=True)
class Subscribed:
    id: str
    path: str
    secret: str


@pytest.fixture
def worker_env(database: Settings, tls: tuple[Path, Path, Path]) -> dict[str, str]:
    """The environment of a worker on the test database that may send to this machine."""
    return {
        **os.environ,
        **root.test_environment(database.instance_dir),
        "WEBHOOK_ALLOWED_ADDRESSES": LOCAL,
        "WEBHOOK_CA_FILE": str(tls[0]),
    }


@contextmanager
def worker(env: dict[str, str], log: Path, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    """A `partner-gateway worker` process, with WEBHOOK_* `settings`; stopped (SIGTERM) at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [GATEWAY, "worker", "--interval", "0.2"],
            env={**env, **settings},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def subscribe(unit: UnitOfWork, tenant: Tenant, receiver_url: str) -> Subscribed:
    """The tenant's subscription to order.created at `receiver_url` (a path of its own)."""
    path = f"/{uuid.uuid4().hex}"
    allowed = WebhookSettings.from_env({"WEBHOOK_ALLOWED_ADDRESSES": LOCAL})
    admin = SignedIn("faults", tenant.id, frozenset({ADMIN}))
    created = SubscriptionService(unit, allowed).create(admin, receiver_url + path, ["order.created"])
    unit.commit()
    return Subscribed(created.subscription.id, path, created.secret)


def make_orders(unit: UnitOfWork, tenant: Tenant, count: int) -> list[str]:
    """`count` orders, each made and committed on its own, as the web app would: their ids."""
    orders = []
    for _ in range(count):
        orders.append(Orders(unit).create(tenant.id, [OrderedLine("COF-1KG", 1)]).id)
        unit.commit()
    return orders


def by_order(received: list[Received]) -> dict[str, list[Received]]:
    found: dict[str, list[Received]] = {}
    for request in received:
        found.setdefault(request.json()["payload"]["orderId"], []).append(request)
    return found


def wait_for_orders(receiver: Receiver, path: str, orders: list[str], timeout: float) -> dict[str, list[Received]]:
    """What arrived at `path`, by order, once every one of `orders` has arrived at least once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        arrived = by_order(receiver.at(path))
        if set(orders) <= set(arrived):
            return arrived
        time.sleep(0.05)
    missing = set(orders) - set(by_order(receiver.at(path)))
    raise AssertionError(f"{len(missing)} of {len(orders)} orders' events did not arrive in {timeout} s")


def assert_in_one_piece(request: Received, secret: str) -> None:
    """The body is the exact bytes signed, and a whole envelope."""
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-mihwar-signature"] == f"sha256={expected}"
    envelope = request.json()
    assert set(envelope) == {"event", "payload", "sentAt", "id", "occurredAt"}
    assert request.headers["webhook-id"] == envelope["id"]


def deliveries(mihwar_db: Database, database: Settings, subscription: Subscribed) -> list[WebhookDelivery]:
    with UnitOfWork(mihwar_db, database) as unit:
        rows = unit.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
        ).all()
        unit.session.expunge_all()
        return list(rows)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_a_receiver_that_was_down_gets_every_event_when_it_is_back(
    worker_env: dict[str, str],
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
    mihwar_db: Database,
    database: Settings,
) -> None:
    port = free_port()
    subscription = subscribe(unit, tenant, f"https://127.0.0.1:{port}")
    schedule = {"WEBHOOK_RETRY_SCHEDULE": ",".join(["1"] * 20), "WEBHOOK_CONNECT_TIMEOUT": "1", "WEBHOOK_TIMEOUT": "3"}

    with worker(worker_env, tmp_path / "worker.log", **schedule):
        orders = make_orders(unit, tenant, 20)
        wait_until(
            lambda: (
                (rows := deliveries(mihwar_db, database, subscription)) != []
                and len(rows) == 20
                and all(row.attempts >= 2 and row.status == "pending" for row in rows)
            ),
            30,
            "every delivery failed twice while the receiver was down",
        )
        with serving((tls[1], tls[2]), port=port) as receiver:
            arrived = wait_for_orders(receiver, subscription.path, orders, timeout=30)

    for copies in arrived.values():
        for request in copies:
            assert_in_one_piece(request, subscription.secret)
    rows = deliveries(mihwar_db, database, subscription)
    assert {row.status for row in rows} == {"delivered"}
    assert all(row.last_status == 200 for row in rows)


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_keep_their_id(
    worker_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
    mihwar_db: Database,
    database: Settings,
) -> None:
    subscription = subscribe(unit, tenant, receiver.url(""))
    receiver.behave(subscription.path, delay=1.0)
    # Short timeouts, so the killed worker's lease (four attempts' time and 30 s) runs out soon.
    timeouts = {"WEBHOOK_CONNECT_TIMEOUT": "0.5", "WEBHOOK_TIMEOUT": "2"}
    orders = make_orders(unit, tenant, 40)

    with worker(worker_env, tmp_path / "first.log", **timeouts) as first:
        receiver.wait_for(subscription.path, 5, timeout=30)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    time.sleep(0.5)  # what the killed worker had fully sent is recorded by the receiver
    sent_before = set(by_order(receiver.at(subscription.path)))
    assert len(sent_before) < 40, "the worker was to be killed in the middle of its batch"

    # The second worker runs until every delivery is recorded: an attempt that timed out
    # under load is retried (5 s later) by this worker, not left for one that never comes.
    with worker(worker_env, tmp_path / "second.log", **timeouts):
        wait_for_orders(receiver, subscription.path, orders, timeout=90)
        wait_until(
            lambda: {row.status for row in deliveries(mihwar_db, database, subscription)} == {"delivered"},
            60,
            "every delivery is recorded as delivered",
        )

    arrived = by_order(receiver.at(subscription.path))
    for copies in arrived.values():
        for request in copies:
            assert_in_one_piece(request, subscription.secret)
        assert len({request.headers["webhook-id"] for request in copies}) == 1
        assert len({request.json()["occurredAt"] for request in copies}) == 1
    repeated = {order for order, copies in arrived.items() if len(copies) > 1}
    retried = {row.payload["orderId"] for row in deliveries(mihwar_db, database, subscription) if row.attempts > 1}
    assert repeated, "what the killed worker was sending came again"
    assert repeated <= sent_before | retried, "only that, or what this worker itself had to retry"


def test_two_workers_for_a_minute_deliver_every_event_exactly_once(
    worker_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
) -> None:
    subscription = subscribe(unit, tenant, receiver.url(""))
    seconds = float(os.environ.get("DELIVERY_FAULT_SECONDS", "60"))
    orders: list[str] = []

    with (
        worker(worker_env, tmp_path / "a.log") as _a,
        worker(worker_env, tmp_path / "b.log") as _b,
    ):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:  # a steady stream, about 20 events a second
            orders.extend(make_orders(unit, tenant, 1))
            time.sleep(0.05)
        arrived = wait_for_orders(receiver, subscription.path, orders, timeout=60)

    assert len(orders) >= seconds * 5
    copies = Counter(request.headers["webhook-id"] for request in receiver.at(subscription.path))
    assert [webhook_id for webhook_id, count in copies.items() if count > 1] == []
    assert len(copies) == len(orders) == len(arrived)
    for log in ("a.log", "b.log"):  # both took part
        assert "mihwar-webhook-delivery: handled" in (tmp_path / log).read_text(), log


def test_a_slow_receiver_does_not_delay_deliveries_to_the_others(
    worker_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
) -> None:
    slow = subscribe(unit, tenant, receiver.url(""))
    quick = subscribe(unit, tenant, receiver.url(""))
    receiver.behave(slow.path, delay=20.0)
    # Fewer threads in all than events to the slow receiver: only its lanes may wait on it.
    with worker(worker_env, tmp_path / "worker.log", WEBHOOK_CONCURRENCY="24") as running:
        time.sleep(2)  # started, and idle
        orders = make_orders(unit, tenant, 40)
        made = time.monotonic()
        arrived = wait_for_orders(receiver, quick.path, orders, timeout=20)
        last = max(request.arrived for copies in arrived.values() for request in copies)
        assert last - made < 5.0, f"the quick receiver's last event took {last - made:.1f} s"
        assert len(receiver.at(slow.path)) <= 16  # the slow one holds its own lanes only
        running.kill()  # not waiting for the slow receiver's answers


def test_a_receiver_failing_then_succeeding_is_retried_on_the_schedule_and_every_attempt_logged(
    worker_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
    client: TestClient,
) -> None:
    subscription = subscribe(unit, tenant, receiver.url(""))
    receiver.behave(subscription.path, failures=3, failure_status=500)
    schedule = [1.0, 2.0, 4.0, 60.0]

    with worker(worker_env, tmp_path / "worker.log", WEBHOOK_RETRY_SCHEDULE=",".join(map(str, schedule))):
        make_orders(unit, tenant, 1)
        received = receiver.wait_for(subscription.path, 4, timeout=30)
        admin = session_of(unit, tenant, ADMIN)
        wait_until(
            lambda: (
                client.get(f"{HOOKS}/{subscription.id}/attempts", headers=admin).json()["data"][0]["deliveryStatus"]
                == "delivered"
            ),
            10,
            "the delivery is written back as delivered",
        )

    gaps = [later.arrived - earlier.arrived for earlier, later in itertools.pairwise(received)]
    for gap, wait in zip(gaps, schedule, strict=False):
        # The schedule's wait, give or take its 10% jitter, and the worker's polling.
        assert wait * 0.9 - 0.1 <= gap <= wait * 1.1 + 1.0, (gaps, schedule)
    assert len({request.headers["webhook-id"] for request in received}) == 1
    attempts = client.get(f"{HOOKS}/{subscription.id}/attempts", headers=admin).json()["data"]
    assert [attempt["statusCode"] for attempt in attempts] == [200, 500, 500, 500]  # newest first
    assert all(attempt["deliveryStatus"] == "delivered" for attempt in attempts)
    assert all(attempt["latencyMs"] >= 0 and attempt["responseExcerpt"] for attempt in attempts)
    assert all(attempt["error"] is None for attempt in attempts)
    assert len({attempt["eventId"] for attempt in attempts}) == 1
    attempted = sorted(attempt["attemptedAt"] for attempt in attempts)
    assert attempted == sorted(set(attempted))


def test_a_worker_stopped_with_sigterm_leaves_nothing_claimed(
    worker_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
    mihwar_db: Database,
    database: Settings,
) -> None:
    """Stopped mid-batch, a worker sends what it holds within its grace, gives back what it
    has not started, and writes it all down: afterwards no delivery is leased to it."""
    subscription = subscribe(unit, tenant, receiver.url(""))
    receiver.behave(subscription.path, delay=0.5)
    # One lane, so that most of what the worker claims is still waiting when it is stopped.
    settings = {"WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION": "1"}
    make_orders(unit, tenant, 12)

    with worker(worker_env, tmp_path / "worker.log", **settings) as running:
        receiver.wait_for(subscription.path, 1, timeout=30)
        running.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert running.wait(timeout=40) == 0
        assert time.monotonic() - signalled < 25, "within its 20 s grace, and the write-back"

    rows = deliveries(mihwar_db, database, subscription)
    assert len(rows) == 12
    now = datetime.now(UTC)
    leased = [
        row.id for row in rows if row.status == "pending" and row.next_attempt_at and aware(row.next_attempt_at) > now
    ]
    assert leased == [], "a stopped worker holds no lease"
    delivered = [row for row in rows if row.status == "delivered"]
    assert len(delivered) == len(by_order(receiver.at(subscription.path))), "what was sent is recorded as sent"
