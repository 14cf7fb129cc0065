"""HMICFRS deadlines as written, turned into due dates.

HMICFRS states deadlines in prose: "By 31 March 2023", "Within six months", "Within six
months / within two years (of December 2016)", "With immediate effect". The tracker keeps that
text as written and stores a derived due date beside it, so items can be sorted and chased.
Everything here is pure: no clock, no I/O. Relative deadlines count from the report's
publication date, which the caller passes in.

Decisions (tests pin each one):

- "By March 2024", "March 2024", "no later than September 2017", "2017-09": the LAST day of
  that month, because the inspectorate allows the whole month.
- "before 31 March 2023" is the day before (30 March); "before the end of X" is the end of X.
- "By the end of 2023" / "by 2023" is 31 December; "end of the 2023/24 financial year" is
  31 March 2024 (UK public-sector financial years start on 1 April).
- Periods add calendar months, clamping the day (31 August + 6 months = 28/29 February);
  a year is 12 months, a week 7 days.
- A month-only anchor ("(of December 2016)") counts from the END of that month, and month or
  year periods from it land on the end of the target month: "within six months (of December
  2016)" is 30 June 2017. The report came out at some point that month; counting from its
  last day never makes a force overdue sooner than the inspectorate meant, and people read
  "six months from December" as "by the end of June".
- A publication date known only to a month, a year or a financial year ("July 2020", "2019",
  "2018/19") anchors like a month-only anchor: from the END of that period, landing on the end of
  the target month; "Immediately" is the end of the period. Same reason: never sooner than meant.
- Several parts in one deadline ("within six months / within two years") give the EARLIEST
  date: that is the milestone the force must meet next. If any part cannot be dated (relative,
  with no publication date and no anchor) there is no due date, since the earliest is unknown.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final

from storage.partial_dates import PartialDate

_MONTH_NAMES: Final = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip

MONTH_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
    | {name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)}
    | {"sept": 9}
)
"""Lower-case month names and abbreviations ("sept" included) to month numbers."""

_SMALL_NUMBERS: Final = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_NUMBER_WORDS: Final[Mapping[str, int]] = MappingProxyType(
    {"a": 1, "an": 1, "twenty": 20}
    | {word: i for i, word in enumerate(_SMALL_NUMBERS, 1)}
    | {f"twenty-{word}": 20 + i for i, word in enumerate(_SMALL_NUMBERS[:4], 1)}
)

# Longest alternatives first, so "seventeen" is tried before "seven".
MONTH_PATTERN: Final = "(?:" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\b"
"""Regex source matching one month name or abbreviation (no groups)."""
NUMBER_PATTERN: Final = (
    r"(?:\d{1,4}|twenty(?:[\s-]+(?:one|two|three|four)\b)?|"
    + "|".join(sorted((*_SMALL_NUMBERS, "an", "a"), key=len, reverse=True))
    + r")\b"
)
"""Regex source matching a count: digits, "a"/"an", or one..twenty-four in words (no groups)."""


class DeadlineError(ValueError):
    """A due date/deadline value that cannot be used: an impossible date or not a deadline."""


def number_value(word: str) -> int | None:
    """The number a NUMBER_PATTERN match stands for ("six" -> 6, "twenty four" -> 24, "18" -> 18)."""
    key = "-".join(word.lower().replace("-", " ").split())
    return int(key) if key.isdecimal() else _NUMBER_WORDS.get(key)


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day (31 Aug + 6 -> 28/29 Feb)."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, index + 1, min(day.day, calendar.monthrange(year, index + 1)[1]))


_ORD = r"(?:st|nd|rd|th)?"
_DATE_ALTERNATIVES = rf"""
    (?P<fy>financial\s+year\s+(?P<fy_a>\d{{4}})\s*[/-]\s*(?P<fy_b>\d{{2}}(?:\d{{2}})?)
        |(?P<fy_c>\d{{4}})\s*[/-]\s*(?P<fy_d>\d{{2}}(?:\d{{2}})?)\s+financial\s+year)
  | (?P<iso>(?P<iso_y>\d{{4}})[-/.](?P<iso_m>\d{{1,2}})[-/.](?P<iso_d>\d{{1,2}}))(?![\d-])
  | (?P<ym>(?P<ym_y>\d{{4}})-(?P<ym_m>\d{{1,2}}))(?![\d-])
  | (?P<uk>(?P<uk_d>\d{{1,2}})[/.-](?P<uk_m>\d{{1,2}})[/.-](?P<uk_y>\d{{4}}|\d{{2}}))(?!\d)
  | (?P<mnum>(?P<mnum_m>\d{{1,2}})/(?P<mnum_y>\d{{4}}))(?!\d)
  | (?P<dmy>(?P<dmy_d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<dmy_m>{MONTH_PATTERN})\.?,?\s+(?P<dmy_y>\d{{4}}))
  | (?P<mdy>(?P<mdy_m>{MONTH_PATTERN})\.?\s+(?P<mdy_d>\d{{1,2}}){_ORD},?\s+(?P<mdy_y>\d{{4}}))
  | (?P<my>(?P<my_m>{MONTH_PATTERN})\.?,?\s+(?P<my_y>\d{{4}}))
  | (?P<yr>(?:calendar\s+)?(?:year\s+)?(?P<yr_y>\d{{4}}))(?![\d/-])
