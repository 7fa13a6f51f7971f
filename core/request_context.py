"""Request ids and the structured access log, applied to every response, errors included.

The id is taken from a well-formed incoming `X-Request-ID`, else generated in the W3C
trace-context shape that ASP.NET Core clients know as `traceId`. It is returned in the
`X-Request-ID` header, written into error bodies, and logged with the request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_logger = logging.getLogger("access")


def new_request_id() -> str:
    """A W3C traceparent-shaped id: version, trace id, span id, flags."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def current_request_id() -> str:
    return request_id_var.get()


def client_address(scope: Scope) -> str:
    """The caller's address: the peer's, or the one a trusted proxy forwarded (core.factory)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RequestContextMiddleware:
    """ASGI middleware: assigns the request id, echoes it, and writes one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _ACCEPTABLE_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [item for item in message.get("headers", ()) if item[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_access(scope, status, request_id, time.perf_counter() - started)
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _log_access(scope: Scope, status: int, request_id: str, elapsed: float) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    record: dict[str, Any] = {
        "event": "http_request",
        "request_id": request_id,
        "method": scope.get("method"),
        "path": scope.get("path"),
        "query": scope.get("query_string", b"").decode("latin-1"),
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "client": client[0] if client else None,
    }
    access_logger.info(json.dumps(record, separators=(",", ":")))
