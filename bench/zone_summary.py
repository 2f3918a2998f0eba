"""Benchmark of the zone economic summary (整体经济运行): its latency over 1,200 enterprises x 24
months of figures, with a bare-SQL reference.

    python -m bench.zone_summary                       # 60 queries per dimension and caller
    python -m bench.zone_summary --queries 20 --database gridsvc_bench_zone

The issue: "`make bench` adds the zone economic summary over 1,200 enterprises x 24 months,
p95 with its bare-SQL reference."

On its own database (``gridsvc_bench_zone`` unless ``--database``: migrated, the demo zone and
the zone demo step loaded if missing, so 1,200 enterprises with their 24 months of 2024-2025):

1. the service's own :func:`services.enterprise.zone.economy.summary`, in process, for a month
   of 2025 drawn at random, by each dimension (zone, grid, industry division, leading industry,
   carrier), for a caller granted the per-enterprise figures (a leader: the aggregates as they
   are) and for one that is not (招商部's liaison: the release check runs over every group of
   the period and the year before), ``--queries`` times each after a warm-up; p50 and p95;
2. the reference: the same month's sums by grid (and for the zone, and by division) in one
   hand-written ``GROUP BY`` over the two periods, timed the same way;
3. with a running benchmark platform (``make bench`` shares one), the same summary through the
   gateway (``GET /api/v1/zone/economy/summary?by=grid``), its demo zone given the zone step;
4. at province scale: 1 and 2 again over 100,000 enterprises x 24 months (about 2.3 million
   rows) on a database of their own (``gridsvc_bench_zone100k``, generated set-wise once by
   :mod:`bench.zone_summary_data` and reused), ``queries_100k`` times each after one warm-up;
   the restricted caller's release check decided afresh :data:`FRESH_100K` times.

The restricted caller is timed twice: with the release check's answers kept (every month of
2025 asked once first, as a running service keeps them until the figures or the registry
change) and decided afresh (the kept answers dropped before each query: what the first
request after an import costs).

Timings only; ``ok`` means every query answered.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.load import percentile
from common.auth import Principal, Role
from common.db import make_engine
from devtools.migrate import ensure_database, load_demo, load_zone_demo, upgrade_all
from services.enterprise.zone import disclosure, economy
from services.enterprise.zone.periods import Period
from services.enterprise.zone.vocabulary import DIMENSIONS

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE = "gridsvc_bench_zone"
SEED = 20200706
WARMUP = 5
GRANTED = Principal("bench-leader", Role.LEADER)
RESTRICTED = Principal("bench-liaison", Role.LIAISON, department_id="investment_promotion")

#: the reference: one month and the same month a year earlier, summed by a key
REFERENCE = """
SELECT v.year, v.period, {key} AS key,
       sum(v.output_value), count(v.output_value), sum(v.revenue), count(v.revenue),
       sum(v.tax), count(v.tax), sum(v.employees), count(v.employees),
       sum(v.rd_spend), count(v.rd_spend)
