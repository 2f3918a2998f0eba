"""Working days (工作日), 调休 makeup days and the deadlines of common.calendar (the 分理 rule on
top of them is tested in test_sla.py).

Expected dates in the named cases were read from ``chinese_calendar`` 1.11.0 and checked by
hand against the State Council notices for 2025 (国办发明电〔2024〕12号, 2024-11-12) and
2026 (published 2025-11-04).
The exhaustive tests compare with an oracle written here from ``chinese_calendar.is_workday``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from common.calendar import (
    MAX_RANGE_DAYS,
    SHANGHAI,
    Deadline,
    WorkCalendar,
    YearSchedule,
    covered_years,
    library_schedule,
)

CST = ZoneInfo("Asia/Shanghai")  # the oracle's own zone object, not the module's constant
CAL = WorkCalendar()

#: made-up test data for 2027 (NOT the State Council notice, which does not exist yet):
#: 元旦 Fri 2027-01-01; 春节 Fri 02-05 (除夕) to Fri 02-12, weekend days listed as the notice
#: does; 调休 Saturday 02-20.
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": [
        "2027-01-01",
        "2027-02-05",
        "2027-02-06",
        "2027-02-07",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ],
    "makeup_workdays": ["2027-02-20"],
}

no_2027_data = pytest.mark.skipif(
    2027 in covered_years(),
    reason="the installed chinesecalendar already covers 2027; see test_far_future_*",
)


def at(text: str) -> datetime:
    """An aware datetime from an ISO string with an offset (or Z)."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def due(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), CST)


def oracle_next_workday(day: date) -> date:
    """First working day after ``day``, straight from chinese_calendar (raises outside it)."""
    candidate = day + timedelta(days=1)
    while not chinese_calendar.is_workday(candidate):
        candidate += timedelta(days=1)
    return candidate


def next_at_10(cal: WorkCalendar, received: datetime) -> Deadline:
    """10:00 of the first working day after ``received``'s local day (the 分理 rule's shape)."""
    return cal.deadline_after_workdays(received, 1, hour=10)


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --------------------------------------------------------------------------- coverage


def test_covered_years_is_what_chinese_calendar_answers_for() -> None:
    answered = []
    for year in range(1990, 2060):
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        answered.append(year)
    assert list(covered_years()) == answered
    assert covered_years().start <= 2025 and covered_years().stop > 2026


def test_has_data_and_missing_years() -> None:
    first, last = covered_years().start, covered_years().stop - 1
    assert CAL.has_data(first) and CAL.has_data(last) and CAL.has_data(2025)
    assert not CAL.has_data(first - 1) and not CAL.has_data(last + 1)
    assert CAL.missing_years([2026, last + 3, last + 1, last + 3, 2025]) == [last + 1, last + 3]
    loaded = CAL.with_year(YearSchedule(last + 1, frozenset(), frozenset()))
    assert loaded.has_data(last + 1)
    assert loaded.missing_years([last + 1, last + 3]) == [last + 3]


# --------------------------------------------------------------------------- is_workday


def test_is_workday_matches_chinese_calendar_for_every_covered_day() -> None:
    for day in days_of(date(covered_years().start, 1, 1), date(covered_years().stop - 1, 12, 31)):
        assert CAL.is_workday(day) is chinese_calendar.is_workday(day), day
        assert not CAL.is_provisional(day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-26", True),  # Sunday, 调休 before Spring Festival 2025
        ("2025-01-28", False),  # Tuesday, 除夕 2025 (a statutory holiday since 2025)
        ("2025-02-08", True),  # Saturday, 调休 after Spring Festival 2025
        ("2025-09-28", True),  # Sunday, 调休 for National Day + Mid-Autumn 2025
        ("2025-10-08", False),  # Wednesday, last day of the 8-day 2025 Golden Week
        ("2025-10-11", True),  # Saturday, 调休
        ("2026-01-02", False),  # Friday after 元旦 2026
        ("2026-01-04", True),  # Sunday, 调休 for 元旦 2026
        ("2026-02-14", True),  # Saturday, 调休 before Spring Festival 2026
        ("2026-02-23", False),  # Monday, 9th day off of Spring Festival 2026
        ("2026-02-28", True),  # Saturday, 调休 after Spring Festival 2026
        ("2026-09-20", True),  # Sunday, 调休 for National Day 2026 (before Mid-Autumn)
        ("2026-09-25", False),  # Friday, Mid-Autumn 2026
        ("2026-10-10", True),  # Saturday, 调休
        ("2026-10-08", True),  # Thursday: National Day 2026 ends 10-07
    ],
)
def test_named_days_of_the_2025_and_2026_notices(day: str, expected: bool) -> None:
    assert CAL.is_workday(date.fromisoformat(day)) is expected


