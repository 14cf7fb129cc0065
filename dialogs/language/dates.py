"""Date ranges in people's messages: "due before christmas", "what's due this month", ...

``parse_period(text, today)`` finds the first date phrase in a message and returns a Period:
inclusive bounds on an item's due date plus a short label for the reply. It is pure (the
caller passes ``today``), never raises, and uses only patterns compiled at import.

Semantics (the tests pin each one):

- "by X", "until X", "(by) the end of X" include X's last day. "before X" stops the day
  before X starts (before Christmas -> up to 24 December; before 31/12/2024 -> up to
  30 December), except "before the end of X", which means "by the end of X".
- "after X" starts the day after X ends; "from X" starts on X; "between X and Y" and
  "from X to Y" run from X's first day to Y's last.
- "in/on/during/due X", "this month", "next week" cover the whole of X. Weeks run Monday to
  Sunday, quarters are calendar quarters, the financial year starts on 1 April.
- "within 30 days", "in the next 2 weeks", "soon" (30 days): today to today + N.
- Top-only phrases ("before X", "by X") leave ``after`` as None, so overdue items are
  included; the caller decides what to do with them.
- Numeric dates are day first (31/12/2024). A date, month or holiday written without a year
  is its next occurrence: if the period would end before today, next year's is meant (today
  2026-11-25: "by end of march" -> 31 March 2027). A bare weekday ("by friday") is the coming
  one, today included; "next friday" is the Friday of next week; "this friday" the one this week.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from dialogs.language.numbers import (
    MONTH_NUMBERS,
    MONTH_PATTERN,
    NUMBER_PATTERN,
    add_months,
    month_end,
    number_value,
)

_MONTH_TITLES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_SOON_DAYS: Final = 30


@dataclass(frozen=True)
class Period:
    """Inclusive bounds on an item's due date; None means unbounded on that side."""

    after: date | None
    before: date | None
    label: str  # short human text for replies: "before 25 December 2026", "this month"

    def contains(self, due: date) -> bool:
        """Whether a due date falls inside the period."""
        return (self.after is None or due >= self.after) and (self.before is None or due <= self.before)


