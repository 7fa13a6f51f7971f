"""Slow handlers run in the bounded handler pool, so they never stall the event loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import httpx
from starlette.testclient import TestClient

from core.api import Api
from core.concurrency import inline, runs_inline
from core.config import Settings
from core.factory import create_app
from tests.core.conftest import READER, WRITER


def test_unmarked_handlers_run_in_the_pool_and_marked_ones_on_the_loop(tiny_client: TestClient) -> None:
    pooled = tiny_client.get("/tiny/whoami", headers=READER).json()["thread"]
    inline = tiny_client.get("/tiny/whereami").json()

    assert pooled.startswith("AnyIO worker thread")
    assert inline["on_loop"] is True
    assert not inline["thread"].startswith("AnyIO worker thread")


def test_inline_is_seen_through_wrappers() -> None:
    @inline
    def quick() -> None:
        """Quick."""

    def wrapper() -> None:
        quick()

    wrapper.__wrapped__ = quick  # type: ignore[attr-defined]

    assert runs_inline(quick)
    assert runs_inline(wrapper)
    assert not runs_inline(lambda: None)


async def _timed(client: httpx.AsyncClient, path: str, **options: Any) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.get(path, **options)
    return response.status_code, time.perf_counter() - started


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tiny.test")


def test_a_slow_request_does_not_stall_a_quick_one(tiny_settings: Settings, tiny: Api[Any]) -> None:
    app = create_app(tiny_settings, [tiny])

    async def scenario() -> tuple[tuple[int, float], list[tuple[int, float]]]:
        async with _client(app) as client:
            created = await client.post("/tiny/notes", json={"text": "quick"}, headers=WRITER)
            path = f"/tiny/notes/{created.json()['id']}"
            slow = asyncio.create_task(_timed(client, "/tiny/slow", params={"seconds": 1.5}))
            await asyncio.sleep(0.1)  # the slow one is in its thread now
            quick = [await _timed(client, path, headers=READER) for _ in range(20)]
            return await slow, quick

    (slow_status, slow_time), quick = asyncio.run(scenario())

    assert slow_status == 200
    assert slow_time >= 1.5
    assert all(status == 200 for status, _ in quick)
    assert max(elapsed for _, elapsed in quick) < 0.5, quick


def test_the_pool_is_bounded(tiny_settings: Settings, tiny: Api[Any]) -> None:
    app = create_app(replace(tiny_settings, handler_threads=2), [tiny])

    async def scenario() -> list[tuple[int, float]]:
        async with _client(app) as client:
            return list(
                await asyncio.gather(*(_timed(client, "/tiny/slow", params={"seconds": 0.6}) for _ in range(3)))
            )

    started = time.perf_counter()
    results = asyncio.run(scenario())
    elapsed = time.perf_counter() - started

    assert [status for status, _ in results] == [200, 200, 200]
    assert elapsed >= 1.2, "two threads: the third request waited for a free one"
    assert sorted(took for _, took in results)[-1] >= 1.2


def test_a_burst_of_inline_requests_shares_one_kept_connection_safely(tiny_settings: Settings, tiny: Api[Any]) -> None:
    """Requests arriving together, before the loop keeps a connection, each wait for one off the
    loop; the first one kept serves them all, and the others go back to the pool unused."""
    app = create_app(tiny_settings, [tiny])

    async def burst() -> list[int]:
        async with _client(app) as client:
            created = await client.post("/tiny/notes", json={"text": "burst"}, headers=WRITER)
            path = f"/tiny/notes/{created.json()['id']}"
            responses = await asyncio.gather(*(client.get(path, headers=READER) for _ in range(40)))
            return [response.status_code for response in responses]

    assert asyncio.run(burst()) == [200] * 40
