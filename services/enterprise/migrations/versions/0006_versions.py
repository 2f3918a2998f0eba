"""versions for optimistic concurrency (If-Match) on every mutable registry resource, and the
moment before which an account's tokens are refused (disabled account, changed password)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

VERSIONED = ('departments', 'categories', 'accounts', 'grids', 'settings')


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1',
                                       nullable=False), schema='enterprise')
    op.add_column('accounts', sa.Column('tokens_valid_after', sa.DateTime(timezone=True),
                                        nullable=True), schema='enterprise')


def downgrade() -> None:
    op.drop_column('accounts', 'tokens_valid_after', schema='enterprise')
    for table in VERSIONED:
        op.drop_column(table, 'version', schema='enterprise')
