"""The few statements every message runs, on the database driver directly: one implementation per
database behind one :class:`FastPath` protocol.

Each message claims its idempotency key, reads and writes its conversation state, and a "show"
reads an item's evidence; a proposed write checks the item's version, a write and its
confirmation count the person's recent writes (the rate limit), and a committed write keeps its
reply in the outbox and marks it sent. Through an SQLAlchemy AsyncSession each of those costs
~1-2 ms of CPU (greenlet bridge, unit of work, pool); on the driver ~0.05-0.2 ms. Everything else keeps using
SQLAlchemy. Only :class:`storage.store.Store` holds a fast path: it is how the store answers these
calls, not a second way in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.db import ensure_sqlite_dir, is_sqlite, refuse_in_memory
from storage.loopsqlite import LoopSqlite, WouldWait

if TYPE_CHECKING:  # asyncpg (~15 MB) is loaded only by an instance on PostgreSQL
    from storage.pgconns import PgConnections

StateRow = tuple[str, str, int]  # (key, data, etag)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PersonLink:
    """Where someone's personal chat with the bot is (the ``person`` row's chat columns)."""

    aad_id: str  # lower-cased
    name: str
    conversation_id: str
    service_url: str
    reference: str  # JSON text, as SQLAlchemy's JSON type stores it
    tenant_id: str | None
    channel_id: str

    def row(self, at: object) -> tuple[object, ...]:
        """The parameters of :data:`_LINK`, in order, with ``at`` as the time."""
        return (self.aad_id, self.name, self.conversation_id, self.service_url, self.reference, self.tenant_id,
                self.channel_id, at)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A new ``reply_outbox`` row (see :mod:`storage.outbox`)."""

    key: str
    service_url: str
    conversation_id: str
    activities: str  # JSON text of the wire activities, as SQLAlchemy's JSON type stores it
    done: int
    state: str
    attempts: int
    next_at: dt.datetime
    lease_until: dt.datetime | None
    error: str | None


_OUTBOX_COLUMNS = (
    "key, service_url, conversation_id, activities, done, state, attempts, next_at, lease_until, "
    "version, created_at, updated_at, error"
)
_OUTBOX_SENT = (
    "UPDATE reply_outbox SET state = 'sent', done = {0}, lease_until = NULL, error = NULL, "
    "version = version + 1, updated_at = {1} WHERE id = {2}"
)
# The per-user write rate limit: messages (not fields) that changed something, refusals aside.
_WRITES = (
    "SELECT count(DISTINCT source_activity_id) FROM item_event "
    "WHERE actor_aad_id = {0} AND at >= {1} AND action <> 'refused'"
)

# One statement for both databases: a person's first message inserts the row, later ones (a new
# chat, a new name) update it; two instances linking the same person at once both succeed.
_LINK = (
    "INSERT INTO person (aad_id, name, conversation_id, service_url, reference, tenant_id, channel_id, "
    "created_at, updated_at) VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {7}) "
    "ON CONFLICT (aad_id) DO UPDATE SET "
    "name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE person.name END, "
    "conversation_id = excluded.conversation_id, service_url = excluded.service_url, "
    "reference = excluded.reference, tenant_id = excluded.tenant_id, channel_id = excluded.channel_id, "
    "updated_at = excluded.updated_at"
)
_EVIDENCE = (
    "SELECT id, item_id, kind, text, links, author_name, author_aad_id, created_at, "
    "source_conversation_id, source_activity_id FROM evidence WHERE item_id = {} ORDER BY id"
)


