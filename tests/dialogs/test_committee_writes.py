"""Dates of record from writes (sign-off, reopen, re-target), committee meetings and inspections: on
SQLite and PostgreSQL, through the store, the write dialogs and a real Teams turn."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from botbuilder.core.adapters import TestAdapter
from sqlalchemy import func, select

from bot.services import services
from bot.settings import Settings
from dialogs.committee.meetings import commit_meeting, propose_meeting
from dialogs.language import Intent
from dialogs.policy import Policy
from dialogs.state import Pending
from dialogs.types import Turn
from dialogs.writes import RateLimit, WriteFields, Writes
from storage.models import Item, ItemEvent, Report
from storage.readmodel import ReadModel
from storage.store import InvalidChange, ItemChange, Retarget, Store
from storage.views import Actor, Source
from tests.dialogs.test_dialogs import TEMPLATE, ask
from tests.kit.cardschema import assert_valid_card
from tests.kit.data import seed_small

ADA = Actor("Ada Admin", "aad-admin")
ED = Actor("Eddie Editor", "aad-editor")
SARAH = Actor("DCI Sarah Khan", "aad-sarah")
CLI = Source("cli")
POLICY = Policy(editors=frozenset({"aad-editor"}), admins=frozenset({"aad-admin"}))
NOW = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)  # already 1 July in London (BST)


def turn(
    user: Actor, text: str = "", *, today: dt.date = dt.date(2026, 7, 1), now: dt.datetime = NOW
) -> Turn:
    return Turn(
        text=text,
        user=user,
        conversation_id="a:committee",
        activity_id=uuid.uuid4().hex,
        now=now,
        today=today,
    )


async def _events(store: Store, item_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(e.action, e.field, e.old_value, e.new_value) for e in await store.history(item_id)]


async def test_sign_off_records_its_date_and_reopen_clears_it(store: Store) -> None:
    ids = await seed_small(store)
    rec34 = ids["vetting recommendation 34"]
    # A caller that gives no date (not Teams) still signs off; the column stays empty rather than
    # guessed, and the committee history dates it by the day its audit event was recorded.
    undated = await store.change_item(
        ids["vetting recommendation 39"], None, ItemChange(status="signed_off"), ADA, CLI
    )
    assert (undated.item.status, undated.item.signed_off_on) == ("signed_off", None)
    assert [e.field for e in undated.events] == ["status"]
    done = await store.change_item(
        rec34, None, ItemChange(status="signed_off", signed_off_on=dt.date(2022, 12, 1)), ADA, CLI
    )
    assert (done.item.status, done.item.signed_off_on) == ("signed_off", dt.date(2022, 12, 1))
    assert await _events(store, rec34) == [
        ("status_changed", "status", "in_progress", "signed_off"),
        ("field_changed", "signed_off_on", None, "2022-12-01"),
    ]
    # HMICFRS's letter was dated the day before: the date of record is corrected, and audited.
    fixed = await store.change_item(
        rec34, None, ItemChange(signed_off_on=dt.date(2022, 11, 30), note="letter date"), ADA, CLI
    )
    assert fixed.item.signed_off_on == dt.date(2022, 11, 30)
    reopened = await store.change_item(
        rec34, None, ItemChange(status="open", note="more evidence asked for"), ADA, CLI
    )
    assert (reopened.item.status, reopened.item.signed_off_on) == ("open", None)
    trail = await store.history(rec34)
    assert [(e.field, e.old_value, e.new_value, e.note) for e in trail[-1:]] == [
        ("signed_off_on", "2022-11-30", None, "more evidence asked for")
    ]
    with pytest.raises(InvalidChange, match="needs the item signed off"):
        await store.change_item(rec34, None, ItemChange(signed_off_on=dt.date(2022, 12, 1)), ADA, CLI)


async def test_retarget_keeps_the_deadline_and_counts_each_move(store: Store) -> None:
    ids = await seed_small(store)
    rec35 = ids["vetting recommendation 35"]
    with pytest.raises(InvalidChange, match="needs a reason"):
        await store.change_item(
            rec35, None, ItemChange(retarget=Retarget(dt.date(2023, 6, 30), "  ")), ED, CLI
        )
    first = await store.change_item(
        rec35, None, ItemChange(retarget=Retarget(dt.date(2023, 6, 30), "IT supplier delay")), ED, CLI
    )
    second = await store.change_item(
        rec35, None, ItemChange(retarget=Retarget(dt.date(2023, 9, 30), "Audit  found gaps")), ED, CLI
    )
    item = second.item
    assert (item.due_date, item.revised_due_date, item.target_date) == (
        dt.date(2023, 3, 31),
        dt.date(2023, 9, 30),
        dt.date(2023, 9, 30),
    )
    assert (first.item.retarget_count, item.retarget_count) == (1, 2)
    assert item.rag(dt.date(2023, 1, 1)) == "amber"  # re-targeted twice: amber even though far off
    trail = await store.history(rec35)
    assert [(e.action, e.field, e.old_value, e.new_value, e.note) for e in trail] == [
        ("target_moved", "revised_due_date", None, "2023-06-30", "IT supplier delay"),
        ("field_changed", "retarget_count", "0", "1", "IT supplier delay"),
        ("target_moved", "revised_due_date", "2023-06-30", "2023-09-30", "Audit found gaps"),
        ("field_changed", "retarget_count", "1", "2", "Audit found gaps"),
    ]
    same = await store.change_item(
        rec35, None, ItemChange(retarget=Retarget(dt.date(2023, 9, 30), "again")), ED, CLI
    )
    assert not same.changed and same.item.retarget_count == 2
    # A first target for an item that had none is not a move.
    afi = ids["peel afi 1"]
    await store.change_item(afi, None, ItemChange(status="in_progress"), ED, CLI)
    set_ = await store.change_item(
        afi, None, ItemChange(retarget=Retarget(dt.date(2027, 1, 31), "agreed at board")), ED, CLI
    )
    assert (set_.item.revised_due_date, set_.item.retarget_count) == (dt.date(2027, 1, 31), 0)


async def test_items_made_without_added_on_get_one(store: Store) -> None:
    async with store.sessions() as s, s.begin():
        published = Report(key="r1", title="Published", published=dt.date(2022, 11, 2))
        unpublished = Report(key="r2", title="Not yet published")
        s.add_all([published, unpublished])
        await s.flush()
        s.add(Item(report_id=published.id, kind="recommendation", number="1", match_key="1", text="a"))
        s.add(Item(report=unpublished, kind="recommendation", number="1", match_key="1", text="b",
                   created_at=dt.datetime(2024, 5, 6, 12, tzinfo=dt.UTC)))  # fmt: skip
        s.add(
            Item(
                report_id=published.id,
                kind="afi",
                number="1",
                match_key="1",
                text="c",
                added_on=dt.date(2023, 1, 1),
            )
        )
    async with store.sessions() as s:
        got = dict((await s.execute(select(Item.text, Item.added_on))).all())
    assert got == {"a": dt.date(2022, 11, 2), "b": dt.date(2024, 5, 6), "c": dt.date(2023, 1, 1)}


async def test_meetings_and_inspections(store: Store) -> None:
    jac, created = await store.add_meeting(dt.date(2022, 9, 22), ADA, Source("teams", "a:x", "act-1"))
    assert created and (jac.name, jac.created_by, jac.source) == ("JAC", "Ada Admin", "teams")
    again, created = await store.add_meeting(dt.date(2022, 9, 22), ED, CLI, name=" jac ")
    assert not created and again.id == jac.id and again.created_by == "Ada Admin"  # nothing overwritten
    await store.add_meeting(dt.date(2022, 12, 15), ADA, CLI)
    await store.add_meeting(dt.date(2022, 11, 1), ADA, CLI, name="Strategic Board")
    assert (await store.last_meeting_before(dt.date(2022, 12, 15))).met_on == dt.date(
        2022, 9, 22
    )  # strictly before
    assert (await store.last_meeting_before(dt.date(2022, 12, 16))).met_on == dt.date(2022, 12, 15)
    assert await store.last_meeting_before(dt.date(2022, 9, 22)) is None
    assert [m.met_on.day for m in await store.meetings("JAC")] == [22, 15]
    assert len(await store.meetings()) == 3
    peel, created = await store.add_inspection(
        dt.date(2023, 9, 4), "PEEL  fieldwork", ADA, note="1 or 2 weeks"
    )
    assert created and peel.name == "PEEL fieldwork"
    assert not (await store.add_inspection(dt.date(2023, 9, 4), "PEEL fieldwork", ED))[1]
    assert [i.name for i in await store.inspections(dt.date(2023, 9, 5))] == []
    assert [i.note for i in await store.inspections()] == ["1 or 2 weeks"]


async def test_retarget_write_dialog_asks_why_confirms_and_is_audited(store: Store) -> None:
    ids = await seed_small(store)
    model = ReadModel(store)
    await model.load()
    writes = Writes(store, model, POLICY, RateLimit())
    rec35 = await store.get_item(ids["vetting recommendation 35"])
    target = WriteFields(target=dt.date(2023, 6, 30))
    # The owner may not move their own target: refused, and the refusal is audited.
    refused = await writes.propose(Intent.RETARGET, rec35, turn(SARAH), target)
    assert "Only the SD&A editors and admins can move a target date" in refused.replies[0].text
    assert [(e.action, e.field) for e in await store.history(rec35.id)] == [("refused", "retarget")]
    no_date = await writes.propose(Intent.RETARGET, rec35, turn(ED), WriteFields())
    assert "tell me the new date" in no_date.replies[0].text
    same = await writes.propose(Intent.RETARGET, rec35, turn(ED), WriteFields(target=dt.date(2023, 3, 31)))
    assert "its target is already 31 March 2023" in same.replies[0].text
    asked = await writes.propose(Intent.RETARGET, rec35, turn(ED), target)
    assert (
        "Why is Vetting, misconduct and misogyny (2022) rec 35's target moving to 30 June 2023?"
        in asked.replies[0].text
    )
    assert asked.state is not None and isinstance(asked.state.pending, Pending)
    pending = dataclasses.replace(asked.state.pending, evidence="IT supplier delay")
    confirm = writes.confirm(pending, rec35)
    assert confirm.replies[0].text.startswith(
        "Move Vetting, misconduct and misogyny (2022) rec 35's target date to 30 June 2023 with note 'IT supplier delay'?"
    )
    assert_valid_card(confirm.replies[0].card or {})
    assert confirm.state is not None and isinstance(confirm.state.pending, Pending)
    done = await writes.commit(confirm.state.pending, turn(ED))
    assert (
        "Vetting, misconduct and misogyny (2022) rec 35's target date is now 30 June 2023; the original deadline stays on record (moved once)."
        in done.replies[0].text
    )
    item = await store.get_item(rec35.id)
    assert (item.due_date, item.revised_due_date, item.retarget_count) == (
        dt.date(2023, 3, 31),
        dt.date(2023, 6, 30),
        1,
    )
    moved = [e for e in await store.history(rec35.id) if e.action == "target_moved"]
    assert [(e.actor_name, e.source, e.note) for e in moved] == [
        ("Eddie Editor", "teams", "IT supplier delay")
    ]


async def test_sign_off_in_teams_is_dated_in_the_forces_time_zone(db_url: str) -> None:
    async with services(Settings(database_url=db_url), clock=lambda: NOW, typing_delay=3600) as svc:
        ids = await seed_small(svc.store)
        await svc.model.load()
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "Record Vetting, misconduct and misogyny (2022) rec 38 as signed off by HMICFRS" in await ask(
            adapter, "sign off vetting rec 38"
        )
        assert "is recorded as signed off" in await ask(adapter, "yes")
        item = await svc.store.get_item(ids["vetting recommendation 38"])
        assert (item.status, item.signed_off_on) == (
            "signed_off",
            dt.date(2026, 7, 1),
        )  # 23:30 UTC is 00:30 BST


async def test_the_jac_met_is_an_admin_write_confirmed_and_recorded(store: Store) -> None:
    met = dt.date(2022, 9, 22)
    assert "Only the SD&A tracker admins" in propose_meeting(POLICY, turn(ED), met).replies[0].text
    future = propose_meeting(POLICY, turn(ADA), dt.date(2026, 7, 2))
    assert "2 July 2026 is in the future" in future.replies[0].text and future.state is None
    asked = propose_meeting(POLICY, turn(ADA), met)
    assert asked.replies[0].text.startswith("Record that the JAC met on 22 September 2022?")
    assert_valid_card(asked.replies[0].card or {})
    assert asked.state is not None and isinstance(asked.state.pending, Pending)
    pending = asked.state.pending
    done = await commit_meeting(store, POLICY, pending, turn(ADA))
    assert "Recorded: the JAC met on 22 September 2022" in done.replies[0].text
    assert done.state is not None and done.state.pending is None
    [row] = await store.meetings()
    assert (row.met_on, row.created_by, row.source) == (met, "Ada Admin", "teams")
    again = await commit_meeting(store, POLICY, pending, turn(ADA))
    assert "Already recorded by Ada Admin" in again.replies[0].text
    # Re-checked at commit: someone who lost admin rights meanwhile writes nothing.
    assert (
        "Only the SD&A tracker admins"
        in (
            await commit_meeting(
                store, POLICY, dataclasses.replace(pending, met_on=dt.date(2022, 6, 30)), turn(ED)
            )
        )
        .replies[0]
        .text
    )
    assert len(await store.meetings()) == 1
    async with store.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ItemEvent)) == 0
