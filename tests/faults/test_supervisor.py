"""``make run``'s supervisor (devtools/run.py) leaves no process behind.

A process manager, a CI timeout or ``timeout`` sends SIGTERM to ``make run``'s process group,
and GNU make sends its child SIGTERM again while that child is stopping. The supervisor must
finish stopping the gateway and the four services whatever signals repeat; and if it dies
outright (SIGKILL), its children get SIGTERM from the kernel (parent-death signal) instead
of staying up as orphans that hold the ports.

The supervisor here runs on a database, a vhost and ports of its own, so the test platform
of the rest of the suite is not touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import PG, PORT_OFFSET, TEST_DB, TEST_ENV, TEST_VHOST, rabbitmqctl
from helpers import eventually
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
DATABASE = f"{TEST_DB}_supervisor"
VHOST = f"{TEST_VHOST}_supervisor"
GATEWAY_PORT = 18040 + PORT_OFFSET
METRICS = {name: 19141 + i + PORT_OFFSET
           for i, name in enumerate(("enterprise", "ticketing", "notification", "supplydemand"))}


@pytest.fixture(scope="module")
def supervisor_env():
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, timeout=60)
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    env = {**os.environ, **TEST_ENV, "DATABASE_URL": f"{PG}/{DATABASE}",
           "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
           "GATEWAY_PORT": str(GATEWAY_PORT), "PYTHONUNBUFFERED": "1",
           **{f"{name.upper()}_METRICS_PORT": str(port) for name, port in METRICS.items()}}
    yield env
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, timeout=60)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def start_supervisor(env: dict[str, str]) -> tuple[subprocess.Popen, list[int]]:
    """``python -m devtools.run`` in a process group of its own, as ``make run`` starts it;
    returns once it printed where to look, with the pids of its children."""
    proc = subprocess.Popen([sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    ready = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            output.append(line)
            if "ready in" in line:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(300):
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("make run's supervisor never became ready:\n" + "".join(output[-40:]))
    return proc, children_of(proc.pid)


def close(proc: subprocess.Popen) -> None:
    assert proc.stdout is not None
    time.sleep(0.2)  # the reader meets the end of the output
    proc.stdout.close()


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_to_the_group_repeated_stops_every_process(supervisor_env):
    proc, children = start_supervisor(supervisor_env)
    assert len(children) == 5, children  # the gateway and four services
    for _ in range(4):  # make re-sends SIGTERM while its child stops
        os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(0.3)
    proc.wait(timeout=120)
    close(proc)
    assert eventually(lambda: not any(alive(c) for c in children), timeout=30), \
        [c for c in children if alive(c)]
    assert not port_taken(GATEWAY_PORT)


def test_a_killed_supervisor_takes_its_children_with_it(supervisor_env):
    proc, children = start_supervisor(supervisor_env)
    assert len(children) == 5, children
    proc.kill()  # SIGKILL: no handler runs, the kernel signals the children
    proc.wait(timeout=30)
    close(proc)
    assert eventually(lambda: not any(alive(c) for c in children), timeout=60), \
        [c for c in children if alive(c)]
    assert eventually(lambda: not port_taken(GATEWAY_PORT), timeout=30)
