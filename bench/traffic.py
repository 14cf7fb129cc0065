"""Realistic mixed traffic for Tracker: conversations of one or more turns, as people use it.

A :data:`Traffic` maps a conversation number to its :data:`Script`, the turns of one
conversation in order; the load generator runs each conversation's turns one after another
(a follow-up or a "yes" only makes sense after the turn before it) and many conversations at once.

:class:`TrackerMix` builds the scripts from the synthetic corpus (``bench.corpus``) so every
question is about reports, items, owners and themes that exist:

============  ===========================================================================
kind          what is said or sent
============  ===========================================================================
list_report   "what's outstanding from the vetting report", "outstanding recs from fraud"
list_owner    "what's outstanding owned by Sarah Khan", "Tom Reid's items"
list_theme    "open items about victim care", "outstanding recommendations on safeguarding"
show          "show rec 12 from fraud", "show rec 7 of the CDI inspection"
follow_up     "and rec 35?" after a show, "more" after a list (same conversation)
overdue       "what's overdue?", "what's overdue on roads policing?", "overdue recs owned by …"
due           "anything due before christmas from CCU", "what's due next month"
summary       "how many are still open?", "summary for the fraud report"
write         "mark rec 12 of vetting as evidenced: <evidence>" (the proposal)
confirm       "yes" in the same conversation: the committed write's reply
search        ``composeExtension/query`` invoke, commandId ``searchItems``, parameter ``query``,
              ``queryOptions`` skip/count (the message extension)
refresh       ``adaptiveCard/action`` invoke, ``Action.Execute`` verb ``refresh``, data naming
              an item id (Universal Actions card refresh, ``trigger: automatic``)
============  ===========================================================================

Writes (proposal + confirmation) are about 10 % of turns and invokes about 18 %; the real shares
of a run are in its JSON (``kinds``). For an invoke the HTTP response *is* the reply; what it said
is classified (:func:`classify_invoke`) so a kind the bot does not implement yet (501) shows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bench import corpus


class Kind(StrEnum):
    """What a turn is, for per-kind counts and latency."""

    MESSAGE = "message"  # the echo peers' one kind
    LIST_REPORT = "list_report"
    LIST_OWNER = "list_owner"
    LIST_THEME = "list_theme"
    SHOW = "show"
    FOLLOW_UP = "follow_up"
    OVERDUE = "overdue"
    DUE = "due"
    SUMMARY = "summary"
    WRITE = "write"
    CONFIRM = "confirm"
    SEARCH = "search"
    REFRESH = "refresh"


SEARCH_INVOKE = "composeExtension/query"
REFRESH_INVOKE = "adaptiveCard/action"


@dataclass(frozen=True, slots=True)
class Step:
    """One turn: a message ``text``, or an invoke ``name`` with its ``value``."""

    kind: Kind
    text: str = ""
    invoke: str | None = None
    value: dict[str, Any] | None = None


Script = tuple[Step, ...]
Traffic = Callable[[int], Script]
"""Conversation number (0, 1, 2, ...) -> that conversation's turns, in order."""


def single_messages(texts: Callable[[int], str]) -> Traffic:
    """One message per conversation (the echo peers): ``texts(n)`` is conversation n's message."""
    return lambda n: (Step(Kind.MESSAGE, texts(n)),)


def search_value(query: str, skip: int = 0, count: int = 25) -> dict[str, Any]:
    """The ``value`` Teams sends with ``composeExtension/query`` for the ``searchItems`` command."""
    return {
        "commandId": "searchItems",
        "parameters": [{"name": "query", "value": query}],
        "queryOptions": {"skip": skip, "count": count},
    }


def refresh_value(item_id: int) -> dict[str, Any]:
    """The ``value`` of a Universal Actions card refresh (``adaptiveCard/action``) for one item."""
    return {
        "action": {
            "type": "Action.Execute",
            "verb": "refresh_item",
            "data": {"verb": "refresh_item", "item_id": item_id},
        },
        "trigger": "automatic",
    }


