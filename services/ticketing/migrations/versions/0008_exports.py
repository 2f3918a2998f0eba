"""ledger exports built page by page with their progress (导出)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exports',
        sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('view', sa.String(length=20), nullable=False),
        sa.Column('query', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('content', postgresql.BYTEA(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        schema='ticketing',
    )
    op.create_index(op.f('ix_ticketing_exports_owner'), 'exports', ['owner'], unique=False,
                    schema='ticketing')


def downgrade() -> None:
    op.drop_index(op.f('ix_ticketing_exports_owner'), table_name='exports', schema='ticketing')
    op.drop_table('exports', schema='ticketing')
