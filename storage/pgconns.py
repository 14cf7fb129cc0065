"""A few asyncpg connections for the per-message statements, handed out with no per-use bookkeeping.

``asyncpg.Pool`` spends ~40 µs of CPU on each acquire/release (a proxy object, timeouts, reset
hooks, a queue): more than the statement itself costs the client, on a path every message takes
two or three times. The hot path needs far less: run one statement on an idle connection. A
connection whose statement failed or was cancelled is closed rather than reused, so nothing it
was in the middle of (a cancel request, an aborted transaction) can reach the next caller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
Connect = Callable[[], Awaitable[asyncpg.Connection]]


class PgConnections:
    """At most ``size`` connections, opened on demand; callers beyond that wait their turn."""

    def __init__(self, connect: Connect, size: int = 10) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._connect = connect
        self._size = size
        self._open = 0  # connections that exist (idle, in use or being opened)
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False

    @classmethod
    async def open(cls, connect: Connect, size: int = 10) -> PgConnections:
        """Open one connection now, so a wrong URL fails at start-up rather than on a message."""
        pool = cls(connect, size)
        await pool.run(lambda c: c.execute("SELECT 1"))
        return pool

    async def run(self, op: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``await op(connection)`` on a connection of our own for the duration."""
        conn = await self._acquire()
        try:
            result = await op(conn)
        except BaseException:
            self._discard(conn)
            raise
        self._release(conn)
        return result

    async def execute(self, sql: str, *args: Any) -> str:
        return await self.run(lambda c: c.execute(sql, *args))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.run(lambda c: c.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self.run(lambda c: c.fetchrow(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.run(lambda c: c.fetchval(sql, *args))

    async def close(self) -> None:
        self._closed = True
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(asyncpg.InterfaceError("the connection pool is closed"))
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close() for c in idle), return_exceptions=True)

    # ---- internals -------------------------------------------------------------------------------

    async def _acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the connection pool is closed")
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            self._open -= 1
        if self._open < self._size:
            return await self._new()
        fut: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            conn = await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                handed = fut.result()  # handed over just as we were cancelled: pass it on
                if handed is not None:
                    self._release(handed)
                else:
                    self._open -= 1
                    self._wake(None)
            raise
        # None: a connection was closed while we waited; its place was kept for us to open one.
        return conn if conn is not None else await self._new(reserved=True)

    async def _new(self, reserved: bool = False) -> asyncpg.Connection:
        if not reserved:
            self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake(None)
            raise

    def _release(self, conn: asyncpg.Connection) -> None:
        if self._closed or conn.is_closed() or conn.is_in_transaction():
            self._discard(conn)
        elif not self._wake(conn):
            self._idle.append(conn)

    def _discard(self, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self._open -= 1
        self._wake(None)

    def _wake(self, conn: asyncpg.Connection | None) -> bool:
        """Hand ``conn`` (or room for a new connection) to the first live waiter."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                if conn is None:
                    self._open += 1  # the place is kept for the waiter, which opens the connection
                fut.set_result(conn)
                return True
        return False
