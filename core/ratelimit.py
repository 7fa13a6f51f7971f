"""Rate limiting for one mounted API: per caller, per operation and for uploads.

Why a middleware of our own: the limits have to be counted before Connexion does any
work (routing, security, body parsing), so that a caller over its budget costs us as
little as possible, and every response of the API must carry `X-RateLimit-*` headers
because its spec marks them required, including the 429 that the API's own problem
renderer writes. The counting itself is the `limits` library's fixed-window strategy
over a storage chosen by URI: `memory://` (one process) by default, `redis://...` to
share the budget across workers and machines.

Three limits apply to a request: one for everything a caller does under the API, one
for the caller on one operation (method + path template, so `/orders/1` and `/orders/2`
share a bucket), and one for the caller's uploads. A request refused by any limit is
counted against none of them.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import anyio.to_thread
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import client_address

logger = logging.getLogger(__name__)

__all__ = ["Quota", "RateLimitMiddleware", "RateLimitSettings", "RateLimiter", "authorization"]

UNMATCHED = "<unmatched>"
"""The path part of the endpoint key shared by every path that matches no template."""

_TEMPLATE_PARAMETER = re.compile(r"\{[^/{}]*\}")


@dataclass(frozen=True)
class RateLimitSettings:
    """The limits of one API, in the `limits` notation (`"100/minute"`, `"10 per second"`)."""

    per_user: str = "1000/hour"
    per_endpoint: str = "100/minute"
    uploads: str = "10/minute"
    storage_uri: str = "memory://"
    enabled: bool = True


@dataclass(frozen=True)
class Quota:
    """What the `X-RateLimit-*` headers of one response report."""

    limit: int
    remaining: int
    reset: int
    retry_after: int
    exceeded: bool

    def counting_down(self) -> Quota:
        """This quota with `reset` in seconds from now, for specs that count it that way
        rather than as the Unix time the window ends."""
        return replace(self, reset=max(0, self.reset - math.ceil(time.time())))

    def headers(self) -> dict[str, str]:
        """The rate-limit response headers; `Retry-After` only when the quota is exceeded."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if self.exceeded:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass(frozen=True)
class _Bucket:
    item: RateLimitItem
    identifiers: tuple[str, ...]


class RateLimiter:
    """Counts requests against the three limits of `RateLimitSettings` in one storage.

    `namespace` keeps the keys of different APIs apart when they share a storage.
    """

    def __init__(self, settings: RateLimitSettings, *, namespace: str = "api") -> None:
        self.settings = settings
        self.namespace = namespace
        self._per_user = parse(settings.per_user)
        self._per_endpoint = parse(settings.per_endpoint)
        self._uploads = parse(settings.uploads)
        self._strategy: FixedWindowRateLimiter | None = None
        # True when `hit` does no network I/O, so the middleware may call it on the event loop.
        self.in_process = True
        if settings.enabled:
            storage = storage_from_string(settings.storage_uri)
            if not isinstance(storage, Storage):
                raise ValueError(f"rate limit storage must be synchronous, not {settings.storage_uri!r}")
            self._strategy = FixedWindowRateLimiter(storage)
            self.in_process = isinstance(storage, MemoryStorage)

    def hit(self, caller: str, endpoint: str, upload: bool) -> Quota:
        """Count one request, failing open: while the shared store is unreachable, requests
        are served (and the failure logged) rather than refused; limits protect the service,
        they are not worth an outage of their own."""
        try:
            return self._hit(caller, endpoint, upload)
        except Exception:
            if self.in_process:
                raise
            logger.warning("rate-limit storage unavailable; request not counted", exc_info=True)
            return self._unlimited()

    def _hit(self, caller: str, endpoint: str, upload: bool) -> Quota:
        """Count one request of `caller` to `endpoint` and report the quota for its headers.

        If a limit is already exhausted, nothing is counted and the exhausted limit is
        reported (the one resetting last if several are, since the caller must wait for
        all). Otherwise the limit nearest to exhaustion is reported.
        """
        strategy = self._strategy
        if strategy is None:
            return self._unlimited()
        buckets = [
            _Bucket(self._per_user, (self.namespace, "user", caller)),
            _Bucket(self._per_endpoint, (self.namespace, "endpoint", caller, endpoint)),
        ]
        if upload:
            buckets.append(_Bucket(self._uploads, (self.namespace, "uploads", caller)))

        exhausted = [bucket for bucket in buckets if not strategy.test(bucket.item, *bucket.identifiers)]
        if not exhausted:
            # Another worker may spend the last unit between `test` and `hit`; then `hit`
            # reports it and the request is refused (having been counted, a rare overshoot).
            exhausted = [bucket for bucket in buckets if not strategy.hit(bucket.item, *bucket.identifiers)]
        if exhausted:
            stats = [(strategy.get_window_stats(b.item, *b.identifiers).reset_time, b) for b in exhausted]
            reset_time, bucket = max(stats, key=lambda entry: entry[0])
            wait = math.ceil(reset_time - time.time())
            return Quota(
                limit=bucket.item.amount,
                remaining=0,
                reset=math.ceil(reset_time),
                retry_after=min(max(1, wait), bucket.item.get_expiry()),
                exceeded=True,
            )
        windows = [(strategy.get_window_stats(b.item, *b.identifiers), b) for b in buckets]
        window, bucket = min(windows, key=lambda entry: (entry[0].remaining, entry[0].reset_time))
        return Quota(
            limit=bucket.item.amount,
            remaining=window.remaining,
            reset=math.ceil(window.reset_time),
            retry_after=0,
            exceeded=False,
        )

    def _unlimited(self) -> Quota:
        """The quota reported while rate limiting is disabled: a full per-user budget."""
        limit = self._per_user.amount
        return Quota(
            limit=limit,
            remaining=limit,
            reset=math.ceil(time.time()) + self._per_user.get_expiry(),
            retry_after=0,
            exceeded=False,
        )


