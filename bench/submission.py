"""Benchmark 1: demand submission (诉求提交) through the gateway, 64 concurrent HTTP clients.

    python -m bench.submission --duration 30          # starts its own platform
    BENCH_GATEWAY=http://127.0.0.1:8000 python -m bench.submission   # a running make run

The issue: "throughput and latency (p50, p99) with 64 concurrent HTTP clients, each demand
committed in PostgreSQL and its event published. Reference A: a minimal gateway in nameko's
own style, driven by the same 64 clients. Reference B, the raw limit: an aio-pika echo RPC with
64 calls in flight against a trivial nameko service. Target: throughput at least 1.5x reference
A with p99 under 150 ms, and reported as a fraction of reference B."

Each of the 64 clients (one HTTP/1.1 keep-alive connection each, :class:`bench.load.HttpClient`)
POSTs ``/api/v1/demands`` back
to back as one of 64 demo enterprises, with a fresh ``Idempotency-Key`` per request, for
``--duration`` seconds after ``--warmup`` seconds not counted. Then, from the database: every
demand answered 201 is in ``ticketing.demands`` (and no other), and its ``demand_received``
event has been published by the outbox relay (``published_at`` set after the broker's confirm).

- the gateway: ``gateway/`` (Starlette on uvicorn, aio-pika RPC client);
- reference A: :mod:`bench.nameko_gateway` run by ``nameko run`` (eventlet, werkzeug,
  ``RpcProxy``), same ``max_workers`` as the services, same clients, same body;
- reference B: :class:`gateway.rpc.NamekoRpcClient` (aio-pika) calling
  :mod:`bench.echo_service` with the same body and token, 64 calls in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

from sqlalchemy import text

from bench import platform as bp
from bench import procstat
from bench.load import HttpClient, Sample, closed_loop, error_outcome
from common.auth import Role
from gateway.rpc import NamekoRpcClient, RpcError

CONCURRENCY = 64
TARGET_RATIO = 1.5
TARGET_P99_MS = 150.0
REQUEST_TIMEOUT = 30.0

BODY = {
    "channel": "enterprise", "category": "talent", "urgency": "normal",
    "title": "申请人才公寓（压测）",
    "description": "公司新引进三名博士，希望申请园区人才公寓，请协助了解申请条件和办理流程。",
}

VERIFY = """
SELECT count(*) AS demands,
       count(o.id) AS events,
       count(o.published_at) AS published
FROM ticketing.demands d
LEFT JOIN ticketing.outbox o
  ON o.event_type = 'demand_received' AND o.payload->'data'->>'demand_id' = d.id::text
