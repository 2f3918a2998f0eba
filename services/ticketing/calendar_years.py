"""Working-day calendar years (工作日历) loaded by an operator, and what a load changes.

``chinese_calendar`` knows the State Council schedule, 调休 included, for the years it covers
(2004-2026 in chinesecalendar 1.11.0). The State Council publishes each next year in November;
an operator loads it into ``ticketing.calendar_years`` through the API or from a file, without a
release. A loaded year replaces the library's data for that whole year (that is also how a
notice that moves late-December days of the previous year is applied: load that year amended).
A year with neither is Monday-Friday and every deadline that touched it is provisional (暂定).

The file, and the body of ``PUT /api/v1/calendar/years/{year}`` (where ``year`` is optional
and must equal the path's)::

    {
      "year": 2027,
      "holidays": ["2027-01-01", "2027-02-05", "2027-02-06"],
      "makeup_workdays": ["2027-02-20"],
      "source": "国办发明电〔2026〕N号"
    }

``holidays``: days off (放假); weekend days of the notice's ranges may be listed too.
``makeup_workdays``: 调休, Saturdays or Sundays that are working days (上班). Dates are
``YYYY-MM-DD`` and must lie in ``year`` (2000-2100); no date may be in both lists. ``source``
names the notice (1-200 characters). Loading a year again replaces it.

Command line, for operators without an admin token (writes to ``DATABASE_URL``; running
services use it from their next deadline on, and their gauge follows within 10 s)::

    python -m services.ticketing.calendar_years load 2027.json [--loaded-by NAME]
    python -m services.ticketing.calendar_years show 2026   # the schedule in force, as a file

A load, in one transaction under an exclusive advisory lock: upserts the row with a new
``revision``; recomputes the 分理 (triage) deadline of every demand whose deadline is
provisional, and of every demand still awaiting triage whose deadline window touches the year
(a correction); records ``demand_deadline_changed`` per changed demand and one
``calendar_year_loaded`` in the outbox. Writers of new deadlines hold the lock shared
(:meth:`CalendarCache.get` with ``lock=True``), so a demand is either seen by the recompute or
computed with the new year, never neither.

Each process caches its :class:`~common.calendar.WorkCalendar` (:class:`CalendarCache`) and
checks ``count(*), max(revision)`` of the table on every use, so every replica uses a load as
soon as it is committed. The gauge ``gridsvc_calendar_year_missing{year}`` (current and next
year, Asia/Shanghai) is refreshed whenever the calendar is rebuilt or the year turns.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from common.calendar import (
    SHANGHAI,
    InvalidSchedule,
    WorkCalendar,
    YearSchedule,
    covered_years,
    library_schedule,
)
from common.config import load_settings
from common.errors import InvalidValue, ValidationFailed, field_error, invalid_fields
from common.outbox import record_event
from common.validation import load
from services.ticketing import replan, sla
from services.ticketing.models import CalendarYear, Demand, outbox
from services.ticketing.schemas import CALENDAR_YEARS, CalendarYearLoadSchema

log = logging.getLogger(__name__)

#: key of the advisory lock between a load (exclusive) and writers of deadlines (shared)
LOCK_KEY = int.from_bytes(b"gridcal", "big")
#: demands awaiting 分理; a correction of a year re-plans their exact deadlines too
AWAITING_TRIAGE = "received"

YEAR_MISSING = Gauge(
    "gridsvc_calendar_year_missing",
    "1 if the State Council schedule (调休) of this year, the current or the next one in "
    "Asia/Shanghai, is neither in chinesecalendar nor loaded: its deadlines are provisional",
    ["year"],
)
_gauge_years: set[int] = set()

Version = tuple[int, int]


def today_in_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


@cache
def library_source() -> str:
    """``chinesecalendar <version>``: the origin of the years the library covers."""
    try:
        return f"chinesecalendar {importlib_metadata.version('chinesecalendar')}"
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - installed with us
        return "chinesecalendar"


# --------------------------------------------------------------------------- validation


def parse_year(value: object) -> int:
    """A year an operator may load (2000-2100), from an int or a string of digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in CALENDAR_YEARS:
        raise invalid_fields({"year": [field_error(
            "calendar.year_out_of_range", "{value} is not a year from {first} to {last}",
            value=repr(value), first=CALENDAR_YEARS[0], last=CALENDAR_YEARS[-1])]})
    return value


