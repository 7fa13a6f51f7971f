"""mihwar schema: organizations, API keys, inventory, purchase orders, order history, predictions

Revision ID: mihwar_0001
Revises:
Create Date: 2026-12-02 04:17:45.864974
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mihwar_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('mihwar',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mihwar_order_history_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('import_batch_id', sa.String(length=32), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('ordered_qty', sa.Double(), nullable=False),
    sa.Column('delivered_qty', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_order_history_lines'))
    )
    with op.batch_alter_table('mihwar_order_history_lines', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_order_history_lines_item', ['item_id', 'order_date'], unique=False)

    op.create_table('mihwar_organizations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('plan', sa.String(length=16), nullable=False),
    sa.Column('api_access', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_organizations')),
    sa.UniqueConstraint('slug', name=op.f('uq_mihwar_organizations_slug'))
    )
    op.create_table('mihwar_api_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_api_keys_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_api_keys')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_mihwar_api_keys_secret_hash'))
    )
    with op.batch_alter_table('mihwar_api_keys', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_api_keys_organization_id', ['organization_id'], unique=False)

    op.create_table('mihwar_inventory_items',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('current_stock', sa.Double(), nullable=False),
    sa.Column('low_stock_threshold', sa.Double(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_inventory_items_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_inventory_items')),
    sa.UniqueConstraint('organization_id', 'sku', name=op.f('uq_mihwar_inventory_items_organization_id_sku'))
    )
    with op.batch_alter_table('mihwar_inventory_items', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_inventory_items_sync', ['organization_id', 'updated_at', 'id'], unique=False)

    op.create_table('mihwar_suppliers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_suppliers_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_suppliers'))
    )
    with op.batch_alter_table('mihwar_suppliers', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_suppliers_organization_id', ['organization_id'], unique=False)

    op.create_table('mihwar_import_batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('api_key_id', sa.String(length=32), nullable=True),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('external_source_id', sa.String(length=256), nullable=True),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('auto_created_items', sa.Integer(), nullable=False),
    sa.Column('skipped_unknown_sku', sa.Integer(), nullable=False),
    sa.Column('skipped_bad_date', sa.Integer(), nullable=False),
    sa.Column('latest_order_date', sa.Date(), nullable=True),
    sa.Column('item_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['mihwar_api_keys.id'], name=op.f('fk_mihwar_import_batches_api_key_id_mihwar_api_keys')),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_import_batches_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_import_batches'))
    )
    with op.batch_alter_table('mihwar_import_batches', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_import_batches_organization_id', ['organization_id', 'created_at'], unique=False)

    op.create_table('mihwar_predictions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('predicted_qty', sa.Double(), nullable=False),
    sa.Column('lower_bound', sa.Double(), nullable=True),
    sa.Column('upper_bound', sa.Double(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('horizon', sa.Integer(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['mihwar_inventory_items.id'], name=op.f('fk_mihwar_predictions_item_id_mihwar_inventory_items')),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_predictions_organization_id_mihwar_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_predictions'))
    )
    with op.batch_alter_table('mihwar_predictions', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_predictions_by_item', ['organization_id', 'item_id', 'generated_at', 'id'], unique=False)
        batch_op.create_index('ix_mihwar_predictions_listing', ['organization_id', 'generated_at', 'id'], unique=False)

    op.create_table('mihwar_purchase_orders',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('supplier_id', sa.String(length=32), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('total_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('expected_delivery_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['mihwar_organizations.id'], name=op.f('fk_mihwar_purchase_orders_organization_id_mihwar_organizations')),
    sa.ForeignKeyConstraint(['supplier_id'], ['mihwar_suppliers.id'], name=op.f('fk_mihwar_purchase_orders_supplier_id_mihwar_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_purchase_orders'))
    )
    with op.batch_alter_table('mihwar_purchase_orders', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_purchase_orders_by_status', ['organization_id', 'status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_mihwar_purchase_orders_listing', ['organization_id', 'created_at', 'id'], unique=False)

    op.create_table('mihwar_purchase_order_lines',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('ordered_qty', sa.Double(), nullable=False),
    sa.Column('received_qty', sa.Double(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['mihwar_inventory_items.id'], name=op.f('fk_mihwar_purchase_order_lines_item_id_mihwar_inventory_items')),
    sa.ForeignKeyConstraint(['order_id'], ['mihwar_purchase_orders.id'], name=op.f('fk_mihwar_purchase_order_lines_order_id_mihwar_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mihwar_purchase_order_lines'))
    )
    with op.batch_alter_table('mihwar_purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index('ix_mihwar_purchase_order_lines_order_id', ['order_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mihwar_purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_purchase_order_lines_order_id')

    op.drop_table('mihwar_purchase_order_lines')
    with op.batch_alter_table('mihwar_purchase_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_purchase_orders_listing')
        batch_op.drop_index('ix_mihwar_purchase_orders_by_status')

    op.drop_table('mihwar_purchase_orders')
    with op.batch_alter_table('mihwar_predictions', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_predictions_listing')
        batch_op.drop_index('ix_mihwar_predictions_by_item')

    op.drop_table('mihwar_predictions')
    with op.batch_alter_table('mihwar_import_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_import_batches_organization_id')

    op.drop_table('mihwar_import_batches')
    with op.batch_alter_table('mihwar_suppliers', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_suppliers_organization_id')

    op.drop_table('mihwar_suppliers')
    with op.batch_alter_table('mihwar_inventory_items', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_inventory_items_sync')

    op.drop_table('mihwar_inventory_items')
    with op.batch_alter_table('mihwar_api_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_api_keys_organization_id')

    op.drop_table('mihwar_api_keys')
    op.drop_table('mihwar_organizations')
    with op.batch_alter_table('mihwar_order_history_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_mihwar_order_history_lines_item')

    op.drop_table('mihwar_order_history_lines')
