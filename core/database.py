"""Engine construction, the declarative base, and the session factory.

Sessions are opened per operation call by core.unit_of_work.
"""

from __future__ import annotations

import threading
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


class Database:
    """An engine and its session factory; the app factory makes one per app."""

    def __init__(self, url: str, pool_size: int | None = None) -> None:
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._kept = threading.local()
        self._all_kept: list[Connection] = []
        self._lock = threading.Lock()

    def kept_connection(self) -> Connection:
        """A connection this thread keeps for good, for handlers that run inline on an event loop.

        Those run one at a time on their loop's thread, so one connection serves them all,
        each in a transaction of its own, without a pool check-out and check-in per call
        (about 30 microseconds, measured). A connection the database dropped is replaced on
        its next use by a new one from the pool.
        """
        connection: Connection | None = getattr(self._kept, "connection", None)
        if connection is None or connection.closed:
            connection = self._kept.connection = self.engine.connect()
            with self._lock:
                self._all_kept.append(connection)
        return connection

    def dispose(self) -> None:
        with self._lock:
            kept, self._all_kept = self._all_kept, []
        for connection in kept:
            connection.close()
        self.engine.dispose()
