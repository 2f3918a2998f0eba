"""full-text search over demands: the search tsvector (jieba's words), its GIN index, and an
index on the receipt time (the lists' date order)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    op.add_column('demands', sa.Column('search', postgresql.TSVECTOR(),
                                       server_default=sa.text("''::tsvector"), nullable=False),
                  schema='ticketing')
    backfill(op.get_bind())
    op.create_index('ix_demands_search', 'demands', ['search'], unique=False,
                    schema='ticketing', postgresql_using='gin')
    op.create_index('ix_demands_received_at', 'demands', ['received_at'], unique=False,
                    schema='ticketing')


def backfill(conn: sa.Connection) -> None:
    """The words of every demand there is (services/ticketing/search.py), in batches."""
    from services.ticketing import search

    last = '00000000-0000-0000-0000-000000000000'
    while True:
        ids = conn.execute(sa.text(  # by the primary key's order: each batch an index range
            "SELECT id::text FROM ticketing.demands WHERE id > CAST(:last AS uuid) "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).scalars().all()
        if not ids:
            return
        rows = conn.execute(sa.text("""
            SELECT d.id::text AS id, d.title, d.description,
                   ARRAY(SELECT t.result FROM ticketing.tasks t
                         WHERE t.demand_id = d.id AND t.result IS NOT NULL
                         ORDER BY t.created_at, t.id) AS results,
                   ARRAY(SELECT n.body FROM ticketing.notes n
                         WHERE n.demand_id = d.id AND n.visibility = 'public'
                         ORDER BY n.created_at, n.id) AS notes
            FROM ticketing.demands d WHERE d.id = ANY(CAST(:ids AS uuid[]))"""),
            {"ids": ids}).all()  # the primary key, not a scan of every demand per batch
        conn.execute(sa.text("UPDATE ticketing.demands SET search = CAST(:v AS tsvector) "
                             "WHERE id = CAST(:id AS uuid)"),
                     [{"id": r.id, "v": search.document(r.title, r.description, r.results,
                                                        r.notes)} for r in rows])
        last = ids[-1]


def downgrade() -> None:
    op.drop_index('ix_demands_received_at', table_name='demands', schema='ticketing')
    op.drop_index('ix_demands_search', table_name='demands', schema='ticketing')
    op.drop_column('demands', 'search', schema='ticketing')
