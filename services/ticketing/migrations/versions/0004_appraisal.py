"""appraisal: settings (weights, difficulty points, award criteria) and integrity vetoes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appraisal_settings',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('key'),
        schema='ticketing',
    )
    op.create_table(
        'appraisal_vetoes',
        sa.Column('subject', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_by', sa.String(length=64), nullable=True),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lift_reason', sa.Text(), nullable=True),
        sa.CheckConstraint('year BETWEEN 2000 AND 2100', name='ck_appraisal_vetoes_year'),
        sa.PrimaryKeyConstraint('subject', 'subject_id', 'year'),
        schema='ticketing',
    )


def downgrade() -> None:
    op.drop_table('appraisal_vetoes', schema='ticketing')
    op.drop_table('appraisal_settings', schema='ticketing')
