"""Fixtures: the real platform (four services and the gateway as processes) against its own
PostgreSQL database and RabbitMQ vhost, so a running ``make run`` is never touched."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET
from devtools.migrate import load_demo, upgrade_all
from devtools.processes import Platform

# fixtures of a private PostgreSQL and RabbitMQ, for the tests that restart them; a real
# Prometheus scraping the test platform
pytest_plugins = ["private_infra", "prometheus_server"]

TEST_DB = os.environ.get("TEST_DATABASE", "gridsvc_test")
TEST_VHOST = os.environ.get("TEST_VHOST", "gridsvc_test")
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE_URL = f"{PG}/{TEST_DB}"
AMQP_URI = f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}"
# a second test run on the same machine (another checkout) sets these to stay apart
PORT_OFFSET = int(os.environ.get("TEST_PORT_OFFSET", "0"))
GATEWAY_PORT = 18000 + PORT_OFFSET
METRICS_PORTS = {
    name: 19101 + i + PORT_OFFSET
    for i, name in enumerate(("enterprise", "ticketing", "notification", "supplydemand"))
}

TEST_ENV = {
    "GRIDSVC_ENV": "development",
    "DATABASE_URL": DATABASE_URL,
    "AMQP_URI": AMQP_URI,
    "GATEWAY_PORT": str(GATEWAY_PORT),
    "LOG_FORMAT": "json",
    "OBLIGATION_SWEEP_SECONDS": "1",
    "SLA_SWEEP_SECONDS": "1",
    "OVERVIEW_REFRESH_SECONDS": "1",
    # appraisals read live: one computed slowly under CI's load would be kept and hide the
    # next test's demands (the kept ones are tested in test_appraisal.py)
    "APPRAISAL_KEEP_FROM_SECONDS": "3600",
    **{f"{name.upper()}_METRICS_PORT": str(port) for name, port in METRICS_PORTS.items()},
}


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def recreate_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", TEST_VHOST], capture_output=True,
                   timeout=60)
    rabbitmqctl("add_vhost", TEST_VHOST)
    rabbitmqctl("set_permissions", "-p", TEST_VHOST, "guest", ".*", ".*", ".*")


def recreate_database() -> None:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{TEST_DB}"'))
    admin.dispose()


def fresh_database(suffix: str) -> str:
    """A new, migrated database of its own (no service of the test platform touches it);
    its URL. For plain-module tests whose fixed dates lie in the past, which the running
    platform's SLA sweep would otherwise act on."""
    name = f"{TEST_DB}_{suffix}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    url = f"{PG}/{name}"
    upgrade_all(url)
    return url


TIERS = ("unit", "api", "faults", "deploy", "browser")
#: what the unit tier may not use: the platform, its database and broker
PLATFORM_FIXTURES = {"infrastructure", "platform", "healthy_platform", "client", "db"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries the marker of its tier: the folder it lives in under tests/."""
    root = Path(__file__).resolve().parent
    for item in items:
        try:
            tier = item.path.resolve().relative_to(root).parts[0]
        except ValueError:
            continue
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in one of tests/{TIERS}")
        if tier == "unit" and PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(f"{item.nodeid}: a unit test needs no broker or database; "
                                    "move it to tests/api")
        item.add_marker(tier)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[dict[str, str]]:
    """A fresh, migrated test database with the demo zone, and an empty test vhost."""
    recreate_database()
    recreate_vhost()
    upgrade_all(DATABASE_URL)
    load_demo(DATABASE_URL)  # the demo zone: departments, categories, grids INC01.., GEO01..
    os.environ.update(TEST_ENV)  # in-process code (tokens, relays) uses the same settings
    yield TEST_ENV


@pytest.fixture(scope="session")
def platform(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Platform]:
    log_dir = Path(tmp_path_factory.mktemp("logs"))
    plat = Platform(env=dict(infrastructure), log_dir=log_dir)
    plat.start_all()
    try:
        plat.wait_ready(timeout=60)
        yield plat
    except BaseException:
        dump_logs(plat)
        raise
    finally:
        plat.stop_all()


def dump_logs(plat: Platform, lines: int = 40) -> None:
    for proc in plat.procs.values():
        if proc.log_path and proc.log_path.exists():
            tail = proc.log_path.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {proc.name} ---", *tail, sep="\n")


@pytest.fixture
def healthy_platform(platform: Platform) -> Platform:
    """The platform, restarted first if an earlier test left a process dead."""
    dead = [name for name, p in platform.procs.items() if not p.alive]
    for name in dead:
        platform.procs.pop(name)
        if name == "gateway":
            platform.start_gateway()
        else:
            platform.start_service(name)
    if dead:
        platform.wait_ready(timeout=60)
    return platform


@pytest.fixture
def client(healthy_platform: Platform) -> Iterator[httpx.Client]:
    from helpers import SENDS_IF_MATCH

    with httpx.Client(base_url=healthy_platform.gateway_url(), timeout=15,
                      **SENDS_IF_MATCH) as c:
        yield c


TokenFactory = Callable[..., str]


@pytest.fixture
def token(infrastructure: dict[str, str]) -> TokenFactory:
    """``token(Role.ENTERPRISE, enterprise_id="E1")``: a signed token for a made-up user."""

    def make(role: Role, ttl: int = 3600, **claims: object) -> str:
        claims.setdefault("user_id", f"{role}-{uuid.uuid4().hex[:8]}")
        principal = Principal(role=role, **claims)  # type: ignore[arg-type]
        return mint_token(principal, DEV_JWT_SECRET, ttl)

    return make


@pytest.fixture(scope="session")
def db(infrastructure: dict[str, str]) -> Iterator[Engine]:
    engine = create_engine(DATABASE_URL)
    yield engine
    engine.dispose()
