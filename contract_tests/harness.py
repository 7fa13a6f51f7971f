"""The app the contract tests fuzz: migrated database, demo data, response validation on.

Schemathesis loads each schema when the test module is imported, so the app is built then,
once per run, on `DATABASE_URL` (PostgreSQL in CI) or a fresh SQLite file. Each API says
how a well-behaved client of it authenticates (`Api.demo_client`), and which documented
answers depend on state a schema cannot state (`Api.state_dependent_statuses`), so adding
an API adds nothing here.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from core.api import Api, DemoClient, Mounted, configure, mounted, registered
from core.cli import load_demo, migrate
from core.config import Settings
from core.database import Database
from core.factory import App, create_app

SEED = int(os.environ.get("CONTRACT_SEED", "20261121"))
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
STATEFUL_STEPS = int(os.environ.get("CONTRACT_STATEFUL_STEPS", "8"))


@cache
def settings() -> Settings:
    instance = Path(tempfile.mkdtemp(prefix="contract-"))
    env = {"INSTANCE_DIR": str(instance), "VALIDATE_RESPONSES": "1", "RATE_LIMITS_DISABLED": "1"}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return configure(Settings.from_env(env), registered())


@cache
def app() -> App:
    migrate(settings())
    load_demo(settings())
    return create_app(settings())


def apis() -> list[Api[Any]]:
    return mounted(settings())


@cache
def _database() -> Database:
    return Database(settings().database_url)


class AnonymousClient:
    """The client of an API that needs no credentials."""

    def renew(self) -> None:
        """Nothing to start over."""

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        return {}


def client_of(api: Api[Any]) -> DemoClient:
    """How a well-behaved client of `api` authenticates each call."""
    if api.demo_client is None:
        return AnonymousClient()
    return api.demo_client(Mounted(api, settings(), _database()))
