"""Building blocks of response DTOs: marshmallow schemas that shape models as a spec names them.

Every API writes its response bodies as marshmallow schemas in `handlers/<api>/dto.py`,
with these fields for what JSON has no type of its own for: money, moments and days.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_dump

from core.columns import rfc3339


class Money(fields.Field[Decimal]):
    """An exact amount as a JSON number (money is `Numeric(12, 2)`: exact as a double too)."""

    def _serialize(self, value: Decimal | None, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)


class Stamp(fields.Field[datetime]):
    """A moment in UTC, ISO 8601 with `Z`; `timespec` as `datetime.isoformat` takes it."""

    def __init__(self, *, timespec: str = "auto", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timespec = timespec

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return rfc3339(value, self.timespec)


class Day(fields.Field[date]):
    """A calendar day, `YYYY-MM-DD`."""

    def _serialize(self, value: date | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()


class Dto(Schema):
    """A response body, read from an object's attributes (an ORM object, a Core row, a dataclass).

    Members named in `omit_when_none` are left out while they have no value, for bodies whose
    spec has a member only once something has happened (a P/O approved, say).
    """

    omit_when_none: ClassVar[tuple[str, ...]] = ()

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        # Attributes only: marshmallow would try `obj[attr]` first, and a row is a tuple too.
        for name in attr.split("."):
            obj = getattr(obj, name, default)
            if obj is default:
                return default
        return obj

    @post_dump
    def _omit_absent(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not self.omit_when_none:
            return data
        for name in self.omit_when_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data
