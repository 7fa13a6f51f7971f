"""Mihwar fixtures: organizations of their own for each test, with real API keys.

Every test works in an organization it creates (so tests never see each other's rows),
with a key created as `partner-gateway mihwar create-api-key` creates one.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.api import registered
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from core.worker import Worker
from handlers.mihwar.api import API
from models.mihwar.accounts import COOKIE, Accounts
from models.mihwar.keys import Tenants
from models.mihwar.scim.tokens import ScimTokens
from models.mihwar.settings import MihwarSettings
from models.mihwar.tables import ENTERPRISE, AppUser, InventoryItem, Organization

BASE = "/mihwar/api/integrations/v1"
INGEST = f"{BASE}/ingestion/order-lines"
SCIM = "/mihwar/api/scim/v2"
SCIM_MEDIA_TYPE = "application/scim+json"
Headers = dict[str, str]


def mihwar_of(settings: Settings) -> MihwarSettings:
    return API.config(settings)


@dataclass(frozen=True)
class Tenant:
    """A test's own organization, and the headers of one of its API keys."""

    id: str
    slug: str
    key_id: str
    secret: str

    @property
    def headers(self) -> Headers:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture(scope="session")
def mihwar_db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


@pytest.fixture
def unit(mihwar_db: Database, database: Settings) -> Iterator[UnitOfWork]:
    """A unit of work for arranging or inspecting state directly; committed on success."""
    with UnitOfWork(mihwar_db, database) as work:
        yield work
        work.commit()


def create_tenant(db: Database, settings: Settings, plan: str = ENTERPRISE, api_access: bool = True) -> Tenant:
    slug = f"test-{uuid.uuid4().hex[:12]}"
    with UnitOfWork(db, settings) as work:
        tenants = Tenants(work)
        organization = tenants.create_organization(slug, f"Test {slug}", plan, api_access)
        new = tenants.create_key(organization, "test key")
        work.commit()
        return Tenant(organization.id, slug, new.key.id, new.secret)


@pytest.fixture
def new_tenant(mihwar_db: Database, database: Settings) -> Callable[..., Tenant]:
    """Makes an organization of the test's own, with an API key."""
    return lambda **options: create_tenant(mihwar_db, database, **options)


@pytest.fixture
def tenant(new_tenant: Callable[..., Tenant]) -> Tenant:
    return new_tenant()


@pytest.fixture
def item(unit: UnitOfWork, tenant: Tenant) -> InventoryItem:
    """The tenant's Arabica: 12 in stock, low below 10."""
    stocked = InventoryItem(
        organization_id=tenant.id, sku="COF-1KG", name="Arabica", current_stock=12, low_stock_threshold=10
    )
    unit.session.add(stocked)
    unit.commit()
    return stocked


def session_of(unit: UnitOfWork, tenant: Tenant, role: str) -> dict[str, str]:
    """A browser session of a new user of `tenant` with `role`: its Cookie header."""
    organization = unit.session.get(Organization, tenant.id)
    assert organization is not None
    accounts = Accounts(unit)
    user = accounts.create_user(organization, f"{role.lower()}-{time.time_ns()}@{tenant.slug}.test", role.title(), role)
    token = accounts.start_session(user)
    unit.commit()
    return {"Cookie": f"{COOKIE}={token}"}


@dataclass(frozen=True)
class ScimCaller:
    """An identity provider of a test's organization: its SCIM token, sent as IdPs send it."""

    tenant: Tenant
    token_id: str
    secret: str

    @property
    def headers(self) -> Headers:
        return {"Authorization": f"Bearer {self.secret}", "Content-Type": SCIM_MEDIA_TYPE}


@pytest.fixture
def scim(unit: UnitOfWork, tenant: Tenant) -> ScimCaller:
    """A SCIM token of the test's (Enterprise) organization, made as `create-scim-token` makes one."""
    organization = unit.session.get(Organization, tenant.id)
    assert organization is not None
    new = ScimTokens(unit).create(organization, "Test IdP")
    unit.commit()
    return ScimCaller(tenant, new.token.id, new.secret)


def scim_body(response: Any, status: int = 200) -> dict[str, Any]:
    """The body of a SCIM answer, checked for its status and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    return body


def scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """A SCIM error (RFC 7644 §3.12): its status, as a string too, and its `scimType`."""
    body = scim_body(response, status)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type, body
    return body


def session_of_user(unit: UnitOfWork, user_id: str) -> Headers:
    """A browser session of an existing user: its Cookie header."""
    user = unit.session.get(AppUser, user_id)
    assert user is not None
    token = Accounts(unit).start_session(user)
    unit.commit()
    return {"Cookie": f"{COOKIE}={token}"}


def line(sku: str = "COF-1KG", quantity: float = 12, day: str = "2026-03-15", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "orderedQty": quantity, "orderDate": day, **extra}


def ingest(client: TestClient, tenant: Tenant, lines: list[dict[str, Any]], key: str | None = None, **body: Any) -> Any:
    headers = dict(tenant.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(INGEST, json={"lines": lines, **body}, headers=headers)


def problem(response: Any) -> dict[str, Any]:
    """The RFC 9457 body of an error, checked for the members every Mihwar error has."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == response.status_code
    assert body["instance"] == response.url.path
    return body


LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def local_settings(database: Settings, tls: tuple[Path, Path, Path]) -> Settings:
    """The test settings, with webhooks allowed to 127.0.0.1 and its test certificate trusted."""
    mihwar = mihwar_of(database)
    webhooks = dataclasses.replace(
        mihwar.webhooks, allowed_networks=LOCAL, ca_file=tls[0], schedule=(0.2, 0.2), jitter=0.0, total_timeout=3.0
    )
    return database.with_api("mihwar", dataclasses.replace(mihwar, webhooks=webhooks))


def deliver(settings: Settings) -> None:
    """Run a worker until it has nothing left to do: the outbox handed to the fan-out, the
    deliveries sent, and their outcomes written (it finishes what is in flight as it stops)."""
    Worker(settings, registered()).run(once=True)
