"""Order-Accept fixtures: tokens of the partner's identity provider, minted with the test instance's key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from core.config import Settings
from core.jwt_bearer import issue_token
from handlers.order_accept.api import API
from models.order_accept.settings import OrderAcceptSettings

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def order_accept(settings: Settings) -> OrderAcceptSettings:
    return API.config(settings)


@pytest.fixture(scope="session")
def secret(order_accept: OrderAcceptSettings) -> str:
    """The HS256 key the test instance verifies Order-Accept tokens with."""
    assert order_accept.jwt.secret is not None
    return order_accept.jwt.secret


@pytest.fixture
def make_token(order_accept: OrderAcceptSettings) -> TokenFactory:
    """Mint an Order-Accept token with the given claims (a `sub` unless told otherwise)."""

    def make(ttl_seconds: int = 600, **claims: Any) -> str:
        return issue_token(order_accept.jwt, claims, ttl_seconds)

    return make


@pytest.fixture
def user_id() -> str:
    return f"test-user-{uuid.uuid4()}"


@pytest.fixture
def auth(make_token: TokenFactory, user_id: str) -> dict[str, str]:
    """Headers of a fresh customer, new to the service."""
    return {"Authorization": f"Bearer {make_token(sub=user_id)}"}


@pytest.fixture
def other_auth(make_token: TokenFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub=f'other-{uuid.uuid4()}')}"}
