"""Mihwar tables. Every row belongs to one organization (the tenant), directly or through its parent.

Public ids are short random strings with a prefix that says what they name (`item_…`), as
the spec's cuid-like `ResourceId` has them: they reveal neither how many rows there are nor
which came first. Order-history lines are never addressed by id, so theirs is a plain
integer, the cheapest key for the largest table.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Double, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import BigId, Money, Timestamps, utcnow
from core.database import Base

ENTERPRISE = "ENTERPRISE"
PLANS = (ENTERPRISE, "STANDARD")


def new_id(prefix: str) -> str:
    """A public id: `prefix_` and 16 URL-safe characters (96 random bits)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


class Organization(Base):
    __tablename__ = "mihwar_organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("org"))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(16))
    api_access: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_enterprise(self) -> bool:
        return self.plan == ENTERPRISE


class HashedCredential:
    """A secret an organization authenticates with: only its hash is kept, and a prefix to
    recognise it by (API keys and SCIM tokens alike)."""

    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(HashedCredential, Base):
    """An organization's API key, for the integrations API."""

    __tablename__ = "mihwar_api_keys"
    __table_args__ = (Index("ix_mihwar_api_keys_organization_id", "organization_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("key"))


class ScimToken(HashedCredential, Base):
    """An Enterprise organization's SCIM provisioning token."""

    __tablename__ = "mihwar_scim_tokens"
    __table_args__ = (Index("ix_mihwar_scim_tokens_organization_id", "organization_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("scimtok"))


class InventoryItem(Timestamps, Base):
    __tablename__ = "mihwar_inventory_items"
    __table_args__ = (
        UniqueConstraint("organization_id", "sku"),
        Index("ix_mihwar_inventory_items_sync", "organization_id", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("item"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    sku: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    unit: Mapped[str | None] = mapped_column(String(32))
    current_stock: Mapped[float] = mapped_column(Double, default=0.0)
    low_stock_threshold: Mapped[float | None] = mapped_column(Double)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Supplier(Base):
    __tablename__ = "mihwar_suppliers"
    __table_args__ = (Index("ix_mihwar_suppliers_organization_id", "organization_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("supp"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    name: Mapped[str] = mapped_column(String(256))


class PurchaseOrder(Timestamps, Base):
    __tablename__ = "mihwar_purchase_orders"
    __table_args__ = (
        Index("ix_mihwar_purchase_orders_listing", "organization_id", "created_at", "id"),
        Index("ix_mihwar_purchase_orders_by_status", "organization_id", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("po"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    reference: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[str | None] = mapped_column(ForeignKey("mihwar_suppliers.id"))
    currency: Mapped[str | None] = mapped_column(String(3))
    total_cost: Mapped[Decimal | None] = mapped_column(Money)
    expected_delivery_date: Mapped[date | None] = mapped_column(Date)


class PurchaseOrderLine(Base):
    __tablename__ = "mihwar_purchase_order_lines"
    __table_args__ = (Index("ix_mihwar_purchase_order_lines_order_id", "order_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("pol"))
    order_id: Mapped[str] = mapped_column(ForeignKey("mihwar_purchase_orders.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("mihwar_inventory_items.id"))
    ordered_qty: Mapped[float] = mapped_column(Double)
    received_qty: Mapped[float] = mapped_column(Double, default=0.0)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)


class ImportBatch(Base):
    """One import of order-history lines (an ingestion request, or an import in the web app)."""

    __tablename__ = "mihwar_import_batches"
    __table_args__ = (Index("ix_mihwar_import_batches_organization_id", "organization_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("batch"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("mihwar_api_keys.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    external_source_id: Mapped[str | None] = mapped_column(String(256))
    inserted: Mapped[int] = mapped_column(Integer)
    auto_created_items: Mapped[int] = mapped_column(Integer)
    skipped_unknown_sku: Mapped[int] = mapped_column(Integer)
    skipped_bad_date: Mapped[int] = mapped_column(Integer)
    latest_order_date: Mapped[date | None] = mapped_column(Date)  # of its lines; None when it has none
    item_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # the items its lines are of
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OrderHistoryLine(Base):
    """One ingested line of order history: what was ordered of an item on a day.

    The largest table, written 5000 rows a request, so it carries only the index forecasting
    reads it by, and no foreign keys: checking three per row would cost more than inserting
    the rows. The ingestion service keeps them true instead: it writes only the item ids it
    read or created, and the batch it created, in the same transaction; items are archived,
    never deleted.
    """

    __tablename__ = "mihwar_order_history_lines"
    __table_args__ = (Index("ix_mihwar_order_history_lines_item", "item_id", "order_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(String(32))
    import_batch_id: Mapped[str] = mapped_column(String(32))
    order_date: Mapped[date] = mapped_column(Date)
    ordered_qty: Mapped[float] = mapped_column(Double)
    delivered_qty: Mapped[float] = mapped_column(Double)


class Prediction(Base):
    __tablename__ = "mihwar_predictions"
    __table_args__ = (
        Index("ix_mihwar_predictions_listing", "organization_id", "generated_at", "id"),
        Index("ix_mihwar_predictions_by_item", "organization_id", "item_id", "generated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("pred"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("mihwar_inventory_items.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    predicted_qty: Mapped[float] = mapped_column(Double)
    lower_bound: Mapped[float | None] = mapped_column(Double)
    upper_bound: Mapped[float | None] = mapped_column(Double)
    method: Mapped[str] = mapped_column(String(16))
    horizon: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


ADMIN, MEMBER = "ADMIN", "MEMBER"
ROLES = (ADMIN, MEMBER)


class AppUser(Base):
    """A person of an organization, who uses the web app (and, as an administrator, its
    settings). The SCIM attributes are kept as columns: `user_name` is unique per
    organization whatever its letter case (`user_name_key`), `email` is the sign-in address
    (unique across organizations, and absent for a provisioned user who has none), `name`
    the name the app shows (derived from the SCIM names), `version` counts changes (the SCIM ETag)."""

    __tablename__ = "mihwar_users"
    __table_args__ = (
        Index("ix_mihwar_users_organization_id", "organization_id"),
        UniqueConstraint("organization_id", "user_name_key"),
        Index("ix_mihwar_users_external_id", "organization_id", "external_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("user"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_name: Mapped[str] = mapped_column(String(256))
    user_name_key: Mapped[str] = mapped_column(String(256))
    external_id: Mapped[str | None] = mapped_column(String(256))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(256))  # SCIM `displayName`, as given
    formatted_name: Mapped[str | None] = mapped_column(String(256))  # SCIM `name.formatted`, as given
    # SCIM `active` as the identity provider stated it (None: unsaid); `active` is what the app
    # reads: a user may sign in unless this is false.
    active_stated: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Deprovisioned by a SCIM DELETE: no longer a user (nor a SCIM resource), its data kept.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserEmail(Base):
    """One of a user's SCIM `emails`; `value_key` is the address in lower case, for filters."""

    __tablename__ = "mihwar_user_emails"
    __table_args__ = (
        Index("ix_mihwar_user_emails_user_id", "user_id"),
        Index("ix_mihwar_user_emails_value", "value_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("mihwar_users.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(254))
    value_key: Mapped[str] = mapped_column(String(254))
    type: Mapped[str | None] = mapped_column(String(32))
    primary: Mapped[bool | None] = mapped_column(Boolean)  # None: unsaid


class Group(Base):
    """A SCIM group of an organization: a role. Its members have `role` in Mihwar."""

    __tablename__ = "mihwar_groups"
    __table_args__ = (
        UniqueConstraint("organization_id", "display_name_key"),
        Index("ix_mihwar_groups_external_id", "organization_id", "external_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("grp"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    display_name: Mapped[str] = mapped_column(String(256))
    display_name_key: Mapped[str] = mapped_column(String(256))
    external_id: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupMember(Base):
    __tablename__ = "mihwar_group_members"
    __table_args__ = (Index("ix_mihwar_group_members_user_id", "user_id"),)

    group_id: Mapped[str] = mapped_column(ForeignKey("mihwar_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("mihwar_users.id", ondelete="CASCADE"), primary_key=True)


class ScimAudit(Base):
    """One provisioning change: which token made it, to what, and when."""

    __tablename__ = "mihwar_scim_audit"
    __table_args__ = (Index("ix_mihwar_scim_audit_organization", "organization_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    token_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BrowserSession(Base):
    """A signed-in browser: the `mihwar_session` cookie's token, kept only as a hash."""

    __tablename__ = "mihwar_sessions"
    __table_args__ = (Index("ix_mihwar_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("sess"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("mihwar_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookSubscription(Base):
    """Where an organization's events are POSTed; `events` None means every event type."""

    __tablename__ = "mihwar_webhook_subscriptions"
    __table_args__ = (Index("ix_mihwar_webhook_subscriptions_organization_id", "organization_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("hook"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChecklistTemplate(Base):
    __tablename__ = "mihwar_checklist_templates"
    __table_args__ = (Index("ix_mihwar_checklist_templates_organization_id", "organization_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("tpl"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    title: Mapped[str] = mapped_column(String(200))


OPEN, COMPLETED, MISSED = "OPEN", "COMPLETED", "MISSED"


class ChecklistInstance(Base):
    """One run of a checklist: open until completed, or missed once its due time passes."""

    __tablename__ = "mihwar_checklist_instances"
    __table_args__ = (Index("ix_mihwar_checklist_instances_overdue", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("inst"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("mihwar_organizations.id"))
    template_id: Mapped[str] = mapped_column(ForeignKey("mihwar_checklist_templates.id"))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("mihwar_users.id"))
