"""Date ranges in people's messages (bot.dates.parse_period), table-driven."""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.language.dates import Period, easter_sunday, parse_period

D = date
TODAY = D(2026, 11, 25)  # a Wednesday; Christmas is still ahead, March and Easter have passed

# (message, after, before, label) with today = TODAY.
PERIODS: list[tuple[str, date | None, date | None, str]] = [
    # Holidays: "before X" stops the day before; "by"/"until" include X.
    ("anything due before christmas?", None, D(2026, 12, 24), "before 25 December 2026"),
    ("Anything DUE Before Christmas?", None, D(2026, 12, 24), "before 25 December 2026"),
    ("what’s due by christmas", None, D(2026, 12, 25), "by 25 December 2026"),
    ("due by xmas", None, D(2026, 12, 25), "by 25 December 2026"),
    ("until christmas", None, D(2026, 12, 25), "by 25 December 2026"),
    ("before christmas eve", None, D(2026, 12, 23), "before 24 December 2026"),
    ("before new year", None, D(2026, 12, 31), "before 1 January 2027"),
    ("before easter", None, D(2027, 3, 27), "before 28 March 2027"),  # Easter 2026 has passed
    ("by easter", None, D(2027, 3, 28), "by 28 March 2027"),
    ("before good friday", None, D(2027, 3, 25), "before 26 March 2027"),
    # Month ends: a month that has passed this year means next year's.
    ("due by end of march", None, D(2027, 3, 31), "by 31 March 2027"),
    ("due by the end of march", None, D(2027, 3, 31), "by 31 March 2027"),
    ("before the end of march", None, D(2027, 3, 31), "by 31 March 2027"),
    ("due by end of november", None, D(2026, 11, 30), "by 30 November 2026"),
    ("what's due end of march", None, D(2027, 3, 31), "by 31 March 2027"),
    ("by end of month", None, D(2026, 11, 30), "by 30 November 2026"),
    ("by the end of next month", None, D(2026, 12, 31), "by 31 December 2026"),
    ("by end of the week", None, D(2026, 11, 29), "by 29 November 2026"),
    ("by the end of this quarter", None, D(2026, 12, 31), "by 31 December 2026"),
    ("by the start of next month", None, D(2026, 12, 1), "by 1 December 2026"),
    ("by the end of the year", None, D(2026, 12, 31), "by 31 December 2026"),
    ("by year end", None, D(2026, 12, 31), "by 31 December 2026"),
    ("by year-end", None, D(2026, 12, 31), "by 31 December 2026"),
    ("by the end of the financial year", None, D(2027, 3, 31), "by 31 March 2027"),
    # Explicit dates, day first; past years stay past (those items are overdue).
    ("due before 31/12/2024", None, D(2024, 12, 30), "before 31 December 2024"),
    ("due by 2024-12-31", None, D(2024, 12, 31), "by 31 December 2024"),
    ("due by 31 dec 2024", None, D(2024, 12, 31), "by 31 December 2024"),
    ("due by 31/12/24", None, D(2024, 12, 31), "by 31 December 2024"),
    ("due by 05/06/2027", None, D(2027, 6, 5), "by 5 June 2027"),
    ("due by december 31st", None, D(2026, 12, 31), "by 31 December 2026"),
    ("due by the 31st of december", None, D(2026, 12, 31), "by 31 December 2026"),
    ("due by 1/6", None, D(2027, 6, 1), "by 1 June 2027"),
    ("due on or before 5 jan", None, D(2027, 1, 5), "by 5 January 2027"),
    ("by 29 february", None, D(2028, 2, 29), "by 29 February 2028"),  # the next leap year
    ("what's due 31/12/2026", D(2026, 12, 31), D(2026, 12, 31), "on 31 December 2026"),
    ("due 25/12", D(2026, 12, 25), D(2026, 12, 25), "on 25 December 2026"),
    # Windows from today.
    ("due within 30 days", TODAY, D(2026, 12, 25), "in the next 30 days"),
    ("due in the next 2 weeks", TODAY, D(2026, 12, 9), "in the next 2 weeks"),
    ("due in the next two weeks", TODAY, D(2026, 12, 9), "in the next 2 weeks"),
    ("due in 2 weeks", TODAY, D(2026, 12, 9), "in the next 2 weeks"),
    ("due within 12 weeks", TODAY, D(2027, 2, 17), "in the next 12 weeks"),
    ("due over the next three months", TODAY, D(2027, 2, 25), "in the next 3 months"),
    (
        "what is due in the next 6 months for the violence reduction unit",
        TODAY,
        D(2027, 5, 25),
        "in the next 6 months",
    ),
    ("due in the next 18 months", TODAY, D(2028, 5, 25), "in the next 18 months"),
    ("due within a month", TODAY, D(2026, 12, 25), "in the next month"),
    ("what's due in the next month", TODAY, D(2026, 12, 25), "in the next month"),
    ("within a fortnight", TODAY, D(2026, 12, 9), "in the next fortnight"),
    ("within a couple of weeks", TODAY, D(2026, 12, 9), "in the next 2 weeks"),
    ("due soon", TODAY, D(2026, 12, 25), "in the next 30 days"),
    ("anything coming up soon?", TODAY, D(2026, 12, 25), "in the next 30 days"),
    ("in the last 30 days", D(2026, 10, 26), TODAY, "in the last 30 days"),
    # Calendar periods: Monday-Sunday weeks, calendar quarters, April financial years.
    ("what's due this month", D(2026, 11, 1), D(2026, 11, 30), "this month"),
    ("due next month", D(2026, 12, 1), D(2026, 12, 31), "next month"),
    ("due this week", D(2026, 11, 23), D(2026, 11, 29), "this week"),
    ("next week", D(2026, 11, 30), D(2026, 12, 6), "next week"),
    ("last week", D(2026, 11, 16), D(2026, 11, 22), "last week"),
    ("this quarter", D(2026, 10, 1), D(2026, 12, 31), "this quarter"),
    ("next quarter", D(2027, 1, 1), D(2027, 3, 31), "next quarter"),
    ("this year", D(2026, 1, 1), D(2026, 12, 31), "this year"),
    ("next year", D(2027, 1, 1), D(2027, 12, 31), "next year"),
    ("due this financial year", D(2026, 4, 1), D(2027, 3, 31), "this financial year"),
    ("due in q1", D(2027, 1, 1), D(2027, 3, 31), "in Q1 2027"),
    ("due in q3 2026", D(2026, 7, 1), D(2026, 9, 30), "in Q3 2026"),
    ("due today", TODAY, TODAY, "today"),
    ("due tomorrow", D(2026, 11, 26), D(2026, 11, 26), "tomorrow"),
    # Months and years.
    ("in march", D(2027, 3, 1), D(2027, 3, 31), "in March 2027"),
    ("in november", D(2026, 11, 1), D(2026, 11, 30), "in November 2026"),
    ("during may", D(2027, 5, 1), D(2027, 5, 31), "in May 2027"),
    ("in march 2026", D(2026, 3, 1), D(2026, 3, 31), "in March 2026"),
    ("due in 2027", D(2027, 1, 1), D(2027, 12, 31), "in 2027"),
    ("due after june", D(2027, 7, 1), None, "after June 2027"),
    ("due after december", D(2027, 1, 1), None, "after December 2026"),
    ("due after 1 june 2027", D(2027, 6, 2), None, "after 1 June 2027"),
    ("from june", D(2027, 6, 1), None, "from June 2027"),
    # Ranges.
    ("due between 1 may and 15 may", D(2027, 5, 1), D(2027, 5, 15), "between 1 May 2027 and 15 May 2027"),
    ("due between 1 and 15 may", D(2027, 5, 1), D(2027, 5, 15), "between 1 May 2027 and 15 May 2027"),
    (
        "between 1 may 2026 and 15 may 2026",
        D(2026, 5, 1),
        D(2026, 5, 15),
        "between 1 May 2026 and 15 May 2026",
    ),
    (
        "from 1 december to 24 december",
        D(2026, 12, 1),
        D(2026, 12, 24),
        "between 1 December 2026 and 24 December 2026",
    ),
    (
        "between december and february",
        D(2026, 12, 1),
        D(2027, 2, 28),
        "between 1 December 2026 and 28 February 2027",
    ),
    ("from today to friday", TODAY, D(2026, 11, 27), "between 25 November 2026 and 27 November 2026"),
    # Weekdays: the coming one (today counts); "next" = in next week; "this" = in this week.
    ("by friday", None, D(2026, 11, 27), "by 27 November 2026"),
    ("before friday", None, D(2026, 11, 26), "before 27 November 2026"),
    ("due on friday", D(2026, 11, 27), D(2026, 11, 27), "on 27 November 2026"),
    ("by monday", None, D(2026, 11, 30), "by 30 November 2026"),
    ("by wednesday", None, TODAY, "by 25 November 2026"),
    ("next friday", D(2026, 12, 4), D(2026, 12, 4), "on 4 December 2026"),
    ("this monday", D(2026, 11, 23), D(2026, 11, 23), "on 23 November 2026"),
    # Realistic messages with other words around the date phrase.
    ("show actions due by end of march for the pvp team", None, D(2027, 3, 31), "by 31 March 2027"),
    ("which vetting recs are due before christmas", None, D(2026, 12, 24), "before 25 December 2026"),
    ("what may be due in june", D(2027, 6, 1), D(2027, 6, 30), "in June 2027"),
]


