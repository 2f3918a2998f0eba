"""the leaders' overview (领导总览) kept as computed, by scope and period, refreshed off the
request path

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'overview_snapshots',
        sa.Column('scope_key', sa.Text(), nullable=False),
        sa.Column('from', sa.Date(), nullable=False),
        sa.Column('to', sa.Date(), nullable=False),
        sa.Column('answer', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('scope_key', 'from', 'to'),
        schema='ticketing',
    )
    op.create_index('ix_ticketing_overview_snapshots_read_at', 'overview_snapshots',
                    ['read_at'], schema='ticketing')


def downgrade() -> None:
    op.drop_index('ix_ticketing_overview_snapshots_read_at', table_name='overview_snapshots',
                  schema='ticketing')
    op.drop_table('overview_snapshots', schema='ticketing')
