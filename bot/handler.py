"""The Teams activity handler: the edge where activities become turns and outcomes become messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.invokes import SurfaceInvokes
from bot.memory import ConversationMemory
from bot.messages import reply_activity
from bot.outbox import Replies
from bot.reference import turn_reference_json
from bot.turn import INBOUND_KEY
from dialogs.conversation import Conversation
from dialogs.help import welcome_reply
from dialogs.state import Memory, StateChange
from dialogs.types import Outcome, Reply, Turn
from storage.store import Store
from storage.subscriptions import Subscriptions
from storage.views import Actor

log = logging.getLogger(__name__)

_AT_TAG = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]{1,200}>")
Clock = Callable[[], dt.datetime]


def mentions_bot(activity: Activity) -> bool:
    """Does this message @mention the bot (Teams 'mention' entity naming our id)?"""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if getattr(entity, "type", None) == "mention" or props.get("type") == "mention":
            mentioned = props.get("mentioned") or {}
            if isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
                return True
    return False


def message_text(activity: Activity) -> str:
    """The message without the bot's @mention and markup."""
    text = activity.text or ""
    text = _AT_TAG.sub(" ", text)
    text = _HTML_TAG.sub(" ", text).replace("&nbsp;", " ").replace("&amp;", "&")
    return " ".join(text.split())


def user_key(activity: Activity) -> str:
    """Whose turn this is, as :attr:`dialogs.types.Turn.user_key` names them."""
    user = activity.from_property
    return (getattr(user, "aad_object_id", None) or None) or (user.name if user else None) or "Unknown"


def conversation_type(activity: Activity) -> str:
    conv = activity.conversation
    return (conv.conversation_type if conv and conv.conversation_type else "personal") or "personal"


def team_id(activity: Activity) -> str | None:
    cd = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = cd.get("team") if isinstance(cd, dict) else None
    return team.get("id") if isinstance(team, dict) else None


