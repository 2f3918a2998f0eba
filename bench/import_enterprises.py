"""Benchmark of the bulk import: a 10,000-row XLSX of valid, demo-like enterprises.

    python -m bench.import_enterprises                 # direct, rolled back at the end
    python -m bench.import_enterprises --keep          # direct, committed
    python -m bench.import_enterprises --gateway http://127.0.0.1:8000 --dry-run

Direct mode runs :mod:`services.enterprise.importer` against the database named in
``DATABASE_URL`` inside one transaction (rolled back unless ``--keep``): a first pass that
creates every row, then a second pass of the same file that changes nothing. Gateway mode
POSTs the file to ``/api/v1/enterprises/import`` with an admin token minted from
``JWT_SECRET`` (mind the gateway's ``MAX_BODY_BYTES``, 1 MiB by default, and
``RPC_TIMEOUT_SECONDS``, 10 s by default).

The reference is openpyxl alone reading the same file (read-only, values only): the import
is reported as a multiple of it.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.config import load_settings
from common.db import make_engine
from services.enterprise import credit_code, demo_data, importer, spreadsheet
from services.enterprise.models import Grid

T = TypeVar("T")

HEADER = ("统一社会信用代码", "企业名称", "地址", "经度", "纬度", "行业代码", "规模", "孵化器",
          "是否在营", "是否有营业收入", "是否纳税", "联系人", "联系电话", "标签")
#: administrative division of the generated codes: none of the demo data's (370212)
DIVISION = "370299"


def build_rows(count: int, seed: int, incubators: set[str] | None) -> list[list[Any]]:
    """``count`` valid rows from the demo generator, with codes of :data:`DIVISION`.

    ``incubators``: the incubator grid ids that exist (others left blank); None keeps all.
    """
    data = demo_data.build(seed, enterprise_count=count, incubated_count=count * 2 // 3)
    rng = random.Random(seed)
    codes: set[str] = set()
    rows = []
    for i, e in enumerate(data.enterprises):
        code = credit_code.generate(rng, DIVISION)
        while code in codes:
            code = credit_code.generate(rng, DIVISION)
        codes.add(code)
        incubator = e.incubator_id if incubators is None or e.incubator_id in incubators else None
        rows.append([
            code, e.name, e.address, e.lon, e.lat, e.industry_code,
            spreadsheet.SCALE_LABELS[e.scale], incubator, "是", "是", "是",
            f"联系人{i % 97}", f"139{i:08d}", "高新技术企业、专精特新" if i % 3 else "",
        ])
    return rows


def write_file(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("企业")
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def openpyxl_read(content: bytes) -> int:
    """The reference: openpyxl reading every value of the file, nothing else."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return count


def report(label: str, seconds: float, rows: int, reference: float, extra: str = "") -> None:
    print(f"{label:<34} {seconds:7.2f} s  {rows / seconds:9,.0f} rows/s  "
          f"{seconds / reference:5.1f}x openpyxl read  {extra}")


@dataclass
class Phases:
    read: float
    validate: float
    database: float

    @property
    def seconds(self) -> float:
        return self.read + self.validate + self.database


def one_pass(session: Session, content: bytes, dry_run: bool
             ) -> tuple[Phases, importer.ImportResult]:
    """What ``importer.import_table`` does after reading, timed phase by phase."""
    table, read = timed(lambda: spreadsheet.read_table(content, "xlsx"))
    (valid, errors, _), checked = timed(lambda: importer.validate_rows(table))
    result, written = timed(lambda: importer.upsert_enterprises(
        session, [d for _, d in valid], "bench", dry_run, row_numbers=[n for n, _ in valid]))
    result.errors += errors
    return Phases(read, checked, written), result


def direct(content: bytes, rows: int, reference: float, keep: bool, dry_run: bool) -> float:
    settings = load_settings()
    engine = make_engine(settings.database_url, "enterprise", "bench-import", pool_size=1)
    try:
        with Session(engine) as session:
            first = 0.0
            for label in ("import (first pass)", "import again (same file)"):
                total, result = one_pass(session, content, dry_run)
                first = first or total.seconds
                report(label, total.seconds, rows, reference,
                       f"created {result.created}, updated {result.updated}, "
                       f"unchanged {result.unchanged}, rejected {result.rejected}")
                print(f"  read+parse {total.read:.2f} s, validate {total.validate:.2f} s, "
                      f"database {total.database:.2f} s")
            if keep and not dry_run:
                session.commit()
                print("committed (--keep)")
            else:
                session.rollback()
                print("rolled back: nothing stays in", engine.url.database)
    finally:
        engine.dispose()
    return first


def via_gateway(content: bytes, rows: int, reference: float, url: str, token: str | None,
                dry_run: bool) -> float:
    import httpx

    from common.auth import Principal, Role, mint_token

    settings = load_settings()
    token = token or mint_token(Principal(user_id="bench", role=Role.ADMIN),
                                settings.signing_key(), 600)
    response, seconds = timed(lambda: httpx.post(
        f"{url.rstrip('/')}/api/v1/enterprises/import",
        params={"dry_run": str(dry_run).lower(), "format": "xlsx"}, content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": spreadsheet.XLSX_MIME},
        timeout=60))
    if response.status_code != 200:
        print(f"gateway answered {response.status_code}: {response.text[:500]}")
        raise SystemExit(1)
    body = response.json()
    report("import through the gateway", seconds, rows, reference,
           f"created {body['created']}, updated {body['updated']}, "
           f"unchanged {body['unchanged']}, rejected {body['rejected']}")
    return seconds


def existing_incubators() -> set[str] | None:
    settings = load_settings()
    engine = make_engine(settings.database_url, "enterprise", "bench-import", pool_size=1)
    try:
        with Session(engine) as session:
            return set(session.scalars(select(Grid.id).where(Grid.kind == "incubator")))
    except Exception as exc:  # the database may be unreachable in gateway mode
        print(f"(grids not read: {type(exc).__name__}; incubator ids kept)")
        return None
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=demo_data.DEFAULT_SEED)
    parser.add_argument("--keep", action="store_true", help="commit (direct mode)")
    parser.add_argument("--dry-run", action="store_true", help="the importer's dry run")
    parser.add_argument("--gateway", metavar="URL", help="POST to this gateway instead")
    parser.add_argument("--token", help="bearer token for --gateway (default: minted admin)")
    parser.add_argument("--out", help="also save the generated XLSX here")
    parser.add_argument("--limit", type=float, default=10.0,
                        help="exit 1 if the first pass takes longer (seconds)")
    args = parser.parse_args(argv)

    incubators = existing_incubators()
    rows, built = timed(lambda: build_rows(args.rows, args.seed, incubators))
    content, written = timed(lambda: write_file(rows))
    if args.out:
        with open(args.out, "wb") as out:
            out.write(content)
    print(f"{args.rows:,} rows, {len(content):,} bytes of XLSX "
          f"(generated in {built:.2f} s, written in {written:.2f} s)")
    count, reference = timed(lambda: openpyxl_read(content))
    assert count == args.rows + 1
    report("reference: openpyxl read alone", reference, args.rows, reference)
    if args.gateway:
        seconds = via_gateway(content, args.rows, reference, args.gateway, args.token,
                              args.dry_run)
    else:
        seconds = direct(content, args.rows, reference, args.keep, args.dry_run)
    if seconds > args.limit:
        print(f"SLOW: {seconds:.2f} s is over the {args.limit:.0f} s limit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
