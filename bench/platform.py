"""The benchmark's own platform: the four services and the gateway as processes, on their own
PostgreSQL database and RabbitMQ vhost, so a running ``make run`` or test run is never touched.

    BENCH_DATABASE     database name (default ``gridsvc_bench_api``; recreated at the start)
    BENCH_VHOST        RabbitMQ vhost (default ``gridsvc_bench_api``; deleted at the end)
    BENCH_PORT_OFFSET  ports: gateway 18000+offset, reference gateway 18050+offset, metrics
                       19101..19104+offset (default 900)
    BENCH_GATEWAY      use this running gateway (e.g. ``http://127.0.0.1:8000`` of ``make run``)
                       instead of starting one; with BENCH_DATABASE_URL and BENCH_AMQP_URI of
                       that platform (defaults: ``make run``'s ``gridsvc`` and ``/``)

The scenarios (:mod:`bench.submission`, :mod:`bench.progress_reads`) share one platform per
``make bench``; :mod:`bench.footprint` starts ``make run`` itself.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET, SERVICES
from devtools.migrate import load_demo, upgrade_all
from devtools.processes import Platform
from services.enterprise.demo_data import build
from services.enterprise.demo_load import stable_id

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
AMQP = "amqp://guest:guest@127.0.0.1:5672"
ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Names:
    """Where the benchmark's platform lives."""

    database: str = field(default_factory=lambda: _env("BENCH_DATABASE", "gridsvc_bench_api"))
    vhost: str = field(default_factory=lambda: _env("BENCH_VHOST", "gridsvc_bench_api"))
    offset: int = field(default_factory=lambda: int(_env("BENCH_PORT_OFFSET", "900")))
    #: ticketing processes: 2, the minimum of the prod overlay (deploy/k8s/overlays/prod)
    ticketing_replicas: int = field(
        default_factory=lambda: int(_env("BENCH_TICKETING_REPLICAS", "2")))

    @property
    def database_url(self) -> str:
        return f"{PG}/{self.database}"

    @property
    def amqp_uri(self) -> str:
        return f"{AMQP}/{self.vhost}"

    @property
    def gateway_port(self) -> int:
        return 18000 + self.offset

    @property
    def reference_port(self) -> int:
        return 18050 + self.offset

    def env(self) -> dict[str, str]:
        """The platform's environment (as tests/conftest.py builds it)."""
        return {
            "GRIDSVC_ENV": "development",
            "DATABASE_URL": self.database_url,
            "AMQP_URI": self.amqp_uri,
            "GATEWAY_PORT": str(self.gateway_port),
            "LOG_FORMAT": "json",
            **{f"{name.upper()}_METRICS_PORT": str(19101 + i + self.offset)
               for i, name in enumerate(SERVICES)},
        }


def rabbitmqctl(*args: str, check: bool = True) -> str:
    done = subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True,
                          text=True, timeout=60)
    return done.stdout


def recreate_vhost(vhost: str) -> None:
    rabbitmqctl("delete_vhost", vhost, check=False)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def drop_database(name: str) -> None:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def enterprise_ids(count: int) -> list[str]:
    """Ids of the first ``count`` demo enterprises (all in the service scope)."""
    return [stable_id("enterprise", e.credit_code) for e in build().enterprises[:count]]


def token(role: Role, ttl: int = 3600, **claims: object) -> str:
    claims.setdefault("user_id", f"bench-{role}")
    return mint_token(Principal(role=role, **claims), DEV_JWT_SECRET, ttl)  # type: ignore[arg-type]


@dataclass
class BenchPlatform:
    """A started platform: its gateway URL, its database and the processes (None when
    running against someone else's platform)."""

    gateway_url: str
    database_url: str
    amqp_uri: str
    names: Names
    platform: Platform | None
    log_dir: Path | None
    startup_seconds: float | None = None
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_size=2)
        return self._engine

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None):
        """Start a benchmark process (a reference) beside the platform; stopped with it."""
        if self.platform is None:
            env = {**self.names.env(), "DATABASE_URL": self.database_url,
                   "AMQP_URI": self.amqp_uri}
            self.platform = Platform(env=env, log_dir=Path(tempfile.mkdtemp(
                prefix="gridsvc-bench-")))
            self.log_dir = self.platform.log_dir
        return self.platform._spawn(name, args, extra_env)

    def log_tail(self, name: str, lines: int = 30) -> str:
        if self.platform is None or name not in self.platform.procs:
            return ""
        path = self.platform.procs[name].log_path
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, name: str) -> None:
        if self.platform is not None and name in self.platform.procs:
            self.platform.stop(name)


def wait_http(url: str, timeout: float = 60.0, alive=lambda: True) -> None:
    """Until ``url`` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process serving {url} exited")
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f} s: {last}")


@contextmanager
def started() -> Iterator[BenchPlatform]:
    """The benchmark's platform: started fresh, or the running one named by BENCH_GATEWAY."""
    names = Names()
    running = os.environ.get("BENCH_GATEWAY", "").strip()
    if running:
        bench = BenchPlatform(
            gateway_url=running.rstrip("/"),
            database_url=_env("BENCH_DATABASE_URL", f"{PG}/gridsvc"),
            amqp_uri=_env("BENCH_AMQP_URI", f"{AMQP}/"),
            names=names, platform=None, log_dir=None,
        )
        try:
            yield bench
        finally:
            if bench.platform is not None:
                bench.platform.stop_all()
            if bench._engine is not None:
                bench._engine.dispose()
        return

    began = time.perf_counter()
    drop_database(names.database)
    recreate_vhost(names.vhost)
    upgrade_all(names.database_url)
    load_demo(names.database_url)
    log_dir = Path(tempfile.mkdtemp(prefix="gridsvc-bench-"))
    platform = Platform(env=names.env(), log_dir=log_dir)
    bench = BenchPlatform(
        gateway_url=platform.gateway_url(), database_url=names.database_url,
        amqp_uri=names.amqp_uri, names=names, platform=platform, log_dir=log_dir,
    )
    try:
        platform.start_all()
        for replica in range(2, names.ticketing_replicas + 1):  # metrics on the first only
            platform.start_service("ticketing", str(replica), {"TICKETING_METRICS_PORT": "-1"})
        platform.wait_ready(timeout=120)
        bench.startup_seconds = time.perf_counter() - began
        print(f"platform ready in {bench.startup_seconds:.1f} s on {bench.gateway_url} "
              f"(database {names.database}, vhost {names.vhost}, logs in {log_dir})",
              flush=True)
        yield bench
    finally:
        platform.stop_all()
        if bench.platform is not None and bench.platform is not platform:
            bench.platform.stop_all()
        if bench._engine is not None:
            bench._engine.dispose()
        rabbitmqctl("delete_vhost", names.vhost, check=False)
