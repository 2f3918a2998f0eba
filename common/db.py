"""A SQLAlchemy 2 session per nameko worker, and the service's event outbox relay.

Commit inside the entrypoint with ``with self.db.transaction() as session:``: nameko sends the
RPC reply before ``worker_result`` hooks run, so a commit there could fail after the caller was
told "done". Teardown only closes, inside try/except, because an exception there kills the
container.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from common.config import load_settings

log = logging.getLogger(__name__)

_psycopg_patched = False


def make_cooperative() -> None:
    """Let psycopg2 yield to other green threads while it waits on PostgreSQL."""
    global _psycopg_patched
    if not _psycopg_patched:
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
        _psycopg_patched = True


#: a pooled connection idle longer than this is pinged before use
PING_AFTER_IDLE_SECONDS = 1.0


def pool_size_for(max_workers: int) -> int:
    """Connections a service process keeps pooled: one per worker, the outbox relay and one
    spare. The engine may open as many again as overflow (:func:`make_engine`)."""
    return max_workers + 2


def connections_per_process(max_workers: int) -> int:
    """The most connections a service process opens to PostgreSQL (pool plus overflow): what
    the Pooler's ``max_client_conn`` must allow per pod (tests/test_k8s.py)."""
    return 2 * pool_size_for(max_workers)


def among(column: Any, ids: Sequence[str]) -> Any:
    """``column = ANY(ids)``, a UUID column among ``ids`` given as one array parameter: an
    ``IN`` of 1,000 ids is expanded into 1,000 parameters each time its statement is compiled
    (0.2 s of the ledger's export of 10,000 rows)."""
    return column == any_(cast(bindparam("ids", list(ids), type_=ARRAY(String), unique=True),
                               ARRAY(UUID(as_uuid=False))))


def make_engine(database_url: str, schema: str, service: str, pool_size: int = 10) -> Engine:
    """An engine whose connections see the service's own schema first."""
    engine = create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args={
            # jit off: PostgreSQL compiles a statement whose estimated cost passes
            # jit_above_cost, and a page of the ledger's problem list over 1,000,000 demands
            # is such a statement; compiling took 1.05 s of its 1.95 s, and the page's p50
            # went from 1,458/1,272 ms to 735/871 ms without it (docs/performance.md)
            "options": f"-csearch_path={schema},public -cjit=off",
            "application_name": service,
            "connect_timeout": 5,
        },
    )
    ping_after_idle(engine)
    return engine


def ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle: ``pool_pre_ping`` pings on
    every checkout, one extra round trip per transaction (measured: a quarter of the
    notification service's CPU under load). A connection used a moment ago is alive; one
    that dies anyway fails its statement, which SQLAlchemy sees as a disconnect and answers by
    replacing every connection of the pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            # the pool drops this connection and checks out another (a fresh one if needed)
            raise DisconnectionError(f"a pooled connection was dead: {exc}") from exc


class WorkerDatabase:
    """What an entrypoint sees as ``self.db``."""

    def __init__(self, provider: Database) -> None:
        self._provider = provider
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._provider.sessionmaker()
        return self._session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success, roll back on any error; wake the outbox relay after commit."""
        session = self.session
        try:
            yield session
            publish_soon = bool(session.info.pop("outbox_pending", False))
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop("outbox_pending", None)
            raise
        if publish_soon:
            self._provider.wake_relay()

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection in autocommit, for an effect that is one statement (atomic on its
        own): it costs one round trip instead of three (BEGIN, the statement, COMMIT)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    def ping(self) -> bool:
        return self._provider.ping()

    @property
    def engine(self) -> Engine:
        assert self._provider.engine is not None
        return self._provider.engine

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class Database(DependencyProvider):
    """Session-per-worker access to the service's own PostgreSQL schema.

    With ``outbox=True`` it also runs the relay that publishes committed outbox events
    (see :mod:`common.outbox`).
    """

    def __init__(self, schema: str, outbox: bool = True) -> None:
        self.schema = schema
        self.use_outbox = outbox
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session]
        self.relay: Any = None
        self._workers: WeakKeyDictionary[Any, WorkerDatabase] = WeakKeyDictionary()

    def setup(self) -> None:
        make_cooperative()
        settings = load_settings()
        service = self.container.service_name
        self.engine = make_engine(
            settings.database_url, self.schema, service,
            pool_size=pool_size_for(settings.max_workers),
        )
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        if self.use_outbox:
            from common.relay import OutboxRelay

            self.relay = OutboxRelay(
                sessionmaker=self.sessionmaker,
                service_name=service,
                config=self.container.config,
            )

    def start(self) -> None:
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def get_dependency(self, worker_ctx: Any) -> WorkerDatabase:
        db = WorkerDatabase(self)
        self._workers[worker_ctx] = db
        return db

    def worker_teardown(self, worker_ctx: Any) -> None:
        db = self._workers.pop(worker_ctx, None)
        if db is None:
            return
        try:
            db.close()
        except Exception:  # an exception here would kill the container
            log.exception("closing the worker's database session failed")

    def ping(self) -> bool:
        """True if PostgreSQL answers within the engine's connect timeout."""
        try:
            with self.engine.connect() as conn:  # type: ignore[union-attr]
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("database ping failed", exc_info=True)
            return False
