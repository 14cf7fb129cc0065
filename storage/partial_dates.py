"""Dates as real trackers write them, with the precision they were given at. Pure: no clock, no I/O.

A force's spreadsheet says "2019", "2018/19", "July 2020", "Jul-20", "02/11/2022", "2nd November
2022", an Excel date cell or its serial number (44867), or "TBC". :func:`read_date` turns each into
a :class:`PartialDate`: the first day of the period it names and how precise it is (``day``,
``month``, ``year`` or ``financial_year``), so "2019" is stored as 2019 and shown as "2019", never as
1 January 2019. Placeholders ("TBC", "N/A", "-", "not known") and blanks read as "no date".

Most shapes go to python-dateutil (``dayfirst=True``: UK forms read 02/11/2022 as 2 November).
Which fields the cell gave is found by parsing it against two different default dates: a field that
comes back different was not in the cell. Written by hand, because dateutil gets them wrong or does
not know them: ISO and other year-first forms (dateutil's ``dayfirst`` reads 2022-11-02 as 11
February), Excel's ``mmm-yy`` display ("Jul-20" is July 2020, dateutil says 20 July of no year),
UK financial years ("2018/19"), Excel serial numbers, and the placeholders.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Final

from dateutil import parser as dateutil_parser

__all__ = ["DateUnreadable", "PartialDate", "Precision", "is_placeholder", "read_date"]


class Precision(enum.StrEnum):
    """How much of a date a cell gave."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    FINANCIAL_YEAR = "financial_year"  # 1 April to 31 March, written "2018/19"