@dataclass(frozen=True)
class _Target:
    """What a lead word points at ("christmas", "march", "next week"), before its year is settled."""

    span: Callable[[int], tuple[date, date]]  # occurrence (0 = next, 1 = the one after) -> first, last day
    name: str | None = None  # a named period says itself in labels: "this month"
    is_end: bool = False  # "the end of X": every lead then means "by"


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_in_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    correction = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_centuries - correction + 15) % 30
    quad, quad_rest = divmod(year_in_century, 4)
    weekday = (32 + 2 * century_rest + 2 * quad - epact - quad_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def _day(d: date) -> str:
    return f"{d.day} {_MONTH_TITLES[d.month - 1]} {d.year}"


def _whole(start: date, end: date) -> str | None:
    """The label "March 2027", "2027" or "Q1 2027" when a span is exactly that calendar period."""
    if start.day == 1 and end == month_end(start.year, start.month):
        return f"{_MONTH_TITLES[start.month - 1]} {start.year}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    if start.day == 1 and start.month % 3 == 1 and end == month_end(start.year, start.month + 2):
        return f"Q{start.month // 3 + 1} {start.year}"
    return None


def _fixed(start: date, end: date | None = None, name: str | None = None) -> _Target:
    return _Target(lambda _k: (start, end or start), name)


def _nth_date(month: int, day: int, today: date, k: int) -> date:
    """The k-th (0-based) date with this day and month from this year on (29 Feb: leap years only)."""
    years = [y for y in range(today.year, today.year + 9) if day <= calendar.monthrange(y, month)[1]]
    if day < 1 or len(years) <= k:
        raise ValueError(f"no such date: {day}/{month}")
    return date(years[k], month, day)


def _day_month(day: str, month: int, year: str | None, today: date) -> _Target:
    if year:
        return _fixed(date(int(year) + (2000 if len(year) == 2 else 0), month, int(day)))
    d = int(day)
    _nth_date(month, d, today, 0)  # fail now, not later, on 31/02
    return _Target(lambda k: (_nth_date(month, d, today, k),) * 2)


def _iso(m: re.Match[str], _today: date) -> _Target:
    return _fixed(date(int(m["y"]), int(m["m"]), int(m["d"])))


def _numeric(m: re.Match[str], today: date) -> _Target:
    return _day_month(m["d"], int(m["m"]), m["y"], today)


def _words_date(m: re.Match[str], today: date) -> _Target:
    return _day_month(m["d"], MONTH_NUMBERS[m["m"]], m["y"], today)


def _month(m: re.Match[str], today: date) -> _Target:
    number = MONTH_NUMBERS[m["m"]]
    if m["y"]:
        return _fixed(date(int(m["y"]), number, 1), month_end(int(m["y"]), number))
    return _Target(lambda k: (date(today.year + k, number, 1), month_end(today.year + k, number)))


def _year(m: re.Match[str], _today: date) -> _Target:
    return _fixed(date(int(m["y"]), 1, 1), date(int(m["y"]), 12, 31))


def _quarter(m: re.Match[str], today: date) -> _Target:
    first = 3 * int(m["q"]) - 2

    def span(k: int) -> tuple[date, date]:
        year = int(m["y"]) if m["y"] else today.year + k
        return date(year, first, 1), month_end(year, first + 2)

    return _Target(span)


_HOLIDAYS: Final[Mapping[str, Callable[[int], date]]] = MappingProxyType(
    {
        "christmas_eve": lambda y: date(y, 12, 24),
        "christmas": lambda y: date(y, 12, 25),
        "boxing_day": lambda y: date(y, 12, 26),
        "new_years_eve": lambda y: date(y, 12, 31),
        "new_year": lambda y: date(y + 1, 1, 1),  # "before new year" in November means 1 January next
        "good_friday": lambda y: easter_sunday(y) - timedelta(days=2),
        "easter_monday": lambda y: easter_sunday(y) + timedelta(days=1),
        "easter": easter_sunday,
    }
)


def _holiday(m: re.Match[str], today: date) -> _Target:
    when = _HOLIDAYS[m.lastgroup or ""]
    return _Target(lambda k: (when(today.year + k),) * 2)


_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(m: re.Match[str], today: date) -> _Target:
    wanted = _WEEKDAYS.index(m["day"][:3])
    if m["which"] in ("this", "next"):
        monday = today - timedelta(days=today.weekday() - (7 if m["which"] == "next" else 0))
        return _fixed(monday + timedelta(days=wanted))
    ahead = (wanted - today.weekday()) % 7
    return _Target(lambda k: (today + timedelta(days=ahead + 7 * k),) * 2)


def _unit_span(unit: str, offset: int, today: date) -> tuple[date, date]:
    """The calendar week/month/quarter/year/financial year ``offset`` away from today's."""
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)
    if unit == "month":
        first = add_months(today.replace(day=1), offset)
        return first, month_end(first.year, first.month)
    if unit == "quarter":
        first = add_months(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), 3 * offset)
        return first, month_end(first.year, first.month + 2)
    if unit == "year":
        return date(today.year + offset, 1, 1), date(today.year + offset, 12, 31)
    start_year = (today.year if today.month >= 4 else today.year - 1) + offset  # financial year
    return date(start_year, 4, 1), date(start_year + 1, 3, 31)


_WHICH: Final = MappingProxyType({"next": 1, "coming": 1, "last": -1, "previous": -1})


def _named(m: re.Match[str], today: date) -> _Target:
    unit = " ".join(m["unit"].split())
    offset = _WHICH.get(m["which"] or "", 0)
    word = {1: "next", -1: "last", 0: "this"}[offset]
    return _fixed(*_unit_span(unit, offset, today), name=f"{word} {unit}")