def test_datetime_is_not_a_day() -> None:
    with pytest.raises(TypeError):
        CAL.is_workday(datetime(2025, 1, 1, 12, tzinfo=CST))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- next workday at 10


def test_first_workday_after_exhaustive_2025_2026() -> None:
    """Every receive date in 2025-01-01..2026-12-30, at four local times, each given both in
    Shanghai time and converted to UTC. (2026-12-31 is due in 2027: see its own test.)"""
    mismatches = []
    for day in days_of(date(2025, 1, 1), date(2026, 12, 30)):
        want = datetime.combine(oracle_next_workday(day), time(10), CST)
        for clock in (time(0, 0), time(9, 59), time(10, 0), time(23, 59)):
            local = datetime.combine(day, clock, CST)
            for received in (local, local.astimezone(UTC)):
                got = next_at_10(CAL, received)
                if got != Deadline(want, False) or got.at.utcoffset() != timedelta(hours=8):
                    mismatches.append((received.isoformat(), got, want))
    assert mismatches == []


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_at_10(CAL, datetime(2025, 9, 26, 15, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline_after_workdays(datetime(2025, 9, 26, 15, 0), 3)
    with pytest.raises(TypeError):
        next_at_10(CAL, date(2025, 9, 26))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- 2027: no data


@no_2027_data
def test_2027_without_data_falls_back_to_monday_friday_and_is_provisional() -> None:
    assert CAL.missing_years([2026, 2027]) == [2027]
    assert CAL.is_provisional(date(2027, 1, 1)) and not CAL.is_provisional(date(2026, 12, 31))
    # Thursday 2027-02-04: Monday-Friday says Friday 02-05
    assert next_at_10(CAL, at("2027-02-04T12:00+08:00")) == Deadline(due("2027-02-05"), True)
    # Friday 2027-02-19: Saturday 02-20 is unknown as a 调休 day, so Monday
    assert next_at_10(CAL, at("2027-02-19T12:00+08:00")) == Deadline(due("2027-02-22"), True)


@no_2027_data
def test_2027_with_a_loaded_schedule_is_exact() -> None:
    cal = CAL.with_year(YearSchedule.parse(SCHEDULE_2027))
    assert cal.missing_years([2026, 2027]) == []
    assert not cal.is_workday(date(2027, 2, 5))
    assert cal.is_workday(date(2027, 2, 20))  # Saturday 调休
    assert next_at_10(cal, at("2027-02-04T12:00+08:00")) == Deadline(due("2027-02-15"), False)
    assert next_at_10(cal, at("2027-02-19T12:00+08:00")) == Deadline(due("2027-02-20"), False)
    # the original calendar is unchanged (with_year returns a new one)
    assert next_at_10(CAL, at("2027-02-04T12:00+08:00")).provisional


@no_2027_data
def test_received_2026_12_31_depends_on_2027_data() -> None:
    received = at("2026-12-31T14:00+08:00")  # Thursday, the last covered day
    # no 2027 data: Friday 2027-01-01 is assumed to be a working day, provisionally
    assert next_at_10(CAL, received) == Deadline(due("2027-01-01"), True)
    # 2027 loaded with 元旦 Friday 01-01 off: the weekend follows, so Monday 01-04
    loaded = CAL.with_year(YearSchedule.parse(SCHEDULE_2027))
    assert next_at_10(loaded, received) == Deadline(due("2027-01-04"), False)
    # a Wednesday receive stays exact: Thursday 12-31 is in 2026
    assert next_at_10(CAL, at("2026-12-30T14:00+08:00")) == Deadline(due("2026-12-31"), False)


def test_far_future_year_is_monday_friday_and_provisional() -> None:
    year = covered_years().stop + 100
    friday = next(d for d in days_of(date(year, 3, 1), date(year, 3, 7)) if d.weekday() == 4)
    received = datetime.combine(friday, time(12), CST)
    monday = friday + timedelta(days=3)
    assert next_at_10(CAL, received) == Deadline(datetime.combine(monday, time(10), CST), True)
    assert CAL.add_workdays(friday, 0) == (friday, True)


def test_loaded_schedule_replaces_the_library_for_its_year() -> None:
    """How a notice that moves late-December days of the previous year is loaded: amend and
    reload that previous year as a whole."""
    amended = library_schedule(2026)
    amended = YearSchedule(2026, amended.holidays | {date(2026, 12, 31)}, amended.makeup_workdays)
    cal = CAL.with_year(amended)
    assert not cal.is_workday(date(2026, 12, 31))
    assert next_at_10(cal, at("2026-12-30T09:00+08:00")).at.date() > date(2026, 12, 31)
    assert cal.is_workday(date(2026, 1, 4))  # the rest of 2026 is still the notice
    assert CAL.is_workday(date(2026, 12, 31))
    assert cal.loaded_years == (2026,) and CAL.loaded_years == ()
    assert cal.schedule_for(2026) == amended and CAL.schedule_for(2026) == library_schedule(2026)


def test_library_schedules_are_valid_and_mean_the_same() -> None:
    for year in covered_years():
        schedule = library_schedule(year)
        assert YearSchedule.parse(schedule.as_dict()) == schedule
        cal = WorkCalendar([schedule])
        for day in days_of(date(year, 1, 1), date(year, 12, 31)):
            assert cal.is_workday(day) is chinese_calendar.is_workday(day), day
    with pytest.raises(ValueError, match="no data"):
        library_schedule(covered_years().stop)


# --------------------------------------------------------------------------- counting


def test_add_workdays_semantics() -> None:
    assert CAL.add_workdays(date(2025, 9, 30), 0) == (date(2025, 9, 30), False)  # workday
    assert CAL.add_workdays(date(2025, 10, 1), 0) == (date(2025, 10, 9), False)  # holiday
    assert CAL.add_workdays(date(2025, 9, 30), 1) == CAL.next_workday(date(2025, 9, 30))
    # Sep 30 +1 = Oct 9 (Thu), +2 = Oct 10 (Fri), +3 = Oct 11 (Saturday 调休), +4 = Oct 13
    assert CAL.add_workdays(date(2025, 9, 30), 3) == (date(2025, 10, 11), False)
    assert CAL.add_workdays(date(2025, 9, 30), 4) == (date(2025, 10, 13), False)
    assert CAL.add_workdays(date(2025, 10, 1), 1) == (date(2025, 10, 9), False)
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2025, 9, 30), -1)


