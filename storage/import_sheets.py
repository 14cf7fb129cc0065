"""Reading an import file into a :class:`Table`: which sheet, which header row, which column is what.

A CSV (UTF-8, with or without BOM; comma, semicolon or tab separated) or an XLSX workbook. The
tracker need not be on the first sheet or start on the first row: every sheet's first
:data:`HEADER_SCAN_ROWS` rows are tried as a header row, and the row whose headers fit best (an item
text column and a report column, most columns read) is used, so title rows, a cover sheet and a notes
sheet are not errors. Merged cells that span rows (a report name merged down over its items, a
header merged over two rows) give their value to every cell they cover; a row that is one merged
heading across the sheet ("Section 2: PEEL") is skipped with a warning. Pure apart from reading the
file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from storage.import_columns import ColumnRead, header_fits, read_header
from storage.store import StoreError

HEADER_SCAN_ROWS: Final = 30
MAX_ROWS: Final = 100_000  # per sheet: a tracker has hundreds; a sheet formatted to row 1,048,576 stops here
BLANK_RUN_END: Final = 2_000  # this many blank rows in a row: the data has ended
DIVIDER_MIN_COLUMNS: Final = 3
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is a formula to a spreadsheet: the export writes a "'" first."""


class ImportRejected(StoreError):
    """The file has bad rows (or cannot be read): nothing was written. ``errors`` lists them all."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__(f"import rejected, nothing was written: {len(self.errors)} problem(s)")

    def render(self) -> str:
        """The errors, one per line, for the CLI."""
        return "\n".join([f"{self}:", *(f"  - {e}" for e in self.errors)])


@dataclass(frozen=True, slots=True)
class Cells(Mapping[str, str]):
    """One row's cells: by canonical column, and ``extra``: the columns the tracker does not know,
    by their own header."""

    known: Mapping[str, str]
    extra: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.known[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


@dataclass(frozen=True, slots=True)
class Table:
    """A sheet as read: per row, where it is in the file and its cells; how each header was read."""

    name: str
    rows: tuple[tuple[str, Cells], ...]
    warnings: tuple[str, ...] = ()
    columns: tuple[ColumnRead, ...] = ()
    where: str = "line 1"  # the header row: "line 3", "sheet 'Tracker' row 4"

    def has(self, column: str) -> bool:
        """Whether the file has this canonical column at all (even if every cell in it is blank)."""
        return any(c.column == column for c in self.columns)


def cell_text(value: object, number_format: str | None = None) -> str:
    """A cell as text: date cells as ISO dates at the precision their format shows, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime | dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        shown = _format_precision(number_format)
        if shown == "year":
            return f"{day.year:04d}"
        if shown == "month":
            return f"{day.year:04d}-{day.month:02d}"
        if isinstance(value, dt.datetime) and value.time() != dt.time():
            return value.isoformat(sep=" ")
        return day.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _format_precision(number_format: str | None) -> str:
    """What a date cell's number format shows: "day" ("dd/mm/yyyy"), "month" ("mmm-yy") or "year" ("yyyy")."""
    if not number_format:
        return "day"
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", number_format.casefold())
    if "d" in fmt or "h" in fmt or "s" in fmt:
        return "day"
    if "m" in fmt:
        return "month"
    return "year" if "y" in fmt else "day"


def make_table(
    name: str,
    header: Sequence[object],
    records: Iterable[tuple[str, Sequence[object]]],
    *,
    where: str = "line 1",
    warnings: Sequence[str] = (),
) -> Table:
    """Read ``header`` and sort each record's cells into known columns and kept ones; skip blank rows."""
    records = list(records)
    width = max([len(header), *(len(v) for _, v in records)])
    labels = [cell_text(h) for h in header] + [""] * (width - len(header))
    columns = read_header(labels)
    if missing := header_fits(columns):
        raise ImportRejected([f"{name}: {where} is not a tracker header row: {'; '.join(missing)}"])
    extra_names = _extra_names(columns)
    rows: list[tuple[str, Cells]] = []
    for at, values in records:
        texts = [cell_text(v) for v in values]
        known = {c.column: texts[c.position] for c in columns if c.column and c.position < len(texts)}
        extra = {
            extra_names[c.position]: texts[c.position]
            for c in columns
            if c.column is None and c.position < len(texts) and texts[c.position].strip()
        }
        if any(v.strip() for v in known.values()) or extra:
            rows.append((at, Cells(known, extra)))
    notes = list(warnings)
    if not rows:
        notes.append(f"{name} has a header row ({where}) but no rows under it: 0 rows imported")
    return Table(name, tuple(rows), tuple(notes), tuple(columns), where)