def _reasons(exc: ValueError, year: int) -> list[dict[str, Any]]:
    if isinstance(exc, InvalidSchedule):
        return exc.items
    if isinstance(exc, InvalidValue):
        return [exc.item()]
    return [field_error("calendar.invalid_schedule", "invalid schedule for {year}: {reason}",
                        year=year, reason=str(exc))]


def parse_schedule(year: int, data: Mapping[str, Any]) -> tuple[YearSchedule, str]:
    """The schedule and its source from input already shaped by ``CalendarYearLoadSchema``.

    :meth:`YearSchedule.parse` decides; each error names its field (``holidays``,
    ``makeup_workdays``, both for a date listed twice) and the date, as ValidationFailed (422).
    """
    errors: dict[str, list[Any]] = {}
    if data.get("year") is not None and data["year"] != year:
        errors["year"] = [field_error("calendar.year_mismatch",
                                      "{given} differs from the year loaded ({year})",
                                      given=data["year"], year=year)]
    source = str(data.get("source", "")).strip()
    if not source:
        errors["source"] = [field_error("field.required",
                                        "name the notice, e.g. 国办发明电〔2026〕N号")]
    lists = {name: list(data.get(name) or []) for name in ("holidays", "makeup_workdays")}
    for name, days in lists.items():
        alone = {"year": year, "holidays": [], "makeup_workdays": [], name: days}
        try:
            YearSchedule.parse(alone)
        except ValueError as exc:
            errors[name] = _reasons(exc, year)
    if not errors:
        try:
            return YearSchedule.parse({"year": year, **lists}), source
        except ValueError as exc:  # left: a date in both lists
            errors = {name: _reasons(exc, year) for name in lists}
    raise ValidationFailed("invalid schedule for {year}: {fields}", errors,
                           code="calendar.invalid_schedule",
                           params={"year": year, "fields": sorted(errors)})


# --------------------------------------------------------------------------- reading


def _schedule(year: int, holidays: Iterable[date], makeup: Iterable[date]) -> YearSchedule:
    return YearSchedule(year=year, holidays=frozenset(holidays), makeup_workdays=frozenset(makeup))


def read_calendar(session: Session) -> tuple[WorkCalendar, Version]:
    """The calendar from every loaded year, and the version it was built from."""
    rows = session.execute(
        select(CalendarYear.year, CalendarYear.holidays, CalendarYear.makeup_workdays,
               CalendarYear.revision)
    ).all()
    calendar = WorkCalendar(_schedule(r.year, r.holidays, r.makeup_workdays) for r in rows)
    return calendar, (len(rows), max((r.revision for r in rows), default=0))


def read_version(session: Session) -> Version:
    """``count(*), max(revision)``: changes with every load; one index-free scan of a tiny table."""
    count, revision = session.execute(
        select(func.count(), func.coalesce(func.max(CalendarYear.revision), 0))
    ).one()
    return int(count), int(revision)


def refresh_missing_metric(calendar: WorkCalendar, today: date | None = None) -> dict[int, bool]:
    """Set ``gridsvc_calendar_year_missing`` for the current and next year, drop older labels."""
    today = today or today_in_shanghai()
    years = (today.year, today.year + 1)
    for stale in _gauge_years - set(years):
        YEAR_MISSING.remove(str(stale))
        _gauge_years.discard(stale)
    missing = {year: not calendar.has_data(year) for year in years}
    for year, is_missing in missing.items():
        YEAR_MISSING.labels(str(year)).set(1 if is_missing else 0)
        _gauge_years.add(year)
    return missing


class CalendarCache:
    """One process's working-day calendar, rebuilt when the table's version changes."""

    def __init__(self) -> None:
        self._calendar: WorkCalendar | None = None
        self._version: Version | None = None
        self._metric_year: int | None = None

    def get(self, session: Session, *, lock: bool = False) -> WorkCalendar:
        """The calendar as committed now. ``lock=True`` when the caller stores a deadline:
        it holds the calendar lock shared until its transaction ends, so a concurrent load
        either waits for it (and recomputes its demand) or is seen by it."""
        if lock:
            session.execute(select(func.pg_advisory_xact_lock_shared(LOCK_KEY)))
        calendar = self._calendar
        if calendar is None or read_version(session) != self._version:
            calendar, version = read_calendar(session)
            self._calendar, self._version = calendar, version
            self._metric_year = None
            log.info("working-day calendar (re)built: loaded years %s", calendar.loaded_years)
        today = today_in_shanghai()
        if self._metric_year != today.year:
            refresh_missing_metric(calendar, today)
            self._metric_year = today.year
        return calendar

    def invalidate(self) -> None:
        """Forget the calendar (after this process committed a load)."""
        self._calendar = self._version = None


