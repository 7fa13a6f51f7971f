"""mihwar users, sessions, webhook subscriptions, checklists

Revision ID: mihwar_0002
Revises: mihwar_0001
Create Date: 2026-12-02 05:10:09.837652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mihwar_0002'
down_revision: str | None = 'mihwar_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mihwar_checklist_templates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_checklist_templates_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_checklist_templates'))
    )
    with op.batch_alter_table('mihwar_checklist_templates', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_checklist_templates_organization_id', ['organization_id'], unique=False)

    op.create_table('mihwar_users',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_users_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_users')),
    sa.UniqueConstraint('email', name=op.f('uq_mihwar_users_email'))
    )
    with op.batch_alter_table('mihwar_users', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_users_organization_id', ['organization_id'], unique=False)

    op.create_table('mihwar_webhook_subscriptions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('events', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_webhook_subscriptions_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_webhook_subscriptions'))
    )
    with op.batch_alter_table('mihwar_webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_webhook_subscriptions_organization_id', ['organization_id', 'created_at'], unique=False)

    op.create_table('mihwar_checklist_instances',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('template_id', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_user_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['completed_by_user_id'], ['mihwar_users.id'], name=op.f('fk_mihwar_checklist_instances_completed_by_user_id_mihwar_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_checklist_instances_organization_id_mihwar_organizations')),
    sa.ForeignKeyConstraint(['template_id'], ['mihwar_checklist_templates.id'], name=op.f('fk_mihwar_checklist_instances_template_id_mihwar_checklist_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_checklist_instances'))
    )
    with op.batch_alter_table('mihwar_checklist_instances', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_checklist_instances_overdue', ['status', 'due_at'], unique=False)

    op.create_table('mihwar_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['mihwar_users.id'], name=op.f('fk_mihwar_sessions_user_id_mihwar_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_mihwar_sessions_token_hash'))
    )
    with op.batch_alter_table('mihwar_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_sessions_expires_at', ['expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mihwar_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_sessions_expires_at')

    op.drop_table('mihwar_sessions')
    with op.batch_alter_table('mihwar_checklist_instances', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_checklist_instances_overdue')

    op.drop_table('mihwar_checklist_instances')
    with op.batch_alter_table('mihwar_webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_webhook_subscriptions_organization_id')

    op.drop_table('mihwar_webhook_subscriptions')
    with op.batch_alter_table('mihwar_users', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_users_organization_id')

    op.drop_table('mihwar_users')
    with op.batch_alter_table('mihwar_checklist_templates', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_checklist_templates_organization_id')

    op.drop_table('mihwar_checklist_templates')
