"""Start, watch and stop the platform's processes (four services and the gateway).

Used by ``make run`` (output interleaved on the terminal, name-prefixed) and by the tests
(output to log files, processes killed and restarted at will).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from common.config import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def all_services_healthy(readyz: dict) -> bool:
    """A ``/readyz`` answer of a ready gateway that reports every service healthy."""
    services = readyz.get("services") or {}
    return readyz.get("status") == "ready" and set(services) == set(SERVICES) and all(
        report.get("healthy") is True for report in services.values())


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path | None = None

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


#: prctl(2)'s option that has the kernel signal a process when its parent dies
PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child get SIGTERM when the process that started it
    dies, however it dies (even by SIGKILL): the services never outlive ``make run``."""
    libc = ctypes.CDLL(None, use_errno=True)  # looked up here: the child only calls it
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)
    return hook


@dataclass
class Platform:
    env: dict[str, str]
    log_dir: Path | None = None  # None: interleave output on our stdout
    procs: dict[str, Proc] = field(default_factory=dict)
    #: the children get SIGTERM when this process dies (``make run``; not the tests, whose
    #: fixtures may start processes from other threads)
    tied_to_parent: bool = False

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None) -> Proc:
        env = {**os.environ, **self.env, **(extra_env or {})}
        env["PYTHONPATH"] = str(ROOT)
        # glibc's malloc keeps an arena per core for a threaded process (two are enough), and
        # raises its mmap threshold after a large block is freed, so argon2's 19 MiB blocks
        # then stay in the heap: a fixed threshold returns them (docs/performance.md)
        env.setdefault("MALLOC_ARENA_MAX", "2")
        env.setdefault("MALLOC_MMAP_THRESHOLD_", "1048576")
        out: IO | int
        log_path = None
        hook = die_with_parent() if self.tied_to_parent else None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"{name}.log"
            out = open(log_path, "ab")  # noqa: SIM115 -- closed with the process
            popen = subprocess.Popen(
                [sys.executable, *args], env=env, cwd=ROOT, stdout=out, stderr=out,
                start_new_session=True, preexec_fn=hook,
            )
            out.close()
        else:
            popen = subprocess.Popen(
                [sys.executable, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=hook,
            )
            threading.Thread(target=_prefix, args=(name, popen), daemon=True).start()
        proc = Proc(name, popen, log_path)
        self.procs[name] = proc
        return proc

    def start_service(self, service: str, replica: str = "",
                      extra_env: dict[str, str] | None = None) -> Proc:
        name = f"{service}{replica}"
        return self._spawn(name, ["-W", "ignore", "-m", f"services.{service}"], extra_env)

    def start_gateway(self, extra_env: dict[str, str] | None = None) -> Proc:
        return self._spawn("gateway", ["-m", "gateway"], extra_env)

    def start_all(self) -> None:
        for service in SERVICES:
            self.start_service(service)
        self.start_gateway()

    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env.get('GATEWAY_PORT', '8000')}"

    def wait_ready(self, timeout: float = 60.0) -> dict:
        """Poll /readyz until the gateway is ready and reports every service healthy (its
        monitor probes them); raise with the last answer if that never happens."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            dead = [p.name for p in self.procs.values() if not p.alive]
            if dead:
                raise RuntimeError(f"process(es) exited while starting: {', '.join(dead)}")
            try:
                with urllib.request.urlopen(self.gateway_url() + "/readyz", timeout=3) as resp:
                    body = json.load(resp)
                if all_services_healthy(body):
                    return body
                last = body
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")
            except OSError as exc:
                last = exc
            time.sleep(0.3)
        raise TimeoutError(f"platform not ready after {timeout:.0f}s: {last}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.alive:
            os.killpg(proc.popen.pid, sig)
        proc.popen.wait(timeout=30)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        proc = self.procs.pop(name)
        if proc.alive:
            os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.alive:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        for name in list(self.procs):
            self.stop(name)


def _prefix(name: str, popen: subprocess.Popen) -> None:
    assert popen.stdout is not None
    for raw in popen.stdout:
        sys.stdout.write(f"{name:<13}| {raw.decode(errors='replace')}")
        sys.stdout.flush()
