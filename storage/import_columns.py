"""The column vocabulary of an import file, and how a header is read. Pure.

:data:`COLUMNS` is the one table of what the tracker reads: canonical column -> the headers real
trackers use for it. To teach the importer a new column, add a row here (and read it in
:mod:`storage.import_rows`). Headers are compared after :func:`header_key` (case, spacing and
punctuation ignored, "&" read as "and", "#" as "number"); a header that matches no synonym exactly
may still be a near-miss of one ("Recomendation", "Target dates"), judged by rapidfuzz. A header
that fits nothing is not an error: its column is kept per item under its own name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from rapidfuzz import fuzz, process

COLUMNS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "report_title": ("report title", "report", "report name", "name of report", "title of report", "inspection",
                     "inspection report", "inspection title", "inspection name", "hmicfrs report", "report inspection"),
    "report_short": ("report short", "report key", "report id", "report short name", "short name"),
    "published": ("published", "published date", "publication date", "date published", "date of publication",
                  "date of report", "report date", "date report published", "publication"),
    "report_type": ("report type", "inspection type", "type of inspection", "type of report"),
    "report_url": ("report url", "report link", "link to report"),
    "aliases": ("aliases", "report aliases", "also known as"),
    "kind": ("kind", "item kind", "item type", "type", "category", "rec afi", "rec or afi", "recommendation type"),
    "number": ("number", "no", "item number", "item no", "rec no", "rec number", "rec ref", "recommendation number",
               "recommendation no", "afi number", "afi no", "ref", "ref no", "reference", "hmicfrs ref",
               "hmicfrs reference", "hmicfrs number"),
    "addressee": ("addressee", "addressed to", "directed to", "aimed at", "recommendation for"),
    "text": ("text", "recommendation text", "item text", "recommendation", "recommendations", "recommendation afi",
             "afi text", "area for improvement", "description", "detail", "details", "wording"),
    "deadline": ("deadline", "deadline text", "hmicfrs deadline", "timescale", "hmicfrs timescale", "timeframe"),
    "due_date": ("due date", "due", "date due", "target date", "target", "original target date",
                 "target completion date", "deadline date"),
    "revised_due_date": ("revised due date", "revised target date", "revised target", "new target date",
                         "revised deadline", "revised date", "amended target date"),
    "retarget_count": ("retarget count", "re target count", "times retargeted", "times re targeted",
                       "number of retargets", "re targets", "retargets"),
    "status": ("status", "force status", "current status", "progress status", "rec status", "item status"),
    "signed_off_on": ("signed off on", "date signed off", "signed off date", "sign off date", "date closed",
                      "closed date", "closed on", "date discharged", "closure date"),
    "added_on": ("added on", "date added", "added", "date received", "date opened", "opened on"),
    "owner": ("owner", "owner name", "lead", "action owner", "lead officer", "responsible officer", "owner lead",
              "action lead", "responsible lead", "accountable lead", "portfolio lead", "lead owner"),
    "rag": ("rag", "rag status", "rag rating"),
    "rag_override": ("rag override", "rag set by hand"),
    "for_force": ("for force", "for the force", "force to action"),
    "themes": ("themes", "theme", "topic", "topics"),
    "register_status": ("register status", "hmicfrs register status", "monitoring portal status"),
    "register_id": ("register id", "hmicfrs register id", "register ref"),
    "register_url": ("register url", "register link"),
    "source_url": ("source url", "url", "link"),
    "latest_evidence": ("latest evidence", "evidence"),
    "version": ("version", "tracker version"),
})  # fmt: skip
"""Canonical column -> the headers (already in :func:`header_key` form) that mean it."""

FUZZY_CUTOFF: Final = (
    88  # rapidfuzz ratio: "recomendation" 96, "target dates" 96; "date opened"/"date closed" 73
)
FUZZY_MARGIN: Final = 4  # two columns this close to each other: too close to call, keep the header as its own
FUZZY_MIN_LENGTH: Final = 5  # "lead"/"load", "no"/"na": short words are near everything


def header_key(label: str) -> str:
    """A header as compared: NFKC, case-folded, "&" as "and", "#" as "number", punctuation as spaces."""
    s = unicodedata.normalize("NFKC", label).casefold()
    s = s.replace("&", " and ").replace("#", " number ").replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w]+|_", " ", s).split())


_BY_KEY: Final[Mapping[str, str]] = MappingProxyType(
    {
        key: column
        for column, synonyms in COLUMNS.items()
        for key in (header_key(s) for s in (column, *synonyms))
    }
)


@dataclass(frozen=True, slots=True)
class ColumnRead:
    """How one header was read: as a tracker column (exactly or as a near-miss), or kept as its own."""

    position: int  # 0-based
    label: str  # the header as written, spaces collapsed
    column: str | None  # canonical column, or None: kept per item under ``label``
    near: str | None = None  # the synonym a near-miss was taken for
    note: str | None = None  # why it was not read as a column (a repeat, read only...)

    @property
    def letter(self) -> str:
        """The spreadsheet column letter ("A", "AB")."""
        n, out = self.position + 1, ""
        while n:
            n, r = divmod(n - 1, 26)
            out = chr(65 + r) + out
        return out

    def describe(self) -> str:
        """One line for the dry run: "'Rec No' → number", "'Comments' → kept as its own column"."""
        name = f"'{self.label}'" if self.label else f"(column {self.letter}, no header)"
        if self.column is None:
            return f"{name} → kept as its own column" + (f" ({self.note})" if self.note else "")
        near = f" (read as '{self.near}')" if self.near else ""
        return f"{name} → {self.column}{near}" + (f"; {self.note}" if self.note else "")


def match_header(label: str) -> tuple[str | None, str | None]:
    """(canonical column or None, the synonym it was a near-miss of, or None for an exact match)."""
    key = header_key(label)
    if not key:
        return None, None
    if key in _BY_KEY:
        return _BY_KEY[key], None
    if len(key) < FUZZY_MIN_LENGTH:
        return None, None
    best = process.extract(key, list(_BY_KEY), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5)
    if not best:
        return None, None
    top, score, _ = best[0]
    rival = next((s for k, s, _ in best[1:] if _BY_KEY[k] != _BY_KEY[top]), None)
    if rival is not None and score - rival < FUZZY_MARGIN:
        return None, None
    return _BY_KEY[top], top


def read_header(labels: Sequence[str]) -> list[ColumnRead]:
    """Every header of a row read; a column that repeats one already read is kept as its own."""
    out: list[ColumnRead] = []
    taken: set[str] = set()
    for n, raw in enumerate(labels):
        label = " ".join(raw.split())
        column, near = match_header(label)
        if column is not None and column in taken:
            out.append(ColumnRead(n, label, None, note=f"repeats {column}"))
            continue
        if column is not None:
            taken.add(column)
        out.append(ColumnRead(n, label, column, near))
    return out


def header_fits(columns: Sequence[ColumnRead]) -> list[str]:
    """What a header row lacks to be a tracker's (empty: it fits)."""
    have = {c.column for c in columns}
    missing = []
    if "text" not in have:
        missing.append("no item text column (e.g. 'Recommendation', 'text')")
    if not have & {"report_title", "report_short"}:
        missing.append("no report column (e.g. 'Report name', 'report_title')")
    return missing
