"""The enterprise service's memory after 1,000 sign-ins (issue 19): argon2id takes 19 MiB per
hash, and 20 hashes at once in 20 threads with glibc's per-thread malloc arenas grew the
process from 114 MB to 439 MB. Now at most ``ARGON2_CONCURRENCY`` hashes run at once and
``MALLOC_ARENA_MAX=2``; the budget is 200 MiB.

``make bench ONLY=signin`` (on the benchmark platform) or ``python -m bench.signin_memory``.
8 clients sign in back to back as the demo zone's staff (password ``gridsvc-demo-2026``);
the enterprise process's resident memory (VmRSS) is read before, at its peak during the run
(every 0.2 s) and after.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from typing import Any

import httpx

from bench import procstat
from bench.platform import BenchPlatform, started
from services.enterprise.demo_load import DEMO_PASSWORD

BUDGET_BYTES = 200 * 2**20
SIGN_INS = 1000
CLIENTS = 8
#: different demo accounts sign in in parallel (one account's attempts are serialised)
ACCOUNTS = 40


def mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


def usernames() -> list[str]:
    from services.enterprise.demo_data import build

    return [account.username for account in build().staff][:ACCOUNTS]


async def sign_in_many(url: str, count: int, clients: int) -> dict[str, Any]:
    names = usernames()
    statuses: dict[int, int] = {}
    done = 0
    latencies: list[float] = []

    async def client(worker: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while done < count:
                done += 1
                username = names[(done + worker) % len(names)]
                began = time.perf_counter()
                answer = await http.post("/api/v1/auth/token", json={
                    "username": username, "password": DEMO_PASSWORD})
                latencies.append(time.perf_counter() - began)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    seconds = time.perf_counter() - began
    latencies.sort()
    return {"statuses": statuses, "seconds": seconds, "per_second": count / seconds,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def run(bench: BenchPlatform, count: int = SIGN_INS, clients: int = CLIENTS) -> dict[str, Any]:
    assert bench.platform is not None, "needs its own platform (not BENCH_GATEWAY)"
    pid = bench.platform.procs["enterprise"].popen.pid
    before = procstat.rss_bytes(pid)
    peak = before
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, procstat.rss_bytes(pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        load = asyncio.run(sign_in_many(bench.gateway_url, count, clients))
    finally:
        stop.set()
        sampler.join()
    time.sleep(1.0)
    after = procstat.rss_bytes(pid)
    result = {"sign_ins": count, "clients": clients, **load, "rss_before_bytes": before,
              "rss_peak_bytes": max(peak, after), "rss_after_bytes": after,
              "budget_bytes": BUDGET_BYTES,
              "ok": max(peak, after) <= BUDGET_BYTES}
    print(f"enterprise RSS: {mib(before)} before, {mib(result['rss_peak_bytes'])} at peak, "
          f"{mib(after)} after {count:,} sign-ins ({load['per_second']:.0f}/s, p99 "
          f"{load['p99_ms']:.0f} ms, statuses {load['statuses']}); budget {mib(BUDGET_BYTES)}",
          flush=True)
    return result


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    verdict = "ok" if r["ok"] else "MISSED"
    return [
        ("signin_memory", f"enterprise RSS after {r['sign_ins']:,} sign-ins",
         f"{mib(r['rss_after_bytes'])} (peak {mib(r['rss_peak_bytes'])}, before "
         f"{mib(r['rss_before_bytes'])})", f"budget {mib(r['budget_bytes'])}: {verdict}"),
        ("signin_memory", "sign-ins", f"{r['per_second']:.0f}/s, p50 {r['p50_ms']:.0f} ms, "
                                      f"p99 {r['p99_ms']:.0f} ms", ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sign-ins", type=int, default=SIGN_INS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    with started() as bench:
        run(bench, args.sign_ins, args.clients)


if __name__ == "__main__":
    main()
