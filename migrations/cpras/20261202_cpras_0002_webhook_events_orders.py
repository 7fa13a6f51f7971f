"""cpras webhook events, supplier links and print orders

Revision ID: cpras_0002
Revises: cpras_0001
Create Date: 2026-12-02 11:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cpras_0002"
down_revision: str | None = "cpras_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cpras_webhook_events",
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_cpras_webhook_events")),
    )
    op.create_table(
        "cpras_supplier_links",
        sa.Column("supplier_id", sa.String(length=128), nullable=False),
        sa.Column("supplier_external_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_id", sa.String(length=160), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_cpras_supplier_links")),
    )
    op.create_table(
        "cpras_print_orders",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("buyer_id", sa.String(length=128), nullable=True),
        sa.Column("project_id", sa.String(length=128), nullable=True),
        sa.Column("lot_id", sa.String(length=128), nullable=True),
        sa.Column("supplier_id", sa.String(length=128), nullable=True),
        sa.Column("total", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_id", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_cpras_print_orders")),
    )
    op.create_index("ix_cpras_print_orders_status", "cpras_print_orders", ["status", "last_event_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cpras_print_orders_status", table_name="cpras_print_orders")
    op.drop_table("cpras_print_orders")
    op.drop_table("cpras_supplier_links")
    op.drop_table("cpras_webhook_events")
