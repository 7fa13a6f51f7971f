"""The webhook receiver of `make bench`: answers 200 at once to every POST, over HTTPS.

A bare ASGI app under uvicorn, so that the receiver costs as little as a receiver can and
the figure is the sender's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

ANSWER = b'{"received":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
