"""SCP test helpers: tokens of the demo clients (and of fresh ones), and integrations walked
to any status through the API, by the clients a tenant would use for each step."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.clients import Clients, Tenants
from models.scp.demo import DEMO_CLIENTS, PATHS, REASONS, TERMS, demo_client_secret
from models.scp.tables import ADMIN, PLATFORM

TOKEN = "/scp/oauth/token"
INTEGRATIONS = "/scp/integrations"
FUTURE = "2099-01-01T00:00:00Z"


def registration(**changes: Any) -> dict[str, Any]:
    body = {
        "integration_name": "Mobile money disbursements",
        "partner_name": "PayFast Kenya Ltd",
        "partner_type": "financial_service_provider",
        "vertical_ids": ["social-protection"],
        "active_from": "2026-03-01T00:00:00Z",
        "active_until": FUTURE,
    }
    body.update(changes)
    return body


def contract_terms(**changes: Any) -> dict[str, Any]:
    return {**TERMS, "active_from": "2026-03-01T00:00:00Z", **changes}


class Scp:
    """A tenant's view of SCP through the HTTP API."""

    def __init__(self, client: TestClient, db: Database, settings: Settings) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        self.secrets = {client_id: demo_client_secret(client_id) for client_id in DEMO_CLIENTS}
        self.granted = {client_id: granted for client_id, (_, _, granted) in DEMO_CLIENTS.items()}
        self._tokens: dict[str, tuple[str, float]] = {}

    def new_client(
        self, tenant: str | None = "riverside-care", granted: frozenset[str] = scopes.ALL, client_id: str | None = None
    ) -> str:
        client_id = client_id or f"scp-test-{uuid.uuid4().hex[:10]}"
        with UnitOfWork(self.db, self.settings) as unit:
            made = Clients(unit).create_for(client_id, "Test", ADMIN if tenant else PLATFORM, tenant, granted)
            unit.commit()
        self.secrets[client_id], self.granted[client_id] = made.secret, granted
        return client_id

    def token(self, client_id: str, scope: str | None = None) -> str:
        cached = self._tokens.get(client_id) if scope is None else None
        if cached and cached[1] > time.monotonic():
            return cached[0]
        wanted = scope if scope is not None else " ".join(sorted(self.granted[client_id]))
        answer = self.client.post(
            TOKEN,
            data={"grant_type": "client_credentials", "scope": wanted},
            auth=(client_id, self.secrets[client_id]),
        )
        assert answer.status_code == 200, answer.text
        token = str(answer.json()["access_token"])
        if scope is None:
            self._tokens[client_id] = (token, time.monotonic() + 300)
        return token

    def auth(self, client_id: str, scope: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client_id, scope)}"}

    def call(self, client_id: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
        sent = {**self.auth(client_id), **headers}
        if body is None:
            return self.client.request(method, path, headers=sent)
        return self.client.request(method, path, json=body, headers=sent)

    def new_tenant(self) -> str:
        """A tenant of its own, with an admin client (`<tenant>-admin`) and a governor
        (`<tenant>-governor`), for tests that must not see other tests' data."""
        tenant = f"t-{uuid.uuid4().hex[:10]}"
        with UnitOfWork(self.db, self.settings) as unit:
            Tenants(unit).create(tenant, "Test tenant")
            unit.commit()
        self.new_client(tenant, scopes.ALL, f"{tenant}-admin")
        self.new_client(tenant, DEMO_CLIENTS["riverside-governor"][2], f"{tenant}-governor")
        return tenant

    def create(self, admin: str = "riverside-admin", **changes: Any) -> str:
        answer = self.call(admin, "POST", INTEGRATIONS, registration(**changes))
        assert answer.status_code == 201, answer.text
        return str(answer.json()["integration_id"])

    def move(self, client_id: str, integration_id: str, operation: str, body: Any = None) -> Any:
        if body is None and operation != "activate":
            body = REASONS.get(operation, {})
        return self.call(client_id, "POST", f"{INTEGRATIONS}/{integration_id}/{operation}", body)

    def walked_to(self, status: str, tenant: str = "riverside", **changes: Any) -> str:
        """A new integration of the tenant, in `status`: its admin registers and submits it,
        its governor governs."""
        integration_id = self.create(f"{tenant}-admin", **changes)
        for operation in PATHS[status]:
            actor = f"{tenant}-admin" if operation == "request-review" else f"{tenant}-governor"
            answer = self.move(actor, integration_id, operation)
            assert answer.status_code == 200, answer.text
        return integration_id

    def get(self, integration_id: str, client_id: str = "riverside-admin") -> dict[str, Any]:
        answer = self.call(client_id, "GET", f"{INTEGRATIONS}/{integration_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def add_contract(self, integration_id: str, admin: str = "riverside-admin", **changes: Any) -> str:
        answer = self.call(admin, "POST", f"{INTEGRATIONS}/{integration_id}/contracts", contract_terms(**changes))
        assert answer.status_code == 201, answer.text
        return str(answer.json()["contract_id"])


@pytest.fixture
def scp_db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


@pytest.fixture
def scp(client: TestClient, scp_db: Database, database: Settings) -> Scp:
    return Scp(client, scp_db, database)


def problem(answer: Any, status: int, kind: str = "about:blank") -> dict[str, Any]:
    """The RFC 9457 body of an error answer, checked for its status, type and request id."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = dict(answer.json())
    assert (body["status"], body["type"]) == (status, kind), body
    assert body["request_id"] == answer.headers["x-request-id"]
    return body