# Script weights, per conversation (two-turn scripts count twice in the turn shares):
# writes 6 x 2 turns = ~10 % of turns; search 10 + refresh 8 = ~18 %.
WEIGHTS: tuple[tuple[str, int], ...] = (
    ("list_report", 12), ("list_more", 4), ("list_owner", 6), ("list_theme", 5), ("show", 12),
    ("show_follow_up", 6), ("overdue", 8), ("due", 8), ("summary", 3), ("write", 6), ("search", 10),
    ("refresh", 8),
)  # fmt: skip
OWNER_NAMES = ("Sarah Khan", "Mark Owen", "Priya Shah", "Jo Bell", "Ann Cole", "Tom Reid", "Lee Wong")
SEARCH_TERMS = ("CCU", "roads", "vettting", "counter corruption", "body worn video", "Sarah Khan", "victims",
                "corruption intelligence", "")  # fmt: skip
# What people type, per kind ({alias}: a report's short name; {n}, {m}: rec numbers in it).
PHRASES: dict[Kind, tuple[str, ...]] = {
    Kind.LIST_REPORT: ("what's outstanding from the {alias} report", "outstanding recs from {alias}",
                       "what's still open on {alias}?", "list the open recommendations for {alias}"),
    Kind.LIST_OWNER: ("what's outstanding owned by {owner}", "{owner}'s items", "what's still open for {owner}?"),
    Kind.LIST_THEME: ("open items about {theme}", "outstanding recommendations on {theme}",
                      "what's outstanding on {theme}"),
    Kind.SHOW: ("show rec {n} from {alias}", "show rec {n} of the {alias} inspection"),
    Kind.FOLLOW_UP: ("and rec {m}?", "what about rec {m}?"),
    Kind.OVERDUE: ("what's overdue?", "what's overdue on {alias}?", "overdue recs owned by {owner}",
                   "anything behind schedule from {alias}?"),
    Kind.DUE: ("anything due before christmas from {alias}", "what's due next month",
               "anything due in the next 30 days from {alias}", "what's due this quarter owned by {owner}"),
    Kind.SUMMARY: ("how many are still open?", "summary for the {alias} report"),
}  # fmt: skip
EVIDENCE = (
    "Policy revised and published on the intranet; training delivered to all supervisors.",
    "Audit of 50 cases completed, findings to the March board: https://intranet.example.police.uk/audit/17",
    "New process live since 1 October; dip sample shows 94 % compliance.",
)


@dataclass(frozen=True, slots=True)
class _Rec:
    item_id: int
    alias: str
    number: str
    status: str


class TrackerMix:
    """Deterministic mixed traffic about the synthetic corpus of ``n_items`` items.

    ``scripts`` conversation scripts are drawn once (seeded) and cycled, so two runs of the same
    size send the same turns in the same order.
    """

    def __init__(
        self, n_items: int, *, seed: int = 17, scripts: int = 3000, today: dt.date | None = None
    ) -> None:
        self.n_items = n_items
        self._seed, self._count, self._today = seed, scripts, today
        self._scripts: list[Script] = []  # drawn on first use: building 100,000 items takes a second

    def __call__(self, conversation: int) -> Script:
        scripts = self._scripts or self._build()
        return scripts[conversation % len(scripts)]

    @property
    def scripts(self) -> Sequence[Script]:
        """Every distinct script, in the order they are cycled."""
        return self._scripts or self._build()

    def _build(self) -> list[Script]:
        rng = random.Random(self._seed)
        items = corpus.items(self.n_items, self._today or dt.date.today())
        first_edition = {
            key: (aliases[0] if aliases else key)
            for key, _t, aliases in corpus.reports(self.n_items)[: len(corpus.TOPICS)]
        }
        recs = [
            _Rec(n, first_edition[i.report_key], i.number, i.status)
            for n, i in enumerate(items, start=1)
            if i.report_key in first_edition and i.kind == "recommendation" and i.number
        ]
        self._by_alias: dict[str, list[_Rec]] = {}
        for rec in recs:
            self._by_alias.setdefault(rec.alias, []).append(rec)
        self._writable = [r for r in recs if r.status in ("open", "in_progress")]
        self._aliases = sorted(self._by_alias)
        names, weights = zip(*WEIGHTS, strict=True)
        self._scripts = [self._draw(rng, rng.choices(names, weights)[0]) for _ in range(self._count)]
        return self._scripts

    def _draw(self, rng: random.Random, name: str) -> Script:
        alias = rng.choice(self._aliases)
        words = {
            "alias": alias,
            "owner": rng.choice(OWNER_NAMES),
            "theme": rng.choice(corpus.THEMES),
            "n": rng.choice(self._by_alias[alias]).number,
            "m": rng.choice(self._by_alias[alias]).number,  # another rec of the same report
        }

        def say(kind: Kind) -> Step:
            return Step(kind, rng.choice(PHRASES[kind]).format(**words))

        if name == "list_more":
            return (
                Step(Kind.LIST_REPORT, f"what's outstanding from the {alias} report"),
                Step(Kind.FOLLOW_UP, "more"),
            )
        if name == "show_follow_up":
            return (say(Kind.SHOW), say(Kind.FOLLOW_UP))
        if name == "write":
            rec = rng.choice(self._writable)
            said = f"mark rec {rec.number} of {rec.alias} as evidenced: {rng.choice(EVIDENCE)}"
            return (Step(Kind.WRITE, said), Step(Kind.CONFIRM, "yes"))
        if name == "search":
            term = rng.choice((*SEARCH_TERMS, f"{alias} {words['n']}"))
            value = search_value(term, skip=rng.choice((0, 0, 0, 25)))
            return (Step(Kind.SEARCH, invoke=SEARCH_INVOKE, value=value),)
        if name == "refresh":
            return (
                Step(Kind.REFRESH, invoke=REFRESH_INVOKE, value=refresh_value(rng.randint(1, self.n_items))),
            )
        return (say(Kind(name)),)


