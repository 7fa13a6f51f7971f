"""One unit of work per call: committed on success, rolled back otherwise, on its own or a lent connection."""

from __future__ import annotations

import os
import time
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
    connection = db.kept.keep(0, db.engine.connect()) if lent else None
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


def test_each_owner_keeps_its_own_connection(db: Database) -> None:
    mine = db.kept.keep(1, db.engine.connect())
    theirs = db.kept.keep(2, db.engine.connect())

    assert db.kept.get(1) is mine
    assert db.kept.get(2) is theirs
    assert mine is not theirs


def test_a_connection_taken_while_another_was_kept_goes_back(db: Database) -> None:
    first = db.kept.keep(1, db.engine.connect())
    racing = db.engine.connect()

    assert db.kept.keep(1, racing) is first
    assert racing.closed


def test_a_closed_or_stale_kept_connection_is_not_handed_out(db: Database) -> None:
    closed = db.kept.keep(1, db.engine.connect())
    closed.close()
    stale = db.kept.keep(2, db.engine.connect())
    db.kept.stale_after = 0.0

    assert db.kept.get(1) is None
    time.sleep(0.01)
    assert db.kept.get(2) is None
    renewed = db.kept.keep(2, db.engine.connect())
    assert stale.closed
    assert renewed.execute(text("SELECT 1")).scalar() == 1


def test_dispose_closes_every_kept_connection(database: Settings) -> None:
    db = Database(database.database_url)
    connection = db.kept.keep(1, db.engine.connect())

    db.dispose()

    assert connection.closed


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_a_kept_connection_the_server_ended_while_unused_is_replaced_without_an_error(db: Database) -> None:
    """A restart or an idle timeout ends the connection; once stale, it is given back, not used."""
    kept = db.kept.keep(1, db.engine.connect())
    pid = kept.execute(text("SELECT pg_backend_pid()")).scalar()
    kept.rollback()
    with db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    db.kept.stale_after = 0.0
    time.sleep(0.01)

    assert db.kept.get(1) is None
    renewed = db.kept.keep(1, db.engine.connect())
    assert renewed.execute(text("SELECT 1")).scalar() == 1
