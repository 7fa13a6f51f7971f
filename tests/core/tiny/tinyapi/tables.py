"""The tiny API's one table."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import BigId, Timestamps
from core.database import Base


class Note(Timestamps, Base):
    __tablename__ = "tiny_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(String(100))
