"""grid staff agree to publish their contact in the public grid service contacts

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('publish_contact', sa.Boolean(),
                                        server_default=sa.text('false'), nullable=False),
                  schema='enterprise')


def downgrade() -> None:
    op.drop_column('accounts', 'publish_contact', schema='enterprise')
