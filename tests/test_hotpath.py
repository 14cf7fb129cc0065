"""The per-message statements on the drivers: claims with the state read, SQLite on the loop with a
thread behind it, and the PostgreSQL connection set. Real databases throughout."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from sqlalchemy.engine import make_url

from bot.state import SqlConversationState, SqlStorage
from storage import loopsqlite
from storage.db import create_engine, session_factory
from storage.hotpath import HotPath
from storage.loopsqlite import LoopSqlite
from storage.pgconns import PgConnections

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


async def test_claim_and_read_gets_the_state_row_with_the_claim(db_url: str) -> None:
    hot = await HotPath.open(db_url)
    try:
        assert await hot.insert_state("msteams/conversations/a:1", '{"last_report":"vetting"}', NOW)
        assert await hot.claim_and_read("in:1", None, NOW, "msteams/conversations/a:1") == (
            True, ('{"last_report":"vetting"}', 1),
        )  # fmt: skip
        # The same activity again: not claimed, and nothing read for it.
        assert await hot.claim_and_read("in:1", None, NOW, "msteams/conversations/a:1") == (False, None)
        assert await hot.claim_and_read("in:2", None, NOW, "msteams/conversations/none") == (True, None)
        assert await hot.update_state("msteams/conversations/a:1", "{}", 1, NOW)
        assert await hot.claim_and_read("in:3", None, NOW, "msteams/conversations/a:1") == (True, ("{}", 2))
    finally:
        await hot.close()


@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA journal_mode=WAL")
    return path


async def test_sqlite_write_waits_in_a_thread_when_another_connection_holds_the_lock(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long import would
        claim = asyncio.create_task(
            hot.write("INSERT INTO processed_key (key, created_at) VALUES (?, ?)", ("in:locked", "2026-11-26"))
        )
        ticks = 0
        for _ in range(10):  # the loop keeps running while the statement waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not claim.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(claim, 10) == 1
        assert hot.fallbacks == 1
        # With the lock free again, statements run on the loop connection.
        assert await hot.read("SELECT key FROM processed_key", ()) == [("in:locked",)]
        assert hot.fallbacks == 1
    finally:
        other.close()
        await hot.close()


async def test_sqlite_loop_writes_are_checkpointed_in_the_thread(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loopsqlite, "CHECKPOINT_EVERY", 5)

    def rows_in_main_file() -> int:
        # immutable=1 reads the database file alone, ignoring the WAL: rows show there once checkpointed.
        with sqlite3.connect(f"file:{sqlite_file}?immutable=1", uri=True) as c:
            return int(c.execute("SELECT count(*) FROM processed_key").fetchone()[0])

    hot = await LoopSqlite.open(str(sqlite_file))
    try:
        for n in range(4):
            await hot.write("INSERT INTO processed_key (key, created_at) VALUES (?, ?)", (f"in:{n}", "2026-11-26"))
        assert rows_in_main_file() == 0  # the loop connection never checkpoints by itself
        await hot.write("INSERT INTO processed_key (key, created_at) VALUES (?, ?)", ("in:4", "2026-11-26"))
    finally:
        await hot.close()  # waits for the checkpoint it started
    assert rows_in_main_file() == 5


async def test_sqlite_errors_other_than_busy_are_raised(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await hot.read("SELECT * FROM nowhere", ())
        assert hot.fallbacks == 0
    finally:
        await hot.close()


# ---- PostgreSQL connection set ----------------------------------------------------------------------


@pytest.fixture
def pg_connect(pg_database_url: str | None):  # type: ignore[no-untyped-def]
    if pg_database_url is None:
        pytest.skip("needs TRACKER_TEST_POSTGRES_URL")
    u = make_url(pg_database_url)

    def connect():  # type: ignore[no-untyped-def]
        return asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)

    return connect


async def _pid_after(pool: PgConnections, seconds: float) -> int:
    return int(await pool.run(lambda c: c.fetchval("SELECT pg_backend_pid() FROM pg_sleep($1)", seconds)))


@pytest.mark.postgres
async def test_pg_connections_never_exceed_their_size(pg_connect) -> None:  # type: ignore[no-untyped-def]
    pool = await PgConnections.open(pg_connect, size=2)
    try:
        pids = await asyncio.gather(*(_pid_after(pool, 0.02) for _ in range(8)))
        assert len(set(pids)) <= 2 and len(pids) == 8
    finally:
        await pool.close()


@pytest.mark.postgres
async def test_pg_connection_whose_statement_failed_is_not_reused(pg_connect) -> None:  # type: ignore[no-untyped-def]
    pool = await PgConnections.open(pg_connect, size=1)
    try:
        first = await _pid_after(pool, 0)
        assert await _pid_after(pool, 0) == first  # a healthy connection is reused
        with pytest.raises(asyncpg.UndefinedTableError):
            await pool.fetch("SELECT * FROM nowhere")
        second = await _pid_after(pool, 0)
        assert second != first
    finally:
        await pool.close()


@pytest.mark.postgres
async def test_pg_cancelled_callers_give_their_place_back(pg_connect) -> None:  # type: ignore[no-untyped-def]
    pool = await PgConnections.open(pg_connect, size=1)
    try:
        busy = asyncio.create_task(_pid_after(pool, 0.2))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(_pid_after(pool, 0))
        await asyncio.sleep(0.01)
        waiting.cancel()  # gave up while queued
        busy_pid = await busy
        # Cancel one in the middle of its statement: that connection is closed, a new one serves.
        mid = asyncio.create_task(_pid_after(pool, 5))
        await asyncio.sleep(0.1)
        mid.cancel()
        with pytest.raises(asyncio.CancelledError):
            await mid
        after = await asyncio.wait_for(_pid_after(pool, 0), 5)
        assert after != busy_pid
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        await pool.close()
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetch("SELECT 1")


# ---- conversation state read with the claim -----------------------------------------------------


class _CountingStorage(SqlStorage):
    """The real storage, counting the reads that reach the database."""

    reads = 0

    async def read(self, keys: list[str]) -> dict:  # type: ignore[type-arg]
        self.reads += 1
        return await super().read(keys)


def _turn(adapter: TestAdapter, activity_id: str) -> TurnContext:
    return TurnContext(adapter, Activity(
        type=ActivityTypes.message, id=activity_id, channel_id="msteams", text="hi",
        conversation=ConversationAccount(id="a:state-test"), from_property=ChannelAccount(id="29:u"),
        recipient=ChannelAccount(id="28:bot"),
    ))  # fmt: skip


async def test_state_is_read_once_per_turn_with_the_claim(db_url: str) -> None:
    hot = await HotPath.open(db_url)
    engine = create_engine(db_url)
    try:
        storage = _CountingStorage(session_factory(engine), hot)
        state = SqlConversationState(storage)
        prop = state.create_property("tracker")
        adapter = TestAdapter()

        first = _turn(adapter, "1")
        assert await state.claim_and_load(first, "in:1")
        assert await prop.get(first, dict) == {}  # a new conversation: botbuilder would read again here
        await prop.set(first, {"last_report": "vetting"})
        await state.save_changes(first)
        assert storage.reads == 0

        again = _turn(adapter, "1")  # a re-delivery: not claimed, nothing primed
        assert not await state.claim_and_load(again, "in:1")

        second = _turn(adapter, "2")
        assert await state.claim_and_load(second, "in:2")
        assert await prop.get(second, dict) == {"last_report": "vetting"}
        assert storage.reads == 0

        unclaimed = _turn(adapter, "3")  # e.g. a card action: state loads the usual way, once
        assert await prop.get(unclaimed, dict) == {"last_report": "vetting"}
        await prop.get(unclaimed, dict)
        assert storage.reads == 1
        await state.load(unclaimed, force=True)  # force still goes to the database
        assert storage.reads == 2
    finally:
        await engine.dispose()
        await hot.close()