def year_summaries(session: Session, today: date | None = None) -> list[dict[str, Any]]:
    """Every year with data, plus the current and next year: where its working days come from."""
    today = today or today_in_shanghai()
    loaded = {
        r.year: r
        for r in session.execute(
            select(CalendarYear.year, CalendarYear.source, CalendarYear.loaded_by,
                   CalendarYear.loaded_at)
        ).all()
    }
    years = set(covered_years()) | set(loaded) | {today.year, today.year + 1}
    items = []
    for year in sorted(years):
        if year in loaded:
            row = loaded[year]
            items.append({"year": year, "origin": "loaded", "source": row.source,
                          "loaded_by": row.loaded_by, "loaded_at": row.loaded_at})
        elif year in covered_years():
            items.append({"year": year, "origin": "chinesecalendar", "source": library_source(),
                          "loaded_by": None, "loaded_at": None})
        else:
            items.append({"year": year, "origin": "missing", "source": None,
                          "loaded_by": None, "loaded_at": None})
    return items


def year_detail(session: Session, year: int) -> dict[str, Any] | None:
    """The schedule in force for ``year`` (loaded, else the library's), or None without data."""
    row = session.get(CalendarYear, year)
    if row is not None:
        return {"year": year, "origin": "loaded", "source": row.source,
                "loaded_by": row.loaded_by, "loaded_at": row.loaded_at,
                "holidays": sorted(row.holidays), "makeup_workdays": sorted(row.makeup_workdays)}
    if year in covered_years():
        schedule = library_schedule(year)
        return {"year": year, "origin": "chinesecalendar", "source": library_source(),
                "loaded_by": None, "loaded_at": None,
                "holidays": sorted(schedule.holidays),
                "makeup_workdays": sorted(schedule.makeup_workdays)}
    return None


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadOutcome:
    schedule: YearSchedule
    source: str
    loaded_by: str
    loaded_at: datetime
    demands_recomputed: int
    calendar: WorkCalendar
    deadlines_replanned: int = 0

    def as_dict(self) -> dict[str, Any]:
        """In the shape of ``CalendarYearLoadedSchema``."""
        return {
            "year": self.schedule.year,
            "origin": "loaded",
            "source": self.source,
            "loaded_by": self.loaded_by,
            "loaded_at": self.loaded_at,
            "holidays": sorted(self.schedule.holidays),
            "makeup_workdays": sorted(self.schedule.makeup_workdays),
            "demands_recomputed": self.demands_recomputed,
            "deadlines_replanned": self.deadlines_replanned,
        }


def load_year(
    session: Session,
    schedule: YearSchedule,
    source: str,
    loaded_by: str,
    call_id: str | None = None,
) -> LoadOutcome:
    """Store ``schedule`` and re-plan the deadlines it changes, inside the caller's transaction.

    The caller commits; then every process's :class:`CalendarCache` sees the new version.
    """
    session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    revision = session.execute(
        select(func.coalesce(func.max(CalendarYear.revision), 0) + 1)
    ).scalar_one()
    values = {
        "holidays": sorted(schedule.holidays),
        "makeup_workdays": sorted(schedule.makeup_workdays),
        "source": source,
        "loaded_by": loaded_by,
        "loaded_at": func.clock_timestamp(),
        "revision": revision,
    }
    statement = insert(CalendarYear).values(year=schedule.year, **values)
    loaded_at = session.execute(
        statement.on_conflict_do_update(index_elements=[CalendarYear.year], set_=values)
        .returning(CalendarYear.loaded_at)
    ).scalar_one()
    calendar, _version = read_calendar(session)
    changed = recompute_triage_deadlines(session, calendar, schedule.year, call_id)
    # every other working-day deadline not fired yet: tasks, reminders, rungs, rating
    replanned = replan.replan_after_load(session, calendar, schedule.year, call_id)
    record_event(
        session, outbox, "ticketing", "calendar_year_loaded",
        {**schedule.as_dict(), "source": source, "loaded_by": loaded_by,
         "loaded_at": loaded_at.astimezone(SHANGHAI).isoformat(), "demands_recomputed": changed,
         "deadlines_replanned": replanned},
        call_id=call_id,
    )
    log.info("calendar year %s loaded by %s (%s): %s triage deadlines changed, %s other "
             "subjects re-planned", schedule.year, loaded_by, source, changed, replanned)
    return LoadOutcome(schedule, source, loaded_by, loaded_at, changed, calendar, replanned)


