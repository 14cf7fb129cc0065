"""SQLite statements that run on the event loop when they cannot wait, and in a thread when they might.

Every message runs two or three single-row statements (claim its idempotency key, read and write
its conversation state). Handing each to aiosqlite's thread costs more than the statement: a queue
put, a thread wake-up and ``call_soon_threadsafe`` (a self-pipe write and an extra loop iteration)
come to ~100 µs of CPU, where the statement itself takes ~20 µs. So each statement is first tried
on a connection used on the loop, set up so that it never waits:

- ``busy_timeout=0``: if another connection holds the write lock the statement fails at once
  with SQLITE_BUSY (it does not sleep), and is re-run on the thread connection, which may wait;
- WAL with ``synchronous=NORMAL``: a commit appends to the WAL and never calls fsync;
- ``wal_autocheckpoint=0``: a commit never checkpoints (that copies pages and does fsync); a
  checkpoint runs on the thread connection every :data:`CHECKPOINT_EVERY` loop-side writes.

The single-row writes of turns that reach the database in the same turn of the loop share one
transaction: each is queued, the first schedules the commit with ``call_soon``, and each caller
resumes when the commit holding its row is done (a group commit; at c=16 most commits carry 3-8
writes, and a write costs about half). A write alone commits by itself, as before.

A change to an item (a handful of statements through the ORM) runs the same way, as one
transaction from BEGIN IMMEDIATE to COMMIT without an await in it (:meth:`LoopSqlite.transact`).
Run through aiosqlite, its transaction held the write lock across seven thread round trips while
the loop served other turns; their own writes found the database locked and queued at the thread,
sleeping in SQLite's busy handler, which set the tail of every turn under load.

What is left on the loop is a B-tree lookup in pages already in memory and a ``write()`` into the
OS page cache: bounded work, like parsing a request, not I/O that waits on something else.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from storage.db import READS, sqlite_transactions

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 1000  # loop-side writes between checkpoints (SQLite's own default is 1000 pages)
_WAITS = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
T = TypeVar("T")


_Outcome = tuple[int, list[tuple[Any, ...]]]  # rows changed, rows returned


class _Busy(Exception):
    """Another connection holds the write lock (the statement is re-run on the thread)."""


@dataclass(slots=True)
class _Queued:
    """A write waiting for the commit it shares with the writes queued beside it."""

    sql: str
    args: tuple[Any, ...]
    rows: bool
    done: asyncio.Future[_Outcome]


class WouldWait(Exception):
    """The unit of work could not run without waiting (another connection holds the write lock):
    nothing was written; run it where waiting is fine."""


class LoopSqlite:
    """A loop-side connection with a thread connection behind it. Open with :meth:`open`."""

    def __init__(self, fast: sqlite3.Connection, slow: aiosqlite.Connection) -> None:
        self._fast = fast
        self._slow = slow
        # The ORM on the loop connection, for whole units of work (:meth:`transact`).
        self._engine = create_engine("sqlite://", creator=lambda: fast, poolclass=StaticPool)
        sqlite_transactions(self._engine)
        self._reader = self._engine.execution_options(**{READS: True})  # BEGIN, not BEGIN IMMEDIATE
        self._writes = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._queued: list[_Queued] = []
        self.fallbacks = 0  # statements that had to wait and went to the thread (for tests, logs)

    @classmethod
    async def open(cls, path: str) -> LoopSqlite:
        slow = await aiosqlite.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            await slow.execute(f"PRAGMA {pragma}")
        # Opening a file connection reads only the header; the WAL mode set above is persistent.
        fast = sqlite3.connect(path, isolation_level=None)
        for pragma in ("synchronous=NORMAL", "busy_timeout=0", "wal_autocheckpoint=0", "foreign_keys=ON"):
            fast.execute(f"PRAGMA {pragma}")
        return cls(fast, slow)

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        self._engine.dispose()
        self._fast.close()
        await self._slow.close()

    def transact(self, unit: Callable[[Session], T], *, read_only: bool = False) -> T:
        """Run ``unit`` as one ORM transaction on the loop connection, from BEGIN IMMEDIATE to
        COMMIT without yielding: the write lock is held for the statements' own fraction of a
        millisecond, never across an await while other turns run (they would find the database
        locked and queue at the thread). Raises :class:`WouldWait`, with nothing written, when
        another connection holds the lock; any other error rolls the whole unit back.

        ``read_only``: a unit that only reads (a few indexed rows) begins with BEGIN and takes no
        lock. On the thread, under load, each of a query's three or four round trips waits for a
        turn of the busy loop: tens of milliseconds for a microsecond lookup."""
        try:
            bind = self._reader if read_only else self._engine
            with Session(bind, expire_on_commit=False) as session, session.begin():
                out = unit(session)
        except OperationalError as err:
            if getattr(err.orig, "sqlite_errorcode", None) not in _WAITS:
                raise
            self.fallbacks += 1
            raise WouldWait from None
        if not read_only:
            self._wrote()
        return out

    async def write(self, sql: str, args: tuple[Any, ...]) -> int:
        """Run one autocommit write; the number of rows it changed."""
        count, _ = await self._write(sql, args, rows=False)
        return count

    async def write_returning(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Run one autocommit write with a RETURNING clause; the rows it returned."""
        _, rows = await self._write(sql, args, rows=True)
        return rows

    async def write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for each of ``rows``: at once, in one transaction (one commit), or,
        when another connection holds the write lock, one by one on the thread."""
        try:
            self._fast.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if err.sqlite_errorcode not in _WAITS:
                raise
            self.fallbacks += 1
            # Each on its own: the thread connection is shared by every fallback statement, so
            # it never holds a transaction open across an await (another's statement would join it).
            for row in rows:
                await self._slow.execute(sql, row)
        else:
            try:
                self._fast.executemany(sql, rows)
                self._fast.execute("COMMIT")
            except BaseException:
                self._fast.execute("ROLLBACK")
                raise
        self._wrote()

    async def _write(self, sql: str, args: tuple[Any, ...], *, rows: bool) -> _Outcome:
        # Queued, and committed with the writes other turns queue in the same turn of the loop:
        # the commit is most of a small write's cost (~36 -> ~17 µs a write, 16 writers). Each
        # caller hears only once its own row is committed, as with a commit of its own.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[_Outcome] = loop.create_future()
        self._queued.append(_Queued(sql, args, rows, done))
        if len(self._queued) == 1:
            loop.call_soon(self._commit_queued)
        try:
            return await done
        except _Busy:  # another connection held the write lock: this one may wait, on the thread
            self.fallbacks += 1
            slow = await self._slow.execute(sql, args)
            out = (slow.rowcount, [tuple(r) for r in await slow.fetchall()] if rows else [])
            self._wrote()
            return out

    def _commit_queued(self) -> None:
        """Run the queued writes, in order, in one transaction (a lone write commits by itself)."""
        queued = [q for q in self._queued if not q.done.done()]  # a cancelled caller's write is not run
        self._queued = []
        if len(queued) > 1:
            try:
                self._fast.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                busy = err.sqlite_errorcode in _WAITS
                for q in queued:
                    q.done.set_exception(_Busy() if busy else err)
                return
        outcomes = [self._run(q) for q in queued]
        if len(queued) > 1:
            try:
                self._fast.execute("COMMIT")
            except sqlite3.Error as err:  # nothing was committed: every caller hears it
                if self._fast.in_transaction:  # SQLite may already have rolled it back
                    self._fast.execute("ROLLBACK")
                for q in queued:
                    q.done.set_exception(err)
                return
        for q, out in zip(queued, outcomes, strict=True):
            if isinstance(out, BaseException):
                q.done.set_exception(out)  # a busy one counts as written once the thread has run it
            else:
                q.done.set_result(out)
                self._wrote()

    def _run(self, q: _Queued) -> _Outcome | BaseException:
        # A statement that fails (a constraint, say) is undone by SQLite on its own; the
        # transaction and the other statements in it go on.
        try:
            cur = self._fast.execute(q.sql, q.args)
            return cur.rowcount, cur.fetchall() if q.rows else []
        except sqlite3.OperationalError as err:
            return _Busy() if err.sqlite_errorcode in _WAITS else err
        except sqlite3.Error as err:
            return err

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0 and (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = asyncio.create_task(self._run_checkpoint())

    async def read(self, sql: str, args: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
        """Run one query; all its rows (fetched at once, so no read transaction stays open)."""
        try:
            return self._fast.execute(sql, args).fetchall()
        except sqlite3.OperationalError as err:
            if err.sqlite_errorcode not in _WAITS:
                raise
            self.fallbacks += 1
            return [tuple(row) for row in await (await self._slow.execute(sql, args)).fetchall()]

    async def _run_checkpoint(self) -> None:
        try:
            await self._slow.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a busy database checkpoints next time; never fail a turn over it
            log.warning("WAL checkpoint failed", exc_info=True)
