"""Changing an item: propose, confirm, then write once.

Every write is proposed back to the person ("Mark Vetting rec 34 as evidenced with note '…'?")
and only a Yes tied to that exact proposal (a one-time token) writes. The write checks the version
the person saw, so a change made meanwhile by someone else is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from dialogs.cards import confirm_card, execute, item_label, message_card
from dialogs.policy import Policy
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.store import InvalidChange, ItemChange, NewEvidence, NotFound, Retarget, Store, VersionConflict
from storage.views import Actor, ItemView, Source

PENDING_TTL = dt.timedelta(minutes=30)
MAX_EVIDENCE_CHARS = 4000

VERBS = {
    "mark_evidenced": "Mark {label} as evidenced",
    "add_update": "Add an update to {label}",
    "sign_off": "Record {label} as signed off by HMICFRS",
    "reopen": "Reopen {label}",
    "assign": "Assign {label} to {owner}",
    "retarget": "Move {label}'s target date to {target}",
}
DONE = {
    "mark_evidenced": "{label} is now evidenced, awaiting HMICFRS sign-off.",
    "add_update": "Update added to {label}.",
    "sign_off": "{label} is recorded as signed off.",
    "reopen": "{label} is open again.",
    "assign": "{label} is now owned by {owner}.",
    "retarget": "{label}'s target date is now {target}; the original deadline stays on record ({moved}).",
}


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` writes per person per ``window``."""

    count: int = 30
    window: dt.timedelta = dt.timedelta(minutes=10)


def precondition(intent: str, item: ItemView, target: dt.date | None = None) -> str | None:
    """Why this change makes no sense for this item right now (None: fine)."""
    if intent == "retarget":
        if item.status in ("signed_off", "not_for_us", "superseded"):
            return f"it is {item.status.replace('_', ' ')}, so it has no target to move."
        if target is None:
            return "tell me the new date, e.g. 'move rec 35's target date to 30 June 2023: reason'."
        if target == item.target_date:
            return f"its target is already {_day(target)}."
    if intent == "mark_evidenced" and item.status == "signed_off":
        return "it is already signed off by HMICFRS. An admin can reopen it first if more evidence is needed."
    if intent == "mark_evidenced" and item.status == "superseded":
        return "it has been superseded."
    if intent == "sign_off" and item.status == "signed_off":
        return "it is already signed off."
    if intent == "reopen" and item.status in ("open", "in_progress"):
        return "it is already open."
    return None


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "?"


