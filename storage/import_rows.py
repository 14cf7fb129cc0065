"""Reading an import file and cleaning its rows: pure functions, no database.

:func:`read_table` turns a CSV or the first XLSX sheet into canonical columns; :func:`parse_rows`
cleans every row against the reports already stored (kinds, statuses, dates, deadlines, the item's
match key) and raises :class:`ImportRejected` listing every bad row, so one run shows them all.
:mod:`storage.importer` then does the database work.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from storage.deadlines import DeadlineError, deadline_from_text, derive_due_date, parse_due_value
from storage.models import ItemKind, ItemStatus, RegisterStatus, Report, ReportType
from storage.store import StoreError

# ---- reading the sheet ---------------------------------------------------------------------------

HEADER_ALIASES: Final[Mapping[str, str]] = MappingProxyType({
    "report_title": "report_title", "report": "report_title", "report_name": "report_title",
    "report_short": "report_short", "report_key": "report_short",
    "published": "published", "published_date": "published", "publication_date": "published",
    "date_published": "published",
    "report_type": "report_type", "report_url": "report_url",
    "aliases": "aliases", "report_aliases": "aliases",
    "kind": "kind", "item_kind": "kind", "item_type": "kind",
    "number": "number", "no": "number", "item_number": "number", "rec_no": "number",
    "addressee": "addressee", "addressed_to": "addressee",
    "due_date": "due_date", "due": "due_date", "deadline": "deadline", "deadline_text": "deadline",
    "text": "text", "recommendation_text": "text", "item_text": "text",
    "owner": "owner", "owner_name": "owner",
    "status": "status", "for_force": "for_force", "themes": "themes", "theme": "themes",
    "register_status": "register_status", "register_id": "register_id", "register_url": "register_url",
    "source_url": "source_url", "url": "source_url", "latest_evidence": "latest_evidence",
})  # fmt: skip
"""Accepted headers (lower-cased, spaces/hyphens as underscores) to the column they mean."""

# Columns describing the item: a row with none of them only registers its report.
ITEM_COLUMNS: Final = (
    "kind", "number", "addressee", "due_date", "deadline", "text", "owner", "status", "for_force",
    "themes", "register_status", "register_id", "register_url", "source_url", "latest_evidence",
)  # fmt: skip


class ImportRejected(StoreError):
    """The file has bad rows (or cannot be read): nothing was written. ``errors`` lists them all."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__(f"import rejected, nothing was written: {len(self.errors)} problem(s)")

    def render(self) -> str:
        """The errors, one per line, for the CLI."""
        return "\n".join([f"{self}:", *(f"  - {e}" for e in self.errors)])


@dataclass(frozen=True, slots=True)
class Table:
    """A sheet as read: per row, where it is in the file and its cells by canonical column."""

    name: str
    rows: tuple[tuple[str, Mapping[str, str]], ...]
    warnings: tuple[str, ...] = ()


def cell_text(value: object) -> str:
    """A cell as text: spreadsheet dates as ISO dates, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def make_table(name: str, header: Sequence[object], records: Iterable[tuple[str, Sequence[object]]]) -> Table:
    """Map headers to canonical columns (unknown ones are warned about and ignored); skip blank rows."""
    columns: list[str | None] = []
    warnings: list[str] = []
    for raw in header:
        label = " ".join(cell_text(raw).split())
        canon = HEADER_ALIASES.get(re.sub(r"[\s\-./]+", "_", label.casefold()).strip("_"))
        if canon is None and label:
            warnings.append(f"column '{label}' is not a tracker column: ignored")
        elif canon is not None and canon in columns:
            warnings.append(f"column '{label}' repeats column {canon}: ignored")
            canon = None
        columns.append(canon)
    if "text" not in columns:
        raise ImportRejected([f"{name}: line 1 has no 'text' column (the header row must come first)"])
    if "report_title" not in columns and "report_short" not in columns:
        raise ImportRejected([f"{name}: line 1 has no 'report_title' or 'report_short' column"])
    rows = []
    for where, values in records:
        cells = {c: cell_text(v) for c, v in zip(columns, values, strict=False) if c}
        if any(v.strip() for v in cells.values()):
            rows.append((where, cells))
    return Table(name, tuple(rows), tuple(warnings))


def read_table(path: Path) -> Table:
    """Read a CSV (UTF-8, with or without BOM) or the first sheet of an XLSX; header row first."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return make_table(path.name, *_read_csv(path))
    if suffix in (".xlsx", ".xlsm"):
        return make_table(path.name, *_read_xlsx(path))
    raise ImportRejected([f"{path.name}: import reads .csv or .xlsx files"])


