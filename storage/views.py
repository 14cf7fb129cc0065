"""Plain, immutable views of stored rows: what the rest of the code reads.

Dialogs and reply builders get these, never ORM objects, so nothing outside ``storage`` can
lazy-load or mutate a row by accident.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from storage.models import LIVE_STATUSES, CommitteeMeeting, Evidence, Inspection, Item, ItemEvent, Report
from storage.partial_dates import PartialDate

T = TypeVar("T")

RAG_SOON_DAYS = 30
"""An item the force still owes work on that is due within this many days is amber."""


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


class Interner:
    """Shares equal values (statuses, owners, deadline texts, dates) between many views."""

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, value: T) -> T:
        if value is None:
            return value
        return self._seen.setdefault(value, value)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a Teams user (display name + AAD object id) or a tool."""

    name: str
    aad_id: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a change came from: ``teams`` (with conversation and activity ids), ``import``, ``cli``..."""

    kind: str
    conversation_id: str | None = None
    activity_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReportView:
    id: int
    key: str
    title: str
    report_type: str
    published: dt.date | None
    url: str | None
    aliases: tuple[str, ...] = ()
    published_precision: str = "day"  # day | month | year | financial_year

    @property
    def published_on(self) -> PartialDate | None:
        """The publication date at its own precision (a year-only date is a year, not 1 January)."""
        return PartialDate.of(self.published, self.published_precision)

    @property
    def published_label(self) -> str | None:
        """The publication date for people: "2 November 2022", "July 2020", "2019", "2018/19"."""
        on = self.published_on
        return on.label() if on else None

    @classmethod
    def of(cls, r: Report, aliases: tuple[str, ...] = ()) -> ReportView:
        return cls(
            r.id, r.key, r.title, r.report_type, r.published, r.url, aliases, r.published_precision or "day"
        )


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    report_id: int
    kind: str
    number: str
    text: str
    addressee: str | None
    for_force: bool
    deadline_text: str | None
    due_date: dt.date | None
    owner_name: str | None
    owner_aad_id: str | None
    themes: tuple[str, ...]
    status: str
    register_status: str | None
    register_id: str | None
    register_url: str | None
    source_url: str | None
    version: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    latest_evidence: str | None = None
    added_on: dt.date | None = None
    signed_off_on: dt.date | None = None
    revised_due_date: dt.date | None = None
    retarget_count: int = 0
    rag_override: str | None = None
    extra_columns: tuple[tuple[str, str], ...] = ()  # the force's own columns, (header, value)

    @property
    def target_date(self) -> dt.date | None:
        """The date the item is due now: the revised target if the force moved it, else the deadline."""
        return self.revised_due_date or self.due_date

    @property
    def live(self) -> bool:
        """Still needs something from the force (open, in progress or awaiting sign-off)."""
        return self.status in LIVE_STATUSES

    def overdue(self, today: dt.date) -> bool:
        """Live, owned by the force, and past its target date (evidenced items wait on HMICFRS, not us)."""
        target = self.target_date
        return (
            target is not None
            and target < today
            and self.status in ("open", "in_progress")
            and self.for_force
        )

    def rag(self, today: dt.date) -> str | None:
        """Red, amber, green or complete; None for items that are not the force's to deliver.

        A RAG set by hand (import) wins. Otherwise: complete when signed off; red when overdue;
        amber when re-targeted twice or more, or when it is live and its target falls within
        :data:`RAG_SOON_DAYS` days (or has passed while it waits on HMICFRS: evidenced items are never
        red, since the next move is the inspectorate's, but they are not complete either); green
        otherwise.
        """
        if self.rag_override:
            return self.rag_override
        if self.status == "signed_off":
            return "complete"
        if self.status in ("not_for_us", "superseded") or not self.for_force:
            return None
        if self.overdue(today):
            return "red"
        target = self.target_date
        soon = target is not None and self.live and target <= today + dt.timedelta(days=RAG_SOON_DAYS)
        return "amber" if soon or self.retarget_count >= 2 else "green"

    @classmethod
    def of(cls, i: Item, latest_evidence: str | None = None) -> ItemView:
        return cls(
            i.id, i.report_id, i.kind, i.number or "", i.text, i.addressee, bool(i.for_force),
            i.deadline_text, i.due_date, i.owner_name, i.owner_aad_id, tuple(i.themes or ()),
            i.status, i.register_status, i.register_id, i.register_url, i.source_url, i.version,
            as_utc(i.created_at), as_utc(i.updated_at), as_utc(i.status_changed_at), latest_evidence,
            i.added_on, i.signed_off_on, i.revised_due_date, int(i.retarget_count or 0), i.rag_override,
            tuple((i.extra_columns or {}).items()),
        )  # fmt: skip

    @classmethod
    def from_row(cls, r: Any, latest_evidence: str | None, intern: Interner) -> ItemView:
        """From a row of :data:`ITEM_VIEW_COLUMNS`, sharing repeated values through ``intern``."""
        return cls(
            r.id, r.report_id, intern(r.kind), intern(r.number or ""), r.text, intern(r.addressee),
            bool(r.for_force), intern(r.deadline_text), intern(r.due_date), intern(r.owner_name),
            intern(r.owner_aad_id), intern(tuple(r.themes or ())), intern(r.status), intern(r.register_status),
            r.register_id, r.register_url, intern(r.source_url), r.version, intern(as_utc(r.created_at)),
            intern(as_utc(r.updated_at)), intern(as_utc(r.status_changed_at)), latest_evidence,
            intern(r.added_on), intern(r.signed_off_on), intern(r.revised_due_date), int(r.retarget_count or 0),
            intern(r.rag_override), tuple((r.extra_columns or {}).items()),
        )  # fmt: skip


ITEM_VIEW_COLUMNS = (
    Item.id, Item.report_id, Item.kind, Item.number, Item.text, Item.addressee, Item.for_force,
    Item.deadline_text, Item.due_date, Item.owner_name, Item.owner_aad_id, Item.themes, Item.status,
    Item.register_status, Item.register_id, Item.register_url, Item.source_url, Item.version,
    Item.created_at, Item.updated_at, Item.status_changed_at, Item.added_on, Item.signed_off_on,
    Item.revised_due_date, Item.retarget_count, Item.rag_override, Item.extra_columns,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvidenceView:
    id: int
    item_id: int
    kind: str
    text: str
    links: tuple[str, ...]
    author_name: str | None
    author_aad_id: str | None
    created_at: dt.datetime | None
    source_conversation_id: str | None
    source_activity_id: str | None

    @classmethod
    def from_row(cls, r: tuple[Any, ...]) -> EvidenceView:
        """From a driver row (SQLite gives JSON and times as text, asyncpg JSON as text)."""
        links = json.loads(r[4]) if isinstance(r[4], str) else (r[4] or [])
        created = dt.datetime.fromisoformat(r[7]) if isinstance(r[7], str) else r[7]
        return cls(r[0], r[1], r[2], r[3], tuple(links), r[5], r[6], as_utc(created), r[8], r[9])

    @classmethod
    def of(cls, e: Evidence) -> EvidenceView:
        return cls(
            e.id, e.item_id, e.kind, e.text, tuple(e.links or ()), e.author_name, e.author_aad_id,
            as_utc(e.created_at), e.source_conversation_id, e.source_activity_id,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    item_id: int
    at: dt.datetime | None
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    actor_name: str | None
    actor_aad_id: str | None
    source: str | None
    source_conversation_id: str | None
    source_activity_id: str | None
    note: str | None

    @classmethod
    def of(cls, e: ItemEvent) -> EventView:
        return cls(
            e.id, e.item_id, as_utc(e.at), e.action, e.field, e.old_value, e.new_value, e.actor_name,
            e.actor_aad_id, e.source, e.source_conversation_id, e.source_activity_id, e.note,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """One item with its report, evidence and audit trail."""

    item: ItemView
    report: ReportView
    evidence: tuple[EvidenceView, ...] = ()
    events: tuple[EventView, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the in-memory read model needs, as of change counter ``seq``."""

    seq: int
    reports: tuple[ReportView, ...]
    items: tuple[ItemView, ...]
    full: bool = True  # False: only items changed since an earlier seq
    removed_item_ids: tuple[int, ...] = field(default=())


# ---- committee reporting -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeetingView:
    """A committee meeting (default name "JAC") and who recorded it, when, from where."""

    id: int
    name: str
    met_on: dt.date
    created_by: str | None
    created_at: dt.datetime | None
    source: str | None = None

    @classmethod
    def of(cls, m: CommitteeMeeting) -> MeetingView:
        return cls(m.id, m.name, m.met_on, m.created_by, as_utc(m.created_at), m.source)


@dataclass(frozen=True, slots=True)
class InspectionView:
    """An upcoming inspection recorded for the committee paper."""

    id: int
    name: str
    starts_on: dt.date
    note: str | None
    created_by: str | None

    @classmethod
    def of(cls, i: Inspection) -> InspectionView:
        return cls(i.id, i.name, i.starts_on, i.note, i.created_by)
