"""China's official working-day calendar (工作日历) and the platform's deadlines.

Pure code: no broker, no database, no nameko. Storage and the operator API come elsewhere; this
module only takes already-loaded data as input.

Rules
-----
* A working day (工作日) is Monday to Friday, except the days off of the State Council holiday
  notice (国务院办公厅关于部分节假日安排的通知), plus the makeup working days (调休上班) that the
  same notice puts on a Saturday or Sunday.
* ``chinese_calendar`` (PyPI ``chinesecalendar``) knows a fixed range of years, found by probing
  at import (:func:`covered_years`); it raises ``NotImplementedError`` outside it.
* Later years are loaded by an operator as :class:`YearSchedule` objects when the State Council
  publishes them (each November). For a year that has a loaded schedule, the schedule replaces
  the library's data for that whole calendar year.
* A year with neither is computed as Monday to Friday and every answer that consulted such a day
  is marked *provisional* (暂定), so that callers can re-plan it once the year is loaded.

Deadlines
---------
* :meth:`WorkCalendar.deadline_after_workdays`: an hour (by default 18:00 local, the end of the
  working day) of the n-th working day after the local date of the start. The rules built on it
  live with their services (ticketing's 分理 and 办理时限 in :mod:`services.ticketing.sla`).

A State Council notice for year Y sometimes moves days of late December of year Y-1 (in the
library: 2006-12-30/31, 2007-12-29/30/31, 2011-12-31, 2018-12-29/30/31, 2022-12-31,
2023-12-30/31). A :class:`YearSchedule` holds exactly one calendar year, so such a notice is
loaded as two schedules: year Y, and year Y-1 amended (start from :meth:`WorkCalendar.schedule_for`
or :func:`library_schedule` and add the December dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from common.errors import InvalidValue, field_error
from common.i18n import EN, label, translate

__all__ = [
    "MAX_RANGE_DAYS",
    "SHANGHAI",
    "zone_today",
    "Deadline",
    "WorkCalendar",
    "YearSchedule",
    "covered_years",
    "library_schedule",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: default hour (local) at which a handling deadline (办理时限) ends on its last working day
END_OF_DAY_HOUR = 18
#: longest inclusive range :meth:`WorkCalendar.workdays_between` accepts: three years
MAX_RANGE_DAYS = 3 * 365 + 1
#: a search for the next working day gives up after this many consecutive days off
_MAX_DAYS_OFF = 3 * 366

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- chinese_calendar


def _library_answers(year: int) -> bool:
    """Whether ``chinese_calendar`` gives an answer for ``year`` instead of raising."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _probe_library_years() -> range:
    """The contiguous run of years, ending at the newest, that the library both lists in its
    tables and answers for. Computed once at import; nothing about the range is hard-coded."""
    listed = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    usable = sorted(year for year in listed if _library_answers(year))
    if not usable:
        return range(0)
    newest = oldest = usable[-1]
    while oldest - 1 in listed and _library_answers(oldest - 1):
        oldest -= 1
    return range(oldest, newest + 1)


_LIBRARY_YEARS = _probe_library_years()


def covered_years() -> range:
    """Years the installed ``chinese_calendar`` covers (2004-2026 for chinesecalendar 1.11.0)."""
    return _LIBRARY_YEARS


def library_schedule(year: int) -> YearSchedule:
    """The library's data for ``year`` as a :class:`YearSchedule`, e.g. to amend and load it.

    Raises ValueError if the library does not cover ``year``.
    """
    if year not in _LIBRARY_YEARS:
        raise ValueError(
            f"chinese_calendar has no data for {year} "
            f"(it covers {_LIBRARY_YEARS.start}-{_LIBRARY_YEARS.stop - 1})"
        )
    return YearSchedule(
        year=year,
        holidays=frozenset(d for d in chinese_calendar.holidays if d.year == year),
        makeup_workdays=frozenset(d for d in chinese_calendar.workdays if d.year == year),
    )


# --------------------------------------------------------------------------- data


class InvalidSchedule(ValueError):
    """A year schedule that breaks a rule; ``items`` says each problem as a coded reason
    (:func:`common.errors.field_error`), ``str()`` all of them in English."""

    def __init__(self, year: Any, items: list[dict[str, Any]]) -> None:
        self.items = items
        super().__init__(f"invalid schedule for {year}: " + "; ".join(
            translate(i["message"], EN, i.get("params")) for i in items))


