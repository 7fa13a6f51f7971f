"""The service scaled out: two web nodes and two background workers on one PostgreSQL and one Redis.

Why: each node is a process (several, in fact) of its own, so anything a node kept to
itself (a counter, a session cache, a claim held in memory) would break once a second
node serves the same callers. Tests in one process cannot show that; here both nodes
are real gunicorn masters (see conftest.py) and every race is sent to both at once, from
threads released together. What must hold: a rate limit is counted once, whichever node
counts; an `Idempotency-Key` sent to both nodes does its work once (Order-Accept, Mihwar,
SCP); IDL purchase-order numbers stay unique and gap-free per project; an IDL logout or a
spent refresh token is seen by the other node at once; each webhook is delivered once
by the two workers; and a worker killed with SIGKILL loses none, whether it was relaying
outbox events (the others take them over once its 15 s claim runs out) or sending webhooks.

Only on PostgreSQL with Redis (`DATABASE_URL`, `REDIS_URL`), as CI runs it.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from core.cli import demo_credentials
from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.jwt_bearer import issue_token
from core.outbox import OutboxEvent
from core.unit_of_work import UnitOfWork
from core.webhooks import WebhookDelivery
from core.webhooks.tables import PENDING, WebhookAttempt
from handlers.order_accept.api import API as ORDER_ACCEPT
from models.idl.accounts import Accounts, Users
from models.idl.tables import Project
from models.mihwar.tables import ADMIN, ImportBatch, InventoryItem, OrderHistoryLine
from models.order_accept.tables import Customer, Order
from models.scp.tables import Integration
from tests.idl.conftest import idl_of, order_body
from tests.idl.test_numbering import import_project
from tests.mihwar.conftest import INGEST, Tenant, create_tenant, session_of
from tests.mihwar.conftest import line as order_line
from tests.scale.conftest import IDL_ENDPOINT_LIMIT, WEBHOOK_LEASE_SECONDS, Cluster, Node, at_once
from tests.scp.conftest import INTEGRATIONS, registration
from tests.webhook_receiver import Received, Receiver

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql") or not os.environ.get("REDIS_URL"),
    reason="the scale-out test needs PostgreSQL (DATABASE_URL=postgresql...) and Redis (REDIS_URL)",
)

IDL = "/idl/api/v1"
ORDERS = "/order-accept/api/orders"
HOOKS = "/mihwar/api/settings/webhooks"
PER_NODE = 4  # requests with one Idempotency-Key, to each node at once


@pytest.fixture(scope="module")
def db(database: Settings) -> Iterator[Database]:
    """The test's own engine, to arrange state and read effects directly."""
    engine = Database(database.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def credentials(database: Settings) -> dict[str, Any]:
    """`partner-gateway demo-credentials`, as the nodes will accept them."""
    return demo_credentials(database)


def settled(send: Callable[[], httpx.Response], tries: int = 30) -> list[httpx.Response]:
    """Send, and again while the answer is 409 ("still in progress; retry"), after its
    Retry-After (capped, to keep the test short): every answer, the last one final."""
    answers = [send()]
    while answers[-1].status_code == 409 and len(answers) < tries:
        time.sleep(min(float(answers[-1].headers.get("retry-after", "0.2")), 0.5))
        answers.append(send())
    return answers


def one_key_on_both_nodes(cluster: Cluster, send: Callable[[Node], httpx.Response]) -> list[list[httpx.Response]]:
    """`send` to each node PER_NODE times at once, each retried while it answers 409."""
    return at_once([partial(settled, partial(send, node)) for node in cluster.nodes for _ in range(PER_NODE)])


def wait_until(check: Callable[[], bool], timeout: float, what: str, state: Callable[[], str] | None = None) -> None:
    """Until `check` holds; else fail, saying what did not happen and, with `state`, how things stood."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}" + (f"\n{state()}" if state else ""))


# --- rate limits -------------------------------------------------------------------------------


def idl_user(db: Database, settings: Settings, role: str, projects: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers of a new IDL user, in a session of their own (a fresh rate-limit budget)."""
    with UnitOfWork(db, settings) as unit:
        user = Users(unit).create(
            email=f"scale-{uuid.uuid4().hex[:12]}@idl.test",
            name="Scale Tester",
            role=role,
            password="a-long-test-password",
            project_ids=projects,
        )
        tokens = Accounts(unit, idl_of(settings).jwt).issue_for(user)
        unit.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


def test_a_rate_limit_is_counted_once_across_both_nodes(cluster: Cluster, db: Database, database: Settings) -> None:
    """Twice the caller's per-operation budget, half to each node at once: exactly the
    budget is served. Counted per process, the four processes would have served it all."""
    headers = idl_user(db, database, "foreman", ("PRJ001",))
    answers = at_once(
        [
            partial(node.request, "GET", f"{IDL}/users/me", headers=headers)
            for node in cluster.nodes
            for _ in range(IDL_ENDPOINT_LIMIT)
        ]
    )

    assert Counter(answer.status_code for answer in answers) == {200: IDL_ENDPOINT_LIMIT, 429: IDL_ENDPOINT_LIMIT}
    assert {answer.headers["x-ratelimit-limit"] for answer in answers} == {str(IDL_ENDPOINT_LIMIT)}
    for refused in (answer for answer in answers if answer.status_code == 429):
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
    for node in cluster.nodes:  # spent everywhere, not just on the node that spent it
        assert node.request("GET", f"{IDL}/users/me", headers=headers).status_code == 429
        assert node.request("GET", f"{IDL}/projects", headers=headers).status_code == 200  # another operation


# --- one Idempotency-Key, both nodes -----------------------------------------------------------


def assert_raced_and_settled(outcomes: list[list[httpx.Response]], status: int) -> list[httpx.Response]:
    """Every first answer was `status` or 409 (in progress), and every last one `status`: the last ones."""
    assert {answers[0].status_code for answers in outcomes} <= {status, 409}, [a[0].text for a in outcomes]
    finals = [answers[-1] for answers in outcomes]
    assert [final.status_code for final in finals] == [status] * len(finals), [final.text for final in finals]
    return finals


def test_an_order_accept_idempotency_key_sent_to_both_nodes_places_one_order(
    cluster: Cluster, db: Database, database: Settings
) -> None:
    """Four requests with one key to each node at once, for a customer new to the service:
    one customer, one order, and every answer (after retrying a 409) names that order."""
    key = f"scale-{uuid.uuid4()}"
    customer = f"scale-customer-{uuid.uuid4()}"  # new to the service: its first use races too
    token = issue_token(ORDER_ACCEPT.config(database).jwt, {"sub": customer}, 600)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    body = {"items": [{"productId": "CKA", "quantity": 2}, {"productId": "AZ-700", "quantity": 1}]}

    outcomes = one_key_on_both_nodes(cluster, lambda node: node.request("POST", ORDERS, json=body, headers=headers))

    finals = assert_raced_and_settled(outcomes, 201)
    assert len({final.json()["id"] for final in finals}) == 1
    assert len({final.headers["location"] for final in finals}) == 1
    with UnitOfWork(db, database) as unit:
        orders = unit.session.scalar(
            select(func.count())
            .select_from(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Customer.external_customer_id == customer)
        )
        customers = unit.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.external_customer_id == customer)
        )
    assert (orders, customers) == (1, 1)


