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
- A stale file never undoes a newer change (:mod:`storage.import_merge`): a row of an older export
  whose cells differ is a conflict and leaves its item alone; a file with no version column is
  merged three ways against what the last import set, so changes made in Teams since are kept.
  ``overwrite`` applies the file anyway, and each such change is audited as an overwrite.
- Columns the tracker does not know are kept per item (``Item.extra_columns``), never dropped.

Reading the file is :mod:`storage.import_sheets`, cleaning the cells :mod:`storage.import_rows`;
this module does the database work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storage.import_merge import EXTRA, Decision, decide, diff, state_of
from storage.import_rows import ImportRejected, ParsedRow, ReportSpec, Table, parse_rows, read_table, show
from storage.models import Item, ItemEvent, ItemStatus, Report, ReportAlias, utcnow
from storage.partial_dates import PartialDate
from storage.store import Store, bump_seq, event_row, latest_evidence
from storage.views import Actor, Source

__all__ = ["ImportRejected", "ImportResult", "Table", "import_file", "import_table", "terminal_progress"]

Progress = Callable[[int, int], None]
DEFAULT_ACTOR = Actor("tracker import")
_ACTIONS = {"status": "status_changed", "owner_name": "owner_changed"}
_EVENT_FIELD = {"owner_name": "owner", "rag_override": "rag"}
_REPORT_FIELDS = ("title", "published", "report_type", "url")
_FIELD_SIZE = 40  # ItemEvent.field


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
    header: str = "line 1"  # where the header row was found
    columns: list[str] = field(default_factory=list)  # how each header was read
    unusual_columns: list[str] = field(
        default_factory=list
    )  # those read as a near-miss, or kept as their own
    mappings: list[str] = field(
        default_factory=list
    )  # values read as something else: "'Closed' → signed_off"
    kept: list[str] = field(
        default_factory=list
    )  # fields left as changed in the tracker (the file is behind)
    conflicts: list[str] = field(
        default_factory=list
    )  # rows left alone: both sides changed, or a stale version
    overwrites: int = 0  # fields replaced only because of ``overwrite``

    @property
    def changed(self) -> bool:
        """True if the import changed (or, dry, would change) anything."""
        return bool(self.changes)

    def render(self, max_changes: int = 200) -> str:
        """Plain text for the CLI: counts, how the file was read, warnings, conflicts, then one line per change."""
        verb = "Dry run of" if self.dry_run else "Imported"
        lines = [
            f"{verb} {self.file}: {self.rows} rows; reports: {self.reports_created} created, "
            f"{self.reports_updated} updated; items: {self.items_created} created, "
            f"{self.items_updated} updated, {self.items_unchanged} unchanged"
            + (f", {len(self.conflicts)} conflicts left as they are." if self.conflicts else ".")
        ]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        elif not self.changed:
            lines.append("Nothing changed.")
        columns = self.columns if self.dry_run else self.unusual_columns
        if columns:
            lines += ["", f"Columns (header {self.header}):", *(f"  - {c}" for c in columns)]
        if self.mappings:
            lines += ["", "Values read as:", *(f"  - {m}" for m in self.mappings)]
        if self.warnings:
            lines += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        if self.conflicts:
            lines += ["", "Conflicts (these items were left as they are; --overwrite takes the file's values):",
                      *(f"  - {c}" for c in self.conflicts)]  # fmt: skip
        if self.kept:
            lines += ["", "Kept (changed in the tracker since the last import; --overwrite takes the file's values):",
                      *(f"  - {k}" for k in self.kept)]  # fmt: skip
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
    sheet: str | None = None,
    overwrite: bool = False,
) -> ImportResult:
    """Import a ``.csv`` or ``.xlsx`` file in one transaction; :class:`ImportRejected` lists every bad row.

    ``source`` defaults to ``Source("import")`` (the demo seeder passes ``Source("seed")``);
    ``sheet`` names the workbook sheet (else the one whose headers fit); ``overwrite`` takes the
    file's values even over changes made in the tracker since (audited as overwrites).
    """
    table = await asyncio.to_thread(read_table, path, sheet)
    return await import_table(
        store, table, dry_run=dry_run, actor=actor, progress=progress, source=source, overwrite=overwrite
    )


