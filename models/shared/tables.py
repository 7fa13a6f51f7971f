"""Shared tables, keyed by `realm` (the API that owns the row), so each API keeps its own users.

Session families and revocations live in the database, so a logout or a detected refresh
token reuse holds on every worker and survives restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import BigId, utcnow
from core.database import Base


class SessionFamily(Base):
    """One login: every refresh token rotated from it, and every access token issued with them."""

    __tablename__ = "auth_session_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """A single-use refresh token, stored only as its SHA-256 digest."""

    __tablename__ = "auth_refresh_tokens"
    __table_args__ = (Index("ix_auth_refresh_tokens_family", "family_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RevokedAccessToken(Base):
    """An access token revoked before its expiry (logout), by its `jti`."""

    __tablename__ = "auth_revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One audited action, with the actor as they were at the time and the values it changed."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_realm_created", "realm", "created_at"),
        Index("ix_audit_log_entity", "realm", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    realm: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
