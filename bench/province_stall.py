"""The enterprise service's longest stall while it imports a province's file (issue 20), under
eventlet with psycopg2 made cooperative exactly as in the service, while another green thread
of the same process asks to run every 50 ms (as the service's other calls would). The longest
wait of that thread beyond its 50 ms is how long every other call of the process waited at
worst. Two paths:

- ``--path job`` (the default): the import job as the service's import runner runs it
  (``import_jobs.create``, ``claim``, ``run``: the file read, validated, then imported 500 rows
  per transaction, each committed, a yield between batches). It writes: run it on a database
  of your own (``--dry-run`` writes only the job's rows; every batch rolled back);
- ``--path rpc``: the synchronous ``import_enterprises`` RPC (``spreadsheet.read_table`` then
  ``importer.import_table``, one transaction, rolled back here): the "before".

    python -m bench.province_stall --url ... --rows 50000 [--path rpc] [--dry-run]

Run by :func:`bench.province.import_xlsx` in a process of its own (eventlet must patch first).
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

TICK = 0.05


def measure(url: str, rows: int, seed: int, path: str = "job",
            dry_run: bool = False) -> dict[str, Any]:
    import os

    from sqlalchemy.orm import Session

    from bench import import_enterprises as ie
    from common.db import make_engine
    from services.enterprise import importer, spreadsheet

    os.environ["DATABASE_URL"] = url
    content = ie.write_file(ie.build_rows(rows, seed, ie.existing_incubators()))
    gaps: list[float] = []
    ends: list[float] = []  # when each gap ended, seconds after the start
    worst = [0.0, 0.0, 0.0]  # the longest gap, when it ended (s after the start), its CPU
    running = True
    origin = time.perf_counter()

    collections: list[float] = []  # full collections of the garbage collector, seconds
    collecting = [0.0]
    collection_ends: list[float] = []

    def timed_collection(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            collecting[0] = time.perf_counter()
        else:
            collections.append(time.perf_counter() - collecting[0])
            collection_ends.append(time.perf_counter() - origin)

    import gc

    gc.callbacks.append(timed_collection)

    def ticker() -> None:
        while running:
            started, cpu = time.perf_counter(), time.process_time()
            eventlet.sleep(TICK)
            gap = time.perf_counter() - started - TICK
            gaps.append(gap)
            ends.append(time.perf_counter() - origin)
            if gap > worst[0]:
                # the process's CPU during the wait: near the wait, our code held the hub;
                # far below it, the machine did not run the process (load of other sessions)
                worst[:] = [gap, time.perf_counter() - origin, time.process_time() - cpu]

    engine = make_engine(url, "enterprise", "bench-province-stall", pool_size=2)
    probe = eventlet.spawn(ticker)
    eventlet.sleep(0.2)
    started = origin = time.perf_counter()
    try:
        if path == "rpc":
            with Session(engine) as session:
                table = spreadsheet.read_table(content, "xlsx")
                result = importer.import_table(session, table, "bench", dry_run)
                session.rollback()
            counts = {"created": result.created, "rejected": result.rejected}
        else:
            counts = _job(engine, content, dry_run, origin)
    finally:
        seconds = time.perf_counter() - started
        running = False
        probe.wait()
        engine.dispose()
    if counts.get("read_s") is not None:  # the job: its longest stall in each phase
        edges = (0.0, counts["read_s"], counts["validated_s"] or seconds, float("inf"))
        counts["max_ms_by_phase"] = {
            phase: max((g for g, e in zip(gaps, ends, strict=True) if low <= e < high),
                       default=0.0) * 1000
            for phase, low, high in zip(("read", "validate", "batches"), edges, edges[1:],
                                         strict=False)}
        counts["longest_full_collection_ms_by_phase"] = {
            phase: max((c for c, e in zip(collections, collection_ends, strict=True)
                        if low <= e < high), default=0.0) * 1000
            for phase, low, high in zip(("read", "validate", "batches"), edges, edges[1:],
                                         strict=False)}
    gaps.sort()
    return {"path": path, "rows": rows, "dry_run": dry_run, "seconds": seconds,
            "rows_per_second": rows / seconds, **counts,
            "ticks": len(gaps), "max_ms": gaps[-1] * 1000,
            "p99_ms": gaps[int(len(gaps) * 0.99)] * 1000 if gaps else None,
            "over_1s": sum(1 for g in gaps if g > 1.0),
            "max_ended_at_s": worst[1], "max_gap_cpu_ms": worst[2] * 1000,
            "full_collections": len(collections),
            "longest_full_collection_ms": max(collections, default=0.0) * 1000}


def _job(engine: Any, content: bytes, dry_run: bool, origin: float) -> dict[str, Any]:
    """The import job from its creation to its end, as the runner runs it."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    from sqlalchemy import Connection
    from sqlalchemy.orm import Session, sessionmaker

    from services.enterprise import import_jobs
    from services.enterprise.models import ImportJob

    make = sessionmaker(bind=engine, expire_on_commit=False)
    session = make()

    @contextmanager
    def transaction() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @contextmanager
    def statement() -> Iterator[Connection]:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    runner = f"bench-{time.time_ns()}"
    with transaction() as s:
        job_id = import_jobs.create(s, runner, content, "xlsx", dry_run).id
    with transaction() as s:
        claimed = import_jobs.claim(s, runner)
    assert claimed == job_id, (claimed, job_id)  # an older job pending in this database
    pauses: list[float] = []  # the first ends the read, the second the validation

    def pause() -> None:
        if len(pauses) < 2:
            pauses.append(time.perf_counter() - origin)
        eventlet.sleep(0)

    from eventlet import tpool

    status = import_jobs.run(transaction, statement, job_id, runner, pause=pause,
                             offload=tpool.execute)
    with transaction() as s:
        job = s.get(ImportJob, job_id)
        assert job is not None
        found = {"status": status, "created": job.created, "updated": job.updated,
                 "unchanged": job.unchanged, "rejected": job.rejected, "job_id": job_id,
                 "read_s": pauses[0] if pauses else None,
                 "validated_s": pauses[1] if len(pauses) > 1 else None}
    session.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20200706)
    parser.add_argument("--path", choices=("job", "rpc"), default="job")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.url, args.rows, args.seed, args.path, args.dry_run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
