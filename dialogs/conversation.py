"""The conversation: one turn in, an :class:`Outcome` out.

Order of business for a turn: a card button's data wins; then an answer to a question we asked
(which one? yes/no? what evidence?); then "more"; then the message is understood afresh and handed
to its route's handler. Dispatch is two tables: intents (``dialogs.routes``) and card verbs (here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

from dialogs.cards import message_card
from dialogs.committee.meetings import commit_meeting
from dialogs.deps import Deps, DigestFn
from dialogs.items import act
from dialogs.language import URL, Context, Intent, Parsed, Resolver, clean, understand
from dialogs.lists import run_list
from dialogs.policy import Policy
from dialogs.queries import ListQuery
from dialogs.routes import ROUTES
from dialogs.state import Memory, Pending, Stage
from dialogs.types import Outcome, Reply, Turn, Verb
from dialogs.writes import MAX_OWNER_CHARS, RateLimit, WriteFields, Writes
from storage.readmodel import ReadModel
from storage.store import NotFound, Store
from storage.subscriptions import Subscriptions
from storage.views import Actor

log = logging.getLogger(__name__)

YES = re.compile(
    r"^(?:y|yes|yep|yeah|yup|confirm(?:ed)?|ok|okay|go ahead|do it|sure|correct|please do|that's right)\b"
)
NO = re.compile(r"^(?:n|no|nope|nah|cancel|stop|never ?mind|abort|don'?t|forget it)\b")
MORE = re.compile(r"^(?:more|next|show more|next page|and more|keep going|continue)$")
CHOICE = re.compile(
    r"^(?:#|no\.? ?|number |option )?(\d{1,2})$|^(?:the )?(first|second|third|fourth|fifth|sixth)(?: one)?$"
)
_COMMITTEE = re.compile(r"(?i)\b(?:jac|committee|meeting|board)\b")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}

ActionHandler = Callable[[Turn, Memory, Pending | None, dict[str, Any]], Awaitable[Outcome]]


def _reminder(pending: Pending) -> str:
    """The line that keeps an open question in view after an unrelated message."""
    asked = f' ("{pending.prompt}")' if pending.prompt else ""
    if pending.stage is Stage.CONFIRM:
        return f'My earlier question{asked} is still open: say "yes" to go ahead or "no" to leave it.'
    if pending.stage is Stage.CHOOSE:
        return f'My earlier question{asked} is still open: pick one by number, or say "no" to drop it.'
    return f'My earlier question{asked} is still open: say "no" to drop it.'


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
        tz: dt.tzinfo = dt.UTC,
    ) -> None:
        writes = Writes(store, model, policy, rate or RateLimit())
        self.deps = Deps(store, model, resolver, policy, subscriptions, writes, schedule_label, digest, tz)
        self._intents = MappingProxyType({r.intent: r.handler for r in ROUTES})
        self._verbs: Mapping[Verb, ActionHandler] = MappingProxyType({
            Verb.SHOW: self._show_clicked,
            Verb.START_EVIDENCE: self._start_clicked,
            Verb.START_UPDATE: self._start_clicked,
            Verb.MORE: self._list_clicked,
            Verb.LIST: self._list_clicked,
            Verb.CHOOSE: self._choose_clicked,
            Verb.CONFIRM: self._confirm_clicked,
        })  # fmt: skip

    @property
    def schedule_label(self) -> str:
        return self.deps.schedule_label

    def parse(
        self,
        text: str,
        memory: Memory,
        user: Actor | None = None,
        today: dt.date | None = None,
        last_meeting: dt.date | None = None,
    ) -> Parsed:
        """What ``text`` means in this conversation, said by ``user``."""
        ctx = Context(
            last_report_key=memory.last_report, user_name=user.name if user else None, last_item_id=memory.last_item,
            last_items=memory.last_shown, last_query=memory.last_query, last_meeting=last_meeting,
        )  # fmt: skip
        return understand(text, ctx, self.deps.resolver, today or dt.date.today())

    async def handle(self, turn: Turn, memory: Memory) -> Outcome:
        """Answer one turn. ``memory`` is this conversation's remembered state (read-only here)."""
        pending = memory.pending_for(turn.user_key, turn.now)
        if turn.value:
            return await self._on_action(turn, memory, pending)
        if pending:
            answered = await self._on_pending(turn, pending)
            if answered is not None:
                return answered
        if MORE.match(clean(turn.text)) and memory.last_list:
            return run_list(memory.last_list, self.deps.model, turn.today)
        meeting = await self._last_meeting(turn) if _COMMITTEE.search(turn.text[:2000]) else None
        parsed = self.parse(turn.text, memory, turn.user, today=turn.today, last_meeting=meeting)
        out = await self.dispatch(parsed, turn)
        if pending and not out.sets_pending():
            # An unrelated message does not cancel a question still open: answer it, then remind.
            out.replies.append(Reply(_reminder(pending)))
        return out

    async def _last_meeting(self, turn: Turn) -> dt.date | None:
        meeting = await self.deps.store.last_meeting_before(turn.today)
        return meeting.met_on if meeting else None

    async def dispatch(self, parsed: Parsed, turn: Turn) -> Outcome:
        """Hand an understood request to its route's handler."""
        return await self._intents[parsed.intent](self.deps, parsed, turn)

    # ---- answers to our questions -----------------------------------------------------------------

    async def _on_pending(self, turn: Turn, pending: Pending) -> Outcome | None:
        said = clean(turn.text)
        if pending.stage in (Stage.NEED_TEXT, Stage.NEED_OWNER):
            if NO.match(said) and len(said) < 20:
                return Outcome.say("OK, nothing changed.").also(pending=None)
            raw = " ".join(turn.text.split())
            if not raw:
                return None
            if pending.stage is Stage.NEED_TEXT:
                links = tuple(dict.fromkeys([*pending.links, *(m.group(0) for m in URL.finditer(raw))]))
                return await self._confirm_pending(dataclasses.replace(pending, evidence=raw, links=links))
            if len(raw) > MAX_OWNER_CHARS:  # refused, not cut short: the question stays open
                return Outcome.say(f"That name is {len(raw)} characters long; at most {MAX_OWNER_CHARS} fit. "
                                   "Nothing was written: reply with a shorter name, or 'cancel'.")  # fmt: skip
            return await self._confirm_pending(dataclasses.replace(pending, owner=raw))
        if pending.stage is Stage.CONFIRM:
            if YES.match(said):
                return await self._commit(pending, turn)
            if NO.match(said):
                return Outcome.say(await self.deps.writes.decline(pending)).also(pending=None)
            return None
        if pending.stage is Stage.CHOOSE:
            m = CHOICE.match(said)
            if m:
                n = int(m.group(1)) if m.group(1) else ORDINALS[m.group(2)]
                return await self._choose(turn, pending, n=n)
            if NO.match(said) and len(said) < 20:
                return Outcome.say("OK.").also(pending=None)
        return None

    async def _commit(self, pending: Pending, turn: Turn) -> Outcome:
        """The person said yes: carry out what was proposed."""
        if pending.intent is Intent.RECORD_MEETING:
            return await commit_meeting(self.deps.store, self.deps.policy, pending, turn)
        if pending.intent is Intent.LINK_OWNER:
            return await self.deps.writes.commit_link(pending, turn)
        return await self.deps.writes.commit(pending, turn)

    async def _confirm_pending(self, pending: Pending) -> Outcome:
        try:
            item = await self.deps.store.get_item(pending.item_id or 0)
        except NotFound:
            return Outcome.say("That item no longer exists.").also(pending=None)
        return self.deps.writes.confirm(pending, item)

    async def _choose(
        self, turn: Turn, pending: Pending, *, n: int | None = None, item_id: int | None = None,
        report: str | None = None,
    ) -> Outcome:  # fmt: skip
        options, reports = pending.options, pending.reports
        if n is not None:
            if options and 1 <= n <= len(options):
                item_id = options[n - 1]
            elif reports and 1 <= n <= len(reports):
                report = reports[n - 1]
            else:
                return Outcome.say(
                    f"Please pick a number from 1 to {len(options) or len(reports)}, or say 'cancel'."
                )
        if report is not None and report in reports:
            base = pending.query or ListQuery(query="outstanding")
            q = ListQuery.from_data({**base.to_data(), "report": report, "page": 0})
            return run_list(q, self.deps.model, turn.today).also(pending=None)
        if item_id is not None and item_id in options:
            out = await act(self.deps, pending.intent, item_id, turn, WriteFields.of(pending))
            if not out.sets_pending():
                out.also(pending=None)
            return out
        return Outcome.say("That choice has expired: please ask again.").also(pending=None)

    # ---- card buttons ----------------------------------------------------------------------------

    async def _on_action(self, turn: Turn, memory: Memory, pending: Pending | None) -> Outcome:
        data = turn.value or {}
        try:
            verb = Verb(str(data.get("verb") or data.get("action") or ""))
        except ValueError:
            return _unknown_button()
        return await self._verbs[verb](turn, memory, pending, data)

    async def _show_clicked(
        self, turn: Turn, memory: Memory, pending: Pending | None, data: dict[str, Any]
    ) -> Outcome:
        item_id = _int(data.get("item_id"))
        if item_id is None:
            return _unknown_button()
        return await act(self.deps, Intent.SHOW, item_id, turn, WriteFields())

    async def _start_clicked(
        self, turn: Turn, memory: Memory, pending: Pending | None, data: dict[str, Any]
    ) -> Outcome:
        item_id = _int(data.get("item_id"))
        if item_id is None:
            return _unknown_button()
        intent = Intent.MARK_EVIDENCED if data.get("verb") == Verb.START_EVIDENCE else Intent.ADD_UPDATE
        return await act(self.deps, intent, item_id, turn, WriteFields())

    async def _list_clicked(
        self, turn: Turn, memory: Memory, pending: Pending | None, data: dict[str, Any]
    ) -> Outcome:
        more = data.get("verb") == Verb.MORE
        q = ListQuery.from_data(data if more else {"query": data.get("query", "outstanding")})
        return run_list(q, self.deps.model, turn.today)

    async def _choose_clicked(
        self, turn: Turn, memory: Memory, pending: Pending | None, data: dict[str, Any]
    ) -> Outcome:
        if not pending or pending.stage is not Stage.CHOOSE or pending.token != data.get("token"):
            return Outcome.say("That choice has expired: please ask again.")
        report = data.get("report")
        return await self._choose(turn, pending, item_id=_int(data.get("item_id")),
                                  report=report if isinstance(report, str) else None)  # fmt: skip

    async def _confirm_clicked(
        self, turn: Turn, memory: Memory, pending: Pending | None, data: dict[str, Any]
    ) -> Outcome:
        token = str(data.get("token") or "")
        if pending and pending.stage is Stage.CONFIRM and pending.token == token:
            if str(data.get("answer")) == "yes":
                return await self._commit(pending, turn)
            return _answered(await self.deps.writes.decline(pending), turn).also(pending=None)
        if token and (taken := await self.deps.store.key_result(f"confirm:{token}")) is not None:
            # A second click on a button already acted on: the card is updated in place for
            # Action.Execute; for Action.Submit the first click's reply already said it, unless this
            # click gave the other answer (Yes and No pressed together): then it is told which won.
            other = self.deps.writes.settled(taken, str(data.get("answer")))
            return _answered(other or "Already done.", turn) if turn.is_invoke or other else Outcome()
        return _answered("That question has expired: nothing was changed. Please ask again.", turn)


def _unknown_button() -> Outcome:
    return Outcome.say('Sorry, I don\'t know that button. Say "help" for what I can do.')


def _answered(message: str, turn: Turn) -> Outcome:
    card, fallback = message_card(message)
    return Outcome(card_update=card) if turn.is_invoke else Outcome.say(fallback)


def _int(value: Any) -> int | None:
    """An id from button data (client-supplied): a whole number a database column can hold, or None."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**31) < number < 2**31 else None