def _read_csv(path: Path) -> tuple[list[str], list[tuple[str, list[str]]]]:
    records: list[tuple[str, list[str]]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise ImportRejected([f"{path.name} is empty"])
            last, row = reader.line_num, 1
            for values in reader:
                # A quoted cell can span lines: report the line the row starts on, and the
                # spreadsheet row too when they differ.
                start, last, row = last + 1, reader.line_num, row + 1
                records.append((f"line {start}" + ("" if start == row else f" (spreadsheet row {row})"), values))
    except UnicodeDecodeError:
        raise ImportRejected([f"{path.name} is not UTF-8: in Excel, save it as 'CSV UTF-8'"]) from None
    except csv.Error as error:
        raise ImportRejected([f"{path.name}: {error}"]) from None
    return header, records


def _read_xlsx(path: Path) -> tuple[Sequence[object], list[tuple[str, Sequence[object]]]]:
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError) as error:
        raise ImportRejected([f"{path.name} is not a readable .xlsx file ({error})"]) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportRejected([f"{path.name}: the first sheet is empty"])
        return header, [(f"line {n}", values) for n, values in enumerate(rows, 2)]
    finally:
        wb.close()


# ---- cleaning cells ------------------------------------------------------------------------------

def _key(value: str) -> str:
    return " ".join(value.casefold().replace("_", " ").replace("-", " ").split())


KINDS: Final[Mapping[str, str]] = MappingProxyType(
    dict.fromkeys(("recommendation", "recommendations", "rec"), ItemKind.RECOMMENDATION.value)
    | dict.fromkeys(("afi", "area for improvement", "areas for improvement"), ItemKind.AFI.value)
    | dict.fromkeys(("cause of concern", "causes of concern", "coc"), ItemKind.CAUSE_OF_CONCERN.value)
)
STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {_key(s.value): s.value for s in ItemStatus}
    | {"awaiting sign off": "evidenced", "complete": "signed_off", "completed": "signed_off"}
)
REPORT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {_key(t.value): t.value for t in ReportType}
    | {"thematic": "national_thematic", "jtai": "joint", "super complaint": "super_complaint"}
)
REGISTER_STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {_key(r.value): r.value for r in RegisterStatus} | {"no further action": "no-further-action-needed"}
)
YES_NO: Final[Mapping[str, bool]] = MappingProxyType(
    dict.fromkeys(("yes", "y", "true", "1"), True) | dict.fromkeys(("no", "n", "false", "0"), False)
)
KIND_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {"recommendation": "rec", "afi": "AFI", "cause_of_concern": "cause of concern"}
)

_NOT_FORCE = re.compile(
    r"national\s+police\s+chiefs['’]?\s+council|\bnpcc\b|\biopc\b|independent\s+office\s+for\s+police\s+conduct"
    r"|college\s+of\s+policing|home\s+office|\bgovernment\b|partner\s+agenc(?:y|ies)"
    r"|police\s+and\s+crime\s+commissioners?|\bpccs?\b|police\s+federation",
    re.IGNORECASE,
)
_FORCE = re.compile(r"chief\s+constables?|\bforces?\b|\bpolice\b|\bpolicing\b|\bconstabular(?:y|ies)\b", re.I)
_NOT_PUBLISHED = re.compile(r"\b(?:by|before|within|end|immediate|immediately|later)\b", re.IGNORECASE)


def addressed_to_force(addressee: str | None) -> bool:
    """Whether an item's addressee includes police forces (chief constables, all forces, a named force).

    Bodies that are not forces (NPCC, IOPC, College of Policing, Home Office, Government, partner
    agencies, PCCs) are taken out first, so "College of Policing" does not count as policing. A
    blank addressee counts as ours: better tracked and marked "not for us" than missed.
    """
    if not addressee or not addressee.strip():
        return True
    return bool(_FORCE.search(_NOT_FORCE.sub(" ", addressee)))


def guess_report_type(title: str) -> str:
    """A report type from its title, for files without a ``report_type`` column."""
    t = title.casefold()
    if "super-complaint" in t or "super complaint" in t:
        return ReportType.SUPER_COMPLAINT.value
    if "spotlight" in t:  # before PEEL: "PEEL spotlight report" is a spotlight
        return ReportType.SPOTLIGHT.value
    if re.search(r"\bjtai\b|\bjoint\b", t):
        return ReportType.JOINT.value
    if re.search(r"\bpeel\b", t):
        return ReportType.PEEL.value
    if re.search(r"\bnational\b|england and wales|police service|\bthe police\b|\bpolicing\b", t):
        return ReportType.NATIONAL_THEMATIC.value
    return ReportType.OTHER.value


