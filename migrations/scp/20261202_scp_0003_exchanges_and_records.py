"""scp exchange log entries (and the pushes waiting for the worker), and the records pushes stored

Revision ID: scp_0003
Revises: scp_0002
Create Date: 2026-12-02 18:36:11.150707
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scp_0003"
down_revision: str | None = "scp_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scp_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("consents", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_records_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scp_records")),
    )
    with op.batch_alter_table("scp_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_records_exchange_id"), ["exchange_id"], unique=False)
        batch_op.create_index("ix_scp_records_tenant_id", ["tenant_id", "id"], unique=False)

    op.create_table(
        "scp_exchanges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=True),
        sa.Column("contract_version_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("omitted_record_count", sa.Integer(), nullable=True),
        sa.Column("masked_fields", sa.JSON(), nullable=False),
        sa.Column("failure", sa.JSON(), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["scp_integrations.integration_id"],
            name=op.f("fk_scp_exchanges_integration_id_scp_integrations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_exchanges_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scp_exchanges")),
        sa.UniqueConstraint("exchange_id", name=op.f("uq_scp_exchanges_exchange_id")),
    )
    with op.batch_alter_table("scp_exchanges", schema=None) as batch_op:
        batch_op.create_index("ix_scp_exchanges_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_scp_exchanges_integration_received", ["integration_id", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scp_exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_scp_exchanges_integration_received")
        batch_op.drop_index("ix_scp_exchanges_due")

    op.drop_table("scp_exchanges")
    with op.batch_alter_table("scp_records", schema=None) as batch_op:
        batch_op.drop_index("ix_scp_records_tenant_id")
        batch_op.drop_index(batch_op.f("ix_scp_records_exchange_id"))

    op.drop_table("scp_records")
