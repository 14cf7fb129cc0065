"""HMICFRS deadlines as written -> due dates (storage.deadlines), table-driven."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.deadlines import (
    DeadlineError,
    add_months,
    deadline_from_text,
    derive_due_date,
    number_value,
    parse_due_value,
)

D = date
AUG31 = D(2023, 8, 31)  # month-end publication date: exercises day clamping

DERIVE: list[tuple[str | None, date | None, date | None]] = [
    # Plain dates: ISO, year-month (-> month end), UK day-first numeric forms.
    ("2023-03-31", None, D(2023, 3, 31)),
    ("2023/03/31", None, D(2023, 3, 31)),
    ("2017-09", None, D(2017, 9, 30)),
    ("2024-02", None, D(2024, 2, 29)),
    ("2023-02", None, D(2023, 2, 28)),
    ("31/03/2023", None, D(2023, 3, 31)),
    ("31.03.2023", None, D(2023, 3, 31)),
    ("31-03-2023", None, D(2023, 3, 31)),
    ("05/06/2023", None, D(2023, 6, 5)),  # day first: 5 June, not 6 May
    ("1/4/2023", None, D(2023, 4, 1)),
    ("31/03/23", None, D(2023, 3, 31)),
    ("09/2017", None, D(2017, 9, 30)),
    # Written dates.
    ("By 31 March 2023", None, D(2023, 3, 31)),
    ("by 30 April 2023", AUG31, D(2023, 4, 30)),
    ("31st March 2023", None, D(2023, 3, 31)),
    ("By 1st April 2024", None, D(2024, 4, 1)),
    ("By 2 October 2023", None, D(2023, 10, 2)),
    ("by the 3rd of June 2024", None, D(2024, 6, 3)),
    ("March 31, 2023", None, D(2023, 3, 31)),
    ("By 29 February 2024", None, D(2024, 2, 29)),
    # Months -> last day of the month.
    ("March 2024", None, D(2024, 3, 31)),
    ("by March 2024", None, D(2024, 3, 31)),
    ("no later than September 2017", None, D(2017, 9, 30)),
    ("By June 2019", None, D(2019, 6, 30)),
    ("by Sept 2024", None, D(2024, 9, 30)),
    ("by Feb 2028", None, D(2028, 2, 29)),
    ("By the end of March 2024", None, D(2024, 3, 31)),
    ("by the end of February 2024", None, D(2024, 2, 29)),
    ("by the end of February 2023", None, D(2023, 2, 28)),
    # Years and financial years.
    ("By the end of 2023", None, D(2023, 12, 31)),
    ("end of 2023", None, D(2023, 12, 31)),
    ("by 2025", None, D(2025, 12, 31)),
    ("by the end of the 2023/24 financial year", None, D(2024, 3, 31)),
    ("By the end of financial year 2022/23", None, D(2023, 3, 31)),
    ("by the end of the 2023-24 financial year", None, D(2024, 3, 31)),
    # "before" is the day before; "before the end of" is the end.
    ("before 31 March 2023", None, D(2023, 3, 30)),
    ("before March 2024", None, D(2024, 2, 29)),
    ("before the end of March 2024", None, D(2024, 3, 31)),
    # Relative to publication: calendar months with day clamping, leap years.
    ("Within six months", AUG31, D(2024, 2, 29)),
    ("Within six months", D(2022, 8, 31), D(2023, 2, 28)),
    ("within 3 months", D(2023, 11, 30), D(2024, 2, 29)),
    ("within two years", D(2024, 2, 29), D(2026, 2, 28)),
    ("within a year", D(2024, 2, 29), D(2025, 2, 28)),
    ("within one month", D(2023, 1, 31), D(2023, 2, 28)),
    ("within a month", D(2024, 1, 31), D(2024, 2, 29)),
    ("within nine months", D(2023, 5, 31), D(2024, 2, 29)),
    ("within 18 months", AUG31, D(2025, 2, 28)),
    ("within twenty-four months", D(2022, 3, 15), D(2024, 3, 15)),
    ("within twenty four months", D(2022, 3, 15), D(2024, 3, 15)),
    ("within 12 weeks", D(2023, 1, 10), D(2023, 4, 4)),
    ("within 28 days", D(2023, 2, 1), D(2023, 3, 1)),
    ("within 28 days", D(2024, 2, 1), D(2024, 2, 29)),
    ("Within the next six months", D(2023, 1, 15), D(2023, 7, 15)),
    # Clocks change on 26 March and 29 October 2023: dates carry no time, so nothing shifts.
    ("within 6 weeks", D(2023, 3, 20), D(2023, 5, 1)),
    ("within 7 days", D(2023, 10, 25), D(2023, 11, 1)),
    ("Within 12 months of the publication of this report", D(2023, 5, 4), D(2024, 5, 4)),
    ("within three months of publication", D(2023, 5, 4), D(2023, 8, 4)),
    # Anchors in the text beat the publication date; a month-only anchor counts from its end.
    ("Within six months (of December 2016)", None, D(2017, 6, 30)),
    ("Within six months (of December 2016)", D(2017, 3, 1), D(2017, 6, 30)),
    ("within six months of December 2016", None, D(2017, 6, 30)),
    ("Within three months (of November 2016)", None, D(2017, 2, 28)),
    ("within one month (of January 2024)", None, D(2024, 2, 29)),
    ("within 28 days (of December 2016)", None, D(2017, 1, 28)),
    ("within six months (of 14 December 2016)", None, D(2017, 6, 14)),
    # Compound deadlines: the earliest date, whatever the order.
    ("Within six months / within two years (of December 2016)", None, D(2017, 6, 30)),
    ("Within two years / within six months (of December 2016)", None, D(2017, 6, 30)),
    ("Within six months or within two years", D(2023, 1, 15), D(2023, 7, 15)),
    ("By 31 March 2023 or within six months", D(2023, 1, 1), D(2023, 3, 31)),
    # Immediate: the publication date.
    ("With immediate effect", D(2023, 5, 4), D(2023, 5, 4)),
    ("Immediately", D(2023, 5, 4), D(2023, 5, 4)),
    ("immediate", D(2023, 5, 4), D(2023, 5, 4)),
    # Nothing usable.
    (None, AUG31, None),
    ("", AUG31, None),
    ("   ", AUG31, None),
    ("banana", AUG31, None),
    ("soonish", AUG31, None),
    ("TBC", AUG31, None),
    ("as soon as possible", AUG31, None),
    ("2023-02-30", AUG31, None),
    ("31/13/2023", AUG31, None),
    ("within 9999 years", AUG31, None),
    # Relative with no publication date and no anchor: unknown, even beside a known part.
    ("Within six months", None, None),
    ("within 3 months", None, None),
    ("Immediately", None, None),
    ("within six months / by March 2024", None, None),
]


@pytest.mark.parametrize(("deadline", "published", "expected"), DERIVE, ids=[repr(c[:2]) for c in DERIVE])
def test_derive_due_date(deadline: str | None, published: date | None, expected: date | None) -> None:
    assert derive_due_date(deadline, published) == expected


CCU = (
    "By 31 March 2023, chief constables should make sure that counter-corruption units (CCUs) have "
    "established relationships with organisations that support vulnerable people."
)
FROM_TEXT: list[tuple[str, str | None]] = [
    (CCU, "By 31 March 2023"),
    ("Within six months the force should improve how it supervises investigations.", "Within six months"),
    (
        "Immediately, the responsibility for vetting should move to the professional standards department, "
        "and the backlog should be cleared no later than September 2017.",
        "Immediately",
    ),
    (
        "To address this cause of concern, we recommend that within six months, all forces should review "
        "their crime recording.",
        "within six months",
    ),
    ("West Mercia Police should, within three months: review its policy.", "within three months"),
    (
        "Within six months (of December 2016), forces should publish a plan.",
        "Within six months (of December 2016)",
    ),
    (
        "Within six months / within two years (of December 2016), chief constables should do this.",
        "Within six months / within two years (of December 2016)",
    ),
    ("By the end of March 2024, the College of Policing should update guidance.", "By the end of March 2024"),
    ("Chief constables should, by 30 September 2023, ensure that ...", "by 30 September 2023"),
    ("The force should, with immediate effect, stop using the old form.", "with immediate effect"),
    ("The force should review its approach no later than September 2017.", "no later than September 2017"),
    (
        "Within 12 months of the publication of this report, forces should audit stop and search.",
        "Within 12 months of the publication of this report",
    ),
    ("By April 2023 forces should have a plan.", "By April 2023"),
    ("By the end of 2023, forces should have a plan.", "By the end of 2023"),
    (
        "By the end of the 2023/24 financial year, forces should ...",
        "By the end of the 2023/24 financial year",
    ),
    ("We inspected the force in 2022 and, by 31 March 2023, it should act.", "by 31 March 2023"),
    ("Within six\nmonths the force should act.", "Within six months"),
    # Narrative dates and adjectives are not deadlines.
    ("In March 2020 we found that the force was not recording crime accurately.", None),
    ("Until 2019 the force had no vetting unit.", None),
    ("Before 2019 forces had no such duty.", None),
    ("The force has an immediate need to recruit investigators.", None),
    ("The force should improve how it records crime.", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), FROM_TEXT, ids=[c[0][:40] for c in FROM_TEXT])
def test_deadline_from_text(text: str, expected: str | None) -> None:
    assert deadline_from_text(text) == expected


def test_extracted_deadline_derives() -> None:
    found = deadline_from_text(CCU)
    assert found is not None
    assert derive_due_date(found, None) == D(2023, 3, 31)


DUE_VALUES: list[tuple[str, date | None, tuple[str | None, date | None]]] = [
    ("2023-03-31", None, (None, D(2023, 3, 31))),
    ("  2023-03-31  ", None, (None, D(2023, 3, 31))),
    ("2023-03-31 00:00:00", None, (None, D(2023, 3, 31))),  # spreadsheet export
    ("2023-03-31T00:00", None, (None, D(2023, 3, 31))),
    ("2017-09", None, (None, D(2017, 9, 30))),
    ("2024-02", None, (None, D(2024, 2, 29))),
    ("31/03/2023", None, (None, D(2023, 3, 31))),
    ("31.03.2023", None, (None, D(2023, 3, 31))),
    ("29/02/2024", None, (None, D(2024, 2, 29))),
    ("31 March 2023", None, (None, D(2023, 3, 31))),
    ("By 31 March 2023", None, ("By 31 March 2023", D(2023, 3, 31))),
    ("by  31   March 2023", None, ("by 31 March 2023", D(2023, 3, 31))),
    ("March 2024", None, ("March 2024", D(2024, 3, 31))),
    ("Within six months", AUG31, ("Within six months", D(2024, 2, 29))),
    ("Within six months", None, ("Within six months", None)),
    ("Within six months (of December 2016)", None, ("Within six months (of December 2016)", D(2017, 6, 30))),
    ("With immediate effect", D(2023, 5, 4), ("With immediate effect", D(2023, 5, 4))),
    ("", None, (None, None)),
    ("   ", AUG31, (None, None)),
]


@pytest.mark.parametrize(("value", "published", "expected"), DUE_VALUES, ids=[repr(c[0]) for c in DUE_VALUES])
def test_parse_due_value(
    value: str, published: date | None, expected: tuple[str | None, date | None]
) -> None:
    assert parse_due_value(value, published) == expected


BAD_VALUES: list[tuple[str, str]] = [
    ("2023-02-30", "not a real date"),
    ("2023-00-10", "not a real date"),
    ("2023-13", "not a real date"),
    ("31/13/2023", "not a real date"),
    ("32/01/2023", "not a real date"),
    ("29/02/2023", "not a real date"),
    ("By 30 February 2024", "not a real date"),
    ("by the end of the 2023/27 financial year", "not a financial year"),
    ("by the end of the 9999/00 financial year", "not a real date"),
    ("before 01/01/0001", "out of range"),
    ("within 9999 years", "out of range"),
    ("soonish", "not a due date or a deadline"),
    ("banana", "not a due date or a deadline"),
    ("TBC", "not a due date or a deadline"),
    ("n/a", "not a due date or a deadline"),
    ("within six fortnights", "not a due date or a deadline"),
]


@pytest.mark.parametrize(("value", "message"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_parse_due_value_rejects(value: str, message: str) -> None:
    with pytest.raises(DeadlineError, match=message) as caught:
        parse_due_value(value, AUG31)
    assert repr(value) in str(caught.value)  # the importer's error names the bad cell


def test_deadline_error_is_a_value_error() -> None:
    assert issubclass(DeadlineError, ValueError)


ADD_MONTHS: list[tuple[date, int, date]] = [
    (D(2023, 8, 31), 6, D(2024, 2, 29)),
    (D(2022, 8, 31), 6, D(2023, 2, 28)),
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
    (D(2024, 1, 31), 1, D(2024, 2, 29)),
    (D(2023, 12, 15), 1, D(2024, 1, 15)),
    (D(2024, 3, 31), -1, D(2024, 2, 29)),
    (D(2023, 5, 31), -13, D(2022, 4, 30)),
    (D(2023, 1, 31), 0, D(2023, 1, 31)),
]


@pytest.mark.parametrize(("start", "months", "expected"), ADD_MONTHS)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("six", 6), ("Six", 6), ("eleven", 11), ("twenty", 20), ("twenty-four", 24), ("twenty four", 24),
     ("18", 18), ("a", 1), ("an", 1), ("banana", None), ("twenty-five", None)],
)  # fmt: skip
def test_number_value(word: str, expected: int | None) -> None:
    assert number_value(word) == expected


JUNK = [
    "x" * 10_000,
    "within " * 2_000,
    "by the end of " * 700,
    "(of December 2016)" * 500,
    "9" * 10_000,
    "😀 İ ß ﬀ \u200b \x00 " * 500,
    "٣١/١٢/٢٠٢٤",
]


def _check_due_value(value: str, published: date | None) -> None:
    """parse_due_value answers (text or None, date or None) or raises DeadlineError: nothing else."""
    try:
        text, due = parse_due_value(value, published)
    except DeadlineError as error:
        assert str(error)  # the importer shows this message to the person who uploaded the file
        return
    assert text is None or isinstance(text, str)
    assert due is None or isinstance(due, date)


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_junk_never_breaks(junk: str) -> None:
    due = derive_due_date(junk, AUG31)
    assert due is None or isinstance(due, date)
    found = deadline_from_text(junk)
    assert found is None or isinstance(found, str)
    _check_due_value(junk, AUG31)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.one_of(st.none(), st.dates()))
def test_arbitrary_text(text: str, published: date | None) -> None:
    due = derive_due_date(text, published)
    assert due is None or isinstance(due, date)
    found = deadline_from_text(text)
    assert found is None or found in " ".join(text.split())
    _check_due_value(text, published)


WORDS = ["within", "by", "the", "end", "of", "six", "months", "/", "(of", "December", "2016)", "31", "March",
         "2023", "immediately", "before", "2023-02-30", "31/03/2023", "financial", "year", "2023/24", "a", "weeks"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join), st.one_of(st.none(), st.dates()))
def test_deadline_like_word_salad(text: str, published: date | None) -> None:
    due = derive_due_date(text, published)
    assert due is None or isinstance(due, date)
    _check_due_value(text, published)
