"""The per-message statements on the drivers (storage.fastpath): claims with the state read, SQLite on
the loop with a thread behind it, and PostgreSQL on asyncpg's pool. Real databases throughout."""

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

from bot.state import SqlConversationState, SqlStorage
from storage import loopsqlite
from storage.fastpath import PgFastPath, open_fast_path
from storage.loopsqlite import LoopSqlite
from storage.store import Store
from tests.kit.waiting import assert_waits_while_loop_runs

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


async def test_claim_and_read_gets_the_state_row_with_the_claim(db_url: str) -> None:
    hot = await open_fast_path(db_url)
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


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:",
                                 "sqlite+aiosqlite:///file:t?mode=memory&uri=true"])  # fmt: skip
async def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory SQLite"):
        await Store.open(url)


@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA journal_mode=WAL")
    return path


async def test_sqlite_write_waits_in_a_thread_when_another_connection_holds_the_lock(
    sqlite_file: Path,
) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long import would
        claim = asyncio.create_task(
            hot.write(
                "INSERT INTO processed_key (key, created_at) VALUES (?, ?)", ("in:locked", "2026-11-26")
            )
        )
        await assert_waits_while_loop_runs(claim)
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
            await hot.write(
                "INSERT INTO processed_key (key, created_at) VALUES (?, ?)", (f"in:{n}", "2026-11-26")
            )
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


_CLAIM = "INSERT OR IGNORE INTO processed_key (key, created_at) VALUES (?, ?)"


def _statements(conn: LoopSqlite) -> list[str]:
    seen: list[str] = []
    conn._fast.set_trace_callback(seen.append)  # what the loop connection sends to SQLite
    return seen


def _keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as c:  # another connection: sees only what is committed
        return [r[0] for r in c.execute("SELECT key FROM processed_key ORDER BY key")]


