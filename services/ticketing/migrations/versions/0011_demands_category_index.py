"""the demands' category with their receipt time, indexed (the ledger's lists filtered by
category over a date range)

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_demands_category_received_at', 'demands', ['category', 'received_at'],
                    schema='ticketing')


def downgrade() -> None:
    op.drop_index('ix_demands_category_received_at', table_name='demands', schema='ticketing')
