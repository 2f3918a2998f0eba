"""Least privilege (issue 19): each service's PostgreSQL role owns its schema and nothing else
(deploy/k8s/base/postgres-roles.sql, run here against the real PostgreSQL with the roles'
names prefixed, since roles are shared by the whole server), migrations run as that role, and
each process's RabbitMQ user may touch only its own queues and exchanges
(deploy/k8s/base/rabbitmq.yaml: the patterns checked against the names nameko uses, and on
the real broker in a vhost of this test run)."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import amqp
import pytest
import yaml
from conftest import PG, TEST_DB, TEST_VHOST
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from common.config import SERVICES
from common.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"
ROLES_SQL = BASE / "postgres-roles.sql"
DATABASE = f"{TEST_DB}_roles"
PREFIX = f"{TEST_DB}_"  # roles are global to the server: ours carry the test run's name


def ours(sql: str) -> str:
    """The bootstrap SQL for this test's database and prefixed role names (schemas keep
    their names: they are the services')."""
    names = "|".join(SERVICES)
    sql = re.sub(rf"\b(CREATE ROLE|ALTER ROLE|AUTHORIZATION) ({names})\b",
                 lambda m: f"{m.group(1)} {PREFIX}{m.group(2)}", sql)
    sql = re.sub(rf"TO ({names})(, ({names}))*;",
                 lambda m: "TO " + ", ".join(PREFIX + n for n in SERVICES) + ";", sql)
    return sql.replace("DATABASE gridsvc", f'DATABASE "{DATABASE}"')


def role_url(service: str) -> str:
    return f"{PG.replace('postgres@', f'{PREFIX}{service}@')}/{DATABASE}"


@pytest.fixture(scope="module")
def roles_database() -> Iterator[None]:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            for service in SERVICES:
                conn.execute(text(f'DROP ROLE IF EXISTS "{PREFIX}{service}"'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    bootstrap = create_engine(f"{PG}/{DATABASE}", isolation_level="AUTOCOMMIT")
    with bootstrap.connect() as conn:
        sql = "\n".join(ln for ln in ours(ROLES_SQL.read_text()).splitlines()
                        if not ln.strip().startswith("--"))
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    bootstrap.dispose()
    try:
        for service in SERVICES:  # as the Job does: each service as its own role
            upgrade(service, role_url(service))
        yield
    finally:
        drop()
        admin.dispose()


@pytest.mark.usefixtures("roles_database")
def test_each_role_owns_its_schema_and_nothing_else() -> None:
    engine = create_engine(f"{PG}/{DATABASE}")
    with engine.connect() as conn:
        owners = conn.execute(text(
            "SELECT n.nspname, pg_get_userbyid(c.relowner), count(*) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(:s) "
            "GROUP BY 1, 2"), {"s": list(SERVICES)}).all()
    engine.dispose()
    assert {(schema, owner) for schema, owner, _n in owners} == {
        (s, f"{PREFIX}{s}") for s in SERVICES}


@pytest.mark.usefixtures("roles_database")
def test_a_role_cannot_read_another_services_schema_nor_create_schemas() -> None:
    ticketing = create_engine(role_url("ticketing"))
    with ticketing.connect() as conn:
        # its own tables without a schema name: the role carries its search_path (PgBouncer
        # does not pass the `options` the services set it with)
        assert conn.execute(text("SHOW search_path")).scalar() == "ticketing, public"
        conn.execute(text("SELECT count(*) FROM demands")).scalar()
        conn.rollback()
        for forbidden in ("SELECT count(*) FROM enterprise.enterprises",
                          "SELECT count(*) FROM notification.inbox_messages",
                          "CREATE SCHEMA sneaky", "CREATE TABLE public.sneaky (x int)"):
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(forbidden))
            conn.rollback()
    ticketing.dispose()


# --- RabbitMQ ------------------------------------------------------------------------------

def permissions() -> dict[str, dict[str, str]]:
    docs = yaml.safe_load_all((BASE / "rabbitmq.yaml").read_text(encoding="utf-8"))
    return {d["metadata"]["name"].removeprefix("gridsvc-"): d["spec"]["permissions"]
            for d in docs if d and d["kind"] == "Permission"}


def consumed_events(service: str) -> list[tuple[str, str, str]]:
    """(source, event, handler) of every event handler of the service's code."""
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (ROOT / "services" / service).glob("**/*.py"))
    return re.findall(r'event_handler\("(\w+)", "(\w+)"[^)]*\)\n\s+def (\w+)', source)


