"""The app the contract tests fuzz: migrated database, demo data, response validation on.

Schemathesis loads each schema when the test module is imported, so the app is built then,
once per run, on `DATABASE_URL` (PostgreSQL in CI) or a fresh SQLite file.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

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
    unlimited = "1000000/minute"
    idl = replace(base.idl, rate_per_user=unlimited, rate_per_endpoint=unlimited, rate_uploads=unlimited)
    return replace(base, validate_responses=True, order_accept_jwt=JWTSettings(secret=SECRET), idl=idl)


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

    def authorization_for(self, operation_id: str | None) -> str:
        """The header for one call; the same user for every operation unless a subclass says otherwise."""
        return self.authorization


class RoleIdentity(Identity):
    """A client whose users differ per operation, so permission-gated operations are reached.

    Every call gets a token of its own session, as after a fresh login: a fuzzed logout then
    ends only the session it was sent with, not the rest of the run.
    """

    def __init__(self, mint: Callable[[str], str], roles: Mapping[str, str], default: str) -> None:
        self._roles = roles
        self._default = default
        super().__init__(mint)

    def renew(self) -> None:
        self.authorization = ""

    def authorization_for(self, operation_id: str | None) -> str:
        return self._mint(self._roles.get(operation_id or "", self._default))


# IDL: the demo foreman raises and submits; an admin (never the creator) decides, cancels and
# closes and reads the audit trail; a project manager lists users.
IDL_ROLES = {
    "approvePurchaseOrder": "admin",
    "rejectPurchaseOrder": "admin",
    "cancelPurchaseOrder": "admin",
    "closePurchaseOrder": "admin",
    "listAuditLogs": "admin",
    "listUsers": "pm",
}


def idl_token(settings: Settings, role: str) -> str:
    from core.unit_of_work import UnitOfWork
    from models.idl.accounts import Accounts, Users

    database = _idl_database(settings.database_url)
    with UnitOfWork(database, settings) as unit:
        user = Users(unit).by_email(f"{role}@idl.example")
        assert user is not None, f"demo user {role} is missing"
        tokens = Accounts(unit, settings.idl.jwt).issue_for(user)
        unit.commit()
    return f"Bearer {tokens.access_token}"


@cache
def _idl_database(url: str) -> Any:
    from core.database import Database

    return Database(url)


# Documented answers to schema-valid requests that depend on what the request carries or
# finds, beyond what a schema can state: an upload's bytes must really be a PDF, image,
# office document or text (random bytes are not; 400 as the document says), and a file is
# served only once its virus scan is clean (423 while pending).
STATE_DEPENDENT_STATUSES: dict[str, list[str]] = {
    "uploadPurchaseOrderFile": ["400"],
    "downloadFile": ["423"],
}


# How a well-behaved client of each API obtains its Authorization header for a user.
IDENTITIES: dict[str, Callable[[Settings], Identity]] = {
    "order_accept": lambda s: Identity(lambda user: f"Bearer {issue_token(s.order_accept_jwt, {'sub': user})}"),
    "idl": lambda s: RoleIdentity(lambda role: idl_token(s, role), IDL_ROLES, default="foreman"),
}