def _check_day(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue("calendar.not_a_date", "{what}: {value} is not a date", what=what,
                           value=repr(value))
    return value


def _parse_day(value: object, what: str) -> date:
    """A ``YYYY-MM-DD`` string (or a :class:`date`) to a date; ValueError naming the value."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise InvalidValue("calendar.not_a_date",
                               "{what}: {value} is not a date in the form YYYY-MM-DD",
                               what=what, value=repr(value))
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidValue("calendar.not_a_date", "{what}: {value} is not a valid date "
                               "({reason})", what=what, value=repr(value),
                               reason=str(exc)) from None
    return _check_day(value, what)


@dataclass(frozen=True)
class YearSchedule:
    """One calendar year of the State Council holiday notice, loaded by an operator.

    ``holidays``: days off (放假) that would otherwise be Monday-Friday working days. Weekend days
    may be listed too (the notice's ranges include them); that is harmless.
    ``makeup_workdays``: 调休 days, Saturdays or Sundays that are working days (上班).

    Every date must lie in ``year``; no date may be in both sets; makeup days must be Saturday
    or Sunday. Any violation raises ValueError naming the date(s). Plain sets or lists given to
    the constructor are stored as frozensets.
    """

    year: int
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise ValueError(f"year must be an integer, got {self.year!r}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range 1-9999")
        for name in ("holidays", "makeup_workdays"):
            raw = getattr(self, name)
            if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
                raise ValueError(f"{self.year} {name}: expected a collection of dates")
            days = frozenset(_check_day(d, f"{self.year} {name}") for d in raw)
            object.__setattr__(self, name, days)

        problems: list[dict[str, Any]] = []
        for name, days in (("holidays", self.holidays), ("makeup_workdays", self.makeup_workdays)):
            for day in sorted(days):
                if day.year != self.year:
                    problems.append(field_error("calendar.day_of_other_year",
                                                "{day} in {list} is not in year {year}",
                                                day=day.isoformat(), list=name, year=self.year))
        for day in sorted(self.holidays & self.makeup_workdays):
            problems.append(field_error(
                "calendar.day_twice",
                "{day} is listed both as a holiday and as a makeup working day",
                day=day.isoformat()))
        for day in sorted(self.makeup_workdays):
            if day.weekday() < 5:
                problems.append(field_error(
                    "calendar.makeup_day_on_weekday",
                    "makeup working day {day} is a {weekday}, not a Saturday or Sunday",
                    day=day.isoformat(),
                    weekday=label("weekday", _WEEKDAY_NAMES[day.weekday()].lower())))
        if problems:
            raise InvalidSchedule(self.year, problems)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> YearSchedule:
        """Build from ``{"year": 2027, "holidays": ["2027-01-01", ...], "makeup_workdays": [...]}``.

        All three keys are required (an empty list is fine) and no other key is accepted, so
        that a misspelt key is not silently ignored. Dates are ``YYYY-MM-DD`` strings.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a year schedule must be an object, got {type(data).__name__}")
        expected = {"year", "holidays", "makeup_workdays"}
        missing = sorted(expected - data.keys())
        unknown = sorted(str(k) for k in data.keys() - expected)
        if missing or unknown:
            parts = [f"missing key(s) {missing}"] if missing else []
            parts += [f"unknown key(s) {unknown}"] if unknown else []
            raise ValueError("invalid year schedule: " + ", ".join(parts))
        year = data["year"]
        if isinstance(year, bool) or not isinstance(year, int):
            raise ValueError(f"year must be an integer, got {year!r}")
        lists: dict[str, frozenset[date]] = {}
        for name in ("holidays", "makeup_workdays"):
            raw = data[name]
            if not isinstance(raw, list | tuple | set | frozenset):
                raise ValueError(f"{year} {name}: expected a list of dates, got {raw!r}")
            lists[name] = frozenset(_parse_day(v, f"{year} {name}") for v in raw)
        return cls(year=year, holidays=lists["holidays"], makeup_workdays=lists["makeup_workdays"])

    def as_dict(self) -> dict[str, Any]:
        """The inverse of :meth:`parse`, with the dates sorted."""
        return {
            "year": self.year,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "makeup_workdays": [d.isoformat() for d in sorted(self.makeup_workdays)],
        }

    def is_workday(self, day: date) -> bool:
        """工作日 by this schedule alone (``day`` must lie in :attr:`year`)."""
        if day.year != self.year:
            raise ValueError(f"{day.isoformat()} is not in year {self.year}")
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class Deadline:
    """A due time. ``at`` is aware, in Asia/Shanghai.

    ``provisional`` is True when a day consulted to compute it lies in a year without data
    (neither ``chinese_calendar`` nor a loaded schedule), where Monday-Friday was assumed; the
    deadline should be recomputed once that year is loaded.
    """

    at: datetime
    provisional: bool


# --------------------------------------------------------------------------- calendar


def _require_date(day: object, name: str = "day") -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {day!r}")
    return day


def _require_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an integer, got {n!r}")
    if n < 0:
        raise ValueError(f"n must be 0 or more working days, got {n}")
    return n


def zone_today(now: datetime | None = None) -> date:
    """The zone's calendar day (Asia/Shanghai) at ``now`` (default: this moment): every date
    the platform derives from the current time is this day, never the UTC or machine day
    (between 00:00 and 08:00 in the zone the UTC date is still yesterday's)."""
    return _local_date(now or datetime.now(UTC), "now")


def _local_date(moment: object, name: str) -> date:
    """The Asia/Shanghai calendar date of an aware datetime."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(SHANGHAI).date()


class WorkCalendar:
    """Working days (工作日) by the State Council schedule, including 调休 makeup days.

    Immutable: :meth:`with_year` returns a new calendar. Data per year, in order of precedence:
    a loaded :class:`YearSchedule`, then ``chinese_calendar``, then Monday-Friday (provisional).
    """

    def __init__(self, loaded: Iterable[YearSchedule] = ()) -> None:
        schedules: dict[int, YearSchedule] = {}
        for schedule in loaded:
            if not isinstance(schedule, YearSchedule):
                raise TypeError(f"expected a YearSchedule, got {schedule!r}")
            if schedule.year in schedules:
                raise ValueError(f"two schedules given for year {schedule.year}")
            schedules[schedule.year] = schedule
        self._loaded: dict[int, YearSchedule] = schedules

    def __repr__(self) -> str:
        return f"WorkCalendar(loaded={sorted(self._loaded)})"

    @property
    def loaded_years(self) -> tuple[int, ...]:
        """Years with an operator-loaded schedule, ascending."""
        return tuple(sorted(self._loaded))

    def with_year(self, schedule: YearSchedule) -> WorkCalendar:
        """A new calendar with ``schedule`` replacing whatever this one has for that year."""
        if not isinstance(schedule, YearSchedule):
            raise TypeError(f"expected a YearSchedule, got {schedule!r}")
        return WorkCalendar({**self._loaded, schedule.year: schedule}.values())

    def schedule_for(self, year: int) -> YearSchedule | None:
        """The schedule in force for ``year``: the loaded one, else the library's, else None."""
        if year in self._loaded:
            return self._loaded[year]
        if year in _LIBRARY_YEARS:
            return library_schedule(year)
        return None

    # ------------------------------------------------------------------ single days

    def has_data(self, year: int) -> bool:
        """Whether ``year`` is covered by a loaded schedule or by ``chinese_calendar``."""
        return year in self._loaded or year in _LIBRARY_YEARS

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Those of ``years`` without data, ascending and without duplicates."""
        return sorted({year for year in years if not self.has_data(year)})

    def is_provisional(self, day: date) -> bool:
        """Whether ``day`` lies in a year without data (answers for it assume Monday-Friday)."""
        return not self.has_data(_require_date(day).year)

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (工作日); 调休 weekend days are working days.

        A loaded schedule wins over ``chinese_calendar``; a year with no data is Monday-Friday.
        """
        day = _require_date(day)
        schedule = self._loaded.get(day.year)
        if schedule is not None:
            return schedule.is_workday(day)
        if day.year in _LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    # ------------------------------------------------------------------ counting

    def next_workday(self, day: date) -> tuple[date, bool]:
        """The first working day strictly after ``day``, and whether it is provisional
        (some day looked at on the way lies in a year without data)."""
        day = _require_date(day)
        provisional = False
        current = day
        for _ in range(_MAX_DAYS_OFF):
            current = current + _ONE_DAY
            provisional = provisional or self.is_provisional(current)
            if self.is_workday(current):
                return current, provisional
        raise ValueError(
            f"no working day within {_MAX_DAYS_OFF} days after {day.isoformat()}: "
            "check the loaded schedules"
        )

    def previous_workday(self, day: date) -> tuple[date, bool]:
        """The last working day strictly before ``day``, and the provisional flag."""
        day = _require_date(day)
        provisional = False
        current = day
        for _ in range(_MAX_DAYS_OFF):
            current = current - _ONE_DAY
            provisional = provisional or self.is_provisional(current)
            if self.is_workday(current):
                return current, provisional
        raise ValueError(
            f"no working day within {_MAX_DAYS_OFF} days before {day.isoformat()}: "
            "check the loaded schedules"
        )

    def subtract_workdays(self, day: date, n: int) -> tuple[date, bool]:
        """The mirror of :meth:`add_workdays`: ``n == 0`` gives ``day`` if it is a working day,
        else the last working day before it; ``n >= 1`` the n-th working day strictly before
        ``day`` (reminders "N working days before the deadline")."""
        day = _require_date(day)
        n = _require_count(n)
        if n == 0:
            if self.is_workday(day):
                return day, self.is_provisional(day)
            return self.previous_workday(day)
        provisional = False
        current = day
        for _ in range(n):
            current, step_provisional = self.previous_workday(current)
            provisional = provisional or step_provisional
        return current, provisional

    def add_workdays(self, day: date, n: int) -> tuple[date, bool]:
        """The date ``n`` working days after ``day``, and the provisional flag.

        * ``n == 0``: ``day`` itself if it is a working day, else the next working day.
        * ``n >= 1``: the n-th working day strictly after ``day``; ``day`` itself never counts,
          whether or not it is a working day. So ``add_workdays(d, 1) == next_workday(d)``, and
          for a Saturday ``s`` (not 调休) ``add_workdays(s, 0) == add_workdays(s, 1)``.
        * ``n < 0``: ValueError.
        """
        day = _require_date(day)
        n = _require_count(n)
        if n == 0:
            if self.is_workday(day):
                return day, self.is_provisional(day)
            return self.next_workday(day)
        provisional = False
        current = day
        for _ in range(n):
            current, step_provisional = self.next_workday(current)
            provisional = provisional or step_provisional
        return current, provisional

    def workdays_between(self, start: date, end: date) -> tuple[list[date], bool]:
        """The working days in ``[start, end]`` (both included), ascending, and whether any day
        of the range lies in a year without data.

        An empty range (``end < start``) gives ``([], False)``. A range longer than
        :data:`MAX_RANGE_DAYS` days (three years) raises ValueError.
        """
        start = _require_date(start, "start")
        end = _require_date(end, "end")
        if end < start:
            return [], False
        length = (end - start).days + 1
        if length > MAX_RANGE_DAYS:
            raise ValueError(
                f"range {start.isoformat()}..{end.isoformat()} is {length} days; "
                f"at most {MAX_RANGE_DAYS} (three years) are allowed"
            )
        provisional = any(not self.has_data(y) for y in range(start.year, end.year + 1))
        days = [start + timedelta(days=i) for i in range(length)]
        return [d for d in days if self.is_workday(d)], provisional

    # ------------------------------------------------------------------ deadlines

    def deadline_after_workdays(
        self, start: datetime, n: int, hour: int = END_OF_DAY_HOUR
    ) -> Deadline:
        """办理时限: ``hour``:00 Asia/Shanghai on ``add_workdays(local date of start, n)``.

        With ``n >= 1`` that is the end of the n-th working day after the day of ``start``
        (the start day itself never counts). ``n == 0`` means the same day if it is a working
        day (else the next one); that deadline can precede ``start`` if ``start`` is after
        ``hour``. ``start`` must be aware; ``hour`` is 0-23.
        """
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise ValueError(f"hour must be an integer 0-23, got {hour!r}")
        day, provisional = self.add_workdays(_local_date(start, "start"), n)
        return Deadline(datetime.combine(day, time(hour), SHANGHAI), provisional)
