"""Help, greeting and the welcome message: built from the same route table as the manifest."""

from __future__ import annotations

from bot.routes import help_routes
from dialogs.cards import card, text
from dialogs.types import Outcome, Reply


def help_reply(name: str | None = None) -> Reply:
    """What I can do, one line per intent with an example."""
    routes = help_routes()
    intro = (f"Hi {name.split()[0]}! " if name else "") + "I keep the force's HMICFRS recommendation tracker. Try:"
    lines = [f"• {r.description}: \"{r.example}\"" for r in routes]
    facts = [{"title": r.title, "value": f"{r.description}: \"{r.example}\""} for r in routes]
    body = [text(intro, weight="Bolder"), {"type": "FactSet", "facts": facts}]
    body.append(text("In a channel, @mention me. I always ask before changing anything.", isSubtle=True, size="Small"))
    return Reply("\n".join([intro, *lines]), card(body))


def help_outcome(name: str | None = None) -> Outcome:
    return Outcome(replies=[help_reply(name)])


def greeting_outcome(name: str | None = None) -> Outcome:
    first = name.split()[0] if name else "there"
    return Outcome.say(f"Hello {first}! Ask me \"what's outstanding?\", \"show rec 35\" or \"what's overdue?\". Say \"help\" for more.")


def welcome_reply(in_team: bool, schedule: str = "Mondays at 09:00") -> Reply:
    """Sent when the app is installed (the digest note only where it will be posted)."""
    extra = (
        f" I'll post the weekly status digest here ({schedule}); say \"stop sending the digest here\" to turn it off."
        if in_team
        else ""
    )
    return Reply(
        "Hello, I'm Tracker: I keep the force's HMICFRS recommendation action tracker."
        " Ask me what's outstanding, what's overdue, or to show a recommendation; record evidence with"
        " \"mark 34 as evidenced: what was done\"." + extra + " Say \"help\" for everything I can do."
    )
