"""Changing an item: propose, confirm, then write once.

Every write is proposed back to the person ("Mark Vetting rec 34 as evidenced with note '…'?")
and only a Yes tied to that exact proposal (a one-time token) writes. The write checks the version
the person saw, so a change made meanwhile by someone else is never overwritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from dialogs.cards import confirm_card, execute, item_label, message_card
from dialogs.language import Intent
from dialogs.policy import Policy
from dialogs.state import Pending, Stage
from dialogs.types import Outcome, Reply, Turn, Verb
from storage.readmodel import ReadModel
from storage.store import InvalidChange, ItemChange, NewEvidence, NotFound, Retarget, Store, VersionConflict
from storage.views import Actor, ItemView, Source

MAX_EVIDENCE_CHARS = 4000

VERBS = {
    Intent.MARK_EVIDENCED: "Mark {label} as evidenced",
    Intent.ADD_UPDATE: "Add an update to {label}",
    Intent.SIGN_OFF: "Record {label} as signed off by HMICFRS",
    Intent.REOPEN: "Reopen {label}",
    Intent.ASSIGN: "Assign {label} to {owner}",
    Intent.RETARGET: "Move {label}'s target date to {target}",
}
DONE = {
    Intent.MARK_EVIDENCED: "{label} is now evidenced, awaiting HMICFRS sign-off.",
    Intent.ADD_UPDATE: "Update added to {label}.",
    Intent.SIGN_OFF: "{label} is recorded as signed off.",
    Intent.REOPEN: "{label} is open again.",
    Intent.ASSIGN: "{label} is now owned by {owner}.",
    Intent.RETARGET: "{label}'s target date is now {target}; the original deadline stays on record ({moved}).",
}


@dataclass(frozen=True)
class WriteFields:
    """What a write request carries besides the item: a note, links, a new owner."""

    evidence: str | None = None
    links: tuple[str, ...] = ()
    owner: str | None = None
    owner_aad_id: str | None = None
    target: dt.date | None = None  # a re-target's new date

    @classmethod
    def of(cls, pending: Pending) -> WriteFields:
        return cls(pending.evidence, pending.links, pending.owner, pending.owner_aad_id, pending.target)


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` writes per person per ``window``."""

    count: int = 30
    window: dt.timedelta = dt.timedelta(minutes=10)


def precondition(intent: Intent, item: ItemView, target: dt.date | None = None) -> str | None:
    """Why this change makes no sense for this item right now (None: fine)."""
    if intent is Intent.RETARGET:
        if item.status in ("signed_off", "not_for_us", "superseded"):
            return f"it is {item.status.replace('_', ' ')}, so it has no target to move."
        if target is None:
            return "tell me the new date, e.g. 'move rec 35's target date to 30 June 2023: reason'."
        if target == item.target_date:
            return f"its target is already {_day(target)}."
    if intent is Intent.MARK_EVIDENCED and item.status == "signed_off":
        return "it is already signed off by HMICFRS. An admin can reopen it first if more evidence is needed."
    if intent is Intent.MARK_EVIDENCED and item.status == "superseded":
        return "it has been superseded."
    if intent is Intent.SIGN_OFF and item.status == "signed_off":
        return "it is already signed off."
    if intent is Intent.REOPEN and item.status in ("open", "in_progress"):
        return "it is already open."
    return None


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "?"


def change_for(pending: Pending, item: ItemView, today: dt.date | None = None) -> ItemChange:
    """The store change a confirmed proposal makes; ``today`` (the force's local date) dates a sign-off."""
    intent, evidence, links = pending.intent, pending.evidence, pending.links
    if intent is Intent.MARK_EVIDENCED:
        return ItemChange(status="evidenced", evidence=NewEvidence("evidence", evidence or "", links))
    if intent is Intent.ADD_UPDATE:
        return ItemChange(evidence=NewEvidence("update", evidence or "", links))
    if intent is Intent.SIGN_OFF:
        return ItemChange(status="signed_off", note=evidence, signed_off_on=today)
    if intent is Intent.RETARGET:
        if pending.target is None:
            raise ValueError("a re-target needs its new date")
        return ItemChange(retarget=Retarget(pending.target, evidence or ""), note=evidence)
    if intent is Intent.REOPEN:
        return ItemChange(status="in_progress" if item.latest_evidence else "open", note=evidence)
    if intent is Intent.ASSIGN:
        return ItemChange(set_owner=True, owner_name=pending.owner, owner_aad_id=pending.owner_aad_id, note=evidence)
    raise ValueError(f"not a write: {intent}")


