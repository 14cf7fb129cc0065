"""End to end: real activities POSTed to the running app, replies captured at a mock Bot Connector."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from storage.db import create_engine
from storage.subscriptions import Subscriptions
from tests.kit.botkit import BOT_ID, RunningBot, Scripted, cards_of, running_bot, text_of
from tests.kit.cardschema import assert_valid_card
from tests.kit.data import seed_small

# The whole conversation end to end on asyncio's own loop too (TRACKER_EVENT_LOOP=asyncio).
pytestmark = pytest.mark.both_loops


@pytest.fixture
async def bot(db_url: str) -> AsyncIterator[RunningBot]:
    engine = create_engine(db_url)
    try:
        await seed_small(engine)
    finally:
        await engine.dispose()
    async with running_bot(Settings(database_url=db_url, write_limit=100)) as running:
        yield running


def _check_cards(replies: list[dict]) -> None:
    for r in replies:
        for card in cards_of(r):
            assert_valid_card(card)


async def test_outstanding_from_a_report_in_personal_chat(bot: RunningBot) -> None:
    replies = await bot.say("what's outstanding from the vetting inspection?")
    assert len(replies) == 1
    text = text_of(replies[0])
    for number in ("34", "35", "38", "39"):
        assert f"rec {number}" in text
    assert "rec 33" not in text  # signed off
    _check_cards(replies)
    # typing was shown in personal chat, before the answer
    kinds = [r["activity"]["type"] for r in bot.connector.received]
    assert kinds[0] == "typing" and "message" in kinds


async def test_show_rec_35_has_its_text_and_buttons(bot: RunningBot) -> None:
    (reply,) = await bot.say("show rec 35")
    text = text_of(reply)
    assert "monitor all use of its IT systems" in text
    (card,) = cards_of(reply)
    verbs = {a.get("verb") for a in card.get("actions", [])}
    assert {"start_evidence", "start_update"} <= verbs
    _check_cards([reply])


async def test_channel_messages_only_when_mentioned_and_reply_in_thread(bot: RunningBot) -> None:
    status, _ = await bot.post(bot.acts.channel("what's overdue?", mention=False))
    assert status == 200
    await bot.connector.idle()
    assert bot.connector.messages() == []
    act = bot.acts.channel("what's overdue?")
    status, _ = await bot.post(act)
    assert status == 200
    (reply,) = bot.connector.messages()
    posted = bot.connector.received[-1]
    assert posted["reply_to"] == act["id"]
    assert "Overdue" in text_of(reply)
    assert "typing" not in [r["activity"]["type"] for r in bot.connector.received]


async def test_mark_evidenced_confirmed_by_button_writes_once(bot: RunningBot) -> None:
    (confirm,) = await bot.say("mark 34 as evidenced: CCU now tasks intel routinely")
    assert (
        "Mark Vetting, misconduct and misogyny (2022) rec 34 as evidenced with note 'CCU now tasks intel routinely'?"
        in text_of(confirm)
    )
    (card,) = cards_of(confirm)
    assert_valid_card(card)
    yes = next(a for a in card["actions"] if a["title"] == "Yes")
    click = bot.acts.execute("confirm", yes["data"])
    status, body = await bot.post(click)
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert "now evidenced" in str(body["value"])
    # A double click: a new invoke with the same button data.
    status, again = await bot.post(bot.acts.execute("confirm", yes["data"]))
    assert status == 200 and "Already done" in str(again["value"])
    store = bot.services.store
    item = next(i for i in bot.services.model.items.values() if i.number == "34")
    detail = await store.item_detail(item.id)
    assert detail.item.status == "evidenced"
    assert [e.text for e in detail.evidence] == ["CCU now tasks intel routinely"]
    changes = [e for e in detail.events if e.action == "status_changed"]
    assert len(changes) == 1 and changes[0].actor_aad_id == "aad-alice"
    assert changes[0].source_conversation_id == "a:personal-alice"


async def test_typed_yes_confirms_and_no_cancels(bot: RunningBot) -> None:
    await bot.say("add update to rec 39: threat assessment drafted, at ACC board in January")
    (done,) = await bot.say("yes")
    assert "Update added to Vetting, misconduct and misogyny (2022) rec 39" in text_of(done)
    await bot.say("reopen rec 38")
    (cancelled,) = await bot.say("no")
    assert "nothing changed" in text_of(cancelled)
    item38 = next(i for i in bot.services.model.items.values() if i.number == "38")
    assert (await bot.services.store.get_item(item38.id)).status == "evidenced"


async def test_missing_evidence_is_asked_for(bot: RunningBot) -> None:
    (ask,) = await bot.say("mark rec 39 as evidenced")
    assert "What evidence" in text_of(ask)
    (confirm,) = await bot.say("STA signed off by the ACC on 3 Nov, see https://intranet.example/sta")
    assert "Mark Vetting, misconduct and misogyny (2022) rec 39 as evidenced" in text_of(confirm)
    (done,) = await bot.say("yes")
    assert "now evidenced" in text_of(done)
    item = next(i for i in bot.services.model.items.values() if i.number == "39")
    detail = await bot.services.store.item_detail(item.id)
    assert detail.evidence[-1].links == ("https://intranet.example/sta",)


async def test_ambiguous_reference_asks_with_a_choice_card(bot: RunningBot) -> None:
    (ask,) = await bot.say("who owns the counter corruption one")
    assert "Which" in text_of(ask)
    (card,) = cards_of(ask)
    assert_valid_card(card)
    (answer,) = await bot.say("2")
    assert "owned by" in text_of(answer) or "no owner" in text_of(answer)


async def test_unknown_item_says_so(bot: RunningBot) -> None:
    (reply,) = await bot.say("show vetting rec 99")
    assert "can't find" in text_of(reply)
    assert "33" in text_of(reply)  # offers the numbers the report has


async def test_same_activity_delivered_twice_answers_once(bot: RunningBot) -> None:
    act = bot.acts.message("how many are still open?")
    assert (await bot.post(act))[0] == 200
    assert (await bot.post(act))[0] == 200
    assert len(bot.connector.messages()) == 1


async def test_install_in_team_welcomes_and_subscribes_then_removal_unsubscribes(bot: RunningBot) -> None:
    status, _ = await bot.post(bot.acts.install())
    assert status == 200
    (welcome,) = bot.connector.messages()
    assert "weekly status digest" in text_of(welcome)
    subs = Subscriptions(bot.services.store)
    (sub,) = await subs.active()
    assert sub.conversation_id == "19:sdna@thread.tacv2" and sub.team_id == "19:team-sdna@thread.tacv2"
    await bot.post(bot.acts.install())  # Teams also sends installationUpdate: no second welcome
    assert len(bot.connector.messages()) == 1
    await bot.post(bot.acts.uninstall())
    assert await subs.active() == []


async def test_subscribe_and_unsubscribe_by_message_in_a_thread(bot: RunningBot) -> None:
    await bot.post(bot.acts.channel("post the weekly digest here"))
    assert "I'll post the weekly status digest here" in text_of(bot.connector.messages()[-1])
    subs = Subscriptions(bot.services.store)
    (sub,) = await subs.active()
    assert sub.conversation_id == "19:sdna@thread.tacv2"  # the channel, not the thread
    await bot.post(bot.acts.channel("stop sending the digest here"))
    assert await subs.active() == []


async def test_bad_requests(bot: RunningBot) -> None:
    assert (await bot.post("{not json"))[0] == 400
    assert (await bot.post('["a list"]'))[0] == 400
    assert (await bot.post({"no": "type"}))[0] == 400
    assert (await bot.post("x" * 300_000))[0] == 413
    status, _ = await bot.post({**bot.acts.message("hi"), "type": "somethingNew"})
    assert status == 200
    assert bot.connector.messages() == []


async def test_healthz(bot: RunningBot) -> None:
    async with bot.http.get(f"{bot.url}/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "ok" and body["items"] == 10
    assert (
        body["loop"] == type(asyncio.get_running_loop()).__module__.split(".")[0]
    )  # this module runs on both


async def test_mention_is_stripped(bot: RunningBot) -> None:
    await bot.post(bot.acts.channel("show rec 34"))
    (reply,) = bot.connector.messages()
    assert "actively seek corruption-related intelligence" in text_of(reply)
    assert BOT_ID not in text_of(reply)


async def test_a_refused_reply_is_logged_in_one_line_and_the_user_still_hears_back(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # typing goes through, the answer is refused (once)
    bot.connector.scripts["a:personal-alice"] = [Scripted(status=200), Scripted(status=403)]
    with caplog.at_level(logging.ERROR, logger="bot.adapter"):
        replies = await bot.say("what's overdue?")
    failures = [r for r in caplog.records if "turn failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    assert "reply not delivered: connector answered 403" in failures[0].getMessage()
    assert len(replies) == 1 and "something went wrong on my side" in text_of(replies[0])
