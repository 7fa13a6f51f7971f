"""scp tenants and oauth clients

Revision ID: scp_0001
Revises:
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scp_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("scp",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scp_tenants",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_scp_tenants")),
    )
    op.create_table(
        "scp_oauth_clients",
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_oauth_clients_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_scp_oauth_clients")),
    )
    op.create_index(op.f("ix_scp_oauth_clients_tenant_id"), "scp_oauth_clients", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scp_oauth_clients_tenant_id"), table_name="scp_oauth_clients")
    op.drop_table("scp_oauth_clients")
    op.drop_table("scp_tenants")
