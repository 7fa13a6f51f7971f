"""How the IDL API authenticates callers, limits their rate, and writes its errors.

Errors are `{"error": {"code", "message", "details", "timestamp", "request_id"}}`, the code
chosen by status unless the raiser names one; a 429 adds `retry_after`.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.config import JWTSettings, Settings
from core.database import Database
from core.jwt_bearer import JWTVerifier, bearer_security_handler
from core.problems import Problem
from core.ratelimit import Quota, RateLimiter, RateLimitMiddleware, RateLimitSettings
from core.request_context import current_request_id
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Accounts

if TYPE_CHECKING:
    from core.mounts import Mount

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


@functools.cache
def verifier(jwt: JWTSettings) -> JWTVerifier:
    """One verifier per key, shared by the rate limiter and the security handler (and its cache)."""
    return JWTVerifier(jwt)


class LiveSessionVerifier:
    """A valid signature is not enough: the session must not be logged out or revoked, and
    its user must still be active. Checked before the request is validated, so a revoked
    token is refused with 401 whatever else is wrong with the request."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.signature = verifier(settings.idl.jwt)

    def verify(self, token: str) -> dict[str, Any]:
        claims = self.signature.verify(token)
        with UnitOfWork(self.database, self.settings) as unit:
            Accounts(unit, self.settings.idl.jwt).authenticate(claims, ip_address="")
        return claims


def security_map(settings: Settings, database: Database) -> dict[str, Any]:
    return {"bearer": bearer_security_handler(LiveSessionVerifier(settings, database))}


def middlewares(settings: Settings, mount: Mount) -> list[tuple[type[Any], dict[str, Any]]]:
    """Rate limits on every IDL request, shared through Redis when `REDIS_URL` is set."""
    idl = settings.idl
    limits = RateLimitSettings(
        per_user=idl.rate_per_user,
        per_endpoint=idl.rate_per_endpoint,
        uploads=idl.rate_uploads,
        storage_uri=settings.redis_url or "memory://",
        enabled=idl.rate_limits_enabled,
    )
    token_verifier = verifier(idl.jwt)

    def identify(authorization: str | None) -> str | None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return f"user:{token_verifier.verify(token.strip())['sub']}"
        except Exception:
            return None

    options = {
        "prefix": mount.prefix,
        "paths": mount.document(settings)["paths"],
        "limiter": RateLimiter(limits, namespace=mount.name),
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
