"""IDL tables: users, reference data (projects, cost codes, vendors, tax codes), purchase orders.

Money is `Numeric(12, 2)`: every amount is capped at 9,999,999,999.99 (see models.idl.money),
which also keeps it exact in a JSON number. Quantities have 3 decimal places.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import BigId, Money, Timestamps, utcnow
from core.database import Base

Quantity = Numeric(12, 3)
Rate = Numeric(5, 2)


class UserProject(Base):
    __tablename__ = "idl_user_projects"

    user_id: Mapped[int] = mapped_column(ForeignKey("idl_users.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("idl_projects.id"), primary_key=True)


class User(Timestamps, Base):
    __tablename__ = "idl_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    authorization_limit: Mapped[Decimal] = mapped_column(Money)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    projects: Mapped[list[UserProject]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserProject.project_id
    )

    @property
    def project_ids(self) -> list[str]:
        return [link.project_id for link in self.projects]


class Project(Timestamps, Base):
    """A JobCost project. `job_number` prefixes its P/O numbers; `last_po_sequence` numbers them."""

    __tablename__ = "idl_projects"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    job_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    budget: Mapped[Decimal] = mapped_column(Money)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    last_po_sequence: Mapped[int] = mapped_column(Integer, default=0)


class CostCode(Timestamps, Base):
    """A JobCost cost code; its id is unique within its project."""

    __tablename__ = "idl_cost_codes"

    project_id: Mapped[str] = mapped_column(ForeignKey("idl_projects.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    budget: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Vendor(Timestamps, Base):
    """A Timberline vendor."""

    __tablename__ = "idl_vendors"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(500))
    payment_terms: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TaxCode(Base):
    """A tax code and its rate in percent, e.g. GP at 12.00."""

    __tablename__ = "idl_tax_codes"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    rate: Mapped[Decimal] = mapped_column(Rate)


class PurchaseOrder(Timestamps, Base):
    __tablename__ = "idl_purchase_orders"
    __table_args__ = (
        Index("ix_idl_purchase_orders_project_created", "project_id", "created_at"),
        ForeignKeyConstraint(["project_id", "cost_code"], ["idl_cost_codes.project_id", "idl_cost_codes.id"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    po_number: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("idl_projects.id"))
    cost_code: Mapped[str] = mapped_column(String(50))
    vendor_name: Mapped[str] = mapped_column(String(200))
    vendor_contact_name: Mapped[str | None] = mapped_column(String(200))
    vendor_email: Mapped[str | None] = mapped_column(String(254))
    vendor_phone: Mapped[str | None] = mapped_column(String(50))
    vendor_address: Mapped[str | None] = mapped_column(String(500))
    subtotal: Mapped[Decimal] = mapped_column(Money)
    tax_amount: Mapped[Decimal] = mapped_column(Money)
    total_amount: Mapped[Decimal] = mapped_column(Money)
    ceiling_amount: Mapped[Decimal | None] = mapped_column(Money)
    urgency_justification: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("idl_users.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("idl_users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    line_items: Mapped[list[LineItem]] = relationship(
        cascade="all, delete-orphan", order_by="LineItem.line_number", lazy="selectin"
    )
    approvals: Mapped[list[Approval]] = relationship(
        cascade="all, delete-orphan", order_by="Approval.id", lazy="selectin"
    )


class LineItem(Base):
    __tablename__ = "idl_line_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("idl_purchase_orders.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    category: Mapped[str] = mapped_column(String(10))
    tax_code: Mapped[str] = mapped_column(ForeignKey("idl_tax_codes.code"))
    tax_rate: Mapped[Decimal] = mapped_column(Rate)
    tax_amount: Mapped[Decimal] = mapped_column(Money)
    line_total: Mapped[Decimal] = mapped_column(Money)


class Approval(Base):
    """One approval request: pending from submission until the approver decides."""

    __tablename__ = "idl_approvals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("idl_purchase_orders.id"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("idl_users.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    comments: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    approver: Mapped[User] = relationship(lazy="joined")


class Attachment(Base):
    """A file attached to a purchase order; the bytes are on disk under `stored_filename`."""

    __tablename__ = "idl_files"
    # Files are deleted for good; on SQLite, AUTOINCREMENT keeps their ids from being reused.
    __table_args__ = (Index("ix_idl_files_scan_status", "virus_scan_status"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("idl_purchase_orders.id"), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    stored_filename: Mapped[str] = mapped_column(String(300), unique=True)
    file_size: Mapped[int] = mapped_column(BigId)
    mime_type: Mapped[str] = mapped_column(String(100))
    virus_scan_status: Mapped[str] = mapped_column(String(16), default="pending")
    scan_result: Mapped[str | None] = mapped_column(String(200))
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A scan that fails is retried later, backing off, so one stuck file never holds up the queue.
    scan_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_scan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("idl_users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    uploaded_by: Mapped[User] = relationship(lazy="joined")
