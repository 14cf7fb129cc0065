"""The tracker's tables, as SQLAlchemy 2.x typed declarative models.

Vocabulary follows the force's own papers: a *report* is one HMICFRS inspection; an *item* is one
recommendation, area for improvement (AFI) or cause of concern in it. Evidence and progress notes
are rows of their own; every change to an item appends an :class:`ItemEvent`.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC (stored as timezone-aware where the backend supports it)."""
    return dt.datetime.now(dt.UTC)


class ReportType(enum.StrEnum):
    PEEL = "peel"
    NATIONAL_THEMATIC = "national_thematic"
    JOINT = "joint"
    SUPER_COMPLAINT = "super_complaint"
    SPOTLIGHT = "spotlight"
    OTHER = "other"


class ItemKind(enum.StrEnum):
    RECOMMENDATION = "recommendation"
    AFI = "afi"
    CAUSE_OF_CONCERN = "cause_of_concern"


class ItemStatus(enum.StrEnum):
    """The force's own workflow status."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    EVIDENCED = "evidenced"  # evidence submitted, awaiting HMICFRS sign-off
    SIGNED_OFF = "signed_off"  # HMICFRS signed it off as complete
    NOT_FOR_US = "not_for_us"  # addressed to another body (NPCC, IOPC, Home Office...)
    SUPERSEDED = "superseded"


# Statuses that still need work from the force.
LIVE_STATUSES = frozenset({ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.EVIDENCED})
CLOSED_STATUSES = frozenset({ItemStatus.SIGNED_OFF, ItemStatus.NOT_FOR_US, ItemStatus.SUPERSEDED})


class RegisterStatus(enum.StrEnum):
    """Status on HMICFRS's own recommendations register."""

    AWAITING_REVIEW = "awaiting-review"
    BEING_PROGRESSED = "being-progressed"
    COMPLETE = "complete"
    NO_FURTHER_ACTION = "no-further-action-needed"


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True)}