def test_add_workdays_agrees_with_counting_the_oracle() -> None:
    start = date(2025, 12, 20)
    oracle = [
        d
        for d in days_of(start + timedelta(days=1), date(2026, 12, 31))
        if chinese_calendar.is_workday(d)
    ]
    for n in (1, 2, 5, 10, 20, 60, 120, len(oracle)):
        assert CAL.add_workdays(start, n) == (oracle[n - 1], False), n


@no_2027_data
def test_add_workdays_into_2027_is_provisional() -> None:
    assert CAL.add_workdays(date(2026, 12, 30), 1) == (date(2026, 12, 31), False)
    assert CAL.add_workdays(date(2026, 12, 30), 2) == (date(2027, 1, 1), True)
    loaded = CAL.with_year(YearSchedule.parse(SCHEDULE_2027))
    assert loaded.add_workdays(date(2026, 12, 30), 2) == (date(2027, 1, 4), False)


def test_workdays_between() -> None:
    days, provisional = CAL.workdays_between(date(2025, 9, 27), date(2025, 10, 12))
    assert days == [
        date(2025, 9, 28),
        date(2025, 9, 29),
        date(2025, 9, 30),
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
    ]
    assert provisional is False
    assert len(CAL.workdays_between(date(2025, 1, 1), date(2025, 12, 31))[0]) == 248
    assert len(CAL.workdays_between(date(2026, 1, 1), date(2026, 12, 31))[0]) == 248
    assert CAL.workdays_between(date(2025, 10, 2), date(2025, 10, 1)) == ([], False)
    assert CAL.workdays_between(date(2025, 10, 1), date(2025, 10, 1)) == ([], False)


def test_workdays_between_limits_and_provisional() -> None:
    last = covered_years().stop - 1
    days, provisional = CAL.workdays_between(date(last, 12, 30), date(last + 1, 1, 8))
    assert provisional is True and date(last, 12, 30) in days
    start = date(2023, 1, 1)
    assert len(CAL.workdays_between(start, start + timedelta(days=MAX_RANGE_DAYS - 1))[0]) > 700
    with pytest.raises(ValueError, match="three years"):
        CAL.workdays_between(start, start + timedelta(days=MAX_RANGE_DAYS))
    with pytest.raises(ValueError, match="three years"):
        CAL.workdays_between(date(2004, 1, 1), date(2026, 12, 31))


# --------------------------------------------------------------------------- 办理时限


