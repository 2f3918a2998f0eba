"""Benchmark 2: progress reads (进度查询), the enterprise's timeline at 100 requests/s.

    python -m bench.progress_reads --duration 20

The issue: "p99 latency of the enterprise's timeline at 100 requests/s. Target: p99 under
50 ms."

A demand of a demo enterprise is submitted, triaged into two departments, accepted by one,
which adds a public note (so its timeline has steps, tasks and a note); then
``GET /api/v1/demands/{id}/timeline`` with the enterprise's token, open loop: 100 requests
started per second whatever the answers, each latency counted from when the request was due
(no coordinated omission), for ``--duration`` seconds after ``--warmup`` seconds not counted.
The reference: the same reads, at the same rate, through reference A (the nameko-style gateway
of :mod:`bench.nameko_gateway`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

import httpx

from bench import platform as bp
from bench.load import HttpClient, Sample, error_outcome, open_loop
from bench.submission import cpu_per_request, cpu_snapshot, start_references
from common.auth import Role

RATE = 100.0
TARGET_P99_MS = 50.0
CONNECTIONS = 100  # the most reads in flight at once
REQUEST_TIMEOUT = 30.0


def prepare_demand(base: str) -> tuple[str, str]:
    """A demand with some history; (demand id, the owning enterprise's token)."""
    enterprise_id = bp.enterprise_ids(1)[0]
    owner = bp.token(Role.ENTERPRISE, user_id="bench-progress", enterprise_id=enterprise_id)
    coordinator = bp.token(Role.COORDINATOR, department_id="economic_development")
    fire = bp.token(Role.LIAISON, user_id="bench-fire", department_id="fire_rescue")

    def post(path: str, tok: str, body: dict[str, Any] | None = None, **headers: str) -> dict:
        response = httpx.post(base + path, json=body, timeout=30,
                              headers={"Authorization": f"Bearer {tok}", **headers})
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    demand = post("/api/v1/demands", owner, {
        "channel": "enterprise", "category": "fire", "title": "厂房消防验收和税务登记（压测）",
        "description": "新租厂房装修完毕，想了解消防验收的流程，并办理税务登记。",
    }, **{"Idempotency-Key": f"bench-progress-{uuid.uuid4().hex}"})
    triaged = post(f"/api/v1/demands/{demand['id']}/triage", coordinator, {
        "category": "fire", "difficulty": "normal", "proposed_opinion": "分别办理",
        "departments": [{"department_id": "fire_rescue", "opinion": "指导消防验收"},
                        {"department_id": "taxation", "opinion": "办理税务登记"}]})
    task = next(t for t in triaged["tasks"] if t["department_id"] == "fire_rescue")
    post(f"/api/v1/tasks/{task['id']}/accept", fire)
    post(f"/api/v1/tasks/{task['id']}/notes", fire,
         {"body": "已联系企业，约定下周现场指导。", "visibility": "public"})
    return demand["id"], owner


async def read_timeline(base: str, demand_id: str, tok: str, rate: float, duration: float,
                        warmup: float) -> Sample:
    path = f"/api/v1/demands/{demand_id}/timeline"
    headers = {"Authorization": f"Bearer {tok}"}
    client = HttpClient(base, CONNECTIONS)
    try:
        # a first read outside the measure: a connection and the caches warm
        await client.request("GET", path, headers)

        async def read(_n: int) -> str:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, _ = await client.request("GET", path, headers)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                return error_outcome(exc)
            return str(status)

        return await open_loop(read, rate, duration, warmup)
    finally:
        await client.close()


def summarize(name: str, f: dict[str, Any]) -> str:
    return (f"{name:<12} {f['requests']:,} reads at {f['rate_per_second']:g}/s: "
            f"p50 {f['p50_ms']:6.1f} ms  p90 {f['p90_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms  "
            f"max {f['max_ms']:6.1f} ms  ({f['failed']} failed, {f['late_starts']} late starts)")


def run(bench: bp.BenchPlatform, duration: float = 20.0, warmup: float = 2.0,
        rate: float = RATE) -> dict[str, Any]:
    reference_url = start_references(bench)
    demand_id, owner = prepare_demand(bench.gateway_url)
    results: dict[str, Any] = {"rate_per_second": rate, "duration_seconds": duration,
                               "warmup_seconds": warmup, "demand_id": demand_id}
    for name, url in (("gateway", bench.gateway_url), ("reference_a", reference_url)):
        print(f"  {name}: GET {url}/api/v1/demands/…/timeline at {rate:g}/s for "
              f"{warmup:g}+{duration:g} s", flush=True)
        before = cpu_snapshot(bench)
        sample = asyncio.run(read_timeline(url, demand_id, owner, rate, duration, warmup))
        figures = sample.figures()
        figures["cpu_ms_per_request"] = cpu_per_request(before, cpu_snapshot(bench),
                                                        sample.answered_ok)
        figures["rate_per_second"] = rate
        figures["late_starts"] = sample.late_starts
        results[name] = figures
        print("  " + summarize(name, figures), flush=True)
        print(f"    CPU ms per read: {figures['cpu_ms_per_request']}", flush=True)
    gw, a = results["gateway"], results["reference_a"]
    results["p99_ratio_to_reference_a"] = gw["p99_ms"] / a["p99_ms"] if a["p99_ms"] else None
    results["target"] = f"p99 < {TARGET_P99_MS:.0f} ms at {rate:g} req/s"
    results["target_met"] = gw["p99_ms"] < TARGET_P99_MS
    results["ok"] = results["target_met"] and gw["failed"] == 0
    return results


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of ``make bench``'s table: (benchmark, figure, value, verdict)."""
    gw, a = r["gateway"], r["reference_a"]
    return [
        ("progress_reads", f"timeline p50 / p99 at {r['rate_per_second']:g}/s",
         f"{gw['p50_ms']:.1f} / {gw['p99_ms']:.1f} ms; ref A {a['p50_ms']:.1f} / "
         f"{a['p99_ms']:.1f} ms ({r['p99_ratio_to_reference_a'] or 0:.2f}x); "
         f"{gw['failed']} failed",
         f"target p99 < {TARGET_P99_MS:.0f} ms: "
         + ("ok" if r["target_met"] and gw["failed"] == 0 else "MISSED")),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=RATE)
    args = parser.parse_args(argv)
    with bp.started() as bench:
        figures = run(bench, args.duration, args.warmup, args.rate)
    print(json.dumps({k: v for k, v in figures.items() if k not in ("gateway", "reference_a")},
                     indent=2))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
