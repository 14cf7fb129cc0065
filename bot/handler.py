"""The Teams activity handler: the edge where activities become turns and outcomes become messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.invokes import SurfaceInvokes
from bot.messages import reply_activity
from bot.state import SqlConversationState, StateConflict
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
_STATE_UPDATES = "tracker.state_updates"  # this turn's state changes, kept to merge on a conflict


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


def conversation_type(activity: Activity) -> str:
    conv = activity.conversation
    return (conv.conversation_type if conv and conv.conversation_type else "personal") or "personal"


def team_id(activity: Activity) -> str | None:
    cd = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = cd.get("team") if isinstance(cd, dict) else None
    return team.get("id") if isinstance(team, dict) else None


class TrackerBot(TeamsActivityHandler):
    """Turns Teams activities into :class:`Turn` s for the :class:`Conversation` and sends the outcome."""

    def __init__(
        self,
        conversation: Conversation,
        conversation_state: SqlConversationState,
        store: Store,
        subscriptions: Subscriptions,
        *,
        clock: Clock,
        today: Callable[[], dt.date],
        typing_delay: float = 0.25,
        dedupe: bool = True,
        surfaces: SurfaceInvokes | None = None,
        public_url: str | None = None,
    ) -> None:
        self._conversation = conversation
        self._state = conversation_state
        self._accessor = conversation_state.create_property("tracker")
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
        try:
            await self._state.save_changes(turn_context)
        except StateConflict:
            await self._merge_state(turn_context)

    async def _merge_state(self, turn_context: TurnContext) -> None:
        """Another turn in this conversation saved first (a double click, two people at once, a
        re-delivery to another instance): apply this turn's updates to what it saved, rather
        than fail a turn whose reply has already gone out. Pending questions are per person, so
        the two turns' updates do not overwrite each other."""
        updates = turn_context.turn_state.get(_STATE_UPDATES)
        if not updates:
            log.info("state conflict with nothing to save")
            return
        changes, user_key = updates
        await self._state.load(turn_context, force=True)
        memory = await self._memory(turn_context)
        await self._accessor.set(turn_context, memory.apply(changes, user_key).to_json())
        try:
            await self._state.save_changes(turn_context)
        except StateConflict:
            log.warning("conversation state changed twice meanwhile: this turn's state update is dropped")

    # ---- messages and card actions --------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        ctype = conversation_type(activity)
        value = activity.value if isinstance(activity.value, dict) else None
        if ctype in ("channel", "groupChat") and not value and not mentions_bot(activity):
            return  # in shared conversations only @mentions are for us
        if not await self._first_delivery(turn_context):
            return
        if self._surfaces is not None:
            await self._surfaces.seen(turn_context)  # link the person to this personal chat (reminders)
        typing = None
        if ctype == "personal" and self._typing_delay <= 0:
            await self._typing_after(turn_context, 0)  # "at once" means before the answer, not racing it
        elif ctype == "personal":
            typing = asyncio.create_task(self._typing_after(turn_context, self._typing_delay))
        try:
            outcome = await self._run(turn_context, message_text(activity), value, is_invoke=False)
        finally:
            if typing is not None:
                typing.cancel()
        await self._send(turn_context, outcome.replies)
        if outcome.card_update is not None:
            await self._send(turn_context, [Reply("", outcome.card_update)])

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
        return Memory.from_json(await self._accessor.get(turn_context, dict))

    async def _remember(self, turn_context: TurnContext, memory: Memory, change: StateChange | None, user_key: str) -> None:
        new = memory.apply(change, user_key)
        if new is not memory:
            await self._accessor.set(turn_context, new.to_json())
            turn_context.turn_state[_STATE_UPDATES] = (change, user_key)

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
        ref = TurnContext.get_conversation_reference(a)
        now = self._clock()
        return Turn(
            text=text, value=value, is_invoke=is_invoke, now=now, today=self._today(),
            user=Actor(user.name or "Unknown", getattr(user, "aad_object_id", None) or None),
            conversation_id=a.conversation.id if a.conversation else "unknown", activity_id=a.id,
            conversation_type=conversation_type(a), make_reference=ref.serialize, service_url=a.service_url,
            tenant_id=(a.conversation.tenant_id if a.conversation else None), team_id=team_id(a),
            channel_id=a.channel_id or "msteams",
        )  # fmt: skip

    async def _first_delivery(self, turn_context: TurnContext) -> bool:
        """Teams re-sends an activity it thinks timed out: act on each activity id once."""
        activity = turn_context.activity
        if not self._dedupe or not activity.id:
            return True
        key = f"in:{activity.channel_id}:{activity.conversation.id if activity.conversation else ''}:{activity.id}"
        if await self._state.claim_and_load(turn_context, key):
            return True
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
            ref = TurnContext.get_conversation_reference(a)
            user = a.from_property
            await self._subs.subscribe(
                conversation_id=a.conversation.id.split(";")[0], service_url=a.service_url, reference=ref.serialize(),
                tenant_id=a.conversation.tenant_id, channel_id=a.channel_id or "msteams", team_id=team_id(a),
                conversation_type="channel", created_by=(user.name if user else None) or "installation",
            )  # fmt: skip
        if self._surfaces is not None:
            await self._surfaces.seen(turn_context)
        memory = await self._memory(turn_context)
        if memory.welcomed:
            return
        await self._accessor.set(turn_context, memory.apply(StateChange(welcomed=True), "").to_json())
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
