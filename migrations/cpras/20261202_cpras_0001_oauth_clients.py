"""cpras OAuth clients of the token endpoint

Revision ID: cpras_0001
Revises:
Create Date: 2026-12-02 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cpras_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("cpras",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cpras_oauth_clients",
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_cpras_oauth_clients")),
    )


def downgrade() -> None:
    op.drop_table("cpras_oauth_clients")