"""
# The same date shapes without groups, for the "(of December 2016)" anchor of a relative deadline.
_ANCHOR_DATE = rf"""
    \d{{1,2}}{_ORD}\s+(?:of\s+)?{MONTH_PATTERN}\.?,?\s+\d{{4}} | {MONTH_PATTERN}\.?,?\s+\d{{4}}
  | \d{{4}}-\d{{1,2}}-\d{{1,2}} | \d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}
"""
_PERIOD = rf"{NUMBER_PATTERN}[\s-]+(?:calendar\s+)?(?:day|week|month|year)s?\b"
_NEXT_PERIOD = rf"(?:within\s+)?(?:the\s+)?(?:next\s+)?{_PERIOD}"
_RELATIVE = rf"""
    (?P<rel>within\s+{_NEXT_PERIOD}(?:\s*(?:/|,|;|\bor\b|\band\b)\s*{_NEXT_PERIOD})*)
    (?:\s*\(?\s*(?:of|from|after|following)\s+(?:the\s+)?(?:date\s+of\s+)?(?:the\s+)?
       (?:(?P<anchor>{_ANCHOR_DATE})|(?P<pub>publication(?:\s+of\s+(?:this|the)\s+report)?
                                           |publishing\s+(?:this|the)\s+report|this\s+report))
       (?:\s*\))?)?
