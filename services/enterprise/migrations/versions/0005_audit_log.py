"""audit log (操作日志)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('actor_id', sa.String(length=64), nullable=False),
        sa.Column('actor_role', sa.String(length=20), nullable=False),
        sa.Column('call_id', sa.String(length=200), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('route', sa.String(length=200), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('action', sa.String(length=200), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('subject_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('fields_changed', postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('call_id'),
        schema='enterprise',
    )
    op.create_index('ix_audit_log_actor_at', 'audit_log', ['actor_id', 'at'],
                    schema='enterprise')
    op.create_index(op.f('ix_enterprise_audit_log_at'), 'audit_log', ['at'],
                    schema='enterprise')


def downgrade() -> None:
    op.drop_table('audit_log', schema='enterprise')