def slugify(text: str) -> str:
    """A report key from a title: lower-case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "report"


def match_key(number: str, text: str) -> str:
    """The item's identity within report + kind: its number, else a short stable hash of its text."""
    if number:
        return number
    digest = hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()
    return "t:" + digest[:16]


def show(value: object, blank: str | None = "(blank)", limit: int | None = None) -> str | None:
    """A stored value as text, for change lines (truncated) and audit events (whole)."""
    if value is None or value == [] or value == "":
        return blank
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, list | tuple):
        text = "; ".join(value)
    else:
        text = str(value)
    if limit:
        text = " ".join(text.split())
        text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text


def _split(value: str) -> list[str]:
    out: list[str] = []
    for part in value.split(";"):
        part = " ".join(part.split())
        if part and part.casefold() not in {o.casefold() for o in out}:
            out.append(part)
    return out


# ---- rows to plans -------------------------------------------------------------------------------

@dataclass(slots=True)
class ReportSpec:
    """A report as the file describes it: the first row that gives a value wins."""

    key: str
    where: str
    title: str | None = None
    published: dt.date | None = None
    report_type: str | None = None
    url: str | None = None
    aliases: list[str] = field(default_factory=list)

    @property
    def guessed_type(self) -> str:
        return guess_report_type(self.title or "")


@dataclass(slots=True)
class ParsedRow:
    """One row, cleaned: ``given`` holds item fields the file states; ``fill`` those worked out."""

    where: str
    report_key: str
    report_only: bool = False
    kind: str = ""
    number: str = ""
    match_key: str = ""
    text_key: str = ""  # the match key the text alone gives, for items stored before they had a number
    given: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)
    latest_evidence: str | None = None

    @property
    def label(self) -> str:
        """How change lines name the item: "vetting-misconduct-misogyny rec 34"."""
        ref = self.number or f'"{show(self.given.get("text"), limit=40)}"'
        return f"{self.report_key} {KIND_LABELS.get(self.kind, self.kind)} {ref}"


@dataclass(slots=True)
class Parsed:
    reports: dict[str, ReportSpec]
    rows: list[ParsedRow]
    warnings: list[str]


