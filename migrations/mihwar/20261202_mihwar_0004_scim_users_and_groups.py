"""mihwar SCIM users, emails, groups (roles), memberships and audit

Revision ID: mihwar_0004
Revises: mihwar_0003
Create Date: 2026-12-02 07:02:17.910151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mihwar_0004'
down_revision: str | None = 'mihwar_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mihwar_groups',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=256), nullable=False),
    sa.Column('display_name_key', sa.String(length=256), nullable=False),
    sa.Column('external_id', sa.String(length=256), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_groups_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_groups')),
    sa.UniqueConstraint('organization_id', 'display_name_key', name=op.f('uq_mihwar_groups_organization_id_display_name_key'))
    )
    with op.batch_alter_table('mihwar_groups', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_groups_external_id', ['organization_id', 'external_id'], unique=False)

    op.create_table('mihwar_scim_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('resource_type', sa.String(length=16), nullable=False),
    sa.Column('resource_id', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_scim_audit_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_scim_audit'))
    )
    with op.batch_alter_table('mihwar_scim_audit', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_scim_audit_organization', ['organization_id', 'at'], unique=False)

    op.create_table('mihwar_group_members',
    sa.Column('group_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['mihwar_groups.id'], name=op.f('fk_mihwar_group_members_group_id_mihwar_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['mihwar_users.id'], name=op.f('fk_mihwar_group_members_user_id_mihwar_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_mihwar_group_members'))
    )
    with op.batch_alter_table('mihwar_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_group_members_user_id', ['user_id'], unique=False)

    op.create_table('mihwar_user_emails',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('value_key', sa.String(length=254), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=True),
    sa.Column('primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['mihwar_users.id'], name=op.f('fk_mihwar_user_emails_user_id_mihwar_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_user_emails'))
    )
    with op.batch_alter_table('mihwar_user_emails', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_user_emails_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_mihwar_user_emails_value', ['value_key'], unique=False)

    # The SCIM attributes of existing users: userName is their sign-in address, and it is
    # their one (work) email; columns that must be set are filled before they are required.
    with op.batch_alter_table('mihwar_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_name', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('user_name_key', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('given_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('family_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE mihwar_users SET user_name = email, user_name_key = lower(email), version = 1, updated_at = created_at"
    )
    with op.batch_alter_table('mihwar_users', schema=None) as batch_op:
        for column in ('user_name', 'user_name_key'):
            batch_op.alter_column(column, existing_type=sa.String(length=256), nullable=False)
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('email', existing_type=sa.VARCHAR(length=254), nullable=True)
        batch_op.create_index('ix_mihwar_users_external_id', ['organization_id', 'external_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_mihwar_users_organization_id_user_name_key'), ['organization_id', 'user_name_key'])
    # After the table is rebuilt (SQLite rebuilds it, and dropping the old one would cascade).
    op.execute(
        'INSERT INTO mihwar_user_emails (user_id, value, value_key, type, "primary") '
        "SELECT id, email, lower(email), 'work', true FROM mihwar_users WHERE email IS NOT NULL"
    )



def downgrade() -> None:
    with op.batch_alter_table('mihwar_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_mihwar_users_organization_id_user_name_key'), type_='unique')
        batch_op.drop_index('ix_mihwar_users_external_id')
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=False)
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('version')
        batch_op.drop_column('family_name')
        batch_op.drop_column('given_name')
        batch_op.drop_column('external_id')
        batch_op.drop_column('user_name_key')
        batch_op.drop_column('user_name')

    with op.batch_alter_table('mihwar_user_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_user_emails_value')
        batch_op.drop_index('ix_mihwar_user_emails_user_id')

    op.drop_table('mihwar_user_emails')
    with op.batch_alter_table('mihwar_group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_group_members_user_id')

    op.drop_table('mihwar_group_members')
    with op.batch_alter_table('mihwar_scim_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_scim_audit_organization')

    op.drop_table('mihwar_scim_audit')
    with op.batch_alter_table('mihwar_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_groups_external_id')

    op.drop_table('mihwar_groups')
