"""Changing an item: propose, confirm, then write once.

Every write is proposed back to the person ("Mark Vetting rec 34 as evidenced with note '…'?")
and only a Yes tied to that exact proposal (a one-time token) writes. The write checks the version
the person saw, so a change made meanwhile by someone else is never overwritten.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from dialogs.cards import confirm_card, execute, item_label, message_card
from dialogs.language import Intent
from dialogs.language.text import same_person
from dialogs.policy import Policy
from dialogs.state import Pending, Stage
from dialogs.types import Outcome, Reply, Turn, Verb
from storage.readmodel import ReadModel
from storage.store import (
    DECLINED,
    Declined,
    InvalidChange,
    ItemChange,
    NewEvidence,
    NotFound,
    Retarget,
    Store,
    VersionConflict,
)
from storage.views import Actor, ItemView, Source

MAX_EVIDENCE_CHARS = 4000
MAX_OWNER_CHARS = 200  # item.owner_name

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


def too_long(fields: WriteFields) -> str | None:
    """Why a value is too long to store (refused before anything is written), or None."""
    if fields.owner is not None and len(fields.owner) > MAX_OWNER_CHARS:
        return f"the owner's name is {len(fields.owner)} characters long; at most {MAX_OWNER_CHARS} fit."
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
        return ItemChange(
            set_owner=True, owner_name=pending.owner, owner_aad_id=pending.owner_aad_id, note=evidence
        )
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

    def propose_link(self, items: list[ItemView], turn: Turn) -> Outcome:
        """Offer to link items owned under the asker's name to their Teams identity."""
        return OwnerLinks(self._store, self._model, self._rate).propose(items, turn)

    async def commit_link(self, pending: Pending, turn: Turn) -> Outcome:
        return await OwnerLinks(self._store, self._model, self._rate).commit(pending, turn)

    async def refuse(self, intent: Intent, item: ItemView, turn: Turn, reason: str) -> Outcome:
        if await self._audit_refusal(intent, item, turn, reason):
            return Outcome.say(f"Sorry, I can't do that: {reason}")
        return Outcome.say(f"Sorry, I can't do that: {reason} You have been refused often in the last "
                           f"{self._minutes} minutes: please stop and check with the SD&A team.")  # fmt: skip

    @property
    def _minutes(self) -> int:
        return int(self._rate.window.total_seconds() // 60)

    async def _audit_refusal(self, intent: Intent, item: ItemView, turn: Turn, reason: str) -> bool:
        """Audit a refusal, unless this person has had as many refusals as writes are allowed in the
        window (refusals are rate-limited like writes, so they cannot flood the audit trail)."""
        if self._rate.count and turn.user.aad_id:
            since = turn.now - self._rate.window
            if await self._store.count_refusals_since(turn.user.aad_id, since) >= self._rate.count:
                return False
        await self._store.record_refusal(item.id, intent, turn.user, turn.source, reason)
        return True

    def settled(self, recorded: str, answer: str) -> str | None:
        """A click on a question already answered: what to tell this click if it gave the other
        answer (None when it repeated the answer that was recorded)."""
        declined = recorded == DECLINED
        if declined and answer == "yes":
            return "Your No was recorded first: nothing was changed."
        if not declined and answer == "no":
            return "Too late for No: your Yes was recorded first, so the change was made as proposed."
        return None

    async def decline(self, pending: Pending) -> str:
        """The person said No: recorded against the question's token, so that a Yes pressed at the
        same moment cannot also win. What to tell them."""
        if not pending.token or await self._store.claim_key(f"confirm:{pending.token}", DECLINED):
            return "OK, nothing changed."
        if await self._store.key_result(f"confirm:{pending.token}") == DECLINED:
            return "OK, nothing changed."
        item = self._model.items.get(pending.item_id or 0)
        what = self._labels(pending) if item is not None else "the item"
        return f"Too late for No: your Yes was recorded first, so {what} was changed as proposed."

    async def rate_limited(self, intent: Intent, item: ItemView, turn: Turn) -> Outcome | None:
        """The friendly refusal when this person has hit the write limit (audited), else None."""
        if not self._rate.count or not turn.user.aad_id:
            return None
        recent = await self._store.count_writes_since(turn.user.aad_id, turn.now - self._rate.window)
        if recent < self._rate.count:
            return None
        minutes = self._minutes
        await self._audit_refusal(intent, item, turn, "rate limited")
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
        why_not = precondition(intent, item, fields.target) or too_long(fields)
        if why_not:
            return Outcome.say(f"{self.label(item)}: nothing changed, {why_not}")
        base = Pending(
            stage=Stage.CONFIRM, intent=intent, user=turn.user_key, expires=turn.expiry, item_id=item.id,
            version=item.version, origin_activity=turn.activity_id, evidence=fields.evidence, links=fields.links,
            owner=fields.owner, owner_aad_id=fields.owner_aad_id, target=fields.target,
        )  # fmt: skip
        if intent is Intent.RETARGET and not (fields.evidence or "").strip():
            question = f"Why is {self.label(item)}'s target moving to {_day(fields.target)}? Reply with the reason, or 'cancel'."
            return Outcome(replies=[Reply(question)]).also(
                pending=dataclasses.replace(base, stage=Stage.NEED_TEXT, prompt=question)
            )
        if intent in (Intent.MARK_EVIDENCED, Intent.ADD_UPDATE) and not (fields.evidence or "").strip():
            what = "evidence shows it is done" if intent is Intent.MARK_EVIDENCED else "the update should say"
            question = (
                f"What {what} for {self.label(item)}? Reply with the text (links welcome), or 'cancel'."
            )
            return Outcome(replies=[Reply(question)]).also(
                pending=dataclasses.replace(base, stage=Stage.NEED_TEXT, prompt=question)
            )
        if intent is Intent.ASSIGN and not fields.owner:
            question = f"Who should own {self.label(item)}? Reply with their name, or 'cancel'."
            return Outcome(replies=[Reply(question)]).also(
                pending=dataclasses.replace(base, stage=Stage.NEED_OWNER, prompt=question)
            )
        return self.confirm(base, item)

    async def propose_many(
        self, intent: Intent, items: list[ItemView], turn: Turn, fields: WriteFields
    ) -> Outcome:
        """One proposal for several items ("mark 33 and 34 as evidenced: ..."), confirmed together."""
        refused = [
            (i, why) for i in items for ok, why in [self._policy.allowed(intent, turn.user, i)] if not ok
        ]
        if refused:
            for item, why in refused:
                await self._audit_refusal(intent, item, turn, why)
            labels = ", ".join(self.label(i) for i, _ in refused)
            return Outcome.say(f"Sorry, I can't do that for {labels}: {refused[0][1]} Nothing was changed.")
        limited = await self.rate_limited(intent, items[0], turn)
        if limited is not None:
            return limited
        if too_long(fields):
            return Outcome.say(f"Nothing changed: {too_long(fields)}")
        ready = [i for i in items if not precondition(intent, i, fields.target)]
        notes = [
            f"{self.label(i)}: left out, {precondition(intent, i, fields.target)}"
            for i in items
            if i not in ready
        ]
        if not ready:
            return Outcome.say("Nothing changed: " + "; ".join(notes))
        first, rest = ready[0], ready[1:]
        base = Pending(
            stage=Stage.CONFIRM, intent=intent, user=turn.user_key, expires=turn.expiry, item_id=first.id,
            version=first.version, more=tuple((i.id, i.version) for i in rest), origin_activity=turn.activity_id,
            evidence=fields.evidence, links=fields.links, owner=fields.owner, owner_aad_id=fields.owner_aad_id,
            target=fields.target,
        )  # fmt: skip
        if (
            intent in (Intent.MARK_EVIDENCED, Intent.ADD_UPDATE, Intent.RETARGET)
            and not (fields.evidence or "").strip()
        ):
            what = "shows they are done" if intent is Intent.MARK_EVIDENCED else "should be recorded"
            question = (
                f"What {what} for {self._labels(base)}? Reply with the text (links welcome), or 'cancel'."
            )
            out = Outcome(replies=[Reply(question)]).also(
                pending=dataclasses.replace(base, stage=Stage.NEED_TEXT, prompt=question)
            )
        elif intent is Intent.ASSIGN and not fields.owner:
            question = f"Who should own {self._labels(base)}? Reply with their name, or 'cancel'."
            out = Outcome(replies=[Reply(question)]).also(
                pending=dataclasses.replace(base, stage=Stage.NEED_OWNER, prompt=question)
            )
        else:
            out = self.confirm(base, first)
        if notes:
            out.replies.insert(0, Reply("; ".join(notes)))
        return out

    def _labels(self, pending: Pending) -> str:
        ids = [pending.item_id, *(i for i, _ in pending.more)]
        labels = [
            self.label(item) for i in ids if i is not None and (item := self._model.items.get(i)) is not None
        ]
        return (
            labels[0]
            if len(labels) == 1
            else ", ".join(labels[:-1]) + " and " + labels[-1]
            if labels
            else "that item"
        )

    def confirm(self, pending: Pending, item: ItemView) -> Outcome:
        """Ask yes or no to ``pending`` (with a fresh token that ties the answer to this question)."""
        evidence = (pending.evidence or "")[:MAX_EVIDENCE_CHARS]
        pending = dataclasses.replace(
            pending, evidence=evidence or None, stage=Stage.CONFIRM, token=uuid.uuid4().hex
        )
        label = self._labels(pending) if pending.more else self.label(item)
        question = VERBS[pending.intent].format(
            label=label, owner=pending.owner or "?", target=_day(pending.target)
        )
        if evidence:
            question += f" with note '{evidence[:200]}{'…' if len(evidence) > 200 else ''}'"
        question += "?"
        detail = "Links: " + ", ".join(pending.links) if pending.links else None
        card, fallback = confirm_card(question, pending.token, detail)
        return Outcome(replies=[Reply(fallback, card)]).also(
            pending=dataclasses.replace(pending, prompt=question)
        )

    async def commit(self, pending: Pending, turn: Turn) -> Outcome:
        """The person said yes to ``pending``: write it, once (each item of a write on several)."""
        if pending.item_id is None or pending.version is None:
            return Outcome.say("That question has expired: nothing was changed. Please ask again.").also(
                pending=None
            )
        if pending.more and await self._store.key_result(f"confirm:{pending.token}") == DECLINED:
            return Outcome.say("Your No was recorded first: nothing was changed.").also(pending=None)
        if not pending.more:
            return await self._commit_one(
                pending, pending.item_id, pending.version, f"confirm:{pending.token}", turn
            )
        said: list[str] = []
        last: ItemView | None = None
        pairs = ((pending.item_id, pending.version), *pending.more)
        for n, (item_id, version) in enumerate(pairs):
            if n:
                # On SQLite a change runs at once on the loop: let other turns in between items.
                await asyncio.sleep(0)
            key = f"confirm:{pending.token}" if n == 0 else f"confirm:{pending.token}:{item_id}"
            out = await self._commit_one(pending, item_id, version, key, turn, alone=False)
            said.extend(r.text for r in out.replies)
            last = self._model.items.get(item_id) or last
        card, fallback = message_card(said[0] if said else "Done.", said[1:],
                                      [execute("Show", Verb.SHOW, item_id=last.id)] if last else None)  # fmt: skip
        return (
            Outcome(card_update=card) if turn.is_invoke else Outcome(replies=[Reply(fallback, card)])
        ).also(pending=None)

    async def _commit_one(
        self, pending: Pending, item_id: int, version: int, key: str, turn: Turn, *, alone: bool = True
    ) -> Outcome:
        def result(message: str, item: ItemView, *, duplicate: bool = False) -> Outcome:
            return _result(message, item, turn, duplicate=duplicate) if alone else Outcome.say(message)

        # The read model's copy is the item as the person was asked about it when its version is the
        # one they confirmed (the store checks that version again under the row lock, so a change
        # made meanwhile by another instance is still caught there); otherwise read it from the store.
        item = self._model.items.get(item_id)
        if item is None or item.version != version:
            try:
                item = await self._store.get_item(item_id)
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
            written = await self._store.change_item(
                item.id, version, change_for(pending, item, turn.today), Actor(turn.user.name, turn.user.aad_id),
                source, idempotency_key=key,
            )  # fmt: skip
        except NotFound:  # removed since the read model last heard of it
            return Outcome.say("That item no longer exists: nothing was written.").also(pending=None)
        except InvalidChange as err:
            return result(f"{self.label(item)}: nothing was written, {err}.", item).also(pending=None)
        except Declined:
            return result(
                f"Your No was recorded first: nothing was changed on {self.label(item)}.", item
            ).also(pending=None)
        except VersionConflict as err:
            cur = err.current
            self._model.apply(cur)
            msg = (
                f"{self.label(cur)} changed since I asked (it is now {cur.status.replace('_', ' ')}"
                f"{', owned by ' + cur.owner_name if cur.owner_name else ''}). Nothing was written: "
                "have a look and ask again if it is still needed."
            )
            return result(msg, cur).also(pending=None)
        self._model.apply(written.item, written.seq)
        if written.duplicate:
            return result(f"Already done: {self.label(written.item)}.", written.item, duplicate=True).also(
                pending=None
            )
        moved = written.item.retarget_count
        done = DONE[intent].format(
            label=self.label(written.item), owner=written.item.owner_name or "?", target=_day(written.item.target_date),
            moved="moved once" if moved == 1 else f"moved {moved} times" if moved else "a first target",
        )  # fmt: skip
        return result(done, written.item).also(pending=None)


class OwnerLinks:
    """ "These are mine": items owned under the asker's name (imported from a spreadsheet) linked to
    their Teams identity, so "my items", reminders and owner rights find them. Offered, confirmed and
    audited like any write; only items whose owner's name is the asker's own can be linked."""

    def __init__(self, store: Store, model: ReadModel, rate: RateLimit) -> None:
        self._store, self._model, self._rate = store, model, rate

    def propose(self, items: list[ItemView], turn: Turn) -> Outcome:
        pairs = tuple(
            (i.id, i.version)
            for i in items
            if not i.owner_aad_id and same_person(i.owner_name, turn.user.name)
        )
        if not pairs or not turn.user.aad_id:
            return Outcome()
        names = sorted({i.owner_name or "" for i in items})
        question = (f"{len(pairs)} of these {'are' if len(pairs) > 1 else 'is'} owned by {' / '.join(names)}, "
                    f"which looks like you but is not linked to your Teams account. Link {'them' if len(pairs) > 1 else 'it'} "
                    "to you, so \"my items\" and reminders always find them?")  # fmt: skip
        pending = Pending(
            stage=Stage.CONFIRM, intent=Intent.LINK_OWNER, user=turn.user_key, expires=turn.expiry,
            token=uuid.uuid4().hex, item_id=pairs[0][0], version=pairs[0][1], more=pairs[1:],
            origin_activity=turn.activity_id, prompt=question,
        )  # fmt: skip
        card, fallback = confirm_card(question, pending.token)
        return Outcome(replies=[Reply(fallback, card)]).also(pending=pending)

    async def commit(self, pending: Pending, turn: Turn) -> Outcome:
        pairs = ((pending.item_id, pending.version), *pending.more) if pending.item_id is not None else ()
        linked, skipped = 0, 0
        source = Source("teams", turn.conversation_id, pending.origin_activity or turn.activity_id)
        for item_id, version in pairs:
            if item_id is None or version is None:
                continue
            try:
                item = await self._store.get_item(item_id)
            except NotFound:
                skipped += 1
                continue
            if item.owner_aad_id or not same_person(item.owner_name, turn.user.name) or not turn.user.aad_id:
                skipped += 1  # changed meanwhile, or not this person's after all: never guessed
                continue
            change = ItemChange(set_owner=True, owner_name=item.owner_name, owner_aad_id=turn.user.aad_id,
                                note="linked by its owner ('these are mine')")  # fmt: skip
            try:
                result = await self._store.change_item(item.id, version, change, Actor(turn.user.name, turn.user.aad_id),
                                                       source, idempotency_key=f"confirm:{pending.token}:{item.id}")  # fmt: skip
            except VersionConflict:
                skipped += 1
                continue
            self._model.apply(result.item, result.seq)
            linked += not result.duplicate
        message = f"Linked {linked} item{'s' if linked != 1 else ''} to you."
        if skipped:
            message += f" {skipped} had changed meanwhile and were left as they are."
        card, fallback = message_card(message)
        return (
            Outcome(card_update=card) if turn.is_invoke else Outcome(replies=[Reply(fallback, card)])
        ).also(pending=None)


def _result(message: str, item: ItemView, turn: Turn, *, duplicate: bool = False) -> Outcome:
    card, fallback = message_card(message, [], [execute("Show", Verb.SHOW, item_id=item.id)])
    if turn.is_invoke:
        # Replace the Yes/No card in place: a second click then has nothing to press, and a
        # duplicate click answers with the same card instead of a second message.
        return Outcome(card_update=card)
    if duplicate:
        return Outcome()
    return Outcome(replies=[Reply(fallback, card)])