class Writes:
    """The write dialogs, with what they need injected."""

    def __init__(self, store: Store, model: ReadModel, policy: Policy, rate: RateLimit) -> None:
        self._store = store
        self._model = model
        self._policy = policy
        self._rate = rate

    def label(self, item: ItemView) -> str:
        return item_label(item, self._model.reports.get(item.report_id))

    async def refuse(self, intent: Intent, item: ItemView, turn: Turn, reason: str) -> Outcome:
        await self._store.record_refusal(item.id, intent, turn.user, turn.source, reason)
        return Outcome.say(f"Sorry, I can't do that: {reason}")

    async def rate_limited(self, intent: Intent, item: ItemView, turn: Turn) -> Outcome | None:
        """The friendly refusal when this person has hit the write limit (audited), else None."""
        if not self._rate.count or not turn.user.aad_id:
            return None
        recent = await self._store.count_writes_since(turn.user.aad_id, turn.now - self._rate.window)
        if recent < self._rate.count:
            return None
        minutes = int(self._rate.window.total_seconds() // 60)
        await self._store.record_refusal(item.id, intent, turn.user, turn.source, "rate limited")
        return Outcome.say(
            f"You've made {recent} changes in the last {minutes} minutes, which is my limit. "
            "Nothing was written: please try again in a few minutes."
        )

    async def propose(self, intent: Intent, item: ItemView, turn: Turn, fields: WriteFields) -> Outcome:
        """Check, then ask for missing text or for confirmation."""
        allowed, reason = self._policy.allowed(intent, turn.user, item)
        if not allowed:
            return await self.refuse(intent, item, turn, reason)
        # Say so before anyone types their evidence, not after (checked again at commit).
        limited = await self.rate_limited(intent, item, turn)
        if limited is not None:
            return limited
        why_not = precondition(intent, item, fields.target)
        if why_not:
            return Outcome.say(f"{self.label(item)}: nothing changed, {why_not}")
        base = Pending(
            stage=Stage.CONFIRM, intent=intent, user=turn.user_key, expires=turn.expiry, item_id=item.id,
            version=item.version, origin_activity=turn.activity_id, evidence=fields.evidence, links=fields.links,
            owner=fields.owner, owner_aad_id=fields.owner_aad_id, target=fields.target,
        )  # fmt: skip
        if intent is Intent.RETARGET and not (fields.evidence or "").strip():
            question = f"Why is {self.label(item)}'s target moving to {_day(fields.target)}? Reply with the reason, or 'cancel'."
            return Outcome(replies=[Reply(question)]).also(pending=dataclasses.replace(base, stage=Stage.NEED_TEXT))
        if intent in (Intent.MARK_EVIDENCED, Intent.ADD_UPDATE) and not (fields.evidence or "").strip():
            what = "evidence shows it is done" if intent is Intent.MARK_EVIDENCED else "the update should say"
            question = f"What {what} for {self.label(item)}? Reply with the text (links welcome), or 'cancel'."
            return Outcome(replies=[Reply(question)]).also(pending=dataclasses.replace(base, stage=Stage.NEED_TEXT))
        if intent is Intent.ASSIGN and not fields.owner:
            question = f"Who should own {self.label(item)}? Reply with their name, or 'cancel'."
            return Outcome(replies=[Reply(question)]).also(pending=dataclasses.replace(base, stage=Stage.NEED_OWNER))
        return self.confirm(base, item)

    def confirm(self, pending: Pending, item: ItemView) -> Outcome:
        """Ask yes or no to ``pending`` (with a fresh token that ties the answer to this question)."""
        evidence = (pending.evidence or "")[:MAX_EVIDENCE_CHARS]
        pending = dataclasses.replace(pending, evidence=evidence or None, stage=Stage.CONFIRM, token=uuid.uuid4().hex)
        question = VERBS[pending.intent].format(label=self.label(item), owner=pending.owner or "?",
                                                target=_day(pending.target))  # fmt: skip
        if evidence:
            question += f" with note '{evidence[:200]}{'…' if len(evidence) > 200 else ''}'"
        question += "?"
        detail = "Links: " + ", ".join(pending.links) if pending.links else None
        card, fallback = confirm_card(question, pending.token, detail)
        return Outcome(replies=[Reply(fallback, card)]).also(pending=pending)

    async def commit(self, pending: Pending, turn: Turn) -> Outcome:
        """The person said yes to ``pending``: write it, once."""
        token = pending.token
        if pending.item_id is None or pending.version is None:
            return Outcome.say("That question has expired: nothing was changed. Please ask again.").also(pending=None)
        try:
            item = await self._store.get_item(pending.item_id)
        except NotFound:
            return Outcome.say("That item no longer exists: nothing was written.").also(pending=None)
        intent = pending.intent
        allowed, reason = self._policy.allowed(intent, turn.user, item)
        if not allowed:
            return (await self.refuse(intent, item, turn, reason)).also(pending=None)
        limited = await self.rate_limited(intent, item, turn)
        if limited is not None:
            return limited.also(pending=None)
        source = Source("teams", turn.conversation_id, pending.origin_activity or turn.activity_id)
        try:
            result = await self._store.change_item(
                item.id, pending.version, change_for(pending, item, turn.today), Actor(turn.user.name, turn.user.aad_id),
                source, idempotency_key=f"confirm:{token}",
            )  # fmt: skip
        except InvalidChange as err:
            return _result(f"{self.label(item)}: nothing was written, {err}.", item, turn).also(pending=None)
        except VersionConflict as err:
            cur = err.current
            self._model.apply(cur)
            msg = (
                f"{self.label(cur)} changed since I asked (it is now {cur.status.replace('_', ' ')}"
                f"{', owned by ' + cur.owner_name if cur.owner_name else ''}). Nothing was written: "
                "have a look and ask again if it is still needed."
            )
            return _result(msg, cur, turn).also(pending=None)
        self._model.apply(result.item)
        if result.duplicate:
            return _result(f"Already done: {self.label(result.item)}.", result.item, turn, duplicate=True).also(pending=None)
        moved = result.item.retarget_count
        done = DONE[intent].format(
            label=self.label(result.item), owner=result.item.owner_name or "?", target=_day(result.item.target_date),
            moved="moved once" if moved == 1 else f"moved {moved} times" if moved else "a first target",
        )  # fmt: skip
        return _result(done, result.item, turn).also(pending=None)


def _result(message: str, item: ItemView, turn: Turn, *, duplicate: bool = False) -> Outcome:
    card, fallback = message_card(message, [], [execute("Show", Verb.SHOW, item_id=item.id)])
    if turn.is_invoke:
        # Replace the Yes/No card in place: a second click then has nothing to press, and a
        # duplicate click answers with the same card instead of a second message.
        return Outcome(card_update=card)
    if duplicate:
        return Outcome()
    return Outcome(replies=[Reply(fallback, card)])