def _extra_names(columns: Sequence[ColumnRead]) -> dict[int, str]:
    """Names for the kept columns: the header as written; "column F" when blank; "Notes (2)" when repeated."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for c in columns:
        if c.column is not None:
            continue
        base = c.label or f"column {c.letter}"
        name, n = base, 2
        while name.casefold() in used:
            name, n = f"{base} ({n})", n + 1
        used.add(name.casefold())
        names[c.position] = name
    return names


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read a ``.csv`` or ``.xlsx`` tracker; ``sheet`` names the workbook sheet to use (else the best fit)."""
    if not path.exists():
        raise ImportRejected([f"{path}: no such file"])
    if path.is_dir():
        raise ImportRejected([f"{path}: is a folder, not a file"])
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        head = f.read(8)
    if suffix in (".xlsx", ".xlsm"):
        if not head.startswith(b"PK"):
            raise ImportRejected(
                [
                    f"{path.name} is not an .xlsx workbook (its content is not one): save it from Excel as .xlsx"
                ]
            )
        return _read_xlsx(path, sheet)
    if suffix == ".csv":
        if head.startswith(b"PK") or head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportRejected(
                [f"{path.name} is an Excel workbook named .csv: save it as CSV UTF-8, or name it .xlsx"]
            )
        if sheet is not None:
            raise ImportRejected([f"{path.name}: --sheet is for .xlsx workbooks; a CSV has one table"])
        return _read_csv(path)
    if suffix in (".xls", ".ods", ".numbers"):
        raise ImportRejected(
            [f"{path.name}: import reads .csv or .xlsx files; save this {suffix} file as .xlsx first"]
        )
    raise ImportRejected([f"{path.name}: import reads .csv or .xlsx files, not '{suffix or 'no extension'}'"])


# ---- CSV ------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> Table:
    try:
        raw = path.read_bytes().decode("utf-8-sig")  # no newline translation: a "\r" in a cell stays
    except UnicodeDecodeError:
        raise ImportRejected([f"{path.name} is not UTF-8: in Excel, save it as 'CSV UTF-8'"]) from None
    if "\x00" in raw:
        raise ImportRejected(
            [f"{path.name} is not a text file (it has NUL bytes): import reads .csv or .xlsx"]
        )
    if not raw.strip():
        raise ImportRejected([f"{path.name} is empty"])
    tried: list[str] = []
    for delimiter in (",", ";", "\t"):
        grid = _csv_grid(path.name, raw, delimiter)
        found = _find_header(grid)
        if isinstance(found, int):
            at, header = grid[found]
            records = [(w, [unquote_formula(v) for v in values]) for w, values in grid[found + 1 :]]
            return make_table(path.name, header, records, where=at)
        tried = found
    raise ImportRejected(
        [f"{path.name}: no row in its first {HEADER_SCAN_ROWS} lines is a tracker header row", *tried]
    )


