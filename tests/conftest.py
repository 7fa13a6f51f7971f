"""Shared fixtures: one migrated database with demo data per run, the app on top of it, tokens.

`DATABASE_URL` picks the database (PostgreSQL in CI); otherwise a fresh SQLite file.
Tests isolate themselves by acting as fresh customers, so the demo catalogue stays shared.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.cli import load_demo, migrate
from core.config import IDLSettings, JWTSettings, Settings
from core.factory import REQUEST_PATHS, App, create_app
from core.jwt_bearer import issue_token

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
IDL_TEST_SECRET = "idl-test-secret-that-is-long-enough-for-hs256-0123456789"
# High enough that no test but the rate-limit tests ever meets a limit.
UNLIMITED = "1000000/minute"

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'test.db'}"
    return Settings(
        database_url=url,
        instance_dir=instance,
        validate_responses=True,
        order_accept_jwt=JWTSettings(secret=TEST_SECRET),
        idl=IDLSettings(
            jwt=JWTSettings(secret=IDL_TEST_SECRET),
            rate_per_user=UNLIMITED,
            rate_per_endpoint=UNLIMITED,
            rate_uploads=UNLIMITED,
            upload_dir=instance / "idl_files",
        ),
    )


@pytest.fixture(scope="session")
def database(settings: Settings) -> Settings:
    migrate(settings)
    load_demo(settings)
    return settings


@pytest.fixture(scope="session", params=REQUEST_PATHS)
def app(database: Settings, request: pytest.FixtureRequest) -> App:
    """The app on each request path: every HTTP test proves both behave the same."""
    return create_app(replace(database, request_path=request.param))


@pytest.fixture(scope="session")
def client(app: App) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def make_token(settings: Settings) -> TokenFactory:
    """Mint an Order-Accept token with the given claims (a `sub` unless told otherwise)."""

    def make(ttl_seconds: int = 600, **claims: Any) -> str:
        return issue_token(settings.order_accept_jwt, claims, ttl_seconds)

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


@pytest.fixture
def spec_dir(settings: Settings) -> Path:
    return settings.spec_dir
