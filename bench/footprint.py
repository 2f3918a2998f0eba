"""Benchmark 6: footprint, the resident memory of every process at idle with the demo data, and
the time from ``make run`` to ready.

    python -m bench.footprint

The issue: "resident memory of every process at idle with the demo data; time from make run
to ready."

``make run`` itself is started (on the benchmark's own database, vhost and ports: see
:mod:`bench.platform`), twice:

1. on a dropped database (the first ``make run`` on a machine: create, migrate, load the demo
   zone, start, demo demands through the API); after it is ready and ``--idle`` seconds of
   quiet, the resident memory (VmRSS) of every process of its tree is read, three times a
   second apart (the largest counts);
2. again on the database it left (every later ``make run``).

Each time: seconds from starting ``make run`` until ``/readyz`` is green, and until it prints
its "ready" banner (the demo demands submitted). Then Ctrl-C, as a user would.

The reference: a trivial nameko service (:mod:`bench.echo_service` under ``nameko run``), its
resident memory at idle and its time from start to its first RPC answered: the floor any
nameko service of ours stands on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import platform as bp
from bench import procstat
from devtools.processes import all_services_healthy
from gateway.rpc import NamekoRpcClient, RpcError


def _reader(stream: Any, lines: list[tuple[float, str]], log: Any) -> None:
    for raw in stream:
        text = raw.decode(errors="replace")
        lines.append((time.perf_counter(), text))
        log.write(text)
        log.flush()


def ready(url: str) -> bool:
    """The gateway is ready and reports every service healthy."""
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
            return response.status == 200 and all_services_healthy(json.load(response))
    except (OSError, ValueError):
        return False


def rss_of_tree(root: int, samples: int = 3) -> dict[str, int]:
    """The largest VmRSS of each process under ``root`` over ``samples`` reads, by role."""
    best: dict[str, int] = {}
    for i in range(samples):
        if i:
            time.sleep(1.0)
        for pid in procstat.descendants(root):
            role = procstat.role_of(pid)
            if role in ("sh", "bash"):
                continue
            best[role] = max(best.get(role, 0), procstat.rss_bytes(pid))
    return best


def postgres_backends(database_url: str, database: str) -> dict[str, int]:
    """The platform's connections to PostgreSQL: how many, and their summed VmRSS (which
    counts the shared buffers each one touched, so it overstates)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pids = list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                "pg_backend_pid()"), {"d": database}).scalars())
    finally:
        engine.dispose()
    return {"connections": len(pids), "rss_bytes": sum(procstat.rss_bytes(p) for p in pids)}


def start_make_run(names: bp.Names, log_dir: Path, label: str, timeout: float
                   ) -> tuple[subprocess.Popen, dict[str, float], list[tuple[float, str]]]:
    """``make run`` until its banner; (process, seconds to readyz / banner, output lines)."""
    env = {**os.environ, **names.env()}
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # a clean make, as typed by a user
        env.pop(name, None)
    log = open(log_dir / f"make-run-{label}.log", "w")  # noqa: SIM115 -- closed by the reader
    began = time.perf_counter()
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=bp.ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    lines: list[tuple[float, str]] = []
    threading.Thread(target=_reader, args=(proc.stdout, lines, log), daemon=True).start()
    url = f"http://127.0.0.1:{names.gateway_port}"
    times: dict[str, float] = {}
    deadline = began + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make run exited ({proc.returncode}):\n"
                               + "".join(t for _, t in lines[-30:]))
        if "readyz_seconds" not in times and ready(url):
            times["readyz_seconds"] = time.perf_counter() - began
        banner = next((t for t, text in lines if "ready in" in text), None)
        if banner is not None and "readyz_seconds" in times:
            times["banner_seconds"] = banner - began
            return proc, times, lines
        time.sleep(0.05)
    stop_make_run(proc)
    raise TimeoutError(f"make run not ready in {timeout:.0f} s:\n"
                       + "".join(t for _, t in lines[-30:]))