"""
_COMPONENT: Final = re.compile(
    rf"""\b(?P<lead>(?:by|before|no\s+later\s+than|not\s+later\s+than|on\s+or\s+before|until|till
                   |in|during)\s+)?
    (?:the\s+)?(?P<end>end\s+of\s+(?:the\s+)?)?
    (?:{_DATE_ALTERNATIVES}|{_RELATIVE}|(?P<now>with\s+immediate\s+effect|immediately|immediate\b))""",
    re.IGNORECASE | re.VERBOSE,
)
_PERIOD_PARTS: Final = re.compile(
    rf"\b(?P<n>{NUMBER_PATTERN})[\s-]+(?:calendar\s+)?(?P<unit>day|week|month|year)", re.IGNORECASE
)
# Spreadsheet exports often add a midnight time to a date cell ("2023-03-31 00:00:00").
_TRAILING_TIME: Final = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_BY_LEADS: Final = frozenset({"by", "no later than", "not later than", "on or before", "until", "till"})
_PHRASE_LEADS: Final = frozenset({"by", "no later than", "not later than", "on or before", "before"})
_PLAIN_DATES: Final = ("iso", "ym", "uk", "mnum", "dmy", "mdy")
_UNREADABLE: Final = (
    "use a date such as 2023-03-31, 2017-09 or 31/03/2023, "
    "or HMICFRS deadline text such as 'By 31 March 2023' or 'Within six months'"
)


def _lead(m: re.Match[str]) -> str:
    return " ".join((m["lead"] or "").lower().split())


def _build(text: str, year: str, month: str | int, day: str | int | None = None) -> tuple[date, date]:
    """First and last day of a written date or month; DeadlineError if it cannot exist."""
    try:
        y = int(year) + (2000 if len(year) == 2 else 0)
        m = month if isinstance(month, int) else MONTH_NUMBERS.get(month.lower().rstrip(".")) or int(month)
        if day is None:
            return date(y, m, 1), month_end(y, m)
        found = date(y, m, int(day))
        return found, found
    except (ValueError, OverflowError) as error:
        raise DeadlineError(f"{text.strip()!r} is not a real date ({error})") from None


def _span(m: re.Match[str]) -> tuple[date, date] | None:
    """The first and last day a date-shaped match covers; None for a bare year (not a deadline)."""
    text = m.group(0)
    if m["fy"]:
        start, end = (m["fy_a"], m["fy_b"]) if m["fy_a"] else (m["fy_c"], m["fy_d"])
        if int(end) % (10 ** len(end)) != (int(start) + 1) % (10 ** len(end)):
            raise DeadlineError(f"{text.strip()!r} is not a financial year (expected e.g. 2023/24)")
        return _build(text, start, 4, 1)[0], _build(text, str(int(start) + 1), 3, 31)[1]
    if m["iso"]:
        return _build(text, m["iso_y"], m["iso_m"], m["iso_d"])
    if m["ym"]:
        return _build(text, m["ym_y"], m["ym_m"])
    if m["uk"]:
        return _build(text, m["uk_y"], m["uk_m"], m["uk_d"])
    if m["mnum"]:
        return _build(text, m["mnum_y"], m["mnum_m"])
    if m["dmy"]:
        return _build(text, m["dmy_y"], m["dmy_m"], m["dmy_d"])
    if m["mdy"]:
        return _build(text, m["mdy_y"], m["mdy_m"], m["mdy_d"])
    if m["my"]:
        return _build(text, m["my_y"], m["my_m"])
    # A bare year is only a deadline as "by 2025" or "(by) the end of 2025".
    if m["end"] or _lead(m) in _BY_LEADS:
        return _build(text, m["yr_y"], 1)[0], date(int(m["yr_y"]), 12, 31)
    return None


Published = date | PartialDate | None
"""A publication date: a plain date, or a :class:`PartialDate` at its own precision."""


def _anchor(published: Published) -> tuple[date | None, bool]:
    """(the day relative deadlines count from, whether it stands for a whole month or longer)."""
    if isinstance(published, PartialDate):
        return published.end, not published.exact
    return published, False


def _relative_due(m: re.Match[str], published: Published) -> date | None:
    """The earliest date the periods of a "within ..." clause give, from its anchor."""
    start, month_only = _anchor(published)
    if m["anchor"]:
        anchor = _COMPONENT.fullmatch(" ".join(m["anchor"].split()))
        span = _span(anchor) if anchor else None
        if span is None:  # unreachable in practice: the anchor pattern only admits dates
            return None
        month_only = span[0] != span[1]
        start = span[1]
    if start is None:
        return None
    dues = []
    for part in _PERIOD_PARTS.finditer(m["rel"]):
        n = number_value(part["n"]) or 0
        unit = part["unit"].lower()
        try:
            if unit in ("day", "week"):
                dues.append(start + timedelta(days=n * (7 if unit == "week" else 1)))
            else:
                moved = add_months(start, n * (12 if unit == "year" else 1))
                dues.append(month_end(moved.year, moved.month) if month_only else moved)
        except (ValueError, OverflowError):
            raise DeadlineError(f"{m.group(0).strip()!r} gives a date out of range") from None
    return min(dues, default=None)


def _due(m: re.Match[str], published: Published) -> tuple[bool, date | None]:
    """(is a deadline, its due date or None) for one component match."""
    if m["now"]:
        return True, _anchor(published)[0]
    if m["rel"]:
        return True, _relative_due(m, published)
    span = _span(m)
    if span is None:
        return False, None
    if _lead(m) == "before" and not m["end"]:
        if span[0] == date.min:
            raise DeadlineError(f"{m.group(0).strip()!r} gives a date out of range")
        return True, span[0] - timedelta(days=1)
    return True, span[1]


def _read(text: str, published: Published) -> tuple[bool, date | None]:
    """(found a deadline, earliest due date or None); DeadlineError for impossible dates."""
    dues = [due for found, due in (_due(m, published) for m in _COMPONENT.finditer(text)) if found]
    if not dues:
        return False, None
    if any(due is None for due in dues):
        return True, None
    return True, min(due for due in dues if due is not None)


def derive_due_date(deadline: str | None, published: Published) -> date | None:
    """The due date an HMICFRS deadline as written gives, or None if it cannot be worked out.

    Relative deadlines ("Within six months") count from the anchor in the text if there is
    one ("(of December 2016)"), else from ``published`` (a :class:`PartialDate` counts from the
    end of its period); with neither the result is None.
    """
    if not deadline or not deadline.strip():
        return None
    try:
        return _read(deadline, published)[1]
    except DeadlineError:
        return None


def deadline_from_text(text: str) -> str | None:
    """The first deadline phrase in a recommendation's text, as written, or None.

    "By 31 March 2023, chief constables should ..." -> "By 31 March 2023". Bare dates do not
    count (reports quote plenty of past dates); a deadline has a lead such as "by", "within"
    or "immediately".
    """
    for m in _COMPONENT.finditer(text):
        now = (m["now"] or "").lower()
        if m["rel"] or now not in ("", "immediate"):
            return " ".join(m.group(0).split())
        lead = _lead(m)
        # "Until March 2020 the force ..." and "in 2019" are narrative: only these leads count.
        if now or not (m["end"] or lead in _PHRASE_LEADS):
            continue
        if m["yr"] and not m["end"] and lead == "before":
            continue
        return " ".join(m.group(0).split())
    return None


def parse_due_value(value: str, published: Published) -> tuple[str | None, date | None]:
    """Read a CSV ``due_date``/``deadline`` cell: (deadline text to keep or None, due date).

    A plain date (ISO "2023-03-31", year-month "2017-09", UK "31/03/2023", "31 March 2023")
    gives (None, date). Deadline text gives (text, derived date, or None when it is relative
    and there is no publication date or anchor). A blank cell gives (None, None).
    Raises DeadlineError for an impossible date ("2023-02-30") or text that is not a deadline.
    """
    text = " ".join(value.split())
    if not text:
        return None, None
    whole = _COMPONENT.fullmatch(_TRAILING_TIME.sub("", text))
    if whole and not whole["lead"] and not whole["end"] and any(whole[k] for k in _PLAIN_DATES):
        span = _span(whole)
        return None, span[1] if span else None
    found, due = _read(text, published)
    if not found:
        raise DeadlineError(f"{text!r} is not a due date or a deadline: {_UNREADABLE}")
    return text, due
