"""The conversation: one turn in, an :class:`Outcome` out.

Order of business for a turn: a card button's data wins; then an answer to a question we asked
(which one? yes/no? what evidence?); then "more"; then the message is understood afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.resolve import Resolver
from bot.understand import _URL, Context, Parsed, clean, understand
from dialogs import items as item_dialogs
from dialogs.cards import message_card
from dialogs.help import greeting_outcome, help_outcome
from dialogs.lists import ListQuery, query_from, run_list
from dialogs.policy import Policy
from dialogs.subscription import subscribe, unsubscribe
from dialogs.summary import summary_outcome
from dialogs.types import Outcome, Turn
from dialogs.writes import RateLimit, Writes
from storage.readmodel import ReadModel
from storage.store import NotFound, Store
from storage.subscriptions import Subscriptions
from storage.views import Actor

log = logging.getLogger(__name__)

YES = re.compile(r"^(?:y|yes|yep|yeah|yup|confirm(?:ed)?|ok|okay|go ahead|do it|sure|correct|please do|that's right)\b")
NO = re.compile(r"^(?:n|no|nope|nah|cancel|stop|never ?mind|abort|don'?t|forget it)\b")
MORE = re.compile(r"^(?:more|next|show more|next page|and more|keep going|continue)$")
CHOICE = re.compile(r"^(?:#|no\.? ?|number |option )?(\d{1,2})$|^(?:the )?(first|second|third|fourth|fifth|sixth)(?: one)?$")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}

DigestFn = Callable[[dt.datetime], Awaitable[Outcome]]


class Conversation:
    """Routes a turn to the dialog that handles it. All dependencies are injected."""

    def __init__(
        self,
        *,
        store: Store,
        model: ReadModel,
        resolver: Resolver,
        policy: Policy,
        subscriptions: Subscriptions,
        rate: RateLimit | None = None,
        digest: DigestFn | None = None,
        schedule_label: str = "Mondays at 09:00",
    ) -> None:
        self.store, self.model, self.resolver, self.policy = store, model, resolver, policy
        self.subs = subscriptions
        self.writes = Writes(store, model, policy, rate or RateLimit())
        self._digest = digest
        self.schedule_label = schedule_label

    def parse(self, text: str, state: dict[str, Any], user: Actor | None = None, today: dt.date | None = None) -> Parsed:
        """What ``text`` means in this conversation, said by ``user``."""
        ctx = Context(
            last_report_key=state.get("last_report"),
            user_name=user.name if user else None,
            user_aad_id=user.aad_id if user else None,
        )
        return understand(text, ctx, self.resolver, today or dt.date.today())

    async def handle(self, turn: Turn, state: dict[str, Any]) -> Outcome:
        """Answer one turn. ``state`` is this conversation's remembered state (read-only here)."""
        pending = _pending_for(state, turn)
        if turn.value:
            return await self._on_action(turn, state, pending)
        if pending:
            answered = await self._on_pending(turn, state, pending)
            if answered is not None:
                return answered
        if MORE.match(clean(turn.text)) and state.get("last_list"):
            return run_list(ListQuery.from_data(state["last_list"]), self.model, turn.today)
        parsed = self.parse(turn.text, state, turn.user, today=turn.today)
        out = await self.dispatch(parsed, turn, state)
        if pending and (out.state is None or "pending" not in out.state):
            out.also(pending=None)  # a new request replaces an unanswered question
        return out

    # ---- intents -------------------------------------------------------------------------------

    async def dispatch(self, parsed: Parsed, turn: Turn, state: dict[str, Any]) -> Outcome:
        intent = parsed.intent
        if intent == "help":
            return help_outcome(turn.user.name)
        if intent == "greeting":
            return greeting_outcome(turn.user.name)
        if intent == "subscribe":
            return await subscribe(self.subs, self.policy, turn, self.schedule_label)
        if intent == "unsubscribe":
            return await unsubscribe(self.subs, self.policy, turn)
        if intent == "digest_now":
            if self._digest is None:
                return summary_outcome(self.model, turn.today)
            return await self._digest(turn.now)
        if intent == "unknown":
            tips = "; ".join(f'"{s}"' for s in parsed.suggestions[:3])
            return Outcome.say(f"Sorry, I didn't understand that. Did you mean: {tips}? Say \"help\" for everything I can do.")
        if intent in ("outstanding", "overdue", "due"):
            if parsed.needs_clarification and parsed.report_candidates:
                return item_dialogs.ask_which_report(parsed, {"intent": intent, "query": query_from(parsed, turn).to_data(), "user": turn.user_key, "expires": _expiry(turn)})
            return run_list(query_from(parsed, turn), self.model, turn.today)
        if intent == "summary":
            return summary_outcome(self.model, turn.today, parsed.report.key if parsed.report else None, parsed.kind)
        # Everything else is about one item.
        if parsed.needs_clarification:
            fields = {"intent": intent, "evidence": parsed.evidence, "links": list(parsed.links), **_owner(parsed, turn),
                      "user": turn.user_key, "origin_activity": turn.activity_id, "expires": _expiry(turn)}  # fmt: skip
            return item_dialogs.ask_which(parsed, self.model, fields)
        if parsed.item is None:
            if intent == "show" and parsed.report and not parsed.number:
                q = ListQuery(query="outstanding", report=parsed.report.key)
                return run_list(q, self.model, turn.today)
            return item_dialogs.not_found(parsed, self.model)
        return await self.act(intent, parsed.item.id, turn, {"evidence": parsed.evidence, "links": parsed.links, **_owner(parsed, turn)})

    async def act(self, intent: str, item_id: int, turn: Turn, fields: dict[str, Any]) -> Outcome:
        """Do ``intent`` to a known item (resolved, chosen, or clicked)."""
        item = self.model.items.get(item_id)
        if item is None:
            try:
                item = await self.store.get_item(item_id)
            except NotFound:
                return Outcome.say("That item no longer exists.")
        if intent == "show":
            return await item_dialogs.show_item(self.store, self.model, item_id, turn)
        if intent == "owner":
            return item_dialogs.owner_outcome(item, self.model)
        # Writes read the item from the store, not the cache: the version must be the real one.
        item = await self.store.get_item(item_id)
        out = await self.writes.propose(intent, item, turn, fields)
        return out.also(last_report=self.model.reports[item.report_id].key) if item.report_id in self.model.reports else out

    # ---- answers to our questions -----------------------------------------------------------------

    async def _on_pending(self, turn: Turn, state: dict[str, Any], pending: dict[str, Any]) -> Outcome | None:
        said = clean(turn.text)
        stage = pending.get("stage")
        if stage in ("need_text", "need_owner"):
            if NO.match(said) and len(said) < 20:
                return Outcome.say("OK, nothing changed.").also(pending=None)
            raw = " ".join(turn.text.split())
            if not raw:
                return None
            if stage == "need_text":
                links = list(dict.fromkeys([*pending.get("links", []), *(m.group(0) for m in _URL.finditer(raw))]))
                pending = {**pending, "evidence": raw, "links": links}
            else:
                pending = {**pending, "owner": raw[:200]}
            return await self._confirm_pending(pending)
        if stage == "confirm":
            if YES.match(said):
                return await self.writes.commit(pending, turn)
            if NO.match(said):
                return Outcome.say("OK, nothing changed.").also(pending=None)
            return None
        if stage == "choose":
            m = CHOICE.match(said)
            if m:
                n = int(m.group(1)) if m.group(1) else ORDINALS[m.group(2)]
                return await self._choose(turn, state, pending, n=n)
            if NO.match(said) and len(said) < 20:
                return Outcome.say("OK.").also(pending=None)
        return None

    async def _confirm_pending(self, pending: dict[str, Any]) -> Outcome:
        try:
            item = await self.store.get_item(int(pending["item_id"]))
        except NotFound:
            return Outcome.say("That item no longer exists.").also(pending=None)
        return self.writes.confirm(pending, item)

    async def _choose(self, turn: Turn, state: dict[str, Any], pending: dict[str, Any], *, n: int | None = None,
                      item_id: int | None = None, report: str | None = None) -> Outcome:  # fmt: skip
        options, reports = pending.get("options") or [], pending.get("reports") or []
        if n is not None:
            if options and 1 <= n <= len(options):
                item_id = options[n - 1]
            elif reports and 1 <= n <= len(reports):
                report = reports[n - 1]
            else:
                return Outcome.say(f"Please pick a number from 1 to {len(options) or len(reports)}, or say 'cancel'.")
        if report is not None and report in reports:
            q = ListQuery.from_data({**pending.get("query", {}), "report": report, "page": 0})
            return run_list(q, self.model, turn.today).also(pending=None)
        if item_id is not None and item_id in options:
            intent = pending.get("intent", "show")
            out = await self.act(intent, item_id, turn, pending)
            if out.state is None or "pending" not in out.state:
                out.also(pending=None)
            return out
        return Outcome.say("That choice has expired: please ask again.").also(pending=None)

    # ---- card buttons ----------------------------------------------------------------------------

    async def _on_action(self, turn: Turn, state: dict[str, Any], pending: dict[str, Any] | None) -> Outcome:
        data = turn.value or {}
        verb = str(data.get("verb") or data.get("action") or "")
        item_id = _int(data.get("item_id"))
        if verb == "show" and item_id is not None:
            return await self.act("show", item_id, turn, {})
        if verb in ("start_evidence", "start_update") and item_id is not None:
            intent = "mark_evidenced" if verb == "start_evidence" else "add_update"
            return await self.act(intent, item_id, turn, {})
        if verb in ("more", "list"):
            q = ListQuery.from_data(data if verb == "more" else {"query": data.get("query", "outstanding")})
            return run_list(q, self.model, turn.today)
        if verb == "choose":
            if not pending or pending.get("stage") != "choose" or pending.get("token") != data.get("token"):
                return Outcome.say("That choice has expired: please ask again.")
            return await self._choose(turn, state, pending, item_id=item_id, report=data.get("report"))
        if verb == "confirm":
            token = str(data.get("token") or "")
            if pending and pending.get("stage") == "confirm" and pending.get("token") == token:
                if str(data.get("answer")) == "yes":
                    return await self.writes.commit(pending, turn)
                return _answered("OK, nothing changed.", turn).also(pending=None)
            if token and await self.store.key_used(f"confirm:{token}"):
                # A second click on a button already acted on: the card is updated in place for
                # Action.Execute; for Action.Submit the first click's reply already said it.
                return _answered("Already done.", turn) if turn.is_invoke else Outcome()
            return _answered("That question has expired: nothing was changed. Please ask again.", turn)
        return Outcome.say("Sorry, I don't know that button. Say \"help\" for what I can do.")