def mihwar_tenant(db: Database, settings: Settings) -> Tenant:
    """A new organization with an API key of its own and one item, COF-1KG."""
    tenant = create_tenant(db, settings)
    with UnitOfWork(db, settings) as unit:
        unit.session.add(InventoryItem(organization_id=tenant.id, sku="COF-1KG", name="Arabica", current_stock=12))
        unit.commit()
    return tenant


def ingest(node: Node, tenant: Tenant, key: str, quantity: float = 12) -> httpx.Response:
    lines = [order_line(quantity=quantity), order_line(quantity=quantity + 1, day="2026-03-16")]
    headers = {**tenant.headers, "Idempotency-Key": key}
    return node.request("POST", INGEST, json={"lines": lines, "externalSourceId": key}, headers=headers)


def test_a_mihwar_idempotency_key_sent_to_both_nodes_imports_once(
    cluster: Cluster, db: Database, database: Settings
) -> None:
    """One ingestion key, to both nodes at once: one import batch, its lines once, and
    every answer the first one's, byte for byte."""
    tenant = mihwar_tenant(db, database)
    key = f"erp-export-{uuid.uuid4()}"

    outcomes = one_key_on_both_nodes(cluster, lambda node: ingest(node, tenant, key))

    finals = assert_raced_and_settled(outcomes, 201)
    assert len({final.content for final in finals}) == 1, "every answer is the first one's"
    assert finals[0].json()["data"]["inserted"] == 2
    with UnitOfWork(db, database) as unit:
        batches = unit.session.scalar(
            select(func.count()).select_from(ImportBatch).where(ImportBatch.organization_id == tenant.id)
        )
        lines = unit.session.scalar(
            select(func.count()).select_from(OrderHistoryLine).where(OrderHistoryLine.organization_id == tenant.id)
        )
    assert (batches, lines) == (1, 2)


