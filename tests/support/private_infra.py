"""A PostgreSQL cluster and a RabbitMQ node of the test's own, to stop and restart at will.

The fault tests restart the broker and the database under load. Doing that to the machine's
shared RabbitMQ (5672) or PostgreSQL (5432) would break every other suite and ``make run`` on the
machine, so these tests start private ones instead, on ports of their own, in temporary
directories that are removed afterwards:

- :class:`PrivatePostgres`: ``initdb`` into a temporary directory, ``pg_ctl start`` on
  ``21000 + TEST_PORT_OFFSET`` (127.0.0.1 only, trust auth for ``postgres``). As root it runs as
  the ``postgres`` user (PostgreSQL refuses root).
- :class:`PrivateRabbit`: ``rabbitmq-server`` as node ``chaos-<offset>@localhost`` on
  ``22000 + TEST_PORT_OFFSET`` (distribution port ``23000 + offset``), with its own config,
  cookie, mnesia and log directories and no plugins; guest/guest on vhost ``/``.
- :func:`private_stack` (session fixture): both, migrated, with the demo zone, and the whole
  platform (four services and the gateway on ``28000 + offset``) running against them.

Registered as a pytest plugin by ``tests/conftest.py``; nothing here starts unless a test asks
for one of these fixtures.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import kombu
import pytest
from sqlalchemy import create_engine

from common.auth import Principal, Role, mint_token
from common.config import DEV_JWT_SECRET, SERVICES
from devtools.migrate import load_demo, upgrade_all
from devtools.processes import Platform

PORT_OFFSET = int(os.environ.get("TEST_PORT_OFFSET", "0"))
PG_PORT = 21000 + PORT_OFFSET
AMQP_PORT = 22000 + PORT_OFFSET
DIST_PORT = 23000 + PORT_OFFSET
GATEWAY_PORT = 28000 + PORT_OFFSET
METRICS_BASE = 29100 + PORT_OFFSET  # +1..+4 the services, +5.. extra replicas
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
#: the private platform's process logs, kept after the run for a post-mortem
LOG_DIR = Path(tempfile.gettempdir()) / f"gridsvc-private-logs-{PORT_OFFSET}"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(check, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:g} s")
        time.sleep(interval)


def require_free(port: int, what: str) -> None:
    if not port_free(port):
        raise RuntimeError(
            f"port {port} for the private {what} is taken: another suite with the same "
            "TEST_PORT_OFFSET is running, or a previous run left it behind"
        )




# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    raise RuntimeError("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:``port``."""

    port: int = PG_PORT
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gridsvc-pg-")))

    def __post_init__(self) -> None:
        self.bin = postgres_bin()
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        # PostgreSQL refuses to run as root: then the cluster belongs to ``postgres``
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]], user=self.user, cwd=self.root,
            capture_output=True, text=True, timeout=timeout, check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}\n{self.log_tail()}")
        return done

    def init(self) -> None:
        require_free(self.port, "PostgreSQL")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
                # a crash-only test cluster: durability against power loss is not under test
                # (fsync off is safe for a crash of PostgreSQL itself: the kernel keeps what was
                # written; synchronous_commit stays on, or a crash loses acknowledged commits)
                "fsync = off\nfull_page_writes = off\n"
                "shared_buffers = 64MB\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients disconnected, clean shutdown; ``immediate``: like a crash."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    @property
    def running(self) -> bool:
        return port_accepts(self.port)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- RabbitMQ


