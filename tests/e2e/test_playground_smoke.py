"""Smoke test for ``tests/kit/playground_driver.py`` against a throwaway botbuilder bot.

The bot below is not Tracker: it is the smallest TeamsActivityHandler that exercises every path the
driver offers (personal chat, channel @mention and thread, Adaptive Card Action.Execute and
Action.Submit, installation, custom activities, proactive sends), run on CloudAdapter with an empty app
id the way the playground needs. It doubles as a worked example for the real end-to-end test.

Skips (with the reason) only when node or npm are missing; installs the pinned playground on first use.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from botbuilder.core import (
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse, ConversationReference

from tests.kit.playground_driver import REPO_ROOT, Playground, PlaygroundUnavailable, ensure_installed

pytestmark = pytest.mark.playground

logger = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
GREETING = "Thanks for installing the smoke bot."


class _EmptyAuthConfig:
    """ConfigurationBotFrameworkAuthentication settings with no credentials (the playground cannot auth)."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def _card(text: str) -> dict[str, Any]:
    """An Adaptive Card with one Action.Execute and one Action.Submit button."""
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text}],
        "actions": [
            {"type": "Action.Execute", "title": "Approve", "verb": "approve", "data": {"rec": "R1"}},
            {"type": "Action.Submit", "title": "Note", "data": {"kind": "note"}},
        ],
    }


class SmokeBot(TeamsActivityHandler):
    """Echo bot with a card, an edit, an installation greeting, and remembered conversation references."""

    def __init__(self) -> None:
        """Start with no known conversations."""
        self.references: dict[str, ConversationReference] = {}

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Answer submits, send a card on "card", otherwise echo the text without the @mention."""
        activity = turn_context.activity
        self.references[activity.conversation.id] = TurnContext.get_conversation_reference(activity)
        if activity.value is not None:  # Action.Submit arrives as a message with a value and no text
            await turn_context.send_activity(f"submitted: {json.dumps(activity.value, sort_keys=True)}")
            return
        # Strips "<at>BOT</at>" using the mention entity (leaves a leading space behind).
        text = (TurnContext.remove_recipient_mention(activity) or "").strip()
        if text == "card":
            await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(_card("Pending")))
            )
            return
        if text == "edit":
            sent = await turn_context.send_activity("draft")
            edited = MessageFactory.text("final")
            edited.id = sent.id
            await turn_context.update_activity(edited)
            return
        await turn_context.send_activity(f"echo: {text}")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Greet where the bot was installed."""
        activity = turn_context.activity
        self.references[activity.conversation.id] = TurnContext.get_conversation_reference(activity)
        await turn_context.send_activity(GREETING)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Answer ``adaptiveCard/action`` with a refreshed card.

        botbuilder 4.17.1 trap: returning an AdaptiveCardInvokeResponse from on_adaptive_card_invoke
        makes ActivityHandler serialise it to a dict, which CloudAdapter then tries to serialise again
        -> HTTP 500. Returning the InvokeResponse with the *model* as body serialises it once.
        (Its ``value`` must be a dict: a plain string message fails msrest serialisation too.)
        """
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        action = (activity.value or {}).get("action") or {}
        refreshed = _card(f"{action.get('verb')} {json.dumps(action.get('data'), sort_keys=True)}")
        refreshed["actions"] = []
        return InvokeResponse(
            status=200,
            body=AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=refreshed),
        )


@dataclass
class SmokeRig:
    """What a test needs: the driver, the bot (for its references) and the adapter (for proactive sends)."""

    pg: Playground
    bot: SmokeBot
    adapter: CloudAdapter


@pytest.fixture(scope="session")
def playground_bin() -> Path:
    """The installed playground bin; skip when node/npm are missing."""
    try:
        return ensure_installed(REPO_ROOT)
    except PlaygroundUnavailable as exc:
        pytest.skip(f"Agents Playground needs node and npm: {exc}")


@pytest.fixture
async def rig(playground_bin: Path, tmp_path: Path) -> AsyncIterator[SmokeRig]:
    """Run the smoke bot on 127.0.0.1 (random port) and a playground pointed at it."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_EmptyAuthConfig()))
    bot = SmokeBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        # tmp_path keeps the playground's own log for the last few pytest runs.
        async with Playground(
            f"http://127.0.0.1:{port}/api/messages", bin_path=playground_bin, workdir=tmp_path / "playground"
        ) as pg:
            yield SmokeRig(pg=pg, bot=bot, adapter=adapter)
    finally:
        await runner.cleanup()


