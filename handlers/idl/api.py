"""The IDL Purchase Order Tool as the core serves it: its settings, security, rate limits,
error format (handlers/idl/errors.py), background jobs, demo data and commands
(handlers/idl/commands.py)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from connexion.lifecycle import ConnexionRequest
from starlette.types import Scope

from core.api import Api, Middleware, Mounted
from core.config import JWTSettings
from core.jobs import Job, JobContext
from core.jwt_bearer import JWTVerifier, verified_once
from core.ratelimit import RateLimiter, RateLimitMiddleware, RateLimitSettings, authorization
from core.request_context import client_address
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from handlers.idl.commands import commands
from handlers.idl.errors import reject, render_problem
from models.idl.accounts import Accounts, SignedIn, Users
from models.idl.attachments import scan_job
from models.idl.demo import demo_users, load_demo_data
from models.idl.settings import IDLSettings
from models.shared.sessions import purge_expired

UPLOAD_OPERATIONS = ("POST /purchase-orders/{id}/files",)
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and part headers, around the file itself
PURGE_INTERVAL_SECONDS = 600.0


@functools.cache
def verifier(jwt: JWTSettings) -> JWTVerifier:
    """One verifier per key, shared by the rate limiter and the security check (and its cache)."""
    return JWTVerifier(jwt)


class LiveSession:
    """A valid signature is not enough: the session must not be logged out or revoked, and its
    user must still be active. Reads the database, so it runs in the handler pool; checked
    before the request is validated, so a revoked token answers 401 whatever else is wrong."""

    def __init__(self, mounted: Mounted[IDLSettings]) -> None:
        self.mounted = mounted
        self.signature = verifier(mounted.config.jwt)

    def __call__(self, credential: str, request: ConnexionRequest) -> SignedIn:
        claims = verified_once(request.scope, self.signature, credential)
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            return Accounts(unit, self.mounted.config.jwt).authenticate(claims, client_address(request.scope))


def security(mounted: Mounted[IDLSettings]) -> Mapping[str, Verifier]:
    return {"bearerAuth": LiveSession(mounted)}


def middlewares(mounted: Mounted[IDLSettings]) -> Sequence[Middleware]:
    """Rate limits on every IDL request, shared through Redis when `REDIS_URL` is set."""
    idl, settings = mounted.config, mounted.settings
    limits = RateLimitSettings(
        per_user=idl.rate_per_user,
        per_endpoint=idl.rate_per_endpoint,
        uploads=idl.rate_uploads,
        storage_uri=settings.redis_url or "memory://",
        enabled=idl.rate_limits_enabled and settings.rate_limits_enabled,
    )
    token_verifier = verifier(idl.jwt)

    def identify(scope: Scope) -> str | None:
        """The user a valid token names; the claims stay in the scope for the security check."""
        scheme, _, token = (authorization(scope) or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return f"user:{verified_once(scope, token_verifier, token.strip())['sub']}"
        except Exception:
            return None

    options = {
        "prefix": mounted.api.prefix,
        "paths": mounted.document["paths"],
        "limiter": RateLimiter(limits, namespace=mounted.api.name),
        "identify": identify,
        "reject": reject,
        "upload_operations": UPLOAD_OPERATIONS,
    }
    return [(RateLimitMiddleware, options)]


def body_limits(idl: IDLSettings) -> Mapping[str, int]:
    """Uploads may be as large as the upload limit allows (a larger file answers 413 with its own message)."""
    return {"uploadPurchaseOrderFile": idl.max_upload_bytes + MULTIPART_OVERHEAD}


def jobs(mounted: Mounted[IDLSettings]) -> Sequence[Job]:
    """The background virus scan of uploads, and the purge of session records past their expiry."""

    def purge(context: JobContext) -> int:
        with context.unit() as unit:
            purged = purge_expired(unit)
            unit.commit()
        return purged

    return [scan_job(mounted.config), Job("session-purge", purge, interval=PURGE_INTERVAL_SECONDS)]


def demo_credentials(mounted: Mounted[IDLSettings]) -> dict[str, Any]:
    """A fresh session for each active demo user, with the password that also logs them in."""
    credentials: dict[str, Any] = {}
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for demo in demo_users():
            user = Users(unit).by_email(demo.email)
            if user is None or not user.active:
                continue
            tokens = Accounts(unit, mounted.config.jwt).issue_for(user)
            credentials[demo.role] = {
                "email": demo.email,
                "password": demo.password,
                "authorization": f"Bearer {tokens.access_token}",
            }
        unit.commit()
    return credentials


# How a well-behaved client calls each operation: the demo foreman raises and submits; an
# admin (never the creator) decides, cancels and closes and reads the audit trail; a
# project manager lists users.
ROLE_FOR = {
    "approvePurchaseOrder": "admin",
    "rejectPurchaseOrder": "admin",
    "cancelPurchaseOrder": "admin",
    "closePurchaseOrder": "admin",
    "listAuditLogs": "admin",
    "listUsers": "pm",
}


class DemoClient:
    """Calls each operation as the demo user a real client would use for it, every call in a
    session of its own (as after a fresh login), so a logout ends only the session it was
    sent with."""

    def __init__(self, mounted: Mounted[IDLSettings]) -> None:
        self.mounted = mounted

    def renew(self) -> None:
        """Every call starts a session of its own already."""

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        role = ROLE_FOR.get(operation_id or "", "foreman")
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            user = Users(unit).by_email(f"{role}@idl.example")
            assert user is not None, f"demo user {role} is missing"
            tokens = Accounts(unit, self.mounted.config.jwt).issue_for(user)
            unit.commit()
        return {"Authorization": f"Bearer {tokens.access_token}"}


API: Api[IDLSettings] = Api(
    name="idl",
    prefix="/idl/api/v1",
    spec="idl.yaml",
    handlers="handlers.idl",
    settings=IDLSettings.from_env,
    security=security,
    render_problem=render_problem,
    models=("models.idl.tables",),
    middlewares=middlewares,
    jobs=jobs,
    body_limits=body_limits,
    load_demo=load_demo_data,
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
    # An upload's bytes must really be a document or an image (random bytes answer 400, as the
    # document says), and a file is served only once its scan is clean (423 while pending).
    state_dependent_statuses={"uploadPurchaseOrderFile": ["400"], "downloadFile": ["423"]},
    commands=commands,
)
