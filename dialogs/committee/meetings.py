"""The admin write "the JAC met on 22 September 2022": propose, confirm, record (with who, when, where).

Routing is the language layer's (issue 12): it calls :func:`propose_meeting` with the parsed date,
and sends the Yes of a pending ``record_meeting`` to :func:`commit_meeting` (the Yes/No card's
token works as for item writes).
"""

from __future__ import annotations

import datetime as dt
import uuid

from dialogs.cards import confirm_card, message_card
from dialogs.committee.words import day_label
from dialogs.language import Intent
from dialogs.policy import Policy
from dialogs.state import Pending, Stage
from dialogs.types import Outcome, Reply, Turn
from storage.store import DEFAULT_COMMITTEE, Store
from storage.views import Actor, Source

RECORD_MEETING = Intent.RECORD_MEETING


def _why_not(policy: Policy, turn: Turn, met_on: dt.date) -> str | None:
    allowed, reason = policy.allowed(RECORD_MEETING, turn.user)
    if not allowed:
        return f"Sorry, I can't do that: {reason}"
    if met_on > turn.today:
        return f"{day_label(met_on)} is in the future: I record meetings once they have met. Nothing was written."
    return None


def propose_meeting(policy: Policy, turn: Turn, met_on: dt.date, name: str = DEFAULT_COMMITTEE) -> Outcome:
    """Ask "Record that the JAC met on 22 September 2022?" (admins only; not a future date)."""
    refused = _why_not(policy, turn, met_on)
    if refused:
        return Outcome.say(refused)
    name = " ".join(name.split()) or DEFAULT_COMMITTEE
    pending = Pending(
        stage=Stage.CONFIRM, intent=RECORD_MEETING, user=turn.user_key, expires=turn.expiry, token=uuid.uuid4().hex,
        origin_activity=turn.activity_id, met_on=met_on, committee=name,
    )  # fmt: skip
    question = f"Record that the {name} met on {day_label(met_on)}?"
    detail = f"'Since the last {name}' then counts from {day_label(met_on)} for any day after it."
    c, fallback = confirm_card(question, pending.token, detail)
    return Outcome(replies=[Reply(fallback, c)]).also(pending=pending)


async def commit_meeting(store: Store, policy: Policy, pending: Pending, turn: Turn) -> Outcome:
    """The admin said yes: record the meeting once (a second Yes finds it already recorded)."""
    if pending.met_on is None:
        return Outcome.say("That question has expired: nothing was recorded. Please ask again.").also(
            pending=None
        )
    return (await record_meeting(store, policy, turn, pending.met_on, pending.committee or DEFAULT_COMMITTEE,
                                 activity_id=pending.origin_activity)).also(pending=None)  # fmt: skip


async def record_meeting(
    store: Store, policy: Policy, turn: Turn, met_on: dt.date, name: str = DEFAULT_COMMITTEE,
    *, activity_id: str | None = None,
) -> Outcome:  # fmt: skip
    """Record the meeting now (checked again: admins only, not in the future)."""
    refused = _why_not(policy, turn, met_on)
    if refused:
        return _said(refused, turn)
    source = Source("teams", turn.conversation_id, activity_id or turn.activity_id)
    meeting, created = await store.add_meeting(
        met_on, Actor(turn.user.name, turn.user.aad_id), source, name=name
    )
    if created:
        msg = f"Recorded: the {meeting.name} met on {day_label(meeting.met_on)}. 'Since the last {meeting.name}' now counts from then."
    else:
        by = f" by {meeting.created_by}" if meeting.created_by else ""
        msg = f"Already recorded{by}: the {meeting.name} met on {day_label(meeting.met_on)}. Nothing changed."
    return _said(msg, turn)


def _said(message: str, turn: Turn) -> Outcome:
    c, fallback = message_card(message)
    return Outcome(card_update=c) if turn.is_invoke else Outcome(replies=[Reply(fallback, c)])
