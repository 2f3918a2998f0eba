"""the open demands' appraisal columns, indexed: a period of whole months counts them directly
(the closed ones come from the rollup), read from this small index instead of the table

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = ['id', 'status', 'grid_id', 'recorded_by', 'recorded_role', 'triaged_at',
           'triage_due_at', 'closure', 'difficulty', 'category']


def upgrade() -> None:
    op.create_index('ix_demands_open_figures', 'demands', ['received_at'], schema='ticketing',
                    postgresql_include=COLUMNS,
                    postgresql_where=sa.text("status IN ('received', 'triaged', 'in_progress', "
                                             "'awaiting_rating')"))


def downgrade() -> None:
    op.drop_index('ix_demands_open_figures', table_name='demands', schema='ticketing')
