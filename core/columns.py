"""Column types and timestamps every API's tables share, defined once.

Ids are 64-bit everywhere except SQLite, which only auto-increments an INTEGER PRIMARY
KEY. Money is `Numeric(12, 2)`: exact, and every amount it holds is also exact as a JSON
number. Timestamps are stored with their zone and always in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, Numeric
from sqlalchemy.orm import Mapped, mapped_column

BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(12, 2)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every timestamp stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rfc3339(moment: datetime, timespec: str = "auto") -> str:
    """A moment as RFC 3339 text in UTC with `Z`, as every spec here writes them."""
    return aware(moment).astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


class Timestamps:
    """`created_at` set on insert, `updated_at` on every update (both UTC)."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
