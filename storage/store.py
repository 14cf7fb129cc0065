"""Queries and writes. Every change to an item goes through :meth:`Store.change_item`, which checks
the version, appends audit events, records the source activity and refuses duplicates."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage import effects
from storage.db import create_engine, read_session_factory, session_factory
from storage.fastpath import FastPath, OutboxRow, PersonLink, StateRow, open_fast_path
from storage.keys import fit, fit_id
from storage.loopsqlite import WouldWait
from storage.models import (
    BotStateRecord,
    CommitteeMeeting,
    Evidence,
    Inspection,
    Item,
    ItemEvent,
    ItemStatus,
    Meta,
    ProcessedKey,
    Report,
    ReportAlias,
    utcnow,
)
from storage.views import (
    ITEM_VIEW_COLUMNS,
    Actor,
    EventView,
    EvidenceView,
    InspectionView,
    Interner,
    ItemDetail,
    ItemView,
    MeetingView,
    ReportView,
    Snapshot,
    Source,
    as_utc,
)

log = logging.getLogger(__name__)

DATA_SEQ = "data_seq"
LINK_WINDOW = 0.05  # seconds people's chat links wait, to be written with the others of that time
LINKS_KEPT = 10_000  # links waiting at most (a database that refuses them for long loses the oldest)
DEFAULT_COMMITTEE = "JAC"
T = TypeVar("T")  # what a unit of work returns


class StoreError(Exception):
    """Base class for store errors the conversation turns into a clear answer."""


class NotFound(StoreError):
    """No such item or report."""


class InvalidChange(StoreError, ValueError):
    """The change contradicts itself or the item (a sign-off without its date, a re-target without a
    reason): nothing was written."""


DECLINED = "declined"  # what a confirmation key records when the person said No


class Declined(StoreError):
    """The person's No to this very question was recorded first: nothing was written."""


class VersionConflict(StoreError):
    """Someone else changed the item since it was read: nothing was written."""

    def __init__(self, current: ItemView) -> None:
        super().__init__(f"item {current.id} is now at version {current.version}")
        self.current = current


@dataclass(frozen=True, slots=True)
class NewEvidence:
    """Evidence (changes status to evidenced) or an update (changes nothing but the record)."""

    kind: str  # "evidence" | "update"
    text: str
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Retarget:
    """Move an item's target date: the original deadline stays on record beside it."""

    to: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class ItemChange:
    """What a write wants to change; ``None`` means leave alone."""

    status: str | None = None
    owner_name: str | None = None
    owner_aad_id: str | None = None
    set_owner: bool = False
    evidence: NewEvidence | None = None
    note: str | None = None  # free text kept on the audit events (e.g. reason for reopening)
    # The day HMICFRS signed the item off, in the force's time zone, given with status "signed_off"
    # (the caller knows what day it is; the store keeps no clock of its own for it). Teams always
    # gives it; a caller that does not leaves the column empty, and the committee figures date that
    # sign-off by the local day of its audit event. Given for an item already signed off, it
    # corrects the date of record.
    signed_off_on: dt.date | None = None
    retarget: Retarget | None = None


@dataclass(frozen=True, slots=True)
class ChangeResult:
    item: ItemView
    events: tuple[EventView, ...] = ()
    duplicate: bool = False  # the idempotency key had been used: nothing was written this time
    changed: bool = True
    seq: int | None = None  # the store-wide change counter this change took (None: nothing written)


# Statements of the write path, built once: constructing them per write (with the ORM's DML
# handling of mapped classes) cost more than running them.
_META, _KEYS, _EVIDENCE, _EVENTS = (
    cast(Table, m.__table__) for m in (Meta, ProcessedKey, Evidence, ItemEvent)
)
_BUMP_SEQ = (
    update(_META).where(_META.c.key == DATA_SEQ).values(value=_META.c.value + 1).returning(_META.c.value)
)
_SEED_SEQ = insert(_META).values(key=DATA_SEQ, value=1)
_CLAIM = insert(_KEYS)
_ADD_EVIDENCE = insert(_EVIDENCE)
_ADD_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def bump_seq_now(session: Session | Connection) -> int:
    """Advance the store-wide change counter inside the caller's transaction and return it.

    The row lock this takes also serialises writers, so counter order is commit order."""
    # On the session's connection, past the ORM: no Meta object is ever loaded in a writing
    # session, so there is nothing in the identity map for the ORM to keep in step.
    conn = session.connection() if isinstance(session, Session) else session
    value = conn.execute(_BUMP_SEQ).scalar_one_or_none()
    if value is None:  # a database created without the migration's seed row
        conn.execute(_SEED_SEQ)
        return 1
    return int(value)


