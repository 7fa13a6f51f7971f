"""SCP tables: tenants, and the OAuth clients that get scoped tokens for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import utcnow
from core.database import Base
from core.oauth.clients import ClientColumns

ADMIN, PLATFORM = "admin", "platform"  # the roles of clients made by command
ROLES = (ADMIN, PLATFORM)


class Tenant(Base):
    """An organisation using SCP; everything it owns is invisible to every other tenant."""

    __tablename__ = "scp_tenants"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScpClientRow(ClientColumns, Base):
    """A client of SCP's token endpoint. A tenant's `admin` client acts in its tenant; a
    `platform` client (no tenant) may only instantiate registry templates across tenants.
    Its tokens carry `tenant_id` and `role`."""

    __tablename__ = "scp_oauth_clients"

    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("scp_tenants.tenant_id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
