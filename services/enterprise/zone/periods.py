"""Reporting periods (报告期) of the economic figures: a month (``2025-06``), a quarter
(``2025-Q2``) or a year (``2025``), and the forms the statistics office's files write them in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from common.errors import InvalidValue

#: the API's form of a period (also the OpenAPI pattern)
PERIOD_PATTERN = r"^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$"
_API = re.compile(PERIOD_PATTERN, re.ASCII)
_CHINESE_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
#: the most periods one series covers (three years of months)
MAX_SERIES = 36


@dataclass(frozen=True, order=True)
class Period:
    """``kind`` month (number 1-12), quarter (1-4) or year (number 0)."""

    year: int
    kind: str
    number: int = 0

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    @property
    def previous(self) -> Period:
        """The same period a year earlier (同期), for year-on-year growth."""
        return Period(self.year - 1, self.kind, self.number)

    @property
    def first_day(self) -> date:
        month = {"month": self.number, "quarter": 3 * self.number - 2, "year": 1}[self.kind]
        return date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        month = {"month": self.number, "quarter": 3 * self.number, "year": 12}[self.kind]
        following = date(self.year + (month == 12), month % 12 + 1, 1)
        return following - timedelta(days=1)

    def next(self) -> Period:
        if self.kind == "year":
            return Period(self.year + 1, "year")
        top = 12 if self.kind == "month" else 4
        if self.number == top:
            return Period(self.year + 1, self.kind, 1)
        return Period(self.year, self.kind, self.number + 1)

    def before(self) -> Period:
        if self.kind == "year":
            return Period(self.year - 1, "year")
        top = 12 if self.kind == "month" else 4
        if self.number == 1:
            return Period(self.year - 1, self.kind, top)
        return Period(self.year, self.kind, self.number - 1)

    def __str__(self) -> str:
        return self.label


def parse(text: str) -> Period:
    """``2025-06``, ``2025-Q2`` or ``2025`` (InvalidValue otherwise)."""
    if not isinstance(text, str) or not _API.fullmatch(text):
        raise InvalidValue("zone.period_invalid",
                           "not a period: 2025-06 (month), 2025-Q2 (quarter) or 2025 (year)")
    year = int(text[:4])
    if len(text) == 4:
        return Period(year, "year")
    if text[5] == "Q":
        return Period(year, "quarter", int(text[6]))
    return Period(year, "month", int(text[5:7]))


def between(start: Period, end: Period) -> list[Period]:
    """Every period from ``start`` to ``end`` (same granularity), at most :data:`MAX_SERIES`."""
    if start.kind != end.kind:
        raise InvalidValue("zone.series_mixed_periods",
                           "from and to must be periods of the same kind")
    if end < start:
        raise InvalidValue("zone.series_reversed", "to may not precede from")
    found = [start]
    while found[-1] != end:
        if len(found) >= MAX_SERIES:
            raise InvalidValue("zone.series_too_long", "at most {max} periods in one series",
                               max=MAX_SERIES)
        found.append(found[-1].next())
    return found


_MONTH_FORMS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})月?(?:份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_QUARTER_FORMS = (
    re.compile(r"^(\d{4})[-/ ]?[Qq]([1-4])$"),
    re.compile(r"^(\d{4})年?第?([一二三四1-4])季度?$"),
)


def parse_reported(value: object) -> Period:
    """A period as the statistics office writes it: ``2025-06``, ``2025/6``, ``2025年6月``,
    ``202506``, a date in the month, ``2025-Q2``, ``2025Q2``, ``2025年第二季度``,
    ``2025年2季度`` (InvalidValue otherwise; a year alone is not a reporting period)."""
    if isinstance(value, datetime):
        return Period(value.year, "month", value.month)
    if isinstance(value, date):
        return Period(value.year, "month", value.month)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
    for form in _MONTH_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12 and 2000 <= year <= 2100:
                return Period(year, "month", month)
    for form in _QUARTER_FORMS:
        match = form.fullmatch(text)
        if match:
            year, quarter = int(match.group(1)), _CHINESE_NUMBERS[match.group(2)]
            if 2000 <= year <= 2100:
                return Period(year, "quarter", quarter)
    raise InvalidValue("zone.period_unreadable", "{value} is not a month (2025-06, 2025年6月) or "
                       "a quarter (2025-Q2, 2025年第二季度)", value=text)
