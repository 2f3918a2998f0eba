"""Alembic migrations, one history per service, each in the service's own schema.

``python -m devtools.migrate`` applies every service's migrations; ``make run`` and the tests
call it. A service's ``migrations/env.py`` is two lines that call :func:`run_env`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, text

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
VERSION_TABLE = "alembic_version"


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["schema"] = service
    return cfg


def ensure_schema(conn: Connection, schema: str) -> None:
    """Create the schema unless it exists. In production each service's own role runs its
    migrations into a schema created for it (deploy/k8s/base/postgres-roles.sql) and may not
    create schemas: even ``CREATE SCHEMA IF NOT EXISTS`` needs that right."""
    exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                          {"s": schema}).scalar()
    if not exists:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            ensure_schema(conn, service)
            # concurrent upgrades (several replicas starting) wait for each other
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": service})
            cfg = alembic_config(service, database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


@functools.cache
def head_revision(service: str) -> str | None:
    """The newest revision of the service's migrations (read once: they ship with the code)."""
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql://unused"))
    return script.get_current_head()


def current_revision(conn: Connection, schema: str) -> str | None:
    """The revision the schema is at, None before the first migration. A plain query: the
    health RPC asks every few seconds, and alembic's MigrationContext logs two lines each
    time it is configured."""
    exists = conn.execute(text("SELECT to_regclass(:t)"),
                          {"t": f'"{schema}".{VERSION_TABLE}'}).scalar()
    if exists is None:
        return None
    rows = conn.execute(text(f'SELECT version_num FROM "{schema}".{VERSION_TABLE}')).all()
    if len(rows) > 1:  # branches: the health check wants one head
        raise RuntimeError(f"{schema} has {len(rows)} migration heads")
    return rows[0][0] if rows else None


def run_env(metadata: MetaData, schema: str) -> None:
    """Body of a service's ``migrations/env.py``."""
    cfg = context.config
    conn = cfg.attributes.get("connection")
    if conn is None:
        url = cfg.get_main_option("sqlalchemy.url")
        assert url is not None, "sqlalchemy.url"
        engine = create_engine(url)
        with engine.begin() as conn:
            ensure_schema(conn, schema)
            _run(conn, metadata, schema)
        engine.dispose()
    else:
        _run(conn, metadata, schema)


def _run(conn: Connection, metadata: MetaData, schema: str) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        include_schemas=True,
        include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
    )
    with context.begin_transaction():
        context.run_migrations()
