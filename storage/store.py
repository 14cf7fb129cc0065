"""Queries and writes. Every change to an item goes through :meth:`Store.change_item`, which checks
the version, appends audit events, records the source activity and refuses duplicates."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.fastpath import FastPath, StateRow, open_fast_path
from storage.models import (
    BotStateRecord,
    Evidence,
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
    Interner,
    ItemDetail,
    ItemView,
    ReportView,
    Snapshot,
    Source,
)

DATA_SEQ = "data_seq"


class StoreError(Exception):
    """Base class for store errors the conversation turns into a clear answer."""


class NotFound(StoreError):
    """No such item or report."""


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
class ItemChange:
    """What a write wants to change; ``None`` means leave alone."""

    status: str | None = None
    owner_name: str | None = None
    owner_aad_id: str | None = None
    set_owner: bool = False
    evidence: NewEvidence | None = None
    note: str | None = None  # free text kept on the audit events (e.g. reason for reopening)


@dataclass(frozen=True, slots=True)
class ChangeResult:
    item: ItemView
    events: tuple[EventView, ...] = ()
    duplicate: bool = False  # the idempotency key had been used: nothing was written this time
    changed: bool = True


async def bump_seq(session: AsyncSession) -> int:
    """Advance the store-wide change counter inside the caller's transaction and return it.

    The row lock this takes also serialises writers, so counter order is commit order."""
    res = await session.execute(
        update(Meta).where(Meta.key == DATA_SEQ).values(value=Meta.value + 1).returning(Meta.value)
    )
    value = res.scalar_one_or_none()
    if value is None:  # a database created without the migration's seed row
        await session.execute(insert(Meta).values(key=DATA_SEQ, value=1))
        return 1
    return int(value)


def event_row(
    item_id: int, action: str, actor: Actor, source: Source, *, at: dt.datetime,
    field_name: str | None = None, old: object = None, new: object = None, note: str | None = None,
) -> ItemEvent:  # fmt: skip
    """An audit row; values are stored as text so the trail reads the same on every backend."""
    return ItemEvent(
        item_id=item_id, at=at, action=action, field=field_name,
        old_value=None if old is None else str(old), new_value=None if new is None else str(new),
        actor_name=actor.name, actor_aad_id=actor.aad_id, source=source.kind,
        source_conversation_id=source.conversation_id, source_activity_id=source.activity_id, note=note,
    )  # fmt: skip


class Store:
    """The tracker's persistence API: the one way into the database for everything outside storage/.

    Open with :meth:`open` (an engine for SQLAlchemy work and the per-message :class:`FastPath`),
    close with :meth:`close`, or use it as an async context manager.
    """

    def __init__(self, engine: AsyncEngine, fast: FastPath) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._fast = fast

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to the database at ``url`` (raises if it cannot be reached)."""
        engine = create_engine(url)
        try:
            fast = await open_fast_path(url)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, fast)

    async def close(self) -> None:
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

    # ---- reads -------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self._sessions() as s:
            await s.execute(select(1))

    async def current_seq(self) -> int:
        async with self._sessions() as s:
            v = await s.scalar(select(Meta.value).where(Meta.key == DATA_SEQ))
            return int(v or 0)

    async def snapshot(self, since_seq: int | None = None, *, chunk: int = 5000) -> Snapshot:
        """All reports, and all items (or only those changed after ``since_seq``).

        Read in id-ordered chunks of plain rows (no ORM objects) with repeated values shared, so
        loading 100,000 items neither doubles the process's memory nor keeps duplicate strings.
        """
        intern = Interner()
        views: list[ItemView] = []
        async with self._sessions() as s:
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
                latest = await self._latest_evidence(s, [r.id for r in rows])
                views.extend(ItemView.from_row(r, latest.get(r.id), intern) for r in rows)
                last_id = rows[-1].id
                if len(rows) < chunk:
                    break
        return Snapshot(seq=seq, reports=reports, items=tuple(views), full=since_seq is None)

    async def _reports(self, s: AsyncSession) -> tuple[ReportView, ...]:
        aliases: dict[int, list[str]] = {}
        for rid, alias in (await s.execute(select(ReportAlias.report_id, ReportAlias.alias).order_by(ReportAlias.id))).all():
            aliases.setdefault(rid, []).append(alias)
        rows = (await s.scalars(select(Report).order_by(Report.id))).all()
        return tuple(ReportView.of(r, tuple(aliases.get(r.id, ()))) for r in rows)

    async def _latest_evidence(self, s: AsyncSession, item_ids: Sequence[int] | None) -> dict[int, str]:
        newest = select(Evidence.item_id, func.max(Evidence.id).label("eid")).where(Evidence.kind == "evidence")
        if item_ids is not None:
            if not item_ids:
                return {}
            newest = newest.where(Evidence.item_id.in_(item_ids))
        sub = newest.group_by(Evidence.item_id).subquery()
        rows = await s.execute(select(Evidence.item_id, Evidence.text).join(sub, Evidence.id == sub.c.eid))
        return {item_id: text for item_id, text in rows.all()}

    async def reports(self) -> tuple[ReportView, ...]:
        async with self._sessions() as s:
            return await self._reports(s)

    async def get_item(self, item_id: int) -> ItemView:
        async with self._sessions() as s:
            item = await s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            latest = await self._latest_evidence(s, [item_id])
            return ItemView.of(item, latest.get(item_id))

    async def evidence(self, item_id: int) -> tuple[EvidenceView, ...]:
        """One item's evidence and updates, oldest first (a single statement: shown on every "show")."""
        return tuple(EvidenceView.from_row(r) for r in await self._fast.evidence(item_id))

    async def item_detail(self, item_id: int, *, events: int = 50) -> ItemDetail:
        """An item with its report, all evidence and updates, and its newest ``events`` audit rows."""
        async with self._sessions() as s:
            item = await s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            report = await s.get(Report, item.report_id)
            aliases = tuple((await s.scalars(select(ReportAlias.alias).where(ReportAlias.report_id == report.id).order_by(ReportAlias.id))).all())
            ev = (await s.scalars(select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id))).all()
            evq = select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id.desc()).limit(events)
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
        async with self._sessions() as s:
            if await s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            rows = (await s.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id))).all()
            return tuple(EventView.of(e) for e in rows)

    async def events_since(self, since: dt.datetime, *, limit: int = 5000) -> tuple[EventView, ...]:
        """Audit events at or after ``since`` (oldest first), for the weekly digest."""
        async with self._sessions() as s:
            q = select(ItemEvent).where(ItemEvent.at >= since).order_by(ItemEvent.id).limit(limit)
            return tuple(EventView.of(e) for e in (await s.scalars(q)).all())

    async def count_writes_since(self, actor_aad_id: str, since: dt.datetime) -> int:
        """How many changes one person made since ``since`` (for the per-user write rate limit)."""
        async with self._sessions() as s:
            q = select(func.count(func.distinct(ItemEvent.source_activity_id))).where(
                ItemEvent.actor_aad_id == actor_aad_id, ItemEvent.at >= since, ItemEvent.action != "refused"
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
        try:
            async with self._sessions() as s, s.begin():
                if idempotency_key:
                    s.add(ProcessedKey(key=idempotency_key, result=json.dumps({"item": item_id})))
                    await s.flush()
                return await self._apply(s, item_id, expected_version, change, actor, source)
        except IntegrityError:
            if idempotency_key and await self.key_used(idempotency_key):
                return ChangeResult(item=await self.get_item(item_id), duplicate=True, changed=False)
            raise

    async def _apply(
        self, s: AsyncSession, item_id: int, expected_version: int | None, change: ItemChange,
        actor: Actor, source: Source,
    ) -> ChangeResult:  # fmt: skip
        item = await s.get(Item, item_id, with_for_update=True)
        if item is None:
            raise NotFound(f"no item {item_id}")
        if expected_version is not None and item.version != expected_version:
            raise VersionConflict(ItemView.of(item))
        now = utcnow()
        events: list[ItemEvent] = []
        if change.evidence is not None:
            ev = change.evidence
            s.add(Evidence(
                item_id=item.id, kind=ev.kind, text=ev.text, links=list(ev.links), author_name=actor.name,
                author_aad_id=actor.aad_id, created_at=now, source_conversation_id=source.conversation_id,
                source_activity_id=source.activity_id,
            ))  # fmt: skip
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
        if not events:
            return ChangeResult(item=ItemView.of(item), changed=False)
        with s.no_autoflush:  # one UPDATE of the item, so its version moves by exactly one
            seq = await bump_seq(s)
        item.updated_at = now
        item.changed_seq = seq
        s.add_all(events)
        await s.flush()  # the version column moves here; a concurrent writer's stale UPDATE fails
        latest = change.evidence.text if change.evidence and change.evidence.kind == "evidence" else None
        if latest is None:
            latest = (await self._latest_evidence(s, [item.id])).get(item.id)
        return ChangeResult(item=ItemView.of(item, latest), events=tuple(EventView.of(e) for e in events))

    async def record_refusal(self, item_id: int | None, action: str, actor: Actor, source: Source, reason: str) -> None:
        """Audit a write that was refused (not allowed, rate limited): nothing else changes."""
        if item_id is None:
            return
        async with self._sessions() as s, s.begin():
            s.add(event_row(item_id, "refused", actor, source, at=utcnow(), field_name=action, note=reason))

    async def claim_key(self, key: str, result: str | None = None) -> bool:
        """Record an idempotency key; False if it was already there (someone acted on it)."""
        return await self._fast.claim(key, result, utcnow())

    async def key_used(self, key: str) -> bool:
        async with self._sessions() as s:
            return await s.get(ProcessedKey, key) is not None

    async def add_alias(self, report_id: int, alias: str, actor: Actor) -> bool:
        """Teach the bot another name for a report. False if it already had it."""
        alias = " ".join(alias.split())
        try:
            async with self._sessions() as s, s.begin():
                if await s.get(Report, report_id) is None:
                    raise NotFound(f"no report {report_id}")
                s.add(ReportAlias(report_id=report_id, alias=alias, added_by=actor.name))
                await bump_seq(s)
            return True
        except IntegrityError:
            return False

    async def prune_keys(self, older_than: dt.datetime) -> int:
        """Forget idempotency keys older than any re-delivery could be."""
        async with self._sessions() as s, s.begin():
            res = await s.execute(delete(ProcessedKey).where(ProcessedKey.created_at < older_than))
            return int(res.rowcount or 0)

    # ---- conversation state (botbuilder Storage rows) ----------------------------------------

    async def claim_and_read_state(self, key: str, state_key: str) -> tuple[bool, tuple[str, int] | None]:
        """Claim idempotency ``key`` and read state row ``state_key`` in one round trip:
        (claimed, (data, etag) or None). Nothing is read when the key was taken."""
        return await self._fast.claim_and_read(key, None, utcnow(), state_key)

    async def read_state(self, keys: list[str]) -> list[StateRow]:
        """(key, data, etag) of the stored state rows among ``keys``."""
        return await self._fast.read_state(keys) if keys else []

    async def insert_state(self, key: str, data: str) -> bool:
        """Create a state row; False if one exists."""
        return await self._fast.insert_state(key, data, utcnow())

    async def update_state(self, key: str, data: str, etag: int | None) -> bool:
        """Replace a state row if its etag is still ``etag`` (any etag when None); False otherwise."""
        return await self._fast.update_state(key, data, etag, utcnow())

    async def delete_state(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as s, s.begin():
            await s.execute(delete(BotStateRecord).where(BotStateRecord.key.in_(keys)))
