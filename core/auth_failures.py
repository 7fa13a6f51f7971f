"""Limits on failed authentications: per client address (a middleware), and per any other
name a handler counts (a client id, say), with `FailureCounter`.

Every well-formed credential may have a budget of its own, counted before it is checked (so
a request over it costs nothing). A client making up credentials would thus get a fresh
budget with each one; `AuthFailureLimit` counts the 401s each client address earns, and
once it has earned `rate` of them in the window, refuses its requests with 429 before
anything else is done, until the window ends. The counters live where the rate limit's
do: in Redis when `REDIS_URL` is set, so every worker of every machine shares them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anyio.to_thread
from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.ratelimit import Quota
from core.request_context import client_address

logger = logging.getLogger(__name__)


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            extra = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sending


class FailureCounter:
    """Failures per name in a fixed window: `exhausted(name)` says when to refuse, `count(name)`
    adds one. Synchronous (it may go across the network): call it off the event loop."""

    def __init__(self, *, rate: str, storage_uri: str, namespace: str, enabled: bool = True) -> None:
        self.item = parse(rate)
        self.namespace = namespace
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"rate limit storage must be synchronous, not {storage_uri!r}")
        self.strategy = FixedWindowRateLimiter(storage) if enabled else None
        self.in_process = isinstance(storage, MemoryStorage)

    @property
    def enabled(self) -> bool:
        return self.strategy is not None

    def exhausted(self, name: str) -> Quota | None:
        """The quota to refuse with, if `name` has used up its failures."""
        if self.strategy is None or self.strategy.test(self.item, self.namespace, name):
            return None
        reset = self.strategy.get_window_stats(self.item, self.namespace, name).reset_time
        wait = min(max(1, math.ceil(reset - time.time())), self.item.get_expiry())
        return Quota(limit=self.item.amount, remaining=0, reset=math.ceil(reset), retry_after=wait, exceeded=True)

    def count(self, name: str) -> bool:
        return self.strategy is None or self.strategy.hit(self.item, self.namespace, name)


class AuthFailureLimit:
    """ASGI middleware: at most `rate` failed authentications per client address under `prefix`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        rate: str,
        storage_uri: str,
        reject: Callable[[Scope, Receive, Send, Quota], Awaitable[None]],
        enabled: bool = True,
        namespace: str = "auth-failures",
    ) -> None:
        self.app = app
        self.below = prefix.rstrip("/") + "/"
        self.exact = prefix.rstrip("/")
        self.reject = reject
        self.failures = FailureCounter(rate=rate, storage_uri=storage_uri, namespace=namespace, enabled=enabled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        watched = path == self.exact or path.startswith(self.below)
        if not self.failures.enabled or scope["type"] != "http" or not watched:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        quota = await self._run(self.failures.exhausted, address)
        if isinstance(quota, Quota):
            await self.reject(scope, receive, _with_headers(send, quota.headers()), quota)
            return
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching)
        if status == 401:
            await self._run(self.failures.count, address)

    async def _run(self, function: Callable[[str], Quota | bool | None], address: str) -> Quota | bool | None:
        """`function(address)`, off the event loop when the counters are across the network;
        failing open (logged) while they cannot be reached, as the rate limit does."""
        if self.failures.in_process:
            return function(address)
        try:
            return await anyio.to_thread.run_sync(partial(function, address))
        except Exception:
            logger.warning("rate-limit storage unavailable; failed authentications not counted", exc_info=True)
            return None
