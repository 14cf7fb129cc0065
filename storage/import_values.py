"""Cell values as forces write them, to the tracker's own: kinds, statuses, RAG, report types. Pure.

Each vocabulary maps a value in :func:`value_key` form to the stored value. Statuses also have
patterns, for values that name the force or another body ("Not for West Midlands Police",
"N/A - other body"). :class:`ValueReader` remembers every mapping it made, so the dry run can show
"status 'With HMICFRS' → evidenced (3 rows, first line 4)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from storage.models import ItemKind, ItemStatus, RegisterStatus, ReportType


def value_key(value: str) -> str:
    """A value as compared: case-folded, "_", "-", "/" and dashes as spaces, spacing collapsed."""
    return " ".join(re.sub(r"[_\-/–—.]+", " ", value.casefold()).split())


def _keys(mapping: Mapping[str, str]) -> dict[str, str]:
    return {value_key(k): v for k, v in mapping.items()}


KINDS: Final[Mapping[str, str]] = MappingProxyType(_keys(
    dict.fromkeys(("recommendation", "recommendations", "rec", "recs", "r"), ItemKind.RECOMMENDATION.value)
    | dict.fromkeys(("afi", "afis", "area for improvement", "areas for improvement", "a f i"), ItemKind.AFI.value)
    | dict.fromkeys(("cause of concern", "causes of concern", "coc", "cause_of_concern"), ItemKind.CAUSE_OF_CONCERN.value)
))  # fmt: skip

STATUS_LABELS: Final[Mapping[str, str]] = MappingProxyType({
    ItemStatus.OPEN: "Open", ItemStatus.IN_PROGRESS: "In progress", ItemStatus.EVIDENCED: "Awaiting sign-off",
    ItemStatus.SIGNED_OFF: "Signed off", ItemStatus.NOT_FOR_US: "Not for us", ItemStatus.SUPERSEDED: "Superseded",
})  # fmt: skip
"""How an export writes each status; import reads these back."""

STATUSES: Final[Mapping[str, str]] = MappingProxyType(_keys(
    {s.value: s.value for s in ItemStatus}
    | {label: status for status, label in STATUS_LABELS.items()}
    | dict.fromkeys(("new", "not started", "not yet started", "to do", "outstanding", "live"), ItemStatus.OPEN.value)
    | dict.fromkeys(("ongoing", "in hand", "progressing", "being progressed", "started", "wip", "work in progress",
                     "on track", "in progress"), ItemStatus.IN_PROGRESS.value)
    | dict.fromkeys(("evidenced", "awaiting sign off", "awaiting signoff", "pending sign off", "with hmicfrs",
                     "submitted", "submitted to hmicfrs", "awaiting hmicfrs", "awaiting hmicfrs review",
                     "awaiting closure", "evidence submitted", "ready for sign off"), ItemStatus.EVIDENCED.value)
    | dict.fromkeys(("signed off", "signedoff", "closed", "complete", "completed", "discharged", "achieved",
                     "done", "closed complete"), ItemStatus.SIGNED_OFF.value)
    | dict.fromkeys(("not for us", "not applicable", "n a", "na", "other body", "not for force",
                     "not for the force", "npcc", "not ours"), ItemStatus.NOT_FOR_US.value)
    | dict.fromkeys(("superseded", "withdrawn", "replaced", "no longer applicable"), ItemStatus.SUPERSEDED.value)
))  # fmt: skip

# "Not for West Midlands Police", "N/A - other body", "N/A (IOPC)", "Other agency", "For NPCC".
_NOT_FOR_US: Final = re.compile(
    r"^(?:not\s+(?:for|applicable\s+to|relevant\s+to)\s+\S.*|n\s?a\b.*|(?:for\s+)?(?:another|other)\s+"
    r"(?:body|agency|organisation|organization)\b.*|for\s+(?:npcc|iopc|college\s+of\s+policing|home\s+office)\b.*)$"
)

RAGS: Final[Mapping[str, str]] = MappingProxyType(_keys(
    dict.fromkeys(("red", "r"), "red") | dict.fromkeys(("amber", "a", "yellow", "orange"), "amber")
    | dict.fromkeys(("green", "g"), "green") | dict.fromkeys(("complete", "completed", "blue", "b", "c", "closed"), "complete")
))  # fmt: skip

REPORT_TYPES: Final[Mapping[str, str]] = MappingProxyType(_keys(
    {t.value: t.value for t in ReportType}
    | {"thematic": "national_thematic", "national thematic": "national_thematic", "jtai": "joint",
       "joint inspection": "joint", "super complaint": "super_complaint"}
))  # fmt: skip

REGISTER_STATUSES: Final[Mapping[str, str]] = MappingProxyType(_keys(
    {r.value: r.value for r in RegisterStatus} | {"no further action": "no-further-action-needed"}
))  # fmt: skip

YES_NO: Final[Mapping[str, bool]] = MappingProxyType(
    dict.fromkeys(("yes", "y", "true", "1"), True) | dict.fromkeys(("no", "n", "false", "0"), False)
)


def read_status(value: str) -> str | None:
    """A status as forces write it, or None if it is not one."""
    key = value_key(value)
    found = STATUSES.get(key)
    if found is None and _NOT_FOR_US.match(key):
        found = ItemStatus.NOT_FOR_US.value
    return found


@dataclass(slots=True)
class Mapped:
    """One value as written and what it was read as, with where it was first seen and how often."""

    column: str
    written: str
    read_as: str
    first: str
    count: int = 1


@dataclass(slots=True)
class ValueReader:
    """Reads choice cells, remembering each mapping that is not the stored value as written."""

    mapped: dict[tuple[str, str], Mapped] = field(default_factory=dict)

    def note(self, column: str, written: str, read_as: object, where: str) -> None:
        shown = str(read_as).lower() if not isinstance(read_as, bool) else ("yes" if read_as else "no")
        if value_key(written) == value_key(shown):
            return
        key = (column, value_key(written))
        if key in self.mapped:
            self.mapped[key].count += 1
        else:
            self.mapped[key] = Mapped(column, written, shown, where)

    def lines(self) -> list[str]:
        """For the dry run: "status 'With HMICFRS' → evidenced (3 rows, first line 4)"."""
        out = []
        for m in self.mapped.values():
            rows = f"{m.count} rows, first {m.first}" if m.count > 1 else m.first
            out.append(f"{m.column} '{m.written}' → {m.read_as} ({rows})")
        return out
