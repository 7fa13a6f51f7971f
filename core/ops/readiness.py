"""Readiness: whether this node may take traffic, part by part (`GET /readyz`).

Each part is checked off the event loop, within `timeout` seconds, on connections of its
own: a database that hangs makes the probe answer 503 in time rather than stall it, and
a busy request pool does not make a healthy database look down. While one check of a
part is still waiting, the next probe does not start another: it fails that part at once.
The answers follow the Health Check Response Format for HTTP APIs
(draft-inadarei-api-health-check).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.columns import rfc3339, utcnow
from core.config import Settings
from core.database import make_engine

PASS, FAIL = "pass", "fail"


class NotReadyError(Exception):
    """A part is not ready; the message says why, for the probe's `output`."""


@dataclass(frozen=True)
class Part:
    """One thing readiness depends on: its key (`component:measurement`), its type, and its check."""

    key: str
    component_type: str
    check: Callable[[], None]


class Readiness:
    """The checks of one node, run together on each probe."""

    def __init__(self, parts: Sequence[Part], timeout: float = 2.0, close: Callable[[], None] = lambda: None) -> None:
        self.parts = list(parts)
        self.timeout = timeout
        self.close = close  # releases the connections the checks keep
        self._running: set[str] = set()
        self._lock = threading.Lock()

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Whether every part is ready, and the health+json body saying so."""
        results = await asyncio.gather(*(self._check(part) for part in self.parts))
        checks = {part.key: [result] for part, result in zip(self.parts, results, strict=True)}
        failing = [
            f"{part.key.split(':')[0]}: {result['output']}"
            for part, result in zip(self.parts, results, strict=True)
            if result["status"] == FAIL
        ]
        body: dict[str, Any] = {"status": FAIL if failing else PASS, "checks": checks}
        if failing:
            body["output"] = "; ".join(failing)
        return not failing, body

    async def _check(self, part: Part) -> dict[str, Any]:
        result: dict[str, Any] = {"componentType": part.component_type, "time": rfc3339(utcnow())}
        with self._lock:
            busy = part.key in self._running
            self._running.add(part.key)
        if busy:
            return {
                **result,
                "status": FAIL,
                "output": f"the previous check has had no answer for over {self.timeout:g} s",
            }
        started = time.perf_counter()
        done = asyncio.get_running_loop().create_future()

        def run() -> None:
            try:
                part.check()
                outcome: BaseException | None = None
            except BaseException as exc:  # reported as the part's failure, never raised on the loop
                outcome = exc
            finally:
                with self._lock:
                    self._running.discard(part.key)
            if not done.get_loop().is_closed():
                done.get_loop().call_soon_threadsafe(_settle, done, outcome)

        threading.Thread(target=run, name=f"readyz-{part.key}", daemon=True).start()
        try:
            failure = await asyncio.wait_for(asyncio.shield(done), self.timeout)
        except TimeoutError:
            return {**result, "status": FAIL, "output": f"no answer within {self.timeout:g} s"}
        if failure is not None:
            return {**result, "status": FAIL, "output": _reason(failure)}
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return {**result, "status": PASS, "observedValue": elapsed, "observedUnit": "ms"}


def _settle(done: asyncio.Future[BaseException | None], outcome: BaseException | None) -> None:
    if not done.done():
        done.set_result(outcome)


def _reason(failure: BaseException) -> str:
    if isinstance(failure, NotReadyError):
        return str(failure)
    first_line = (str(failure).strip().splitlines() or [""])[0]
    return f"{type(failure).__name__}: {first_line}"[:300]


def node_readiness(settings: Settings, heads: Sequence[str], timeout: float = 2.0) -> Readiness:
    """The checks of a node serving `settings`: its database, its migrations (`heads`, the
    newest revision of every history it mounts), and Redis when it shares counters there."""
    engine = make_engine(settings.database_url, pool_size=1, **_connect_timeout(settings.database_url, timeout))
    expected = set(heads)

    def database() -> None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise NotReadyError(f"the query failed ({_reason(getattr(exc, 'orig', None) or exc)})") from exc

    def migrations() -> None:
        try:
            with engine.connect() as connection:
                applied = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
        except SQLAlchemyError as exc:
            raise NotReadyError("no migration has been applied") from exc
        if missing := sorted(expected - applied):
            raise NotReadyError(f"not at head: {', '.join(missing)} not applied (run `partner-gateway migrate`)")

    parts = [
        Part("database:responseTime", "datastore", database),
        Part("database:migrations", "datastore", migrations),
    ]
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)

        def shared_counters() -> None:
            try:
                client.ping()
            except redis.RedisError as exc:
                raise NotReadyError(f"no answer ({_reason(exc)})") from exc

        parts.append(Part("redis:responseTime", "datastore", shared_counters))
    return Readiness(parts, timeout, close=engine.dispose)


def migration_heads(config: Any) -> list[str]:
    """The newest revision of every history an Alembic configuration names."""
    return list(ScriptDirectory.from_config(config).get_heads())


def _connect_timeout(url: str, timeout: float) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": max(1, round(timeout))}}
    return {}