class FastPath(Protocol):
    """Idempotency claims, bot state rows, an item's evidence and version, the write rate limit's
    count and the reply outbox's two per-write statements: one statement each."""

    async def claim(self, key: str, result: str | None, now: dt.datetime) -> bool:
        """Insert an idempotency key; False if it was already there."""
        ...

    async def claim_and_read(
        self, key: str, result: str | None, now: dt.datetime, state_key: str
    ) -> tuple[bool, tuple[str, int] | None]:
        """:meth:`claim` and read one state row: (claimed, (data, etag) or None)."""
        ...

    async def claim_and_read_many(
        self, key: str, result: str | None, now: dt.datetime, state_keys: list[str]
    ) -> tuple[bool, list[StateRow]]:
        """:meth:`claim` and read several state rows (none when the key was taken)."""
        ...

    async def read_state(self, keys: list[str]) -> list[StateRow]:
        """(key, data, etag) of the stored rows among ``keys``."""
        ...

    async def insert_state(self, key: str, data: str, now: dt.datetime) -> bool:
        """Create a state row; False if one exists (someone else wrote it first)."""
        ...

    async def update_state(self, key: str, data: str, etag: int | None, now: dt.datetime) -> bool:
        """Replace a state row if its etag is still ``etag`` (any etag when None); False otherwise."""
        ...

    async def evidence(self, item_id: int) -> list[tuple[Any, ...]]:
        """Evidence rows of one item, oldest first, in EvidenceView field order."""
        ...

    async def link_people(self, people: list[PersonLink], now: dt.datetime) -> None:
        """Insert or update each person's row with where their personal chat is (their reminder
        choice, if any, is kept; an empty name keeps the stored one), all in one transaction."""
        ...

    async def item_version(self, item_id: int) -> int | None:
        """An item's current version (None if there is no such item)."""
        ...

    async def count_writes(self, actor_aad_id: str, since: dt.datetime) -> int:
        """How many messages of ``actor_aad_id`` changed items at or after ``since`` (refusals aside)."""
        ...

    async def add_outbox(self, row: OutboxRow, now: dt.datetime) -> int | None:
        """Insert an outbox row (version 1, created now); its id, or None if its key is taken.
        Durable like the item writes it follows (committed to disk before it returns)."""
        ...

    async def outbox_sent(self, entry_id: int, done: int, now: dt.datetime) -> None:
        """Mark an outbox row delivered (all ``done`` of its activities)."""
        ...

    def transact(self, unit: Callable[[Session], T], *, read_only: bool = False) -> T:
        """Run a synchronous ORM unit of work at once, in one transaction, if it can run without
        waiting; otherwise raise :class:`~storage.loopsqlite.WouldWait`, having written nothing.
        ``read_only``: the unit only reads (no write lock is taken)."""
        ...

    async def close(self) -> None: ...


async def open_fast_path(url: str) -> FastPath:
    """The fast path for this database URL (SQLite or PostgreSQL)."""
    if is_sqlite(url):
        refuse_in_memory(url)
        ensure_sqlite_dir(url)
        return SqliteFastPath(await LoopSqlite.open(make_url(url).database or ""))
    return await PgFastPath.open(url)