async def test_sqlite_writes_of_the_same_moment_share_one_commit(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    try:
        seen = _statements(hot)
        counts = await asyncio.gather(*(hot.write(_CLAIM, (f"in:{n % 5}", "2026-11-26")) for n in range(8)))
        assert counts == [1, 1, 1, 1, 1, 0, 0, 0]  # each caller hears its own statement's count
        assert [s for s in seen if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
        assert _keys(sqlite_file) == [f"in:{n}" for n in range(5)]
        seen.clear()
        assert await hot.write(_CLAIM, ("in:alone", "2026-11-26")) == 1  # a write alone: no BEGIN of its own
        assert [s.split(" (")[0] for s in seen] == ["INSERT OR IGNORE INTO processed_key"]
        assert hot.fallbacks == 0
    finally:
        await hot.close()


async def test_sqlite_a_write_that_fails_in_a_shared_commit_fails_alone(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    try:
        await hot.write(_CLAIM, ("in:taken", "2026-11-26"))
        strict = "INSERT INTO processed_key (key, created_at) VALUES (?, ?)"
        results = await asyncio.gather(
            hot.write(_CLAIM, ("in:a", "2026-11-26")),
            hot.write(strict, ("in:taken", "2026-11-26")),  # the primary key is taken
            hot.write_returning(strict + " RETURNING key", ("in:b", "2026-11-26")),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == [("in:b",)]
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert _keys(sqlite_file) == ["in:a", "in:b", "in:taken"]
    finally:
        await hot.close()


async def test_sqlite_shared_writes_wait_in_the_thread_when_the_lock_is_taken(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        writes = asyncio.gather(*(hot.write(_CLAIM, (f"in:{n}", "2026-11-26")) for n in range(3)))
        await assert_waits_while_loop_runs(writes)
        other.execute("COMMIT")
        assert await asyncio.wait_for(writes, 10) == [1, 1, 1]
        assert hot.fallbacks == 3
        assert _keys(sqlite_file) == ["in:0", "in:1", "in:2"]
    finally:
        other.close()
        await hot.close()


async def test_sqlite_a_cancelled_write_still_queued_is_not_run(sqlite_file: Path) -> None:
    hot = await LoopSqlite.open(str(sqlite_file))
    try:
        kept = asyncio.create_task(hot.write(_CLAIM, ("in:kept", "2026-11-26")))
        dropped = asyncio.create_task(hot.write(_CLAIM, ("in:dropped", "2026-11-26")))
        await asyncio.sleep(0)  # both queued, the commit not yet run
        dropped.cancel()
        assert await kept == 1
        with pytest.raises(asyncio.CancelledError):
            await dropped
        assert _keys(sqlite_file) == ["in:kept"]
    finally:
        await hot.close()


# ---- PostgreSQL on a few connections of its own (storage.pgconns) ----------------------------------------------------------------


@pytest.fixture
async def pg_fast(pg_database_url: str | None):  # type: ignore[no-untyped-def]
    if pg_database_url is None:
        pytest.skip("needs TRACKER_TEST_POSTGRES_URL")
    fast = await PgFastPath.open(pg_database_url, size=2)
    yield fast
    await fast.close()


async def _pid_after(fast: PgFastPath, seconds: float) -> int:
    return int(
        await fast._pool.run(lambda c: c.fetchval("SELECT pg_backend_pid() FROM pg_sleep($1)", seconds))
    )


@pytest.mark.postgres
async def test_pg_connections_never_exceed_the_pool_size(pg_fast: PgFastPath) -> None:
    pids = await asyncio.gather(*(_pid_after(pg_fast, 0.02) for _ in range(8)))
    assert len(set(pids)) <= 2 and len(pids) == 8


@pytest.mark.postgres
async def test_pg_a_failed_statement_leaves_the_pool_usable(pg_fast: PgFastPath) -> None:
    first = await _pid_after(pg_fast, 0)
    assert await _pid_after(pg_fast, 0) == first  # a healthy connection is reused
    with pytest.raises(asyncpg.UndefinedTableError):
        await pg_fast._pool.fetch("SELECT * FROM nowhere")
    # The connection whose statement failed is closed, not handed to the next caller.
    assert first not in {await _pid_after(pg_fast, 0), await _pid_after(pg_fast, 0)}
    assert await pg_fast.claim("in:after-error", None, NOW)
    assert not await pg_fast.claim("in:after-error", None, NOW)


@pytest.mark.postgres
async def test_pg_cancelled_callers_give_their_place_back(pg_fast: PgFastPath) -> None:
    # Cancel two in the middle of their statements (the pool's whole size): the pool waits out
    # the cancellations and the next callers are served on healthy connections.
    mids = [asyncio.create_task(_pid_after(pg_fast, 5)) for _ in range(2)]
    await asyncio.sleep(0.1)
    for mid in mids:
        mid.cancel()
    for mid in mids:
        with pytest.raises(asyncio.CancelledError):
            await mid
    pids = await asyncio.wait_for(asyncio.gather(*(_pid_after(pg_fast, 0) for _ in range(4))), 5)
    assert len(pids) == 4
    assert await pg_fast.claim("in:after-cancel", None, NOW)
    waiters = [asyncio.create_task(_pid_after(pg_fast, 0.2)) for _ in range(3)]  # the third one waits
    await asyncio.sleep(0.05)
    waiters[2].cancel()  # gave up while queued: its place goes to the next caller
    await asyncio.gather(*waiters[:2])
    assert await asyncio.wait_for(_pid_after(pg_fast, 0), 5)


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
    store = await Store.open(db_url)
    try:
        storage = _CountingStorage(store)
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
        await store.close()


async def test_a_person_is_linked_in_one_statement_and_keeps_their_reminder_choice(store: Store) -> None:
    from storage.people import People

    people = People(store)
    ref = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/"}
    await people.link("AAD-Sarah ", "DCI Sarah Khan", conversation_id="a:1", service_url="https://smba.example/emea/",
                      reference=ref, tenant_id="t-1")  # fmt: skip
    first = await people.get("aad-sarah")
    assert first is not None and first.reachable and first.reference == ref and first.remind is None
    await people.set_remind("aad-sarah", "DCI Sarah Khan", True, by="DCI Sarah Khan")
    # A new chat, and Teams did not send a name this time: the chat moves, the name and choice stay.
    await people.link("aad-sarah", "", conversation_id="a:2", service_url="https://smba.example/uk/",
                      reference={**ref, "conversation": {"id": "a:2"}}, tenant_id="t-1")  # fmt: skip
    (person,) = await people.all()
    assert (person.id, person.name, person.conversation_id, person.service_url, person.remind) == (
        first.id, "DCI Sarah Khan", "a:2", "https://smba.example/uk/", True,
    )  # fmt: skip
    assert person.reference == {**ref, "conversation": {"id": "a:2"}}
    # Two instances linking the same person at once: one row, both succeed.
    await asyncio.gather(*(people.link("aad-owen", f"Mark Owen {n}", conversation_id=f"a:o{n}",
                                       service_url="https://s/", reference=ref, tenant_id=None) for n in range(4)))  # fmt: skip
    assert len([p for p in await people.all() if p.aad_id == "aad-owen"]) == 1


async def test_outbox_rows_kept_in_one_statement_are_read_taken_and_marked_sent_by_the_store(
    store: Store,
) -> None:
    from storage.outbox import PENDING, SENDING, SENT, Outbox

    outbox = Outbox(store)
    now = dt.datetime.now(dt.UTC)
    wires = [
        {"type": "message", "text": "Rec 34 is now evidenced ✓", "attachments": [{"content": {"a": [1]}}]}
    ]
    kept = await outbox.add("reply:in:1", "https://smba.example/", "a:1", wires, state=SENDING,
                            lease_until=now + dt.timedelta(seconds=30))  # fmt: skip
    assert kept is not None and (kept.state, kept.attempts, kept.version, kept.done) == (SENDING, 1, 1, 0)
    # A re-delivery reaching the outbox second gets None, and the first row is untouched.
    assert await outbox.add("reply:in:1", "https://other/", "a:9", [], state=PENDING) is None
    got = await outbox.get("reply:in:1")
    assert got is not None and (got.id, got.service_url, got.activities) == (
        kept.id,
        kept.service_url,
        tuple(wires),
    )
    # Leased to this instance: nobody takes it; a lease that ran out and a due retry are taken.
    lapsed = await outbox.add("reply:in:2", "https://smba.example/", "a:2", wires, state=SENDING,
                              lease_until=now - dt.timedelta(seconds=1))  # fmt: skip
    due = await outbox.add("reply:in:3", "https://smba.example/", "a:3", wires, state=PENDING,
                           next_at=now - dt.timedelta(seconds=1), error="503")  # fmt: skip
    later = await outbox.add("reply:in:4", "https://smba.example/", "a:4", wires, state=PENDING,
                             next_at=now + dt.timedelta(hours=1))  # fmt: skip
    assert lapsed and due and later
    taken = await outbox.take_due(dt.datetime.now(dt.UTC), dt.timedelta(seconds=30))
    assert sorted(e.key for e in taken) == ["reply:in:2", "reply:in:3"]
    await outbox.sent(kept)
    sent = await outbox.get("reply:in:1")
    assert sent is not None and (sent.state, sent.done, sent.version) == (SENT, 1, 2)
    assert {e.key for e in await outbox.entries()} == {"reply:in:2", "reply:in:3", "reply:in:4"}
