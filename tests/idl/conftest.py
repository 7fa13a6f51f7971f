"""IDL fixtures: demo users' tokens minted through the real session store, and P/O builders.

Tokens are issued without a password round-trip (Argon2 is slow on purpose), but through
the same session families a login starts, so revocation behaves exactly as after a login.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from handlers.idl.api import API
from models.idl.accounts import Accounts, Users
from models.idl.settings import IDLSettings
from models.idl.tables import User

BASE = "/idl/api/v1"
Headers = dict[str, str]


def idl_of(settings: Settings) -> IDLSettings:
    """The IDL API's own settings, as the test instance read them."""
    return API.config(settings)


@pytest.fixture(scope="session")
def idl_db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


@pytest.fixture
def unit(idl_db: Database, database: Settings) -> Iterator[UnitOfWork]:
    """A unit of work for arranging or inspecting state directly; committed on success."""
    with UnitOfWork(idl_db, database) as work:
        yield work
        work.commit()


def _issue(idl_db: Database, settings: Settings, email: str) -> Headers:
    with UnitOfWork(idl_db, settings) as work:
        user = Users(work).by_email(email)
        assert user is not None, email
        tokens = Accounts(work, idl_of(settings).jwt).issue_for(user)
        work.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


@pytest.fixture
def login_as(idl_db: Database, database: Settings) -> Callable[[str], Headers]:
    """Headers of a demo user by role (foreman, super, pm, admin), in a session of their own."""
    emails = {role: f"{role}@idl.example" for role in ("foreman", "super", "pm", "admin")}
    return lambda role: _issue(idl_db, database, emails.get(role, role))


@pytest.fixture
def make_user(idl_db: Database, database: Settings) -> Callable[..., tuple[User, Headers]]:
    """A new user (unique email) with the given role, projects, limit and permissions, and their headers."""

    def make(role: str, projects: tuple[str, ...] = ("PRJ001",), **options: Any) -> tuple[User, Headers]:
        email = f"{role}-{uuid.uuid4().hex[:10]}@idl.test"
        with UnitOfWork(idl_db, database) as work:
            user = Users(work).create(
                email=email,
                name=options.pop("name", f"Test {role.title()}"),
                role=role,
                password=options.pop("password", "a-long-test-password"),
                project_ids=projects,
                **options,
            )
            work.commit()
        return user, _issue(idl_db, database, email)

    return make


def line(
    quantity: float = 50.0,
    unit_price: float = 12.5,
    tax_code: str = "GP",
    description: str = "2x4 Lumber - 8ft",
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit": "pcs",
        "unit_price": unit_price,
        "category": "MA",
        "tax_code": tax_code,
    }


def order_body(*lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "standard",
        "project_id": "PRJ001",
        "cost_code": "CC-001",
        "vendor_name": "ABC Supply Co.",
        "vendor_contact_name": "Jane Smith",
        "vendor_email": "jane@abcsupply.com",
        "vendor_phone": "555-0123",
        "vendor_address": "123 Main St, City, State 12345",
        "line_items": list(lines) or [line()],
    }
    body.update(fields)
    return body


@pytest.fixture
def create_order(client: TestClient) -> Callable[..., dict[str, Any]]:
    """POST a P/O as `headers`; returns the 201 body."""

    def create(headers: Headers, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = client.post(f"{BASE}/purchase-orders", json=body or order_body(), headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the IDL error format with this status and code, carrying the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["timestamp"].endswith("Z")
    for header in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert header in response.headers, header
    return error


def money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
