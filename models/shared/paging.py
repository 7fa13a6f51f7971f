"""Page/limit pagination: one page of rows, and how many rows match in all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def page_of(
    session: Session, model: type[Row], conditions: Sequence[Any], order_by: Sequence[Any], page: int, limit: int
) -> tuple[Sequence[Row], int]:
    """Rows of `model` matching every condition, page `page` (from 1) of `limit`, and the total."""
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    rows = session.scalars(
        select(model).where(*conditions).order_by(*order_by).offset((page - 1) * limit).limit(limit)
    ).all()
    return rows, total
