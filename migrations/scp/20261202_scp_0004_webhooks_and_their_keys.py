"""scp webhook subscriptions and their Ed25519 signing keys

Revision ID: scp_0004
Revises: scp_0003
Create Date: 2026-12-02 18:48:29.183415
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scp_0004"
down_revision: str | None = "scp_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scp_webhooks",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("target_url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_key_id", sa.String(length=68), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disable_reason_code", sa.String(length=64), nullable=True),
        sa.Column("disable_reason_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["scp_integrations.integration_id"],
            name=op.f("fk_scp_webhooks_integration_id_scp_integrations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_webhooks_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_scp_webhooks")),
    )
    with op.batch_alter_table("scp_webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_scp_webhooks_integration", ["integration_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_scp_webhooks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "scp_webhook_keys",
        sa.Column("key_id", sa.String(length=68), nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["scp_webhooks.webhook_id"], name=op.f("fk_scp_webhook_keys_webhook_id_scp_webhooks")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_scp_webhook_keys")),
    )
    with op.batch_alter_table("scp_webhook_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_webhook_keys_webhook_id"), ["webhook_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scp_webhook_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_webhook_keys_webhook_id"))

    op.drop_table("scp_webhook_keys")
    with op.batch_alter_table("scp_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_webhooks_tenant_id"))
        batch_op.drop_index("ix_scp_webhooks_integration")

    op.drop_table("scp_webhooks")