def _owner(parsed: Parsed, turn: Turn) -> dict[str, Any]:
    """Who an "assign" names: "assign rec 35 to me" means the person speaking."""
    if parsed.mine and parsed.intent == "assign":
        return {"owner": turn.user.name, "owner_aad_id": turn.user.aad_id}
    return {"owner": parsed.owner, "owner_aad_id": None}


def _answered(message: str, turn: Turn) -> Outcome:
    card, fallback = message_card(message)
    return Outcome(card_update=card) if turn.is_invoke else Outcome.say(fallback)


def _pending_for(state: dict[str, Any], turn: Turn) -> dict[str, Any] | None:
    pending = (state.get("pending") or {}).get(turn.user_key)
    if not pending:
        return None
    try:
        if dt.datetime.fromisoformat(pending["expires"]) < turn.now:
            return None
    except (KeyError, ValueError, TypeError):
        return None
    return pending


def _expiry(turn: Turn) -> str:
    return (turn.now + dt.timedelta(minutes=30)).isoformat()


def _int(value: Any) -> int | None:
    """An id from button data (client-supplied): a whole number a database column can hold, or None."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**31) < number < 2**31 else None


def apply_state(state: dict[str, Any], updates: dict[str, Any] | None, user_key: str) -> dict[str, Any]:
    """Fold an outcome's state updates into the conversation state (pending is per person)."""
    if not updates:
        return state
    new = dict(state)
    for key, value in updates.items():
        if key == "pending":
            slots = dict(new.get("pending") or {})
            if value is None:
                slots.pop(user_key, None)
            else:
                slots[user_key] = value
            new["pending"] = slots
        elif value is None:
            new.pop(key, None)
        else:
            new[key] = value
    return new
