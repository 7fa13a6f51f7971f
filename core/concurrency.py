"""Where each handler runs: on the worker's event loop, or in its bounded thread pool.

A worker serves many connections on one event loop. Anything that can take long (a
password hash, a file scan, a bulk write, a call over the network) would stall all of
them, so by default every handler (and every security verifier) runs in a thread of a
pool of `HANDLER_THREADS` threads per worker, while the loop goes on serving others; a
handler nobody marked therefore never blocks the loop. A handler measured to be quick
(a single indexed read, no CPU-heavy work) may be marked `@inline` to skip the thread
hop: it then runs on the loop itself. Mark only what `make bench` shows to win.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_INLINE = "__runs_inline__"


def inline(function: F) -> F:
    """Mark a handler or verifier as quick enough to run on the event loop itself."""
    setattr(function, _INLINE, True)
    return function


def runs_inline(function: Callable[..., Any]) -> bool:
    """Whether `function` (or what it wraps) was marked `@inline`."""
    while True:
        if getattr(function, _INLINE, False):
            return True
        wrapped = getattr(function, "__wrapped__", None)
        if wrapped is None:
            return False
        function = wrapped


class HandlerPool:
    """The bounded pool blocking handlers run in; one per app, so per worker process."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("a handler pool needs at least one thread")
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the running event loop it belongs to.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, function: Callable[[], T]) -> T:
        """Run `function` in a pool thread (context variables go along) and wait for it."""
        return await anyio.to_thread.run_sync(function, limiter=self.limiter)