WHERE d.idempotency_key LIKE :prefix
"""


def tokens(count: int) -> list[str]:
    """One enterprise token per client, each for its own demo enterprise."""
    return [bp.token(Role.ENTERPRISE, user_id=f"bench-ent-{i}", enterprise_id=ent,
                     ttl=7200)
            for i, ent in enumerate(bp.enterprise_ids(count))]


async def drive_http(url: str, prefix: str, toks: list[str], duration: float,
                     warmup: float, concurrency: int) -> tuple[Sample, int]:
    """The 64 clients against ``url``; (sample, demands answered 201 in all, warm-up too)."""
    created = 0
    body = json.dumps(BODY, ensure_ascii=False).encode()
    client = HttpClient(url, concurrency)

    async def submit(n: int) -> str:
        nonlocal created
        headers = {"Authorization": f"Bearer {toks[n % len(toks)]}",
                   "Content-Type": "application/json", "Idempotency-Key": f"{prefix}{n}"}
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, _ = await client.request("POST", "/api/v1/demands", headers, body)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            return error_outcome(exc)
        if status == 201:
            created += 1
        return str(status)

    try:
        sample = await closed_loop(submit, concurrency, duration, warmup, ok=frozenset({"201"}))
    finally:
        await client.close()
    return sample, created


async def drive_echo(amqp_uri: str, toks: list[str], duration: float, warmup: float,
                     concurrency: int) -> Sample:
    """Reference B: the aio-pika RPC client, ``concurrency`` calls in flight, echoing the body."""
    client = NamekoRpcClient(amqp_uri, client_name="bench-echo")
    await client.start()
    try:
        if not await client.wait_connected(10):
            raise RuntimeError("the echo client could not connect to the broker")
        deadline = time.monotonic() + 60
        while True:  # until the echo service's queue is bound
            try:
                await client.call("bench_echo", "echo", "ping", timeout=2)
                break
            except RpcError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

        async def echo(n: int) -> str:
            context = {"call_id_stack": [f"bench.echo.{n}"],
                       "auth_token": toks[n % len(toks)]}
            try:
                await client.call("bench_echo", "echo", BODY, None, context=context)
            except RpcError as exc:
                return error_outcome(exc)
            return "ok"

        return await closed_loop(echo, concurrency, duration, warmup, ok=frozenset({"ok"}))
    finally:
        await client.close()


def verify(bench: bp.BenchPlatform, prefix: str, created: int, wait: float = 60.0
           ) -> dict[str, Any]:
    """Every demand answered 201 committed, and its event published (waits for the relay)."""
    deadline = time.monotonic() + wait
    while True:
        with bench.engine.connect() as conn:
            row = conn.execute(text(VERIFY), {"prefix": prefix + "%"}).mappings().one()
        if row["published"] >= created or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    figures = {"answered_201": created, "in_postgresql": row["demands"],
               "events_recorded": row["events"], "events_published": row["published"]}
    figures["ok"] = created == row["demands"] == row["events"] == row["published"]
    return figures


def start_references(bench: bp.BenchPlatform) -> str:
    """Reference A (nameko gateway) and B's service (echo), once per platform; the
    reference gateway's URL."""
    port = bench.names.reference_port
    url = f"http://127.0.0.1:{port}"
    running = bench.platform.procs if bench.platform is not None else {}
    if "nameko_gateway" in running and running["nameko_gateway"].alive:
        return url
    config = str(bp.ROOT / "bench" / "nameko_gateway.yml")
    proc = bench.spawn("nameko_gateway", ["-m", "nameko", "run", "--config", config,
                                          "bench.nameko_gateway"],
                       {"NAMEKO_GATEWAY_PORT": str(port)})
    bench.spawn("echo_service", ["-m", "nameko", "run", "--config", config,
                                 "bench.echo_service"])
    try:
        bp.wait_http(url + "/", timeout=60, alive=lambda: proc.alive)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{exc}\n{bench.log_tail('nameko_gateway')}") from exc
    return url


def cpu_snapshot(bench: bp.BenchPlatform) -> dict[str, float]:
    """CPU seconds so far of every process a request touches, by name."""
    out: dict[str, float] = {}
    if bench.platform is not None:
        for name, proc in bench.platform.procs.items():
            out[name] = procstat.cpu_seconds(proc.popen.pid)
    out["postgresql (all backends)"] = sum(procstat.cpu_seconds(p)
                                           for p in procstat.by_comm("postgres"))
    out["rabbitmq"] = sum(procstat.cpu_seconds(p) for p in procstat.by_comm("beam.smp"))
    times = os.times()
    out["load generator"] = times.user + times.system
    return out


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int
                    ) -> dict[str, float]:
    """Milliseconds of CPU per successful request (warm-up included, as the CPU is), by
    process (those that used any)."""
    out = {}
    for name, seconds in after.items():
        used = seconds - before.get(name, seconds)
        if used > 0 and requests:
            out[name] = round(used / requests * 1000, 2)
    return out


def summarize(name: str, f: dict[str, Any]) -> str:
    return (f"{name:<12} {f['throughput_per_second']:8.1f} req/s  p50 {f['p50_ms']:7.1f} ms  "
            f"p99 {f['p99_ms']:7.1f} ms  ({f['succeeded']:,} ok, {f['failed']:,} failed)")


