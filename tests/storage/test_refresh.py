"""The read model and the store-wide change counter, on SQLite and PostgreSQL: an instance does not
read its own writes back on refresh, and still picks up every write made elsewhere, in between or
after (two read models on one database stand for two instances)."""

from __future__ import annotations

from storage.readmodel import ReadModel
from storage.store import ChangeResult, ItemChange, NewEvidence, Store
from storage.views import Actor, Source
from tests.kit.data import seed_small

ALICE = Actor("Alice Ames", "aad-alice")


async def _write(store: Store, item_id: int, text: str, n: int) -> ChangeResult:
    change = ItemChange(evidence=NewEvidence("update", text, ()))
    return await store.change_item(item_id, None, change, ALICE, Source("teams", "c", f"a{n}"))


async def test_own_writes_are_not_read_back_and_others_are(store: Store) -> None:
    ids = await seed_small(store)
    here, there = ReadModel(store), ReadModel(store)
    await here.load()
    await there.load()
    reports = here.reports
    item = ids["vetting recommendation 34"]

    mine = await _write(store, item, "ours", 1)
    assert mine.seq == here.seq + 1
    here.apply(mine.item, mine.seq)
    assert here.seq == mine.seq
    assert not await here.refresh()  # nothing to read: the one change since our look is ours
    assert here.reports is reports  # so nothing that hangs on the reports is rebuilt either

    # Another instance writes, then we write: the gap in the counter means a look is needed.
    theirs = await _write(store, ids["vetting recommendation 35"], "theirs", 2)
    there.apply(theirs.item, theirs.seq)
    mine = await _write(store, item, "ours again", 3)
    here.apply(mine.item, mine.seq)
    assert here.seq < mine.seq
    assert await here.refresh()
    assert here.items[ids["vetting recommendation 35"]].version == theirs.item.version
    assert here.items[item].version == mine.item.version
    assert here.seq == mine.seq and here.reports is reports  # item changes only: same reports
    assert await there.refresh()  # and the other instance sees ours
    assert there.items[item].version == mine.item.version


async def test_a_refresh_never_undoes_a_newer_write_of_ours(store: Store) -> None:
    ids = await seed_small(store)
    model = ReadModel(store)
    await model.load()
    item = ids["vetting recommendation 34"]
    first = await _write(store, item, "one", 1)  # not applied: as if another instance wrote it
    second = await _write(store, item, "two", 2)
    model.apply(second.item, second.seq)
    assert model.seq < first.seq  # the counter has a gap: a refresh reads both changes
    assert await model.refresh()
    assert model.items[item].version == second.item.version == first.item.version + 1
    assert model.seq == second.seq
