"""the intake channel on the ledger's first line (who recorded a demand, in which channel)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ledger', sa.Column('channel', sa.String(length=20), nullable=True),
                  schema='ticketing')


def downgrade() -> None:
    op.drop_column('ledger', 'channel', schema='ticketing')