def quote_formula(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: "=cmd|' /C calc'!A0" is written "'=cmd|' /C calc'!A0"."""
    if value.startswith(FORMULA_STARTS) or (value.startswith("'") and value[1:].startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def unquote_formula(value: str) -> str:
    """The cell :func:`quote_formula` wrote, as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _csv_grid(name: str, raw: str, delimiter: str) -> list[tuple[str, list[str]]]:
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    grid: list[tuple[str, list[str]]] = []
    last, row = 0, 0
    try:
        for values in reader:
            # A quoted cell can span lines: report the line the row starts on, and the
            # spreadsheet row too when they differ.
            start, last, row = last + 1, reader.line_num, row + 1
            grid.append((f"line {start}" + ("" if start == row else f" (spreadsheet row {row})"), values))
    except csv.Error as error:
        raise ImportRejected([f"{name}: line {last + 1}: {error}"]) from None
    return grid


def _find_header(grid: Sequence[tuple[str, Sequence[object]]]) -> int | list[str]:
    """The index of the best header row in the first rows, or what the rows tried lacked."""
    best: tuple[int, int] | None = None
    lacks: list[str] = []
    for n, (at, values) in enumerate(grid[:HEADER_SCAN_ROWS]):
        labels = [cell_text(v) for v in values]
        if not any(label.strip() for label in labels):
            continue
        columns = read_header(labels)
        missing = header_fits(columns)
        if missing:
            if not lacks:
                lacks.append(f"{at}: {'; '.join(missing)}")
            continue
        score = sum(1 for c in columns if c.column)
        if best is None or score > best[1]:
            best = (n, score)
    return best[0] if best is not None else lacks


# ---- XLSX -----------------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    try:
        # Not read-only: merged cells are only known to a fully loaded sheet (trackers are small).
        wb = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ImportRejected([f"{path.name} is not a readable .xlsx file ({error})"]) from None
    try:
        sheets = list(wb.worksheets)
        names = ", ".join(f"'{ws.title}'" for ws in sheets)
        if sheet is not None:
            chosen = [ws for ws in sheets if ws.title.casefold() == sheet.strip().casefold()]
            if not chosen:
                raise ImportRejected([f"{path.name} has no sheet named '{sheet}' (its sheets: {names})"])
            sheets = chosen
        fits: list[tuple[int, int, Any, int, list[tuple[str, list[object]]], list[tuple[int, str]]]] = []
        lacks: list[str] = []
        for order, ws in enumerate(sheets):
            grid, skipped = _sheet_grid(ws)
            found = _find_header(grid)
            if isinstance(found, int):
                score = sum(1 for c in read_header([cell_text(v) for v in grid[found][1]]) if c.column)
                fits.append((-score, order, ws, found, grid, skipped))
            else:
                lacks.append(f"sheet '{ws.title}': " + ("; ".join(found) if found else "empty"))
        if not fits:
            what = f"sheet '{sheet}'" if sheet else f"{path.name} has no sheet with a tracker header row"
            raise ImportRejected([f"{what} (sheets: {names}); in the first {HEADER_SCAN_ROWS} rows:", *lacks])
        _, _, ws, found, grid, skipped = min(fits, key=lambda f: (f[0], f[1]))
        at, header = grid[found]
        end = _header_end(ws, found, grid)
        warnings = [w for r, w in skipped if r > end]
        if ws is not wb.worksheets[0] and sheet is None:
            warnings.insert(0, f"read sheet '{ws.title}' (the sheet whose headers fit; sheets: {names})")
        records = [(w, values) for w, values in grid[found + 1 :] if _row_number(w) > end]
        return make_table(path.name, header, records, where=at, warnings=warnings)
    finally:
        wb.close()


def _sheet_grid(ws: Any) -> tuple[list[tuple[str, list[object]]], list[tuple[int, str]]]:
    """A sheet's rows as (where, typed values); merged ranges spanning rows fill every cell they cover.

    Dates stay dates until :func:`cell_text`, which shows them at their number format's precision.
    """
    fill: dict[tuple[int, int], tuple[object, str | None]] = {}
    dividers: dict[int, int] = {}
    for rng in ws.merged_cells.ranges:
        top = ws.cell(rng.min_row, rng.min_col)
        if rng.max_row > rng.min_row:
            for r in range(rng.min_row, min(rng.max_row, MAX_ROWS) + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    fill[(r, c)] = (top.value, top.number_format)
        elif rng.max_col - rng.min_col + 1 >= DIVIDER_MIN_COLUMNS and top.value is not None:
            dividers[rng.min_row] = rng.max_col - rng.min_col + 1
    grid: list[tuple[str, list[object]]] = []
    skipped: list[tuple[int, str]] = []
    blank_run = 0
    for r, row in enumerate(ws.iter_rows(max_row=min(ws.max_row, MAX_ROWS)), 1):
        values = [
            cell_text(*fill[(r, cell.column)]) if (r, cell.column) in fill
            else cell_text(cell.value, cell.number_format if getattr(cell, "is_date", False) else None)
            for cell in row
        ]  # fmt: skip
        where = f"sheet '{ws.title}' row {r}"
        filled = sum(1 for v in values if v.strip())
        if r in dividers and filled == 1:
            skipped.append((r, f"{where}: a heading across the sheet ('{_first(values)}'): skipped"))
            continue
        blank_run = 0 if filled else blank_run + 1
        if blank_run >= BLANK_RUN_END:
            break
        grid.append((where, list(values)))
    return grid, skipped


def _first(values: Sequence[str]) -> str:
    return next((v for v in values if v.strip()), "")


def _row_number(where: str) -> int:
    """The sheet row of a "sheet 'Tracker' row 12" location."""
    return int(where.rsplit(" ", 1)[1])


def _header_end(ws: Any, found: int, grid: Sequence[tuple[str, Sequence[object]]]) -> int:
    """The last sheet row of the header: a header cell merged down over two rows ends on the lower one."""
    row = _row_number(grid[found][0])
    end = row
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row:
            end = max(end, rng.max_row)
    return end