async def import_table(
    store: Store,
    table: Table,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
    overwrite: bool = False,
) -> ImportResult:
    """Import rows already read (by ``import_rows.read_table``, or built with ``import_rows.make_table``)."""
    result = ImportResult(
        file=table.name, dry_run=dry_run, rows=len(table.rows), warnings=list(table.warnings), header=table.where,
        columns=[c.describe() for c in table.columns if c.label or c.column],
        unusual_columns=[c.describe() for c in table.columns if (c.label and c.column is None) or c.near or c.note],
    )  # fmt: skip
    run = _Run(table, result, actor or DEFAULT_ACTOR, source or Source("import"), progress, overwrite)
    try:
        async with store.sessions() as s, s.begin() as tx:
            await run.execute(s)
            if dry_run:  # the same work, then undone: a dry run reports exactly what a real one does
                await tx.rollback()
    except (StaleDataError, IntegrityError) as error:
        # Another writer changed one of these items, or added the same report, mid-import.
        raise ImportRejected(
            [
                f"the tracker changed while importing ({type(error).__name__}); nothing was written, run it again"
            ]
        ) from error
    except (
        DataError
    ) as error:  # a value the database refuses that the size checks missed: still nothing written
        detail = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise ImportRejected([f"the database refused a value ({detail}); nothing was written"]) from error
    if dry_run:
        result.seq = None
    return result


# ---- writing ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    row: ParsedRow
    item: Item | None  # None: create
    decision: Decision = field(default_factory=Decision)

    @property
    def diffs(self) -> list[tuple[str, Any, Any]]:
        return self.decision.apply