async def bump_seq(session: AsyncSession) -> int:
    """:func:`bump_seq_now` in an async session."""
    return await session.run_sync(bump_seq_now)


def latest_evidence_now(s: Session, item_ids: Sequence[int]) -> dict[int, str]:
    """The newest evidence text of each of ``item_ids`` that has any, inside the caller's transaction."""
    if not item_ids:
        return {}
    newest = (
        select(Evidence.item_id, func.max(Evidence.id).label("eid"))
        .where(Evidence.kind == "evidence", Evidence.item_id.in_(item_ids))
        .group_by(Evidence.item_id)
        .subquery()
    )
    rows = s.execute(select(Evidence.item_id, Evidence.text).join(newest, Evidence.id == newest.c.eid))
    return {item_id: text for item_id, text in rows}


async def latest_evidence(s: AsyncSession, item_ids: Sequence[int]) -> dict[int, str]:
    """:func:`latest_evidence_now` in an async session."""
    return await s.run_sync(latest_evidence_now, item_ids)


def event_row(
    item_id: int, action: str, actor: Actor, source: Source, *, at: dt.datetime,
    field_name: str | None = None, old: object = None, new: object = None, note: str | None = None,
) -> ItemEvent:  # fmt: skip
    """An audit row; values are stored as text so the trail reads the same on every backend."""
    return ItemEvent(
        item_id=item_id, at=at, action=action, field=field_name,
        old_value=None if old is None else str(old), new_value=None if new is None else str(new),
        actor_name=actor.name, actor_aad_id=actor.aad_id, source=source.kind,
        source_conversation_id=source.conversation_id, source_activity_id=fit_id(source.activity_id), note=note,
    )  # fmt: skip


