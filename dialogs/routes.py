"""The route table: every intent, the handler that answers it, and how it is described to people.

One table drives three things, so they can never disagree: dispatch (``dialogs.conversation``),
the help text (``dialogs.help``) and the Teams manifest's command lists (``bot.manifest``). How a
message is recognised as an intent is the language package's job (``dialogs.language.cues``);
the examples shown here are the ones it is recognised by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dialogs.changes import changes_handler
from dialogs.committee.chat import meeting_handler, pack_handler
from dialogs.deps import Deps, Handler
from dialogs.help import greeting_handler, help_reply, unknown_handler
from dialogs.items import item_handler
from dialogs.language import Intent, Parsed
from dialogs.language.cues import CUES_BY_INTENT
from dialogs.language.intents import WRITES
from dialogs.lists import list_handler
from dialogs.reminders.chat import evidence_form_handler, remind_off_handler, remind_on_handler
from dialogs.subscription import subscribe_handler, unsubscribe_handler
from dialogs.summary import summary_handler, summary_outcome
from dialogs.types import Outcome, Turn

ALL_SCOPES = frozenset({"personal", "team", "groupChat"})


@dataclass(frozen=True)
class Route:
    """One intent: who answers it and how to describe it to people."""

    intent: Intent
    handler: Handler
    title: str  # the command as shown in Teams' command menu (<= 32 chars)
    description: str  # one line for help and the manifest (<= 128 chars)
    in_help: bool = True
    manifest_rank: int = 0  # 1..n: position in the manifest command list; 0 = not listed
    scopes: frozenset[str] = field(default=ALL_SCOPES)

    @property
    def name(self) -> str:
        return self.intent.value

    @property
    def example(self) -> str:
        return CUES_BY_INTENT[self.intent].example

    @property
    def writes(self) -> bool:
        return self.intent in WRITES


async def _help(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    return Outcome(replies=[help_reply(help_routes(), turn.user.name)])


async def _digest(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    if deps.digest is None:
        return summary_outcome(deps.model, turn.today)
    return await deps.digest(turn.now)


ROUTES: tuple[Route, ...] = (
    Route(Intent.GREETING, greeting_handler, "hello", "Say hello", in_help=False),
    Route(Intent.HELP, _help, "help", "What I can do, with examples", manifest_rank=10),
    Route(
        Intent.UNSUBSCRIBE,
        unsubscribe_handler,
        "stop digest",
        "Stop posting the weekly digest in this conversation",
    ),
    Route(
        Intent.SUBSCRIBE,
        subscribe_handler,
        "post digest here",
        "Post the weekly status digest in this conversation",
        manifest_rank=9,
        scopes=frozenset({"team", "groupChat"}),
    ),
    Route(
        Intent.REMIND_ON,
        remind_on_handler,
        "remind me",
        "Remind me in our 1:1 chat about my items due soon or overdue",
        manifest_rank=9,
        scopes=frozenset({"personal"}),
    ),
    Route(Intent.REMIND_OFF, remind_off_handler, "stop reminding me", "Stop my owner reminders"),
    Route(
        Intent.EVIDENCE_FORM,
        evidence_form_handler,
        "add evidence",
        "Open the evidence form: pick the item, several lines, links",
    ),
    Route(Intent.DIGEST_NOW, _digest, "digest", "Show this week's status digest now"),
    Route(Intent.SIGN_OFF, item_handler, "sign off", "Record that HMICFRS signed an item off (admins)"),
    Route(Intent.REOPEN, item_handler, "reopen", "Reopen an item that was evidenced or signed off (admins)"),
    Route(
        Intent.MARK_EVIDENCED,
        item_handler,
        "mark evidenced",
        "Mark an item evidenced, with what shows it is done",
        manifest_rank=7,
    ),
    Route(Intent.ASSIGN, item_handler, "assign", "Give an item a new owner (admins)"),
    Route(
        Intent.RETARGET,
        item_handler,
        "move target date",
        "Move an item's target date, with the reason (editors); the original stays on record",
    ),
    Route(
        Intent.RECORD_MEETING,
        meeting_handler,
        "JAC met on",
        "Record the date a Joint Audit Committee met (admins)",
    ),
    Route(
        Intent.COMMITTEE_PACK,
        pack_handler,
        "JAC pack",
        "The committee paper's figures since the last JAC (admins)",
    ),
    Route(
        Intent.ADD_UPDATE,
        item_handler,
        "add update",
        "Add a progress note without changing the status",
        manifest_rank=8,
    ),
    Route(Intent.OWNER, item_handler, "who owns", "Who leads an item", manifest_rank=6),
    Route(Intent.SUMMARY, summary_handler, "summary", "Counts by status and by report", manifest_rank=5),
    Route(
        Intent.CHANGES,
        changes_handler,
        "what changed",
        "What changed this week, since a date or since the last JAC, by whom, per report",
    ),
    Route(Intent.OVERDUE, list_handler, "overdue", "Items past their due date", manifest_rank=3),
    Route(Intent.DUE, list_handler, "due", "Items due before a date or within a period", manifest_rank=4),
    Route(Intent.SHOW, item_handler, "show", "One item in full, with its evidence history", manifest_rank=2),
    Route(
        Intent.OUTSTANDING,
        list_handler,
        "outstanding",
        "What is still open, by report, kind, owner or theme",
        manifest_rank=1,
    ),
    Route(Intent.UNKNOWN, unknown_handler, "", "Anything I did not understand", in_help=False),
)

ROUTES_BY_INTENT: Mapping[Intent, Route] = MappingProxyType({r.intent: r for r in ROUTES})


def manifest_commands(scope: str, limit: int = 10) -> list[Route]:
    """Routes for one Teams scope's command list, in menu order, at most ``limit``."""
    listed = [r for r in ROUTES if r.manifest_rank and scope in r.scopes]
    listed.sort(key=lambda r: (r.manifest_rank, r.name))
    return listed[:limit]


def help_routes() -> list[Route]:
    """Routes shown in the help text, in table order."""
    return [r for r in ROUTES if r.in_help]
