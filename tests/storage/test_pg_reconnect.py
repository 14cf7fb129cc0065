"""PostgreSQL closing the store's connections (a restart, an idle timeout, an administrator): the
next unit of work gets a fresh connection and succeeds, with nothing lost or written twice. The
pool checks a connection locally on checkout (no round trip), so this is what stands in for
pool_pre_ping. A real server and real terminated backends."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, Source
from tests.kit.data import seed_small

ALICE = Actor("Alice Ames", "aad-alice")


async def _terminate_backends(url: str) -> int:
    """Close every server connection to this database but the one asking."""
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))  # fmt: skip
            return len(found.all())
    finally:
        await admin.dispose()


async def test_units_of_work_survive_the_server_closing_their_connections(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a server closing connections: SQLite has no server")
    async with await Store.open(db_url) as store:
        ids = await seed_small(store)
        item = ids["vetting recommendation 34"]
        # Pool some connections: reads, a write, and a few at once.
        await asyncio.gather(*(store.get_item(item) for _ in range(4)))
        first = await store.change_item(
            item,
            None,
            ItemChange(evidence=NewEvidence("update", "one", ())),
            ALICE,
            Source("teams", "c", "a1"),
        )
        assert await _terminate_backends(db_url) >= 1
        for _ in range(50):  # bounded: until the loop has seen every socket close (~ms)
            await asyncio.sleep(0.01)
            if (await _terminate_backends(db_url)) == 0:
                break
        # Every pooled connection is gone: each of these checks one out and must get a fresh one.
        again = await asyncio.gather(*(store.get_item(item) for _ in range(4)))
        assert {v.version for v in again} == {first.item.version}
        second = await store.change_item(
            item, first.item.version, ItemChange(evidence=NewEvidence("update", "two", ())), ALICE,
            Source("teams", "c", "a2"), idempotency_key="k2",
        )  # fmt: skip
        assert second.changed and second.item.version == first.item.version + 1
        assert [e.new_value for e in await store.history(item)][-2:] == ["one", "two"]
        assert await store.last_meeting_before(second.item.updated_at.date()) is None  # type: ignore[union-attr]
