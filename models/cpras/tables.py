"""CPRAS tables: the OAuth clients (PrintPLANR) that may ask for tokens, the webhook deliveries
they made, and what those reported: supplier links and print orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Numeric, String
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


class WebhookEventRow(Base):
    """A delivery PrintPLANR made, by event id (its primary key makes a second delivery of one
    id, even a concurrent one, a duplicate): what it was, and what became of it."""

    __tablename__ = "cpras_webhook_events"

    event_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    type: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # applied, stale or ignored
    reason: Mapped[str | None] = mapped_column(String(512))
    body: Mapped[Any] = mapped_column(JSON, nullable=False)


class SupplierLink(Base):
    """A CPRAS supplier as PrintPLANR provisioned it, as of its latest event."""

    __tablename__ = "cpras_supplier_links"

    supplier_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    supplier_external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(64))
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_event_id: Mapped[str] = mapped_column(String(160))


class PrintOrder(Base):
    """An order placed in PrintPLANR, as of its latest event by `occurred_at`."""

    __tablename__ = "cpras_print_orders"
    __table_args__ = (Index("ix_cpras_print_orders_status", "status", "last_event_at"),)

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    buyer_id: Mapped[str | None] = mapped_column(String(128))
    project_id: Mapped[str | None] = mapped_column(String(128))
    lot_id: Mapped[str | None] = mapped_column(String(128))
    supplier_id: Mapped[str | None] = mapped_column(String(128))
    total: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(64))
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_event_id: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
