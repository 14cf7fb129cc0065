"""Export the tracker to ``.xlsx`` or ``.csv`` in the import format, so export → import changes nothing.

One row per item, ordered by report key, then kind (recommendation, AFI, cause of concern), then
number in reading order ("7.2" before "7.10" before "33"; unnumbered items last). A report with no
items yet gets one row of report columns only, which import reads back as "register this report".
``latest_evidence`` is for reading: import ignores it (evidence goes in through the bot).
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Sequence
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from storage.import_rows import show
from storage.models import ItemKind
from storage.store import Store
from storage.views import ItemView, ReportView

EXPORT_COLUMNS: tuple[str, ...] = (
    "report_short", "report_title", "published", "report_type", "aliases", "report_url",
    "kind", "number", "addressee", "for_force", "text", "due_date", "deadline", "status", "owner",
    "latest_evidence", "themes", "register_status", "register_id", "register_url", "source_url",
)  # fmt: skip
"""Column order of an export; every one is also an import column."""

_KIND_ORDER = {k.value: n for n, k in enumerate(ItemKind)}
_WIDE = {"report_title": 40, "text": 80, "latest_evidence": 50, "addressee": 25, "deadline": 25}


async def export_file(store: Store, path: Path) -> int:
    """Write every report and item to ``path`` (``.xlsx`` or ``.csv``); return the number of item rows."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path.name}: export writes .csv or .xlsx files")
    snap = await store.snapshot()
    rows, count = export_rows(snap.reports, snap.items)
    writer = _write_csv if suffix == ".csv" else _write_xlsx
    await asyncio.to_thread(writer, path, rows)
    return count


def export_rows(reports: Sequence[ReportView], items: Sequence[ItemView]) -> tuple[list[list[str]], int]:
    """The export as rows of text (header first), and how many of them are items."""
    by_report: dict[int, list[ItemView]] = {}
    for item in items:
        by_report.setdefault(item.report_id, []).append(item)
    rows = [list(EXPORT_COLUMNS)]
    count = 0
    for report in sorted(reports, key=lambda r: r.key):
        head = {
            "report_short": report.key, "report_title": report.title, "published": show(report.published, ""),
            "report_type": report.report_type, "aliases": "; ".join(sorted(report.aliases, key=str.casefold)),
            "report_url": report.url or "",
        }  # fmt: skip
        report_items = sorted(by_report.get(report.id, ()), key=_item_order)
        if not report_items:
            rows.append([head.get(c, "") for c in EXPORT_COLUMNS])
        for item in report_items:
            cells = head | _item_cells(item)
            rows.append([cells.get(c, "") for c in EXPORT_COLUMNS])
            count += 1
    return rows, count


def _item_cells(i: ItemView) -> dict[str, str]:
    return {
        "kind": i.kind, "number": i.number, "addressee": i.addressee or "", "for_force": show(i.for_force, ""),
        "text": i.text, "due_date": show(i.due_date, ""), "deadline": i.deadline_text or "", "status": i.status,
        "owner": i.owner_name or "", "latest_evidence": i.latest_evidence or "", "themes": show(list(i.themes), ""),
        "register_status": i.register_status or "", "register_id": i.register_id or "",
        "register_url": i.register_url or "", "source_url": i.source_url or "",
    }  # fmt: skip


def _item_order(i: ItemView) -> tuple:
    # Numbers sort by their numeric parts ("7.2" < "7.10" < "33"); unnumbered items last, oldest first.
    parts = tuple(int(p) if p.isdigit() else p for p in re.findall(r"\d+|[^\d\W]+", i.number.casefold()))
    keyed = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parts)
    return (_KIND_ORDER.get(i.kind, 99), not i.number, keyed, i.id)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    # UTF-8 with a BOM, so Excel opens accents and dashes correctly; import accepts either.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    for values in rows:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in values])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            # Everything is text: a value starting "=" must not become a formula, "7.10" not a number.
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = _WIDE.get(str(cell.value), 16)
    ws.freeze_panes = "A2"
    wb.save(path)
