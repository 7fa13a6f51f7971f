"""One unit of database work per operation call, committed on success and rolled back otherwise.

The request path (core.dispatch) calls every handler `in_unit_of_work`, so a handler
only asks for `current_unit()` and hands it to its services and repositories. The unit opens its connection on first
use, and an ORM session on that connection only when a repository needs one: the hottest
reads go through Core on the bare connection, which costs a fraction of a session.
Whether the call succeeded is read from what the handler returns (a status below 400) or
raises.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from core.config import Settings
from core.database import Database

_unit: ContextVar[UnitOfWork | None] = ContextVar("unit_of_work", default=None)


class UnitOfWork:
    """A connection opened on first use, with an ORM session on it when one is asked for."""

    def __init__(
        self, database: Database, settings: Settings | None = None, connection: Connection | None = None
    ) -> None:
        self.database = database
        self._settings = settings
        # A connection given is only lent: the unit ends its transaction, and leaves it open.
        self._connection: Connection | None = connection
        self._owns_connection = connection is None
        self._session: Session | None = None
        self._keep_on_error = False
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []

    @property
    def settings(self) -> Settings:
        """The settings of the app serving this operation."""
        if self._settings is None:
            raise RuntimeError("this unit of work was opened without settings")
        return self._settings

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.database.engine.connect()
        return self._connection

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.database.sessions(bind=self.connection)
        return self._session

    def keep_changes_on_error(self) -> None:
        """Commit this unit even though the operation answers with an error.

        For changes that must outlive the error they cause, such as revoking a session
        whose refresh token was replayed while answering 401.
        """
        self._keep_on_error = True

    @property
    def keeps_changes_on_error(self) -> bool:
        return self._keep_on_error

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the unit has committed (e.g. remove a deleted file from disk)."""
        self._after_commit.append(action)

    def after_rollback(self, action: Callable[[], None]) -> None:
        """Run `action` if the unit rolls back (e.g. remove a file stored for a failed upload)."""
        self._after_rollback.append(action)

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        if self._connection is not None and self._connection.in_transaction():
            self._connection.commit()
        actions, self._after_commit, self._after_rollback = self._after_commit, [], []
        for action in actions:
            action()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()
        actions, self._after_commit, self._after_rollback = self._after_rollback, [], []
        for action in actions:
            action()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._connection is None:
            return
        if self._owns_connection:
            self._connection.close()
        elif self._connection.in_transaction():
            self._connection.rollback()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is not None:
                if self._keep_on_error:
                    self.commit()
                else:
                    self.rollback()
        finally:
            self.close()


def current_unit() -> UnitOfWork:
    """The unit of work of the operation being served."""
    unit = _unit.get()
    if unit is None:
        raise RuntimeError("current_unit() used outside an operation call")
    return unit


def status_of(result: Any) -> int:
    """The HTTP status a handler's return value stands for."""
    if isinstance(result, ConnexionResponse):
        return int(result.status_code)
    if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], int):
        return result[1]
    return int(getattr(result, "status_code", 200))


def in_unit_of_work(
    handler: Callable[..., Any],
    database: Database,
    settings: Settings,
    kwargs: dict[str, Any],
    connection: Connection | None = None,
) -> Any:
    """Call `handler(**kwargs)` in a unit of work of its own: committed when it answers below
    400 (or asked to keep its changes), rolled back otherwise. `connection`, if given, is
    lent to the unit instead of one from the pool."""
    with UnitOfWork(database, settings, connection) as unit:
        token = _unit.set(unit)
        try:
            result = handler(**kwargs)
            if status_of(result) < 400 or unit.keeps_changes_on_error:
                unit.commit()
            else:
                unit.rollback()
            return result
        finally:
            _unit.reset(token)
