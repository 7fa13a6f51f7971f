"""Background jobs: work an API defers, done by `partner-gateway worker` processes.

Each API lists its jobs (`Api.jobs`); the worker (core.worker) runs them all. A job that
works through a queue of rows claims a batch with `claim_due`, in a short transaction of
its own, and then handles each claimed row in a transaction of its own too, so no lock is
held while the work is done. Claiming leases the rows: their due time moves `lease` ahead,
so no other worker takes them meanwhile, and a worker that dies leaves them to be taken
again once the lease runs out. On PostgreSQL the claim skips rows another worker is
claiming (`FOR UPDATE SKIP LOCKED`), so many workers on many machines never take the same
row; on SQLite (one machine) claims take the database's write lock first, so they queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class JobContext:
    """What a job run gets: the database and settings, to open units of work with."""

    database: Database
    settings: Settings

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.database, self.settings)


@dataclass(frozen=True)
class Backlog:
    """The queue a job works through, as metrics report it: the rows of `model` still to
    do (`waiting`), due by `due` (unset or past: due now; else leased or to be retried
    later), the oldest by `since`."""

    model: Any
    due: Any
    since: Any
    waiting: Sequence[ColumnElement[bool]] = ()


@dataclass(frozen=True)
class Job:
    """One kind of background work. `run` does one batch and says how many items it handled;
    the worker runs it again at once while it finds work, else after `interval` seconds."""

    name: str
    run: Callable[[JobContext], int]
    interval: float = 2.0
    # Called once when the worker stops, to finish what the job has in hand (sends in flight, say).
    stop: Callable[[JobContext], None] | None = None
    # The queue it works through, if any, for the queue metrics (core.ops.metrics).
    backlog: Backlog | None = None


def claim_due(
    unit: UnitOfWork,
    model: Any,
    *,
    due: Any,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[Any] = (),
    limit: int = 20,
    lease: timedelta = timedelta(minutes=5),
) -> list[Any]:
    """Lease up to `limit` rows of `model` whose `due` time has come (or is unset), and return their ids.

    Must be the first thing `unit` does; commit it right after, then handle each id in a
    unit of its own, setting `due` to when (if ever) the row is due again.
    """
    dialect = unit.connection.dialect.name
    if dialect == "sqlite":
        unit.connection.exec_driver_sql("BEGIN IMMEDIATE")
    now = utcnow()
    query = (
        select(model.id).where(*where, or_(due.is_(None), due <= now)).order_by(*(order_by or (model.id,))).limit(limit)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(unit.connection.scalars(query))
    if ids:
        unit.connection.execute(update(model).where(model.id.in_(ids)).values({due.key: now + lease}))
    return ids
