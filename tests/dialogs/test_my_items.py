""" "My items" for owners imported by name: found by the name (ranks aside), then linked on a Yes.

Real services on a real database (SQLite and PostgreSQL, from the ``db_url`` fixture), driven through
botbuilder's TestAdapter as the person "Naomi Clarke" whose items a spreadsheet gave as "DI Naomi Clarke".
"""

from __future__ import annotations

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from storage.store import ItemChange
from storage.views import Actor, Source
from tests.dialogs.test_dialogs import _seed, ask, bot_services

NAOMI = Activity(
    channel_id="msteams", service_url="https://smba.example.invalid/uk/",
    from_property=ChannelAccount(id="29:naomi", name="Naomi Clarke", aad_object_id="aad-naomi"),
    recipient=ChannelAccount(id="28:bot", name="Tracker"),
    conversation=ConversationAccount(id="a:naomi-test", conversation_type="personal"),
)  # fmt: skip


async def _owned_by_name(svc: object, item_id: int, owner: str) -> None:
    store = svc.store  # type: ignore[attr-defined]
    item = await store.get_item(item_id)
    await store.change_item(item.id, item.version, ItemChange(set_owner=True, owner_name=owner, owner_aad_id=None),
                            Actor("Import"), Source("import", "tracker.xlsx"))  # fmt: skip
    await svc.model.refresh()  # type: ignore[attr-defined]


async def test_my_items_match_by_name_and_are_linked_on_yes(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        for key in ("vetting recommendation 35", "fraud recommendation 1"):
            await _owned_by_name(svc, ids[key], "DI Naomi Clarke (Public Protection)")
        adapter = TestAdapter(svc.bot.on_turn, NAOMI)

        listed = await ask(adapter, "what's outstanding owned by me?")
        assert "Nothing" not in listed
        assert "rec 35" in listed and "rec 1" in listed
        assert "Link them" in listed  # the offer, never done without a Yes
        assert (await svc.store.get_item(ids["vetting recommendation 35"])).owner_aad_id is None

        done = await ask(adapter, "yes")
        assert "Linked 2 items to you" in done
        for key in ("vetting recommendation 35", "fraud recommendation 1"):
            item = await svc.store.get_item(ids[key])
            assert (
                item.owner_aad_id == "aad-naomi" and item.owner_name == "DI Naomi Clarke (Public Protection)"
            )
        events = (await svc.store.item_detail(ids["vetting recommendation 35"])).events
        assert events[-1].actor_name == "Naomi Clarke" and events[-1].action == "owner_changed"

        # Linked now: the same question finds them by identity and offers nothing more.
        again = await ask(adapter, "what's mine?")
        assert "rec 35" in again and "Link" not in again


async def test_someone_else_of_another_name_is_not_offered_the_link(db_url: str) -> None:
    ids = await _seed(db_url)
    async with bot_services(db_url) as svc:
        await _owned_by_name(svc, ids["vetting recommendation 35"], "DI Nadia Clarke (Public Protection)")
        adapter = TestAdapter(svc.bot.on_turn, NAOMI)
        listed = await ask(adapter, "what's outstanding owned by me?")
        assert "Link" not in listed and "rec 35" not in listed
