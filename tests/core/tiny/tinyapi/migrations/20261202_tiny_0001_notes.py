"""tiny notes

Revision ID: tiny_0001
Revises:
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tiny_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("tiny",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tiny_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiny_notes")),
    )


def downgrade() -> None:
    op.drop_table("tiny_notes")