def _sqlite_time(value: dt.datetime) -> str:
    # The format SQLAlchemy's SQLite DateTime type stores and parses ("%Y-%m-%d %H:%M:%S.%f");
    # isoformat with an explicit separator writes the same text several times faster than strftime.
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class SqliteFastPath:
    """On a loop-side SQLite connection with a thread connection behind it (:mod:`storage.loopsqlite`).
    Autocommit: every statement is a transaction of its own, atomic on its own."""

    def __init__(self, conn: LoopSqlite) -> None:
        self._conn = conn

    async def close(self) -> None:
        await self._conn.close()

    def transact(self, unit: Callable[[Session], T], *, read_only: bool = False) -> T:
        return self._conn.transact(unit, read_only=read_only)

    async def claim(self, key: str, result: str | None, now: dt.datetime) -> bool:
        sql = "INSERT OR IGNORE INTO processed_key (key, created_at, result) VALUES (?, ?, ?)"
        return await self._conn.write(sql, (key, _sqlite_time(now), result)) == 1

    async def claim_and_read(
        self, key: str, result: str | None, now: dt.datetime, state_key: str
    ) -> tuple[bool, tuple[str, int] | None]:
        claimed = await self.claim(key, result, now)  # two statements on the loop cost less than a join
        rows = await self.read_state([state_key]) if claimed else []
        return claimed, (rows[0][1], rows[0][2]) if rows else None

    async def claim_and_read_many(
        self, key: str, result: str | None, now: dt.datetime, state_keys: list[str]
    ) -> tuple[bool, list[StateRow]]:
        claimed = await self.claim(key, result, now)
        return claimed, await self.read_state(state_keys) if claimed else []

    async def read_state(self, keys: list[str]) -> list[StateRow]:
        marks = ",".join("?" * len(keys))
        rows = await self._conn.read(f"SELECT key, data, etag FROM bot_state WHERE key IN ({marks})", keys)
        return [(r[0], r[1], int(r[2])) for r in rows]

    async def insert_state(self, key: str, data: str, now: dt.datetime) -> bool:
        sql = "INSERT OR IGNORE INTO bot_state (key, data, etag, updated_at) VALUES (?, ?, 1, ?)"
        return await self._conn.write(sql, (key, data, _sqlite_time(now))) == 1

    async def update_state(self, key: str, data: str, etag: int | None, now: dt.datetime) -> bool:
        sql = "UPDATE bot_state SET data = ?, etag = etag + 1, updated_at = ? WHERE key = ?"
        args: tuple[Any, ...] = (data, _sqlite_time(now), key)
        if etag is not None:
            sql += " AND etag = ?"
            args += (etag,)
        return await self._conn.write(sql, args) == 1

    async def evidence(self, item_id: int) -> list[tuple[Any, ...]]:
        return await self._conn.read(_EVIDENCE.format("?"), (item_id,))

    async def link_people(self, people: list[PersonLink], now: dt.datetime) -> None:
        at = _sqlite_time(now)
        await self._conn.write_many(
            _LINK.format(*(f"?{n}" for n in range(1, 9))), [p.row(at) for p in people]
        )

    async def item_version(self, item_id: int) -> int | None:
        rows = await self._conn.read("SELECT version FROM item WHERE id = ?", (item_id,))
        return int(rows[0][0]) if rows else None

    async def count_writes(self, actor_aad_id: str, since: dt.datetime) -> int:
        rows = await self._conn.read(_WRITES.format("?", "?"), (actor_aad_id, _sqlite_time(since)))
        return int(rows[0][0]) if rows else 0

    async def add_outbox(self, row: OutboxRow, now: dt.datetime) -> int | None:
        r, at = row, _sqlite_time(now)
        sql = (f"INSERT INTO reply_outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
               "ON CONFLICT (key) DO NOTHING RETURNING id")  # fmt: skip
        lease = _sqlite_time(r.lease_until) if r.lease_until else None
        args = (r.key, r.service_url, r.conversation_id, r.activities, r.done, r.state, r.attempts,
                _sqlite_time(r.next_at), lease, at, at, r.error)  # fmt: skip
        found = await self._conn.write_returning(sql, args)
        return int(found[0][0]) if found else None

    async def outbox_sent(self, entry_id: int, done: int, now: dt.datetime) -> None:
        await self._conn.write(_OUTBOX_SENT.format("?", "?", "?"), (done, _sqlite_time(now), entry_id))


