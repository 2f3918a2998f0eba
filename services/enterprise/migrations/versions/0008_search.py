"""full-text search over enterprises: the search tsvector (jieba's words of the name, tags,
strengths and products) and its GIN index

Revision ID: 0008
Revises: zone01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = 'zone01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('enterprises', sa.Column('search', postgresql.TSVECTOR(),
                                           server_default=sa.text("''::tsvector"),
                                           nullable=False), schema='enterprise')
    backfill(op.get_bind())
    op.create_index('ix_enterprises_search', 'enterprises', ['search'], unique=False,
                    schema='enterprise', postgresql_using='gin')


def backfill(conn: sa.Connection) -> None:
    """The words of every enterprise there is (services/enterprise/registry.py)."""
    from services.enterprise.registry import search_document

    rows = conn.execute(sa.text(
        "SELECT id::text AS id, name, tags, strengths, upstream, downstream "
        "FROM enterprise.enterprises")).all()
    if rows:
        conn.execute(sa.text("UPDATE enterprise.enterprises SET search = CAST(:v AS tsvector) "
                             "WHERE id = CAST(:id AS uuid)"),
                     [{"id": r.id, "v": search_document(r.name, r.tags, r.strengths,
                                                        r.upstream, r.downstream)}
                      for r in rows])


def downgrade() -> None:
    op.drop_index('ix_enterprises_search', table_name='enterprises', schema='enterprise')
    op.drop_column('enterprises', 'search', schema='enterprise')