def _template_pattern(template: str) -> str:
    """A regex for one OpenAPI path template; each `{param}` matches within one segment."""
    parts = _TEMPLATE_PARAMETER.split(template)
    return "[^/]+".join(re.escape(part) for part in parts)


def _specificity(template: str) -> tuple[int, ...]:
    """Sort key putting literal segments first, so `/orders/export` wins over `/orders/{id}`."""
    return tuple(1 if "{" in segment else 0 for segment in template.split("/"))


class _EndpointMatcher:
    """Maps a path (below the prefix) to its OpenAPI path template with one regex."""

    def __init__(self, templates: Collection[str]) -> None:
        ordered = sorted(templates, key=lambda template: (_specificity(template), template))
        self._templates = {f"t{index}": template for index, template in enumerate(ordered)}
        alternatives = (f"(?P<{name}>{_template_pattern(t)})" for name, t in self._templates.items())
        self._pattern = re.compile("|".join(alternatives)) if ordered else None

    def template(self, path: str) -> str:
        """The template `path` matches, or `UNMATCHED`."""
        match = self._pattern.fullmatch(path) if self._pattern is not None else None
        if match is None or match.lastgroup is None:
            return UNMATCHED
        return self._templates[match.lastgroup]


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    """`send`, adding `headers` to the response start (replacing any of the same names)."""
    names = {name for name, _ in headers}

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(name, value) for name, value in message.get("headers", ()) if name.lower() not in names]
            message = {**message, "headers": kept + headers}
        await send(message)

    return send_with_headers


class RateLimitMiddleware:
    """ASGI middleware applying a `RateLimiter` to the requests under one API prefix."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        paths: Mapping[str, Mapping[str, Any]],
        limiter: RateLimiter,
        identify: Callable[[Scope], str | None],
        reject: Callable[[Scope, Receive, Send, Quota], Awaitable[None]],
        upload_operations: Collection[str] = (),
        reset_in_seconds: bool = False,
    ) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self._below = self.prefix + "/"
        self.limiter = limiter
        self.identify = identify
        self.reject = reject
        self.upload_operations = frozenset(upload_operations)
        self.reset_in_seconds = reset_in_seconds  # `X-RateLimit-Reset` as seconds from now, not a Unix time
        self._matcher = _EndpointMatcher(list(paths))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self._below):
            await self.app(scope, receive, send)
            return

        endpoint = f"{scope['method']} {self._matcher.template(path[len(self.prefix) :] or '/')}"
        caller = self.identify(scope) or f"ip:{client_address(scope)}"
        upload = endpoint in self.upload_operations
        if self.limiter.in_process:
            quota = self.limiter.hit(caller, endpoint, upload)
        else:
            quota = await anyio.to_thread.run_sync(partial(self.limiter.hit, caller, endpoint, upload))
        if self.reset_in_seconds:
            quota = quota.counting_down()

        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in quota.headers().items()]
        if quota.exceeded:
            await self.reject(scope, receive, _with_headers(send, headers), quota)
        else:
            await self.app(scope, receive, _with_headers(send, headers))


def authorization(scope: Scope) -> str | None:
    """The request's first `Authorization` header, if any (for `identify` functions)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            text: str = value.decode("latin-1")
            return text
    return None
