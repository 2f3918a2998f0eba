"""versions for optimistic concurrency (If-Match) on the SLA and appraisal settings

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

VERSIONED = ('sla_settings', 'appraisal_settings')


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1',
                                       nullable=False), schema='ticketing')


def downgrade() -> None:
    for table in VERSIONED:
        op.drop_column(table, 'version', schema='ticketing')
