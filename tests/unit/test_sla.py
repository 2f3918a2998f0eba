"""The 分理 rule of services/ticketing/sla.py: 10:00 of the first working day after the day a
demand was received, 调休 included (the calendar itself is tested in test_calendar.py).

Expected dates were read from ``chinese_calendar`` 1.11.0 and checked by hand against the
State Council notices for 2025 and 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from common.calendar import SHANGHAI, Deadline, WorkCalendar
from services.ticketing.sla import TRIAGE_HOUR, triage_deadline

CST = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def due(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), CST)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # National Day + Mid-Autumn 2025: Sunday 09-28 is a 调休 working day
        ("2025-09-26T15:00+08:00", "2025-09-28"),
        ("2025-09-27T11:00+08:00", "2025-09-28"),  # Saturday (off): due the 调休 Sunday
        ("2025-09-28T11:00+08:00", "2025-09-29"),
        ("2025-09-30T16:00+08:00", "2025-10-09"),  # 10-01..10-08 off
        ("2025-10-10T16:00+08:00", "2025-10-11"),  # Saturday 调休
        # Spring Festival 2025: Sunday 01-26 and Saturday 02-08 are working days
        ("2025-01-24T17:00+08:00", "2025-01-26"),
        ("2025-01-26T09:00+08:00", "2025-01-27"),
        ("2025-01-27T09:00+08:00", "2025-02-05"),  # 01-28..02-04 off
        ("2025-02-07T12:00+08:00", "2025-02-08"),
        # Labour Day 2025: Sunday 04-27 works, 05-01..05-05 off
        ("2025-04-25T12:00+08:00", "2025-04-27"),
        ("2025-04-30T12:00+08:00", "2025-05-06"),
        # 元旦 2026: 01-01..01-03 off, Sunday 01-04 works
        ("2025-12-31T12:00+08:00", "2026-01-04"),
        # Spring Festival 2026: Saturday 02-14 works, 02-15..02-23 off, Saturday 02-28 works
        ("2026-02-13T12:00+08:00", "2026-02-14"),
        ("2026-02-14T12:00+08:00", "2026-02-24"),
        ("2026-02-27T12:00+08:00", "2026-02-28"),
        # National Day 2026: Sunday 09-20 works, Mid-Autumn 09-25..27 off, 10-01..07 off
        ("2026-09-18T12:00+08:00", "2026-09-20"),
        ("2026-09-24T12:00+08:00", "2026-09-28"),
        ("2026-09-30T12:00+08:00", "2026-10-08"),
        ("2026-10-09T12:00+08:00", "2026-10-10"),
        # given in UTC: 2026-03-05T17:30Z is Friday 2026-03-06 01:30 in Shanghai
        ("2026-03-05T17:30+00:00", "2026-03-09"),
        ("2026-03-05T15:59+00:00", "2026-03-06"),  # still Thursday 23:59 in Shanghai
        ("2026-03-05T12:00-05:00", "2026-03-09"),  # Thursday noon New York = Friday 01:00
        ("2026-03-05T09:00-05:00", "2026-03-06"),  # Thursday 09:00 New York = Thursday 22:00
    ],
)
def test_triage_deadline_named_cases(received: str, expected: str) -> None:
    assert triage_deadline(CAL, at(received)) == Deadline(due(expected, 10), False)


def test_triage_deadline_is_in_shanghai_time() -> None:
    deadline = triage_deadline(CAL, at("2026-03-05T17:30Z"))
    assert TRIAGE_HOUR == 10
    assert deadline.at.tzinfo == SHANGHAI
    assert deadline.at.astimezone(UTC) == at("2026-03-09T02:00Z")


def test_a_naive_receive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        triage_deadline(CAL, datetime(2025, 9, 26, 15, 0))
