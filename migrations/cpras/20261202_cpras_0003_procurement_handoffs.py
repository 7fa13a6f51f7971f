"""cpras procurement data (buyers, suppliers, frameworks, lots, projects, contracts), operators and hand-offs

Revision ID: cpras_0003
Revises: cpras_0002
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cpras_0003"
down_revision: str | None = "cpras_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cpras_buyers",
        sa.Column("buyer_id", sa.String(length=128), nullable=False),
        sa.Column("org_name", sa.String(length=256), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("buyer_id", name=op.f("pk_cpras_buyers")),
    )
    op.create_table(
        "cpras_suppliers",
        sa.Column("supplier_id", sa.String(length=128), nullable=False),
        sa.Column("company_name", sa.String(length=256), nullable=False),
        sa.Column("primary_email", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_cpras_suppliers")),
    )
    op.create_table(
        "cpras_frameworks",
        sa.Column("framework_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("framework_id", name=op.f("pk_cpras_frameworks")),
    )
    op.create_table(
        "cpras_lots",
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("framework_id", sa.String(length=128), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["cpras_frameworks.framework_id"],
            name=op.f("fk_cpras_lots_framework_id_cpras_frameworks"),
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_cpras_lots")),
    )
    op.create_index(op.f("ix_cpras_lots_framework_id"), "cpras_lots", ["framework_id"], unique=False)
    op.create_table(
        "cpras_projects",
        sa.Column("project_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("framework_id", sa.String(length=128), nullable=False),
        sa.Column("buyer_id", sa.String(length=128), nullable=True),
        sa.Column("pricing_display", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["cpras_buyers.buyer_id"], name=op.f("fk_cpras_projects_buyer_id_cpras_buyers")
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["cpras_frameworks.framework_id"],
            name=op.f("fk_cpras_projects_framework_id_cpras_frameworks"),
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_cpras_projects")),
    )
    op.create_index(op.f("ix_cpras_projects_buyer_id"), "cpras_projects", ["buyer_id"], unique=False)
    op.create_table(
        "cpras_contracts",
        sa.Column("contract_id", sa.String(length=128), nullable=False),
        sa.Column("framework_id", sa.String(length=128), nullable=False),
        sa.Column("supplier_id", sa.String(length=128), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["cpras_frameworks.framework_id"],
            name=op.f("fk_cpras_contracts_framework_id_cpras_frameworks"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["cpras_projects.project_id"], name=op.f("fk_cpras_contracts_project_id_cpras_projects")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["cpras_suppliers.supplier_id"],
            name=op.f("fk_cpras_contracts_supplier_id_cpras_suppliers"),
        ),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_cpras_contracts")),
    )
    op.create_index(op.f("ix_cpras_contracts_project_id"), "cpras_contracts", ["project_id"], unique=False)
    op.create_index(op.f("ix_cpras_contracts_supplier_id"), "cpras_contracts", ["supplier_id"], unique=False)
    op.create_table(
        "cpras_contract_lots",
        sa.Column("contract_id", sa.String(length=128), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["cpras_contracts.contract_id"],
            name=op.f("fk_cpras_contract_lots_contract_id_cpras_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["cpras_lots.lot_id"], name=op.f("fk_cpras_contract_lots_lot_id_cpras_lots")
        ),
        sa.PrimaryKeyConstraint("contract_id", "lot_id", name=op.f("pk_cpras_contract_lots")),
    )
    op.create_table(
        "cpras_operators",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("buyer_id", sa.String(length=128), nullable=True),
        sa.Column("supplier_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["cpras_buyers.buyer_id"], name=op.f("fk_cpras_operators_buyer_id_cpras_buyers")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["cpras_suppliers.supplier_id"],
            name=op.f("fk_cpras_operators_supplier_id_cpras_suppliers"),
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_cpras_operators")),
    )
    op.create_table(
        "cpras_handoffs",
        sa.Column("handoff_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_cpras_handoffs")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_cpras_handoffs_code_hash")),
        sa.UniqueConstraint("state", name=op.f("uq_cpras_handoffs_state")),
    )


def downgrade() -> None:
    op.drop_table("cpras_handoffs")
    op.drop_table("cpras_operators")
    op.drop_table("cpras_contract_lots")
    op.drop_index(op.f("ix_cpras_contracts_supplier_id"), table_name="cpras_contracts")
    op.drop_index(op.f("ix_cpras_contracts_project_id"), table_name="cpras_contracts")
    op.drop_table("cpras_contracts")
    op.drop_index(op.f("ix_cpras_projects_buyer_id"), table_name="cpras_projects")
    op.drop_table("cpras_projects")
    op.drop_index(op.f("ix_cpras_lots_framework_id"), table_name="cpras_lots")
    op.drop_table("cpras_lots")
    op.drop_table("cpras_frameworks")
    op.drop_table("cpras_suppliers")
    op.drop_table("cpras_buyers")
