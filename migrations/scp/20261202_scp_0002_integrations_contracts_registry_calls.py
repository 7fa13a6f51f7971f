"""scp integrations and contracts with their versions, verticals, registry templates, call log

Revision ID: scp_0002
Revises: scp_0001
Create Date: 2026-12-02 17:56:41.589946
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scp_0002"
down_revision: str | None = "scp_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scp_audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scp_audit_log")),
    )
    with op.batch_alter_table("scp_audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_audit_log_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_scp_audit_log_tenant_at", ["tenant_id", "at"], unique=False)

    op.create_table(
        "scp_verticals",
        sa.Column("vertical_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vertical_id", name=op.f("pk_scp_verticals")),
    )
    op.create_table(
        "scp_integrations",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("integration_name", sa.String(length=200), nullable=False),
        sa.Column("partner_name", sa.String(length=200), nullable=False),
        sa.Column("partner_type", sa.String(length=64), nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_contract_ref", sa.String(length=200), nullable=True),
        sa.Column("template_id", sa.String(length=36), nullable=True),
        sa.Column("auth_client_id", sa.String(length=128), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deprecated_from", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("review_notes", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reason_code", sa.String(length=64), nullable=True),
        sa.Column("last_reason_text", sa.Text(), nullable=True),
        sa.Column("last_reason_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_integrations_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("integration_id", name=op.f("pk_scp_integrations")),
    )
    with op.batch_alter_table("scp_integrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_integrations_status"), ["status"], unique=False)
        batch_op.create_index("ix_scp_integrations_tenant_created", ["tenant_id", "created_at"], unique=False)

    op.create_table(
        "scp_templates",
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("template_name", sa.String(length=200), nullable=False),
        sa.Column("partner_type", sa.String(length=64), nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contract_template", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_templates_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("template_id", name=op.f("pk_scp_templates")),
    )
    with op.batch_alter_table("scp_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_templates_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "scp_contracts",
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("data_categories", sa.JSON(), nullable=False),
        sa.Column("field_list", sa.JSON(), nullable=False),
        sa.Column("consent_requirements", sa.JSON(), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archive_reason_code", sa.String(length=64), nullable=True),
        sa.Column("archive_reason_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["scp_integrations.integration_id"],
            name=op.f("fk_scp_contracts_integration_id_scp_integrations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["scp_tenants.tenant_id"], name=op.f("fk_scp_contracts_tenant_id_scp_tenants")
        ),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_scp_contracts")),
    )
    with op.batch_alter_table("scp_contracts", schema=None) as batch_op:
        batch_op.create_index("ix_scp_contracts_integration", ["integration_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_scp_contracts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "scp_integration_versions",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["scp_integrations.integration_id"],
            name=op.f("fk_scp_integration_versions_integration_id_scp_integrations"),
        ),
        sa.PrimaryKeyConstraint("integration_id", "version_id", name=op.f("pk_scp_integration_versions")),
    )
    op.create_table(
        "scp_integration_verticals",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("vertical_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["scp_integrations.integration_id"],
            name=op.f("fk_scp_integration_verticals_integration_id_scp_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "vertical_id", name=op.f("pk_scp_integration_verticals")),
    )
    with op.batch_alter_table("scp_integration_verticals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scp_integration_verticals_vertical_id"), ["vertical_id"], unique=False)

    op.create_table(
        "scp_contract_versions",
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["scp_contracts.contract_id"],
            name=op.f("fk_scp_contract_versions_contract_id_scp_contracts"),
        ),
        sa.PrimaryKeyConstraint("contract_id", "version_id", name=op.f("pk_scp_contract_versions")),
    )
    with op.batch_alter_table("scp_oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("integration_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_scp_oauth_clients_integration_id"), ["integration_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scp_oauth_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_oauth_clients_integration_id"))
        batch_op.drop_column("integration_id")

    op.drop_table("scp_contract_versions")
    with op.batch_alter_table("scp_integration_verticals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_integration_verticals_vertical_id"))

    op.drop_table("scp_integration_verticals")
    op.drop_table("scp_integration_versions")
    with op.batch_alter_table("scp_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_contracts_tenant_id"))
        batch_op.drop_index("ix_scp_contracts_integration")

    op.drop_table("scp_contracts")
    with op.batch_alter_table("scp_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scp_templates_tenant_id"))

    op.drop_table("scp_templates")
    with op.batch_alter_table("scp_integrations", schema=None) as batch_op:
        batch_op.drop_index("ix_scp_integrations_tenant_created")
        batch_op.drop_index(batch_op.f("ix_scp_integrations_status"))

    op.drop_table("scp_integrations")
    op.drop_table("scp_verticals")
    with op.batch_alter_table("scp_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_scp_audit_log_tenant_at")
        batch_op.drop_index(batch_op.f("ix_scp_audit_log_request_id"))

    op.drop_table("scp_audit_log")
