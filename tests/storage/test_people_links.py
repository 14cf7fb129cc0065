"""People's chat links are written together: the answer to a first message does not wait for its
link, the links of a moment share one transaction, reads of people and closing the store write the
ones still waiting, and two instances linking the same people at once both succeed."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage import store as store_module
from storage.models import Person
from storage.people import People
from storage.store import Store

REF = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/"}


async def _link(people: People, n: int, conversation: str) -> None:
    await people.link(f"aad-{n}", f"Person {n}", conversation_id=conversation, service_url="https://s/",
                      reference={**REF, "conversation": {"id": conversation}}, tenant_id="t")  # fmt: skip


async def _rows(store: Store) -> int:
    async with store.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Person)) or 0)


async def test_links_wait_a_moment_then_are_written_together_and_the_newest_wins(store: Store) -> None:
    people = People(store)
    for n in range(40):
        await _link(people, n, f"a:first-{n}")
    await _link(people, 7, "a:second-7")  # the same person again within the moment: the newest wins
    assert await _rows(store) == 0  # nothing written yet: the answers did not wait for these
    writes: list[int] = []
    real = store._fast.link_people

    async def counted(batch, now):  # type: ignore[no-untyped-def]
        writes.append(len(batch))
        await real(batch, now)

    store._fast.link_people = counted  # type: ignore[method-assign]
    found = {p.aad_id: p for p in await people.all()}  # a read of people writes what is waiting first
    assert writes == [40]  # one transaction for the lot
    assert len(found) == 40 and found["aad-7"].conversation_id == "a:second-7"
    assert found["aad-8"].conversation_id == "a:first-8" and found["aad-8"].reachable


async def test_the_timer_writes_waiting_links_and_closing_writes_the_rest(db_url: str) -> None:
    store = await Store.open(db_url)
    people = People(store)
    fired = asyncio.Event()
    due = store._links_due

    def spy() -> None:
        due()
        fired.set()

    store._links_due = spy  # type: ignore[method-assign]
    await _link(people, 1, "a:one")
    await asyncio.wait_for(fired.wait(), 50 * store_module.LINK_WINDOW)  # the timer fires on its own
    assert store._links_task is not None
    await store._links_task
    assert await _rows(store) == 1
    await _link(people, 2, "a:two")
    await store.close()  # before the window passes: closing writes it
    async with await Store.open(db_url) as again:
        assert {p.aad_id for p in await People(again).all()} == {"aad-1", "aad-2"}


async def test_two_instances_linking_the_same_people_at_once_both_succeed(db_url: str) -> None:
    async with await Store.open(db_url) as a, await Store.open(db_url) as b:
        for n in range(30):  # the same 30 people through both instances, in opposite orders
            await _link(People(a), n, f"a:via-a-{n}")
            await _link(People(b), 29 - n, f"a:via-b-{29 - n}")
        await asyncio.gather(a.flush_links(), b.flush_links())
        found = await People(a).all()
        assert len(found) == 30 and all((p.conversation_id or "").startswith("a:via-") for p in found)