@pytest.mark.parametrize(("text", "after", "before", "label"), PERIODS, ids=[c[0] for c in PERIODS])
def test_parse_period(text: str, after: date | None, before: date | None, label: str) -> None:
    assert parse_period(text, TODAY) == Period(after, before, label)


# (message, today, after, before): year and week rollover, leap years, clock-change days.
ON_OTHER_DAYS: list[tuple[str, date, date | None, date | None]] = [
    ("before christmas", D(2026, 12, 25), None, D(2027, 12, 24)),  # Christmas Day: next year's
    ("before christmas", D(2026, 12, 24), None, D(2026, 12, 24)),  # the day before still counts
    ("by christmas", D(2026, 12, 25), None, D(2026, 12, 25)),
    ("before easter", D(2027, 3, 27), None, D(2027, 3, 27)),
    ("before easter", D(2027, 3, 28), None, D(2028, 4, 15)),
    ("by end of march", D(2027, 3, 31), None, D(2027, 3, 31)),
    ("by end of march", D(2027, 4, 1), None, D(2028, 3, 31)),
    ("due after june", D(2026, 6, 15), D(2026, 7, 1), None),
    ("between 1 may and 15 may", D(2026, 5, 10), D(2026, 5, 1), D(2026, 5, 15)),
    ("by friday", D(2026, 11, 27), None, D(2026, 11, 27)),  # today is Friday
    ("before friday", D(2026, 11, 27), None, D(2026, 12, 3)),
    ("this week", D(2026, 11, 29), D(2026, 11, 23), D(2026, 11, 29)),  # Sunday ends the week
    ("this week", D(2026, 11, 30), D(2026, 11, 30), D(2026, 12, 6)),  # Monday starts one
    ("next week", D(2026, 12, 30), D(2027, 1, 4), D(2027, 1, 10)),
    ("this quarter", D(2027, 3, 31), D(2027, 1, 1), D(2027, 3, 31)),
    ("next quarter", D(2026, 12, 31), D(2027, 1, 1), D(2027, 3, 31)),
    ("next month", D(2027, 1, 31), D(2027, 2, 1), D(2027, 2, 28)),
    ("next month", D(2028, 1, 31), D(2028, 2, 1), D(2028, 2, 29)),
    ("within 1 month", D(2028, 1, 31), D(2028, 1, 31), D(2028, 2, 29)),
    ("within a year", D(2028, 2, 29), D(2028, 2, 29), D(2029, 2, 28)),
    ("this financial year", D(2027, 3, 31), D(2026, 4, 1), D(2027, 3, 31)),
    ("this financial year", D(2027, 4, 1), D(2027, 4, 1), D(2028, 3, 31)),
    ("by 29 february", D(2028, 2, 29), None, D(2028, 2, 29)),
    ("by 29 february", D(2028, 3, 1), None, D(2032, 2, 29)),
    # UK clocks change on 29 March and 25 October 2026; dates have no time, so nothing moves.
    ("within 1 day", D(2026, 3, 29), D(2026, 3, 29), D(2026, 3, 30)),
    ("due tomorrow", D(2026, 3, 28), D(2026, 3, 29), D(2026, 3, 29)),
    ("this week", D(2026, 10, 25), D(2026, 10, 19), D(2026, 10, 25)),
]


