"""A real Prometheus server (the Debian package; ``devtools/ensure_tools.sh`` installs it)
scraping the test platform with the project's rules loaded: the ``prometheus`` fixture, for
the tests that query what operators will see (tests/deploy/test_monitoring.py,
tests/faults/test_readiness.py)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import GATEWAY_PORT, METRICS_PORTS, TEST_VHOST

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
#: RabbitMQ's own Prometheus plugin (devtools/ensure_infra.sh enables it), per queue
RABBITMQ_METRICS = "127.0.0.1:15692"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run `bash devtools/ensure_tools.sh` (make test does)"
    return path


def query(url: str, expr: str) -> list:
    r = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["data"]["result"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prometheus(healthy_platform, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    targets = [f"127.0.0.1:{p}" for p in METRICS_PORTS.values()]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "gridsvc-services", "static_configs": [{"targets": targets}]},
            {"job_name": "gridsvc-gateway",
             "static_configs": [{"targets": [f"127.0.0.1:{GATEWAY_PORT}"]}]},
            # the machine's broker serves everyone: keep the queues of the test vhost only
            {"job_name": "rabbitmq", "metrics_path": "/metrics/per-object",
             "static_configs": [{"targets": [RABBITMQ_METRICS]}],
             "metric_relabel_configs": [
                 {"source_labels": ["__name__"], "regex": "rabbitmq_queue_.+",
                  "action": "keep"},
                 {"source_labels": ["vhost"], "regex": TEST_VHOST, "action": "keep"}]},
        ],
    }
    try:
        httpx.get(f"http://{RABBITMQ_METRICS}/metrics", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"RabbitMQ's Prometheus plugin does not answer on {RABBITMQ_METRICS} "
                    f"({exc}): `rabbitmq-plugins enable rabbitmq_prometheus` "
                    "(devtools/ensure_infra.sh does it as root)")
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [tool("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


