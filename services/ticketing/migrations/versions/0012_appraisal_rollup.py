"""the appraisal's rollup of closed demands (考评 by month, subject and grid), backfilled from
the demands already closed, a month of receipt per statement

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FIGURES = (
    "demands", "triage_due", "triage_on_time", "closed", "resolved", "judged", "unrated",
    "completed_once", "reopened", "ratings", "satisfied", "efficiency", "attitude", "quality",
    "tasks", "accepted", "accepted_on_time", "handling_due", "handling_on_time",
    "tasks_completed_once", "tasks_reopened", "returned", "timed_out",
    "pointed", "pointed_easy", "pointed_normal", "pointed_hard",
)


def upgrade() -> None:
    op.create_table(
        'appraisal_rollup',
        sa.Column('subject', sa.String(length=20), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('subject_id', sa.String(length=64), nullable=False),
        sa.Column('grid_id', sa.String(length=20), nullable=False),
        sa.Column('department_id', sa.String(length=40), nullable=True),
        *(sa.Column(name, sa.BigInteger(), server_default=sa.text('0'), nullable=False)
          for name in FIGURES),
        sa.PrimaryKeyConstraint('subject', 'month', 'subject_id', 'grid_id'),
        schema='ticketing',
    )
    op.create_table(
        'appraisal_rollup_categories',
        sa.Column('subject', sa.String(length=20), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('subject_id', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=False),
        sa.Column('pointed', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.PrimaryKeyConstraint('subject', 'month', 'subject_id', 'category'),
        schema='ticketing',
    )
    op.create_table(
        'appraisal_rollup_demands',
        sa.Column('demand_id', postgresql.UUID(as_uuid=False), nullable=False),
        sa.PrimaryKeyConstraint('demand_id'),
        schema='ticketing',
    )
    # the demands closed so far: with the rollup's own statements (one definition of each
    # figure, services/ticketing/appraisal/figures.py), a month of receipt per statement
    from services.ticketing.appraisal import rollup

    rollup.backfill(op.get_bind())


def downgrade() -> None:
    for table in ('appraisal_rollup_demands', 'appraisal_rollup_categories',
                  'appraisal_rollup'):
        op.drop_table(table, schema='ticketing')
