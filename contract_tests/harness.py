"""The app the contract tests fuzz: migrated database, demo data, response validation on.

Schemathesis loads each schema when the test module is imported, so the app is built then,
once per run, on `DATABASE_URL` (PostgreSQL in CI) or a fresh SQLite file.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

from core.cli import load_demo, migrate
from core.config import JWTSettings, Settings
from core.factory import REQUEST_PATHS, App, create_app, mounted
from core.jwt_bearer import issue_token
from core.mounts import Mount

SEED = int(os.environ.get("CONTRACT_SEED", "20261121"))
PATHS = REQUEST_PATHS
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
STATEFUL_STEPS = int(os.environ.get("CONTRACT_STATEFUL_STEPS", "8"))
SECRET = "contract-test-secret-0123456789-0123456789"


@cache
def settings() -> Settings:
    instance = Path(tempfile.mkdtemp(prefix="contract-"))
    base = Settings.from_env({"INSTANCE_DIR": str(instance), **_database_env()})
    return replace(base, validate_responses=True, order_accept_jwt=JWTSettings(secret=SECRET))


def _database_env() -> dict[str, str]:
    url = os.environ.get("DATABASE_URL")
    return {"DATABASE_URL": url} if url else {}


@cache
def database() -> Settings:
    migrate(settings())
    load_demo(settings())
    return settings()


@cache
def app(request_path: str) -> App:
    """The app on one request path (`fast` or `stock`); both are held to the contract."""
    return create_app(replace(database(), request_path=request_path))


def mounts() -> list[Mount]:
    return mounted(settings())


class Identity:
    """The credentials a well-behaved client of one API sends, renewed per stateful run.

    A stateful run then starts as a new customer, so replaying a run sees the same state.
    """

    def __init__(self, mint: Callable[[str], str]) -> None:
        self._mint = mint
        self.authorization = ""
        self.renew()

    def renew(self) -> None:
        self.authorization = self._mint(f"contract-{uuid.uuid4()}")


# How a well-behaved client of each API obtains its Authorization header for a user.
IDENTITIES: dict[str, Callable[[Settings], Identity]] = {
    "order_accept": lambda s: Identity(lambda user: f"Bearer {issue_token(s.order_accept_jwt, {'sub': user})}"),
}
