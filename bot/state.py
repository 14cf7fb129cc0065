"""A botbuilder ``Storage`` on SQLAlchemy: conversation and dialog state live in the database,
so a conversation survives a restart and continues on any instance."""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import Storage, StoreItem
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.models import BotStateRecord, utcnow


class StateConflict(Exception):
    """Another instance saved this state since we read it (etag mismatch)."""


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, StoreItem) or hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"cannot store {type(value).__name__}")


class SqlStorage(Storage):
    """Rows keyed by botbuilder's storage key; ``e_tag`` gives optimistic concurrency."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        async with self._sessions() as s:
            rows = (
                await s.execute(
                    select(BotStateRecord.key, BotStateRecord.data, BotStateRecord.etag).where(
                        BotStateRecord.key.in_(keys)
                    )
                )
            ).all()
        out: dict[str, Any] = {}
        for key, data, etag in rows:
            value = json.loads(data)
            if isinstance(value, dict):
                value["e_tag"] = str(etag)
            out[key] = value
        return out

    async def write(self, changes: dict[str, Any]) -> None:
        if not changes:
            return
        async with self._sessions() as s, s.begin():
            for key, raw in changes.items():
                value = dict(_plain(raw))
                etag = value.pop("e_tag", None)
                data = json.dumps(value, separators=(",", ":"), default=str)
                if etag in (None, "*"):
                    row = await s.get(BotStateRecord, key)
                    if row is None:
                        s.add(BotStateRecord(key=key, data=data, etag=1, updated_at=utcnow()))
                    else:
                        row.data, row.etag, row.updated_at = data, row.etag + 1, utcnow()
                    continue
                res = await s.execute(
                    update(BotStateRecord)
                    .where(BotStateRecord.key == key, BotStateRecord.etag == int(etag))
                    .values(data=data, etag=BotStateRecord.etag + 1, updated_at=utcnow())
                )
                if res.rowcount != 1:
                    raise StateConflict(f"state {key!r} changed since it was read")
            try:
                await s.flush()
            except IntegrityError as err:  # two first writes of the same key at once
                raise StateConflict(f"state written concurrently: {err.__class__.__name__}") from err

    async def delete(self, keys: list[str]) -> None:
        from sqlalchemy import delete

        if not keys:
            return
        async with self._sessions() as s, s.begin():
            await s.execute(delete(BotStateRecord).where(BotStateRecord.key.in_(keys)))
