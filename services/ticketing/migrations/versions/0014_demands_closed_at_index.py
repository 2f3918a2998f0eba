"""the closed demands by when they closed (the rollup's catch-up reads the last days' closures)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_demands_closed_at', 'demands', ['closed_at'], schema='ticketing',
                    postgresql_where=sa.text('closed_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_demands_closed_at', table_name='demands', schema='ticketing')
