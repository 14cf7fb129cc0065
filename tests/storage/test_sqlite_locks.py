"""How the store holds SQLite's one write lock: a change to an item takes it for its own statements
only (never across an await, while other turns run), waits where waiting is fine when another
connection has it, and reads take it not at all. Real database files, a second real connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.models import Item, ItemEvent, Report
from storage.outbox import Outbox
from storage.people import People
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, Source
from tests.kit.waiting import assert_waits_while_loop_runs

ALICE = Actor("Alice Ames", "aad-alice")


@pytest.fixture
def db_file(tmp_path: Path, sqlite_template: Path) -> Path:
    return Path(shutil.copy(sqlite_template, tmp_path / "tracker.db"))


@pytest.fixture
async def store_file(db_file: Path) -> AsyncIterator[tuple[Store, Path]]:
    async with await Store.open(f"sqlite+aiosqlite:///{db_file}") as store:
        yield store, db_file


async def _item(store: Store) -> int:
    async with store.sessions() as s, s.begin():
        report = Report(key="vetting", title="An inspection of vetting, misconduct, and misogyny")
        s.add(report)
        await s.flush()
        item = Item(
            report_id=report.id, kind="recommendation", number="34", match_key="34", text="Seek intel."
        )
        s.add(item)
        await s.flush()
        return item.id


def _locker(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)


def _lock_is_free(probe: sqlite3.Connection) -> bool:
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        assert err.sqlite_errorcode == sqlite3.SQLITE_BUSY
        return False
    probe.execute("ROLLBACK")
    return True


def _change(n: int) -> ItemChange:
    return ItemChange(evidence=NewEvidence("evidence", f"Audit {n} done", ()))


async def test_a_change_never_holds_the_write_lock_while_other_turns_run(
    store_file: tuple[Store, Path],
) -> None:
    store, path = store_file
    item_id = await _item(store)
    probe = _locker(path)
    seen = {"free": 0, "held": 0}
    stop = asyncio.Event()

    async def other_turns() -> None:  # what the loop runs between a change's own steps
        while not stop.is_set():
            seen["free" if _lock_is_free(probe) else "held"] += 1
            await asyncio.sleep(0)

    watcher = asyncio.create_task(other_turns())
    try:
        for n in range(20):
            await store.change_item(item_id, None, _change(n), ALICE, Source("teams", "c", f"a{n}"),
                                    idempotency_key=f"k{n}")  # fmt: skip
            await asyncio.sleep(0)  # the next turn
    finally:
        stop.set()
        await watcher
        probe.close()
    assert seen["free"] > 0 and seen["held"] == 0, seen
    assert (await store.get_item(item_id)).version == 21


async def test_a_change_waits_without_blocking_the_loop_when_another_connection_holds_the_lock(
    store_file: tuple[Store, Path],
) -> None:
    store, path = store_file
    item_id = await _item(store)
    other = _locker(path)
    try:
        other.execute("BEGIN IMMEDIATE")  # as a long import in another process would
        change = asyncio.create_task(
            store.change_item(item_id, 1, _change(1), ALICE, Source("teams", "c", "a1"), idempotency_key="k1")
        )
        await assert_waits_while_loop_runs(change)
        other.execute("COMMIT")
        result = await asyncio.wait_for(change, 10)
    finally:
        other.close()
    assert result.changed and result.item.version == 2 and result.item.latest_evidence == "Audit 1 done"
    history = await store.history(item_id)
    assert [e.action for e in history] == ["evidence_added"]
    # The same key again (a redelivery): nothing more is written, on whichever path it runs.
    again = await store.change_item(
        item_id, 1, _change(1), ALICE, Source("teams", "c", "a1"), idempotency_key="k1"
    )
    assert again.duplicate and len(await store.history(item_id)) == 1


async def test_a_failed_change_on_the_loop_writes_nothing(store_file: tuple[Store, Path]) -> None:
    store, path = store_file
    item_id = await _item(store)
    with pytest.raises(ValueError):  # an unknown status is refused after the key and evidence were staged
        await store.change_item(
            item_id, None, ItemChange(status="finished", evidence=NewEvidence("evidence", "x", ())), ALICE,
            Source("teams", "c", "a1"), idempotency_key="k-bad",
        )  # fmt: skip
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT count(*) FROM evidence").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM processed_key WHERE key = 'k-bad'").fetchone() == (0,)
        assert c.execute(f"SELECT count(*) FROM {ItemEvent.__tablename__}").fetchone() == (0,)
    assert (await store.get_item(item_id)).version == 1


async def test_reads_take_no_write_lock(store_file: tuple[Store, Path]) -> None:
    store, path = store_file
    item_id = await _item(store)
    other = _locker(path)
    try:
        other.execute("BEGIN IMMEDIATE")
        # Each would wait out the 10 s busy timeout if it asked for the write lock.
        item = await asyncio.wait_for(store.get_item(item_id), 2)
        assert await asyncio.wait_for(store.last_meeting_before(dt.date(2026, 12, 1)), 2) is None
        assert await asyncio.wait_for(store.current_seq(), 2) >= 0
        assert (await asyncio.wait_for(store.snapshot(), 2)).items[0].id == item.id
        # The outbox's poll runs every second: finding nothing due must not hold writers off.
        now = dt.datetime.now(dt.UTC)
        assert await asyncio.wait_for(Outbox(store).take_due(now, dt.timedelta(seconds=30)), 2) == []
        assert await asyncio.wait_for(People(store).get("aad-nobody"), 2) is None
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_committee_lookup_runs_at_once_on_the_loop_even_while_the_lock_is_held(
    store_file: tuple[Store, Path],
) -> None:
    store, path = store_file
    met, _ = await store.add_meeting(dt.date(2026, 11, 20), ALICE, Source("teams", "c", "m1"))
    other = _locker(path)
    ran: list[int] = []

    async def another_turn() -> None:
        ran.append(1)

    try:
        other.execute("BEGIN IMMEDIATE")
        turn = asyncio.create_task(another_turn())
        # Answered without yielding to the loop (no thread round trip): the other turn has not run yet.
        assert await store.last_meeting_before(dt.date(2026, 12, 1)) == met
        assert ran == []
        await turn
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_peoples_links_wait_without_blocking_the_loop_when_another_connection_holds_the_lock(
    store_file: tuple[Store, Path],
) -> None:
    store, path = store_file
    people = People(store)
    for n in range(5):
        await people.link(f"aad-{n}", f"Person {n}", conversation_id=f"a:{n}", service_url="https://s/",
                          reference={"conversation": {"id": f"a:{n}"}}, tenant_id="t")  # fmt: skip
    other = _locker(path)
    try:
        other.execute("BEGIN IMMEDIATE")
        flush = asyncio.create_task(store.flush_links())
        await assert_waits_while_loop_runs(flush)
        other.execute("COMMIT")
        await asyncio.wait_for(flush, 10)
    finally:
        other.close()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT count(*) FROM person").fetchone() == (5,)