def test_each_user_reaches_its_own_queues_and_exchanges_only() -> None:
    perms = permissions()
    assert set(perms) == {*SERVICES, "gateway", "keda"}
    reply = uuid.uuid4()
    for service in SERVICES:
        mine = perms[service]
        own = [f"rpc-{service}", f"rpc.reply-{service}-{reply}", "nameko-rpc"]
        queues = [f"evt-{src}-{evt}--{service}.{handler}"
                  for src, evt, handler in consumed_events(service)]
        for name in (*own, *queues, *(f"{q}-{reply.hex}" for q in queues)):  # broadcast too
            for kind in ("configure", "write", "read"):
                assert re.fullmatch(mine[kind], name), (service, kind, name)
        assert re.fullmatch(mine["write"], f"{service}.events")  # publishes its own events
        for other in set(SERVICES) - {service}:
            for name in (f"rpc-{other}", f"rpc.reply-{other}-{reply}",
                         f"evt-ticketing-demand_received--{other}.on_demand_received"):
                for kind in ("configure", "write", "read"):
                    assert not re.fullmatch(mine[kind], name), (service, kind, name)
            assert not re.fullmatch(mine["write"], f"{other}.events")  # nobody else's events
    gateway = perms["gateway"]
    for name in ("nameko-rpc", f"rpc.reply-gateway-{reply}",
                 f"gateway.token-revocations-{reply.hex}"):
        assert re.fullmatch(gateway["configure"], name) and re.fullmatch(gateway["read"], name)
    assert not any(re.fullmatch(gateway[k], "rpc-ticketing") for k in gateway)
    assert not re.fullmatch(gateway["write"], "enterprise.events")
    assert perms["keda"]["configure"] == perms["keda"]["write"] == "^$"


def test_the_broker_enforces_the_patterns() -> None:
    """A user with ticketing's permissions, in a vhost of this run: it may declare and consume
    its own queue, and is refused another service's."""
    vhost, user, password = f"{TEST_VHOST}_perm", f"{TEST_VHOST}_ticketing", uuid.uuid4().hex

    def ctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True,
                       timeout=60)

    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True, timeout=60)
    ctl("add_vhost", vhost)
    ctl("add_user", user, password)
    mine = permissions()["ticketing"]
    ctl("set_permissions", "-p", vhost, user, mine["configure"], mine["write"], mine["read"])
    try:
        conn = amqp.Connection(host="127.0.0.1:5672", userid=user, password=password,
                               virtual_host=vhost)
        conn.connect()
        try:
            channel = conn.channel()
            channel.exchange_declare("nameko-rpc", "topic", durable=True, auto_delete=False)
            channel.queue_declare("rpc-ticketing", durable=True, auto_delete=False)
            channel.queue_bind("rpc-ticketing", "nameko-rpc", "ticketing.*")
            channel.basic_consume("rpc-ticketing", callback=lambda _m: None)
            with pytest.raises(amqp.exceptions.AccessRefused):
                conn.channel().queue_declare("rpc-enterprise", durable=True, auto_delete=False)
            other = conn.channel()  # it may declare an exchange it listens to, not publish
            other.exchange_declare("enterprise.events", "topic", durable=True,
                                   auto_delete=False)
            other.basic_publish(amqp.Message("forged"), "enterprise.events", "x")
            with pytest.raises(amqp.exceptions.AccessRefused):
                other.queue_declare("rpc-ticketing", passive=True)  # the refusal arrives
        finally:
            conn.close()
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                       timeout=60)
        subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True,
                       timeout=60)
