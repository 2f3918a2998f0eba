"""The plan's rule for 政企座谈 over a year (services/enterprise/meeting_plan.py): 月月有活动
and 季季有主题, judged on a day, with no database."""

from __future__ import annotations

from datetime import date

from services.enterprise.meeting_plan import Held, progress, rate


def test_months_and_quarters_are_ok_missed_or_open() -> None:
    held = [Held(1, True), Held(1, False), Held(3, None), Held(5, False), Held(7, True)]
    found = progress(2026, date(2026, 7, 15), held, {1: "融资", 2: "用工", 3: "物流"})
    months = {r["month"]: (r["held"], r["status"]) for r in found.months}
    assert months[1] == (2, "ok") and months[3] == (1, "ok") and months[7] == (1, "ok")
    assert months[2] == (0, "missed") and months[6] == (0, "missed")
    assert months[8] == (0, "open")
    assert found.months_without_meeting == [2, 4, 6]
    quarters = {r["quarter"]: (r["held"], r["on_theme"], r["status"]) for r in found.quarters}
    assert quarters == {1: (3, 1, "ok"), 2: (1, 0, "missed"), 3: (1, 1, "ok"),
                        4: (0, 0, "open")}
    assert found.quarters_off_theme == [2]
    assert found.quarters[3]["theme"] is None


def test_a_past_year_has_nothing_open_and_a_future_one_nothing_missed() -> None:
    past = progress(2025, date(2026, 1, 2), [], {})
    assert {r["status"] for r in past.months + past.quarters} == {"missed"}
    future = progress(2027, date(2026, 1, 2), [], {})
    assert {r["status"] for r in future.months + future.quarters} == {"open"}


def test_rates_without_a_whole_are_none() -> None:
    assert rate(1, 3) == 0.3333 and rate(0, 0) is None