class _Run:
    """One import: load what the file touches, plan every change, then write them all under one seq."""

    def __init__(
        self, table: Table, result: ImportResult, actor: Actor, source: Source, progress: Progress | None,
        overwrite: bool,
    ) -> None:  # fmt: skip
        self.table, self.result, self.actor, self.source = table, result, actor, source
        self.progress = progress or (lambda done, total: None)
        self.overwrite = overwrite
        self.now = utcnow()

    async def execute(self, s: AsyncSession) -> None:
        reports = {r.key: r for r in (await s.scalars(select(Report))).all()}
        aliases: dict[int, set[str]] = {}
        for rid, alias in (await s.execute(select(ReportAlias.report_id, ReportAlias.alias))).all():
            aliases.setdefault(rid, set()).add(alias.casefold())
        parsed = parse_rows(self.table, reports)  # raises ImportRejected listing every bad row
        self.result.warnings += parsed.warnings
        self.result.mappings = parsed.mappings
        ids = [r.id for r in reports.values() if r.key in parsed.reports]
        items: dict[tuple[int, str, str], Item] = {}
        if ids:
            for it in (await s.scalars(select(Item).where(Item.report_id.in_(ids)))).all():
                items[(it.report_id, it.kind, it.match_key)] = it
        evidence = await latest_evidence(s, [i.id for i in items.values()])

        report_plans = {
            key: _plan_report(spec, reports.get(key), aliases) for key, spec in parsed.reports.items()
        }
        item_rows = [row for row in parsed.rows if not row.report_only]
        matched = _match(items, reports, item_rows)
        protected = await _changed_outside_imports(
            s,
            [
                i.id
                for i, r in zip(matched, item_rows, strict=True)
                if i is not None and i.import_base is None and r.version is None
            ],
        )
        plans: list[_Plan] = []
        matches = iter(matched)
        for n, row in enumerate(parsed.rows, 1):
            self.progress(n, len(parsed.rows))
            if row.report_only:
                continue
            item = next(matches)
            if (
                item is not None
                and row.latest_evidence
                and row.latest_evidence != (evidence.get(item.id) or "").strip()
            ):
                self.result.warnings.append(
                    f"{row.where}: latest_evidence differs from the stored evidence and is not imported "
                    "(evidence is added through the bot, so it is attributed)"
                )
            if item is None:
                plans.append(_Plan(row, None))
                continue
            decision = decide(
                item, row, diff(item, row), overwrite=self.overwrite, protected=protected.get(item.id, ())
            )
            self.result.kept += decision.kept
            self.result.conflicts += decision.conflicts
            plans.append(_Plan(row, item, decision))
        if not any(report_plans.values()) and all(p.item is not None and not p.diffs for p in plans):
            self.result.items_unchanged = len(plans)
            await self._write_bases(s, plans)  # bookkeeping only: no seq bump, no version, no events
            return
        seq = await bump_seq(s)
        self.result.seq = seq
        for key, plan in report_plans.items():
            if plan:
                reports[key] = await self._write_report(s, parsed.reports[key], reports.get(key), plan)
        await self._write_items(s, plans, reports, seq)

    async def _write_report(
        self, s: AsyncSession, spec: ReportSpec, report: Report | None, plan: dict
    ) -> Report:
        if report is None:
            published = spec.published
            report = Report(
                key=spec.key, title=spec.title, report_type=spec.report_type or spec.guessed_type,
                published=published.start if published else None,
                published_precision=(published.precision if published else "day"), url=spec.url, created_at=self.now,
            )  # fmt: skip
            s.add(report)
            await s.flush()  # the aliases need its id
            self.result.reports_created += 1
            when = f"; published {spec.published.label()}" if spec.published else ""
            self.result.changes.append(f"report {spec.key}: new ({show(spec.title, limit=80)}{when})")
        else:
            self.result.reports_updated += 1
            for name in _REPORT_FIELDS:
                if name not in plan:
                    continue
                if name == "published":
                    old: object = PartialDate.of(report.published, report.published_precision)
                    report.published, report.published_precision = (
                        plan[name].start,
                        plan[name].precision.value,
                    )
                else:
                    old = getattr(report, name)
                    setattr(report, name, plan[name])
                self.result.changes.append(
                    f"report {spec.key}: {name} {show(old, limit=60)} → {show(plan[name], limit=60)}"
                )
        for alias in plan.get("aliases", ()):
            s.add(
                ReportAlias(report_id=report.id, alias=alias, added_by=self.actor.name, created_at=self.now)
            )
            self.result.changes.append(f"report {spec.key}: alias '{alias}' added")
        return report

    async def _write_items(
        self, s: AsyncSession, plans: list[_Plan], reports: dict[str, Report], seq: int
    ) -> None:
        created: list[tuple[Item, ParsedRow]] = []
        changed: list[_Plan] = []
        for p in plans:
            if p.item is None:
                item = _new_item(p.row, reports[p.row.report_key], seq, self.now)
                item.import_base = state_of(item)
                s.add(item)
                created.append((item, p.row))
                self.result.items_created += 1
                self.result.changes.append(f"{p.row.label}: new ({item.status})")
            elif p.diffs:
                extra = dict(p.item.extra_columns or {})
                for name, old, new in p.diffs:
                    if name.startswith(EXTRA):
                        extra[name[len(EXTRA) :]] = new
                        p.item.extra_columns = extra  # a new dict, so the JSON column is seen as changed
                    else:
                        setattr(p.item, name, new)
                    if name == "owner_name":
                        p.item.owner_aad_id = None  # the stored Teams id belonged to the previous owner
                    elif name == "status":
                        p.item.status_changed_at = self.now
                    elif name == "number":
                        p.item.match_key = p.row.match_key  # now matched on its number, like the file says
                    label = _EVENT_FIELD.get(name, name)
                    mark = " (overwrite)" if name in p.decision.overwrites else ""
                    self.result.changes.append(
                        f"{p.row.label}: {label} {show(old, limit=60)} → {show(new, limit=60)}{mark}"
                    )
                self.result.overwrites += len(p.decision.overwrites & {n for n, _, _ in p.diffs})
                p.item.import_base = p.decision.base
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
                note = None
                if name in p.decision.overwrites:
                    note = "overwrite (--overwrite): replaced a value changed in the tracker since the last import"
                    if p.row.version is not None and p.row.version != p.item.version - 1:
                        note = f"overwrite (--overwrite): the file had version {p.row.version}, newer changes replaced"
                elif name == "status" and new == ItemStatus.SIGNED_OFF and p.row.given.get("signed_off_on"):
                    note = f"signed off by HMICFRS on {p.row.given['signed_off_on'].isoformat()}"
                events.append(self._event(
                    p.item.id, _ACTIONS.get(name, "field_changed"), p.row, extra_note=note,
                    field_name=_EVENT_FIELD.get(name, name)[:_FIELD_SIZE], old=show(old, blank=None),
                    new=show(new, blank=None),
                ))  # fmt: skip
        s.add_all(events)
        await s.flush()
        await self._write_bases(s, [p for p in plans if p.item is not None and not p.diffs])

    async def _write_bases(self, s: AsyncSession, plans: list[_Plan]) -> None:
        """Record what this import saw on items it did not change, without moving their version."""
        for p in plans:
            if p.item is not None and p.decision.base is not None and p.decision.base != p.item.import_base:
                table = cast(SqlTable, Item.__table__)
                await s.execute(
                    update(table).where(table.c.id == p.item.id).values(import_base=p.decision.base)
                )

    def _event(
        self, item_id: int, action: str, row: ParsedRow, extra_note: str | None = None, **kw: Any
    ) -> ItemEvent:
        # The note says which file and line did it, so the audit trail leads back to the source.
        note = f"{self.table.name} {row.where}" + (f"; {extra_note}" if extra_note else "")
        return event_row(item_id, action, self.actor, self.source, at=self.now, note=note, **kw)