class _RowReader:
    """Cleans one table's rows, collecting every error before anything is written."""

    def __init__(self, table: Table, existing: Mapping[str, Report]) -> None:
        self.table, self.existing = table, existing
        self.by_title = {" ".join(r.title.casefold().split()): r.key for r in existing.values()}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.reports: dict[str, ReportSpec] = {}
        self.seen: dict[tuple[str, str, str], str] = {}
        self.untitled: set[str] = set()

    def read(self) -> Parsed:
        rows = [row for where, cells in self.table.rows if (row := self._row(where, cells)) is not None]
        if self.errors:
            raise ImportRejected(self.errors)
        return Parsed(self.reports, rows, self.warnings)

    def _choice(self, where: str, column: str, value: str, choices: Mapping[str, Any]) -> Any:
        if not value:
            return None
        found = choices.get(_key(value))
        if found is None:
            allowed = ", ".join(sorted({str(v).lower() for v in choices.values()}))
            self.errors.append(f"{where}: unknown {column} '{value}' (use one of: {allowed})")
        return found

    def _date(self, where: str, column: str, value: str, published: dt.date | None) -> tuple[str | None, dt.date | None]:
        if not value:
            return None, None
        try:
            return parse_due_value(value, published)
        except DeadlineError as error:
            self.errors.append(f"{where}: {column} {error}")
            return None, None

    def _published(self, where: str, value: str) -> dt.date | None:
        """A publication date: ISO, year-month (taken as the month's last day, like deadlines), UK."""
        try:
            text, day = parse_due_value(value, None) if value else (None, None)
        except DeadlineError:
            text, day = value, None
        if text is not None and (day is None or _NOT_PUBLISHED.search(text)):
            self.errors.append(f"{where}: published '{value}' is not a date (use e.g. 2022-11-02, 2021-07 or 02/11/2022)")
            return None
        return day

    def _report(self, where: str, cells: Mapping[str, str]) -> ReportSpec | None:
        short, title = cells.get("report_short", "").strip(), " ".join(cells.get("report_title", "").split())
        key = short if short in self.existing else slugify(short) if short else None
        key = key or self.by_title.get(title.casefold()) or (slugify(title) if title else None)
        if key is None:
            self.errors.append(f"{where}: no report_title or report_short")
            return None
        given = {
            "title": title or None,
            "published": self._published(where, cells.get("published", "").strip()),
            "report_type": self._choice(where, "report_type", cells.get("report_type", "").strip(), REPORT_TYPES),
            "url": cells.get("report_url", "").strip() or None,
        }
        spec = self.reports.setdefault(key, ReportSpec(key, where))
        for name, value in given.items():
            current = getattr(spec, name)
            if current is None:
                setattr(spec, name, value)
            elif value is not None and value != current:
                self.warnings.append(
                    f"{where}: report {key} {name} '{show(value)}' differs from {spec.where}; kept '{show(current)}'"
                )
        known = {a.casefold() for a in spec.aliases}
        spec.aliases += [a for a in _split(cells.get("aliases", "")) if a.casefold() not in known]
        if spec.title is None and key not in self.existing and key not in self.untitled:
            self.untitled.add(key)
            self.errors.append(f"{where}: report '{key}' is not in the tracker yet: give its report_title")
        return spec

    def _row(self, where: str, cells: Mapping[str, str]) -> ParsedRow | None:
        spec = self._report(where, cells)
        if spec is None:
            return None
        row = ParsedRow(where, spec.key)
        if not any(cells.get(c, "").strip() for c in ITEM_COLUMNS):
            row.report_only = True
            return row
        text = clean_text(cells.get("text", ""))
        if not text:
            self.errors.append(f"{where}: no text")
        kind = " ".join(cells.get("kind", "").split())
        if kind:
            row.kind = self._choice(where, "kind", kind, KINDS) or ""
        else:
            row.kind = ItemKind.RECOMMENDATION.value  # the commonest kind; a present-but-blank cell is flagged
            if "kind" in cells:
                self.warnings.append(f"{where}: kind is blank: taken as recommendation")
        row.number = " ".join(cells.get("number", "").split())
        if len(row.number) > 32:
            self.errors.append(f"{where}: number '{row.number}' is longer than 32 characters")
        row.match_key, row.text_key = match_key(row.number, text), match_key("", text)
        ident = (spec.key, row.kind, row.match_key)
        if text and ident in self.seen:
            what = "number" if row.number else "text"
            self.errors.append(f"{where}: same report, kind and {what} as {self.seen[ident]}")
        self.seen.setdefault(ident, where)
        if text:
            row.given["text"] = text
        self._fields(row, cells)
        published = spec.published or (self.existing[spec.key].published if spec.key in self.existing else None)
        self._deadline(row, cells, text, published)
        return row

    def _fields(self, row: ParsedRow, cells: Mapping[str, str]) -> None:
        """The plain item fields: a blank cell is "not given" and stays out of ``row.given``."""
        for name, column in _PLAIN_FIELDS:
            if value := " ".join(cells.get(column, "").split()):
                row.given[name] = value
        for name, column, choices in _CHOICE_FIELDS:
            value = self._choice(row.where, column, " ".join(cells.get(column, "").split()), choices)
            if value is not None:
                row.given[name] = value
        if themes := _split(cells.get("themes", "")):
            row.given["themes"] = themes
        if "addressee" in row.given:
            row.fill["for_force"] = addressed_to_force(row.given["addressee"])
        row.latest_evidence = cells.get("latest_evidence", "").strip() or None

    def _deadline(self, row: ParsedRow, cells: Mapping[str, str], text: str, published: dt.date | None) -> None:
        """Deadline text and due date from the ``deadline``/``due_date`` cells, else from the item's text."""
        deadline_cell, due_cell = cells.get("deadline", "").strip(), cells.get("due_date", "").strip()
        deadline, due = self._date(row.where, "deadline", deadline_cell, published)
        due_text, due_date = self._date(row.where, "due_date", due_cell, published)
        deadline, due = deadline or due_text, due_date or due  # a due date given outright beats one worked out
        if deadline is not None:
            row.given["deadline_text"] = deadline
        if due is not None:
            row.given["due_date"] = due
        if deadline is None and text and (found := deadline_from_text(text)):
            # Worked out, not given: fills blanks only, so a due date set later is never overwritten.
            row.fill["deadline_text"] = found
            if due is None:
                row.fill["due_date"] = derive_due_date(found, published)


_PLAIN_FIELDS: Final = (
    ("addressee", "addressee"), ("owner_name", "owner"), ("register_id", "register_id"),
    ("register_url", "register_url"), ("source_url", "source_url"),
)  # fmt: skip
_CHOICE_FIELDS: Final = (
    ("status", "status", STATUSES), ("register_status", "register_status", REGISTER_STATUSES),
    ("for_force", "for_force", YES_NO),
)  # fmt: skip


def clean_text(value: str) -> str:
    """An item's text as stored: Unix line ends, no trailing spaces on lines, no outer blank lines."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def parse_rows(table: Table, existing: Mapping[str, Report]) -> Parsed:
    """Clean every row against the reports already stored; :class:`ImportRejected` lists all bad rows."""
    return _RowReader(table, existing).read()
