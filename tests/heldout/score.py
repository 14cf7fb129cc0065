"""Scoring the held-out set: each row through ``understand()`` exactly as the bot runs it.

Per row: is the intent right (with its flag, e.g. thanks or out of scope), is the target right
(the report, the item or items, or asking which), are the filters right (rows that give ``slots``),
and is it a **wrong write**: a write proposed on the wrong target, of the wrong kind, or when no
write was asked. Asking for clarification, or finding nothing, is never a wrong write.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dialogs.language import Parsed, understand
from dialogs.language.intents import WRITES
from tests.heldout.rows import Row, load_rows
from tests.heldout.world import TODAY, World, build_world


@dataclass(frozen=True)
class Outcome:
    """What the bot made of one row, and how that scores."""

    row: Row
    parsed: Parsed
    intent_ok: bool
    target_ok: bool
    slots_bad: tuple[str, ...]  # the filters it got wrong (rows with slots only)
    wrong_write: str | None  # why this is a wrong write, or None

    @property
    def ok(self) -> bool:
        return self.intent_ok and self.target_ok and not self.slots_bad and not self.wrong_write


def _item_ids(p: Parsed) -> frozenset[int]:
    if p.items:
        return frozenset(i.id for i in p.items)
    return frozenset({p.item.id}) if p.item else frozenset()


def target_ok(row: Row, p: Parsed) -> bool:
    got_items = _item_ids(p)
    for want in row.targets:
        if want.ask:
            if p.needs_clarification:
                return True
            continue
        if p.needs_clarification and not want.items and not want.report:
            continue  # nothing to ask about was named
        if want.items:
            if got_items == want.items and not p.needs_clarification:
                return True
            continue
        if got_items or p.needs_clarification:
            continue
        got_report = p.report.key if p.report else None
        if got_report == want.report:
            return True
    return False


def intent_ok(row: Row, p: Parsed) -> bool:
    for intent, flag in row.intents:
        if p.intent != intent:
            continue
        if flag is None or bool(getattr(p, flag)):
            return True
    return False


def _slot_value(p: Parsed, name: str) -> str | None:
    js = p.to_json()
    if name == "peel":
        return None if p.peel_question is None else str(p.peel_question)
    if name == "mine":
        return "1" if p.mine else None
    if name == "status":
        return ",".join(sorted(p.status)) or None
    if name in ("addressee", "since", "until", "due_before", "due_after", "target_date"):
        return js.get(name)
    value = getattr(p, name, None)
    return None if value is None else str(value)


def slots_bad(row: Row, p: Parsed) -> tuple[str, ...]:
    bad = []
    for name, wants in row.slots.items():
        got = _slot_value(p, name)
        if name == "status":
            ok = got is not None and any(got == ",".join(sorted(w.split(","))) for w in wants)
        elif name in ("owner", "department", "theme", "actor", "evidence"):
            ok = got is not None and any(w.lower() in got.lower() for w in wants)
        else:
            ok = got is not None and got in wants
        if not ok:
            bad.append(f"{name}={'|'.join(wants)} got {got}")
    return tuple(bad)


def wrong_write(row: Row, p: Parsed, target_right: bool) -> str | None:
    if p.intent not in WRITES or p.needs_clarification or p.not_found:
        return None
    if not row.write:
        return f"write {p.intent.value} when none was asked"
    if not any(p.intent == i for i, _ in row.intents):
        return f"wrong kind of write: {p.intent.value}"
    if not target_right:
        return "write on the wrong target"
    return None


def score_row(world: World, row: Row) -> Outcome:
    p = understand(row.text, row.context, world.resolver, TODAY)
    t_ok = target_ok(row, p)
    return Outcome(row=row, parsed=p, intent_ok=intent_ok(row, p), target_ok=t_ok,
                   slots_bad=slots_bad(row, p), wrong_write=wrong_write(row, p, t_ok))  # fmt: skip


@dataclass(frozen=True)
class Scores:
    """The figures over a set of outcomes."""

    n: int
    intent: float
    target: float
    wrong_writes: int
    slot_rows: int
    slots: float

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Scores:
        n = len(outcomes) or 1
        with_slots = [o for o in outcomes if o.row.slots]
        return cls(
            n=len(outcomes), intent=sum(o.intent_ok for o in outcomes) / n,
            target=sum(o.target_ok for o in outcomes) / n, wrong_writes=sum(bool(o.wrong_write) for o in outcomes),
            slot_rows=len(with_slots), slots=sum(not o.slots_bad for o in with_slots) / (len(with_slots) or 1),
        )  # fmt: skip


def run(world: World | None = None) -> list[Outcome]:
    """Score every row of the set against the demo world."""
    world = world or build_world()
    return [score_row(world, row) for row in load_rows(world)]


def _line(name: str, s: Scores) -> str:
    return (f"  {name:<14} {s.n:>4}  intent {s.intent:6.1%}  target {s.target:6.1%}  "
            f"wrong writes {s.wrong_writes:>2}  filters {s.slots:6.1%} (of {s.slot_rows})")  # fmt: skip


def describe(o: Outcome) -> str:
    """One miss, for ``--verbose``."""
    p, row = o.parsed, o.row
    got_items = sorted(_item_ids(p))
    want = " | ".join(
        "ask" if e.ask else f"items {sorted(e.items)}" if e.items else f"report {e.report}"
        for e in row.targets
    )
    bits = [f"{row.id} [{row.role}; {','.join(sorted(row.tags))}] {row.text!r}"]
    if not o.intent_ok:
        bits.append(f"    intent: want {'|'.join(i.value + (':' + f if f else '') for i, f in row.intents)}, "
                    f"got {p.intent.value}{' (thanks)' if p.thanks else ''}{' (out of scope)' if p.out_of_scope else ''}")  # fmt: skip
    if not o.target_ok:
        got = (
            ("ask" if p.needs_clarification else "")
            + (f" items {got_items}" if got_items else "")
            + (f" report {p.report.key}" if p.report else "")
            + (" not_found" if p.not_found else "")
        )
        bits.append(f"    target: want {want}, got {got.strip() or 'nothing'}")
    for s in o.slots_bad:
        bits.append(f"    filter: {s}")
    if o.wrong_write:
        bits.append(f"    WRONG WRITE: {o.wrong_write}")
    return "\n".join(bits)


def report(outcomes: list[Outcome], verbose: bool = False) -> str:
    """The figures overall, by role and by category; with ``verbose`` every miss."""
    lines = [
        f"Held-out set: {len(outcomes)} messages (today = {TODAY.isoformat()}, the demo data as the world)"
    ]
    lines.append(_line("ALL", Scores.of(outcomes)))
    lines.append("by role:")
    for role in ("liaison", "lead", "senior"):
        lines.append(_line(role, Scores.of([o for o in outcomes if o.row.role == role])))
    lines.append("by category:")
    tags = sorted({t for o in outcomes for t in o.row.tags})
    for tag in tags:
        lines.append(_line(tag, Scores.of([o for o in outcomes if tag in o.row.tags])))
    confusions = Counter(
        (("|".join(i.value for i, _ in o.row.intents)), o.parsed.intent.value)
        for o in outcomes
        if not o.intent_ok
    )
    if confusions:
        lines.append("intent misses (want -> got: count):")
        lines += [f"  {w} -> {g}: {c}" for (w, g), c in confusions.most_common()]
    wrong = [o for o in outcomes if o.wrong_write]
    if wrong:
        lines.append("WRONG WRITES:")
        lines += ["  " + describe(o).replace("\n", "\n  ") for o in wrong]
    if verbose:
        lines.append("misses:")
        for o in outcomes:
            if not o.ok:
                lines.append(describe(o))
    return "\n".join(lines)
