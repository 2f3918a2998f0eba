"""an export's list rows written so far, beside the rows whose steps are written: its progress
moves while the list sheet is written too

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exports', sa.Column('rows_listed', sa.Integer(), nullable=False,
                                       server_default='0'), schema='ticketing')


def downgrade() -> None:
    op.drop_column('exports', 'rows_listed', schema='ticketing')