def _plan_report(spec: ReportSpec, report: Report | None, aliases: dict[int, set[str]]) -> dict[str, Any]:
    """What to set on a report: everything for a new one, else only given values that differ."""
    if report is None:
        return {"new": True, "aliases": list(spec.aliases)}
    plan: dict[str, Any] = {}
    for name in _REPORT_FIELDS:
        value = getattr(spec, name)
        if name == "published":
            if value is not None and not _same_published(
                value, PartialDate.of(report.published, report.published_precision)
            ):
                plan[name] = value
        elif value is not None and value != getattr(report, name):
            plan[name] = value
    have = aliases.get(report.id, set())
    new_aliases = [a for a in spec.aliases if a.casefold() not in have]
    if new_aliases:
        plan["aliases"] = new_aliases
    return plan


def _same_published(given: PartialDate, stored: PartialDate | None) -> bool:
    """A coarser date that holds the stored one ("November 2022" for 2 November 2022) changes nothing."""
    if stored is None:
        return False
    if given == stored:
        return True
    return given.end - given.start > stored.end - stored.start and given.start <= stored.start <= given.end


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


def _new_item(row: ParsedRow, report: Report, seq: int, now: dt.datetime) -> Item:
    values = {**row.fill, **row.given}
    for_force = values.pop("for_force", None)
    for_force = True if for_force is None else for_force
    status = values.pop("status", None)
    if status is None and values.get("signed_off_on"):
        status = ItemStatus.SIGNED_OFF.value  # HMICFRS signed it off on that day
    status = status or (ItemStatus.OPEN if for_force else ItemStatus.NOT_FOR_US).value
    values.setdefault("themes", [])
    # The day it joined the tracker: as the file says, else the report's publication, else today. A
    # publication known only to a month or year gives its last day: never a made-up 1 January, and
    # never counted as joining sooner than it could have.
    published = PartialDate.of(report.published, report.published_precision)
    values.setdefault("added_on", published.end if published else now.date())
    if "revised_due_date" in values:
        values.setdefault("retarget_count", 1)
    return Item(
        report_id=report.id, kind=row.kind, number=row.number, match_key=row.match_key, for_force=for_force,
        status=status, created_at=now, updated_at=now, changed_seq=seq, extra_columns=dict(row.extra) or None,
        **values,
    )  # fmt: skip


async def _changed_outside_imports(s: AsyncSession, item_ids: list[int]) -> dict[int, set[str]]:
    """For items with no import base yet: the fields an audit event shows changed other than by an import."""
    if not item_ids:
        return {}
    q = select(ItemEvent.item_id, ItemEvent.field).where(
        ItemEvent.item_id.in_(item_ids), ItemEvent.field.is_not(None), ItemEvent.source != "import",
        ItemEvent.action != "refused",
    )  # fmt: skip
    out: dict[int, set[str]] = {}
    for item_id, name in (await s.execute(q)).all():
        if name:
            out.setdefault(item_id, set()).add(name)
    return out
