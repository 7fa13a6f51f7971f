"""order accept schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 13:13:49.517146
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_accept_customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_accept_customers")),
        sa.UniqueConstraint(
            "external_customer_id",
            name=op.f("uq_order_accept_customers_external_customer_id"),
        ),
    )
    op.create_table(
        "order_accept_products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_product_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("vendor", sa.String(length=64), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("discount", sa.Integer(), nullable=False),
        sa.Column("billing_period", sa.String(length=16), nullable=False),
        sa.Column("is_subscription", sa.Boolean(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_soft_deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_accept_products")),
        sa.UniqueConstraint(
            "external_product_id",
            name=op.f("uq_order_accept_products_external_product_id"),
        ),
    )
    with op.batch_alter_table("order_accept_products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_accept_products_listing",
            ["is_active", "is_soft_deleted", "name"],
            unique=False,
        )

    op.create_table(
        "order_accept_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("is_soft_deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["order_accept_customers.id"],
            name=op.f("fk_order_accept_orders_customer_id_order_accept_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_accept_orders")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_order_accept_orders_correlation_id")),
    )
    with op.batch_alter_table("order_accept_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_accept_orders_listing",
            ["customer_id", "is_soft_deleted", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "order_accept_order_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "order_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "product_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("is_soft_deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["order_accept_orders.id"],
            name=op.f("fk_order_accept_order_items_order_id_order_accept_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["order_accept_products.id"],
            name=op.f("fk_order_accept_order_items_product_id_order_accept_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_accept_order_items")),
    )
    with op.batch_alter_table("order_accept_order_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_accept_order_items_order_id"),
            ["order_id"],
            unique=False,
        )



def downgrade() -> None:
    with op.batch_alter_table("order_accept_order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_accept_order_items_order_id"))

    op.drop_table("order_accept_order_items")
    with op.batch_alter_table("order_accept_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_order_accept_orders_listing")

    op.drop_table("order_accept_orders")
    with op.batch_alter_table("order_accept_products", schema=None) as batch_op:
        batch_op.drop_index("ix_order_accept_products_listing")

    op.drop_table("order_accept_products")
    op.drop_table("order_accept_customers")
