"""order idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 13:29:02.403054
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_accept_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_order_accept_orders_customer_id_idempotency_key"), ["customer_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("order_accept_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_order_accept_orders_customer_id_idempotency_key"), type_="unique")
        batch_op.drop_column("request_fingerprint")
        batch_op.drop_column("idempotency_key")

