"""The demo seed: the JAC paper's items verbatim, nothing invented, a believable spread, loaded once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from storage.demo import NOT_GIVEN, seed_demo
from storage.models import ItemEvent
from storage.store import Store
from tests.conftest import FIXTURES, SAMPLE_CSV

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
PAPER = " ".join((FIXTURES / "jac-hmicfrs-update-2022-12.txt").read_text(encoding="utf-8").split())
SAMPLE = SAMPLE_CSV
DEADLINES = {
    "33": ("By 31 March 2023", dt.date(2023, 3, 31)),
    "34": ("By 30 April 2023", dt.date(2023, 4, 30)),
    "35": ("By 31 March 2023", dt.date(2023, 3, 31)),
    "38": ("By 30 April 2023", dt.date(2023, 4, 30)),
    "39": ("By 30 April 2023", dt.date(2023, 4, 30)),
}
DEMO_REPORTS = {"vetting-misconduct-misogyny", "roads-policing-not-optional", "domestic-abuse-pandemic-2021",
                "shining-a-light-on-betrayal", "peel-2021-22-wmp", "jtai-walsall", "child-protection-2014"}  # fmt: skip


async def event_count(store: Store) -> int:
    async with store.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(ItemEvent)) or 0)


async def test_seed_once_then_nothing(store: Store) -> None:
    message = await seed_demo(store, now=NOW, sample_csv=SAMPLE)
    assert "7 reports, 23 items" in message and "6 reports, 11 items" in message
    seq, events = await store.current_seq(), await event_count(store)
    again = await seed_demo(store, now=NOW, sample_csv=SAMPLE)
    assert again.startswith("Demo data is already loaded") and "nothing changed" in again
    assert await store.current_seq() == seq and await event_count(store) == events


async def test_vetting_recommendations_are_the_papers_words(store: Store) -> None:
    await seed_demo(store, now=NOW, sample_csv=SAMPLE)
    snap = await store.snapshot()
    (vetting,) = [r for r in snap.reports if r.key == "vetting-misconduct-misogyny"]
    assert (vetting.published, vetting.report_type) == (dt.date(2022, 11, 2), "national_thematic")
    assert {"vetting", "vetting inspection", "the misogyny one", "vetting misconduct misogyny", "VMM"} <= set(
        vetting.aliases
    )
    recs = {i.number: i for i in snap.items if i.report_id == vetting.id}
    assert sorted(recs) == sorted(DEADLINES)
    for number, item in recs.items():
        assert f"Recommendation {number} {' '.join(item.text.split())}" in PAPER, number
        assert (item.deadline_text, item.due_date) == DEADLINES[number]
        assert item.status == "signed_off" and item.kind == "recommendation"


async def test_no_seeded_item_presents_invented_text(store: Store) -> None:
    await seed_demo(store, now=NOW, sample_csv=SAMPLE)
    snap = await store.snapshot()
    keys = {r.id: r.key for r in snap.reports}
    demo = [i for i in snap.items if keys[i.report_id] in DEMO_REPORTS]
    assert len(demo) == 23
    fragment = (
        "The force should review how it manages sex offenders to make sure it has the capacity and capabili"
    )
    assert fragment in PAPER
    for item in demo:
        if keys[item.report_id] == "vetting-misconduct-misogyny":
            assert " ".join(item.text.split()) in PAPER
        elif item.text.startswith("Text given only in part"):
            assert f'"{fragment}…"' in item.text and item.status == "signed_off"
        else:
            assert item.text.startswith(NOT_GIVEN), item.text
    walsall = next(r for r in snap.reports if r.key == "jtai-walsall")
    assert walsall.report_type == "joint" and not [i for i in snap.items if i.report_id == walsall.id]
    statuses = {keys[i.report_id]: set() for i in demo}
    for i in demo:
        statuses[keys[i.report_id]].add(i.status)
    assert statuses["roads-policing-not-optional"] == {"signed_off"}
    assert statuses["child-protection-2014"] == {"in_progress", "evidenced"}


async def test_spread_fills_every_view(store: Store) -> None:
    await seed_demo(store, now=NOW, sample_csv=SAMPLE)
    snap = await store.snapshot()
    today = NOW.date()
    recent = await store.events_since(NOW - dt.timedelta(days=7))
    assert len(recent) >= 8 and {e.source for e in recent} == {"seed"}
    assert {"status_changed", "owner_changed", "evidence_added", "update_added"} <= {e.action for e in recent}
    due_soon = [
        i
        for i in snap.items
        if i.live and i.due_date and today <= i.due_date <= today + dt.timedelta(days=30)
    ]
    assert len(due_soon) >= 2
    for item in due_soon:  # no date is put in HMICFRS's mouth: demo dates are the force's own targets
        assert item.deadline_text and "not an HMICFRS deadline" in item.deadline_text
    assert len([i for i in snap.items if i.overdue(today)]) >= 3
    assert {"open", "in_progress", "evidenced", "signed_off", "not_for_us"} <= {i.status for i in snap.items}
    evidenced = [i for i in snap.items if i.status == "evidenced"]
    assert evidenced and all(
        i.latest_evidence and i.latest_evidence.startswith("Force note:") for i in evidenced
    )
    assert any(i.owner_name is None and i.live for i in snap.items)
    detail = await store.item_detail(evidenced[0].id)
    assert all(e.at and e.at <= NOW for e in detail.events) and detail.evidence[-1].created_at <= NOW
