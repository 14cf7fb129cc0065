"""Demo data, loaded through the real importer and the real Store API.

Three layers, in order:

1. ``demo/jac-2022-12.csv``: the reports and items the force's Joint Audit Committee paper of
   15 December 2022 names. The five vetting recommendations carry the paper's text and deadlines
   verbatim; where the paper gives no text the item says so plainly. See ``demo/README.md``.
2. The sample file of real HMICFRS recommendations (``storage/demo/hmicfrs-sample-recommendations.csv``).
3. A spread of activity, written as the force's own notes through :meth:`Store.change_item` with
   ``Source("seed")``: owners, progress updates, evidence, and force-set target dates (the deadline
   text says "Force-set target ... not an HMICFRS deadline", so no date is put in HMICFRS's mouth).
   Each step's audit events are then back-dated relative to ``now`` (only ever ``seed`` events), so
   the weekly digest has a "what changed" section, and some items fall due or are overdue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from storage.import_rows import make_table, read_table
from storage.importer import import_file, import_table
from storage.models import Evidence, Item, ItemEvent, utcnow
from storage.store import ItemChange, NewEvidence, Store, bump_seq
from storage.views import Actor, EventView, ItemView, Snapshot, Source

log = logging.getLogger(__name__)

DEMO_CSV = Path(__file__).parent / "demo" / "jac-2022-12.csv"
NOT_GIVEN = "Text not given in the JAC paper of 15 December 2022 — see the published report."
SEED = Source("seed")
SEED_ACTOR = Actor("Demo seed (Strategy, Delivery & Assurance)")
_CREATED_DAYS_AGO = 90
_SDA = "Insp Dan Morris (Strategy, Delivery & Assurance)"


SAMPLE_CSV = Path(__file__).parent / "demo" / "hmicfrs-sample-recommendations.csv"


def default_sample_csv() -> Path | None:
    """The sample file of real HMICFRS recommendations that ships with the demo data."""
    return SAMPLE_CSV if SAMPLE_CSV.exists() else None


@dataclass(frozen=True, slots=True)
class Step:
    """One piece of demo activity on one item, ``days_ago`` before ``now``, by ``actor``."""

    days_ago: int
    report: str
    kind: str
    ref: str  # the item's number, or a distinctive part of its text when it has none
    actor: str
    status: str | None = None
    owner: str | None = None
    evidence: str | None = None
    update: str | None = None
    target_in_days: int | None = None  # a force-set target date, counted from now (negative: missed)


_CP, _AFI = "child-protection-2014", "peel-2021-22-wmp"
_PRICE, _CLARKE = "DCI Helen Price (Public Protection)", "DI Naomi Clarke (Child Protection)"
STEPS: tuple[Step, ...] = (
    Step(45, "peel-effectiveness-2016", "recommendation", "5", _SDA, status="in_progress",
         owner="DCI Amy Patel (Serious and Organised Crime)"),
    Step(40, _CP, "recommendation", "3 of 6", _PRICE, target_in_days=12,
         update="Force note: we agreed this target date at our HMICFRS governance board."),
    Step(40, _CP, "recommendation", "4 of 6", _PRICE, target_in_days=26,
         update="Force note: we agreed this target date at our HMICFRS governance board."),
    Step(40, _CP, "recommendation", "5 of 6", _CLARKE, target_in_days=-9,
         update="Force note: we agreed this target date at our HMICFRS governance board."),
    Step(38, _AFI, "afi", "3 of 4", _SDA, target_in_days=20,
         update="Force note: our own target date, set at the PEEL delivery meeting."),
    Step(38, _AFI, "afi", "4 of 4", _SDA, target_in_days=-15,
         update="Force note: our own target date, set at the PEEL delivery meeting."),
    Step(21, "peel-effectiveness-2016", "recommendation", "5", "DCI Amy Patel (Serious and Organised Crime)",
         status="evidenced", evidence="Force note: our organised crime group mapping is now done by the regional "
         "organised crime unit; the regional tasking minutes recording the transfer are in the evidence folder."),
    Step(6, _CP, "recommendation", "3 of 6", _PRICE,
         update="Force note: evidence pack being drafted with the Child Protection team; first draft reviewed."),
    Step(5, _CP, "recommendation", "1 of 6", _CLARKE, status="evidenced",
         evidence="Force note: evidence pack sent to the HMICFRS Force Liaison Lead for review (audit results, "
         "revised procedure and briefing records)."),
    Step(4, _AFI, "afi", "4 of 4", _SDA, owner="Supt Claire Doyle (Strategy, Delivery & Assurance)",
         update="Force note: target date missed; new lead appointed and the action plan is being refreshed."),
    Step(3, _CP, "recommendation", "2 of 6", _CLARKE,
         update="Force note: case audit under way; findings go to the next governance board."),
    Step(2, _AFI, "afi", "2 of 4", "Supt Raj Mehta (Strategy, Delivery & Assurance)", status="evidenced",
         evidence="Force note: completed action plan and performance data submitted to HMICFRS for assessment."),
    Step(1, "fraud-review-2021", "recommendation", "1", _SDA, status="in_progress",
         owner="DI Tom Reid (Economic Crime Unit)",
         update="Force note: checking our call handling against the NPCC Coordinator for Economic Crime's guidance."),
    Step(1, "vawg-interim", "recommendation", "2", "Det Supt Anna Byrne (VAWG lead)", status="in_progress",
         owner="Det Supt Anna Byrne (VAWG lead)",
         update="Force note: perpetrator-focused tasking added to the force VAWG delivery plan."),
)  # fmt: skip


async def seed_demo(store: Store, *, now: dt.datetime | None = None, sample_csv: Path | None = None) -> str:
    """Load the demo once; if any demo report is already stored, change nothing and say so."""
    now = now or utcnow()
    demo_keys = sorted(
        {cells["report_short"] for _, cells in (await asyncio.to_thread(read_table, DEMO_CSV)).rows}
    )
    present = [r.key for r in await store.reports() if r.key in demo_keys]
    if present:
        return f"Demo data is already loaded (found {', '.join(present)}); nothing changed."
    created_at = now - dt.timedelta(days=_CREATED_DAYS_AGO)
    floors = await _floors(store)
    demo = await import_file(store, DEMO_CSV, actor=SEED_ACTOR, source=SEED)
    lines = [f"Loaded the JAC paper's reports: {demo.reports_created} reports, {demo.items_created} items."]
    sample_csv = sample_csv or default_sample_csv()
    if sample_csv is not None:
        sample = await import_file(store, sample_csv, actor=SEED_ACTOR, source=SEED)
        lines.append(
            f"Loaded {sample_csv.name}: {sample.reports_created} reports, {sample.items_created} items."
        )
    else:
        lines.append("No sample file found: loaded the JAC paper's items only.")
    await _stamp(store, floors, created_at)
    done = 0
    for step in sorted(STEPS, key=lambda s: -s.days_ago):  # oldest first, so event ids follow time
        item = _find(await store.snapshot(), step)
        if item is None:
            log.info("demo step skipped, no item %s %s %s", step.report, step.kind, step.ref)
            continue
        floors = await _floors(store)
        await _apply(store, step, item, now)
        await _stamp(store, floors, now - dt.timedelta(days=step.days_ago))
        done += 1
    lines.append(
        f"Added {done} pieces of demo activity (source 'seed'), dated up to {_CREATED_DAYS_AGO} days back."
    )
    lines.append(_summary(await store.snapshot(), await store.events_since(now - dt.timedelta(days=7)), now))
    return "\n".join(lines)


def _find(snap: Snapshot, step: Step) -> ItemView | None:
    report = next((r for r in snap.reports if r.key == step.report), None)
    if report is None:
        return None
    for item in snap.items:
        same_ref = item.number == step.ref or (not item.number and step.ref in item.text)
        if item.report_id == report.id and item.kind == step.kind and same_ref:
            return item
    return None


async def _apply(store: Store, step: Step, item: ItemView, now: dt.datetime) -> None:
    actor = Actor(step.actor)
    if step.target_in_days is not None:
        target = now.date() + dt.timedelta(days=step.target_in_days)
        deadline = (
            f"Force-set target: by {target.day} {target:%B %Y} (set by the force, not an HMICFRS deadline)"
        )
        report_key = next(r.key for r in (await store.reports()) if r.id == item.report_id)
        header = ("report_short", "kind", "number", "text", "deadline", "due_date")
        row = (report_key, item.kind, item.number, item.text, deadline, target.isoformat())
        await import_table(
            store, make_table("demo force targets", header, [("line 2", row)]), actor=actor, source=SEED
        )
    notes = [("evidence", step.evidence), ("update", step.update)]
    for n, (kind, text) in enumerate((k, t) for k, t in notes if t):
        first = n == 0
        change = ItemChange(
            status=step.status if first else None, owner_name=step.owner if first else None,
            set_owner=first and step.owner is not None, evidence=NewEvidence(kind, text),
        )  # fmt: skip
        await store.change_item(item.id, None, change, actor, SEED)
    if not step.evidence and not step.update and (step.status or step.owner):
        change = ItemChange(status=step.status, owner_name=step.owner, set_owner=step.owner is not None)
        await store.change_item(item.id, None, change, actor, SEED)


async def _floors(store: Store) -> tuple[int, int]:
    async with store.read_sessions() as s:
        events = await s.scalar(select(func.max(ItemEvent.id)))
        evidence = await s.scalar(select(func.max(Evidence.id)))
    return int(events or 0), int(evidence or 0)


async def _stamp(store: Store, floors: tuple[int, int], at: dt.datetime) -> None:
    """Back-date the ``seed`` events written since ``floors`` (and their evidence and items) to ``at``.

    Demo only: real changes are never re-dated, and only events whose source is ``seed`` move.
    """
    async with store.sessions() as s, s.begin():
        q = select(ItemEvent).where(ItemEvent.id > floors[0], ItemEvent.source == SEED.kind)
        events = (await s.scalars(q)).all()
        if not events:
            return
        seq = await bump_seq(s)
        item_ids = {e.item_id for e in events}
        for e in events:
            e.at = at
        q_ev = select(Evidence).where(Evidence.id > floors[1], Evidence.item_id.in_(item_ids))
        for ev in (await s.scalars(q_ev)).all():
            ev.created_at = at
        for item in (await s.scalars(select(Item).where(Item.id.in_(item_ids)))).all():
            actions = {e.action for e in events if e.item_id == item.id}
            item.updated_at = at
            item.changed_seq = seq
            if "created" in actions:
                item.created_at = at
            if "status_changed" in actions:
                item.status_changed_at = at


def _summary(snap: Snapshot, recent: tuple[EventView, ...], now: dt.datetime) -> str:
    today = now.date()
    soon = [
        i
        for i in snap.items
        if i.live and i.due_date and today <= i.due_date <= today + dt.timedelta(days=30)
    ]
    overdue = [i for i in snap.items if i.overdue(today)]
    return (
        f"Now: {len(snap.reports)} reports, {len(snap.items)} items; {len(soon)} due in the next 30 days, "
        f"{len(overdue)} overdue; {len(recent)} changes in the last 7 days."
    )
