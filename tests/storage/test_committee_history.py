"""What an item was on a given day, from its audit events (pure: storage.committee.item_history)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from storage.committee import Change, build_history, closed_between, figures
from storage.views import ItemView, ReportView

LONDON = ZoneInfo("Europe/London")
REPORT = ReportView(1, "vetting", "An inspection of vetting", "national_thematic", dt.date(2022, 11, 2), None)


def item(n: int = 1, *, status: str = "open", signed_off_on: dt.date | None = None, **kw: object) -> ItemView:
    values: dict[str, object] = dict(
        id=n, report_id=1, kind="recommendation", number=str(n), text="t", addressee="Chief constables",
        for_force=True, deadline_text=None, due_date=dt.date(2023, 4, 30), owner_name=None, owner_aad_id=None,
        themes=(), status=status, register_status=None, register_id=None, register_url=None, source_url=None,
        version=1, created_at=None, updated_at=None, status_changed_at=None, signed_off_on=signed_off_on,
    )  # fmt: skip
    values.update(kw)
    return ItemView(**values)  # type: ignore[arg-type]


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def change(
    when: dt.datetime, field: str, old: str | None, new: str | None, action: str = "field_changed"
) -> Change:
    return Change(1, when, "status_changed" if field == "status" else action, field, old, new)


def test_an_undated_sign_off_counts_from_the_local_day_it_was_recorded() -> None:
    # 23:30 UTC on 30 June is 1 July in London: that is the day it counts from.
    h = build_history(
        [item(status="signed_off")],
        [REPORT],
        [change(at("2023-06-30", 23).replace(minute=30), "status", "evidenced", "signed_off")],
        LONDON,
    )
    [history] = h.items
    assert history.at(dt.date(2023, 6, 30)).status == "evidenced"  # type: ignore[union-attr]
    assert history.at(dt.date(2023, 7, 1)).signed_off_on == dt.date(2023, 7, 1)  # type: ignore[union-attr]


def test_a_back_dated_sign_off_counts_from_its_date_of_record() -> None:
    # Imported in 2026 with the day HMICFRS signed it off in 2022.
    recorded = at("2026-01-05")
    events = [
        change(recorded, "status", "open", "signed_off"),
        change(recorded, "signed_off_on", None, "2022-10-01"),
    ]
    h = build_history(
        [item(status="signed_off", signed_off_on=dt.date(2022, 10, 1), added_on=dt.date(2022, 1, 1))],
        [REPORT],
        events,
        LONDON,
    )
    assert [i.status for i in h.as_of(dt.date(2022, 9, 30))] == ["open"]
    assert [i.signed_off_on for i in h.as_of(dt.date(2022, 12, 15))] == [dt.date(2022, 10, 1)]
    fig = figures(h, dt.date(2022, 12, 15), dt.date(2022, 9, 22))
    assert (fig.signed_off_since, fig.live, fig.total) == (1, 0, 1)


def test_reopened_and_corrected_sign_offs() -> None:
    events = [
        change(at("2022-11-20"), "status", "evidenced", "signed_off"), change(at("2022-11-20"), "signed_off_on", None, "2022-11-20"),
        change(at("2022-11-21"), "signed_off_on", "2022-11-20", "2022-11-18"),  # the letter's date, corrected
        change(at("2023-01-10"), "status", "signed_off", "in_progress"), change(at("2023-01-10"), "signed_off_on", "2022-11-18", None),
        change(at("2023-03-01"), "status", "in_progress", "signed_off"), change(at("2023-03-01"), "signed_off_on", None, "2023-03-01"),
    ]  # fmt: skip
    [h] = build_history(
        [item(status="signed_off", signed_off_on=dt.date(2023, 3, 1))], [REPORT], events, LONDON
    ).items
    assert h.at(dt.date(2022, 11, 17)).status == "evidenced"  # type: ignore[union-attr]
    assert h.at(dt.date(2022, 12, 15)).signed_off_on == dt.date(2022, 11, 18)  # type: ignore[union-attr]
    assert h.at(dt.date(2023, 2, 1)).status == "in_progress"  # type: ignore[union-attr]
    assert h.at(dt.date(2023, 3, 2)).signed_off_on == dt.date(2023, 3, 1)  # type: ignore[union-attr]
    hist = build_history(
        [item(status="signed_off", signed_off_on=dt.date(2023, 3, 1))], [REPORT], events, LONDON
    )
    assert [i.signed_off_on for i in closed_between(hist, dt.date(2022, 10, 31), dt.date(2022, 11, 30))] == [
        dt.date(2022, 11, 18)
    ]
    assert closed_between(hist, dt.date(2022, 12, 31), dt.date(2023, 1, 31)) == []


def test_targets_re_target_counts_and_hand_set_rag_as_of_a_day() -> None:
    events = [
        change(at("2023-02-01"), "revised_due_date", None, "2023-06-30", action="target_moved"),
        change(at("2023-02-01"), "retarget_count", "0", "1"),
        change(at("2023-05-01"), "revised_due_date", "2023-06-30", "2023-09-30", action="target_moved"),
        change(at("2023-05-01"), "retarget_count", "1", "2"),
        change(at("2023-06-01"), "rag_override", None, "green"),
    ]
    now = item(
        revised_due_date=dt.date(2023, 9, 30), retarget_count=2, rag_override="green", status="in_progress"
    )
    [h] = build_history([now], [REPORT], events, LONDON).items
    jan, mar, may, jul = (h.at(dt.date(2023, m, 15)) for m in (1, 3, 5, 7))
    assert (jan.target_date, jan.retarget_count, jan.rag(dt.date(2023, 1, 15))) == (
        dt.date(2023, 4, 30),
        0,
        "green",
    )  # type: ignore[union-attr]
    assert (mar.target_date, mar.retarget_count) == (dt.date(2023, 6, 30), 1)  # type: ignore[union-attr]
    assert (may.target_date, may.retarget_count, may.rag(dt.date(2023, 5, 15))) == (
        dt.date(2023, 9, 30),
        2,
        "amber",
    )  # type: ignore[union-attr]
    assert (jul.rag_override, jul.rag(dt.date(2023, 7, 15))) == ("green", "green")  # type: ignore[union-attr]
    assert h.at(dt.date(2022, 11, 1)) is None  # before its report was published: not yet on the tracker


def test_rag_rule() -> None:
    today = dt.date(2023, 4, 1)
    assert item(due_date=dt.date(2023, 3, 31)).rag(today) == "red"
    assert item(due_date=dt.date(2023, 3, 31), status="evidenced").rag(today) == "amber"  # waiting on HMICFRS
    assert item(due_date=dt.date(2023, 5, 1)).rag(today) == "amber"
    assert item(due_date=dt.date(2023, 5, 2)).rag(today) == "green"
    assert item(due_date=dt.date(2023, 9, 1), retarget_count=2).rag(today) == "amber"
    assert item(status="signed_off").rag(today) == "complete"
    assert item(due_date=dt.date(2023, 3, 1), rag_override="green").rag(today) == "green"