def _period_end(m: re.Match[str], today: date) -> _Target:
    end = _unit_span(m["unit"], 0, today)[1]
    return _Target(lambda _k: (end, end), is_end=True)


_RELATIVE_DAYS: Final = MappingProxyType({"today": 0, "now": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1})


def _relative_day(m: re.Match[str], today: date) -> _Target:
    offset = _RELATIVE_DAYS[m["day"]]
    name = {0: "today", 1: "tomorrow", -1: "yesterday"}[offset]
    return _fixed(today + timedelta(days=offset), name=name)


_ORD = r"(?:st|nd|rd|th)?"
_DAY_NAMES = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|weds|wed|thurs|thur|thu|fri|sat|sun"
_TARGETS: Final[tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], _Target]], ...]] = (
    (re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"), _iso),
    (re.compile(r"(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?:[/.](?P<y>\d{4}|\d{2}))?(?![\d/.]?\d)"), _numeric),
    (re.compile(r"(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4}|\d{2})(?!\d)"), _numeric),
    (
        re.compile(
            rf"(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m>{MONTH_PATTERN})\.?(?:,?\s+(?P<y>\d{{4}}))?(?!\d)"
        ),
        _words_date,
    ),
    (
        re.compile(rf"(?P<m>{MONTH_PATTERN})\.?\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s+(?P<y>\d{{4}}))?(?!\d)"),
        _words_date,
    ),
    (re.compile(r"(?P<unit>week|month|quarter|year)[\s-]end\b"), _period_end),
    (
        re.compile(
            r"(?:(?P<christmas_eve>christmas\s+eve|xmas\s+eve)|(?P<christmas>christmas|xmas)(?:\s+day)?"
            r"|(?P<boxing_day>boxing\s+day)|(?P<new_years_eve>new\s+year'?s?\s+eve)"
            r"|(?P<new_year>new\s+year'?s?)(?:\s+day)?|(?P<good_friday>good\s+friday)"
            r"|(?P<easter_monday>easter\s+monday)|(?P<easter>easter)(?:\s+(?:sunday|day))?)\b"
        ),
        _holiday,
    ),
    (re.compile(r"q(?P<q>[1-4])(?:\s+(?P<y>\d{4}))?\b"), _quarter),
    (
        re.compile(
            r"(?:(?P<which>this|next|last|current|coming|previous)\s+)?"
            r"(?P<unit>financial\s+year|week|month|quarter|year)\b"
        ),
        _named,
    ),
    (re.compile(r"(?P<day>today|tonight|now|tomorrow|yesterday)\b"), _relative_day),
    (re.compile(rf"(?:(?P<which>next|this|coming)\s+)?(?P<day>{_DAY_NAMES})\b"), _weekday),
    (re.compile(rf"(?P<m>{MONTH_PATTERN})\.?(?:,?\s+(?P<y>\d{{4}}))?(?!\d)"), _month),
    (re.compile(r"(?P<y>(?:19|20)\d{2})\b(?![/.-]\d)"), _year),
)
_SKIP_THE: Final = re.compile(r"\s*(?:the\s+)?")
_EDGE_OF: Final = re.compile(r"(?P<edge>end|start|beginning)\s+of\s+")
_RANGE_JOIN: Final = re.compile(r"\s*(?:and|to|until|till|through|-|–)\s*")
# "between 1 and 15 may": the first day borrows the second date's month and year.
_DAY_RANGE: Final = re.compile(
    rf"(?P<d>\d{{1,2}}){_ORD}\s*(?:and|to|-|–)\s*(?=\d{{1,2}}{_ORD}\s+(?:of\s+)?{MONTH_PATTERN})"
)


def _skip_the(text: str, pos: int) -> int:
    m = _SKIP_THE.match(text, pos)
    return m.end() if m else pos


def _target(
    text: str, pos: int, today: date, *, bare_month: bool = True, nested: bool = True
) -> tuple[_Target, int] | None:
    """The target starting at ``pos`` (after an optional "the") and where it ends, or None."""
    pos = _skip_the(text, pos)
    edge = _EDGE_OF.match(text, pos) if nested else None
    if edge:  # "end of march": only one level, so "end of end of ..." cannot recurse deeply
        inner = _target(text, edge.end(), today, nested=False)
        if inner is None:
            return None
        pick = 1 if edge["edge"] == "end" else 0
        return _Target(lambda k: (inner[0].span(k)[pick],) * 2, is_end=pick == 1), inner[1]
    for pattern, build in _TARGETS:
        m = pattern.match(text, pos)
        if m is not None:
            if build is _month and not bare_month and not m["y"]:
                return None  # "due may ..." is far likelier the verb than the month
            return build(m, today), m.end()
    return None


def _apply(kind: str, target: _Target, start: date, end: date) -> Period:
    """The period a lead kind gives for one resolved occurrence of its target."""
    whole = _whole(start, end)
    if kind == "by" or (target.is_end and kind in ("before", "in")):
        return Period(None, end, f"by {_day(end)}")
    if kind == "before":
        return Period(None, start - timedelta(days=1), f"before {whole or _day(start)}")
    if kind == "after":
        return Period(end + timedelta(days=1), None, f"after {whole or _day(end)}")
    if kind == "from":
        return Period(start, None, f"from {whole or _day(start)}")
    if target.name:
        return Period(start, end, target.name)
    if start == end:
        return Period(start, end, f"on {_day(start)}")
    return Period(start, end, f"in {whole}" if whole else f"{_day(start)} to {_day(end)}")


def _single(kind: str, target: _Target, today: date) -> Period:
    """Resolve a target's year: next year's (or week's) if this one's period is already over."""
    period = _apply(kind, target, *target.span(0))
    bound = period.before if period.before is not None else period.after
    if bound is not None and bound < today:
        return _apply(kind, target, *target.span(1))
    return period


def _pair(text: str, pos: int, today: date) -> Period | None:
    """A "between X and Y" or "from X to Y" range: X's first day to Y's last, with years settled."""
    days = _DAY_RANGE.match(text, _skip_the(text, pos))
    if days:
        second = _target(text, days.end(), today)
        if second is None:
            return None
        day, target = int(days["d"]), second[0]
        first = _Target(lambda k: (target.span(k)[0].replace(day=day),) * 2)
    else:
        parsed = _target(text, pos, today)
        join = _RANGE_JOIN.match(text, parsed[1]) if parsed else None
        second = _target(text, join.end(), today) if parsed and join else None
        if parsed is None or second is None:
            return None
        first = parsed[0]
    for k in (0, 1):
        last = second[0].span(k)[1]
        # The latest occurrence of the start that is not after the end ("between december and february").
        starts = [s for s in (first.span(j)[0] for j in range(3)) if s <= last]
        if starts and (last >= today or k == 1):
            return Period(max(starts), last, f"between {_day(max(starts))} and {_day(last)}")
    return None


_LEAD_KINDS: Final = MappingProxyType(
    {
        "between": "between",
        "from": "from",
        "on or after": "from",
        "before": "before",
        "after": "after",
        "in": "in",
        "during": "in",
        "on": "in",
        "for": "in",
        "due": "in",
    }
)  # every other lead ("by", "until", "no later than", a bare "end of") means "by"
_LEAD: Final = re.compile(
    r"""\b(?P<lead>between|from|on\s+or\s+before|on\s+or\s+after|no\s+later\s+than|not\s+later\s+than|up\s+to
              |before|by|until|till|til|after|in|during|on|for|due)\b
      |\b(?=(?:the\s+)?end\s+of\b|(?:week|month|quarter|year)[\s-]end\b)""",
    re.VERBOSE,
)
_UNITS: Final = MappingProxyType(
    {"day": (1, 0), "week": (7, 0), "fortnight": (14, 0), "month": (0, 1), "quarter": (0, 3), "year": (0, 12)}
)
_WINDOW: Final = re.compile(
    rf"""\b(?:(?:within|in|over|during)\s+(?:the\s+)?(?P<next>next|coming)
            |(?:in|over|during)\s+(?:the\s+)?(?P<last>last|past|previous)
            |(?:within|next|in)|(?:the\s+)?(?P<past>last|past|previous))
        \s+(?:(?P<n>(?:a\s+)?couple\s+of|{NUMBER_PATTERN})\s+)?(?P<unit>day|week|fortnight|month|quarter|year)s?\b""",
    re.VERBOSE,
)
_STANDALONE: Final = re.compile(
    rf"""\b(?:(?:this|next|last|current)\s+(?:financial\s+year|week|month|quarter|year)\b|today\b|tomorrow\b|yesterday\b
          |(?:this|next|coming)\s+(?:{_DAY_NAMES})\b
          |\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}
          |\d{{1,2}}{_ORD}\s+(?:of\s+)?{MONTH_PATTERN}\.?,?\s+\d{{4}})""",
    re.VERBOSE,
)
_SOON: Final = re.compile(r"(?<!\bas )\bsoon(?:ish)?\b(?! as\b)")


def _window(m: re.Match[str], today: date) -> Period | None:
    """A window such as "within 30 days" or "in the last month": a span from or to today."""
    if m["n"] is None and not (m["next"] or m["last"]):
        return None  # "next week" and "last month" are calendar periods, not windows
    n = 2 if "couple" in (m["n"] or "") else number_value(m["n"] or "1") or 1
    days, months = _UNITS[m["unit"]]
    sign = -1 if (m["last"] or m["past"]) else 1
    other = add_months(today, sign * n * months) + timedelta(days=sign * n * days)
    words = m["unit"] if n == 1 else f"{n} {m['unit']}s"
    if sign < 0:
        return Period(other, today, f"in the last {words}")
    return Period(today, other, f"in the next {words}")


_LEADS_TRIED = 12  # "due due due ...": a date follows one of the first few leads or none at all


def _from_leads(text: str, today: date) -> Period | None:
    for tried, m in enumerate(_LEAD.finditer(text)):
        if tried >= _LEADS_TRIED:
            break
        lead = " ".join((m["lead"] or "").split())
        kind = _LEAD_KINDS.get(lead, "by")
        pos = m.end() if lead else m.start()
        try:
            if kind in ("between", "from"):
                pair = _pair(text, pos, today)
                if pair is not None:
                    return pair
                if kind == "between":
                    continue
            parsed = _target(text, pos, today, bare_month=lead != "due")
            if parsed is not None:
                return _single(kind, parsed[0], today)
        except (ValueError, OverflowError):  # "by 31/02", year 99999: not a date, keep looking
            continue
    return None


def parse_period(text: str, today: date) -> Period | None:
    """The first date range in a user's message, or None if it has no date phrase.

    ``text`` is free text (lower-cased by the caller; lowered again here to be safe).
    Never raises.
    """
    if isinstance(today, datetime):  # a datetime would refuse to compare with dates
        today = today.date()
    text = text.lower().replace("’", "'")
    for m in _WINDOW.finditer(text):
        try:
            window = _window(m, today)
        except (ValueError, OverflowError):
            continue
        if window is not None:
            return window
    found = _from_leads(text, today)
    if found is not None:
        return found
    for m in _STANDALONE.finditer(text):
        try:
            parsed = _target(text, m.start(), today)
            if parsed is not None:
                return _single("in", parsed[0], today)
        except (ValueError, OverflowError):
            continue
    if _SOON.search(text):
        return Period(today, today + timedelta(days=_SOON_DAYS), f"in the next {_SOON_DAYS} days")
    return None
