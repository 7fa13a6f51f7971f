"""Order-Accept tables, with the source contract's columns (ExternalProductId -> external_product_id)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import BigId, Money, Timestamps
from core.database import Base


class Product(Timestamps, Base):
    __tablename__ = "order_accept_products"
    __table_args__ = (Index("ix_order_accept_products_listing", "is_active", "is_soft_deleted", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_product_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    vendor: Mapped[str] = mapped_column(String(64))
    image_url: Mapped[str | None] = mapped_column(String(500))
    discount: Mapped[int] = mapped_column(Integer, default=0)
    billing_period: Mapped[str] = mapped_column(String(16))
    is_subscription: Mapped[bool] = mapped_column(Boolean, default=False)
    price: Mapped[Decimal] = mapped_column(Money)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_soft_deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Customer(Timestamps, Base):
    __tablename__ = "order_accept_customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_customer_id: Mapped[str] = mapped_column(String(255), unique=True)


class Order(Timestamps, Base):
    __tablename__ = "order_accept_orders"
    __table_args__ = (
        Index("ix_order_accept_orders_listing", "customer_id", "is_soft_deleted", "created_at", "id"),
        UniqueConstraint("customer_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("order_accept_customers.id"))
    correlation_id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4, unique=True)
    is_soft_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the client sent an Idempotency-Key; the fingerprint identifies the request's lines.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        order_by="OrderItem.id",
        primaryjoin="and_(Order.id == OrderItem.order_id, OrderItem.is_soft_deleted == False)",
        cascade="all, delete-orphan",
    )


class OrderItem(Timestamps, Base):
    __tablename__ = "order_accept_order_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order_accept_orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("order_accept_products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    is_soft_deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship(lazy="joined")
