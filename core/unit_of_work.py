"""One database session per operation call, committed on success and rolled back otherwise.

The resolver wraps every handler in `transactional`, so a handler only asks for
`current_session()`; whether the call succeeded is read from what it returns (a status
below 400) or raises. This works the same under either request path (core.factory).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlalchemy.orm import Session

from core.database import Database

_session: ContextVar[Session | None] = ContextVar("db_session", default=None)


def current_session() -> Session:
    """The session of the operation being served."""
    session = _session.get()
    if session is None:
        raise RuntimeError("current_session() used outside an operation call")
    return session


def status_of(result: Any) -> int:
    """The HTTP status a handler's return value stands for."""
    if isinstance(result, ConnexionResponse):
        return int(result.status_code)
    if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], int):
        return result[1]
    return int(getattr(result, "status_code", 200))


def transactional(handler: Callable[..., Any], database: Database) -> Callable[..., Any]:
    """Run `handler` inside its own session and transaction."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        session = database.sessions()
        token = _session.set(session)
        try:
            result = handler(*args, **kwargs)
            if status_of(result) < 400:
                session.commit()
            else:
                session.rollback()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            _session.reset(token)

    return run