def _affected(year: int) -> Any:
    """The demands a load of ``year`` re-plans: every provisional 分理 deadline, and every
    demand awaiting triage that consulted a day of the year."""
    first = datetime.combine(date(year, 1, 1), time(0), SHANGHAI)
    last = datetime.combine(date(year, 12, 31), time(0), SHANGHAI)
    return or_(
        Demand.triage_due_provisional.is_(True),
        and_(Demand.status == AWAITING_TRIAGE, Demand.received_at < last,
             Demand.triage_due_at >= first),
    )


#: the moved deadlines a preview lists (it counts them all)
PREVIEW_LIMIT = 500


def preview_year(session: Session, schedule: YearSchedule, source: str) -> dict[str, Any]:
    """What loading ``schedule`` would do, changing nothing (``CalendarYearPreviewSchema``):
    the 分理 deadlines it would move, computed as :func:`recompute_triage_deadlines` would with
    the year replaced, and every other deadline :func:`replan.replan_after_load` would move
    (acceptance, handling, escalation rungs, the rating reminder and the unrated closure),
    re-planned for real inside a savepoint that is rolled back."""
    others = session.execute(
        select(CalendarYear.year, CalendarYear.holidays, CalendarYear.makeup_workdays)
        .where(CalendarYear.year != schedule.year)
    ).all()
    calendar = WorkCalendar([*(_schedule(r.year, r.holidays, r.makeup_workdays) for r in others),
                             schedule])
    demands = session.execute(
        select(Demand.id, Demand.number, Demand.received_at, Demand.triage_due_at,
               Demand.triage_due_provisional)
        .where(_affected(schedule.year)).order_by(Demand.received_at, Demand.id)
    ).all()
    moved = []
    for demand in demands:
        deadline = sla.triage_deadline(calendar, demand.received_at)
        if (deadline.at, deadline.provisional) == (demand.triage_due_at,
                                                   demand.triage_due_provisional):
            continue
        moved.append({"demand_id": demand.id, "number": demand.number,
                      "received_at": demand.received_at,
                      "triage_due_at": demand.triage_due_at,
                      "triage_due_provisional": demand.triage_due_provisional,
                      "new_triage_due_at": deadline.at,
                      "new_triage_due_provisional": deadline.provisional})
    replanned = replan.preview(session, calendar, schedule.year)
    current = year_detail(session, schedule.year)
    return {
        "year": schedule.year, "source": source,
        "holidays": sorted(schedule.holidays),
        "makeup_workdays": sorted(schedule.makeup_workdays),
        "origin_now": current["origin"] if current else "missing",
        "holidays_added": sorted(schedule.holidays - set(current["holidays"] if current else ())),
        "holidays_removed": sorted(set(current["holidays"] if current else ())
                                   - schedule.holidays),
        "makeup_workdays_added": sorted(schedule.makeup_workdays
                                        - set(current["makeup_workdays"] if current else ())),
        "makeup_workdays_removed": sorted(set(current["makeup_workdays"] if current else ())
                                          - schedule.makeup_workdays),
        "demands_moved": len(moved),
        "moved": moved[:PREVIEW_LIMIT],
        "deadlines_moved": len(replanned),
        "replanned": replanned[:PREVIEW_LIMIT],
    }


