"""The committee's questions asked in chat: a parsed request becomes a :class:`CommitteeQuestion`."""

from __future__ import annotations

import datetime as dt

from dialogs.committee.answers import answer
from dialogs.committee.meetings import propose_meeting
from dialogs.committee.questions import Ask, CommitteeQuestion
from dialogs.deps import Deps
from dialogs.language import Intent, Parsed
from dialogs.types import Outcome, Reply, Turn

_ASKS = {
    "signed_off": Ask.SIGNED_OFF,
    "added": Ask.ADDED,
    "addressee": Ask.BY_ADDRESSEE,
    "retargeted": Ask.RETARGETED,
}


def question_of(parsed: Parsed) -> CommitteeQuestion:
    """The committee question a parsed count asks ("how many signed off since the last JAC?")."""
    ask = _ASKS.get(parsed.measure or "", Ask.FIGURES)
    since = parsed.since
    report = parsed.report.key if parsed.report else None
    if ask is Ask.SIGNED_OFF and since is not None and since.end is not None:
        ask = Ask.CLOSED  # "what did we close in November?": a calendar period, with its items
    if since is None:
        return CommitteeQuestion(ask, report_key=report)
    if since.committee:
        return CommitteeQuestion.since_last(ask, report_key=report)
    # A question's period is (since, until]: the day before the first day asked about.
    return CommitteeQuestion(ask, since=since.start - dt.timedelta(days=1), until=since.end, report_key=report,
                             label=since.label)  # fmt: skip


async def committee_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """A count the committee asks for, with the items behind it, by report."""
    return await answer(deps.store, question_of(parsed), turn.today, deps.tz)


async def meeting_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """ "The JAC met on 22 September 2022": proposed, confirmed, recorded (admins)."""
    if parsed.target_date is None:
        return Outcome.say('When did it meet? Say it with the date, e.g. "the JAC met on 22 September 2022".')
    return propose_meeting(deps.policy, turn, parsed.target_date)


async def pack_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """ "The JAC pack": the paper's figures since the last JAC (the document itself comes from
    ``tracker pack``; admins only, like the paper)."""
    allowed, reason = deps.policy.allowed(Intent.COMMITTEE_PACK, turn.user)
    if not allowed:
        return Outcome.say(f"Sorry, I can't do that: {reason}")
    out = await answer(deps.store, CommitteeQuestion.since_last(Ask.FIGURES), turn.today, deps.tz)
    out.replies.append(Reply(
        "The paper itself (DOCX, with the chart) is written by "
        f"`tracker pack --as-of {turn.today.isoformat()} --out jac-pack.docx`."
    ))  # fmt: skip
    return out