async def test_personal_chat_reply_and_proactive(rig: SmokeRig) -> None:
    """Text reply in personal chat, a proactive send via continue_conversation, and a message edit."""
    pg = rig.pg
    chat = pg.config.personal_chat_id

    sent = await pg.send(chat, "hello")
    assert sent.bot_status == 201 and sent.conversation_id == chat
    [reply] = await pg.wait_for_bot_messages(chat)
    assert reply["text"] == "echo: hello"
    assert reply["replyToId"] == sent.activity_id

    # With an empty configured app id any bot_app_id works ("" / None / the playground's bot GUID):
    # authentication is disabled, so the credential factory never compares it.
    async def proactive(turn_context: TurnContext) -> None:
        await turn_context.send_activity("proactive hello")

    for app_id in ("", pg.config.bot_id):
        await rig.adapter.continue_conversation(rig.bot.references[chat], proactive, bot_app_id=app_id)
        [pushed] = await pg.wait_for_bot_messages(chat)
        assert pushed["text"] == "proactive hello"
    assert [m["text"] for m in pg.bot_messages(chat)] == ["echo: hello", "proactive hello", "proactive hello"]

    # An edit (update_activity) is handed out like a message and carries the id of the one it replaces.
    await pg.send(chat, "edit")
    draft, final = await pg.wait_for_bot_messages(chat, count=2)
    assert (draft["text"], final["text"]) == ("draft", "final")
    assert final["id"] == draft["id"]
    assert pg.bot_messages(chat, include_updates=False)[-1]["text"] == "draft"


async def test_channel_mention_replies_in_thread(rig: SmokeRig) -> None:
    """An @mention in a channel starts a thread the bot replies into; follow-ups and proactive land there too."""
    pg = rig.pg
    channel = pg.config.general_channel_id

    first = await pg.send(channel, "hi team", mention_bot=True)
    thread = first.post_conversation_id
    assert thread is not None and thread.startswith(f"{channel};messageid=")
    assert first.conversation_id == thread
    [reply] = await pg.wait_for_bot_messages(channel)  # a channel id also matches its threads
    assert reply["text"] == "echo: hi team"
    assert reply["conversation"]["id"] == thread

    follow_up = await pg.send(thread, "again", mention_bot=True)
    assert follow_up.post_conversation_id is None and follow_up.conversation_id == thread
    [reply] = await pg.wait_for_bot_messages(thread)
    assert reply["text"] == "echo: again"

    async def proactive(turn_context: TurnContext) -> None:
        await turn_context.send_activity("proactive in thread")

    await rig.adapter.continue_conversation(rig.bot.references[thread], proactive, bot_app_id="")
    [pushed] = await pg.wait_for_bot_messages(thread)
    assert pushed["text"] == "proactive in thread"
    assert pushed["conversation"]["id"] == thread


async def test_adaptive_card_execute_and_submit(rig: SmokeRig) -> None:
    """The bot's card arrives as an attachment; Action.Execute returns the bot's invoke response; Submit echoes."""
    pg = rig.pg
    chat = pg.config.personal_chat_id

    await pg.send(chat, "card")
    [card_message] = await pg.wait_for_bot_messages(chat)
    [attachment] = card_message["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    assert attachment["content"]["actions"][0]["type"] == "Action.Execute"

    answer = await pg.invoke_execute(chat, card_message["id"], "approve", {"rec": "R1"}, title="Approve")
    assert answer["statusCode"] == 200
    assert answer["type"] == ADAPTIVE_CARD
    assert answer["value"]["body"][0]["text"] == 'approve {"rec": "R1"}'

    await pg.submit(chat, card_message["id"], {"kind": "note", "comment": "ok"})
    [reply] = await pg.wait_for_bot_messages(chat)
    assert reply["text"] == 'submitted: {"comment": "ok", "kind": "note"}'


async def test_installation_greets_and_custom_activity(rig: SmokeRig) -> None:
    """Installing in personal chat and in a team greets there; a custom (uninstall) activity is delivered."""
    pg = rig.pg
    chat = pg.config.personal_chat_id

    await pg.install(chat)
    [greeting] = await pg.wait_for_bot_messages(chat)
    assert greeting["text"] == GREETING

    await pg.install(pg.config.team_id)
    [greeting] = await pg.wait_for_bot_messages(pg.config.team_id)
    assert greeting["text"] == GREETING

    sent = await pg.custom_activity("uninstall", chat)
    assert sent["type"] == "installationUpdate" and sent["action"] == "remove"
    delivered = [e for e in pg.activities if e.direction == "to_bot" and e.activity.get("id") == sent["id"]]
    assert delivered and delivered[0].status == 201
