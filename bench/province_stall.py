"""The enterprise service's longest stall while it imports a province's file (issue 20): the
import as the ``import_enterprises`` RPC runs it (``spreadsheet.read_table`` then
``importer.import_table``, one transaction, rolled back here), under eventlet with psycopg2
made cooperative exactly as in the service, while another green thread of the same process
asks to run every 50 ms (as the service's other calls would). The longest wait of that thread
beyond its 50 ms is how long every other call of the process waited at worst.

    python -m bench.province_stall --rows 50000     # one file at the import's row limit

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


def measure(url: str, rows: int, seed: int) -> dict[str, Any]:
    import os

    from sqlalchemy.orm import Session

    from bench import import_enterprises as ie
    from common.db import make_engine
    from services.enterprise import importer, spreadsheet

    os.environ["DATABASE_URL"] = url
    content = ie.write_file(ie.build_rows(rows, seed, ie.existing_incubators()))
    gaps: list[float] = []
    running = True

    def ticker() -> None:
        while running:
            started = time.perf_counter()
            eventlet.sleep(TICK)
            gaps.append(time.perf_counter() - started - TICK)

    engine = make_engine(url, "enterprise", "bench-province-stall", pool_size=1)
    probe = eventlet.spawn(ticker)
    eventlet.sleep(0.2)
    started = time.perf_counter()
    try:
        with Session(engine) as session:
            table = spreadsheet.read_table(content, "xlsx")
            result = importer.import_table(session, table, "bench", False)
            session.rollback()
    finally:
        seconds = time.perf_counter() - started
        running = False
        probe.wait()
        engine.dispose()
    gaps.sort()
    return {"rows": rows, "seconds": seconds, "created": result.created,
            "ticks": len(gaps), "max_ms": gaps[-1] * 1000,
            "p99_ms": gaps[int(len(gaps) * 0.99)] * 1000 if gaps else None,
            "over_1s": sum(1 for g in gaps if g > 1.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20200706)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.url, args.rows, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