class Store:
    """The tracker's persistence API: the one way into the database for everything outside storage/.

    Open with :meth:`open` (an engine for SQLAlchemy work and the per-message :class:`FastPath`),
    close with :meth:`close`, or use it as an async context manager.
    """

    def __init__(self, engine: AsyncEngine, fast: FastPath) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._reads = read_session_factory(engine)  # take no write lock on SQLite
        self._fast = fast
        self._links: dict[str, PersonLink] = {}  # by Entra id: the newest link of each person
        self._links_timer: asyncio.TimerHandle | None = None
        self._links_task: asyncio.Task[None] | None = None
        self._links_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to the database at ``url`` (raises if it cannot be reached)."""
        fast = await open_fast_path(url)  # first: it refuses a URL the store cannot use
        try:
            return cls(create_engine(url), fast)
        except BaseException:
            await fast.close()
            raise

    async def close(self) -> None:
        try:
            await self.flush_links()  # the links still waiting are written, not dropped
            if self._links_timer is not None:  # a flush that failed set a retry: none after closing
                self._links_timer.cancel()
                self._links_timer = None
            if self._links:
                log.warning(
                    "%d people's chat links not written: linked at their next message", len(self._links)
                )
        finally:
            await self._close()

    async def _close(self) -> None:
        try:
            await self._fast.close()
        finally:
            await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the other storage modules (deliveries, import, demo). Nothing outside
        storage/ uses them: the layering test checks that."""
        return self._sessions

    @property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for units of work that only read: on SQLite they hold no writer off (a
        session from :attr:`sessions` takes the write lock at its first statement, read or not)."""
        return self._reads

    async def _unit(self, unit: Callable[[Session], T], *, read_only: bool = False) -> T:
        """Run a synchronous unit of work: on SQLite at once on the loop connection (no other turn
        runs while it holds the write lock, and it waits on no thread); where that would wait, or
        on PostgreSQL, in an async session."""
        try:
            return self._fast.transact(unit, read_only=read_only)
        except WouldWait:
            async with (self._reads if read_only else self._sessions)() as s, s.begin():
                return await s.run_sync(unit)

    # ---- reads -------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self._reads() as s:
            await s.execute(select(1))

    async def current_seq(self) -> int:
        async with self._reads() as s:
            v = await s.scalar(select(Meta.value).where(Meta.key == DATA_SEQ))
            return int(v or 0)

    async def snapshot(self, since_seq: int | None = None, *, chunk: int = 5000) -> Snapshot:
        """All reports, and all items (or only those changed after ``since_seq``).

        Read in id-ordered chunks of plain rows (no ORM objects) with repeated values shared, so
        loading 100,000 items neither doubles the process's memory nor keeps duplicate strings.
        """
        intern = Interner()
        views: list[ItemView] = []
        async with self._reads() as s:
            seq = int(await s.scalar(select(Meta.value).where(Meta.key == DATA_SEQ)) or 0)
            reports = await self._reports(s)
            last_id = 0
            while True:
                q = select(*ITEM_VIEW_COLUMNS).where(Item.id > last_id).order_by(Item.id).limit(chunk)
                if since_seq is not None:
                    q = q.where(Item.changed_seq > since_seq)
                rows = (await s.execute(q)).all()
                if not rows:
                    break
                latest = await latest_evidence(s, [r.id for r in rows])
                views.extend(ItemView.from_row(r, latest.get(r.id), intern) for r in rows)
                last_id = rows[-1].id
                if len(rows) < chunk:
                    break
        return Snapshot(seq=seq, reports=reports, items=tuple(views), full=since_seq is None)

    async def _reports(self, s: AsyncSession) -> tuple[ReportView, ...]:
        aliases: dict[int, list[str]] = {}
        for rid, alias in (
            await s.execute(select(ReportAlias.report_id, ReportAlias.alias).order_by(ReportAlias.id))
        ).all():
            aliases.setdefault(rid, []).append(alias)
        rows = (await s.scalars(select(Report).order_by(Report.id))).all()
        return tuple(ReportView.of(r, tuple(aliases.get(r.id, ()))) for r in rows)

    async def reports(self) -> tuple[ReportView, ...]:
        async with self._reads() as s:
            return await self._reports(s)

    async def get_item(self, item_id: int) -> ItemView:
        async with self._reads() as s:
            item = await s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            latest = await latest_evidence(s, [item_id])
            return ItemView.of(item, latest.get(item_id))

    async def item_version(self, item_id: int) -> int | None:
        """The item's current version, None if it does not exist (one statement: every proposed
        write asks, to know whether the read model's copy is the item as it stands)."""
        return await self._fast.item_version(item_id)

    async def evidence(self, item_id: int) -> tuple[EvidenceView, ...]:
        """One item's evidence and updates, oldest first (a single statement: shown on every "show")."""
        return tuple(EvidenceView.from_row(r) for r in await self._fast.evidence(item_id))

    async def item_detail(self, item_id: int, *, events: int = 50) -> ItemDetail:
        """An item with its report, all evidence and updates, and its newest ``events`` audit rows."""
        async with self._reads() as s:
            item = await s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            report = await s.get(Report, item.report_id)
            aliases = tuple(
                (
                    await s.scalars(
                        select(ReportAlias.alias)
                        .where(ReportAlias.report_id == report.id)
                        .order_by(ReportAlias.id)
                    )
                ).all()
            )
            ev = (
                await s.scalars(select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id))
            ).all()
            evq = (
                select(ItemEvent)
                .where(ItemEvent.item_id == item_id)
                .order_by(ItemEvent.id.desc())
                .limit(events)
            )
            hist = list(reversed((await s.scalars(evq)).all()))
            latest = next((e.text for e in reversed(ev) if e.kind == "evidence"), None)
            return ItemDetail(
                item=ItemView.of(item, latest),
                report=ReportView.of(report, aliases),
                evidence=tuple(EvidenceView.of(e) for e in ev),
                events=tuple(EventView.of(e) for e in hist),
            )

    async def history(self, item_id: int) -> tuple[EventView, ...]:
        """The whole audit trail of one item, oldest first."""
        async with self._reads() as s:
            if await s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            rows = (
                await s.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id))
            ).all()
            return tuple(EventView.of(e) for e in rows)

    async def events_since(self, since: dt.datetime, *, limit: int = 5000) -> tuple[EventView, ...]:
        """Audit events at or after ``since`` (oldest first), for the weekly digest."""
        async with self._reads() as s:
            q = select(ItemEvent).where(ItemEvent.at >= since).order_by(ItemEvent.id).limit(limit)
            return tuple(EventView.of(e) for e in (await s.scalars(q)).all())

    async def count_writes_since(self, actor_aad_id: str, since: dt.datetime) -> int:
        """How many messages of one person changed items since ``since`` (the per-user write rate
        limit; every write and its confirmation ask, so it is one statement on the fast path)."""
        return await self._fast.count_writes(actor_aad_id, since)

    async def count_refusals_since(self, actor_aad_id: str, since: dt.datetime) -> int:
        """Refused writes audited for this person since ``since``."""
        async with self._reads() as s:
            q = (
                select(func.count())
                .select_from(ItemEvent)
                .where(
                    ItemEvent.actor_aad_id == actor_aad_id,
                    ItemEvent.at >= since,
                    ItemEvent.action == "refused",
                )
            )
            return int(await s.scalar(q) or 0)

    # ---- writes ------------------------------------------------------------------------------

    async def change_item(
        self,
        item_id: int,
        expected_version: int | None,
        change: ItemChange,
        actor: Actor,
        source: Source,
        *,
        idempotency_key: str | None = None,
    ) -> ChangeResult:
        """Apply one change to one item, all or nothing.

        ``expected_version`` is the version the person saw; if the item moved on since, nothing is
        written and :class:`VersionConflict` carries the current state. A reused
        ``idempotency_key`` (a re-delivered activity, a double-clicked button) writes nothing and
        returns ``duplicate=True``.
        """
        source = Source(source.kind, source.conversation_id, fit_id(source.activity_id))
        actor = Actor(
            actor.name[:200] if actor.name else actor.name, actor.aad_id
        )  # a display name, not an id
        unit = partial(_change_unit, idempotency_key, item_id, expected_version, change, actor, source)
        try:
            result = await self._unit(unit)
        except IntegrityError:
            if idempotency_key and (taken := await self.key_result(idempotency_key)) is not None:
                if taken == DECLINED:
                    raise Declined(idempotency_key) from None
                return ChangeResult(item=await self.get_item(item_id), duplicate=True, changed=False)
            raise
        if result.events:
            effects.committed(f"item {item_id} (version {result.item.version})")
        return result

    # ---- committee meetings and upcoming inspections -------------------------------------------

    async def add_meeting(
        self, met_on: dt.date, actor: Actor, source: Source, *, name: str = DEFAULT_COMMITTEE
    ) -> tuple[MeetingView, bool]:
        """Record that a committee met (who and where from kept on the row). (meeting, False) if it
        was already recorded: nothing is overwritten."""
        name = " ".join(name.split()) or DEFAULT_COMMITTEE
        async with self._sessions() as s, s.begin():
            same = select(CommitteeMeeting).where(
                func.lower(CommitteeMeeting.name) == name.lower(), CommitteeMeeting.met_on == met_on
            )
            existing = (await s.scalars(same)).first()
            if existing is not None:
                return MeetingView.of(existing), False
            row = CommitteeMeeting(
                name=name, met_on=met_on, created_by=actor.name, created_by_aad_id=actor.aad_id,
                created_at=utcnow(), source=source.kind, source_activity_id=fit_id(source.activity_id),
            )  # fmt: skip
            s.add(row)
            await s.flush()
            view = MeetingView.of(row)
        effects.committed(f"the {name} meeting of {met_on.isoformat()}")
        return view, True

    async def meetings(self, name: str | None = None) -> tuple[MeetingView, ...]:
        """Recorded meetings, oldest first (of one committee when ``name`` is given)."""
        async with self._reads() as s:
            q = select(CommitteeMeeting).order_by(CommitteeMeeting.met_on, CommitteeMeeting.id)
            if name:
                q = q.where(func.lower(CommitteeMeeting.name) == " ".join(name.split()).lower())
            return tuple(MeetingView.of(m) for m in (await s.scalars(q)).all())

    async def last_meeting_before(self, day: dt.date, name: str = DEFAULT_COMMITTEE) -> MeetingView | None:
        """The latest meeting of ``name`` held strictly before ``day`` ("since the last JAC"): asked
        by any message that mentions a committee or meeting, so one indexed lookup, at once."""
        return await self._unit(partial(_last_meeting, name, day), read_only=True)

    async def add_inspection(
        self, starts_on: dt.date, name: str, actor: Actor, *, note: str | None = None
    ) -> tuple[InspectionView, bool]:
        """Record an upcoming inspection for the committee paper. (inspection, False) if already there."""
        name = " ".join(name.split())
        async with self._sessions() as s, s.begin():
            q = select(Inspection).where(Inspection.name == name, Inspection.starts_on == starts_on)
            existing = (await s.scalars(q)).first()
            if existing is not None:
                return InspectionView.of(existing), False
            row = Inspection(
                name=name, starts_on=starts_on, note=note, created_by=actor.name, created_at=utcnow()
            )
            s.add(row)
            await s.flush()
            return InspectionView.of(row), True

    async def inspections(self, on_or_after: dt.date | None = None) -> tuple[InspectionView, ...]:
        """Recorded inspections, soonest first (from ``on_or_after`` when given)."""
        async with self._reads() as s:
            q = select(Inspection).order_by(Inspection.starts_on, Inspection.id)
            if on_or_after is not None:
                q = q.where(Inspection.starts_on >= on_or_after)
            return tuple(InspectionView.of(i) for i in (await s.scalars(q)).all())

    async def record_refusal(
        self, item_id: int | None, action: str, actor: Actor, source: Source, reason: str
    ) -> None:
        """Audit a write that was refused (not allowed, rate limited): nothing else changes."""
        if item_id is None:
            return
        async with self._sessions() as s, s.begin():
            s.add(event_row(item_id, "refused", actor, source, at=utcnow(), field_name=action, note=reason))

    async def claim_key(self, key: str, result: str | None = None) -> bool:
        """Record an idempotency key (of any length); False if it was already there (someone acted on it)."""
        return await self._fast.claim(fit(key), result, utcnow())

    async def key_used(self, key: str) -> bool:
        async with self._reads() as s:
            return await s.get(ProcessedKey, fit(key)) is not None

    async def key_result(self, key: str) -> str | None:
        """What a used key recorded ("" when nothing), None when the key is unused."""
        async with self._reads() as s:
            row = await s.get(ProcessedKey, fit(key))
            return None if row is None else row.result or ""

    async def add_alias(self, report_id: int, alias: str, actor: Actor) -> bool:
        """Teach the bot another name for a report. False if it already had it."""
        alias = " ".join(alias.split())
        try:
            async with self._sessions() as s, s.begin():
                if await s.get(Report, report_id) is None:
                    raise NotFound(f"no report {report_id}")
                s.add(ReportAlias(report_id=report_id, alias=alias, added_by=actor.name))
                await bump_seq(s)
        except IntegrityError:
            return False
        effects.committed(f"the name '{alias}' for report {report_id}")
        return True

    async def prune_keys(self, older_than: dt.datetime) -> int:
        """Forget idempotency keys older than any re-delivery could be."""
        async with self._sessions() as s, s.begin():
            res = await s.execute(delete(ProcessedKey).where(ProcessedKey.created_at < older_than))
            return int(res.rowcount or 0)

    # ---- conversation state (botbuilder Storage rows) ----------------------------------------

    async def claim_and_read_state(self, key: str, state_key: str) -> tuple[bool, tuple[str, int] | None]:
        """Claim idempotency ``key`` and read state row ``state_key`` in one round trip:
        (claimed, (data, etag) or None). Nothing is read when the key was taken."""
        return await self._fast.claim_and_read(fit(key), None, utcnow(), fit(state_key))

    async def claim_and_read_states(self, key: str, state_keys: list[str]) -> tuple[bool, list[StateRow]]:
        """Claim idempotency ``key`` and read several state rows in one round trip (nothing read
        when the key was taken). Rows come back under the keys asked for."""
        fitted = {fit(k): k for k in state_keys}
        claimed, rows = await self._fast.claim_and_read_many(fit(key), None, utcnow(), list(fitted))
        return claimed, [(fitted.get(k, k), d, e) for k, d, e in rows]

    async def read_state(self, keys: list[str]) -> list[StateRow]:
        """(key, data, etag) of the stored state rows among ``keys`` (keys of any length)."""
        if not keys:
            return []
        fitted = {fit(k): k for k in keys}
        return [(fitted.get(k, k), d, e) for k, d, e in await self._fast.read_state(list(fitted))]

    async def add_outbox(self, row: OutboxRow) -> int | None:
        """Keep replies in the outbox (for :mod:`storage.outbox`): the new row's id, or None when
        its key already has a row. One statement: every committed write's reply is kept first."""
        return await self._fast.add_outbox(replace(row, key=fit(row.key)), utcnow())

    async def outbox_sent(self, entry_id: int, done: int) -> None:
        """Mark an outbox row delivered (for :mod:`storage.outbox`)."""
        await self._fast.outbox_sent(entry_id, done, utcnow())

    def link_person_soon(self, person: PersonLink) -> None:
        """Insert or update where ``person``'s personal chat is, written within :data:`LINK_WINDOW`
        together with the others of that time (one transaction, one round trip; the newest link of
        a person wins). A person's first message in a chat asks for it; the answer does not wait,
        and reads of people (:meth:`flush_links`) see it."""
        self._links.pop(person.aad_id, None)
        self._links[person.aad_id] = person
        while len(self._links) > LINKS_KEPT:
            del self._links[next(iter(self._links))]
        if self._links_timer is None:
            self._links_timer = asyncio.get_running_loop().call_later(LINK_WINDOW, self._links_due)

    def _links_due(self) -> None:
        self._links_timer = None
        self._links_task = asyncio.create_task(self.flush_links())

    async def flush_links(self) -> None:
        """Write the links waiting now (and wait for a write already under way)."""
        if self._links_timer is not None:
            self._links_timer.cancel()
            self._links_timer = None
        async with self._links_lock:
            if not self._links:
                return
            batch = sorted(self._links.values(), key=lambda p: p.aad_id)  # one lock order everywhere
            self._links = {}
            try:
                await self._fast.link_people(batch, utcnow())
            except Exception:  # kept for the next flush: a link is for later reminders only
                log.warning("%d people's chat links not written yet", len(batch), exc_info=True)
                for p in batch:
                    self._links.setdefault(p.aad_id, p)
                if self._links_timer is None:
                    self._links_timer = asyncio.get_running_loop().call_later(1.0, self._links_due)

    async def insert_state(self, key: str, data: str) -> bool:
        """Create a state row; False if one exists."""
        return await self._fast.insert_state(fit(key), data, utcnow())

    async def update_state(self, key: str, data: str, etag: int | None) -> bool:
        """Replace a state row if its etag is still ``etag`` (any etag when None); False otherwise."""
        return await self._fast.update_state(fit(key), data, etag, utcnow())

    async def delete_state(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as s, s.begin():
            await s.execute(delete(BotStateRecord).where(BotStateRecord.key.in_([fit(k) for k in keys])))


def _last_meeting(name: str, day: dt.date, s: Session) -> MeetingView | None:
    q = (
        select(CommitteeMeeting)
        .where(func.lower(CommitteeMeeting.name) == name.lower(), CommitteeMeeting.met_on < day)
        .order_by(CommitteeMeeting.met_on.desc())
        .limit(1)
    )
    row = s.scalars(q).first()
    return MeetingView.of(row) if row else None


def _change_unit(
    idempotency_key: str | None, item_id: int, expected_version: int | None, change: ItemChange,
    actor: Actor, source: Source, s: Session,
) -> ChangeResult:  # fmt: skip
    """:meth:`Store.change_item`'s unit of work, inside the caller's transaction: claim the key,
    check the version, write the item, its audit events and evidence. Synchronous, so one body
    serves the loop connection and an async session (``run_sync``)."""
    now = utcnow()
    conn = s.connection()  # once: each look-up of it goes through the session's bind machinery
    if idempotency_key:  # a taken key fails here (IntegrityError) before anything else is written
        claim = {"key": fit(idempotency_key), "created_at": now, "result": json.dumps({"item": item_id})}
        conn.execute(_CLAIM, claim)
    item = s.get(Item, item_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no item {item_id}")
    if expected_version is not None and item.version != expected_version:
        raise VersionConflict(ItemView.of(item))
    _check_dates(change, item)
    events: list[ItemEvent] = []
    was_signed_off = item.status == ItemStatus.SIGNED_OFF
    evidence: dict[str, object] | None = None
    if change.evidence is not None:
        ev = change.evidence
        evidence = dict(
            item_id=item.id, kind=ev.kind, text=ev.text, links=list(ev.links), author_name=actor.name,
            author_aad_id=actor.aad_id, created_at=now, source_conversation_id=source.conversation_id,
            source_activity_id=source.activity_id,
        )  # fmt: skip
        action = "evidence_added" if ev.kind == "evidence" else "update_added"
        events.append(event_row(item.id, action, actor, source, at=now, new=ev.text, note=change.note))
    if change.status is not None and change.status != item.status:
        ItemStatus(change.status)  # refuse unknown statuses before anything is written
        events.append(event_row(item.id, "status_changed", actor, source, at=now, field_name="status",
                                old=item.status, new=change.status, note=change.note))  # fmt: skip
        item.status = change.status
        item.status_changed_at = now
    if change.set_owner and (change.owner_name, change.owner_aad_id) != (item.owner_name, item.owner_aad_id):
        events.append(event_row(item.id, "owner_changed", actor, source, at=now, field_name="owner",
                                old=item.owner_name, new=change.owner_name, note=change.note))  # fmt: skip
        item.owner_name = change.owner_name
        item.owner_aad_id = change.owner_aad_id
    events += _dates_of_record(item, change, was_signed_off, actor, source, now)
    if not events:
        return ChangeResult(item=ItemView.of(item), changed=False)
    with s.no_autoflush:  # one UPDATE of the item, so its version moves by exactly one
        seq = bump_seq_now(conn)
    item.updated_at = now
    item.changed_seq = seq
    s.flush()  # the version column moves here; a concurrent writer's stale UPDATE fails
    # The evidence and the audit rows as plain INSERTs of statements built once: through the ORM's
    # unit of work, they and the key claim were half of a change's 1.3 ms (SQLite, 10,000 items).
    if evidence is not None:
        conn.execute(_ADD_EVIDENCE, evidence)
    rows = [_event_values(e) for e in events]
    ids = conn.execute(_ADD_EVENTS, rows).scalars().all()
    latest = change.evidence.text if change.evidence and change.evidence.kind == "evidence" else None
    if latest is None:
        latest = latest_evidence_now(s, [item.id]).get(item.id)
    return ChangeResult(
        item=ItemView.of(item, latest),
        events=tuple(_event_view(i, r) for i, r in zip(ids, rows, strict=True)),
        seq=seq,
    )


_EVENT_COLUMNS = tuple(c.key for c in _EVENTS.columns if c.key != "id")


def _event_values(e: ItemEvent) -> dict[str, Any]:
    return {key: getattr(e, key) for key in _EVENT_COLUMNS}


def _event_view(event_id: int, r: dict[str, Any]) -> EventView:
    return EventView(id=event_id, **{**r, "at": as_utc(r["at"])})  # the columns are its fields


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _check_dates(change: ItemChange, item: Item) -> None:
    """Refuse, before anything is written, a change whose dates of record make no sense."""
    signing_off = change.status == ItemStatus.SIGNED_OFF and item.status != ItemStatus.SIGNED_OFF
    staying = change.status in (None, ItemStatus.SIGNED_OFF)
    staying_signed_off = item.status == ItemStatus.SIGNED_OFF and staying
    if change.signed_off_on is not None and not (signing_off or staying_signed_off):
        raise InvalidChange("a sign-off date needs the item signed off")
    if change.retarget is not None and not change.retarget.reason.strip():
        raise InvalidChange("a new target date needs a reason")


def _dates_of_record(
    item: Item, change: ItemChange, was_signed_off: bool, actor: Actor, source: Source, now: dt.datetime
) -> list[ItemEvent]:
    """Apply the sign-off date and a re-target to ``item``; the audit rows that record them.

    A sign-off sets ``signed_off_on``; a reopen clears it. A re-target keeps the original deadline
    (``due_date``), sets ``revised_due_date`` and counts the move; setting a first target on an item
    that had none is not a move, so it is not counted.
    """
    events: list[ItemEvent] = []

    def field(name: str, old: object, new: object, note: str | None, action: str = "field_changed") -> None:
        row = event_row(item.id, action, actor, source, at=now, field_name=name, old=old, new=new, note=note)
        events.append(row)

    new_date = change.signed_off_on
    if item.status == ItemStatus.SIGNED_OFF and new_date and new_date != item.signed_off_on:
        field("signed_off_on", _iso(item.signed_off_on), _iso(change.signed_off_on), change.note)
        item.signed_off_on = change.signed_off_on
    elif was_signed_off and item.status != ItemStatus.SIGNED_OFF and item.signed_off_on is not None:
        field("signed_off_on", _iso(item.signed_off_on), None, change.note)
        item.signed_off_on = None
    move = change.retarget
    if move is not None and move.to != (item.revised_due_date or item.due_date):
        moved = (item.revised_due_date or item.due_date) is not None
        reason = " ".join(move.reason.split())
        field("revised_due_date", _iso(item.revised_due_date), _iso(move.to), reason, action="target_moved")
        item.revised_due_date = move.to
        if moved:
            count = int(item.retarget_count or 0)
            field("retarget_count", count, count + 1, reason)
            item.retarget_count = count + 1
    return events