@pytest.mark.parametrize(
    ("text", "today", "after", "before"), ON_OTHER_DAYS, ids=[f"{c[0]}@{c[1]}" for c in ON_OTHER_DAYS]
)
def test_parse_period_on_other_days(text: str, today: date, after: date | None, before: date | None) -> None:
    period = parse_period(text, today)
    assert period is not None
    assert (period.after, period.before) == (after, before)


NO_PERIOD = [
    "hello",
    "help",
    "show me rec 35",
    "mark 34 as evidenced",
    "who owns afi 2",
    "what may be overdue",  # "may" the verb
    "rec 12 may be late",
    "what's on track",
    "raised by the chief constable",
    "in the force",
    "as soon as possible",
    "due by 31/02",  # no such date
    "due in 3-4 weeks",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NO_PERIOD)
def test_no_period(text: str) -> None:
    assert parse_period(text, TODAY) is None


@pytest.mark.parametrize(
    ("year", "easter"),
    [(1818, D(1818, 3, 22)), (1961, D(1961, 4, 2)), (2000, D(2000, 4, 23)), (2011, D(2011, 4, 24)),
     (2019, D(2019, 4, 21)), (2024, D(2024, 3, 31)), (2025, D(2025, 4, 20)), (2026, D(2026, 4, 5)),
     (2027, D(2027, 3, 28)), (2028, D(2028, 4, 16)), (2038, D(2038, 4, 25)), (2285, D(2285, 3, 22))],
)  # fmt: skip
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_period_contains_is_inclusive() -> None:
    period = Period(D(2026, 12, 1), D(2026, 12, 31), "next month")
    assert [
        period.contains(d) for d in (D(2026, 11, 30), D(2026, 12, 1), D(2026, 12, 31), D(2027, 1, 1))
    ] == [
        False,
        True,
        True,
        False,
    ]
    assert Period(None, D(2026, 12, 24), "before 25 December 2026").contains(
        D(2020, 1, 1)
    )  # overdue stays in


