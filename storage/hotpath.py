"""The few statements every message runs, on the database driver directly.

Each message claims its idempotency key and reads and writes its conversation state. Through an
SQLAlchemy AsyncSession each of those costs ~1-2 ms of CPU (greenlet bridge, unit of work, pool);
on the driver ~0.05-0.2 ms (SQLite: :mod:`storage.loopsqlite`; PostgreSQL: :mod:`storage.pgconns`).
Everything else keeps using SQLAlchemy: these are single-row statements on three tables, written
once per dialect here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import make_url

from storage.db import ensure_sqlite_dir, is_sqlite
from storage.loopsqlite import LoopSqlite
from storage.pgconns import PgConnections


def _sqlite_time(value: dt.datetime) -> str:
    # The format SQLAlchemy's SQLite DateTime type stores and parses ("%Y-%m-%d %H:%M:%S.%f");
    # isoformat with an explicit separator writes the same text several times faster than strftime.
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class HotPath:
    """Idempotency claims and bot state rows. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, kind: str, conn: Any) -> None:
        self._kind = kind  # "sqlite" | "postgres"
        self._conn = conn  # a LoopSqlite or PgConnections

    @classmethod
    async def open(cls, url: str) -> HotPath:
        if is_sqlite(url):
            ensure_sqlite_dir(url)
            # Autocommit: every statement below is a transaction of its own, atomic on its own.
            return cls("sqlite", await LoopSqlite.open(make_url(url).database or ":memory:"))
        import asyncpg

        u = make_url(url)
        params = dict(host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database)

        def connect() -> Any:
            return asyncpg.connect(
                **params, statement_cache_size=256,
                # A lost idempotency key or conversation state costs a duplicate reply or a repeated
                # question after a server crash, never a recommendation (those are written through
                # SQLAlchemy with full durability), so these commits need not wait for the WAL flush.
                server_settings={"synchronous_commit": "off"},
            )  # fmt: skip

        pool = await PgConnections.open(connect, size=10)
        return cls("postgres", pool)

    async def close(self) -> None:
        await self._conn.close()

    async def claim(self, key: str, result: str | None, now: dt.datetime) -> bool:
        """Insert an idempotency key; False if it was already there."""
        if self._kind == "sqlite":
            return await self._conn.write(
                "INSERT OR IGNORE INTO processed_key (key, created_at, result) VALUES (?, ?, ?)",
                (key, _sqlite_time(now), result),
            ) == 1
        status = await self._conn.execute(
            "INSERT INTO processed_key (key, created_at, result) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            key, now, result,
        )  # fmt: skip
        return bool(status.endswith(" 1"))

    async def claim_and_read(
        self, key: str, result: str | None, now: dt.datetime, state_key: str
    ) -> tuple[bool, tuple[str, int] | None]:
        """:meth:`claim` and read one state row, in one round trip: (claimed, (data, etag) or None)."""
        if self._kind == "sqlite":  # two statements on the loop cost less than a join would
            claimed = await self.claim(key, result, now)
            rows = await self.read_state([state_key]) if claimed else []
            return claimed, (rows[0][1], rows[0][2]) if rows else None
        row = await self._conn.fetchrow(
            "WITH claim AS (INSERT INTO processed_key (key, created_at, result) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO NOTHING RETURNING 1) "
            "SELECT (SELECT count(*) FROM claim) AS claimed, s.data, s.etag "
            "FROM (SELECT 1) AS one LEFT JOIN bot_state AS s ON s.key = $4",
            key, now, result, state_key,
        )  # fmt: skip
        claimed = bool(row["claimed"])
        return claimed, (row["data"], int(row["etag"])) if claimed and row["data"] is not None else None

    async def read_state(self, keys: list[str]) -> list[tuple[str, str, int]]:
        """(key, data, etag) of the stored rows among ``keys``."""
        if self._kind == "sqlite":
            marks = ",".join("?" * len(keys))
            rows = await self._conn.read(f"SELECT key, data, etag FROM bot_state WHERE key IN ({marks})", keys)
            return [(r[0], r[1], int(r[2])) for r in rows]
        rows = await self._conn.fetch("SELECT key, data, etag FROM bot_state WHERE key = ANY($1::varchar[])", keys)
        return [(r["key"], r["data"], int(r["etag"])) for r in rows]

    async def insert_state(self, key: str, data: str, now: dt.datetime) -> bool:
        """Create a state row; False if one exists (someone else wrote it first)."""
        if self._kind == "sqlite":
            return await self._conn.write(
                "INSERT OR IGNORE INTO bot_state (key, data, etag, updated_at) VALUES (?, ?, 1, ?)",
                (key, data, _sqlite_time(now)),
            ) == 1
        status = await self._conn.execute(
            "INSERT INTO bot_state (key, data, etag, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (key) DO NOTHING",
            key, data, now,
        )  # fmt: skip
        return bool(status.endswith(" 1"))

    async def update_state(self, key: str, data: str, etag: int | None, now: dt.datetime) -> bool:
        """Replace a state row if its etag is still ``etag`` (any etag when None); False otherwise."""
        if self._kind == "sqlite":
            sql = "UPDATE bot_state SET data = ?, etag = etag + 1, updated_at = ? WHERE key = ?"
            args: tuple[Any, ...] = (data, _sqlite_time(now), key)
            if etag is not None:
                sql += " AND etag = ?"
                args += (etag,)
            return await self._conn.write(sql, args) == 1
        sql = "UPDATE bot_state SET data = $1, etag = etag + 1, updated_at = $2 WHERE key = $3"
        pargs: tuple[Any, ...] = (data, now, key)
        if etag is not None:
            sql += " AND etag = $4"
            pargs += (etag,)
        status = await self._conn.execute(sql, *pargs)
        return bool(status.endswith(" 1"))

    async def evidence(self, item_id: int) -> list[tuple[Any, ...]]:
        """Evidence rows of one item, oldest first, in EvidenceView field order."""
        sql = (
            "SELECT id, item_id, kind, text, links, author_name, author_aad_id, created_at, "
            "source_conversation_id, source_activity_id FROM evidence WHERE item_id = {} ORDER BY id"
        )
        if self._kind == "sqlite":
            return await self._conn.read(sql.format("?"), (item_id,))
        return [tuple(r) for r in await self._conn.fetch(sql.format("$1"), item_id)]
