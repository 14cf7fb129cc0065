"""Cleaning an import file's rows: pure functions, no database.

:func:`read_table` (from :mod:`storage.import_sheets`) finds the sheet and header row and sorts
each row's cells into the tracker's columns (:mod:`storage.import_columns`) and kept ones;
:func:`parse_rows` cleans every row against the reports already stored (kinds and statuses as
forces write them, :mod:`storage.import_values`; dates at their own precision,
:mod:`storage.partial_dates`; deadlines, :mod:`storage.deadlines`; column sizes; the item's match
key) and raises :class:`ImportRejected` listing every bad row, so one run shows them all.
:mod:`storage.importer` then does the database work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from storage.deadlines import DeadlineError, deadline_from_text, derive_due_date, parse_due_value
from storage.import_sheets import Cells, ImportRejected, Table, cell_text, make_table, read_table
from storage.import_values import (
    KINDS,
    RAGS,
    REGISTER_STATUSES,
    REPORT_TYPES,
    YES_NO,
    ValueReader,
    read_status,
    value_key,
)
from storage.models import Item, ItemKind, ItemStatus, Report, ReportAlias, ReportType
from storage.partial_dates import DateUnreadable, PartialDate, is_placeholder, read_date

__all__ = [
    "ImportRejected", "Parsed", "ParsedRow", "ReportSpec", "Table", "addressed_to_force", "cell_text", "clean_text",
    "guess_report_type", "make_table", "match_key", "parse_rows", "read_table", "show", "slugify",
]  # fmt: skip

# Columns describing the item: a row with none of them only registers its report.
ITEM_COLUMNS: Final = (
    "kind", "number", "addressee", "due_date", "deadline", "text", "owner", "status", "for_force", "themes",
    "register_status", "register_id", "register_url", "source_url", "latest_evidence", "revised_due_date",
    "signed_off_on", "added_on", "rag", "rag_override", "retarget_count",
)  # fmt: skip

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
    elif isinstance(value, PartialDate):
        text = value.label()
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


def clean_text(value: str) -> str:
    """An item's text as stored: Unix line ends, no trailing spaces on lines, no outer blank lines."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _split(value: str) -> list[str]:
    out: list[str] = []
    for part in value.split(";"):
        part = " ".join(part.split())
        if part and part.casefold() not in {o.casefold() for o in out}:
            out.append(part)
    return out


def _size(column: Any) -> int | None:
    """The length of a String column in the models: what a value must fit before anything is written."""
    return getattr(column.property.columns[0].type, "length", None)


# Item fields stored in bounded columns, checked against the models before writing.
_SIZED: Final = {
    "number": _size(Item.number), "owner_name": _size(Item.owner_name), "register_id": _size(Item.register_id),
}  # fmt: skip
_REPORT_KEY_SIZE: Final = _size(Report.key) or 120
_ALIAS_SIZE: Final = _size(ReportAlias.alias) or 200


# ---- rows to plans -------------------------------------------------------------------------------


@dataclass(slots=True)
class ReportSpec:
    """A report as the file describes it: the first row that gives a value wins."""

    key: str
    where: str
    title: str | None = None
    published: PartialDate | None = None
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
    extra: dict[str, str] = field(default_factory=dict)  # columns the tracker does not know, by header
    version: int | None = None  # the item's version when the file was exported
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
    mappings: list[str] = field(default_factory=list)  # "status 'With HMICFRS' → evidenced (line 4)"


