"""the written report (书面报告) of internal closure in two steps: filed by the department,
agreed or returned by a coordinator of the owning department

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tasks', sa.Column('report_attachments', postgresql.JSONB(),
                                     server_default=sa.text("'[]'::jsonb"), nullable=False),
                  schema='ticketing')
    op.add_column('tasks', sa.Column('report_status', sa.String(length=10), nullable=True),
                  schema='ticketing')
    op.add_column('tasks', sa.Column('report_filed_at', sa.DateTime(timezone=True),
                                     nullable=True), schema='ticketing')
    op.add_column('tasks', sa.Column('report_filed_by', sa.String(length=64), nullable=True),
                  schema='ticketing')
    op.add_column('tasks', sa.Column('report_return_reason', sa.Text(), nullable=True),
                  schema='ticketing')


def downgrade() -> None:
    for column in ('report_return_reason', 'report_filed_by', 'report_filed_at',
                   'report_status', 'report_attachments'):
        op.drop_column('tasks', column, schema='ticketing')
