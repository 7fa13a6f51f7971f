"""`POST /cpras/v1/webhooks/printplanr` over HTTP: the token's scope, the signature over the
exact bytes, idempotency by event id (in sequence, and at once on PostgreSQL), out-of-order
events, and deliveries that are no event acknowledged and kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from handlers.cpras.api import API
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.tables import PrintOrder, SupplierLink, WebhookEventRow

WEBHOOK = "/cpras/v1/webhooks/printplanr"
TOKEN = "/cpras/oauth/token"


def token_with(client: TestClient, cpras_db: Database, database: Settings, *granted: str) -> str:
    client_id = f"wh-{uuid.uuid4().hex[:10]}"
    with UnitOfWork(cpras_db, database) as unit:
        secret = Clients(unit).create(client_id, "Test", set(granted) or {scopes.SUPPLIER_CONTEXT_READ}).secret
        unit.commit()
    scope = " ".join(granted) if granted else scopes.SUPPLIER_CONTEXT_READ
    answer = client.post(TOKEN, data={"client_id": client_id, "client_secret": secret, "scope": scope})
    return str(answer.json()["access_token"])


@pytest.fixture
def bearer(client: TestClient, cpras_db: Database, database: Settings) -> str:
    return token_with(client, cpras_db, database, scopes.WEBHOOKS_WRITE)


def deliver(client: TestClient, settings: Settings, bearer: str, event: Any, signature: str | None = "right") -> Any:
    raw = json.dumps(event).encode()
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
    if signature == "right":
        secret = API.config(settings).webhook_secret.encode()
        headers["X-PrintPlanr-Signature"] = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    elif signature is not None:
        headers["X-PrintPlanr-Signature"] = signature
    return client.post(WEBHOOK, content=raw, headers=headers)


def order_event(order_id: str, status: str, at: str, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "type": "order.updated",
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "occurred_at": at,
        "data": {
            "order_id": order_id,
            "status": status,
            "supplier_id": "sup_123",
            "total": 12.5,
            "currency": "GBP",
            **data,
        },
    }


def order(cpras_db: Database, database: Settings, order_id: str) -> PrintOrder | None:
    with UnitOfWork(cpras_db, database) as unit:
        found = unit.session.get(PrintOrder, order_id)
        if found is not None:
            unit.session.expunge(found)
        return found


def test_a_signed_order_event_is_applied_once(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    order_id = f"pp_{uuid.uuid4().hex[:8]}"
    event = order_event(order_id, "pending", "2025-09-17T09:12:00Z")

    first = deliver(client, database, bearer, event)
    assert first.status_code == 200, first.text
    assert first.json() == {"id": event["id"], "duplicate": False, "ignored": False, "applied": True}
    again = deliver(client, database, bearer, {**event, "data": {**event["data"], "status": "changed"}})
    assert again.json()["duplicate"] is True

    kept = order(cpras_db, database, order_id)
    assert kept is not None
    assert (kept.status, str(kept.total), kept.currency) == ("pending", "12.50", "GBP")


def test_an_older_event_never_moves_an_order_back(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    order_id = f"pp_{uuid.uuid4().hex[:8]}"
    assert deliver(client, database, bearer, order_event(order_id, "completed", "2025-09-17T10:00:00Z")).json()[
        "applied"
    ]
    older = deliver(client, database, bearer, order_event(order_id, "pending", "2025-09-17T09:00:00Z"))
    assert (older.status_code, older.json()["applied"]) == (200, False)

    kept = order(cpras_db, database, order_id)
    assert kept is not None
    assert kept.status == "completed"


def test_supplier_provisioned_links_the_supplier(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    supplier = f"sup_{uuid.uuid4().hex[:6]}"
    event = {
        "type": "supplier.provisioned",
        "id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": "2025-09-17T09:10:00Z",
        "data": {"supplier_external_id": "ppl_sup_456", "supplier_id": supplier, "status": "active"},
    }
    assert deliver(client, database, bearer, event).json()["applied"] is True
    with UnitOfWork(cpras_db, database) as unit:
        link = unit.session.get(SupplierLink, supplier)
        assert link is not None
        assert (link.supplier_external_id, link.status) == ("ppl_sup_456", "active")


@pytest.mark.parametrize(
    "delivery",
    [
        {"type": "order.cancelled", "id": "future", "occurred_at": "2025-09-17T09:12:00Z", "data": {"order_id": "x"}},
        {
            "type": "order.created",
            "occurred_at": "2025-09-17T09:12:00Z",
            "data": {"order_id": "x", "status": "s", "currency": "gbp"},
        },
        {
            "type": "order.created",
            "id": "huge",
            "occurred_at": "2025-09-17T09:12:00Z",
            "data": {"order_id": "x", "status": "s", "total": 1e300},
        },
        {"id": "no-type"},
        [1, 2],
        "a string",
        None,
    ],
    ids=["unknown-type", "lower-case-currency", "total-beyond-columns", "no-type", "an-array", "a-string", "null"],
)
def test_a_delivery_that_is_no_event_is_acknowledged_ignored_and_kept(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str, delivery: Any
) -> None:
    if isinstance(delivery, dict) and "id" in delivery:
        delivery = {**delivery, "id": f"{delivery['id']}-{uuid.uuid4().hex[:6]}"}
    answer = deliver(client, database, bearer, delivery)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["ignored"], body["applied"]) == (True, False)
    assert body["reason"]
    with UnitOfWork(cpras_db, database) as unit:
        kept = unit.session.get(WebhookEventRow, body["id"])
        assert kept is not None
        assert (kept.outcome, kept.body) == ("ignored", delivery)
    assert deliver(client, database, bearer, delivery).json()["duplicate"] is True  # and not kept twice


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "md5=abc", "sha256=XYZ"],
    ids=["missing", "wrong", "other-algorithm", "malformed"],
)
def test_a_bad_signature_answers_403_and_changes_nothing(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str, signature: str | None
) -> None:
    order_id = f"pp_{uuid.uuid4().hex[:8]}"
    event = order_event(order_id, "pending", "2025-09-17T09:12:00Z")
    answer = deliver(client, database, bearer, event, signature=signature)

    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert order(cpras_db, database, order_id) is None
    with UnitOfWork(cpras_db, database) as unit:
        assert unit.session.get(WebhookEventRow, event["id"]) is None


def test_the_token_must_carry_webhooks_write(client: TestClient, database: Settings, cpras_db: Database) -> None:
    event = order_event("pp_scope", "pending", "2025-09-17T09:12:00Z")
    other = token_with(client, cpras_db, database, scopes.SUPPLIER_CONTEXT_READ)
    assert deliver(client, database, other, event).status_code == 403
    assert deliver(client, database, "not-a-token", event).status_code == 401


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_one_event_delivered_many_times_at_once_has_one_effect(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    order_id = f"pp_{uuid.uuid4().hex[:8]}"
    event = order_event(order_id, "pending", "2025-09-17T09:12:00Z")
    answers: list[Any] = []
    start = threading.Barrier(6)

    def send() -> None:
        start.wait()
        answers.append(deliver(client, database, bearer, event).json())

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer["duplicate"] for answer in answers) == [False] + [True] * 5
    assert [answer["applied"] for answer in answers if not answer["duplicate"]] == [True]
    with UnitOfWork(cpras_db, database) as unit:
        rows = unit.session.scalars(select(WebhookEventRow).where(WebhookEventRow.event_id == event["id"])).all()
        assert len(rows) == 1


def test_a_field_an_event_leaves_out_keeps_its_value(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    order_id = f"pp_partial_{uuid.uuid4().hex[:8]}"
    created = order_event(order_id, "pending", "2025-09-17T09:00:00Z", buyer_id="buyer_101", project_id="proj_wdc_2025")
    assert deliver(client, database, bearer, created).json()["applied"] is True
    partial = {
        "type": "order.updated",
        "id": f"evt_{uuid.uuid4().hex}",
        "occurred_at": "2025-09-17T10:00:00Z",
        "data": {"order_id": order_id, "status": "dispatched"},
    }
    assert deliver(client, database, bearer, partial).json()["applied"] is True
    kept = order(cpras_db, database, order_id)
    assert kept is not None
    assert (kept.status, kept.buyer_id, kept.project_id, kept.supplier_id) == (
        "dispatched",
        "buyer_101",
        "proj_wdc_2025",
        "sup_123",
    )
    assert (str(kept.total), kept.currency) == ("12.50", "GBP")


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        (("order.completed", "completed"), ("order.updated", "pending"), "completed"),
        (("order.created", "pending"), ("order.updated", "in_production"), "in_production"),
        (("order.updated", "in_production"), ("order.updated", "dispatched"), "in_production"),
    ],
    ids=["completed-is-not-undone", "updated-after-created", "first-of-a-kind"],
)
def test_two_events_at_one_moment_never_move_back(
    client: TestClient,
    database: Settings,
    cpras_db: Database,
    bearer: str,
    first: tuple[str, str],
    second: tuple[str, str],
    kept: str,
) -> None:
    order_id = f"pp_tie_{uuid.uuid4().hex[:8]}"
    for kind, status in (first, second):
        event = order_event(order_id, status, "2025-09-17T09:12:00Z")
        event["type"] = kind
        assert deliver(client, database, bearer, event).status_code == 200
    found = order(cpras_db, database, order_id)
    assert found is not None
    assert found.status == kept


def test_an_older_supplier_provisioning_changes_nothing(
    client: TestClient, database: Settings, cpras_db: Database, bearer: str
) -> None:
    supplier_id = f"sup_{uuid.uuid4().hex[:8]}"

    def provisioned(status: str, at: str) -> dict[str, Any]:
        data = {"supplier_external_id": "ppl_sup_456", "supplier_id": supplier_id, "status": status}
        return {"type": "supplier.provisioned", "id": f"evt_{uuid.uuid4().hex}", "occurred_at": at, "data": data}

    assert deliver(client, database, bearer, provisioned("active", "2025-09-17T10:00:00Z")).json()["applied"] is True
    older = deliver(client, database, bearer, provisioned("pending", "2025-09-17T09:00:00Z")).json()
    assert older["applied"] is False
    with UnitOfWork(cpras_db, database) as unit:
        link = unit.session.get(SupplierLink, supplier_id)
        assert link is not None
        assert link.status == "active"
