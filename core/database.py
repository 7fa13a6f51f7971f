"""Engine construction, the declarative base, and the session factory.

Sessions are opened per operation call by core.unit_of_work.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every API's models, so Alembic sees one metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, pool_size: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get WAL, a busy timeout and enforced foreign keys.

    `pool_size` is how many connections stay open (a few more may be opened at peaks).
    """
    parsed = make_url(url)
    if pool_size is not None and not (
        parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    ):
        kwargs = {"pool_size": pool_size, "max_overflow": 4, **kwargs}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class KeptConnections:
    """Connections kept for good, one per event loop, for the handlers that run inline on it.

    Those run one at a time on their loop's thread, so one connection serves them all, each
    call in a transaction of its own, without a pool check-out and check-in per call (about
    30 microseconds, measured). A kept connection unused for longer than `stale_after`
    seconds is replaced by a new one from the pool, which checks it (pool_pre_ping), so that
    a database restarted meanwhile costs no request. The new one is taken off the loop; it
    is kept, and the old one closed, on the loop's thread, where nothing else is using it.
    """

    def __init__(self, engine: Engine, stale_after: float = 10.0) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self._kept: dict[int, tuple[Connection, float]] = {}
        self._lock = threading.Lock()

    def get(self, owner: int) -> Connection | None:
        """`owner`'s kept connection, if it has one still fresh."""
        kept = self._kept.get(owner)
        now = time.monotonic()
        if kept is None or kept[0].closed or now - kept[1] > self.stale_after:
            return None
        self._kept[owner] = (kept[0], now)
        return kept[0]

    def keep(self, owner: int, fresh: Connection) -> Connection:
        """Keep `fresh` for `owner` (closing the one it replaces), unless another request of the
        same loop kept a fresh one meanwhile: then `fresh` goes back, and that one serves."""
        current = self.get(owner)
        if current is not None:
            fresh.close()
            return current
        with self._lock:
            old = self._kept.get(owner)
            self._kept[owner] = (fresh, time.monotonic())
        if old is not None:
            old[0].close()
        return fresh

    def close_all(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
        for connection, _ in kept:
            connection.close()


class Database:
    """An engine, its session factory, and the connections inline handlers keep; one per app."""

    def __init__(self, url: str, pool_size: int | None = None) -> None:
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.kept = KeptConnections(self.engine)

    def dispose(self) -> None:
        self.kept.close_all()
        self.engine.dispose()