def run(bench: bp.BenchPlatform, duration: float = 30.0, warmup: float = 3.0,
        concurrency: int = CONCURRENCY) -> dict[str, Any]:
    reference_url = start_references(bench)
    toks = tokens(concurrency)
    run_id = uuid.uuid4().hex[:8]
    results: dict[str, Any] = {"concurrency": concurrency, "duration_seconds": duration,
                               "warmup_seconds": warmup}
    for name, url in (("gateway", bench.gateway_url), ("reference_a", reference_url)):
        prefix = f"bench-{run_id}-{name}-"
        print(f"  {name}: {concurrency} clients POST {url}/api/v1/demands for "
              f"{warmup:g}+{duration:g} s", flush=True)
        before = cpu_snapshot(bench)
        sample, created = asyncio.run(drive_http(url, prefix, toks, duration, warmup,
                                                 concurrency))
        figures = sample.figures()
        figures["cpu_ms_per_request"] = cpu_per_request(before, cpu_snapshot(bench),
                                                        sample.answered_ok)
        figures["verified"] = verify(bench, prefix, created)
        results[name] = figures
        v = figures["verified"]
        print("  " + summarize(name, figures), flush=True)
        print(f"    {v['answered_201']:,} answered 201: {v['in_postgresql']:,} in PostgreSQL, "
              f"{v['events_published']:,} demand_received published "
              f"({'ok' if v['ok'] else 'MISMATCH'})", flush=True)
        print(f"    CPU ms per request: {figures['cpu_ms_per_request']}", flush=True)
    print(f"  reference_b: {concurrency} echo calls in flight for {warmup:g}+{duration:g} s",
          flush=True)
    before = cpu_snapshot(bench)
    sample = asyncio.run(drive_echo(bench.amqp_uri, toks, duration, warmup, concurrency))
    results["reference_b"] = sample.figures()
    results["reference_b"]["cpu_ms_per_request"] = cpu_per_request(
        before, cpu_snapshot(bench), sample.answered_ok)
    print("  " + summarize("reference_b", results["reference_b"]), flush=True)

    gw, a, b = results["gateway"], results["reference_a"], results["reference_b"]
    results["ratio_to_reference_a"] = gw["throughput_per_second"] / a["throughput_per_second"] \
        if a["throughput_per_second"] else None
    results["fraction_of_reference_b"] = gw["throughput_per_second"] / \
        b["throughput_per_second"] if b["throughput_per_second"] else None
    results["p99_ratio_to_reference_a"] = gw["p99_ms"] / a["p99_ms"] if a["p99_ms"] else None
    ratio = results["ratio_to_reference_a"] or 0.0
    results["target"] = f">= {TARGET_RATIO}x reference A, p99 < {TARGET_P99_MS:.0f} ms"
    results["target_met"] = ratio >= TARGET_RATIO and gw["p99_ms"] < TARGET_P99_MS
    results["ok"] = results["target_met"] and gw["verified"]["ok"] and gw["failed"] == 0
    return results


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of ``make bench``'s table: (benchmark, figure, value, verdict)."""
    gw, a, b = r["gateway"], r["reference_a"], r["reference_b"]
    v = gw["verified"]
    ratio = r["ratio_to_reference_a"] or 0.0
    fraction = r["fraction_of_reference_b"] or 0.0
    cpu = ", ".join(f"{k.split(' ')[0]} {ms:.1f}" for k, ms in sorted(
        gw["cpu_ms_per_request"].items(), key=lambda kv: -kv[1]) if k != "load generator")
    cpu_a = a["cpu_ms_per_request"].get("nameko_gateway")
    return [
        ("submission", f"throughput, {r['concurrency']} clients",
         f"{gw['throughput_per_second']:.0f} demands/s = {ratio:.2f}x ref A "
         f"({a['throughput_per_second']:.0f}/s), {fraction:.2f} of ref B "
         f"({b['throughput_per_second']:,.0f} echo calls/s)",
         f"target >= {TARGET_RATIO}x ref A: " + ("ok" if ratio >= TARGET_RATIO else "MISSED")),
        ("submission", "latency p50 / p99",
         f"{gw['p50_ms']:.0f} / {gw['p99_ms']:.0f} ms; ref A {a['p50_ms']:.0f} / "
         f"{a['p99_ms']:.0f} ms ({r['p99_ratio_to_reference_a'] or 0:.2f}x); ref B "
         f"{b['p50_ms']:.0f} / {b['p99_ms']:.0f} ms",
         f"target p99 < {TARGET_P99_MS:.0f} ms: "
         + ("ok" if gw["p99_ms"] < TARGET_P99_MS else "MISSED")),
        ("submission", "committed and published",
         f"{v['in_postgresql']:,} of {v['answered_201']:,} answered 201 in PostgreSQL, "
         f"{v['events_published']:,} events published; {gw['failed']} failed",
         "ok" if v["ok"] and gw["failed"] == 0 else "FAIL"),
        ("submission", "CPU ms per demand", cpu + (f" (ref A's gateway {cpu_a:.1f})"
                                                  if cpu_a is not None else ""), ""),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    with bp.started() as bench:
        figures = run(bench, args.duration, args.warmup, args.concurrency)
    print(json.dumps({k: v for k, v in figures.items()
                      if k not in ("gateway", "reference_a", "reference_b")}, indent=2))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
