"""The registry's working-day calendar (工作日): China's schedule from ``chinesecalendar`` plus
the years operators load in ticketing, which reach this service as ``calendar_year_loaded``
events and are kept in ``enterprise.calendar_years``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.calendar import WorkCalendar, YearSchedule
from services.enterprise.models import CalendarYear


def calendar(session: Session) -> WorkCalendar:
    rows = session.execute(select(CalendarYear)).scalars()
    return WorkCalendar(
        YearSchedule(r.year, frozenset(r.holidays), frozenset(r.makeup_workdays)) for r in rows
    )


def store_year(session: Session, data: dict[str, Any]) -> YearSchedule:
    """Keep a loaded year (validated like the original load); replaces an earlier copy."""
    schedule = YearSchedule.parse({k: data[k] for k in ("year", "holidays", "makeup_workdays")})
    values = {"year": schedule.year, "holidays": sorted(schedule.holidays),
              "makeup_workdays": sorted(schedule.makeup_workdays), "source": data.get("source")}
    session.execute(insert(CalendarYear).values(**values).on_conflict_do_update(
        index_elements=["year"], set_=values))
    return schedule
