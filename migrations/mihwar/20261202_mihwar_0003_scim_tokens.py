"""mihwar SCIM tokens

Revision ID: mihwar_0003
Revises: mihwar_0002
Create Date: 2026-12-02 06:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mihwar_0003'
down_revision: str | None = 'mihwar_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mihwar_scim_tokens',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_scim_tokens_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_scim_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_mihwar_scim_tokens_secret_hash'))
    )
    with op.batch_alter_table('mihwar_scim_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_scim_tokens_organization_id', ['organization_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mihwar_scim_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_scim_tokens_organization_id')

    op.drop_table('mihwar_scim_tokens')
