"""The IDL Purchase Order Tool as the core serves it: its settings, security, rate limits,
error format, background jobs, demo data and commands.

Errors are `{"error": {"code", "message", "details", "timestamp", "request_id"}}`, the code
chosen by status unless the raiser names one; a 429 adds `retry_after`.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.api import Api, Middleware, Mounted
from core.config import JWTSettings
from core.jobs import Job, JobContext
from core.jwt_bearer import JWTVerifier, verified_once
from core.problems import Problem
from core.ratelimit import Quota, RateLimiter, RateLimitMiddleware, RateLimitSettings, authorization
from core.request_context import current_request_id
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Accounts, Caller, Users
from models.idl.attachments import scan_job
from models.idl.demo import demo_users, load_demo_data
from models.idl.reference import KINDS, ReferenceImportError, import_file
from models.idl.roles import ROLES
from models.idl.settings import IDLSettings
from models.shared.sessions import purge_expired

CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    413: "VALIDATION_ERROR",
    415: "VALIDATION_ERROR",
    422: "VALIDATION_ERROR",
    423: "FORBIDDEN",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "INTEGRATION_ERROR",
}
MESSAGES = {
    "VALIDATION_ERROR": "The request contains invalid data",
    "UNAUTHORIZED": "Authentication required",
    "FORBIDDEN": "Insufficient permissions",
    "NOT_FOUND": "Resource not found",
    "CONFLICT": "Resource conflict",
    "RATE_LIMITED": "Too many requests. Please try again later.",
    "INTERNAL_ERROR": "An unexpected error occurred",
    "INTEGRATION_ERROR": "An external service failed",
}
STATUS_MESSAGES = {405: "The method is not allowed for this path", 413: "The request body is too large"}
DETAIL_KEYS = ("status", "virus_scan_status")
UPLOAD_OPERATIONS = ("POST /purchase-orders/{id}/files",)
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and part headers, around the file itself
PURGE_INTERVAL_SECONDS = 600.0


@functools.cache
def verifier(jwt: JWTSettings) -> JWTVerifier:
    """One verifier per key, shared by the rate limiter and the security check (and its cache)."""
    return JWTVerifier(jwt)


def _client_ip(request: ConnexionRequest) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


class LiveSession:
    """A valid signature is not enough: the session must not be logged out or revoked, and its
    user must still be active. Reads the database, so it runs in the handler pool; checked
    before the request is validated, so a revoked token answers 401 whatever else is wrong."""

    def __init__(self, mounted: Mounted[IDLSettings]) -> None:
        self.mounted = mounted
        self.signature = verifier(mounted.config.jwt)

    def __call__(self, credential: str, request: ConnexionRequest) -> Caller:
        claims = verified_once(request.scope, self.signature, credential)
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            return Accounts(unit, self.mounted.config.jwt).authenticate(claims, _client_ip(request))


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


async def reject(scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
    problem = Problem(429, MESSAGES["RATE_LIMITED"], extensions={"retry_after": quota.retry_after})
    rendered = render_problem(problem, ConnexionRequest(scope, receive))
    response = Response(rendered.body, rendered.status_code, dict(rendered.headers or {}), rendered.mimetype)
    await response(scope, receive, send)


def render_problem(problem: Problem, request: ConnexionRequest) -> ConnexionResponse:
    extensions = dict(problem.extensions)
    code = str(extensions.get("code") or CODES.get(problem.status) or _fallback_code(problem.status))
    error: dict[str, Any] = {
        "code": code,
        "message": problem.detail or STATUS_MESSAGES.get(problem.status) or MESSAGES[code],
    }
    details = {key: extensions[key] for key in DETAIL_KEYS if key in extensions}
    if problem.errors:
        field, messages = next(iter(problem.errors.items()))
        details = {"field": field, "message": messages[0], "errors": problem.errors, **details}
    if details:
        error["details"] = details
    if problem.status == 429:
        error["retry_after"] = int(extensions.get("retry_after", 0))
    error["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    error["request_id"] = current_request_id()
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return ConnexionResponse(
        status_code=problem.status,
        mimetype="application/json",
        body=json.dumps({"error": error}, separators=(",", ":")),
        headers=headers,
    )


def _fallback_code(status: int) -> str:
    return "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR"


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


def commands(parser: argparse.ArgumentParser) -> None:
    """`partner-gateway idl import …` and `partner-gateway idl create-user …`."""
    idl = parser.add_subparsers(dest="idl", required=True)
    importing = idl.add_parser("import", help="import JobCost/Timberline reference data from CSV or JSON")
    importing.add_argument("kind", choices=list(KINDS))
    importing.add_argument("file", type=Path)
    importing.set_defaults(run=_import)
    create_user = idl.add_parser("create-user", help="create a user (password from IDL_NEW_USER_PASSWORD or a prompt)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--role", required=True, choices=list(ROLES))
    create_user.add_argument("--project", action="append", help="a project id the user works on (repeatable)")
    create_user.add_argument("--limit", help="authorization limit (default: the role's)")
    create_user.set_defaults(run=_create_user)


def _import(args: argparse.Namespace, mounted: Mounted[IDLSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        try:
            count = import_file(unit, args.kind, args.file)
        except ReferenceImportError as exc:
            raise SystemExit(str(exc)) from exc
        unit.commit()
    print(f"imported {count} {args.kind}", file=sys.stderr)
    return 0


def _create_user(args: argparse.Namespace, mounted: Mounted[IDLSettings]) -> int:
    password = os.environ.get("IDL_NEW_USER_PASSWORD") or getpass.getpass("Password for the new user: ")
    if len(password) < 12:
        raise SystemExit("the password must have at least 12 characters")
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        user = Users(unit).create(
            email=args.email,
            name=args.name,
            role=args.role,
            password=password,
            project_ids=args.project or [],
            authorization_limit=Decimal(args.limit) if args.limit is not None else None,
        )
        unit.commit()
        print(f"created user {user.id}", file=sys.stderr)
    return 0


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