def _target(value: Any) -> dt.date | None:
    """The new target date from parsed fields or pending state (a date, or its ISO text)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def change_for(
    intent: str, pending: dict[str, Any], item: ItemView, today: dt.date | None = None
) -> ItemChange:
    """The store change for a confirmed write; ``today`` (the force's local date) dates a sign-off."""
    evidence = pending.get("evidence")
    links = tuple(pending.get("links") or ())
    if intent == "mark_evidenced":
        return ItemChange(status="evidenced", evidence=NewEvidence("evidence", evidence or "", links))
    if intent == "add_update":
        return ItemChange(evidence=NewEvidence("update", evidence or "", links))
    if intent == "sign_off":
        return ItemChange(status="signed_off", note=evidence, signed_off_on=today)
    if intent == "retarget":
        target = _target(pending.get("target"))
        if target is None:
            raise ValueError("a re-target needs its new date")
        return ItemChange(retarget=Retarget(target, evidence or ""), note=evidence)
    if intent == "reopen":
        return ItemChange(status="in_progress" if item.latest_evidence else "open", note=evidence)
    if intent == "assign":
        return ItemChange(set_owner=True, owner_name=pending.get("owner"), owner_aad_id=pending.get("owner_aad_id"), note=evidence)
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

    async def refuse(self, intent: str, item: ItemView, turn: Turn, reason: str) -> Outcome:
        await self._store.record_refusal(item.id, intent, turn.user, turn.source, reason)
        return Outcome.say(f"Sorry, I can't do that: {reason}")

    async def rate_limited(self, intent: str, item: ItemView, turn: Turn) -> Outcome | None:
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

    async def propose(self, intent: str, item: ItemView, turn: Turn, fields: dict[str, Any]) -> Outcome:
        """Check, then ask for missing text or for confirmation."""
        allowed, reason = self._policy.allowed(intent, turn.user, item)
        if not allowed:
            return await self.refuse(intent, item, turn, reason)
        # Say so before anyone types their evidence, not after (checked again at commit).
        limited = await self.rate_limited(intent, item, turn)
        if limited is not None:
            return limited
        why_not = precondition(intent, item, _target(fields.get("target")))
        if why_not:
            return Outcome.say(f"{self.label(item)}: nothing changed, {why_not}")
        base = {
            "intent": intent, "item_id": item.id, "version": item.version, "user": turn.user_key,
            "origin_activity": turn.activity_id, "links": list(fields.get("links") or ()),
            "evidence": fields.get("evidence"), "owner": fields.get("owner"), "owner_aad_id": fields.get("owner_aad_id"),
            "expires": (turn.now + PENDING_TTL).isoformat(),
        }  # fmt: skip
        if intent == "retarget":
            target = _target(fields.get("target"))
            base["target"] = target.isoformat() if target else None  # never None here: precondition said so
            if not str(fields.get("evidence") or "").strip():
                return Outcome(
                    replies=[Reply(f"Why is {self.label(item)}'s target moving to {_day(target)}? "
                                   "Reply with the reason, or 'cancel'.")],
                    state={"pending": {**base, "stage": "need_text"}},
                )  # fmt: skip
        if intent in ("mark_evidenced", "add_update") and not (base["evidence"] or "").strip():
            what = "evidence shows it is done" if intent == "mark_evidenced" else "the update should say"
            return Outcome(
                replies=[Reply(f"What {what} for {self.label(item)}? Reply with the text (links welcome), or 'cancel'.")],
                state={"pending": {**base, "stage": "need_text"}},
            )
        if intent == "assign" and not base["owner"]:
            return Outcome(
                replies=[Reply(f"Who should own {self.label(item)}? Reply with their name, or 'cancel'.")],
                state={"pending": {**base, "stage": "need_owner"}},
            )
        return self.confirm(base, item)

    def confirm(self, pending: dict[str, Any], item: ItemView) -> Outcome:
        evidence = (pending.get("evidence") or "")[:MAX_EVIDENCE_CHARS]
        pending = {**pending, "evidence": evidence or None, "stage": "confirm", "token": uuid.uuid4().hex}
        question = VERBS[pending["intent"]].format(
            label=self.label(item),
            owner=pending.get("owner") or "?",
            target=_day(_target(pending.get("target"))),
        )
        if evidence:
            question += f" with note '{evidence[:200]}{'…' if len(evidence) > 200 else ''}'"
        question += "?"
        detail = "Links: " + ", ".join(pending["links"]) if pending.get("links") else None
        card, fallback = confirm_card(question, pending["token"], detail)
        return Outcome(replies=[Reply(fallback, card)], state={"pending": pending})

    async def commit(self, pending: dict[str, Any], turn: Turn) -> Outcome:
        """The person said yes to ``pending``: write it, once."""
        token = pending["token"]
        try:
            item = await self._store.get_item(int(pending["item_id"]))
        except NotFound:
            return Outcome.say("That item no longer exists: nothing was written.").also(pending=None)
        intent = pending["intent"]
        allowed, reason = self._policy.allowed(intent, turn.user, item)
        if not allowed:
            return (await self.refuse(intent, item, turn, reason)).also(pending=None)
        limited = await self.rate_limited(intent, item, turn)
        if limited is not None:
            return limited.also(pending=None)
        source = Source("teams", turn.conversation_id, pending.get("origin_activity") or turn.activity_id)
        try:
            result = await self._store.change_item(
                item.id, int(pending["version"]), change_for(intent, pending, item, turn.today), Actor(turn.user.name, turn.user.aad_id),
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
    card, fallback = message_card(message, [], [execute("Show", "show", item_id=item.id)])
    if turn.is_invoke:
        # Replace the Yes/No card in place: a second click then has nothing to press, and a
        # duplicate click answers with the same card instead of a second message.
        return Outcome(card_update=card)
    if duplicate:
        return Outcome()
    return Outcome(replies=[Reply(fallback, card)])
