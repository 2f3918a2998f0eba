"""import jobs: an enterprise file imported in batches off the RPC worker, with progress

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_jobs',
        sa.Column('id', postgresql.UUID(as_uuid=False), primary_key=True),
        sa.Column('owner', sa.String(64), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('format', sa.String(10), nullable=False),
        sa.Column('content', postgresql.BYTEA(), nullable=True),
        sa.Column('call_id', sa.String(200), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('failure', postgresql.JSONB(), nullable=True),
        sa.Column('runner', sa.String(64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        schema='enterprise',
    )
    op.create_index('ix_enterprise_import_jobs_owner', 'import_jobs', ['owner'], schema='enterprise')
    op.create_index('ix_import_jobs_open', 'import_jobs', ['status', 'heartbeat_at'],
                    schema='enterprise')
    op.create_table(
        'import_job_errors',
        sa.Column('id', sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column('job_id', postgresql.UUID(as_uuid=False),
                  sa.ForeignKey('enterprise.import_jobs.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(200), nullable=False),
        sa.Column('code', sa.String(100), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('params', postgresql.JSONB(), nullable=False),
        schema='enterprise',
    )
    op.create_index('ix_enterprise_import_job_errors_job_id', 'import_job_errors', ['job_id'],
                    schema='enterprise')


def downgrade() -> None:
    op.drop_table('import_job_errors', schema='enterprise')
    op.drop_index('ix_import_jobs_open', table_name='import_jobs', schema='enterprise')
    op.drop_index('ix_enterprise_import_jobs_owner', table_name='import_jobs', schema='enterprise')
    op.drop_table('import_jobs', schema='enterprise')