class PgFastPath:
    """On a few asyncpg connections of its own (:mod:`storage.pgconns`, not ``asyncpg.Pool``:
    measured on 2 December, the pool's acquire and release, even with ``reset=`` a no-op, cost
    ~85 µs of CPU per statement, nearly doubling the client's cost of these statements)."""

    def __init__(self, pool: PgConnections) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, size: int = 10) -> PgFastPath:
        import asyncpg

        from storage.pgconns import PgConnections

        u = make_url(url)

        def connect() -> Any:
            return asyncpg.connect(
                host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database,
                statement_cache_size=256,
                # A lost idempotency key or conversation state costs a duplicate reply or a repeated
                # question after a server crash, never a recommendation (those are written through
                # SQLAlchemy with full durability), so these commits need not wait for the WAL flush.
                server_settings={"synchronous_commit": "off"},
            )  # fmt: skip

        return cls(await PgConnections.open(connect, size=size))

    async def close(self) -> None:
        await self._pool.close()

    def transact(self, unit: Callable[[Session], T], *, read_only: bool = False) -> T:
        # Every statement waits on the server here: units of work go through SQLAlchemy's session.
        raise WouldWait

    async def claim(self, key: str, result: str | None, now: dt.datetime) -> bool:
        status = await self._pool.execute(
            "INSERT INTO processed_key (key, created_at, result) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            key, now, result,
        )  # fmt: skip
        return bool(status.endswith(" 1"))

    async def claim_and_read(
        self, key: str, result: str | None, now: dt.datetime, state_key: str
    ) -> tuple[bool, tuple[str, int] | None]:
        row = await self._pool.fetchrow(
            "WITH claim AS (INSERT INTO processed_key (key, created_at, result) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO NOTHING RETURNING 1) "
            "SELECT (SELECT count(*) FROM claim) AS claimed, s.data, s.etag "
            "FROM (SELECT 1) AS one LEFT JOIN bot_state AS s ON s.key = $4",
            key, now, result, state_key,
        )  # fmt: skip
        assert row is not None  # the query always returns its one row
        claimed = bool(row["claimed"])
        return claimed, (row["data"], int(row["etag"])) if claimed and row["data"] is not None else None

    async def claim_and_read_many(
        self, key: str, result: str | None, now: dt.datetime, state_keys: list[str]
    ) -> tuple[bool, list[StateRow]]:
        rows = await self._pool.fetch(
            "WITH claim AS (INSERT INTO processed_key (key, created_at, result) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO NOTHING RETURNING 1) "
            "SELECT (SELECT count(*) FROM claim) AS claimed, s.key, s.data, s.etag "
            "FROM (SELECT 1) AS one LEFT JOIN bot_state AS s ON s.key = ANY($4::varchar[])",
            key, now, result, state_keys,
        )  # fmt: skip
        claimed = bool(rows and rows[0]["claimed"])
        found = (
            [(r["key"], r["data"], int(r["etag"])) for r in rows if r["key"] is not None] if claimed else []
        )
        return claimed, found

    async def read_state(self, keys: list[str]) -> list[StateRow]:
        rows = await self._pool.fetch(
            "SELECT key, data, etag FROM bot_state WHERE key = ANY($1::varchar[])", keys
        )
        return [(r["key"], r["data"], int(r["etag"])) for r in rows]

    async def insert_state(self, key: str, data: str, now: dt.datetime) -> bool:
        status = await self._pool.execute(
            "INSERT INTO bot_state (key, data, etag, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (key) DO NOTHING",
            key, data, now,
        )  # fmt: skip
        return bool(status.endswith(" 1"))

    async def update_state(self, key: str, data: str, etag: int | None, now: dt.datetime) -> bool:
        sql = "UPDATE bot_state SET data = $1, etag = etag + 1, updated_at = $2 WHERE key = $3"
        args: tuple[Any, ...] = (data, now, key)
        if etag is not None:
            sql += " AND etag = $4"
            args += (etag,)
        status = await self._pool.execute(sql, *args)
        return bool(status.endswith(" 1"))

    async def evidence(self, item_id: int) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._pool.fetch(_EVIDENCE.format("$1"), item_id)]

    async def link_people(self, people: list[PersonLink], now: dt.datetime) -> None:
        sql = _LINK.format("$1", "$2", "$3", "$4", "$5::json", "$6", "$7", "$8")
        rows = [p.row(now) for p in people]
        await self._pool.run(lambda conn: conn.executemany(sql, rows))  # one round trip, atomic

    async def item_version(self, item_id: int) -> int | None:
        version = await self._pool.fetchval("SELECT version FROM item WHERE id = $1", item_id)
        return None if version is None else int(version)

    async def count_writes(self, actor_aad_id: str, since: dt.datetime) -> int:
        return int(await self._pool.fetchval(_WRITES.format("$1", "$2"), actor_aad_id, since) or 0)

    async def add_outbox(self, row: OutboxRow, now: dt.datetime) -> int | None:
        r = row
        # These connections commit without waiting for the WAL flush (see open); a reply kept
        # after a committed write must outlive a server crash like the write, so this one statement
        # asks for a synchronous commit of its own transaction (set_config(..., is_local => true)).
        sql = (
            "WITH durable AS (SELECT set_config('synchronous_commit', 'on', true)) "
            f"INSERT INTO reply_outbox ({_OUTBOX_COLUMNS}) "
            "SELECT $1, $2, $3, $4::json, $5, $6, $7, $8, $9, 1, $10, $10, $11 FROM durable "
            "ON CONFLICT (key) DO NOTHING RETURNING id"
        )
        found = await self._pool.fetchval(sql, r.key, r.service_url, r.conversation_id, r.activities, r.done,
                                          r.state, r.attempts, r.next_at, r.lease_until, now, r.error)  # fmt: skip
        return None if found is None else int(found)

    async def outbox_sent(self, entry_id: int, done: int, now: dt.datetime) -> None:
        await self._pool.execute(_OUTBOX_SENT.format("$1", "$2", "$3"), done, now, entry_id)
