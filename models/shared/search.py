"""Case-insensitive substring search that treats the user's text literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, ignoring case; `%` and `_` in `text` match only themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition: ColumnElement[bool] = func.lower(column).like(f"%{escaped}%", escape="\\")
    return condition
