"""The held-out phrasings (``phrasings.tsv``), read into typed rows with their targets resolved.

The file is data: one message a line, tab-separated, ``#`` starts a comment line. Columns:

``id  role  tags  intent  target  write  context  slots  text``

- ``role``: ``liaison`` (SD&A liaison officer), ``lead`` (an item lead), ``senior`` (senior officer or
  committee member).
- ``tags``: comma-separated categories (``typo1``/``typo2``: one or two slips; ``unnumbered``,
  ``followup``, ``filter``, ``committee``, ``write``, ``multi``, ``smalltalk``, ``oos``, ...).
- ``intent``: a value of :class:`dialogs.language.Intent`, optionally with a flag the reply depends
  on (``greeting:thanks``, ``unknown:out_of_scope``). ``a|b`` lists intents that are both right.
- ``target``: ``-`` (nothing named), ``R:KEY`` (a report), ``I:REF`` or ``I:REF+REF`` (one item or
  several), ``ASK`` (the bot should ask which). ``x|y``: either is right. ``REF`` is ``KEY/35`` (by
  number), ``KEY/#12`` (by id) or ``KEY/~words`` (the one item of the report whose text has the words).
- ``write``: ``y`` when the message asks for a change, else ``n``.
- ``context``: ``-`` or ``;``-separated ``item=REF``, ``items=REF,REF``, ``report=KEY``,
  ``query=outstanding``, ``user=DI Naomi Clarke``, ``meeting=YYYY-MM-DD``: what the conversation
  remembers when the message arrives (the last item shown, the last list shown, ...).
- ``slots``: ``-`` or ``;``-separated expected filters and details (``status=evidenced,signed_off``,
  ``owner=Naomi Clarke``, ``department=Public Protection``, ``theme=...``, ``peel=6``, ``kind=afi``,
  ``addressee=other``, ``since=2026-11-30``, ``mine=1``, ``measure=signed_off``, ``actor=Owen``,
  ``target_date=2027-01-31``, ``evidence=words``). ``a|b``: either value is right.

``KEY`` may be a short name from :data:`KEYS` or a report key of the demo data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.language import Context, Intent
from tests.heldout.world import World

PHRASINGS = Path(__file__).parent / "phrasings.tsv"
ROLES = ("liaison", "lead", "senior")
COLUMNS = ("id", "role", "tags", "intent", "target", "write", "context", "slots", "text")

# Short names for the demo reports (storage/demo/*.csv), so the rows stay readable.
KEYS = {
    "VET": "vetting-misconduct-misogyny",
    "ROADS": "roads-policing-not-optional",
    "DAP": "domestic-abuse-pandemic-2021",
    "BETRAY": "shining-a-light-on-betrayal",
    "PEEL": "peel-2021-22-wmp",
    "JTAI": "jtai-walsall",
    "CP": "child-protection-2014",
    "VAWG": "vawg-interim",
    "LEGIT": "peel-legitimacy-2016",
    "CDI": "cdi-devon-cornwall",
    "FRAUD": "fraud-review-2021",
    "EFFECT": "peel-effectiveness-2016",
    "MERCIA": "peel-2021-22-west-mercia",
}


@dataclass(frozen=True)
class Expected:
    """One acceptable target: a report key, a set of item ids, or "the bot asks"."""

    report: str | None = None
    items: frozenset[int] = frozenset()
    ask: bool = False


@dataclass(frozen=True)
class Row:
    """One held-out message and what the bot should make of it."""

    id: str
    role: str
    tags: frozenset[str]
    intents: tuple[tuple[Intent, str | None], ...]  # (intent, flag) alternatives
    targets: tuple[Expected, ...]  # alternatives
    write: bool
    context: Context
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    text: str = ""

    @property
    def typos(self) -> int:
        return 2 if "typo2" in self.tags else 1 if "typo1" in self.tags else 0

    @property
    def hard(self) -> bool:
        """A row with one or two slips in it."""
        return self.typos > 0


def _key(name: str) -> str:
    return KEYS.get(name, name)


def _ref(world: World, ref: str) -> int:
    key, _, what = ref.partition("/")
    return world.find(f"{_key(key)}/{what}").id


def _target(world: World, text: str) -> tuple[Expected, ...]:
    out = []
    for alt in text.split("|"):
        alt = alt.strip()
        if alt == "-":
            out.append(Expected())
        elif alt == "ASK":
            out.append(Expected(ask=True))
        elif alt.startswith("R:"):
            out.append(Expected(report=_key(alt[2:])))
        elif alt.startswith("I:"):
            ids = frozenset(_ref(world, r) for r in alt[2:].split("+"))
            reports = {world.report_of(next(i for i in world.items if i.id == n)).key for n in ids}
            out.append(Expected(report=reports.pop() if len(reports) == 1 else None, items=ids))
        else:
            raise ValueError(f"bad target {alt!r}")
    return tuple(out)


def _intents(text: str) -> tuple[tuple[Intent, str | None], ...]:
    out = []
    for alt in text.split("|"):
        name, _, flag = alt.strip().partition(":")
        out.append((Intent(name), flag or None))
    return tuple(out)


def _context(world: World, text: str) -> Context:
    if text.strip() == "-":
        return Context()
    fields: dict[str, object] = {}
    for part in text.split(";"):
        name, _, value = part.strip().partition("=")
        value = value.strip()
        if name == "item":
            fields["last_item_id"] = _ref(world, value)
            fields.setdefault("last_report_key", _key(value.partition("/")[0]))
        elif name == "items":
            fields["last_items"] = tuple(_ref(world, r.strip()) for r in value.split(","))
        elif name == "report":
            fields["last_report_key"] = _key(value)
        elif name == "query":
            fields["last_query"] = value
        elif name == "user":
            fields["user_name"] = value
        elif name == "meeting":
            fields["last_meeting"] = dt.date.fromisoformat(value)
        else:
            raise ValueError(f"bad context field {name!r}")
    return Context(**fields)  # type: ignore[arg-type]


def _slots(text: str) -> dict[str, tuple[str, ...]]:
    if text.strip() == "-":
        return {}
    out = {}
    for part in text.split(";"):
        name, _, value = part.strip().partition("=")
        out[name.strip()] = tuple(v.strip() for v in value.split("|"))
    return out


def load_rows(world: World, path: Path = PHRASINGS) -> list[Row]:
    """Every row of the set, its references resolved against ``world`` (raises on a bad row)."""
    rows: list[Row] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if cells[0] == "id":
            continue
        if len(cells) != len(COLUMNS):
            raise ValueError(f"{path.name}:{n}: {len(cells)} columns, want {len(COLUMNS)}")
        rid, role, tags, intent, target, write, context, slots, text = cells
        if rid in seen or role not in ROLES or write not in ("y", "n"):
            raise ValueError(f"{path.name}:{n}: bad id, role or write")
        seen.add(rid)
        try:
            rows.append(Row(
                id=rid, role=role, tags=frozenset(t for t in tags.split(",") if t and t != "-"),
                intents=_intents(intent), targets=_target(world, target), write=write == "y",
                context=_context(world, context), slots=_slots(slots), text=text,
            ))  # fmt: skip
        except (ValueError, LookupError, KeyError) as err:
            raise ValueError(f"{path.name}:{n}: {err}") from err
    return rows
