"""Every service's migrations produce exactly its models' schema, and run down and up again."""

from __future__ import annotations

import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import PG, TEST_DB
from sqlalchemy import create_engine, text

from common.config import SERVICES
from common.migrations import alembic_config, upgrade

DB = f"{TEST_DB}_migrations"
URL = f"{PG}/{DB}"


@pytest.fixture(scope="module")
def fresh_db(infrastructure):
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    yield URL
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_models_and_reverse(fresh_db, service):
    metadata = importlib.import_module(f"services.{service}.models").metadata
    upgrade(service, fresh_db)
    engine = create_engine(fresh_db)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _p: type_ != "schema" or name == service,
                "version_table_schema": service,
            })
            diff = [d for d in compare_metadata(ctx, metadata)
                    if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
        assert diff == [], f"{service}: models and migrations differ: {diff}"
        with engine.begin() as conn:
            cfg = alembic_config(service, fresh_db)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
