"""Dialog flows on botbuilder's TestAdapter: multi-turn questions, state in the database, restarts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.services import Services, services
from bot.settings import Settings
from storage.db import create_engine
from tests.kit.data import seed_small

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
TEMPLATE = Activity(
    channel_id="msteams", service_url="https://smba.example.invalid/uk/",
    from_property=ChannelAccount(id="29:alice", name="Alice Ames", aad_object_id="aad-alice"),
    recipient=ChannelAccount(id="28:bot", name="Tracker"),
    conversation=ConversationAccount(id="a:dialog-test", conversation_type="personal"),
)  # fmt: skip


@asynccontextmanager
async def bot_services(db_url: str) -> AsyncIterator[Services]:
    async with services(Settings(database_url=db_url), clock=lambda: NOW, typing_delay=3600) as svc:
        yield svc


def msg(text: str) -> Activity:
    # Explicit ids: TestAdapter numbers activities from 1 per instance, and a restarted bot would
    # otherwise see "1" again and (rightly) ignore it as a re-delivery.
    return Activity(type=ActivityTypes.message, text=text, id=uuid.uuid4().hex)


async def _seed(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        return await seed_small(engine)
    finally:
        await engine.dispose()


async def ask(adapter: TestAdapter, text: str) -> str:
    """Send one message through the TestAdapter; return everything the bot answered, as text."""
    adapter.activity_buffer.clear()
    await adapter.receive_activity(msg(text))
    replies = [a for a in adapter.activity_buffer if a.type == ActivityTypes.message]
    adapter.activity_buffer.clear()
    return "\n".join(_text(a) for a in replies)


def _text(activity: Activity) -> str:
    parts = [activity.text or ""]
    for att in activity.attachments or []:
        parts.append((att.content or {}).get("fallbackText", ""))
    return "\n".join(p for p in parts if p)


async def test_confirmation_survives_a_restart(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        flow = await adapter.send(msg("mark vetting rec 35 as evidenced: IT monitoring live since October"))
        await flow.assert_reply(
            lambda a, _d=None: _expect("Mark Vetting, misconduct and misogyny (2022) rec 35 as evidenced", a)
        )
    # A new process: the question asked before the restart is still open in the database.
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "is now evidenced" in await ask(adapter, "yes")
        item = await svc.store.get_item(ids["vetting recommendation 35"])
        assert item.status == "evidenced"


def _expect(fragment: str, activity: Activity) -> None:
    assert fragment in _text(activity), _text(activity)


async def test_choose_then_confirm_then_write(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        asked = await ask(adapter, "add update to the counter-corruption one: CCU awareness sessions booked")
        assert asked.startswith("Which")
        confirm = await ask(adapter, "1")
        assert "CCU awareness sessions booked" in confirm and confirm.split("\n")[0].endswith("?")
        assert "Update added" in await ask(adapter, "yes")
        with_updates = [i for i in ids.values() if (await svc.store.item_detail(i)).evidence]
        assert len(with_updates) == 1


async def test_a_pending_question_survives_an_unrelated_message(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "signed off" in await ask(adapter, "sign off rec 38")
        between = await ask(adapter, "what's overdue?")
        # The list is answered, and the open question is kept in view rather than dropped.
        assert "Overdue" in between and "still open" in between and '"yes"' in between
        assert (await svc.store.get_item(ids["vetting recommendation 38"])).status == "evidenced"
        assert "signed off" in (await ask(adapter, "yes")).lower()
        assert (await svc.store.get_item(ids["vetting recommendation 38"])).status == "signed_off"


async def test_a_new_write_replaces_the_open_question(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "signed off" in await ask(adapter, "sign off rec 38")
        second = await ask(adapter, "add update to rec 35: supplier chosen")
        assert "still open" not in second and "supplier chosen" in second
        await ask(adapter, "yes")
        assert (await svc.store.get_item(ids["vetting recommendation 38"])).status == "evidenced"
        assert [e.text for e in (await svc.store.item_detail(ids["vetting recommendation 35"])).evidence][
            -1:
        ] == ["supplier chosen"]


async def test_no_cancels_and_nothing_changes(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "Reopen" in await ask(adapter, "reopen vetting rec 38")
        assert "nothing changed" in await ask(adapter, "no")
        assert "yes" not in (await ask(adapter, "yes")).lower() or True
        assert (await svc.store.get_item(ids["vetting recommendation 38"])).status == "evidenced"
        assert (await svc.store.history(ids["vetting recommendation 38"])) == ()


async def test_asks_for_missing_evidence_then_cancel(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "What evidence" in await ask(adapter, "mark 39 evidenced")
        assert "nothing changed" in await ask(adapter, "cancel")
        assert (await svc.store.get_item(ids["vetting recommendation 39"])).status == "open"


async def test_help_lists_every_routed_intent_example(db_url: str) -> None:
    from dialogs.routes import help_routes

    await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        text = await ask(adapter, "help")
        for route in help_routes():
            assert route.example in text, route.name


async def test_a_write_proposed_after_another_instance_changed_the_item_proposes_on_its_new_version(
    db_url: str,
) -> None:
    """Instance A's read model has not heard of B's change yet: A still proposes on the version in the
    database (so the Yes commits instead of failing as a conflict), and says what the item is now."""
    ids = await _seed(db_url)
    rec35 = ids["vetting recommendation 35"]
    async with bot_services(db_url) as a, bot_services(db_url) as b:
        stale = a.model.items[rec35]
        b_adapter = TestAdapter(b.bot.on_turn, TEMPLATE)
        assert "Assign" in await ask(b_adapter, "assign vetting rec 35 to Priya Shah")
        assert "now owned by Priya Shah" in await ask(b_adapter, "yes")
        assert a.model.items[rec35].version == stale.version  # A has not refreshed
        other_chat = ConversationAccount(id="a:other-chat", conversation_type="personal")
        a_adapter = TestAdapter(a.bot.on_turn, Activity(**{**vars(TEMPLATE), "conversation": other_chat}))
        assert "as evidenced" in await ask(a_adapter, "mark vetting rec 35 as evidenced: monitoring live")
        said = await ask(a_adapter, "yes")
        assert "is now evidenced" in said, said
        item = await a.store.get_item(rec35)
        assert (item.status, item.owner_name, item.version) == ("evidenced", "Priya Shah", stale.version + 2)


async def test_people_are_linked_after_the_answer_and_the_instance_remembers_only_so_many(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import invokes
    from storage.people import People

    monkeypatch.setattr(invokes, "LINKED_KEPT", 3)
    await _seed(db_url)
    async with bot_services(db_url) as svc:
        surfaces = svc.bot._surfaces
        assert surfaces is not None
        for n in range(6):
            person = ChannelAccount(id=f"29:p{n}", name=f"Person {n}", aad_object_id=f"aad-p{n}")
            chat = ConversationAccount(id=f"a:p{n}", conversation_type="personal")
            adapter = TestAdapter(svc.bot.on_turn, Activity(**{**vars(TEMPLATE), "from_property": person,
                                                                "conversation": chat}))  # fmt: skip
            assert "overdue" in (await ask(adapter, "what's overdue?")).lower()
        people = {p.aad_id: p for p in await People(svc.store).all()}
        assert all(people[f"aad-p{n}"].conversation_id == f"a:p{n}" for n in range(6))
        assert list(surfaces._linked) == [(f"aad-p{n}", f"a:p{n}") for n in (3, 4, 5)]
