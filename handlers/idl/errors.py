"""The IDL API's error format: `{"error": {"code", "message", "details", "timestamp", "request_id"}}`.

The code follows the status unless the raiser names one; a 429 adds `retry_after`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.problems import Problem
from core.ratelimit import Quota
from core.request_context import current_request_id

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
