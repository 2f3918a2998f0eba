"""Run every benchmark, print one summary and write ``bench/results.json`` (``make bench``).

    python -m bench.run                       # every benchmark, one after the other
    python -m bench.run --only sla_sweep      # some of them (``make bench ONLY=...``):
    python -m bench.run --only submission,progress   # a name or its start
    python -m bench.run --demands 200000 --due 2000   # a smaller sweep (flags of bench.sla_sweep)
    python -m bench.run --only submission --submission-seconds 5   # a quick look

The SLA sweep and the import run against the benchmark database ``gridsvc_bench`` (never
``gridsvc``): the SLA sweep recreates it; the import then adds the demo zone to it (so
incubator grids exist, as in a ``make run`` database) and rolls its own rows back. The
submission and progress-read benchmarks share one platform of their own (``gridsvc_bench_api``,
see :mod:`bench.platform`: its ports and names can be moved, or a running platform used); the
footprint benchmark starts ``make run`` itself on that database afterwards. Prints which
targets are missed; exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench import (
    console,
    footprint,
    matching,
    progress_reads,
    province,
    request_bodies,
    search_reads,
    signin_memory,
    sla_sweep,
    submission,
    zone_summary,
)
from bench import platform as bench_platform
from common.db import make_engine
from devtools.migrate import load_demo, upgrade_all
from services.enterprise import demo_data

RESULTS = Path(__file__).resolve().parent / "results.json"
PACKAGES = ("nameko", "eventlet", "kombu", "SQLAlchemy", "psycopg2-binary", "psycogreen",
            "alembic", "openpyxl", "prometheus-client", "aio-pika", "starlette", "uvicorn",
            "marshmallow", "PyJWT", "httpx")
IMPORT_LIMIT_SECONDS = 10.0  # bench.import_enterprises' default --limit


def memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def rabbitmq_version() -> str:
    try:
        done = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True,
                              timeout=60)
        return done.stdout.strip() or f"unknown ({done.stderr.strip()[:80]})"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({type(exc).__name__})"


def machine() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    admin = create_engine(f"{sla_sweep.PG}/postgres")
    try:
        with admin.connect() as conn:
            postgres = conn.execute(text("SHOW server_version")).scalar_one()
    except Exception as exc:  # report what we can
        postgres = f"unknown ({type(exc).__name__})"
    finally:
        admin.dispose()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_bytes": memory_bytes(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "postgres": postgres,
        "rabbitmq": rabbitmq_version(),
        "packages": versions,
    }


def bench_import(rows: int = 10_000) -> dict[str, Any]:
    """``bench.import_enterprises`` in direct mode (its own functions), on ``gridsvc_bench``:
    two passes of the same 10,000-row XLSX in one transaction, rolled back."""
    from bench import import_enterprises as ie

    url = sla_sweep.DATABASE_URL
    upgrade_all(url)
    demo, demo_seconds = ie.timed(lambda: load_demo(url))
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url  # the module's helpers read load_settings()
    try:
        incubators = ie.existing_incubators()
        data, built = ie.timed(lambda: ie.build_rows(rows, demo_data.DEFAULT_SEED, incubators))
        content, written = ie.timed(lambda: ie.write_file(data))
        count, reference = ie.timed(lambda: ie.openpyxl_read(content))
        assert count == rows + 1
        print(f"{rows:,} rows, {len(content):,} bytes of XLSX (generated in {built:.2f} s, "
              f"written in {written:.2f} s); demo zone loaded in {demo_seconds:.1f} s")
        ie.report("reference: openpyxl read alone", reference, rows, reference)
        engine = make_engine(url, "enterprise", "bench-import", pool_size=1)
        passes = []
        try:
            with Session(engine) as session:
                for label in ("import (first pass)", "import again (same file)"):
                    phases, result = ie.one_pass(session, content, False)
                    ie.report(label, phases.seconds, rows, reference,
                              f"created {result.created}, updated {result.updated}, "
                              f"unchanged {result.unchanged}, rejected {result.rejected}")
                    passes.append({
                        "seconds": phases.seconds, "read_seconds": phases.read,
                        "validate_seconds": phases.validate, "database_seconds": phases.database,
                        "rows_per_second": rows / phases.seconds,
                        "created": result.created, "updated": result.updated,
                        "unchanged": result.unchanged, "rejected": result.rejected,
                    })
                session.rollback()
        finally:
            engine.dispose()
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
    first = passes[0]["seconds"]
    return {
        "rows": rows, "xlsx_bytes": len(content), "demo_load": demo,
        "reference_seconds": reference, "first_pass": passes[0], "second_pass": passes[1],
        "reference_ratio": first / reference, "limit_seconds": IMPORT_LIMIT_SECONDS,
        "ok": first <= IMPORT_LIMIT_SECONDS and passes[0]["rejected"] == 0,
    }


def summary(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, value, verdict) rows."""
    out: list[tuple[str, str, str, str]] = []
    s = results.get("sla_sweep")
    if s and "error" not in s:
        ok = "ok" if s["target_met"] else f"MISSED by {s['delay_max_seconds'] - 10:.1f} s"
        out += [
            ("sla_sweep", "data set", f"{s['demands']:,} demands, {s['due']:,} due at once, "
                                      f"{s['replicas']} replicas", ""),
            ("sla_sweep", "fill", f"{s['fill_seconds']['total']:.1f} s", ""),
            ("sla_sweep", "all handled after the deadline",
             f"{s['after_first_due_seconds']:.2f} s", f"target 10 s: {ok}"),
            ("sla_sweep", "timer delay p50 / p99",
             f"{s['delay_p50_seconds']:.2f} / {s['delay_p99_seconds']:.2f} s", ""),
            ("sla_sweep", "duplicate effects", str(s["duplicates"]),
             "ok" if s["duplicates"] == 0 else "FAIL"),
            ("sla_sweep", "split", ", ".join(f"{k} {v:,.0f}" for k, v in s["split"].items()),
             ""),
            ("sla_sweep", "vs bare SQL loop", f"{s['reference_ratio']:.1f}x "
                                              f"({s['reference']['seconds']:.2f} s)", ""),
        ]
    i = results.get("import_enterprises")
    if i and "error" not in i:
        first = i["first_pass"]
        out += [
            ("import_enterprises", "first pass", f"{first['seconds']:.2f} s, "
                                                 f"{first['rows_per_second']:,.0f} rows/s",
             "ok" if i["ok"] else f"MISSED (limit {i['limit_seconds']:.0f} s)"),
            ("import_enterprises", "second pass (unchanged)",
             f"{i['second_pass']['seconds']:.2f} s", ""),
            ("import_enterprises", "vs openpyxl read", f"{i['reference_ratio']:.1f}x", ""),
        ]
    for name, module in (("submission", submission), ("progress_reads", progress_reads),
                         ("console", console), ("signin_memory", signin_memory),
                         ("footprint", footprint),
                         ("matching", matching), ("zone_summary", zone_summary),
                         ("request_bodies", request_bodies), ("province", province),
                         ("search_reads", search_reads)):
        r = results.get(name)
        if r and "error" not in r:
            out += module.summary_rows(r)
    for name, r in results.items():
        if isinstance(r, dict) and "error" in r:
            out.append((name, "error", r["error"].splitlines()[-1][:60], "FAIL"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated benchmarks (a name or its start): "
                        "sla_sweep, import_enterprises, matching, submission, progress_reads, "
                        "console, signin_memory, zone_summary, request_bodies, province, "
                        "footprint; "
                        "the others keep their figures of the previous run in --out")
    parser.add_argument("--demands", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the import")
    parser.add_argument("--listings", type=int, default=100_000,
                        help="live listings of the matching benchmark")
    parser.add_argument("--submission-seconds", type=float, default=30.0,
                        help="measured seconds of each submission run (after 3 s of warm-up)")
    parser.add_argument("--concurrency", type=int, default=submission.CONCURRENCY)
    parser.add_argument("--progress-seconds", type=float, default=20.0)
    parser.add_argument("--progress-rate", type=float, default=progress_reads.RATE)
    parser.add_argument("--zone-queries", type=int, default=60,
                        help="zone_summary: queries per dimension and caller")
    parser.add_argument("--zone-100k-queries", type=int, default=20,
                        help="zone_summary at 100,000 enterprises: queries per dimension and "
                        "caller (0: leave that part out)")
    parser.add_argument("--province-queries", type=int, default=40,
                        help="province: samples of each p95 scenario")
    parser.add_argument("--province-only", default="",
                        help="province: some of its scenarios (fanout, preview, meeting, "
                        "registry, coverage, appraisal, storage, import)")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="footprint: seconds at idle before memory is read")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    api = ExitStack()  # the platform of submission and progress_reads, started once

    def api_platform() -> bench_platform.BenchPlatform:
        if not hasattr(api, "bench"):
            api.bench = api.enter_context(bench_platform.started())  # type: ignore[attr-defined]
        return api.bench  # type: ignore[attr-defined]

    def footprint_alone() -> dict[str, Any]:
        api.close()  # same database and ports: the shared platform goes first
        if hasattr(api, "bench"):
            del api.bench  # type: ignore[attr-defined]
        return footprint.run(args.idle)

    benches: dict[str, Callable[[], dict[str, Any]]] = {
        "sla_sweep": lambda: sla_sweep.run(args.demands, args.due, args.replicas),
        "import_enterprises": lambda: bench_import(args.rows),
        "matching": lambda: matching.run(args.listings),
        "submission": lambda: submission.run(api_platform(), args.submission_seconds,
                                             concurrency=args.concurrency),
        "progress_reads": lambda: progress_reads.run(api_platform(), args.progress_seconds,
                                                     rate=args.progress_rate),
        "console": lambda: console.run(api_platform()),
        "signin_memory": lambda: signin_memory.run(api_platform()),
        "request_bodies": request_bodies.run,
        "zone_summary": lambda: zone_summary.run(args.zone_queries, platform=api_platform(),
                                                 queries_100k=args.zone_100k_queries),
        "province": lambda: province.run(args.province_queries, only=args.province_only),
        # after the province: its data set (words given set-wise on the first run)
        "search_reads": lambda: search_reads.run("gridsvc_bench_province",
                                                 args.province_queries),
        "footprint": footprint_alone,
    }
    wanted = [w.strip() for w in (args.only or "").split(",") if w.strip()]
    unknown = [w for w in wanted if not any(name.startswith(w) for name in benches)]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(benches)}")
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    try:
        for name, bench in benches.items():
            if wanted and not any(name.startswith(w) for w in wanted):
                continue
            print(f"\n=== {name} ===", flush=True)
            begun = time.perf_counter()
            try:
                results[name] = bench()
            except Exception:
                traceback.print_exc()
                results[name] = {"error": traceback.format_exc(), "ok": False}
            results[name]["wall_seconds"] = time.perf_counter() - begun
            results[name]["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    finally:
        api.close()
    if wanted and args.out.exists():  # a subset: the other benchmarks' last figures stay
        try:
            previous = json.loads(args.out.read_text())
        except ValueError:
            previous = {}
        for name, figures in previous.items():
            if name in benches and name not in results:
                results[name] = figures
    results["total_seconds"] = time.perf_counter() - started

    print("\n=== summary ===")
    rows = summary(results)
    widths = [max(len(r[c]) for r in rows) for c in range(3)] if rows else [0, 0, 0]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)),
              row[3], sep="  ")
    m = results["machine"]
    memory = f"{m['memory_bytes'] / 2**30:.0f} GiB" if m["memory_bytes"] else "?"
    print(f"machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {memory}, Python {m['python']}, "
          f"PostgreSQL {m['postgres']}, RabbitMQ {m['rabbitmq']}, nameko "
          f"{m['packages']['nameko']}; total {results['total_seconds']:.0f} s")
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written: {args.out}")
    missed = [k for k, r in results.items()
              if isinstance(r, dict) and k != "machine" and not r.get("ok")]
    # a figure over its budget is named even where its scenario's own checks held (the
    # province's "ok" is exactly-once delivery): the last line never says "met" above a MISSED
    over = [f"{row[0]}: {row[1]}" for row in rows if "MISSED" in row[3] and row[0] not in missed]
    # a benchmark reports; it does not fail the build (docs/performance.md: targets missed)
    print("targets missed: " + "; ".join(missed + over) if missed or over
          else "every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
