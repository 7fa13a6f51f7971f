"""Page/limit pagination: one page of rows, and how many rows match in all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

Row = TypeVar("Row")


def within_days(column: Any, date_from: date | None, date_to: date | None) -> list[ColumnElement[bool]]:
    """`column` (a UTC timestamp) falls on or after `date_from` and on or before `date_to`,
    both calendar days inclusive; a bound left out does not limit."""
    conditions: list[ColumnElement[bool]] = []
    if date_from:
        conditions.append(column >= datetime.combine(date_from, time.min, UTC))
    if date_to:
        conditions.append(column < datetime.combine(date_to + timedelta(days=1), time.min, UTC))
    return conditions


def page_of(
    session: Session, model: type[Row], conditions: Sequence[Any], order_by: Sequence[Any], page: int, limit: int
) -> tuple[Sequence[Row], int]:
    """Rows of `model` matching every condition, page `page` (from 1) of `limit`, and the total."""
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    rows = session.scalars(
        select(model).where(*conditions).order_by(*order_by).offset((page - 1) * limit).limit(limit)
    ).all()
    return rows, total