@dataclass
class PrivateRabbit:
    """A throw-away RabbitMQ node on 127.0.0.1:``port`` (guest/guest, vhost ``/``)."""

    port: int = AMQP_PORT
    dist_port: int = DIST_PORT
    node: str = f"chaos-{PORT_OFFSET}@localhost"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gridsvc-mq-")))
    popen: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        if not (RABBIT_BIN / "rabbitmq-server").exists():
            raise RuntimeError("rabbitmq-server is not installed (Debian package rabbitmq-server)")
        (self.root / "mnesia").mkdir()
        (self.root / "log").mkdir()
        cookie = self.root / ".erlang.cookie"
        cookie.write_text(uuid.uuid4().hex.upper())
        cookie.chmod(0o400)
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "disk_free_limit.absolute = 50MB\n"
            "log.console = false\n"
        )
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq-env.conf").write_text("")  # not the machine's (node name, port)

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        root = self.root
        return {
            **os.environ,
            "HOME": str(root),  # the cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PID_FILE": str(root / "rabbit.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self, timeout: float = 90) -> None:
        """Start the node (same mnesia directory: durable queues and messages survive)."""
        require_free(self.port, "RabbitMQ")
        require_free(self.dist_port, "RabbitMQ distribution")
        log = open(self.root / "log" / "console.log", "ab")  # noqa: SIM115 -- child keeps it
        self.popen = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")], env=self.env(), cwd=self.root,
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        try:
            wait_until(self.accepts_amqp, timeout, f"RabbitMQ {self.node} not up")
        except TimeoutError:
            raise TimeoutError(f"RabbitMQ {self.node} not up:\n{self.log_tail()}") from None

    def accepts_amqp(self) -> bool:
        if self.popen is not None and self.popen.poll() is not None:
            raise RuntimeError(f"RabbitMQ {self.node} exited:\n{self.log_tail()}")
        if not port_accepts(self.port):
            return False
        try:
            with kombu.Connection(self.uri, connect_timeout=2) as conn:
                conn.connect()
            return True
        except Exception:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """SIGTERM: an orderly shutdown; SIGKILL: the node dies at once."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)
        self.popen = None
        # the Erlang VM's children (e.g. inet_gethost) are in the same group; the port is free
        # once the VM is gone
        wait_until(lambda: port_free(self.port) and port_free(self.dist_port), 30,
                   "RabbitMQ ports still taken")

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """``rabbitmqctl -n <node> ...`` against this node."""
        done = subprocess.run(
            [str(RABBIT_BIN / "rabbitmqctl"), "-q", "-n", self.node, *args], env=self.env(),
            cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for path in sorted((self.root / "log").glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(out)

    def destroy(self) -> None:
        try:
            if self.popen is not None:
                self.stop(signal.SIGKILL)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- the stack


@dataclass
class PrivateStack:
    """The platform running against a private PostgreSQL and a private RabbitMQ."""

    postgres: PrivatePostgres
    rabbit: PrivateRabbit
    platform: Platform
    database_url: str

    @property
    def gateway_url(self) -> str:
        return self.platform.gateway_url()

    def engine(self):
        return create_engine(self.database_url, pool_pre_ping=True)

    def admin_token(self) -> str:
        return mint_token(Principal(user_id="chaos-admin", role=Role.ADMIN), DEV_JWT_SECRET, 3600)

    def new_enterprise(self) -> str:
        """Register an in-scope enterprise through the private gateway; its id."""
        from helpers import bearer, enterprise_body

        answer = httpx.post(f"{self.gateway_url}/api/v1/enterprises", json=enterprise_body(),
                            headers=bearer(self.admin_token()), timeout=15)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def revive(self, timeout: float = 60) -> None:
        """Restart whatever process of the platform an earlier test left dead; wait for /readyz."""
        dead = [name for name, p in self.platform.procs.items() if not p.alive]
        for name in dead:
            self.platform.procs.pop(name)
            if name == "gateway":
                self.platform.start_gateway()
            elif name in SERVICES:
                self.platform.start_service(name)
        self.platform.wait_ready(timeout=timeout)


def stack_env(database_url: str, amqp_uri: str) -> dict[str, str]:
    return {
        "GRIDSVC_ENV": "development",
        "DATABASE_URL": database_url,
        "AMQP_URI": amqp_uri,
        "GATEWAY_PORT": str(GATEWAY_PORT),
        "LOG_FORMAT": "json",
        "OBLIGATION_SWEEP_SECONDS": "5",
        "SLA_SWEEP_SECONDS": "1",
        **{f"{name.upper()}_METRICS_PORT": str(METRICS_BASE + 1 + i)
           for i, name in enumerate(SERVICES)},
    }


def dump_logs(stack: PrivateStack, lines: int = 40) -> None:
    for proc in stack.platform.procs.values():
        if proc.log_path and proc.log_path.exists():
            tail = proc.log_path.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {proc.name} ---", *tail, sep="\n")
    print("--- postgres ---", stack.postgres.log_tail(), sep="\n")
    print("--- rabbitmq ---", stack.rabbit.log_tail(), sep="\n")


@pytest.fixture(scope="session")
def private_stack() -> Iterator[PrivateStack]:
    """PostgreSQL, RabbitMQ and the platform, all of this test session's own. The processes'
    logs stay in :data:`LOG_DIR` after the session (replaced by the next one)."""
    require_free(GATEWAY_PORT, "gateway")
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    postgres = PrivatePostgres()
    rabbit = PrivateRabbit()
    platform = None
    try:
        postgres.init()
        postgres.start()
        rabbit.start()
        database_url = postgres.url("gridsvc")
        upgrade_all(database_url)
        load_demo(database_url)
        platform = Platform(env=stack_env(database_url, rabbit.uri), log_dir=LOG_DIR)
        stack = PrivateStack(postgres, rabbit, platform, database_url)
        platform.start_all()
        try:
            platform.wait_ready(timeout=90)
            yield stack
        except BaseException:
            dump_logs(stack)
            raise
    finally:
        if platform is not None:
            platform.stop_all()
        rabbit.destroy()
        postgres.destroy()


@pytest.fixture
def stack(private_stack: PrivateStack) -> Iterator[PrivateStack]:
    """The private stack, with its broker, database and every process up again first."""
    if not private_stack.postgres.running:
        private_stack.postgres.start()
    if not private_stack.rabbit.running:
        private_stack.rabbit.start()
    private_stack.revive()
    yield private_stack