@pytest.mark.parametrize(
    ("start", "n", "hour", "expected"),
    [
        ("2025-09-30T15:00+08:00", 1, 18, "2025-10-09T18:00+08:00"),
        ("2025-09-30T15:00+08:00", 3, 18, "2025-10-11T18:00+08:00"),  # Saturday 调休
        ("2025-09-26T15:00+08:00", 1, 18, "2025-09-28T18:00+08:00"),  # Sunday 调休
        ("2026-02-13T20:00+08:00", 2, 17, "2026-02-24T17:00+08:00"),
        ("2026-03-05T17:30Z", 1, 18, "2026-03-09T18:00+08:00"),  # Friday in Shanghai
        ("2026-03-05T15:00Z", 1, 18, "2026-03-06T18:00+08:00"),  # Thursday 23:00
        ("2026-02-16T09:00+08:00", 0, 18, "2026-02-24T18:00+08:00"),  # holiday, n=0
        ("2026-02-24T09:00+08:00", 0, 18, "2026-02-24T18:00+08:00"),  # workday, n=0
    ],
)
def test_deadline_after_workdays(start: str, n: int, hour: int, expected: str) -> None:
    deadline = CAL.deadline_after_workdays(at(start), n, hour)
    assert deadline == Deadline(at(expected), False)
    assert deadline.at.tzinfo == SHANGHAI


def test_deadline_after_workdays_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="hour"):
        CAL.deadline_after_workdays(at("2025-09-30T15:00+08:00"), 1, 24)
    with pytest.raises(ValueError):
        CAL.deadline_after_workdays(at("2025-09-30T15:00+08:00"), -1)


# --------------------------------------------------------------------------- YearSchedule


def test_parse_round_trip() -> None:
    schedule = YearSchedule.parse(SCHEDULE_2027)
    assert schedule.year == 2027
    assert date(2027, 1, 1) in schedule.holidays
    assert schedule.makeup_workdays == frozenset({date(2027, 2, 20)})
    assert YearSchedule.parse(schedule.as_dict()) == schedule


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holidays": ["2026-12-31"]}, "2026-12-31 in holidays is not in year 2027"),
        ({"makeup_workdays": ["2028-01-01"]}, "2028-01-01 in makeup_workdays is not in year"),
        (
            {"holidays": ["2027-02-20"], "makeup_workdays": ["2027-02-20"]},
            "2027-02-20 is listed both",
        ),
        ({"makeup_workdays": ["2027-02-03"]}, "2027-02-03 is a Wednesday"),
        ({"holidays": ["2027-2-5"]}, "'2027-2-5' is not a date in the form YYYY-MM-DD"),
        ({"holidays": ["2027-02-30"]}, "'2027-02-30' is not a valid date"),
        ({"holidays": "2027-01-01"}, "expected a list"),
        ({"year": "2027"}, "year must be an integer"),
        ({"makeup_days": []}, r"unknown key\(s\) \['makeup_days'\]"),
    ],
)
def test_parse_rejects_bad_schedules(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearSchedule.parse(SCHEDULE_2027 | change)


def test_parse_requires_every_key_and_names_all_problems() -> None:
    with pytest.raises(ValueError, match=r"missing key\(s\) \['makeup_workdays'\]"):
        YearSchedule.parse({"year": 2027, "holidays": []})
    with pytest.raises(ValueError, match="2026-12-31.*2027-02-03"):
        YearSchedule.parse(
            {"year": 2027, "holidays": ["2026-12-31"], "makeup_workdays": ["2027-02-03"]}
        )


def test_constructor_validates_too() -> None:
    with pytest.raises(ValueError, match="2027-02-01 is a Monday"):
        YearSchedule(2027, frozenset(), frozenset({date(2027, 2, 1)}))
    with pytest.raises(ValueError, match="not a date"):
        YearSchedule(2027, frozenset({datetime(2027, 1, 1, tzinfo=CST)}), frozenset())
    schedule = YearSchedule(2027, {date(2027, 1, 1)}, [])  # type: ignore[arg-type]
    assert schedule.holidays == frozenset({date(2027, 1, 1)})
    assert isinstance(schedule.makeup_workdays, frozenset)
    with pytest.raises(ValueError, match="two schedules"):
        WorkCalendar([schedule, schedule])


@pytest.mark.parametrize(("moment", "day"), [
    ("2026-12-04T00:12:00+08:00", "2026-12-04"),  # the UTC date is still 12-03
    ("2026-12-03T23:50:00+08:00", "2026-12-03"),
    ("2026-12-31T23:50:00+08:00", "2026-12-31"),
    ("2027-01-01T00:12:00+08:00", "2027-01-01"),
])
def test_the_zone_day_is_the_shanghai_day_at_both_ends_of_it(moment: str, day: str) -> None:
    from common.calendar import zone_today

    at = datetime.fromisoformat(moment)
    assert zone_today(at) == zone_today(at.astimezone(UTC)) == date.fromisoformat(day)
