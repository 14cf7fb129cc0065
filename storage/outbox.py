"""The reply outbox: replies kept in the database until the Bot Connector has them.

A row is written before the first attempt when the turn committed a write (so a reply survives
the instance being killed), or after an attempt failed or was throttled beyond the turn's budget.
Any instance takes due rows with a compare-and-set on ``version`` and a lease, so two instances
never send one row at the same time, and a row whose sender died is taken again once its lease
runs out. Keeping a committed write's reply and marking it sent are one statement each on the
store's fast path (every confirmed write runs both); the rarer steps use SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import CursorResult

from storage.fastpath import OutboxRow
from storage.keys import fit
from storage.models import ReplyOutbox, utcnow
from storage.store import Store

SENDING, PENDING, SENT, FAILED = "sending", "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One kept set of replies to one conversation."""

    id: int
    key: str
    service_url: str
    conversation_id: str
    activities: tuple[dict[str, Any], ...]
    done: int
    state: str
    attempts: int
    version: int
    created_at: dt.datetime

    @classmethod
    def of(cls, row: ReplyOutbox) -> OutboxEntry:
        return cls(row.id, row.key, row.service_url, row.conversation_id, tuple(row.activities or ()),
                   row.done, row.state, row.attempts, row.version, row.created_at)  # fmt: skip


class Outbox:
    """Rows of ``reply_outbox``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sessions = store.sessions
        self._reads = store.read_sessions

    async def add(
        self, key: str, service_url: str, conversation_id: str, activities: list[dict[str, Any]], *,
        state: str, lease_until: dt.datetime | None = None, next_at: dt.datetime | None = None,
        error: str | None = None, done: int = 0,
    ) -> OutboxEntry | None:  # fmt: skip
        """Keep replies under ``key``; None if that key already has a row (a re-delivery got here first)."""
        now = utcnow()
        attempts = 1 if state == SENDING else 0
        row = OutboxRow(key, service_url, conversation_id, json.dumps(activities, separators=(",", ":")),
                        done, state, attempts, next_at or now, lease_until, error)  # fmt: skip
        entry_id = await self._store.add_outbox(row)
        if entry_id is None:
            return None
        return OutboxEntry(entry_id, fit(key), service_url, conversation_id, tuple(activities), done, state,
                           attempts, 1, now)  # fmt: skip

    async def get(self, key: str) -> OutboxEntry | None:
        async with self._reads() as s:
            row = await s.scalar(select(ReplyOutbox).where(ReplyOutbox.key == fit(key)))
            return OutboxEntry.of(row) if row else None

    async def _set(self, entry_id: int, version: int | None, **values: Any) -> bool:
        q = update(ReplyOutbox).where(ReplyOutbox.id == entry_id)
        if version is not None:
            q = q.where(ReplyOutbox.version == version)
        values.setdefault("updated_at", utcnow())
        async with self._sessions() as s, s.begin():
            res = await s.execute(q.values(version=ReplyOutbox.version + 1, **values))
            return bool(cast(CursorResult[Any], res).rowcount)

    async def sent(self, entry: OutboxEntry) -> None:
        await self._store.outbox_sent(entry.id, len(entry.activities))

    async def retry(self, entry: OutboxEntry, done: int, at: dt.datetime, error: str) -> None:
        """Some replies are still to go: ``done`` were delivered; try again at ``at``."""
        await self._set(
            entry.id, None, state=PENDING, done=done, next_at=at, lease_until=None, error=error[:500]
        )

    async def failed(self, entry: OutboxEntry, done: int, error: str) -> None:
        """The connector refused for good (the bot was removed, the conversation is gone)."""
        await self._set(entry.id, None, state=FAILED, done=done, lease_until=None, error=error[:500])

    async def take_due(self, now: dt.datetime, lease: dt.timedelta, limit: int = 20) -> list[OutboxEntry]:
        """Rows due now (pending and due, or sending with a lapsed lease), each leased to the caller."""
        async with self._reads() as s:
            due = or_(
                (ReplyOutbox.state == PENDING) & (ReplyOutbox.next_at <= now),
                (ReplyOutbox.state == SENDING) & (ReplyOutbox.lease_until < now),
            )
            q = select(ReplyOutbox).where(due).order_by(ReplyOutbox.next_at).limit(limit)
            rows = [OutboxEntry.of(r) for r in (await s.scalars(q)).all()]
        taken = []
        for e in rows:
            if await self._set(
                e.id, e.version, state=SENDING, lease_until=now + lease, attempts=e.attempts + 1
            ):
                taken.append(OutboxEntry(e.id, e.key, e.service_url, e.conversation_id, e.activities, e.done,
                                         SENDING, e.attempts + 1, e.version + 1, e.created_at))  # fmt: skip
        return taken

    async def entries(self, states: tuple[str, ...] = (PENDING, SENDING, FAILED)) -> list[OutboxEntry]:
        async with self._reads() as s:
            q = select(ReplyOutbox).where(ReplyOutbox.state.in_(states)).order_by(ReplyOutbox.id).limit(1000)
            return [OutboxEntry.of(r) for r in (await s.scalars(q)).all()]

    async def prune(self, older_than: dt.datetime) -> int:
        """Forget delivered (and failed) rows older than any re-delivery could be."""
        async with self._sessions() as s, s.begin():
            res = await s.execute(
                delete(ReplyOutbox).where(
                    ReplyOutbox.state.in_((SENT, FAILED)), ReplyOutbox.created_at < older_than
                )
            )
            return int(cast(CursorResult[Any], res).rowcount or 0)