def stop_make_run(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Ctrl-C (SIGINT to make's process group), as a user would; then make sure every process
    it started is gone (by pid)."""
    tree = procstat.descendants(proc.pid)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 20
    for pid in tree:
        while procstat.rss_bytes(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if procstat.rss_bytes(pid):
            os.kill(pid, signal.SIGKILL)


def reference(names: bp.Names, log_dir: Path, idle: float) -> dict[str, Any]:
    """A trivial nameko service: seconds from start to its first RPC answered; idle RSS."""
    config = str(bp.ROOT / "bench" / "nameko_gateway.yml")
    env = {**os.environ, **names.env(), "PYTHONPATH": str(bp.ROOT)}
    with open(log_dir / "echo-service.log", "w") as log:
        began = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "nameko", "run", "--config", config,
                                 "bench.echo_service"], cwd=bp.ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        seconds = asyncio.run(_first_answer(names.amqp_uri, began, proc))
        time.sleep(idle)
        rss = 0
        for _ in range(3):
            rss = max(rss, procstat.rss_bytes(proc.pid))
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return {"ready_seconds": seconds, "rss_bytes": rss}


async def _first_answer(amqp_uri: str, began: float, proc: subprocess.Popen) -> float:
    client = NamekoRpcClient(amqp_uri, client_name="bench-footprint")
    await client.start()
    try:
        await client.wait_connected(10)
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the echo service exited")
            try:
                await client.call("bench_echo", "echo", "ping", timeout=2)
                return time.perf_counter() - began
            except RpcError:
                await asyncio.sleep(0.05)
            if time.perf_counter() - began > 60:
                raise TimeoutError("the echo service did not answer in 60 s")
    finally:
        await client.close()


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def run(idle: float = 10.0, timeout: float = 180.0) -> dict[str, Any]:
    names = bp.Names()
    log_dir = Path(tempfile.mkdtemp(prefix="gridsvc-bench-footprint-"))
    stale = subprocess.run(["make", "-n", "run"], cwd=bp.ROOT, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    results: dict[str, Any] = {"idle_seconds": idle, "logs": str(log_dir),
                               "installs_first": "pip install" in stale.stdout}
    bp.drop_database(names.database)
    bp.recreate_vhost(names.vhost)
    try:
        proc, times, _ = start_make_run(names, log_dir, "first", timeout)
        try:
            results["first_run"] = times
            print(f"  first make run (empty database): /readyz green after "
                  f"{times['readyz_seconds']:.1f} s, banner after {times['banner_seconds']:.1f} s",
                  flush=True)
            time.sleep(idle)
            rss = rss_of_tree(proc.pid)
            results["rss_bytes"] = rss
            results["postgres_backends"] = postgres_backends(names.database_url, names.database)
        finally:
            stop_make_run(proc)
        proc, times, _ = start_make_run(names, log_dir, "again", timeout)
        stop_make_run(proc)
        results["next_run"] = times
        print(f"  next make run (database kept): /readyz green after "
              f"{times['readyz_seconds']:.1f} s, banner after {times['banner_seconds']:.1f} s",
              flush=True)
        results["reference"] = reference(names, log_dir, min(idle, 5.0))
    finally:
        bp.rabbitmqctl("delete_vhost", names.vhost, check=False)
    ref = results["reference"]
    platform_procs = {k: v for k, v in rss.items() if k not in ("make",)}
    results["rss_total_bytes"] = sum(platform_procs.values())
    results["rss_ratio_to_reference"] = {k: v / ref["rss_bytes"] for k, v in rss.items()}
    results["ready_ratio_to_reference"] = results["next_run"]["readyz_seconds"] \
        / ref["ready_seconds"]
    for role, size in sorted(rss.items(), key=lambda kv: -kv[1]):
        print(f"  {role:<24} {mib(size):>8}  {size / ref['rss_bytes']:.1f}x reference")
    print(f"  total (make excluded)    {mib(results['rss_total_bytes']):>8}; PostgreSQL: "
          f"{results['postgres_backends']['connections']} connections of the platform",
          flush=True)
    print(f"  reference: trivial nameko service {mib(ref['rss_bytes'])}, answers "
          f"{ref['ready_seconds']:.1f} s after start", flush=True)
    results["ok"] = True  # the issue sets no target for the footprint
    return results


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of ``make bench``'s table: (benchmark, figure, value, verdict)."""
    ref = r["reference"]
    out = [("footprint", f"RSS at idle: {role}",
            f"{mib(size)} = {size / ref['rss_bytes']:.1f}x ref", "")
           for role, size in sorted(r["rss_bytes"].items(), key=lambda kv: -kv[1])
           if role != "make"]
    first, later = r["first_run"], r["next_run"]
    return out + [
        ("footprint", "RSS at idle: total",
         f"{mib(r['rss_total_bytes'])}; ref: a trivial nameko service {mib(ref['rss_bytes'])}",
         ""),
        ("footprint", "make run to ready, empty database",
         f"{first['readyz_seconds']:.1f} s (/readyz), {first['banner_seconds']:.1f} s "
         "(demo demands in)", ""),
        ("footprint", "make run to ready, next runs",
         f"{later['readyz_seconds']:.1f} s = {r['ready_ratio_to_reference']:.1f}x ref "
         f"(trivial nameko service answers after {ref['ready_seconds']:.1f} s)", ""),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds of quiet after ready before memory is read")
    args = parser.parse_args(argv)
    figures = run(args.idle)
    print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