def test_an_scp_idempotency_key_sent_to_both_nodes_registers_one_integration(
    cluster: Cluster, credentials: dict[str, Any], db: Database, database: Settings
) -> None:
    """One registration key of a demo client, to both nodes at once: one integration, and
    every answer but the first a replay of it."""
    admin = credentials["scp"]["riverside-admin"]
    name = f"Scale-out {uuid.uuid4().hex[:12]}"
    headers = {"Authorization": admin["authorization"], "Idempotency-Key": f"scale-{uuid.uuid4()}"}
    body = registration(integration_name=name)

    outcomes = one_key_on_both_nodes(
        cluster, lambda node: node.request("POST", INTEGRATIONS, json=body, headers=headers)
    )

    finals = assert_raced_and_settled(outcomes, 201)
    assert len({final.json()["integration_id"] for final in finals}) == 1
    assert sum(final.headers.get("idempotent-replayed") == "true" for final in finals) == len(finals) - 1
    for answers in outcomes:
        for busy in answers[:-1]:
            assert busy.json()["type"] == "urn:scp:problem:idempotency-key-in-use"
    with UnitOfWork(db, database) as unit:
        registered = unit.session.scalar(
            select(func.count())
            .select_from(Integration)
            .where(Integration.tenant_id == admin["tenant_id"], Integration.integration_name == name)
        )
    assert registered == 1


# --- IDL: numbering and sessions ---------------------------------------------------------------


def test_idl_po_numbers_stay_unique_and_gap_free_per_project_across_nodes(
    cluster: Cluster, db: Database, database: Settings
) -> None:
    """Eight foremen raise five P/Os each at once, on two projects, each request to the other
    node than the one before: each project numbers its own P/Os 001, 002, … without a gap."""
    projects = [import_project(db, database) for _ in range(2)]
    foremen = [idl_user(db, database, "foreman", tuple(project for project, _ in projects)) for _ in range(8)]

    def raise_five(foreman: int) -> list[tuple[str, httpx.Response]]:
        raised = []
        for number in range(5):
            node = cluster.nodes[(foreman + number) % 2]
            project_id = projects[number % 2][0]
            body = order_body(project_id=project_id)
            raised.append(
                (project_id, node.request("POST", f"{IDL}/purchase-orders", json=body, headers=foremen[foreman]))
            )
        return raised

    raised = [entry for batch in at_once([partial(raise_five, f) for f in range(8)]) for entry in batch]

    assert [answer.status_code for _, answer in raised] == [201] * 40, [answer.text for _, answer in raised]
    for project_id, job_number in projects:
        numbers = [answer.json()["po_number"] for project, answer in raised if project == project_id]
        assert sorted(numbers) == [f"{job_number}-PO-{k:03d}" for k in range(1, len(numbers) + 1)]
        with UnitOfWork(db, database) as unit:
            project = unit.session.get(Project, project_id)
            assert project is not None
            assert project.last_po_sequence == len(numbers)


def login(node: Node, who: dict[str, str]) -> dict[str, Any]:
    answer = node.request("POST", f"{IDL}/auth/login", json={"email": who["email"], "password": who["password"]})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def me(node: Node, access_token: str) -> int:
    return node.request("GET", f"{IDL}/users/me", headers={"Authorization": f"Bearer {access_token}"}).status_code


def refresh(node: Node, refresh_token: str) -> httpx.Response:
    return node.request("POST", f"{IDL}/auth/refresh", json={"refresh_token": refresh_token})


