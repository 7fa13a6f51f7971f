"""Shared fixtures: one migrated database with every API's demo data per run, and the app on top.

`DATABASE_URL` picks the database (PostgreSQL in CI); otherwise a fresh SQLite file. Each
API reads its own settings from the same environment, with the development secrets of a
fresh instance directory; every API's rate limits are off here (their headers are still
sent), and the tests of a limit build an app of their own with it on. Tests isolate
themselves by acting as fresh callers, so the demo data stays shared.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from core.api import configure, registered
from core.cli import load_demo, migrate
from core.config import Settings
from core.factory import App, create_app
from tests.webhook_receiver import Receiver, certificate_authority, serving


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_environment(instance: Path) -> dict[str, str]:
    """The environment the tests' settings are read from."""
    env = {"INSTANCE_DIR": str(instance), "VALIDATE_RESPONSES": "1", "RATE_LIMITS_DISABLED": "1"}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    return configure(Settings.from_env(test_environment(instance)), registered())


@pytest.fixture(scope="session")
def database(settings: Settings) -> Settings:
    migrate(settings)
    load_demo(settings)
    return settings


@pytest.fixture(scope="session")
def app(database: Settings) -> App:
    return create_app(database)


@pytest.fixture(scope="session")
def client(app: App) -> Iterator[TestClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def spec_dir(settings: Settings) -> Path:
    return settings.spec_dir


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throwaway certificate authority and a certificate for 127.0.0.1: (CA, certificate, key)."""
    return certificate_authority(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def receiver(tls: tuple[Path, Path, Path]) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 over HTTPS, answering 200 unless told otherwise."""
    with serving((tls[1], tls[2])) as running:
        yield running
