"""Import of the statistics office's figures (统计局报表导入): XLSX or CSV rows -> monthly or
quarterly figures per enterprise, with a dry run and per-row errors, as the enterprise import.

Columns (Chinese headers or the English field names; a unit in brackets is ignored, so
``产值（万元）`` is 产值): 统一社会信用代码 (required), 企业名称 (read, not checked), the
period as 报告期 (``2025-06``, ``2025年6月``, ``2025-Q2``, ``2025年第二季度``) or as 年份 with
月份 or 季度, then any of 产值, 营业收入, 税收, 从业人员, 研发投入 (万元; 从业人员 in persons).

Each row is one enterprise's figures for one month or quarter. Refused, with the row, the
column and the reason: an unknown or unregistered credit code, a period that cannot be read or
has not begun, a figure that is not a non-negative number (两位小数 at most; employees whole), a
row without any figure, the same enterprise and period twice in the file, and a quarter of an
enterprise that reports that quarter's months (or a month of one that reports the quarter).

Idempotent on (enterprise, period): a known period is updated only where a cell differs, and
an empty cell keeps the stored figure (``updated`` vs ``unchanged``). A dry run does all the
work inside a savepoint that is rolled back, so its counts are real. Imports are serialised
with a transaction-level advisory lock.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, any_, bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from common.errors import InvalidValue, ValidationFailed, field_error
from common.i18n import N_, label, phrase
from services.enterprise import credit_code, spreadsheet
from services.enterprise.importer import ImportResult, RowError
from services.enterprise.models import Enterprise
from services.enterprise.zone.models import IndicatorValue
from services.enterprise.zone.periods import Period, parse_reported
from services.enterprise.zone.vocabulary import INDICATORS, STOCKS

ADVISORY_LOCK_KEY = "enterprise.zone.figure_import"
SOURCE = "statistics_import"
MAX_VALUE = Decimal(10) ** 13
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码")),
    Column("name", "企业名称", ("单位名称", "名称", "企业名", "公司名称")),
    Column("period", "报告期", ("期间", "统计期", "所属期", "报告期别", "月份期间")),
    Column("year", "年份", ("年度", "年")),
    Column("month", "月份", ("月",)),
    Column("quarter", "季度", ("季",)),
    Column("output_value", "产值", ("工业总产值", "总产值", "产值(当期)")),
    Column("revenue", "营业收入", ("营收", "主营业务收入", "营业收入(当期)")),
    Column("tax", "税收", ("纳税", "纳税额", "税金", "实缴税金", "税收收入")),
    Column("employees", "从业人员", ("从业人数", "员工人数", "职工人数", "期末从业人员")),
    Column("rd_spend", "研发投入", ("研发费用", "研发经费", "r&d经费")),
)
LABELS = {c.field: c.label for c in COLUMNS}
_UNIT = re.compile(r"[(（][^)）]*[)）]$")


def _key(text_: str) -> str:
    key = unicodedata.normalize("NFKC", text_)
    key = re.sub(r"[\s*]", "", key).lower()
    return _UNIT.sub("", key) or key


_ALIASES = {_key(name): c.field for c in COLUMNS for name in (c.field, c.label, *c.aliases)}


def map_headers(header: Sequence[str]) -> dict[int, str]:
    """Column index -> field; the header problems raise ValidationFailed (coded, as the
    enterprise import's, :func:`services.enterprise.spreadsheet.map_headers`)."""
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    for index, name in enumerate(header):
        field = _ALIASES.get(_key(name)) if name else None
        if field is None:
            continue
        if field in seen:
            problems.append(field_error("import.column_twice",
                                        "columns {first} and {second} both mean {field}",
                                        first=repr(seen[field]), second=repr(name),
                                        field=LABELS[field]))
            continue
        seen[field] = name
        mapping[index] = field
    if "credit_code" not in seen:
        problems.append(field_error("import.columns_missing", "missing columns: {columns}",
                                    columns=[LABELS["credit_code"]]))
    if "period" not in seen and not ("year" in seen and ({"month", "quarter"} & set(seen))):
        problems.append(field_error("zone.period_column_missing",
                                    "give the period as 报告期, or as 年份 with 月份 or 季度"))
    if not set(INDICATORS) & set(seen):
        problems.append(field_error("zone.figure_column_missing",
                                    "no figure column: 产值, 营业收入, 税收, 从业人员 or 研发投入"))
    if problems:
        raise ValidationFailed("the header row (row 1) is not usable: {problems}",
                               {"header": problems}, code="import.header_unusable",
                               params={"problems": [phrase(p["message"], p.get("params"))
                                                    for p in problems]})
    return mapping


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    number: int
    code: str
    period: Period
    values: dict[str, Decimal | int]


class _Rejected(ValueError):
    """One cell refused: the field, a stable code and an English message id with its
    parameters (a :class:`RowError` once the row is known)."""

    def __init__(self, field: str, code: str, message: str, /, **params: Any) -> None:
        super().__init__(message)
        self.field, self.code, self.message, self.params = field, code, message, params


def _number(value: Any, name: str) -> Decimal | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Rejected(name, "zone.figure_not_number", N_("not a number"))
    if isinstance(value, int | float):
        raw = str(value)
    else:
        raw = unicodedata.normalize("NFKC", spreadsheet.clean_text(value)).replace(",", "")
        if raw in ("", "-", "—"):
            return None
    try:
        number = Decimal(raw)
    except InvalidOperation as exc:
        raise _Rejected(name, "zone.figure_not_number", N_("{value} is not a number"),
                        value=raw) from exc
    if not number.is_finite():
        raise _Rejected(name, "zone.figure_not_number", N_("{value} is not a number"),
                        value=raw)
    if number < 0:
        raise _Rejected(name, "zone.figure_negative", N_("may not be negative"))
    if number >= MAX_VALUE:
        raise _Rejected(name, "zone.figure_too_large", N_("too large"))
    if name in STOCKS:
        if number != number.to_integral_value():
            raise _Rejected(name, "zone.employees_not_whole", N_("a number of persons is whole"))
        return int(number)
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def _period(cells: Mapping[str, Any]) -> Period:
    if cells.get("period") is not None:
        try:
            return parse_reported(cells["period"])
        except InvalidValue as exc:
            raise _Rejected("period", exc.code, exc.message, **exc.params) from exc
    year = cells.get("year")
    try:
        number = int(float(spreadsheet.clean_text(year).rstrip("年"))) if year is not None \
            else None
    except ValueError:
        number = None
    if number is None or not 2000 <= number <= 2100:
        raise _Rejected("year", "zone.year_invalid", N_("give the year (2000-2100)"))
    if cells.get("month") is not None:
        text_ = spreadsheet.clean_text(cells["month"]).rstrip("月份")
        try:
            month = int(float(text_))
        except ValueError:
            month = 0
        if not 1 <= month <= 12:
            raise _Rejected("month", "zone.month_invalid", N_("a month is 1 to 12"))
        return Period(number, "month", month)
    if cells.get("quarter") is not None:
        quarter = spreadsheet.clean_text(cells["quarter"]).lstrip("第Qq").rstrip("季度")
        try:
            return parse_reported(f"{number}年第{quarter}季度")
        except InvalidValue as exc:
            raise _Rejected("quarter", "zone.quarter_invalid", N_("a quarter is 1 to 4")) from exc
    raise _Rejected("period", "zone.period_missing", N_("give the month or the quarter"))


def read_rows(table: spreadsheet.Table, mapping: Mapping[int, str], today: date
              ) -> tuple[list[Row], list[RowError]]:
    """Rows that could be read, and the errors (``field`` the field, not yet the header)."""
    rows: list[Row] = []
    errors: list[RowError] = []
    first_row_of: dict[tuple[str, Period], int] = {}
    for count, (number, raw) in enumerate(table.rows, start=1):
        if count % 500 == 0:
            time.sleep(0)  # let other green threads run during a long import
        cells = {field: raw[index] for index, field in mapping.items() if raw[index] is not None}
        problems: list[RowError] = []
        code = credit_code.normalize(spreadsheet.clean_text(cells.get("credit_code", "")))
        if not code:
            problems.append(RowError(number, "credit_code", "field.required", N_("missing")))
        else:
            try:
                credit_code.validate(code)
            except InvalidValue as exc:
                problems.append(RowError.of(number, "credit_code", exc.item()))
        period: Period | None = None
        try:
            period = _period(cells)
            if period.first_day > today:
                raise _Rejected("period", "zone.period_not_begun", N_("{period} has not begun"),
                                period=period.label)
        except _Rejected as exc:
            problems.append(RowError(number, exc.field, exc.code, exc.message, exc.params))
            period = None
        values: dict[str, Decimal | int] = {}
        for name in INDICATORS:
            try:
                value = _number(cells.get(name), name)
            except _Rejected as exc:
                problems.append(RowError(number, exc.field, exc.code, exc.message, exc.params))
                continue
            if value is not None:
                values[name] = value
        if not values and not any(p.field in INDICATORS for p in problems):
            problems.append(RowError(number, "output_value", "zone.figures_missing",
                                     N_("no figure in this row")))
        if period is not None and not problems:
            first = first_row_of.setdefault((code, period), number)
            if first != number:
                problems.append(RowError(number, "credit_code", "import.duplicate_row", N_(
                    "duplicate: the same enterprise and period are on row {row}"),
                    {"row": first}))
        if problems:
            errors += problems
            continue
        assert period is not None
        rows.append(Row(number, code, period, values))
    return rows, errors


# --------------------------------------------------------------------------- upsert


def _quarter_of(period: Period) -> tuple[int, int]:
    return period.year, (period.number + 2) // 3 if period.kind == "month" else period.number


def upsert(session: Session, rows: list[Row], actor: str, dry_run: bool,
           result: ImportResult) -> list[RowError]:
    """Write the rows (nothing stays with ``dry_run``); the rows refused at this stage."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": ADVISORY_LOCK_KEY})
    savepoint = session.begin_nested() if dry_run else None
    try:
        return _upsert(session, rows, actor, result)
    finally:
        if savepoint is not None:
            savepoint.rollback()


def _upsert(session: Session, rows: list[Row], actor: str, result: ImportResult
            ) -> list[RowError]:
    errors: list[RowError] = []
    codes = sorted({r.code for r in rows})
    ids = dict(session.execute(select(Enterprise.credit_code, Enterprise.id).where(
        Enterprise.credit_code == any_(bindparam("codes", codes, type_=ARRAY(String)))))
        .all()) if codes else {}
    known = [r for r in rows if r.code in ids]
    for r in rows:
        if r.code not in ids:
            errors.append(RowError(r.number, "credit_code", "zone.enterprise_unregistered",
                                   N_("no enterprise with the credit code {value} is "
                                      "registered"), {"value": r.code}))
    iv = IndicatorValue.__table__
    enterprise_ids = sorted({ids[r.code] for r in known})
    stored: dict[tuple[str, int, str, int], dict[str, Any]] = {}
    kinds_by_quarter: dict[tuple[str, int, int], set[str]] = {}
    if enterprise_ids:
        years = sorted({r.period.year for r in known})
        for row in session.execute(select(iv).where(
                iv.c.enterprise_id.in_(enterprise_ids), iv.c.year.in_(years)).with_for_update()):
            mapping = row._mapping
            period = Period(row.year, row.period_kind, row.period)
            stored[(row.enterprise_id, row.year, row.period_kind, row.period)] = dict(mapping)
            year, quarter = _quarter_of(period)
            kinds_by_quarter.setdefault((row.enterprise_id, year, quarter), set()).add(
                row.period_kind)
    for r in known:  # the file's own rows count too
        year, quarter = _quarter_of(r.period)
        kinds_by_quarter.setdefault((ids[r.code], year, quarter), set()).add(r.period.kind)
    now = datetime.now(UTC)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for count, r in enumerate(known, start=1):
        if count % 500 == 0:
            time.sleep(0)
        enterprise_id = ids[r.code]
        year, quarter = _quarter_of(r.period)
        if len(kinds_by_quarter[(enterprise_id, year, quarter)]) > 1:
            other = "quarter" if r.period.kind == "month" else "month"
            errors.append(RowError(r.number, "period", "zone.quarter_reported_both_ways", N_(
                "{period}: this enterprise reports the quarter {year}-Q{quarter} by {other}; "
                "one way per quarter"), {"period": r.period.label, "year": year,
                                         "quarter": quarter,
                                         "other": label("reporting_period", other)}))
            continue
        key = (enterprise_id, r.period.year, r.period.kind, r.period.number)
        before = stored.get(key)
        if before is None:
            record = {"enterprise_id": enterprise_id, "year": r.period.year,
                      "period_kind": r.period.kind, "period": r.period.number,
                      **dict.fromkeys(INDICATORS), **r.values, "source": SOURCE,
                      "imported_by": actor, "imported_at": now, "version": 1}
            inserts.append(record)
            stored[key] = record
            continue
        changed = {n: v for n, v in r.values.items() if before.get(n) != v}
        if not changed:
            result.unchanged += 1
            continue
        record = {**before, **changed, "imported_by": actor, "imported_at": now,
                  "version": before["version"] + 1}
        updates.append(record)
        stored[key] = record
    result.created = len(inserts)
    result.updated = len(updates)
    if inserts:
        session.execute(insert(iv), inserts)
    if updates:
        session.execute(
            iv.update().where(tuple_(iv.c.enterprise_id, iv.c.year, iv.c.period_kind,
                                     iv.c.period) == tuple_(bindparam("b_enterprise"),
                                                            bindparam("b_year"),
                                                            bindparam("b_kind"),
                                                            bindparam("b_period"))),
            [{"b_enterprise": u["enterprise_id"], "b_year": u["year"],
              "b_kind": u["period_kind"], "b_period": u["period"],
              **{n: u[n] for n in INDICATORS}, "imported_by": u["imported_by"],
              "imported_at": u["imported_at"], "version": u["version"]} for u in updates])
    return errors


def import_table(session: Session, table: spreadsheet.Table, actor: str, dry_run: bool,
                 today: date) -> ImportResult:
    """Read, validate and upsert; errors under the file's own headers (coded; the caller
    writes them in the reader's language, :meth:`ImportResult.as_dict`)."""
    mapping = map_headers(table.header)
    rows, errors = read_rows(table, mapping, today)
    result = ImportResult(dry_run=dry_run, rows=len(table.rows))
    errors += upsert(session, rows, actor, dry_run, result)
    headers = {field: table.header[index] for index, field in mapping.items()}
    result.errors = sorted(RowError(e.row, headers.get(e.field) or LABELS.get(e.field, e.field),
                                    e.code, e.message, e.params) for e in errors)
    return result