def test_a_datetime_for_today_is_read_as_its_date() -> None:
    assert parse_period("due today", datetime(2026, 11, 25, 23, 30)) == Period(TODAY, TODAY, "today")


JUNK = [
    "x" * 10_000,
    "by " * 3_000,
    "end of " * 1_500,
    "between between and and from to",
    "in on by the end of " * 500,
    "9" * 10_000,
    "😀 İ ß ﬀ \u200b \x00 ΣΑΣ " * 400,
    "by ٣١/١٢/٢٠٢٤",  # Arabic-Indic digits
    "by 99/99/9999",
    "by 31/12/0000",
    "in 0000",
    "within 9999 years",
    "before 1/1/1",
    "before 01/01/0001",
    "\ud800 by friday",  # lone surrogate
]


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_junk_never_raises(junk: str) -> None:
    period = parse_period(junk, TODAY)
    assert period is None or isinstance(period, Period)


def _well_formed(period: Period | None) -> bool:
    if period is None:
        return True
    ordered = period.after is None or period.before is None or period.after <= period.before
    return ordered and bool(period.label) and (period.after is not None or period.before is not None)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.dates())
def test_arbitrary_text_never_raises(text: str, today: date) -> None:
    assert _well_formed(parse_period(text, today))


WORDS = ["due", "by", "before", "after", "between", "and", "from", "to", "the", "end", "of", "start", "next",
         "this", "last", "week", "month", "quarter", "year", "financial", "within", "in", "30", "days", "a",
         "couple", "march", "may", "31/12", "29", "february", "2024", "christmas", "easter", "friday", "q1",
         "today", "soon", "on", "31st", "december", "1", "15", "-"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=10).map(" ".join), st.dates(min_value=D(1990, 1, 1)))
def test_date_word_salad_gives_well_formed_periods(text: str, today: date) -> None:
    assert _well_formed(parse_period(text, today))


TYPICAL = [
    "anything due before christmas?",
    "what's due this month",
    "due by end of march",
    "due before 31/12/2024",
    "due within 30 days",
    "show me rec 35 in the vetting report",
    "what's overdue for the neighbourhood policing team",
    "due between 1 may and 15 may",
]


def test_typical_messages_are_fast() -> None:
    rounds = 200
    per_call = []
    for text in TYPICAL:
        start = time.perf_counter()
        for _ in range(rounds):
            parse_period(text, TODAY)
        per_call.append((time.perf_counter() - start) / rounds)
    assert statistics.median(per_call) < 0.0002, (
        f"median {statistics.median(per_call) * 1e3:.3f} ms per message"
    )
