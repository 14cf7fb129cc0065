"""Export the tracker to ``.xlsx`` or ``.csv`` in the import format, so export → import changes nothing.

One row per item, ordered by report key, then kind (recommendation, AFI, cause of concern), then
number in reading order ("7.2" before "7.10" before "33"; unnumbered items last). A report with no
items yet gets one row of report columns only, which import reads back as "register this report".
Columns the force's own tracker had that the tracker has no column for follow, under their own
headers. Read-only columns, for people: ``latest_evidence`` (evidence goes in through the bot, so it
is attributed) and ``rag`` (the RAG as of the export day; ``rag_override`` is the one set by hand).
``version`` lets a later import of this file tell its own edits from changes made since.

What goes out is safe to open: a CSV cell that a spreadsheet would run as a formula (starting
``= + - @``, a tab or a carriage return) is written with a leading ``'`` (import takes it off again);
XLSX text cells are strings, never formulas; dates known to the day are date cells.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from storage.import_rows import show
from storage.import_sheets import quote_formula
from storage.import_values import STATUS_LABELS
from storage.models import ItemKind
from storage.partial_dates import PartialDate
from storage.store import Store
from storage.views import ItemView, ReportView

EXPORT_COLUMNS: tuple[str, ...] = (
    "report_short", "report_title", "published", "report_type", "aliases", "report_url",
    "kind", "number", "addressee", "for_force", "text", "due_date", "deadline", "revised_due_date",
    "retarget_count", "status", "signed_off_on", "owner", "rag", "rag_override", "added_on", "latest_evidence",
    "themes", "register_status", "register_id", "register_url", "source_url", "version",
)  # fmt: skip
"""Column order of an export (the force's own columns follow); every one is also an import column."""

_KIND_ORDER = {k.value: n for n, k in enumerate(ItemKind)}
_WIDE = {"report_title": 40, "text": 80, "latest_evidence": 50, "addressee": 25, "deadline": 25}
_DAY_COLUMNS = frozenset({"published", "due_date", "revised_due_date", "signed_off_on", "added_on"})
_COUNT_COLUMNS = frozenset({"retarget_count", "version"})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


async def export_file(store: Store, path: Path, *, today: dt.date | None = None) -> int:
    """Write every report and item to ``path`` (``.xlsx`` or ``.csv``); return the number of item rows.

    ``today`` is the day the ``rag`` column is worked out for (default: the machine's today).
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path.name}: export writes .csv or .xlsx files")
    snap = await store.snapshot()
    rows, count = export_rows(snap.reports, snap.items, today or dt.date.today())
    writer = _write_csv if suffix == ".csv" else _write_xlsx
    await asyncio.to_thread(writer, path, rows)
    return count


def export_rows(
    reports: Sequence[ReportView], items: Sequence[ItemView], today: dt.date | None = None
) -> tuple[list[list[str]], int]:
    """The export as rows of text (header first), and how many of them are items."""
    today = today or dt.date.today()
    by_report: dict[int, list[ItemView]] = {}
    for item in items:
        by_report.setdefault(item.report_id, []).append(item)
    ordered = [
        (r, sorted(by_report.get(r.id, ()), key=_item_order)) for r in sorted(reports, key=lambda r: r.key)
    ]
    extras: dict[str, None] = {}  # the force's own columns, in the order they first appear
    for _, report_items in ordered:
        for item in report_items:
            extras.update(dict.fromkeys(name for name, _ in item.extra_columns))
    header = [*EXPORT_COLUMNS, *extras]
    rows = [header]
    count = 0
    for report, report_items in ordered:
        published = PartialDate.of(report.published, report.published_precision)
        head = {
            "report_short": report.key, "report_title": report.title, "published": published.iso() if published else "",
            "report_type": report.report_type, "aliases": "; ".join(sorted(report.aliases, key=str.casefold)),
            "report_url": report.url or "",
        }  # fmt: skip
        if not report_items:
            rows.append([head.get(c, "") for c in header])
        for item in report_items:
            cells = head | _item_cells(item, today) | dict(item.extra_columns)
            rows.append([cells.get(c, "") for c in header])
            count += 1
    return rows, count


def _text(value: object) -> str:
    return show(value, "") or ""


def _item_cells(i: ItemView, today: dt.date) -> dict[str, str]:
    return {
        "kind": i.kind, "number": i.number, "addressee": i.addressee or "", "for_force": _text(i.for_force),
        "text": i.text, "due_date": _text(i.due_date), "deadline": i.deadline_text or "",
        "revised_due_date": _text(i.revised_due_date), "retarget_count": str(i.retarget_count),
        "status": STATUS_LABELS.get(i.status, i.status), "signed_off_on": _text(i.signed_off_on),
        "owner": i.owner_name or "", "rag": i.rag(today) or "", "rag_override": i.rag_override or "",
        "added_on": _text(i.added_on), "latest_evidence": i.latest_evidence or "",
        "themes": _text(list(i.themes)), "register_status": i.register_status or "",
        "register_id": i.register_id or "", "register_url": i.register_url or "", "source_url": i.source_url or "",
        "version": str(i.version),
    }  # fmt: skip


def _item_order(i: ItemView) -> tuple:
    # Numbers sort by their numeric parts ("7.2" < "7.10" < "33"); unnumbered items last, oldest first.
    parts = tuple(int(p) if p.isdigit() else p for p in re.findall(r"\d+|[^\d\W]+", i.number.casefold()))
    keyed = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parts)
    return (_KIND_ORDER.get(i.kind, 99), not i.number, keyed, i.id)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    # UTF-8 with a BOM, so Excel opens accents and dashes correctly; import accepts either.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([[quote_formula(v) for v in row] for row in rows])


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    header = rows[0]
    ws.append(header)
    for values in rows[1:]:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in values])
    for row in ws.iter_rows(min_row=2):
        for cell, column in zip(row, header, strict=False):
            value = str(cell.value or "")
            if column in _DAY_COLUMNS and _ISO_DAY.fullmatch(value):
                cell.value = dt.date.fromisoformat(value)
                cell.number_format = "yyyy-mm-dd"
            elif column in _COUNT_COLUMNS and value.isdecimal():
                cell.value = int(value)
            elif cell.value is not None:
                # Text stays text: a value starting "=" must not become a formula, "7.10" not a number.
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.data_type = "s"
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = _WIDE.get(str(cell.value), 16)
    ws.freeze_panes = "A2"
    wb.save(path)
