"""The base of every repository: queries over one unit of work, the only place SQL is written.

Layering, the same for every API: a handler calls a service (the rules the spec cannot
state), which calls repositories (the SQL). A repository reads and writes through the
unit of work it is given: Core on its connection for the hottest reads, the ORM on its
session otherwise.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from core.unit_of_work import UnitOfWork


class Repository:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    @property
    def session(self) -> Session:
        return self.unit.session

    @property
    def connection(self) -> Connection:
        return self.unit.connection

    @property
    def dialect(self) -> str:
        return self.unit.connection.dialect.name
