"""Dates as trackers write them (storage.partial_dates), the RAG rule (ItemView.rag) and deadline
anchors at a publication date's precision (storage.deadlines): pure, table-driven."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.deadlines import derive_due_date, parse_due_value
from storage.import_columns import COLUMNS, header_key, match_header
from storage.import_values import read_status
from storage.partial_dates import DateUnreadable, PartialDate, Precision, read_date
from tests.unit.test_cards import item as card_item

D = dt.date
DAY, MONTH, YEAR, FY = Precision.DAY, Precision.MONTH, Precision.YEAR, Precision.FINANCIAL_YEAR

READ: list[tuple[object, PartialDate | None, str | None]] = [
    ("2019", PartialDate(D(2019, 1, 1), YEAR), "2019"),
    ("2018/19", PartialDate(D(2018, 4, 1), FY), "2018/19"),
    ("2018-19", PartialDate(D(2018, 4, 1), FY), "2018/19"),
    ("FY 2021/22", PartialDate(D(2021, 4, 1), FY), "2021/22"),
    ("2011-12", PartialDate(D(2011, 12, 1), MONTH), "December 2011"),  # ISO year-month, not a financial year
    ("July 2020", PartialDate(D(2020, 7, 1), MONTH), "July 2020"),
    ("Jul-20", PartialDate(D(2020, 7, 1), MONTH), "July 2020"),  # Excel's mmm-yy, not 20 July
    ("Sept-21", PartialDate(D(2021, 9, 1), MONTH), "September 2021"),
    ("2020-07", PartialDate(D(2020, 7, 1), MONTH), "July 2020"),
    ("07/2020", PartialDate(D(2020, 7, 1), MONTH), "July 2020"),
    ("02/11/2022", PartialDate(D(2022, 11, 2)), "2 November 2022"),  # day first
    ("2/11/22", PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("2022-11-02", PartialDate(D(2022, 11, 2)), "2 November 2022"),  # ISO is year first, not 11 February
    ("2022/11/02", PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("2nd November 2022", PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("02-Nov-2022", PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("2022-11-02 00:00:00", PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("44867", PartialDate(D(2022, 11, 2)), "2 November 2022"),  # an Excel serial number
    (44867.0, PartialDate(D(2022, 11, 2)), "2 November 2022"),
    (dt.datetime(2022, 11, 2, 0, 0), PartialDate(D(2022, 11, 2)), "2 November 2022"),
    ("TBC", None, None), ("N/A", None, None), ("n/a", None, None), ("-", None, None), ("—", None, None),
    ("not known", None, None), ("", None, None), ("   ", None, None), (None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("value", "expected", "label"), READ, ids=[repr(c[0]) for c in READ])
def test_read_date(value: object, expected: PartialDate | None, label: str | None) -> None:
    found = read_date(value)
    assert found == expected
    if found is not None:
        assert found.label() == label
        assert read_date(found.iso()) == found  # what an export writes reads back the same


@pytest.mark.parametrize("value", ["last spring", "1", "May", "31/02/2023", "1850", "Q5 2023", "99999"])
def test_read_date_rejects(value: str) -> None:
    with pytest.raises(DateUnreadable, match="not a"):
        read_date(value)


def test_a_year_is_never_the_first_of_january() -> None:
    year = read_date("2019")
    assert (
        year is not None and year.label() == "2019" and year.iso() == "2019" and year.end == D(2019, 12, 31)
    )
    assert "January" not in year.label() and "01-01" not in year.iso()


ANCHORED: list[tuple[str, PartialDate, D | None]] = [
    ("Within six months", PartialDate(D(2019, 1, 1), YEAR), D(2020, 6, 30)),  # from the end of 2019
    ("Within six months", PartialDate(D(2020, 7, 1), MONTH), D(2021, 1, 31)),
    ("Within three months", PartialDate(D(2018, 4, 1), FY), D(2019, 6, 30)),
    ("Immediately", PartialDate(D(2018, 4, 1), FY), D(2019, 3, 31)),
    ("Immediately", PartialDate(D(2022, 11, 2)), D(2022, 11, 2)),
    ("Within six months", PartialDate(D(2023, 8, 31)), D(2024, 2, 29)),  # a day: as before
    ("By 31 March 2023", PartialDate(D(2019, 1, 1), YEAR), D(2023, 3, 31)),
]


@pytest.mark.parametrize(
    ("deadline", "published", "due"), ANCHORED, ids=[f"{c[0]}@{c[1].label()}" for c in ANCHORED]
)
def test_relative_deadlines_anchor_at_the_publication_precision(
    deadline: str, published: PartialDate, due: D
) -> None:
    assert derive_due_date(deadline, published) == due
    assert parse_due_value(deadline, published) == (deadline, due)  # the text is kept


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_read_date_answers_or_explains(text: str) -> None:
    try:
        found = read_date(text)
    except DateUnreadable as error:
        assert str(error)
        return
    assert found is None or (1900 <= found.start.year <= 2100 and found.start <= found.end)


HEADERS = [
    ("Rec No", "number"), ("HMICFRS Ref", "number"), ("Recommendation", "text"), ("Lead", "owner"),
    ("Action owner", "owner"), ("Target date", "due_date"), ("Revised target date", "revised_due_date"),
    ("Date closed", "signed_off_on"), ("Report name", "report_title"), ("Date of report", "published"),
    ("REC NO.", "number"), ("  report_title ", "report_title"), ("Date Added", "added_on"), ("RAG status", "rag"),
    ("Recomendation", "text"), ("Target dates", "due_date"), ("Action Owners", "owner"),  # near-misses
    ("SD&A Lead", None), ("Comments", None), ("Last reviewed", None), ("Date opened ", "added_on"), ("", None),
]  # fmt: skip


@pytest.mark.parametrize(("header", "column"), HEADERS, ids=[h for h, _ in HEADERS])
def test_headers_as_trackers_write_them(header: str, column: str | None) -> None:
    assert match_header(header)[0] == column


def test_vocabulary_synonyms_are_unambiguous() -> None:
    seen: dict[str, str] = {}
    for column, synonyms in COLUMNS.items():
        for s in (column, *synonyms):
            assert seen.setdefault(header_key(s), column) == column, (
                f"{s!r} is in {seen[header_key(s)]} and {column}"
            )


@pytest.mark.parametrize(
    ("written", "status"),
    [("Closed", "signed_off"), ("Complete", "signed_off"), ("Awaiting sign-off", "evidenced"),
     ("With HMICFRS", "evidenced"), ("Not for West Midlands Police", "not_for_us"), ("N/A - other body", "not_for_us"),
     ("N/A – other body", "not_for_us"), ("In progress", "in_progress"), ("Signed off", "signed_off"),
     ("Not started", "open"), ("not complete", None), ("done-ish", None)],
)  # fmt: skip
def test_statuses_as_forces_write_them(written: str, status: str | None) -> None:
    assert read_status(written) == status


TODAY = D(2023, 3, 1)


@pytest.mark.parametrize(
    ("changes", "rag"),
    [({"status": "signed_off"}, "complete"), ({"due_date": D(2023, 2, 1)}, "red"),
     ({"due_date": D(2023, 3, 20)}, "amber"), ({"due_date": D(2023, 6, 1)}, "green"),
     ({"due_date": D(2023, 6, 1), "retarget_count": 2}, "amber"), ({"due_date": None}, "green"),
     ({"due_date": D(2023, 2, 1), "revised_due_date": D(2023, 9, 1)}, "green"),  # the revised target counts
     ({"due_date": D(2023, 2, 1), "status": "evidenced"}, "amber"),  # waiting on HMICFRS: never red
     ({"due_date": D(2023, 2, 1), "rag_override": "amber"}, "amber"),  # set by hand: wins
     ({"status": "not_for_us", "for_force": False}, None)],
)  # fmt: skip
def test_rag(changes: dict[str, object], rag: str | None) -> None:
    import dataclasses

    item = dataclasses.replace(card_item(1), **{"status": "open", **changes})  # type: ignore[arg-type]
    assert item.rag(TODAY) == rag
