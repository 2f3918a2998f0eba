"""The data set of the zone economic summary at province scale (``make bench ONLY=zone_summary``,
:mod:`bench.zone_summary`): 100,000 enterprises x 24 months of figures on a database of its own
(``gridsvc_bench_zone100k``), generated set-wise (``INSERT ... SELECT`` over
``generate_series``) once and reused while its marker row says it is complete.

    python -m bench.zone_summary_data                  # generate if missing
    python -m bench.zone_summary_data --regenerate     # drop and generate again

What it holds, on top of the demo zone and the zone demo step (departments, 39 grids, 1,200
enterprises with 24 months of 2024-2025, the carriers, the five leading industries):

- grids up to 3,000 and enterprises up to 100,000, as the province of
  :mod:`bench.province_data` generates them (the same statements: a lattice of geographic
  grids, a tenth of the enterprises in C39, the rest over 14 divisions, 2 % out of scope);
- for every generated enterprise the months 2024-01 to 2025-12 (24 rows each; one month in
  forty left unreported, so gaps exist), flows from a hash of the credit code and the month;
- a tenancy in one of the demo's parks and buildings for every twentieth generated enterprise
  (5,000 tenants), so that the carrier dimension has groups of hundreds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sqlalchemy import Engine, text

from bench import province_data as province
from common.db import make_engine
from devtools.migrate import ensure_database, load_demo, load_zone_demo, upgrade_all

DATABASE = "gridsvc_bench_zone100k"
ENTERPRISES = province.ENTERPRISES
GRIDS = province.GRIDS

FIGURES_SQL = """
INSERT INTO enterprise.zone_indicator_values (
  enterprise_id, year, period_kind, period, output_value, revenue, tax, employees, rd_spend,
  source, imported_by, imported_at, version)
SELECT e.id, y, 'month', m, round(b.base * 3, 2), round(b.base * 2.4, 2), round(b.base / 9, 2),
       5 + b.seed % 300, CASE WHEN b.seed % 7 = 0 THEN NULL ELSE round(b.base / 25, 2) END,
       'bench', 'bench', now(), 1
FROM enterprise.enterprises e, generate_series(2024, 2025) AS y, generate_series(1, 12) AS m,
LATERAL (SELECT abs(hashtext(e.credit_code || ':' || y || ':' || m)) AS seed) AS h,
LATERAL (SELECT h.seed, (20 + h.seed % 2000 + (y - 2024) * 40)::numeric AS base) AS b
WHERE e.credit_code LIKE '91370299%' AND h.seed % 40 <> 0
"""

TENANCIES_SQL = """
INSERT INTO enterprise.zone_tenancies (carrier_id, enterprise_id, area, moved_in_on,
                                       recorded_by, recorded_at)
SELECT c.id, e.id, 50 + e.k % 400, date '2023-06-01', 'bench', now()
FROM (SELECT id, row_number() OVER (ORDER BY credit_code) AS k FROM enterprise.enterprises
      WHERE credit_code LIKE '91370299%') AS e
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n,
             count(*) OVER () AS carriers
      FROM enterprise.zone_carriers WHERE kind <> 'incubator') AS c
  ON c.n = (e.k / 20) % c.carriers
WHERE e.k % 20 = 0
"""


def complete(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('bench.zone100k') IS NOT NULL")
                            ).scalar_one():
            return None
        row = conn.execute(text("SELECT sizes FROM bench.zone100k")).first()
    return dict(row[0]) if row else None


def generate(engine: Engine) -> dict[str, Any]:
    times: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
        conn.execute(text("DROP TABLE IF EXISTS bench.zone100k"))
        grids = conn.execute(text("SELECT count(*) FROM enterprise.grids")).scalar_one()
        enterprises = conn.execute(text(
            "SELECT count(*) FROM enterprise.enterprises")).scalar_one()
    step = province._step  # noqa: SLF001 -- the same timed statement runner
    step(engine, times, "grids", province.GRIDS_SQL, n=GRIDS - grids, places=province.PLACES,
         columns=province.COLUMNS)
    step(engine, times, "enterprises", province.ENTERPRISES_SQL, n=ENTERPRISES - enterprises,
         places=province.PLACES, brands=province.BRANDS, trades=province.TRADES,
         division=province.DIVISION, divisions=province.OTHER_DIVISIONS,
         scales=province.SCALES, grids=GRIDS)
    step(engine, times, "figures", FIGURES_SQL)
    step(engine, times, "tenancies", TENANCIES_SQL)
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("enterprise.grids", "enterprise.enterprises",
                      "enterprise.zone_indicator_values", "enterprise.zone_tenancies"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    times["vacuum_analyze"] = time.perf_counter() - started
    with engine.begin() as conn:
        sizes = {k: int(v) for k, v in conn.execute(text("""
            SELECT (SELECT count(*) FROM enterprise.enterprises) AS enterprises,
                   (SELECT count(*) FROM enterprise.grids) AS grids,
                   (SELECT count(*) FROM enterprise.zone_indicator_values) AS figure_rows,
                   (SELECT count(*) FROM enterprise.zone_tenancies
                    WHERE moved_out_on IS NULL) AS tenancies
        """)).one()._mapping.items()}
        sizes_out: dict[str, Any] = dict(sizes)
        sizes_out["generation_seconds"] = {k: round(v, 1) for k, v in times.items()}
        sizes_out["generation_total_seconds"] = round(sum(times.values()), 1)
        conn.execute(text("CREATE TABLE bench.zone100k (sizes jsonb NOT NULL)"))
        conn.execute(text("INSERT INTO bench.zone100k VALUES (CAST(:s AS jsonb))"),
                     {"s": json.dumps(sizes_out)})
    return sizes_out


def prepare(database: str = DATABASE, regenerate: bool = False
            ) -> tuple[str, dict[str, Any], bool]:
    """(URL, sizes, generated now?) of the data set, generated if missing."""
    if regenerate:
        province.drop(database)
    address = province.url(database)
    ensure_database(address)
    engine = make_engine(address, "enterprise", "bench-zone100k", pool_size=1)
    try:
        sizes = complete(engine)
        if sizes is not None:
            upgrade_all(address)
            return address, sizes, False
        province.drop(database)  # a partial one: start over
        ensure_database(address)
        upgrade_all(address)
        load_demo(address)
        load_zone_demo(address)
        print(f"generating 100,000 enterprises x 24 months in {database} ...", flush=True)
        return address, generate(engine), True
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    _, sizes, generated = prepare(args.database, args.regenerate)
    print(("generated: " if generated else "present: ") + json.dumps(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
