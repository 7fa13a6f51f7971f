"""The outermost middleware: serves the probes and the metrics, and counts every request.

`/healthz`, `/readyz` and `/metrics` are answered here, before any API's middleware, with
no credentials (specs/ops.yaml). When a separate metrics port is configured they are
answered on that port only, and nothing else is. Every other request is counted and
timed under its API (by prefix) and the spec's operationId (named by core.dispatch;
`unrouted` for what no operation served), once its answer has been sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.ops import metrics
from core.ops.readiness import Readiness

HEALTH_JSON = b"application/health+json"
PROBES = ("/healthz", "/readyz", "/metrics")
# Methods counted by name; any other is counted as `other`, so a client cannot add series at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OPERATION = "partner_gateway.operation"  # the spec's operationId, set in the scope's extensions by core.dispatch
REJECTED = "partner_gateway.rejected"  # set there too by a validation refusal


def routed(scope: Scope, operation_id: str) -> None:
    """Name the operation serving the request, for its metrics (core.dispatch)."""
    scope.setdefault("extensions", {})[OPERATION] = operation_id


def rejected(scope: Scope) -> None:
    """Mark the request as refused for what it sent, before its handler ran (core.dispatch)."""
    scope.setdefault("extensions", {})[REJECTED] = True


class OpsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefixes: Mapping[str, str],
        readiness: Readiness,
        exposition: metrics.Exposition,
        metrics_port: int | None = None,
    ) -> None:
        self.app = app
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[0]))  # prefix -> API name
        self.readiness = readiness
        self.exposition = exposition
        self.metrics_port = metrics_port
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        on_metrics_port = (
            self.metrics_port is not None and (scope.get("server") or (None, None))[1] == self.metrics_port
        )
        if path in PROBES or on_metrics_port:
            await self._serve(scope, path, on_metrics_port, send)
            return
        await self._counted(scope, receive, send)

    async def _serve(self, scope: Scope, path: str, on_metrics_port: bool, send: Send) -> None:
        if path not in PROBES or (path == "/metrics" and self.metrics_port is not None and not on_metrics_port):
            await _problem(send, 404, "Not Found", f"{path} is not served here.")
        elif scope["method"] != "GET":
            await _problem(send, 405, "Method Not Allowed", f"{path} answers GET only.", [(b"allow", b"GET")])
        elif path == "/healthz":
            await _answer(send, 200, HEALTH_JSON, json.dumps({"status": "pass"}).encode())
        elif path == "/readyz":
            ready, body = await self.readiness.report()
            await _answer(send, 200 if ready else 503, HEALTH_JSON, json.dumps(body).encode())
        else:
            text = await anyio.to_thread.run_sync(self.exposition.render)
            await _answer(send, 200, metrics.CONTENT_TYPE.encode(), text)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            self._count(scope, status, time.perf_counter() - started)

    def _count(self, scope: Scope, status: int, elapsed: float) -> None:
        path: str = scope["path"]
        api = next((name for prefix, name in self.prefixes if path == prefix or path.startswith(prefix + "/")), "none")
        extensions: dict[str, Any] = scope.get("extensions") or {}
        operation = extensions.get(OPERATION) or "unrouted"
        method = scope["method"] if scope["method"] in METHODS else "other"
        key = (api, operation, method, status)
        children = self._children.get(key)
        if children is None:  # a label lookup takes a lock: once per kind of request, not per request
            children = (
                metrics.REQUESTS.labels(api, operation, method, str(status)),
                metrics.LATENCY.labels(api, operation),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)
        if extensions.get(REJECTED):
            metrics.VALIDATION_REJECTIONS.labels(api, operation).inc()
        if status == 401:
            metrics.AUTH_FAILURES.labels(api).inc()
        elif status == 429:
            metrics.RATE_LIMITED.labels(api).inc()


async def _answer(send: Send, status: int, content_type: bytes, body: bytes, headers: list[Any] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _problem(send: Send, status: int, title: str, detail: str, headers: list[Any] | None = None) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await _answer(send, status, b"application/problem+json", body, headers)
