"""Who may do what, end to end with authentication on.

Anyone in the tenant can read; the item's owner and TRACKER_EDITORS can add updates and mark it
evidenced; only TRACKER_ADMINS can sign off, reopen and assign. A refused write gets a clear reply,
an audit event ("refused") and changes nothing else. In local mode (no app id, no lists) everyone
may write, and the start-up log says so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.settings import Settings
from storage.store import Store
from tests.kit.authbot import KID, AuthedBot, authed_bot, fingerprint, no_external_network, seed  # noqa: F401
from tests.kit.authkit import KeyPair
from tests.kit.botkit import running_bot, text_of

EDITOR = {"user": "Eddie Editor", "aad": "aad-editor", "conversation": "a:personal-editor"}
ADMIN = {"user": "Ada Admin", "aad": "aad-admin", "conversation": "a:personal-admin"}
OWNER = {"user": "DCI Sarah Khan", "aad": "aad-sarah", "conversation": "a:personal-sarah"}  # owns 33, 34, 39
STRANGER = {"user": "Sam Stranger", "aad": "aad-stranger", "conversation": "a:personal-stranger"}
OWNER_ONLY = "Only the item's owner or the SD&A editors can record evidence or updates on it."
ADMINS_ONLY = "Only the SD&A tracker admins can do that."


@pytest.fixture(scope="module")
def signing() -> KeyPair:
    return KeyPair.generate(KID)


@pytest.fixture
async def ab(db_url: str, signing: KeyPair) -> AsyncIterator[AuthedBot]:
    # Lists in mixed case: object ids are compared case-insensitively.
    async with authed_bot(
        db_url, signing, editors=frozenset({"AAD-Editor"}), admins=frozenset({"aad-admin"})
    ) as running:
        yield running


def item_id(ab: AuthedBot, number: str) -> int:
    return next(i.id for i in ab.bot.services.model.items.values() if i.number == number and i.report_id == 1)


async def write(ab: AuthedBot, request: str, who: dict[str, Any]) -> str:
    """Ask for a change as ``who`` and say yes to the question; returns the final answer."""
    (asked,) = await ab.say(request, **who)
    if "?" not in text_of(asked):
        return text_of(asked)  # refused (or nothing to confirm)
    (answer,) = await ab.say("yes", **who)
    return text_of(answer)


async def trail(store: Store, item: int) -> list[tuple[str, str | None, str | None]]:
    """(action, field, actor) of each audit event."""
    return [(e.action, e.field, e.actor_aad_id) for e in await store.history(item)]


async def test_anyone_can_read(ab: AuthedBot) -> None:
    for question, expected in [("show rec 35", "monitor all use of its IT systems"), ("what's overdue?", "Overdue"),
                               ("who owns rec 34?", "Sarah Khan"), ("what's outstanding from vetting?", "rec 39")]:  # fmt: skip
        (reply,) = await ab.say(question, **STRANGER)
        assert expected in text_of(reply), question


async def test_owner_and_editors_can_add_updates_and_mark_evidenced(ab: AuthedBot) -> None:
    store = ab.bot.services.store
    assert "Update added" in await write(ab, "add update to rec 34: CCU tasking started", OWNER)
    assert "now evidenced" in await write(ab, "mark rec 34 as evidenced: CCU tasks intel routinely", OWNER)
    # rec 35 is Supt Owen's: an editor may still record on it, and an admin is an editor too.
    assert "Update added" in await write(ab, "add update to rec 35: monitoring tool procured", EDITOR)
    assert "now evidenced" in await write(ab, "mark rec 35 as evidenced: monitoring live", EDITOR)
    assert "Update added" in await write(ab, "add update to rec 39: STA drafted", ADMIN)
    assert await trail(store, item_id(ab, "34")) == [
        ("update_added", None, "aad-sarah"), ("evidence_added", None, "aad-sarah"), ("status_changed", "status", "aad-sarah"),
    ]  # fmt: skip
    assert [a for a, _, _ in await trail(store, item_id(ab, "35"))] == [
        "update_added",
        "evidence_added",
        "status_changed",
    ]
    assert (await store.get_item(item_id(ab, "35"))).status == "evidenced"


async def test_others_are_refused_clearly_audited_and_nothing_changes(ab: AuthedBot) -> None:
    store = ab.bot.services.store
    before = await fingerprint(store)
    for request, number, intent in [("mark rec 34 as evidenced: I did it", "34", "mark_evidenced"),
                                    ("add update to rec 35: hello", "35", "add_update"),
                                    ("add update to rec 38: nobody owns this one", "38", "add_update")]:  # fmt: skip
        (reply,) = await ab.say(request, **STRANGER)
        assert text_of(reply) == f"Sorry, I can't do that: {OWNER_ONLY}", request
        assert (await trail(store, item_id(ab, number)))[-1] == ("refused", intent, "aad-stranger")
    # The card buttons are refused the same way, and a "yes" afterwards has nothing to confirm.
    status, _ = await ab.post(ab.bot.acts.submit({"verb": "start_evidence", "item_id": item_id(ab, "35")},
                                                 user=STRANGER["user"], aad=STRANGER["aad"],
                                                 conversation=STRANGER["conversation"]))  # fmt: skip
    assert status == 200 and OWNER_ONLY in text_of(ab.bot.connector.messages()[-1])
    (reply,) = await ab.say("yes", **STRANGER)
    assert "Sorry, I can't do that" not in text_of(reply) and "evidenced" not in text_of(reply)
    # Someone without an AAD object id owns nothing (rec 38 has no owner either).
    (reply,) = await ab.say(
        "add update to rec 38: anonymous", user="No Id", aad="", conversation="a:personal-noid"
    )
    assert OWNER_ONLY in text_of(reply)
    # Nothing but the refusals (and conversation state) was written.
    after = await fingerprint(store)
    for table in ("item", "evidence", "report", "subscription"):
        assert after[table] == before[table], table
    refusals = [
        e for i in (34, 35, 38) for e in await store.history(item_id(ab, str(i))) if e.action == "refused"
    ]
    assert len(refusals) == 5 and all(e.note == OWNER_ONLY for e in refusals)
    assert len(after["item_event"]) == len(before["item_event"]) + 5
    # Changing where the digest goes needs an editor too (nothing to audit on an item).
    await ab.post(
        ab.bot.acts.channel("post the weekly digest here", user=STRANGER["user"], aad=STRANGER["aad"])
    )
    assert "Only the SD&A editors can change where the digest is posted" in text_of(
        ab.bot.connector.messages()[-1]
    )
    assert (await fingerprint(store))["subscription"] == before["subscription"]


async def test_only_admins_sign_off_reopen_and_assign(ab: AuthedBot) -> None:
    store = ab.bot.services.store
    refused_before = 0
    for who in (OWNER, EDITOR):
        for request in ("sign off rec 34", "reopen rec 33", "assign rec 39 to Bob Brown"):
            (reply,) = await ab.say(request, **who)
            assert text_of(reply).startswith(f"Sorry, I can't do that: {ADMINS_ONLY}"), (who["user"], request)
            refused_before += 1
    events = [e for n in ("33", "34", "39") for e in await store.history(item_id(ab, n))]
    assert sorted(e.field for e in events if e.action == "refused") == [
        "assign",
        "assign",
        "reopen",
        "reopen",
        "sign_off",
        "sign_off",
    ]
    assert (await store.get_item(item_id(ab, "33"))).status == "signed_off"
    # An admin can do all three.
    assert "signed off" in await write(ab, "sign off rec 34", ADMIN)
    assert "open again" in await write(ab, "reopen rec 33", ADMIN)
    assert "now owned by Bob Brown" in await write(ab, "assign rec 39 to Bob Brown", ADMIN)
    assert (await store.get_item(item_id(ab, "34"))).status == "signed_off"
    assert (await store.get_item(item_id(ab, "33"))).status in ("open", "in_progress")
    assert (await store.get_item(item_id(ab, "39"))).owner_name == "Bob Brown"


async def test_with_an_app_id_and_no_lists_only_owners_write(
    db_url: str, signing: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with authed_bot(db_url, signing) as ab:
        assert (
            "TRACKER_EDITORS and TRACKER_ADMINS are empty: only item owners can record evidence"
            in caplog.text
        )
        assert "auth on" in caplog.text
        (reply,) = await ab.say("add update to rec 34: hello", **STRANGER)
        assert OWNER_ONLY in text_of(reply)
        assert "Update added" in await write(ab, "add update to rec 34: from the owner", OWNER)
        (reply,) = await ab.say("sign off rec 34", **OWNER)
        assert ADMINS_ONLY in text_of(reply)


async def test_local_mode_everyone_may_write_and_the_startup_log_says_so(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await seed(db_url)
    async with running_bot(Settings(database_url=db_url)) as bot:
        assert (
            "local mode: no MicrosoftAppId and no TRACKER_EDITORS/TRACKER_ADMINS, so everyone may write"
            in caplog.text
        )
        assert "auth OFF (local mode)" in caplog.text
        for request, done in [("add update to rec 35: anyone", "Update added"), ("sign off rec 35", "signed off"),
                              ("assign rec 38 to Bob Brown", "now owned by")]:  # fmt: skip
            await bot.say(request, user="Sam Stranger", aad="aad-stranger")
            (answer,) = await bot.say("yes", user="Sam Stranger", aad="aad-stranger")
            assert done in text_of(answer), request


async def test_local_mode_with_lists_enforces_them(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await seed(db_url)
    async with running_bot(Settings(database_url=db_url, editors=frozenset({"aad-editor"}))) as bot:
        assert "everyone may write" not in caplog.text
        (reply,) = await bot.say("add update to rec 35: stranger", user="Sam Stranger", aad="aad-stranger")
        assert OWNER_ONLY in text_of(reply)
        await bot.say("add update to rec 35: editor", user="Eddie Editor", aad="aad-editor")
        (answer,) = await bot.say("yes", user="Eddie Editor", aad="aad-editor")
        assert "Update added" in text_of(answer)
