"""One unit of work per call: committed on success, rolled back otherwise, on its own or a lent connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from core.config import Settings
from core.database import Database
from core.outbox import Outbox, OutboxEvent
from core.unit_of_work import current_unit, in_unit_of_work


@pytest.fixture
def db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


def publish(kind: str, status: int = 200) -> tuple[None, int, dict[str, str]]:
    Outbox(current_unit(), "uow-test").publish(kind, {})
    return None, status, {}


def published(db: Database, kind: str) -> int:
    with db.sessions() as session:
        return len(session.scalars(select(OutboxEvent).where(OutboxEvent.type == kind)).all())


@pytest.mark.parametrize("lent", [False, True], ids=["own-connection", "lent-connection"])
def test_success_commits_an_error_status_rolls_back_and_an_exception_too(
    db: Database, database: Settings, lent: bool
) -> None:
    connection = db.kept_connection() if lent else None
    kinds = [f"uow.{name}.{lent}" for name in ("ok", "refused", "raised")]

    in_unit_of_work(publish, db, database, {"kind": kinds[0]}, connection)
    in_unit_of_work(publish, db, database, {"kind": kinds[1], "status": 409}, connection)

    def explode() -> Any:
        publish(kinds[2])
        raise RuntimeError("after writing")

    with pytest.raises(RuntimeError):
        in_unit_of_work(explode, db, database, {}, connection)

    assert [published(db, kind) for kind in kinds] == [1, 0, 0]
    if connection is not None:
        assert not connection.closed
        assert not connection.in_transaction()


def test_each_thread_keeps_its_own_connection(db: Database) -> None:
    mine = db.kept_connection()
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(db.kept_connection()))
    thread.start()
    thread.join()

    assert db.kept_connection() is mine
    assert theirs[0] is not mine


def test_a_dropped_kept_connection_is_replaced(db: Database) -> None:
    first = db.kept_connection()
    first.close()

    second = db.kept_connection()

    assert second is not first
    assert second.execute(text("SELECT 1")).scalar() == 1


def test_an_invalidated_kept_connection_reconnects_on_next_use(db: Database) -> None:
    connection = db.kept_connection()
    connection.invalidate()

    assert connection.execute(text("SELECT 1")).scalar() == 1
    connection.rollback()


def test_dispose_closes_every_kept_connection(database: Settings) -> None:
    db = Database(database.database_url)
    connection = db.kept_connection()

    db.dispose()

    assert connection.closed