class _RowReader:
    """Cleans one table's rows, collecting every error before anything is written."""

    def __init__(self, table: Table, existing: Mapping[str, Report]) -> None:
        self.table, self.existing = table, existing
        self.by_title = {" ".join(r.title.casefold().split()): r.key for r in existing.values()}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.values = ValueReader()
        self.reports: dict[str, ReportSpec] = {}
        self.seen: dict[tuple[str, str, str], str] = {}
        self.untitled: set[str] = set()
        # A file with a rag_override column is the tracker's own export: its "rag" column is the
        # computed RAG, for reading. Otherwise "RAG" is the force's own rating and is kept as one.
        self.rag_column = "rag_override" if table.has("rag_override") else "rag"

    def read(self) -> Parsed:
        rows = [row for where, cells in self.table.rows if (row := self._row(where, cells)) is not None]
        if self.errors:
            raise ImportRejected(self.errors)
        return Parsed(self.reports, rows, self.warnings, self.values.lines())

    def _choice(self, where: str, column: str, value: str, choices: Mapping[str, Any]) -> Any:
        if not value or (is_placeholder(value) and column != "status"):
            return None
        found = read_status(value) if column == "status" else choices.get(value_key(value))
        if found is None:
            allowed = ", ".join(sorted({str(v).lower() for v in choices.values()}))
            self.errors.append(f"{where}: unknown {column} '{value}' (use one of: {allowed})")
            return None
        self.values.note(column, value, found, where)
        return found

    def _fits(self, where: str, column: str, value: str, size: int | None) -> bool:
        if size is not None and len(value) > size:
            self.errors.append(
                f"{where}: {column} is {len(value)} characters long; the tracker keeps at most {size}"
            )
            return False
        return True

    def _day(self, where: str, column: str, value: str) -> dt.date | None:
        """A date of record (added, signed off, revised target): a day; a month or year is noted."""
        try:
            found = read_date(value)
        except DateUnreadable as error:
            self.errors.append(f"{where}: {column} {error}")
            return None
        if found is None:
            return None
        if not found.exact:
            day = found.end if column == "revised_due_date" else found.start
            self.warnings.append(
                f"{where}: {column} '{value}' is {found.label()}, not a day: stored as {day.isoformat()}"
            )
            return day
        return found.start

    def _published(self, where: str, value: str) -> PartialDate | None:
        try:
            return read_date(value)
        except DateUnreadable as error:
            self.errors.append(f"{where}: published {error}")
            return None

    def _report(self, where: str, cells: Mapping[str, str]) -> ReportSpec | None:
        short, title = cells.get("report_short", "").strip(), " ".join(cells.get("report_title", "").split())
        key = short if short in self.existing else slugify(short) if short else None
        key = key or self.by_title.get(title.casefold()) or (slugify(title) if title else None)
        if key is None:
            self.errors.append(f"{where}: no report_title or report_short")
            return None
        if not self._fits(where, "report_short", key, _REPORT_KEY_SIZE):
            return None
        given = {
            "title": title or None,
            "published": self._published(where, cells.get("published", "").strip()),
            "report_type": self._choice(
                where, "report_type", cells.get("report_type", "").strip(), REPORT_TYPES
            ),
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
        for alias in _split(cells.get("aliases", "")):
            if alias.casefold() not in known and self._fits(where, "alias", alias, _ALIAS_SIZE):
                spec.aliases.append(alias)
                known.add(alias.casefold())
        if spec.title is None and key not in self.existing and key not in self.untitled:
            self.untitled.add(key)
            self.errors.append(f"{where}: report '{key}' is not in the tracker yet: give its report_title")
        return spec

    def _row(self, where: str, cells: Mapping[str, str]) -> ParsedRow | None:
        spec = self._report(where, cells)
        if spec is None:
            return None
        row = ParsedRow(where, spec.key)
        extra = dict(cells.extra) if isinstance(cells, Cells) else {}
        if not any(cells.get(c, "").strip() for c in ITEM_COLUMNS):
            row.report_only = True
            if extra:
                names = ", ".join(f"'{n}'" for n in extra)
                self.warnings.append(
                    f"{where}: a report row with no item: its {names} not kept (they belong to items)"
                )
            return row
        text = clean_text(cells.get("text", ""))
        if not text:
            self.errors.append(f"{where}: no text")
        kind = " ".join(cells.get("kind", "").split())
        if kind and not is_placeholder(kind):
            row.kind = self._choice(where, "kind", kind, KINDS) or ""
        else:
            row.kind = (
                ItemKind.RECOMMENDATION.value
            )  # the commonest kind; a present-but-blank cell is flagged
            if "kind" in cells:
                self.warnings.append(f"{where}: kind is blank: taken as recommendation")
        row.number = " ".join(cells.get("number", "").split())
        self._fits(where, "number", row.number, _SIZED["number"])
        row.match_key, row.text_key = match_key(row.number, text), match_key("", text)
        ident = (spec.key, row.kind, row.match_key)
        if text and ident in self.seen:
            what = "number" if row.number else "text"
            self.errors.append(f"{where}: same report, kind and {what} as {self.seen[ident]}")
        self.seen.setdefault(ident, where)
        if text:
            row.given["text"] = text
        row.extra = {name: value.strip() for name, value in extra.items()}
        self._fields(row, cells)
        published = spec.published or (
            PartialDate.of(self.existing[spec.key].published, self.existing[spec.key].published_precision)
            if spec.key in self.existing
            else None
        )
        self._deadline(row, cells, text, published)
        self._dates_of_record(row, cells)
        return row

    def _fields(self, row: ParsedRow, cells: Mapping[str, str]) -> None:
        """The plain item fields: a blank cell is "not given" and stays out of ``row.given``."""
        for name, column in _PLAIN_FIELDS:
            value = " ".join(cells.get(column, "").split())
            if value and self._fits(row.where, column, value, _SIZED.get(name)):
                row.given[name] = value
        for name, column, choices in _CHOICE_FIELDS:
            value = self._choice(row.where, column, " ".join(cells.get(column, "").split()), choices)
            if value is not None:
                row.given[name] = value
        if rag := self._choice(row.where, "rag", " ".join(cells.get(self.rag_column, "").split()), RAGS):
            row.given["rag_override"] = rag
        if themes := _split(cells.get("themes", "")):
            row.given["themes"] = themes
        if "addressee" in row.given:
            row.fill["for_force"] = addressed_to_force(row.given["addressee"])
        row.latest_evidence = cells.get("latest_evidence", "").strip() or None
        for column, target in (("version", "version"), ("retarget_count", "retarget_count")):
            raw = cells.get(column, "").strip()
            if not raw or is_placeholder(raw):
                continue
            if not raw.isdecimal() or (column == "version" and int(raw) < 1):
                self.errors.append(
                    f"{row.where}: {column} '{raw}' is not a whole number{' of 1 or more' if column == 'version' else ''}"
                )
            elif target == "version":
                row.version = int(raw)
            else:
                row.given["retarget_count"] = int(raw)

    def _deadline(
        self, row: ParsedRow, cells: Mapping[str, str], text: str, published: PartialDate | None
    ) -> None:
        """Deadline text and due date from the ``deadline``/``due_date`` cells, else from the item's text."""
        deadline, due = self._due_cell(row.where, "deadline", cells.get("deadline", ""), published)
        due_text, due_date = self._due_cell(row.where, "due_date", cells.get("due_date", ""), published)
        deadline, due = (
            deadline or due_text,
            due_date or due,
        )  # a due date given outright beats one worked out
        if deadline is not None:
            row.given["deadline_text"] = deadline
        if due is not None:
            row.given["due_date"] = due
        if deadline is None and text and (found := deadline_from_text(text)):
            # Worked out, not given: fills blanks only, so a due date set later is never overwritten.
            row.fill["deadline_text"] = found
            if due is None:
                row.fill["due_date"] = derive_due_date(found, published)

    def _due_cell(
        self, where: str, column: str, value: str, published: PartialDate | None
    ) -> tuple[str | None, dt.date | None]:
        """(deadline text to keep, due date) from one cell: a date at any precision, or deadline prose.

        A date known only to a month or year is due at the end of it ("Jul-20": 31 July 2020), and
        the cell is kept as the deadline text, so the precision is not lost.
        """
        text = " ".join(value.split())
        if is_placeholder(text):
            return None, None
        try:
            found = read_date(text)
        except DateUnreadable:
            found = None
        if found is not None:
            return (None, found.start) if found.exact else (text, found.end)
        try:
            return parse_due_value(text, published)
        except DeadlineError as error:
            self.errors.append(f"{where}: {column} {error}")
            return None, None

    def _dates_of_record(self, row: ParsedRow, cells: Mapping[str, str]) -> None:
        for column in ("revised_due_date", "added_on", "signed_off_on"):
            if day := self._day(row.where, column, cells.get(column, "").strip()):
                row.given[column] = day


_PLAIN_FIELDS: Final = (
    ("addressee", "addressee"), ("owner_name", "owner"), ("register_id", "register_id"),
    ("register_url", "register_url"), ("source_url", "source_url"),
)  # fmt: skip
_CHOICE_FIELDS: Final = (
    ("status", "status", {s.value: s.value for s in ItemStatus}), ("register_status", "register_status", REGISTER_STATUSES),
    ("for_force", "for_force", YES_NO),
)  # fmt: skip


def parse_rows(table: Table, existing: Mapping[str, Report]) -> Parsed:
    """Clean every row against the reports already stored; :class:`ImportRejected` lists all bad rows."""
    return _RowReader(table, existing).read()
