"""CPRAS tables: the OAuth clients (PrintPLANR) that may ask for tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import utcnow
from core.database import Base


class OAuthClientRow(Base):
    """A client of the token endpoint. Its secret is 32 random bytes, shown once and stored as
    its SHA-256 (a secret that random needs no slow hash); `scopes` are the most its tokens
    may carry. A disabled client is refused as an unknown one; rotating gives a new secret."""

    __tablename__ = "cpras_oauth_clients"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(256))  # space-separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
