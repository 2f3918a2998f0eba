"""the reopened tasks' demands, indexed (every appraisal asks which demands were reopened)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tasks_reopened', 'tasks', ['demand_id'], schema='ticketing',
                    postgresql_where=sa.text('reopen_count > 0'))


def downgrade() -> None:
    op.drop_index('ix_tasks_reopened', table_name='tasks', schema='ticketing')
