"""an obligation's reminder day says whether it is provisional (暂定): counted across a year
without a loaded working-day table

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('obligations', sa.Column('remind_on_provisional', sa.Boolean(),
                                           server_default=sa.text('false'), nullable=False),
                  schema='enterprise')


def downgrade() -> None:
    op.drop_column('obligations', 'remind_on_provisional', schema='enterprise')