def test_an_idl_logout_on_one_node_ends_the_session_on_the_other(cluster: Cluster, credentials: dict[str, Any]) -> None:
    """A session begun on one node and refreshed on the other ends on both at the logout."""
    a, b = cluster.nodes
    session = login(a, credentials["idl"]["super"])
    renewed = refresh(b, session["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    refreshed = renewed.json()
    tokens = (session["access_token"], refreshed["access_token"])
    assert [me(node, token) for node in (a, b) for token in tokens] == [200] * 4, "both tokens work on both nodes"

    logged_out = a.request("POST", f"{IDL}/auth/logout", headers={"Authorization": f"Bearer {session['access_token']}"})

    assert logged_out.status_code == 200, logged_out.text
    for node in (b, a):
        assert me(node, session["access_token"]) == 401
        assert me(node, refreshed["access_token"]) == 401, "the whole session ended, refreshed tokens too"
        assert refresh(node, refreshed["refresh_token"]).status_code == 401


def test_an_idl_refresh_token_sent_to_both_nodes_at_once_is_spent_once(
    cluster: Cluster, credentials: dict[str, Any]
) -> None:
    """One refresh wins; the other is a replay of a spent token, which ends the session everywhere."""
    session = login(cluster.nodes[0], credentials["idl"]["foreman"])

    answers = at_once([partial(refresh, node, session["refresh_token"]) for node in cluster.nodes])

    assert sorted(answer.status_code for answer in answers) == [200, 401], [answer.text for answer in answers]
    (winner,) = [answer.json() for answer in answers if answer.status_code == 200]
    for node in cluster.nodes:
        assert me(node, winner["access_token"]) == 401
        assert refresh(node, winner["refresh_token"]).status_code == 401


# --- webhooks and background workers -----------------------------------------------------------


@dataclass(frozen=True)
class Subscribed:
    id: str
    path: str  # at the receiver


def subscribe(node: Node, db: Database, settings: Settings, tenant: Tenant, receiver: Receiver) -> Subscribed:
    """The tenant's admin subscribes to import.completed, at a path of the receiver of its own."""
    with UnitOfWork(db, settings) as unit:
        admin = session_of(unit, tenant, ADMIN)
    path = f"/{uuid.uuid4().hex}"
    created = node.request(
        "POST", HOOKS, json={"url": receiver.url(path), "events": ["import.completed"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    return Subscribed(created.json()["data"]["id"], path)


def by_batch(received: list[Received]) -> dict[str, list[Received]]:
    found: dict[str, list[Received]] = {}
    for request in received:
        found.setdefault(request.json()["payload"]["importBatchId"], []).append(request)
    return found


def deliveries(db: Database, settings: Settings, subscription: Subscribed) -> list[WebhookDelivery]:
    """The subscription's delivery rows, as the workers wrote them."""
    with UnitOfWork(db, settings) as unit:
        found = select(WebhookDelivery).where(
            WebhookDelivery.api == "mihwar", WebhookDelivery.subscription_id == subscription.id
        )
        return list(unit.session.scalars(found).all())


def clock(moment: datetime | None) -> str:
    return f"{moment:%H:%M:%S}" if moment else "now"


def undone(db: Database, settings: Settings, tenant: Tenant, subscription: Subscribed) -> str:
    """What is still to do, for a failure message: the tenant's events not yet relayed from
    the outbox, and the subscription's deliveries not yet delivered."""
    with UnitOfWork(db, settings) as unit:
        waiting = unit.session.execute(
            select(OutboxEvent.type, OutboxEvent.attempts, OutboxEvent.next_attempt_at).where(
                OutboxEvent.api == "mihwar", OutboxEvent.tenant == tenant.id, OutboxEvent.dispatched_at.is_(None)
            )
        ).all()
    events = Counter(f"{kind} (attempts {attempts}, due {clock(due)})" for kind, attempts, due in waiting)
    pending = Counter(
        f"{row.status} (attempts {row.attempts}, due {clock(row.next_attempt_at)}, last {row.last_status} "
        f"{row.last_error})"
        for row in deliveries(db, settings, subscription)
        if row.status != "delivered"
    )
    return f"at {clock(utcnow())}: events not relayed {dict(events)}; deliveries not delivered {dict(pending)}"


def all_delivered(db: Database, settings: Settings, subscription: Subscribed, count: int) -> bool:
    """Whether the subscription has `count` deliveries, each written back as delivered."""
    rows = deliveries(db, settings, subscription)
    return len(rows) == count and {row.status for row in rows} == {"delivered"}


def acknowledged_attempts(db: Database, settings: Settings, subscription: Subscribed) -> list[int]:
    """For each of the subscription's deliveries, how many of its attempts were answered 2xx."""
    with UnitOfWork(db, settings) as unit:
        counts = unit.session.execute(
            select(WebhookDelivery.id, func.count(WebhookAttempt.id))
            .outerjoin(
                WebhookAttempt,
                (WebhookAttempt.delivery_id == WebhookDelivery.id) & WebhookAttempt.status_code.between(200, 299),
            )
            .where(WebhookDelivery.api == "mihwar", WebhookDelivery.subscription_id == subscription.id)
            .group_by(WebhookDelivery.id)
        ).all()
    return [count for _, count in counts]


def test_webhooks_are_delivered_once_each_by_two_workers(
    cluster: Cluster, receiver: Receiver, db: Database, database: Settings
) -> None:
    """Twenty imports, each key sent to both nodes at once: twenty events, each delivered
    once (an attempt that failed before it reached the receiver is no second delivery)."""
    tenant = mihwar_tenant(db, database)
    subscription = subscribe(cluster.nodes[0], db, database, tenant, receiver)
    keys = [f"export-{n}-{uuid.uuid4().hex[:8]}" for n in range(20)]

    outcomes = at_once([partial(settled, partial(ingest, node, tenant, key)) for key in keys for node in cluster.nodes])

    finals = assert_raced_and_settled(outcomes, 201)
    batches = {final.json()["data"]["importBatchId"] for final in finals}
    assert len(batches) == len(keys)
    wait_until(
        lambda: all_delivered(db, database, subscription, len(keys)),
        60,
        "every event delivered and written back",
        lambda: undone(db, database, tenant, subscription),
    )
    received = receiver.at(subscription.path)
    copies = Counter(request.headers["webhook-id"] for request in received)
    assert [webhook_id for webhook_id, count in copies.items() if count > 1] == []
    assert len(received) == len(keys)
    assert set(by_batch(received)) == batches
    assert {request.json()["event"] for request in received} == {"import.completed"}
    assert acknowledged_attempts(db, database, subscription) == [1] * len(keys)
    assert len(cluster.alive_workers()) == 2


def leased_events(db: Database, settings: Settings, tenant: Tenant) -> int:
    """How many of the tenant's outbox events a worker has claimed and not yet relayed (a
    claim whose 15 s ran out while the requests were still being made counts too)."""
    with UnitOfWork(db, settings) as unit:
        count = unit.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.api == "mihwar",
                OutboxEvent.tenant == tenant.id,
                OutboxEvent.dispatched_at.is_(None),
                OutboxEvent.next_attempt_at.is_not(None),
            )
        )
    return count or 0


def pending_deliveries(db: Database) -> int:
    """How many webhook deliveries, of any API and tenant, are still to be sent."""
    with db.engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == PENDING)
        )
    return count or 0


def waiting_sessions(db: Database) -> str:
    """What every other session of the database is doing, for a failure message."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid, state, wait_event_type, wait_event, left(query, 160) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY pid"
            )
        ).all()
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def test_a_worker_killed_while_relaying_events_loses_none_of_them(
    cluster: Cluster, receiver: Receiver, db: Database, database: Settings
) -> None:
    """A worker is killed after it claimed a batch of events from the outbox and before it
    handed them on: the others relay and deliver them once its 15 s claim runs out. To kill it in
    that window for sure, the test locks the deliveries table (the hand-on inserts into it),
    and stops the other worker meanwhile so that the victim is the one that claims."""
    tenant = mihwar_tenant(db, database)
    subscription = subscribe(cluster.nodes[0], db, database, tenant, receiver)
    victim, other = cluster.alive_workers()[:2]
    # The lock stops every write to the table: a worker claiming or writing back some other
    # delivery meanwhile would wait there, and never come to relay.
    wait_until(
        lambda: pending_deliveries(db) == 0,
        30,
        "no delivery left pending by earlier work (give the scale test a database of its own)",
    )
    with db.engine.connect() as held:
        held.execute(text("LOCK TABLE webhook_deliveries IN SHARE MODE"))
        os.kill(other.process.pid, signal.SIGSTOP)
        try:
            finals = at_once(
                [partial(ingest, cluster.nodes[n % 2], tenant, f"relay-{n}-{uuid.uuid4().hex[:8]}") for n in range(10)]
            )
            assert [final.status_code for final in finals] == [201] * 10, [final.text for final in finals]
            wait_until(
                lambda: leased_events(db, database, tenant) > 0,
                30,
                "the victim claimed events",
                lambda: waiting_sessions(db) + "\nthe victim's log ends:\n" + victim.output()[-3000:],
            )
            os.kill(victim.process.pid, signal.SIGKILL)
            victim.process.wait()
        finally:
            held.rollback()
            os.kill(other.process.pid, signal.SIGCONT)
    cluster.start_worker()

    wait_until(  # the victim's claim on the outbox lasts 15 s (core.outbox.RELAY_LEASE)
        lambda: all_delivered(db, database, subscription, len(finals)),
        45,
        "every event relayed, delivered and written back",
        lambda: undone(db, database, tenant, subscription),
    )
    assert set(by_batch(receiver.at(subscription.path))) == {final.json()["data"]["importBatchId"] for final in finals}


def test_a_worker_killed_while_sending_webhooks_loses_none(
    cluster: Cluster, receiver: Receiver, db: Database, database: Settings
) -> None:
    """A worker is killed while it sends a batch to a slow receiver (every event relayed
    already); a supervisor starts another. Once the dead worker's lease runs out, what it
    held is sent by the others: every event arrives, a repeat only of what the dead worker
    had sent, under the same id."""
    tenant = mihwar_tenant(db, database)
    subscription = subscribe(cluster.nodes[1], db, database, tenant, receiver)
    path = subscription.path
    receiver.behave(path, delay=0.5)
    workers = cluster.alive_workers()
    logged = {worker.name: len(worker.output()) for worker in workers}

    finals = at_once(
        [partial(ingest, cluster.nodes[n % 2], tenant, f"kill-{n}-{uuid.uuid4().hex[:8]}") for n in range(30)]
    )
    assert [final.status_code for final in finals] == [201] * 30, [final.text for final in finals]
    batches = {final.json()["data"]["importBatchId"] for final in finals}
    wait_until(
        lambda: len(deliveries(db, database, subscription)) == len(batches),
        30,
        "every event relayed",
        lambda: undone(db, database, tenant, subscription),
    )
    receiver.wait_for(path, 4, timeout=30)
    sending = [
        worker for worker in workers if "mihwar-webhook-delivery: handled" in worker.output()[logged[worker.name] :]
    ]
    assert sending, "a worker claimed deliveries"
    victim = sending[0]
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait()
    killed_at = time.monotonic()
    time.sleep(0.5)  # what the victim had fully sent is recorded by the receiver
    sent_before = set(by_batch(receiver.at(path)))
    assert len(sent_before) < len(batches), "the worker was killed in the middle of the work"
    cluster.start_worker()

    wait_until(
        lambda: all_delivered(db, database, subscription, len(batches)),
        WEBHOOK_LEASE_SECONDS + 30,
        "every delivery sent and written back as delivered",
        lambda: undone(db, database, tenant, subscription),
    )

    arrived = by_batch(receiver.at(path))
    assert set(arrived) == batches
    for copies in arrived.values():
        assert len({request.headers["webhook-id"] for request in copies}) == 1
    repeated = {batch for batch, copies in arrived.items() if len(copies) > 1}
    retried = {row.payload["importBatchId"] for row in deliveries(db, database, subscription) if row.attempts > 1}
    assert repeated <= sent_before | retried, "only what the dead worker had sent came twice"
    taken_over = [request for request in receiver.at(path) if request.arrived - killed_at > WEBHOOK_LEASE_SECONDS - 15]
    assert taken_over, "the dead worker held deliveries, sent by the others once its lease ran out"
