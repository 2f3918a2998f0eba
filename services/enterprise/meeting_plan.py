"""The plan's rule for 政企座谈 over a year (pure: no database). The plan asks for at least
``minimum`` meetings a year (全年不少于12次), a meeting every month (月月有活动) and a theme
every quarter followed by a meeting (季季有主题).

A month (quarter) is ``ok`` once its rule is met, ``missed`` when it has ended without, and
``open`` while it may still be met. :mod:`services.enterprise.meetings` reads the held meetings
and their figures; :func:`progress` judges them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


def status(ok: bool, ended: bool) -> str:
    return "ok" if ok else ("missed" if ended else "open")


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def quarter_of_month(month: int) -> int:
    return (month - 1) // 3 + 1


@dataclass(frozen=True)
class Held:
    """A held meeting as the rule sees it: its local month and whether it follows its
    quarter's theme (None: the quarter has no theme)."""

    month: int
    on_theme: bool | None


@dataclass(frozen=True)
class Progress:
    months: list[dict[str, Any]]
    quarters: list[dict[str, Any]]

    @property
    def months_without_meeting(self) -> list[int]:
        return [r["month"] for r in self.months if r["status"] == "missed"]

    @property
    def quarters_off_theme(self) -> list[int]:
        return [r["quarter"] for r in self.quarters if r["status"] == "missed"]


def progress(year: int, today: date, held: Iterable[Held],
             themes: Mapping[int, str | None]) -> Progress:
    """Each month's held meetings and each quarter's (with those on its theme ``themes``,
    by quarter), judged on ``today``."""
    by_month = [0] * 12
    by_quarter = [0] * 4
    on_theme = [0] * 4
    for meeting in held:
        quarter = quarter_of_month(meeting.month)
        by_month[meeting.month - 1] += 1
        by_quarter[quarter - 1] += 1
        on_theme[quarter - 1] += 1 if meeting.on_theme else 0

    def month_ended(month: int) -> bool:
        return (year, month) < (today.year, today.month)

    def quarter_ended(quarter: int) -> bool:
        return (year, quarter) < (today.year, quarter_of_month(today.month))

    months = [{"month": i + 1, "held": n, "status": status(n > 0, month_ended(i + 1))}
              for i, n in enumerate(by_month)]
    quarters = [{"quarter": q + 1, "theme": themes.get(q + 1), "held": by_quarter[q],
                 "on_theme": on_theme[q],
                 "status": status(on_theme[q] > 0, quarter_ended(q + 1))}
                for q in range(4)]
    return Progress(months, quarters)