def turn_shares(scripts: Sequence[Script]) -> dict[str, float]:
    """Share of turns per kind over ``scripts`` (what a long run converges to)."""
    counts: dict[str, int] = {}
    for script in scripts:
        for step in script:
            counts[step.kind.value] = counts.get(step.kind.value, 0) + 1
    total = sum(counts.values()) or 1
    return {kind: round(n / total, 4) for kind, n in sorted(counts.items())}


# -- what the reply said -------------------------------------------------------------------------

# Tracker's own wording (dialogs/), checked in order: "^" anchors at the start of the reply (item
# texts quoted in a card say "which" too); anything else is "card" or "text". A diagnostic only: a
# reworded reply lands in "card"/"text" and nothing fails.
_SAID = (
    ("changed since i asked", "conflict"),  # before "committed": it says "it is now evidenced" too
    ("now evidenced", "committed"),
    ("update added", "committed"),
    ("^already done", "duplicate"),
    ("nothing changed", "refused"),
    ("^sorry, i can't do that", "refused"),
    ("^which ", "asked_which"),
    ("^i can't find", "not_found"),
    ("^sorry, i didn't understand", "not_understood"),
    ("^you've made", "rate_limited"),
    ("^sorry, i don't know that button", "unknown_button"),
    ("^sorry, something went wrong", "error_reply"),
)


def classify_reply(kind: Kind, activity: dict[str, Any]) -> str:
    """What a message reply said, in one word (for the per-kind outcome counts)."""
    said = str(activity.get("summary") or activity.get("text") or "")[:200].lower()
    if kind is Kind.WRITE and said.startswith("mark "):
        return "proposed"
    for needle, outcome in _SAID:
        if said.startswith(needle[1:]) if needle[0] == "^" else needle in said:
            return outcome
    return "card" if activity.get("attachments") else "text"


def classify_invoke(kind: Kind, status: int, body: Any) -> str:
    """What an invoke response was: ``results:N``, ``card``, ``message``, ``empty`` or ``http_S``.

    A message extension answers ``{"composeExtension": {"type": "result", "attachments": [...]}}``;
    a card refresh answers ``{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive"}``.
    """
    if status >= 300:
        return f"http_{status}"
    if not isinstance(body, dict) or not body:
        return "empty"
    extension = body.get("composeExtension")
    if isinstance(extension, dict):
        attachments = extension.get("attachments")
        if extension.get("type") == "result" and isinstance(attachments, list):
            return f"results:{min(len(attachments), 25)}" if attachments else "results:0"
        return f"extension:{extension.get('type')}"
    kind_of = str(body.get("type") or "")
    if kind_of == "application/vnd.microsoft.card.adaptive":
        return "card"
    if kind_of == "application/vnd.microsoft.activity.message":
        return "message"
    return "other"


def invoke_as_expected(kind: Kind, outcome: str) -> bool:
    """Did the invoke get the kind of answer the feature gives (results for search, a card for refresh)?"""
    if kind is Kind.SEARCH:  # a word nothing matches is answered in the results area, as it should be
        return outcome.startswith("results:") or outcome == "extension:message"
    if kind is Kind.REFRESH:
        return outcome == "card"
    return not outcome.startswith("http_")
