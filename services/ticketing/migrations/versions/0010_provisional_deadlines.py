"""every working-day deadline says whether it is provisional (暂定): the sweep's rows
(acceptance, handling, reminders, escalation rungs, rating reminder, unrated closure) and the
task's acceptance deadline

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
    op.add_column('deadlines', sa.Column('provisional', sa.Boolean(),
                                         server_default=sa.false(), nullable=False),
                  schema='ticketing')
    op.add_column('tasks', sa.Column('accept_due_provisional', sa.Boolean(),
                                     server_default=sa.false(), nullable=False),
                  schema='ticketing')


def downgrade() -> None:
    op.drop_column('tasks', 'accept_due_provisional', schema='ticketing')
    op.drop_column('deadlines', 'provisional', schema='ticketing')
