"""CPRAS tables: the OAuth clients (PrintPLANR) that may ask for tokens, the webhook deliveries
they made, and what those reported (supplier links and print orders); CPRAS's own procurement
data the supplier context and the hand-offs are built from (buyers, suppliers, frameworks,
lots, projects, contracts); and the operators of the Print Orders area with the hand-offs
they started."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import utcnow
from core.database import Base
from core.oauth.clients import ClientColumns


class OAuthClientRow(ClientColumns, Base):
    """A client of the token endpoint (core/oauth/clients.py says what it holds); `scopes` are
    the most its tokens may carry. A disabled client is refused as an unknown one."""

    __tablename__ = "cpras_oauth_clients"


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


class Buyer(Base):
    """A buyer organisation's user, as a Buyer Handoff names them."""

    __tablename__ = "cpras_buyers"

    buyer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    org_name: Mapped[str] = mapped_column(String(256))
    email: Mapped[str] = mapped_column(String(254))


class Supplier(Base):
    """A supplier: what the context lookup and a Supplier Handoff say of it, and no more."""

    __tablename__ = "cpras_suppliers"

    supplier_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(256))
    primary_email: Mapped[str] = mapped_column(String(254))


class Framework(Base):
    __tablename__ = "cpras_frameworks"

    framework_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(256))


class Lot(Base):
    """A lot of a framework."""

    __tablename__ = "cpras_lots"

    lot_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    framework_id: Mapped[str] = mapped_column(ForeignKey("cpras_frameworks.framework_id"), index=True)
    lot_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256))


class Project(Base):
    """A buyer's procurement project; its pricing policy says how PrintPLANR shows prices in it."""

    __tablename__ = "cpras_projects"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    framework_id: Mapped[str] = mapped_column(ForeignKey("cpras_frameworks.framework_id"))
    buyer_id: Mapped[str | None] = mapped_column(ForeignKey("cpras_buyers.buyer_id"), index=True)
    pricing_display: Mapped[str] = mapped_column(String(16))  # as_is or with_margin


class Contract(Base):
    """A supplier's contract under a framework, for a project."""

    __tablename__ = "cpras_contracts"

    contract_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    framework_id: Mapped[str] = mapped_column(ForeignKey("cpras_frameworks.framework_id"))
    supplier_id: Mapped[str] = mapped_column(ForeignKey("cpras_suppliers.supplier_id"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("cpras_projects.project_id"), index=True)


class ContractLot(Base):
    """A lot a contract covers, from `effective_from` to `effective_to` (both inclusive)."""

    __tablename__ = "cpras_contract_lots"

    contract_id: Mapped[str] = mapped_column(ForeignKey("cpras_contracts.contract_id"), primary_key=True)
    lot_id: Mapped[str] = mapped_column(ForeignKey("cpras_lots.lot_id"), primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date] = mapped_column(Date)


class Operator(Base):
    """Who may sign in to the Print Orders area: a buyer's user (who orders) or a supplier's
    user (who goes to PrintPLANR as that supplier), or neither (sees every order)."""

    __tablename__ = "cpras_operators"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Signing out ends every session of the operator that began before it.
    signed_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    buyer_id: Mapped[str | None] = mapped_column(ForeignKey("cpras_buyers.buyer_id"))
    supplier_id: Mapped[str | None] = mapped_column(ForeignKey("cpras_suppliers.supplier_id"))


class Handoff(Base):
    """A hand-off to PrintPLANR and its way back: the `state` its return URL carries (bound to
    the operator and browser session that started it), and the one-time code PrintPLANR
    exchanges for it. Only hashes of the session and the code are kept."""

    __tablename__ = "cpras_handoffs"

    handoff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # buyer or supplier
    username: Mapped[str] = mapped_column(String(128))
    session_hash: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(128))  # the OAuth client that may consume its code
    project_id: Mapped[str] = mapped_column(String(128))
    lot_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(64), unique=True)  # not secret alone: a return needs the session too
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
