"""mihwar SCIM users keep displayName, name.formatted, active and emails.primary as given

Revision ID: mihwar_0005
Revises: mihwar_0004
Create Date: 2026-12-02 10:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mihwar_0005'
down_revision: str | None = 'mihwar_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mihwar_users') as batch:
        batch.add_column(sa.Column('display_name', sa.String(length=256), nullable=True))
        batch.add_column(sa.Column('formatted_name', sa.String(length=256), nullable=True))
        batch.add_column(sa.Column('active_stated', sa.Boolean(), nullable=True))
    with op.batch_alter_table('mihwar_user_emails') as batch:
        batch.alter_column('primary', existing_type=sa.Boolean(), nullable=True)
    # What was reported before stays reported: the name as displayName, active as stated,
    # and a non-primary address without `primary`.
    op.execute(sa.text('UPDATE mihwar_users SET display_name = name, active_stated = active'))
    op.execute(sa.text('UPDATE mihwar_user_emails SET "primary" = NULL WHERE "primary" = false'))


def downgrade() -> None:
    op.execute(sa.text('UPDATE mihwar_user_emails SET "primary" = false WHERE "primary" IS NULL'))
    with op.batch_alter_table('mihwar_user_emails') as batch:
        batch.alter_column('primary', existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table('mihwar_users') as batch:
        batch.drop_column('active_stated')
        batch.drop_column('formatted_name')
        batch.drop_column('display_name')