def recompute_triage_deadlines(
    session: Session, calendar: WorkCalendar, year: int, call_id: str | None = None
) -> int:
    """Re-plan 分理 deadlines after ``year`` was loaded; returns how many changed.

    Candidates: every provisional deadline, and every demand awaiting triage that consulted a
    day of ``year`` (received before 31 December, due on or after 1 January). Each changed
    demand gets a new ``version`` and a ``demand_deadline_changed`` event.
    """
    demands = session.execute(
        select(Demand).where(_affected(year)).order_by(Demand.received_at, Demand.id)
        .with_for_update()
    ).scalars().all()
    changed = 0
    for demand in demands:
        deadline = sla.triage_deadline(calendar, demand.received_at)
        previous_at, previous_provisional = demand.triage_due_at, demand.triage_due_provisional
        if deadline.at == previous_at and deadline.provisional == previous_provisional:
            continue
        demand.triage_due_at = deadline.at
        demand.triage_due_provisional = deadline.provisional
        sla.replan(session, demand.id, "triage", deadline.at,
                   deadline.provisional)  # the sweep's row too
        demand.version += 1
        changed += 1
        record_event(
            session, outbox, "ticketing", "demand_deadline_changed",
            {
                "demand_id": demand.id,
                "number": demand.number,
                "enterprise_id": demand.enterprise_id,
                "received_at": demand.received_at.astimezone(SHANGHAI).isoformat(),
                "triage_due_at": deadline.at.isoformat(),
                "triage_due_provisional": deadline.provisional,
                "previous_triage_due_at": previous_at.astimezone(SHANGHAI).isoformat(),
                "previous_triage_due_provisional": previous_provisional,
                "calendar_year": year,
            },
            call_id=call_id,
        )
    session.flush()
    return changed


# --------------------------------------------------------------------------- command line


def read_file(path: Path) -> tuple[YearSchedule, str]:
    """The schedule and source in a JSON file of the documented shape, or ValidationFailed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("cannot read {path}: {reason}", code="calendar.file_unreadable",
                               params={"path": str(path), "reason": str(exc)}) from exc
    if not isinstance(data, dict) or "year" not in data:
        raise ValidationFailed("{path}: expected a JSON object with a year",
                               {"year": [field_error("field.required", "required")]},
                               code="calendar.file_unreadable", params={"path": str(path)})
    fields = load(CalendarYearLoadSchema(), data)
    return parse_schedule(parse_year(fields["year"]), fields)


def _default_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):
        return "cli"


def _sessions() -> tuple[Engine, sessionmaker[Session]]:
    from common.db import make_engine  # imports nameko; only the command line needs it here

    engine = make_engine(load_settings().database_url, "ticketing", "calendar-loader",
                         pool_size=1)
    return engine, sessionmaker(bind=engine, expire_on_commit=False)


def _load(path: Path, loaded_by: str) -> int:
    try:
        schedule, source = read_file(path)
    except ValidationFailed as exc:
        print(f"not loaded: {exc.detail}", file=sys.stderr)
        for field, reasons in exc.errors.items():
            print(f"  {field}: {reasons}", file=sys.stderr)
        return 2
    if not 1 <= len(loaded_by) <= 64:
        print("not loaded: --loaded-by must be 1-64 characters", file=sys.stderr)
        return 2
    engine, sessions = _sessions()
    try:
        with sessions() as session, session.begin():
            outcome = load_year(session, schedule, source, loaded_by)
    except SQLAlchemyError as exc:
        print(f"not loaded: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"loaded {schedule.year} ({source}): {len(schedule.holidays)} holidays, "
          f"{len(schedule.makeup_workdays)} makeup working days (调休); "
          f"{outcome.demands_recomputed} triage deadlines changed")
    return 0


def _show(year: int) -> int:
    engine, sessions = _sessions()
    try:
        with sessions() as session:
            detail = year_detail(session, year)
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if detail is None:
        print(f"no schedule for {year}: Monday-Friday is assumed (provisional)", file=sys.stderr)
        return 1
    document = {
        "year": year,
        "holidays": [d.isoformat() for d in detail["holidays"]],
        "makeup_workdays": [d.isoformat() for d in detail["makeup_workdays"]],
        "source": detail["source"],
    }
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.ticketing.calendar_years",
        description="Load a year of the State Council holiday schedule (调休) into ticketing.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load_cmd = sub.add_parser("load", help="load (or replace) a year from a JSON file")
    load_cmd.add_argument("file", type=Path)
    load_cmd.add_argument("--loaded-by", default=_default_user(),
                          help="recorded as loaded_by (default cli:<user>)")
    show_cmd = sub.add_parser("show", help="print the schedule in force for a year, as a file")
    show_cmd.add_argument("year", type=int)
    args = parser.parse_args(argv)
    if args.command == "load":
        return _load(args.file, args.loaded_by)
    return _show(args.year)


if __name__ == "__main__":
    sys.exit(main())