class _Typing:
    """ "typing…" after ``delay`` unless cancelled first: a timer, and a task only if it fires (most
    answers are faster than the delay; a task per message that sleeps and is cancelled cost more)."""

    def __init__(self, delay: float, send: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._task = asyncio.create_task(self._send())

    def cancel(self) -> None:
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()


class TrackerBot(TeamsActivityHandler):
    """Turns Teams activities into :class:`Turn` s for the :class:`Conversation` and sends the outcome."""

    def __init__(
        self,
        conversation: Conversation,
        memory: ConversationMemory,
        store: Store,
        subscriptions: Subscriptions,
        *,
        clock: Clock,
        today: Callable[[], dt.date],
        typing_delay: float = 0.25,
        dedupe: bool = True,
        surfaces: SurfaceInvokes | None = None,
        public_url: str | None = None,
        replies: Replies | None = None,
    ) -> None:
        self._conversation = conversation
        self._mem = memory
        self._replies = replies
        self._store = store
        self._subs = subscriptions
        self._clock = clock
        self._today = today
        self._typing_delay = typing_delay
        self._dedupe = dedupe
        self._surfaces = surfaces  # issue 15: compose box, link previews, refresh, the evidence dialog
        self.public_url = public_url

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._mem.save(turn_context)  # compare-and-set, per person: see bot.memory

    # ---- messages and card actions --------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        ctype = conversation_type(activity)
        value = activity.value if isinstance(activity.value, dict) else None
        if ctype in ("channel", "groupChat") and not value and not mentions_bot(activity):
            return  # in shared conversations only @mentions are for us
        if not await self._first_delivery(turn_context):
            return
        typing: _Typing | None = None
        if ctype == "personal" and self._typing_delay <= 0:
            await self._typing_after(turn_context, 0)  # "at once" means before the answer, not racing it
        elif ctype == "personal":
            typing = _Typing(self._typing_delay, lambda: self._typing_after(turn_context, 0))
        try:
            try:
                outcome = await self._run(turn_context, message_text(activity), value, is_invoke=False)
            finally:
                if typing is not None:
                    typing.cancel()
            card = [Reply("", outcome.card_update)] if outcome.card_update is not None else []
            await self._send(turn_context, [*outcome.replies, *card])
        finally:
            # Link the person to this personal chat for later reminders once the answer is on its
            # way, so a first message does not wait for it ("remind me" links the chat itself).
            if self._surfaces is not None:
                await self._surfaces.seen(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if self._surfaces is not None and self._surfaces.handles(turn_context):
            return await self._surfaces.invoke(self, turn_context)
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        raw_action = value.get("action")
        action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
        data = dict(action["data"]) if isinstance(action.get("data"), dict) else {}
        data.setdefault("verb", action.get("verb"))
        outcome = await self._run(turn_context, "", data, is_invoke=True)
        await self._send(turn_context, outcome.replies)
        if outcome.card_update is not None:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.card.adaptive",
                "value": outcome.card_update,
            }
        else:
            body = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "Done"}
        return InvokeResponse(status=200, body=body)

    # ---- for bot.invokes (issue 15) -----------------------------------------------------------

    def turn_for(self, turn_context: TurnContext, *, is_invoke: bool = True) -> Turn:
        """The :class:`Turn` for an activity that carries no message."""
        return self._turn(turn_context, "", None, is_invoke=is_invoke)

    async def remember_outcome(self, turn_context: TurnContext, turn: Turn, outcome: Outcome) -> None:
        """Keep what ``outcome`` says to remember (a pending question), as a message turn would."""
        await self._remember(turn_context, await self._memory(turn_context), outcome.state, turn.user_key)

    async def run_value(self, turn_context: TurnContext, value: dict[str, Any]) -> Outcome:
        """Run card data through the conversation as a button click (the confirmation path)."""
        return await self._run(turn_context, "", value, is_invoke=True)

    async def _memory(self, turn_context: TurnContext) -> Memory:
        return await self._mem.memory(turn_context, user_key(turn_context.activity))

    async def _remember(
        self, turn_context: TurnContext, memory: Memory, change: StateChange | None, user_key: str
    ) -> None:
        self._mem.remember(turn_context, change, user_key)

    async def _run(
        self, turn_context: TurnContext, text: str, value: dict[str, Any] | None, *, is_invoke: bool
    ) -> Outcome:
        memory = await self._memory(turn_context)
        turn = self._turn(turn_context, text, value, is_invoke=is_invoke)
        outcome = await self._conversation.handle(turn, memory)
        await self._remember(turn_context, memory, outcome.state, turn.user_key)
        return outcome

    def _turn(
        self, turn_context: TurnContext, text: str, value: dict[str, Any] | None, *, is_invoke: bool
    ) -> Turn:
        a = turn_context.activity
        user = a.from_property or ChannelAccount(id="unknown", name="Unknown")
        now = self._clock()
        return Turn(
            text=text, value=value, is_invoke=is_invoke, now=now, today=self._today(),
            user=Actor(user.name or "Unknown", getattr(user, "aad_object_id", None) or None),
            conversation_id=a.conversation.id if a.conversation else "unknown", activity_id=a.id,
            conversation_type=conversation_type(a), make_reference=lambda: turn_reference_json(turn_context), service_url=a.service_url,
            tenant_id=(a.conversation.tenant_id if a.conversation else None), team_id=team_id(a),
            channel_id=a.channel_id or "msteams",
        )  # fmt: skip

    async def _first_delivery(self, turn_context: TurnContext) -> bool:
        """Teams re-sends an activity it thinks timed out: act on each activity id once."""
        activity = turn_context.activity
        if not self._dedupe or not activity.id:
            return True
        key = f"in:{activity.channel_id}:{activity.conversation.id if activity.conversation else ''}:{activity.id}"
        turn_context.turn_state[INBOUND_KEY] = key
        if await self._mem.claim_and_load(turn_context, key, user_key(activity)):
            return True
        if self._replies is not None and await self._replies.replay(turn_context):
            return False  # its effect is committed: the same replies went out again, nothing else
        log.info("duplicate delivery ignored activity=%s", activity.id)
        return False

    async def _typing_after(self, turn_context: TurnContext, delay: float) -> None:
        """Show "typing…" only when the answer is not already on its way."""
        try:
            if delay:
                await asyncio.sleep(delay)
            await turn_context.send_activity(Activity(type=ActivityTypes.typing))
        except asyncio.CancelledError:
            raise
        except Exception:  # typing is cosmetic: never fail a turn over it
            log.debug("typing indicator not sent", exc_info=True)

    async def _send(self, turn_context: TurnContext, replies: list[Reply]) -> None:
        if self._replies is not None:  # kept in the outbox when they must survive (bot.outbox)
            await self._replies.send(turn_context, [reply_activity(r) for r in replies])
            return
        for reply in replies:
            await turn_context.send_activity(reply_activity(reply))

    # ---- installation and membership --------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        a = turn_context.activity
        bot_id = a.recipient.id if a.recipient else None
        if any(m.id == bot_id for m in a.members_added or []):
            await self._installed(turn_context)
        if any(m.id == bot_id for m in a.members_removed or []):
            await self._removed(turn_context, "bot removed from the conversation")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._installed(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._removed(turn_context, "app uninstalled")

    async def _installed(self, turn_context: TurnContext) -> None:
        """Welcome once per conversation; in a team, start the weekly digest here."""
        a = turn_context.activity
        in_team = conversation_type(a) == "channel" or team_id(a) is not None
        if in_team and a.conversation and a.service_url:
            user = a.from_property
            await self._subs.subscribe(
                conversation_id=a.conversation.id.split(";")[0], service_url=a.service_url, reference=turn_reference_json(turn_context),
                tenant_id=a.conversation.tenant_id, channel_id=a.channel_id or "msteams", team_id=team_id(a),
                conversation_type="channel", created_by=(user.name if user else None) or "installation",
            )  # fmt: skip
        if self._surfaces is not None:
            await self._surfaces.seen(turn_context)
        memory = await self._memory(turn_context)
        if memory.welcomed:
            return
        self._mem.remember(turn_context, StateChange(welcomed=True), user_key(a))
        # Teams sends installationUpdate and conversationUpdate for one installation at the same moment:
        # both turns read the state above before either saves it, so the database picks the one that greets.
        conversation = a.conversation.id.split(";")[0] if a.conversation else ""
        if not await self._store.claim_key(f"welcome:{a.channel_id}:{conversation}"[:400]):
            return
        await self._send(turn_context, [welcome_reply(in_team, self._conversation.schedule_label)])

    async def _removed(self, turn_context: TurnContext, reason: str) -> None:
        a = turn_context.activity
        tid = team_id(a)
        if tid:
            n = await self._subs.deactivate_team(tid, reason)
            log.info("digest stopped for team=%s subscriptions=%d reason=%s", tid, n, reason)
        if a.conversation:
            await self._subs.deactivate(a.conversation.id.split(";")[0], reason)
