"""Mihwar's webhooks: subscriptions under an administrator's session, events from real state
changes, and deliveries a real HTTPS receiver can verify with both signature schemes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from starlette.testclient import TestClient

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.factory import create_app
from core.outbox import OutboxEvent
from core.unit_of_work import UnitOfWork
from models.mihwar.accounts import COOKIE
from models.mihwar.checklists import Checklists
from models.mihwar.ordering import OrderedLine, Orders
from models.mihwar.stock import Stock
from models.mihwar.tables import ADMIN, MEMBER, InventoryItem
from tests.mihwar.conftest import Tenant, deliver, problem, session_of
from tests.webhook_receiver import Receiver

HOOKS = "/mihwar/api/settings/webhooks"


def counted(what: str, **labels: str) -> float:
    """A webhook counter of Mihwar's in the metrics (this process's), e.g. `attempts`, result=...."""
    return REGISTRY.get_sample_value(f"partner_gateway_webhook_{what}_total", {"api": "mihwar", **labels}) or 0.0


@pytest.fixture
def local(local_settings: Settings) -> Iterator[TestClient]:
    with create_app(local_settings).test_client() as client:
        yield client


@pytest.fixture
def admin(unit: UnitOfWork, tenant: Tenant) -> dict[str, str]:
    return session_of(unit, tenant, ADMIN)


class TestSubscriptions:
    def test_an_admin_subscribes_lists_and_deletes(
        self, local: TestClient, admin: dict[str, str], receiver: Receiver
    ) -> None:
        created = local.post(HOOKS, json={"url": receiver.url(), "events": ["order.created"]}, headers=admin)

        assert created.status_code == 201, created.text
        data = created.json()["data"]
        assert data["secret"].startswith("whsec_")
        assert len(base64.b64decode(data["secret"].removeprefix("whsec_"))) == 24
        assert (data["url"], data["events"], data["active"]) == (receiver.url(), ["order.created"], True)
        listed = local.get(HOOKS, headers=admin).json()["data"]
        assert [item["id"] for item in listed] == [data["id"]]
        assert "secret" not in listed[0]
        assert local.delete(f"{HOOKS}/{data['id']}", headers=admin).status_code == 204
        assert local.get(HOOKS, headers=admin).json()["data"] == []

    def test_no_events_means_every_event(self, local: TestClient, admin: dict[str, str], receiver: Receiver) -> None:
        data = local.post(HOOKS, json={"url": receiver.url()}, headers=admin).json()["data"]

        assert len(data["events"]) == 9

    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/hook",
            "https://no-such-host.invalid/hook",
        ],
    )
    def test_a_url_that_leads_to_no_public_address_is_refused(
        self, client: TestClient, admin: dict[str, str], url: str
    ) -> None:
        response = client.post(HOOKS, json={"url": url}, headers=admin)

        assert response.status_code == 400
        assert problem(response)["errors"][0]["pointer"] == "/url"

    def test_http_is_refused_by_the_schema(self, client: TestClient, admin: dict[str, str]) -> None:
        response = client.post(HOOKS, json={"url": "http://93.184.215.14/hook"}, headers=admin)

        assert response.status_code == 400

    def test_no_session_answers_401_and_a_member_403(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        member = session_of(unit, tenant, MEMBER)

        assert client.get(HOOKS).status_code == 401
        assert client.get(HOOKS, headers={"Cookie": f"{COOKIE}=forged"}).status_code == 401
        assert client.get(HOOKS, headers=tenant.headers).status_code == 401  # an API key is no session
        refused = client.get(HOOKS, headers=member)
        assert refused.status_code == 403
        assert problem(refused)["detail"] == "This operation is open only to the role(s) ADMIN."

    @pytest.mark.parametrize(
        ("method", "path"),
        [("POST", HOOKS), ("GET", HOOKS), ("DELETE", f"{HOOKS}/hook_x"), ("GET", f"{HOOKS}/hook_x/attempts")],
    )
    def test_every_operation_needs_an_admins_session(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant, method: str, path: str
    ) -> None:
        member = session_of(unit, tenant, MEMBER)
        body = {"url": "https://93.184.215.14/hook"} if method == "POST" else None

        assert client.request(method, path, json=body).status_code == 401
        assert client.request(method, path, json=body, headers=tenant.headers).status_code == 401
        assert client.request(method, path, json=body, headers=member).status_code == 403

    def test_an_organization_has_a_limited_number_of_subscriptions(
        self, local: TestClient, admin: dict[str, str], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("models.mihwar.webhooks.MAX_SUBSCRIPTIONS", 2)
        for _ in range(2):
            assert local.post(HOOKS, json={"url": receiver.url()}, headers=admin).status_code == 201

        refused = local.post(HOOKS, json={"url": receiver.url()}, headers=admin)

        assert refused.status_code == 409
        assert "at most 2" in problem(refused)["detail"]
        assert len(local.get(HOOKS, headers=admin).json()["data"]) == 2

    def test_another_organizations_subscription_answers_404(
        self,
        local: TestClient,
        admin: dict[str, str],
        unit: UnitOfWork,
        new_tenant: Callable[..., Tenant],
        receiver: Receiver,
    ) -> None:
        other_admin = session_of(unit, new_tenant(), ADMIN)
        theirs = local.post(HOOKS, json={"url": receiver.url()}, headers=other_admin).json()["data"]["id"]

        assert local.delete(f"{HOOKS}/{theirs}", headers=admin).status_code == 404
        assert local.get(f"{HOOKS}/{theirs}/attempts", headers=admin).status_code == 404
        assert local.get(HOOKS, headers=admin).json()["data"] == []


def events_of(unit: UnitOfWork, tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    unit.session.expire_all()
    rows = unit.session.scalars(select(OutboxEvent).where(OutboxEvent.tenant == tenant.id).order_by(OutboxEvent.id))
    return [(row.type, row.payload) for row in rows]


class TestEvents:
    def test_stock_falling_past_the_threshold_and_to_zero_then_back(
        self, unit: UnitOfWork, tenant: Tenant, item: InventoryItem
    ) -> None:
        stock = Stock(unit)
        stock.set_level(tenant.id, "COF-1KG", 11)  # above the threshold: nothing
        stock.set_level(tenant.id, "COF-1KG", 8)  # past it
        stock.set_level(tenant.id, "COF-1KG", 0)  # to zero
        stock.set_level(tenant.id, "COF-1KG", 20)  # back
        unit.commit()

        assert events_of(unit, tenant) == [
            ("inventory.low_stock", {"itemId": item.id, "itemName": "Arabica", "sku": "COF-1KG", "currentStock": 8.0}),
            (
                "inventory.stockout",
                {"itemId": item.id, "previousStock": 8.0, "nextStock": 0.0, "source": "inventory_patch"},
            ),
            (
                "inventory.stockout.resolved",
                {"itemId": item.id, "previousStock": 0.0, "nextStock": 20.0, "source": "inventory_patch"},
            ),
        ]

    def test_orders_send_created_status_changed_and_fulfilled(
        self, unit: UnitOfWork, tenant: Tenant, item: InventoryItem
    ) -> None:
        orders = Orders(unit)
        order = orders.create(tenant.id, [OrderedLine("COF-1KG", 20)])
        orders.set_status(tenant.id, order.id, "SUBMITTED")
        orders.set_status(tenant.id, order.id, "FULFILLED")
        unit.commit()

        sent = events_of(unit, tenant)
        assert [kind for kind, _ in sent] == [
            "order.created",
            "order.status_changed",
            "order.status_changed",
            "order.fulfilled",
        ]
        assert sent[1][1] == {"orderId": order.id, "status": "SUBMITTED"}
        assert set(sent[3][1]) == {"orderId", "fulfilledAt"}

    def test_checklists_send_completed_and_missed(self, unit: UnitOfWork, tenant: Tenant) -> None:
        checklists = Checklists(unit)
        done = checklists.schedule(tenant.id, "Daily opening checks", utcnow() + timedelta(hours=1))
        late = checklists.schedule(tenant.id, "Daily opening checks", utcnow() - timedelta(minutes=1))
        checklists.complete(tenant.id, done.id, None)
        unit.commit()
        while Checklists(unit).mark_missed():
            unit.commit()
        unit.commit()

        sent = {payload["checklistInstanceId"]: kind for kind, payload in events_of(unit, tenant)}
        assert sent == {done.id: "checklist.completed", late.id: "checklist.missed"}

    def test_a_change_that_rolls_back_sends_nothing(
        self, mihwar_db: Database, database: Settings, tenant: Tenant, item: InventoryItem, unit: UnitOfWork
    ) -> None:
        with UnitOfWork(mihwar_db, database) as work:
            Stock(work).set_level(tenant.id, "COF-1KG", 0)
            work.rollback()

        assert events_of(unit, tenant) == []


class TestDelivery:
    def test_a_subscriber_receives_the_event_signed_both_ways(
        self,
        local: TestClient,
        local_settings: Settings,
        admin: dict[str, str],
        receiver: Receiver,
        unit: UnitOfWork,
        tenant: Tenant,
        item: InventoryItem,
    ) -> None:
        subscription = local.post(HOOKS, json={"url": receiver.url("/mihwar")}, headers=admin).json()["data"]
        Stock(unit).set_level(tenant.id, "COF-1KG", 0)
        unit.commit()
        acknowledged, delivered = counted("attempts", result="acknowledged"), counted("deliveries", outcome="delivered")

        deliver(local_settings)
        assert counted("attempts", result="acknowledged") - acknowledged >= 2, "the metrics count each attempt"
        assert counted("deliveries", outcome="delivered") - delivered >= 2

        received = receiver.wait_for("/mihwar", 2)
        bodies = {request.json()["event"]: request for request in received}
        assert set(bodies) == {"inventory.low_stock", "inventory.stockout"}
        request = bodies["inventory.stockout"]
        envelope = request.json()
        assert set(envelope) == {"event", "payload", "sentAt", "id", "occurredAt"}
        assert envelope["payload"]["nextStock"] == 0.0
        secret = subscription["secret"]
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-mihwar-signature"] == f"sha256={expected}"
        assert request.headers["x-mihwar-event"] == "inventory.stockout"
        assert request.headers["user-agent"] == "Mihwar-Webhooks/1.0"
        signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert request.headers["webhook-signature"] == f"v1,{digest}"
        assert request.headers["webhook-id"] == envelope["id"]
        attempts = local.get(f"{HOOKS}/{subscription['id']}/attempts", headers=admin).json()["data"]
        assert {(attempt["statusCode"], attempt["deliveryStatus"]) for attempt in attempts} == {(200, "delivered")}

    def test_a_receiver_answering_410_disables_its_subscription(
        self,
        local: TestClient,
        local_settings: Settings,
        admin: dict[str, str],
        receiver: Receiver,
        unit: UnitOfWork,
        tenant: Tenant,
        item: InventoryItem,
    ) -> None:
        receiver.behave("/gone", status=410)
        subscription = local.post(HOOKS, json={"url": receiver.url("/gone")}, headers=admin).json()["data"]
        Stock(unit).set_level(tenant.id, "COF-1KG", 0)  # two events
        unit.commit()
        refused, cancelled = counted("attempts", result="refused"), counted("deliveries", outcome="cancelled")

        deliver(local_settings)
        sent = len(receiver.at("/gone"))  # one, or both if they were in flight together
        assert counted("attempts", result="refused") - refused >= sent
        assert counted("deliveries", outcome="cancelled") - cancelled >= sent
        Orders(unit).create(tenant.id, [OrderedLine("COF-1KG", 1)])  # after the 410
        unit.commit()
        deliver(local_settings)

        (listed,) = local.get(HOOKS, headers=admin).json()["data"]
        assert (listed["active"], listed["disabledReason"]) == (False, "The receiver answered 410 Gone.")
        assert 1 <= sent <= 2
        assert len(receiver.at("/gone")) == sent  # nothing more after the 410
        attempts = local.get(f"{HOOKS}/{subscription['id']}/attempts", headers=admin).json()["data"]
        assert [attempt["statusCode"] for attempt in attempts] == [410] * sent
        assert {attempt["deliveryStatus"] for attempt in attempts} == {"cancelled"}

    def test_only_the_subscribed_events_of_the_own_organization_are_sent(
        self,
        local: TestClient,
        local_settings: Settings,
        admin: dict[str, str],
        receiver: Receiver,
        unit: UnitOfWork,
        tenant: Tenant,
        item: InventoryItem,
        new_tenant: Callable[..., Tenant],
    ) -> None:
        local.post(HOOKS, json={"url": receiver.url("/picky"), "events": ["inventory.stockout"]}, headers=admin)
        other = new_tenant()
        unit.session.add(InventoryItem(organization_id=other.id, sku="COF-1KG", name="Theirs", current_stock=5))
        unit.commit()
        Stock(unit).set_level(tenant.id, "COF-1KG", 0)  # low stock and stockout: only stockout is subscribed
        Stock(unit).set_level(other.id, "COF-1KG", 0)  # another organization's
        unit.commit()

        deliver(local_settings)

        received = receiver.wait_for("/picky", 1)
        time.sleep(0.3)
        assert [request.json()["event"] for request in receiver.at("/picky")] == ["inventory.stockout"]
        assert received[0].json()["payload"]["itemId"] == item.id