class Report(Base):
    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(Text)
    report_type: Mapped[str] = mapped_column(String(32), default=ReportType.OTHER.value)
    published: Mapped[dt.date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # ---- import fidelity (migration 0002) ----
    # How much of ``published`` is known: day | month | year | financial_year (storage.partial_dates).
    # ``published`` holds the first day of that period, so "2019" is 2019 and never shown as 1 January.
    published_precision: Mapped[str] = mapped_column(String(16), default="day", server_default="day")

    # ---- language (migration 0006) ----

    aliases: Mapped[list[ReportAlias]] = relationship(back_populates="report", cascade="all, delete-orphan")
    items: Mapped[list[Item]] = relationship(back_populates="report")


class ReportAlias(Base):
    __tablename__ = "report_alias"
    __table_args__ = (UniqueConstraint("report_id", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="aliases")


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        # Import matches on report + kind + number, or on the text when the number is blank:
        # match_key holds whichever applies, so one portable unique constraint covers both.
        UniqueConstraint("report_id", "kind", "match_key"),
        Index("ix_item_status_due", "status", "due_date"),
        Index("ix_item_changed_seq", "changed_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32), default="")
    match_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    addressee: Mapped[str | None] = mapped_column(Text)
    for_force: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline_text: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    owner_aad_id: Mapped[str | None] = mapped_column(String(64), index=True)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), default=ItemStatus.OPEN.value)
    register_status: Mapped[str | None] = mapped_column(String(40))
    register_id: Mapped[str | None] = mapped_column(String(80))
    register_url: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column()
    # Value of the store-wide change counter when this row last changed: lets other bot
    # instances refresh their in-memory read model incrementally.
    changed_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # ---- import fidelity (migration 0002) ----
    # Columns of the force's own tracker that the tracker has no column for ("Comments", "SD&A
    # Lead"), by their header as written: shown on the item card, exported under those headers.
    extra_columns: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # What the last import set or saw for each field it reads (JSON-ready values), so a later file
    # without a version column can tell its own edits from changes made in Teams since (a
    # three-way merge): bookkeeping, not item state, so it is written without moving ``version``.
    import_base: Mapped[dict[str, object] | None] = mapped_column(JSON)

    # ---- dates of record, committee reporting (migration 0003) ----
    # The day the item joined the tracker (import column, else the report's publication date, else
    # the day it was created): what "added since the last JAC" counts.
    added_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # The day HMICFRS signed it off (set by a sign-off in Teams, or the import column).
    signed_off_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # A target the force moved, kept beside the original deadline (due_date), and how often it moved.
    revised_due_date: Mapped[dt.date | None] = mapped_column(Date)
    retarget_count: Mapped[int] = mapped_column(Integer, default=0)
    # A RAG rating given by hand (import): wins over the computed one. red | amber | green | complete
    rag_override: Mapped[str | None] = mapped_column(String(16))

    # ---- language: PEEL questions (migration 0006) ----

    report: Mapped[Report] = relationship(back_populates="items")
    evidence: Mapped[list[Evidence]] = relationship(back_populates="item", order_by="Evidence.id")

    __mapper_args__ = {"version_id_col": version}


class Evidence(Base):
    """Evidence submitted for an item, or a progress update that changes no status."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "evidence" | "update"
    text: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_aad_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source_conversation_id: Mapped[str | None] = mapped_column(Text)
    source_activity_id: Mapped[str | None] = mapped_column(String(200))

    item: Mapped[Item] = relationship(back_populates="evidence")


class ItemEvent(Base):
    """Append-only audit trail: one row per change (or refused change) to an item."""

    __tablename__ = "item_event"
    __table_args__ = (Index("ix_item_event_item", "item_id", "id"), Index("ix_item_event_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_aad_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(40))  # teams | import | cli | seed
    source_conversation_id: Mapped[str | None] = mapped_column(Text)
    source_activity_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Meta(Base):
    """Small key/value facts, e.g. the store-wide change counter ``data_seq``."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ProcessedKey(Base):
    """Idempotency keys: an inbound activity or a card click is acted on once, across instances."""

    __tablename__ = "processed_key"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    result: Mapped[str | None] = mapped_column(Text)


class BotStateRecord(Base):
    """botbuilder Storage rows (conversation and dialog state), so state survives restarts."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    etag: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A conversation that receives the weekly digest."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(Text, unique=True)  # Teams' ids have no set length (0005)
    service_url: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(40), default="msteams")
    team_id: Mapped[str | None] = mapped_column(Text)
    conversation_type: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deactivated_reason: Mapped[str | None] = mapped_column(Text)


class DigestDelivery(Base):
    """One digest post to one subscription for one ISO week: the unique key makes it once-only."""

    __tablename__ = "digest_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"))
    week: Mapped[str] = mapped_column(String(10))  # e.g. "2026-W48"
    state: Mapped[str] = mapped_column(String(16))  # claimed | sending | sent | failed | uncertain | skipped
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    activity_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


# ==== import fidelity (migration 0002) ====


# ==== committee reporting (migration 0003) ====


class CommitteeMeeting(Base):
    """A meeting of the committee the SD&A team reports to (the Joint Audit Committee, "JAC").

    "Since the last JAC" counts from the latest meeting held strictly before the day asked about.
    """

    __tablename__ = "committee_meeting"
    __table_args__ = (UniqueConstraint("name", "met_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="JAC")
    met_on: Mapped[dt.date] = mapped_column(Date, index=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_by_aad_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str | None] = mapped_column(String(40))  # teams | cli
    source_activity_id: Mapped[str | None] = mapped_column(String(200))


class Inspection(Base):
    """An inspection the force expects (PEEL fieldwork, a JTAI...), listed in the committee paper."""

    __tablename__ = "inspection"
    __table_args__ = (UniqueConstraint("name", "starts_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(Item, "before_insert")
def _added_on_default(_mapper: object, connection: Connection, target: Item) -> None:
    """Every item joins the tracker on a day: the report's publication date, else the day it was created.

    Imports give their own ``added_on``; this covers the other ways an item is made (seed data,
    tests, tools). Core bulk inserts bypass it, so the committee figures apply the same fallback.
    """
    if target.added_on is not None:
        return
    report = target.__dict__.get("report")
    published = report.published if report is not None else None
    if published is None and report is None and target.report_id is not None:
        published = connection.scalar(select(Report.published).where(Report.id == target.report_id))
    created = target.created_at or utcnow()
    target.added_on = published or created.date()


# ==== Teams surfaces: people, reminders (migration 0004) ====


class Person(Base):
    """Someone the bot knows by their Teams identity: where their 1:1 chat is, and whether they
    want owner reminders (None: the admins' default)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aad_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(400))  # their personal chat with the bot
    service_url: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(40), default="msteams")
    reference: Mapped[dict | None] = mapped_column(JSON)
    remind: Mapped[bool | None] = mapped_column(Boolean)
    remind_changed_by: Mapped[str | None] = mapped_column(String(200))
    remind_changed_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReminderDelivery(Base):
    """One reminder to one person for one period ("2026-12" monthly, "2026-12-02" a day's nudge):
    the digest's ledger (``storage.deliveries``) on its own table. The attribute names are the
    digest ledger's, so the same claim/record code serves both."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (UniqueConstraint("person_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column("person_id", ForeignKey("person.id"))
    week: Mapped[str] = mapped_column("period", String(20))
    state: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    activity_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


# ==== delivery under faults: outbox, per-person questions (migration 0005) ====


class ReplyOutbox(Base):
    """Replies kept until the Bot Connector has them: after a committed write (kept before the
    first attempt, so a killed instance's reply is still sent), or after a failed or throttled
    attempt. Any live instance delivers what is due. ``key`` is the inbound activity's
    idempotency key, so a re-delivered activity gets the same replies again."""

    __tablename__ = "reply_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    service_url: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[str] = mapped_column(Text)
    activities: Mapped[list] = mapped_column(JSON)  # wire activities, in order
    done: Mapped[int] = mapped_column(Integer, default=0)  # how many of them were delivered
    state: Mapped[str] = mapped_column(String(16), index=True)  # sending | pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # pending: when to try again
    lease_until: Mapped[dt.datetime | None] = mapped_column()  # sending: another instance may take it after
    version: Mapped[int] = mapped_column(Integer, default=1)  # compare-and-set for claims
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