FROM enterprise.zone_indicator_values v JOIN enterprise.enterprises e ON e.id = v.enterprise_id
WHERE v.period_kind = 'month' AND (v.year, v.period) IN ((:year, :month), (:year - 1, :month))
GROUP BY 1, 2, 3
"""
REFERENCE_KEYS = {"zone": "'zone'", "grid": "coalesce(e.grid_id, 'unassigned')",
                  "industry_division": "substr(e.industry_code, 1, 3)"}


def prepare(database: str) -> tuple[str, dict[str, Any]]:
    """The database URL, with the demo zone and its figures loaded (timed when loaded)."""
    url = f"{PG}/{database}"
    ensure_database(url)
    upgrade_all(url)
    started = time.perf_counter()
    demo = load_demo(url)
    zone = load_zone_demo(url)
    return url, {"demo": demo, "zone": zone, "load_seconds": time.perf_counter() - started}


def _timed(call: Callable[[], Any], queries: int, warmup: int = WARMUP) -> dict[str, float]:
    for _ in range(warmup):
        call()
    took = []
    for _ in range(queries):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return {"queries": queries, "p50_ms": percentile(took, 50), "p95_ms": percentile(took, 95),
            "max_ms": max(took)}


def measure(engine: Engine, queries: int, rng: random.Random, warmup: int = WARMUP,
            fresh: tuple[int, int] | None = None) -> dict[str, Any]:
    """``fresh``: (queries, warm-up) of the restricted caller whose release check is decided
    afresh each time (its kept answers dropped first), when not those of the others."""
    found: dict[str, Any] = {"service": {}, "reference": {}}

    def month() -> Period:
        return Period(2025, "month", rng.randint(1, 12))

    with Session(engine) as session:
        rows = session.execute(text(
            "SELECT count(DISTINCT enterprise_id), count(*) FROM "
            "enterprise.zone_indicator_values")).one()
        found["enterprises"], found["rows"] = int(rows[0]), int(rows[1])
        plan = {"granted": (queries, warmup), "restricted": (queries, warmup),
                "restricted_fresh": fresh or (queries, warmup)}
        for caller, principal in (("granted", GRANTED), ("restricted", RESTRICTED),
                                  ("restricted_fresh", RESTRICTED)):
            count, warm = plan[caller]
            if caller == "restricted":  # every month's release check decided and kept first
                for number in range(1, 13):
                    economy.summary(session, principal,
                                    {"by": "zone", "period": Period(2025, "month", number)})
                    session.rollback()
            for dimension in DIMENSIONS:
                def summary(dimension: str = dimension, principal: Principal = principal,
                            caller: str = caller) -> Any:
                    if caller == "restricted_fresh":
                        disclosure._DECIDED.clear()  # noqa: SLF001 -- decided afresh
                    result = economy.summary(session, principal,
                                             {"by": dimension, "period": month()})
                    session.rollback()
                    return result

                found["service"].setdefault(caller, {})[dimension] = _timed(
                    summary, count, warm)
        for dimension, key in REFERENCE_KEYS.items():
            statement = text(REFERENCE.format(key=key))

            def bare(statement: Any = statement) -> Any:
                picked = month()
                return session.execute(statement, {"year": picked.year,
                                                   "month": picked.number}).all()

            found["reference"][dimension] = _timed(bare, queries, warmup)
    granted, reference = found["service"]["granted"]["grid"], found["reference"]["grid"]
    found["reference_ratio"] = granted["p95_ms"] / reference["p95_ms"]
    return found


def through_gateway(base: str, token: str, queries: int, rng: random.Random) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        def summary() -> None:
            answer = client.get("/api/v1/zone/economy/summary", params={
                "by": "grid", "period": f"2025-{rng.randint(1, 12):02d}"})
            answer.raise_for_status()

        return _timed(summary, queries)


#: restricted summaries decided afresh at 100,000 enterprises: (queries, warm-up) per
#: dimension (seconds each; before issue 23's split check, minutes)
FRESH_100K = (3, 0)


def province_scale(queries: int, rng: random.Random) -> dict[str, Any]:
    """1 and 2 over 100,000 enterprises x 24 months (its own database, generated once)."""
    from bench import zone_summary_data

    url, sizes, generated = zone_summary_data.prepare()
    engine = make_engine(url, "enterprise", "bench-zone100k", pool_size=1)
    try:
        found = measure(engine, queries, rng, warmup=1, fresh=FRESH_100K)
    finally:
        engine.dispose()
    found["data_set"] = {"database": zone_summary_data.DATABASE, "generated_now": generated,
                         **sizes}
    return found


def run(queries: int = 60, database: str = DATABASE, platform: Any = None,
        queries_100k: int = 20) -> dict[str, Any]:
    rng = random.Random(SEED)
    url, loaded = prepare(database)
    engine = make_engine(url, "enterprise", "bench-zone", pool_size=1)
    try:
        result = measure(engine, queries, rng)
    finally:
        engine.dispose()
    result["load"] = loaded
    if queries_100k > 0:
        result["province_scale"] = province_scale(queries_100k, rng)
    if platform is not None:
        from bench import platform as bp

        load_zone_demo(platform.database_url)
        result["gateway"] = {
            caller: through_gateway(platform.gateway_url, bp.token(role, **claims), queries, rng)
            for caller, role, claims in (
                ("granted", Role.LEADER, {}),
                ("restricted", Role.LIAISON, {"department_id": "investment_promotion"}))}
    result["ok"] = True
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    _report_scale(r)
    for caller, f in r.get("gateway", {}).items():
        print(f"  gateway summary by grid    {caller:<10} p50 {f['p50_ms']:7.1f} ms  "
              f"p95 {f['p95_ms']:7.1f} ms")
    if "province_scale" in r:
        _report_scale(r["province_scale"])


def _report_scale(r: dict[str, Any]) -> None:
    print(f"{r['enterprises']:,} enterprises, {r['rows']:,} monthly rows")
    for caller, by_dimension in r["service"].items():
        for dimension, f in by_dimension.items():
            print(f"  summary by {dimension:<17} {caller:<10} p50 {f['p50_ms']:7.1f} ms  "
                  f"p95 {f['p95_ms']:7.1f} ms")
    for dimension, f in r["reference"].items():
        print(f"  bare SQL by {dimension:<16}            p50 {f['p50_ms']:7.1f} ms  "
              f"p95 {f['p95_ms']:7.1f} ms")


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = _scale_rows(r, "")
    for caller, f in r.get("gateway", {}).items():
        rows.append(("zone_summary", f"gateway by grid, {caller} p95", f"{f['p95_ms']:.1f} ms",
                     ""))
    if "province_scale" in r:
        rows += _scale_rows(r["province_scale"], "100k: ")
    return rows


def _scale_rows(r: dict[str, Any], prefix: str) -> list[tuple[str, str, str, str]]:
    granted, restricted = r["service"]["granted"], r["service"]["restricted"]
    rows = [
        ("zone_summary", f"{prefix}data set", f"{r['enterprises']:,} enterprises x 24 months "
                                              f"({r['rows']:,} rows)", ""),
        ("zone_summary", f"{prefix}by grid, granted p50 / p95",
         f"{granted['grid']['p50_ms']:.1f} / {granted['grid']['p95_ms']:.1f} ms", ""),
        ("zone_summary", f"{prefix}by grid, restricted p95",
         f"{restricted['grid']['p95_ms']:.1f} ms", ""),
        ("zone_summary", f"{prefix}by grid, restricted decided afresh p95",
         f"{r['service']['restricted_fresh']['grid']['p95_ms']:.1f} ms", ""),
        ("zone_summary", f"{prefix}slowest dimension p95", max(
            (f"{f['p95_ms']:.1f} ms ({caller}, {d})" for caller, by in r["service"].items()
             for d, f in by.items()), key=lambda s: float(s.split()[0])), ""),
        ("zone_summary", f"{prefix}vs bare SQL by grid",
         f"{r['reference_ratio']:.1f}x ({r['reference']['grid']['p95_ms']:.1f} ms)", ""),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--queries-100k", type=int, default=20,
                        help="queries at 100,000 enterprises (0: leave them out)")
    args = parser.parse_args(argv)
    result = run(args.queries, args.database, queries_100k=args.queries_100k)
    print(json.dumps({k: v for k, v in result.items() if k != "load"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
