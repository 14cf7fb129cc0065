"""Help, greeting, "I didn't understand" and the welcome message. Help lists the route table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dialogs.cards import card, text
from dialogs.deps import Deps
from dialogs.language import Parsed
from dialogs.language.text import first_name
from dialogs.types import Outcome, Reply, Turn


class Described(Protocol):
    """What help shows of a route."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def example(self) -> str: ...


def help_reply(routes: Sequence[Described], name: str | None = None) -> Reply:
    """What I can do, one line per intent with an example."""
    first = first_name(name)
    intro = (f"Hi {first}! " if first else "") + "I keep the force's HMICFRS recommendation tracker. Try:"
    lines = [f'• {r.description}: "{r.example}"' for r in routes]
    facts = [{"title": r.title, "value": f'{r.description}: "{r.example}"'} for r in routes]
    body = [text(intro, weight="Bolder"), {"type": "FactSet", "facts": facts}]
    body.append(
        text("In a channel, @mention me. I always ask before changing anything.", isSubtle=True, size="Small")
    )
    return Reply("\n".join([intro, *lines]), card(body))


def greeting_outcome(name: str | None = None) -> Outcome:
    """Hello, by first name (never the rank: "DI Naomi Clarke" is Naomi)."""
    first = first_name(name) or "there"
    return Outcome.say(
        f'Hello {first}! Ask me "what\'s outstanding?", "show rec 35" or "what\'s overdue?". Say "help" for more.'
    )


async def greeting_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Hello, or "you're welcome" when the message was thanks."""
    if parsed.thanks:
        first = first_name(turn.user.name)
        return Outcome.say(f"You're welcome{', ' + first if first else ''}.")
    return greeting_outcome(turn.user.name)


OUT_OF_SCOPE = (
    "That's outside what I track: I keep the force's HMICFRS recommendations, areas for improvement and "
    'causes of concern, their owners, evidence and deadlines. Try "what\'s overdue?" or say "help".'
)


async def unknown_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Not understood: say so plainly (outside the tracker, or with the nearest things to ask)."""
    if parsed.out_of_scope:
        return Outcome.say(OUT_OF_SCOPE)
    if not parsed.suggestions:
        return Outcome.say('Sorry, I didn\'t understand that. Say "help" for everything I can do.')
    tips = "; ".join(f'"{s}"' for s in parsed.suggestions[:3])
    return Outcome.say(
        f'Sorry, I didn\'t understand that. Did you mean: {tips}? Say "help" for everything I can do.'
    )


def welcome_reply(in_team: bool, schedule: str = "Mondays at 09:00") -> Reply:
    """Sent when the app is installed (the digest note only where it will be posted)."""
    extra = (
        f' I\'ll post the weekly status digest here ({schedule}); say "stop sending the digest here" to turn it off.'
        if in_team
        else ""
    )
    return Reply(
        "Hello, I'm Tracker: I keep the force's HMICFRS recommendation action tracker."
        " Ask me what's outstanding, what's overdue, or to show a recommendation; record evidence with"
        ' "mark 34 as evidenced: what was done".' + extra + ' Say "help" for everything I can do.'
    )