class DateUnreadable(ValueError):
    """A cell that is neither a date nor a placeholder; the message says what would do."""


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date known to a day, a month, a year or a UK financial year; ``start`` is its first day."""

    start: dt.date
    precision: Precision = Precision.DAY

    @classmethod
    def of(cls, day: dt.date | None, precision: str | None = None) -> PartialDate | None:
        """From a stored date and precision (a missing precision is a day: rows stored before it existed)."""
        if day is None:
            return None
        return cls(day, Precision(precision or Precision.DAY))

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        d, p = self.start, self.precision
        if p is Precision.DAY:
            return d
        if p is Precision.MONTH:
            return d.replace(day=calendar.monthrange(d.year, d.month)[1])
        if p is Precision.YEAR:
            return dt.date(d.year, 12, 31)
        return dt.date(d.year + 1, 3, 31)

    @property
    def exact(self) -> bool:
        return self.precision is Precision.DAY

    def label(self) -> str:
        """For people: "2 November 2022", "July 2020", "2019", "2018/19"."""
        d, p = self.start, self.precision
        if p is Precision.DAY:
            return f"{d.day} {d:%B %Y}"
        if p is Precision.MONTH:
            return f"{d:%B %Y}"
        if p is Precision.YEAR:
            return str(d.year)
        return f"{d.year}/{(d.year + 1) % 100:02d}"

    def iso(self) -> str:
        """For files, read back by :func:`read_date` at the same precision: "2022-11-02", "2020-07", "2019", "2018/19"."""
        d, p = self.start, self.precision
        if p is Precision.DAY:
            return d.isoformat()
        if p is Precision.MONTH:
            return f"{d.year:04d}-{d.month:02d}"
        if p is Precision.YEAR:
            return f"{d.year:04d}"
        return self.label()


PLACEHOLDERS: Final = frozenset({
    "tbc", "tba", "tbd", "to be confirmed", "to be agreed", "to be decided", "n a", "na", "n k", "nk",
    "not applicable", "not known", "unknown", "none", "nil", "not set", "no date", "not given", "-", "?",
})  # fmt: skip
"""What trackers write for "no date yet" (after lower-casing and turning "/" and "." into spaces)."""

_MONTHS: Final = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTH_YY: Final = re.compile(rf"(?P<m>(?:{_MONTHS})[a-z]*)\.?[\s\-/'’]+(?P<y>\d{{2}})", re.IGNORECASE)
_FY: Final = re.compile(
    r"(?:fy\s*|financial\s+year\s+)?(?P<a>\d{4})\s*(?P<sep>[/-])\s*(?P<b>\d{2}|\d{4})(?:\s+financial\s+year)?",
    re.I,
)
_YEAR_FIRST: Final = re.compile(r"\d{4}\s*[-/.]")
_SERIAL: Final = re.compile(r"\d{5}(?:\.\d+)?")
_DASHES: Final = re.compile(r"[\u2010-\u2015\u2212]")
_SERIALS: Final = range(10_000, 80_000)  # 1927 to 2119: a five-digit number in a date column is a serial
_YEARS: Final = range(1900, 2101)
_DEFAULTS: Final = (dt.datetime(1, 1, 1), dt.datetime(2, 2, 2))
_HINT: Final = "use a date such as 2022-11-02, 02/11/2022, 2 November 2022, July 2020, 2019 or 2018/19"


def is_placeholder(value: str) -> bool:
    """True for a blank cell or "no date yet" ("TBC", "N/A", "-", "not known")."""
    key = " ".join(re.sub(r"[/.]", " ", _DASHES.sub("-", value).casefold()).split())
    return not key or key in PLACEHOLDERS


def read_date(value: object) -> PartialDate | None:
    """A cell as a date at its own precision; None for a blank or a placeholder.

    Raises :class:`DateUnreadable` for anything else ("last spring", "31/02/2023", "1").
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return PartialDate(value.date())
    if isinstance(value, dt.date):
        return PartialDate(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = " ".join(_DASHES.sub("-", str(value)).split())
    if is_placeholder(text):
        return None
    found = _read(text)
    if found is None:
        raise DateUnreadable(f"'{text}' is not a date ({_HINT})")
    if found.start.year not in _YEARS:
        raise DateUnreadable(f"'{text}' is not a plausible date (year {found.start.year})")
    return found


def _read(text: str) -> PartialDate | None:
    if _SERIAL.fullmatch(text):
        # Imported here: openpyxl (and the numpy it loads) costs ~33 MB and 0.2 s at start-up, and
        # only imports read spreadsheet serials; a running bot never does.
        from openpyxl.utils.datetime import from_excel

        serial = float(text)
        return PartialDate(from_excel(serial).date()) if int(serial) in _SERIALS else None
    if m := _FY.fullmatch(text):
        a, b = int(m["a"]), m["b"]
        if int(b) % 10 ** len(b) == (a + 1) % 10 ** len(b) and not (
            m["sep"] == "-" and len(b) == 2 and 1 <= int(b) <= 12
        ):
            return PartialDate(dt.date(a, 4, 1), Precision.FINANCIAL_YEAR)  # "2011-12" stays December 2011
    if m := _MONTH_YY.fullmatch(text):
        month = _month_number(m["m"])
        return PartialDate(dt.date(2000 + int(m["y"]), month, 1), Precision.MONTH) if month else None
    return _dateutil(text)


def _month_number(name: str) -> int | None:
    key = name[:3].casefold()
    return next((n for n, abbr in enumerate(calendar.month_abbr) if abbr and abbr.casefold() == key), None)


def _dateutil(text: str) -> PartialDate | None:
    """Parse with dateutil against two defaults; a field that differs between them was not given."""
    year_first = bool(_YEAR_FIRST.match(text))
    try:
        a, b = (
            dateutil_parser.parse(text, default=d, dayfirst=not year_first, yearfirst=year_first)
            for d in _DEFAULTS
        )
    except (ValueError, OverflowError):  # dateutil's ParserError is a ValueError
        return None
    if a.year != b.year:
        return None  # no year: "May", "jan 5", "1"
    if a.day == b.day:
        return PartialDate(a.date()) if a.month == b.month else None
    if a.month == b.month:
        return PartialDate(a.date().replace(day=1), Precision.MONTH)
    return PartialDate(dt.date(a.year, 1, 1), Precision.YEAR)
