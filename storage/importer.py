"""Import HMICFRS recommendations from a CSV or XLSX file, as one audited transaction.

A row is one item (recommendation, area for improvement or cause of concern) plus the report it
belongs to; a row that fills in only report columns registers a report with no items yet (a JTAI
whose report is still to be published). Rules that keep repeated imports safe:

- Items match on report + kind + number, or on the normalised text when the number is blank.
- An empty cell means "not given": import never blanks a stored value and never deletes anything.
- Values worked out rather than given (a deadline found in the text, for_force from the addressee,
  a report type guessed from the title) only fill blanks on rows that already exist.
- Every changed field gets its own audit event; an unchanged file writes nothing, not even a seq bump.
- Any bad row rejects the whole file; errors are collected first so one run lists them all.

Reading and cleaning the cells is :mod:`storage.import_rows`; this module does the database work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storage.import_rows import ImportRejected, ParsedRow, ReportSpec, Table, parse_rows, read_table, show
from storage.models import Evidence, Item, ItemEvent, ItemStatus, Report, ReportAlias, utcnow
from storage.store import Store, bump_seq, event_row
from storage.views import Actor, Source

__all__ = ["ImportRejected", "ImportResult", "Table", "import_file", "import_table", "terminal_progress"]

Progress = Callable[[int, int], None]
DEFAULT_ACTOR = Actor("tracker import")
_ACTIONS = {"status": "status_changed", "owner_name": "owner_changed"}
_EVENT_FIELD = {"owner_name": "owner"}
_REPORT_FIELDS = ("title", "published", "report_type", "url")


@dataclass(slots=True)
class ImportResult:
    """What an import did (or, for a dry run, would have done)."""

    file: str
    dry_run: bool = False
    rows: int = 0
    reports_created: int = 0
    reports_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seq: int | None = None  # change counter value the import wrote under; None if nothing was written

    @property
    def changed(self) -> bool:
        """True if the import changed (or, dry, would change) anything."""
        return bool(self.changes)

    def render(self, max_changes: int = 200) -> str:
        """Plain text for the CLI: counts, then warnings, then one line per change."""
        verb = "Dry run of" if self.dry_run else "Imported"
        lines = [
            f"{verb} {self.file}: {self.rows} rows; reports: {self.reports_created} created, "
            f"{self.reports_updated} updated; items: {self.items_created} created, "
            f"{self.items_updated} updated, {self.items_unchanged} unchanged."
        ]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        elif not self.changed:
            lines.append("Nothing changed.")
        if self.warnings:
            lines += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        if self.changes:
            lines += ["", "Changes:", *(f"  - {c}" for c in self.changes[:max_changes])]
            if len(self.changes) > max_changes:
                lines.append(f"  ... and {len(self.changes) - max_changes} more")
        return "\n".join(lines)


def terminal_progress(stream: IO[str]) -> Progress:
    """A ``progress(done, total)`` drawing a one-line bar on a terminal; a no-op on anything else."""
    if not stream.isatty():
        return lambda done, total: None

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


async def import_file(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
) -> ImportResult:
    """Import a ``.csv`` or ``.xlsx`` file in one transaction; :class:`ImportRejected` lists every bad row.

    ``source`` defaults to ``Source("import")`` (the demo seeder passes ``Source("seed")``).
    """
    table = await asyncio.to_thread(read_table, path)
    return await import_table(store, table, dry_run=dry_run, actor=actor, progress=progress, source=source)


async def import_table(
    store: Store,
    table: Table,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
) -> ImportResult:
    """Import rows already read (by ``import_rows.read_table``, or built with ``import_rows.make_table``)."""
    result = ImportResult(file=table.name, dry_run=dry_run, rows=len(table.rows), warnings=list(table.warnings))
    run = _Run(table, result, actor or DEFAULT_ACTOR, source or Source("import"), progress)
    try:
        async with store.sessions() as s, s.begin() as tx:
            await run.execute(s)
            if dry_run:  # the same work, then undone: a dry run reports exactly what a real one does
                await tx.rollback()
    except (StaleDataError, IntegrityError) as error:
        # Another writer changed one of these items, or added the same report, mid-import.
        raise ImportRejected(
            [f"the tracker changed while importing ({type(error).__name__}); nothing was written, run it again"]
        ) from error
    if dry_run:
        result.seq = None
    return result


# ---- writing ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Plan:
    row: ParsedRow
    item: Item | None  # None: create
    diffs: list[tuple[str, Any, Any]]


class _Run:
    """One import: load what the file touches, plan every change, then write them all under one seq."""

    def __init__(
        self, table: Table, result: ImportResult, actor: Actor, source: Source, progress: Progress | None
    ) -> None:
        self.table, self.result, self.actor, self.source = table, result, actor, source
        self.progress = progress or (lambda done, total: None)
        self.now = utcnow()

    async def execute(self, s: AsyncSession) -> None:
        reports = {r.key: r for r in (await s.scalars(select(Report))).all()}
        aliases: dict[int, set[str]] = {}
        for rid, alias in (await s.execute(select(ReportAlias.report_id, ReportAlias.alias))).all():
            aliases.setdefault(rid, set()).add(alias.casefold())
        parsed = parse_rows(self.table, reports)  # raises ImportRejected listing every bad row
        self.result.warnings += parsed.warnings
        ids = [r.id for r in reports.values() if r.key in parsed.reports]
        items: dict[tuple[int, str, str], Item] = {}
        if ids:
            for it in (await s.scalars(select(Item).where(Item.report_id.in_(ids)))).all():
                items[(it.report_id, it.kind, it.match_key)] = it
        evidence = await _latest_evidence(s, [i.id for i in items.values()])

        report_plans = {key: _plan_report(spec, reports.get(key), aliases) for key, spec in parsed.reports.items()}
        plans: list[_Plan] = []
        matches = iter(_match(items, reports, [row for row in parsed.rows if not row.report_only]))
        for n, row in enumerate(parsed.rows, 1):
            self.progress(n, len(parsed.rows))
            if row.report_only:
                continue
            item = next(matches)
            if item is not None and row.latest_evidence and row.latest_evidence != evidence.get(item.id):
                self.result.warnings.append(
                    f"{row.where}: latest_evidence differs from the stored evidence and is not imported "
                    "(evidence is added through the bot, so it is attributed)"
                )
            plans.append(_Plan(row, item, _diff(item, row) if item else []))
        if not any(report_plans.values()) and all(p.item is not None and not p.diffs for p in plans):
            self.result.items_unchanged = len(plans)
            return  # nothing to write: no seq bump, no events
        seq = await bump_seq(s)
        self.result.seq = seq
        for key, plan in report_plans.items():
            if plan:
                reports[key] = await self._write_report(s, parsed.reports[key], reports.get(key), plan)
        await self._write_items(s, plans, reports, seq)

    async def _write_report(self, s: AsyncSession, spec: ReportSpec, report: Report | None, plan: dict) -> Report:
        if report is None:
            report = Report(
                key=spec.key, title=spec.title, report_type=spec.report_type or spec.guessed_type,
                published=spec.published, url=spec.url, created_at=self.now,
            )  # fmt: skip
            s.add(report)
            await s.flush()  # the aliases need its id
            self.result.reports_created += 1
            self.result.changes.append(f"report {spec.key}: new ({show(spec.title, limit=80)})")
        else:
            self.result.reports_updated += 1
            for name in _REPORT_FIELDS:
                if name in plan:
                    old = getattr(report, name)
                    setattr(report, name, plan[name])
                    self.result.changes.append(f"report {spec.key}: {name} {show(old, limit=60)} → {show(plan[name], limit=60)}")
        for alias in plan.get("aliases", ()):
            s.add(ReportAlias(report_id=report.id, alias=alias, added_by=self.actor.name, created_at=self.now))
            self.result.changes.append(f"report {spec.key}: alias '{alias}' added")
        return report

    async def _write_items(self, s: AsyncSession, plans: list[_Plan], reports: dict[str, Report], seq: int) -> None:
        created: list[tuple[Item, ParsedRow]] = []
        changed: list[_Plan] = []
        for p in plans:
            if p.item is None:
                item = _new_item(p.row, reports[p.row.report_key].id, seq, self.now)
                s.add(item)
                created.append((item, p.row))
                self.result.items_created += 1
                self.result.changes.append(f"{p.row.label}: new ({item.status})")
            elif p.diffs:
                for name, old, new in p.diffs:
                    setattr(p.item, name, new)
                    if name == "owner_name":
                        p.item.owner_aad_id = None  # the stored Teams id belonged to the previous owner
                    elif name == "status":
                        p.item.status_changed_at = self.now
                    elif name == "number":
                        p.item.match_key = p.row.match_key  # now matched on its number, like the file says
                    label = _EVENT_FIELD.get(name, name)
                    self.result.changes.append(f"{p.row.label}: {label} {show(old, limit=60)} → {show(new, limit=60)}")
                p.item.updated_at = self.now
                p.item.changed_seq = seq
                changed.append(p)
                self.result.items_updated += 1
            else:
                self.result.items_unchanged += 1
        await s.flush()  # new items get ids; each changed item's version moves by exactly one
        events = [self._event(item.id, "created", row, new=item.text) for item, row in created]
        for p in changed:
            assert p.item is not None
            for name, old, new in p.diffs:
                events.append(self._event(
                    p.item.id, _ACTIONS.get(name, "field_changed"), p.row,
                    field_name=_EVENT_FIELD.get(name, name), old=show(old, blank=None), new=show(new, blank=None),
                ))  # fmt: skip
        s.add_all(events)
        await s.flush()

    def _event(self, item_id: int, action: str, row: ParsedRow, **kw: Any) -> ItemEvent:
        # The note says which file and line did it, so the audit trail leads back to the source.
        note = f"{self.table.name} {row.where}"
        return event_row(item_id, action, self.actor, self.source, at=self.now, note=note, **kw)


def _plan_report(spec: ReportSpec, report: Report | None, aliases: dict[int, set[str]]) -> dict[str, Any]:
    """What to set on a report: everything for a new one, else only given values that differ."""
    if report is None:
        return {"new": True, "aliases": list(spec.aliases)}
    plan: dict[str, Any] = {}
    for name in _REPORT_FIELDS:
        value = getattr(spec, name)
        if value is not None and value != getattr(report, name):
            plan[name] = value
    have = aliases.get(report.id, set())
    new_aliases = [a for a in spec.aliases if a.casefold() not in have]
    if new_aliases:
        plan["aliases"] = new_aliases
    return plan


def _match(
    items: dict[tuple[int, str, str], Item], reports: dict[str, Report], rows: list[ParsedRow]
) -> list[Item | None]:
    """The stored item each row means: by number (or by text when unnumbered); then a numbered row
    with no match takes an unnumbered item with the same text that no row claimed, so numbering
    items later updates them instead of duplicating them."""
    ids = [reports[r.report_key].id if r.report_key in reports else None for r in rows]
    found = [items.get((rid, r.kind, r.match_key)) if rid else None for rid, r in zip(ids, rows, strict=True)]
    claimed = {i.id for i in found if i is not None}
    for n, (rid, row) in enumerate(zip(ids, rows, strict=True)):
        if found[n] is None and rid and row.number:
            candidate = items.get((rid, row.kind, row.text_key))
            if candidate is not None and candidate.id not in claimed:
                found[n] = candidate
                claimed.add(candidate.id)
    return found


def _diff(item: Item, row: ParsedRow) -> list[tuple[str, Any, Any]]:
    """(field, stored, new) for each field the row changes: given values replace, derived ones fill blanks."""
    out = [("number", item.number, row.number)] if item.number != row.number else []
    derived_for_force = row.fill.get("for_force")
    new_addressee = row.given.get("addressee")
    if (
        "for_force" not in row.given
        and derived_for_force is not None
        and new_addressee is not None
        and new_addressee != item.addressee
        and derived_for_force != item.for_force
    ):
        out.append(("for_force", item.for_force, derived_for_force))  # the addressee changed: re-derive
    for name, new in row.given.items():
        old = list(item.themes or []) if name == "themes" else getattr(item, name)
        if old != new:
            out.append((name, old, new))
    for name, new in row.fill.items():
        if name != "for_force" and name not in row.given and new is not None and getattr(item, name) is None:
            out.append((name, None, new))
    return out


def _new_item(row: ParsedRow, report_id: int, seq: int, now: dt.datetime) -> Item:
    values = {**row.fill, **row.given}
    for_force = values.pop("for_force", None)
    for_force = True if for_force is None else for_force
    status = values.pop("status", None) or (ItemStatus.OPEN if for_force else ItemStatus.NOT_FOR_US).value
    values.setdefault("themes", [])
    return Item(
        report_id=report_id, kind=row.kind, number=row.number, match_key=row.match_key, for_force=for_force,
        status=status, created_at=now, updated_at=now, changed_seq=seq, **values,
    )  # fmt: skip


async def _latest_evidence(s: AsyncSession, item_ids: Sequence[int]) -> dict[int, str]:
    """Newest evidence text per item, to notice an edited ``latest_evidence`` cell."""
    if not item_ids:
        return {}
    newest = (
        select(Evidence.item_id, func.max(Evidence.id).label("eid"))
        .where(Evidence.kind == "evidence", Evidence.item_id.in_(item_ids))
        .group_by(Evidence.item_id)
        .subquery()
    )
    rows = await s.execute(select(Evidence.item_id, Evidence.text).join(newest, Evidence.id == newest.c.eid))
    return {item_id: text for item_id, text in rows.all()}
