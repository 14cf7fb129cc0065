"""The Teams invokes of issue 15, at the edge: compose-box search and link previews, card refresh,
the evidence dialog and its typeahead.

:class:`SurfaceInvokes` answers them; :class:`bot.handler.TrackerBot` hands it every invoke it
:meth:`~SurfaceInvokes.handles`. Everything it says is built by pure code in ``dialogs``; writes go
through the conversation's own :class:`~dialogs.writes.Writes` and confirmation path.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from botbuilder.core import InvokeResponse, TurnContext

from bot.reference import turn_reference_json
from dialogs.cards import message_card
from dialogs.conversation import Conversation
from dialogs.evidence_form import DialogAnswer, closing_message, item_id_of, open_form, review, typeahead
from dialogs.items import show_item
from dialogs.links import link_answer
from dialogs.lists import run_list
from dialogs.queries import ListQuery
from dialogs.search import MAX_PAGE, page_bounds, search_items
from dialogs.surfaces import (
    SURFACE_VERBS,
    KeptResults,
    SurfaceVerb,
    compose_message,
    compose_result,
    item_card,
    refreshed,
    with_refresh,
)
from dialogs.types import Outcome, Turn
from storage.people import People
from storage.store import NotFound


class TrackerBot(Protocol):
    """What these invokes need from the activity handler (``bot.handler.TrackerBot``)."""

    public_url: str | None

    def turn_for(self, turn_context: TurnContext, *, is_invoke: bool = True) -> Turn: ...

    async def remember_outcome(self, turn_context: TurnContext, turn: Turn, outcome: Outcome) -> None: ...

    async def run_value(self, turn_context: TurnContext, value: dict[str, Any]) -> Outcome: ...


log = logging.getLogger(__name__)

SEARCH_COMMAND = "searchItems"
EVIDENCE_COMMAND = "addEvidence"
ADAPTIVE_RESPONSE = "application/vnd.microsoft.card.adaptive"
LINKED_KEPT = 5000  # people's personal chats remembered as linked (a force's staff who use the bot)
DigestRefresh = Callable[[dt.datetime, str | None, str, str | None], Awaitable[dict[str, Any]]]

_TASK = frozenset(
    {"task/fetch", "task/submit", "composeExtension/fetchTask", "composeExtension/submitAction"}
)
_OURS = frozenset({"composeExtension/query", "composeExtension/queryLink", "application/search"}) | _TASK


def _ok(body: dict[str, Any]) -> InvokeResponse:
    return InvokeResponse(status=200, body=body)


def _card_answer(card: dict[str, Any]) -> InvokeResponse:
    return _ok({"statusCode": 200, "type": ADAPTIVE_RESPONSE, "value": card})


def _sub(value: dict[str, Any], key: str) -> dict[str, Any]:
    """``value[key]`` when it is an object (client data: anything else counts as empty)."""
    found = value.get(key)
    return found if isinstance(found, dict) else {}


def _action(value: Any) -> dict[str, Any]:
    action = value.get("action") if isinstance(value, dict) else None
    return action if isinstance(action, dict) else {}


class SurfaceInvokes:
    """Answers the issue-15 invokes for one running bot."""

    def __init__(self, conversation: Conversation, *, digest_refresh: DigestRefresh | None = None) -> None:
        self._conversation = conversation
        self._deps = conversation.deps
        self._digest_refresh = digest_refresh
        self._people = People(conversation.deps.store)
        # (aad id, conversation) already linked by this process, oldest first; bounded, so a
        # long-lived instance holds the force's regular users, not everyone it ever heard from.
        self._linked: dict[tuple[str, str], None] = {}
        self._results = KeptResults()

    async def seen(self, turn_context: TurnContext) -> None:
        """Someone is in a personal chat with the bot (installed it, or said anything, "my items"
        included): remember where their chat is, so reminders can reach them. Once per process."""
        a = turn_context.activity
        user = a.from_property
        aad = getattr(user, "aad_object_id", None) if user else None
        conv = a.conversation
        if (
            not aad
            or conv is None
            or (conv.conversation_type or "personal") != "personal"
            or not a.service_url
        ):
            return
        key = (aad, conv.id)
        if key in self._linked:
            return
        try:
            ref = turn_reference_json(turn_context)
            await self._people.link(aad, user.name or "", conversation_id=conv.id, service_url=a.service_url,
                                    reference=ref, tenant_id=conv.tenant_id, channel_id=a.channel_id or "msteams")  # fmt: skip
            self._linked[key] = None
            if len(self._linked) > LINKED_KEPT:
                del self._linked[next(iter(self._linked))]  # linked again on their next message
        except Exception:  # linking is for later reminders: never fail the turn over it
            log.warning("could not link a person to their personal chat", exc_info=True)

    def handles(self, turn_context: TurnContext) -> bool:
        """Is this invoke one of ours (rather than the conversation's card buttons)?"""
        a = turn_context.activity
        if a.name in _OURS:
            return True
        return a.name == "adaptiveCard/action" and str(_action(a.value).get("verb") or "") in SURFACE_VERBS

    async def invoke(self, bot: TrackerBot, turn_context: TurnContext) -> InvokeResponse:
        """Answer one invoke (never a 500: a problem is said in the surface that asked)."""
        name = turn_context.activity.name or ""
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        if name == "composeExtension/query":
            return await self._query(bot, turn_context, value)
        if name == "composeExtension/queryLink":
            return await self._query_link(bot, turn_context, value)
        if name == "application/search":
            return await self._typeahead(bot, turn_context, value)
        if name in _TASK:
            return await self._task(bot, turn_context, name, value)
        return await self._refresh(bot, turn_context, value)

    # ---- compose box ------------------------------------------------------------------------------

    async def _query(
        self, bot: TrackerBot, turn_context: TurnContext, value: dict[str, Any]
    ) -> InvokeResponse:
        if value.get("commandId") not in (SEARCH_COMMAND, None):
            return _ok(compose_message("I don't know that command."))
        params = {p.get("name"): p.get("value") for p in value.get("parameters") or [] if isinstance(p, dict)}
        query = "" if params.get("initialRun") else str(params.get("query") or "")
        options = _sub(value, "queryOptions")
        skip, count = page_bounds(options.get("skip", 0), options.get("count", MAX_PAGE))
        turn = bot.turn_for(turn_context)
        page = search_items(self._deps.resolver, query, turn.user, turn.today, skip=skip, count=count)
        if not page.items and not skip:
            if page.mine:
                return _ok(
                    compose_message('You own no live items. Type to search, e.g. "vetting 34" or "CCU".')
                )
            return _ok(compose_message(f'No items match "{query[:80]}".'))
        reports = self._deps.model.reports
        return _ok(
            compose_result(
                [self._results.attachment(i, reports.get(i.report_id), turn.today) for i in page.items]
            )
        )

    async def _query_link(
        self, bot: TrackerBot, turn_context: TurnContext, value: dict[str, Any]
    ) -> InvokeResponse:
        turn = bot.turn_for(turn_context)
        attachment = link_answer(str(value.get("url") or ""), self._deps.model, self._deps.resolver, turn.today,
                                 own_base=bot.public_url)  # fmt: skip
        if attachment is None:
            return _ok({})  # not one of ours: Teams shows the link as it is
        return _ok(compose_result([attachment]))

    async def _typeahead(
        self, bot: TrackerBot, turn_context: TurnContext, value: dict[str, Any]
    ) -> InvokeResponse:
        turn = bot.turn_for(turn_context)
        options = _sub(value, "queryOptions")
        skip, top = page_bounds(options.get("skip", 0), options.get("top", 15))
        return _ok(typeahead(self._deps.resolver, str(value.get("queryText") or ""), turn, skip, top))

    # ---- the evidence dialog ------------------------------------------------------------------------

    async def _task(
        self, bot: TrackerBot, turn_context: TurnContext, name: str, value: dict[str, Any]
    ) -> InvokeResponse:
        data = dict(_sub(value, "data"))
        data.pop("msteams", None)
        if name in ("task/fetch", "composeExtension/fetchTask"):
            if name == "composeExtension/fetchTask" and value.get("commandId") not in (
                EVIDENCE_COMMAND,
                None,
            ):
                return _ok({"task": {"type": "message", "value": "I don't know that command."}})
            answer = await open_form(self._deps.store, self._deps.model, data)
            return _ok(answer.body())
        verb = str(data.get("verb") or "")
        if verb == SurfaceVerb.EVIDENCE_CONFIRM:
            return _ok(await self._confirm(bot, turn_context, data))
        turn = bot.turn_for(turn_context, is_invoke=True)
        answer = await review(self._deps.store, self._deps.model, self._deps.writes, data, turn)
        if answer.outcome is not None:
            await bot.remember_outcome(turn_context, turn, answer.outcome)
        return _ok(answer.body())

    async def _confirm(
        self, bot: TrackerBot, turn_context: TurnContext, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Yes or no on page 2: the conversation's own confirmation path (token, version, audit)."""
        value = {"verb": "confirm", "token": str(data.get("token") or ""),
                 "answer": "yes" if data.get("answer") == "yes" else "no"}  # fmt: skip
        outcome = await bot.run_value(turn_context, value)
        return DialogAnswer(message=closing_message(outcome)).body()

    # ---- cards that stay current ------------------------------------------------------------------

    async def _refresh(
        self, bot: TrackerBot, turn_context: TurnContext, value: dict[str, Any]
    ) -> InvokeResponse:
        action = _action(value)
        data = _sub(action, "data")
        verb = str(action.get("verb") or "")
        turn = bot.turn_for(turn_context, is_invoke=True)
        model = self._deps.model
        if verb == SurfaceVerb.REFRESH_ITEM:
            item_id = item_id_of(data)
            item = model.items.get(item_id) if item_id is not None else None
            if item is None:
                return _card_answer(_gone())
            if data.get("view") == "detail":
                out = await show_item(self._deps.store, model, item.id, turn)
                card = out.replies[0].card if out.replies and out.replies[0].card else _gone()
                return _card_answer(card)
            return _card_answer(item_card(item, model.reports.get(item.report_id), turn.today)[0])
        if verb == SurfaceVerb.REFRESH_LIST:
            q = ListQuery.from_data(data)
            out = run_list(q, model, turn.today)
            card = out.replies[0].card if out.replies and out.replies[0].card else _gone()
            return _card_answer(with_refresh(refreshed(card), SurfaceVerb.REFRESH_LIST, {**q.to_data()}))
        if verb in (SurfaceVerb.REFRESH_DIGEST, SurfaceVerb.DIGEST_MINE) and self._digest_refresh is not None:
            user = turn_context.activity.from_property
            try:
                card = await self._digest_refresh(
                    turn.now, turn.user.aad_id, (user.name if user else None) or "", user.id if user else None
                )
            except NotFound:
                card = _gone()
            return _card_answer(card)
        log.info("unknown surface verb %r", verb)
        return _card_answer(_gone())


def _gone() -> dict[str, Any]:
    return message_card("That item no longer exists.")[0]


def outcome_text(out: Outcome) -> str:
    """The text of an outcome's replies (for logs and dialogs)."""
    return " ".join(r.text for r in out.replies)
