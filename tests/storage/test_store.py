"""Store writes: versions, audit events, idempotency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from storage.models import Item, Report
from storage.store import ItemChange, NewEvidence, NotFound, Store, VersionConflict
from storage.views import Actor, Source

ALICE = Actor("Alice Ames", "aad-alice")
BOB = Actor("Bob Bell", "aad-bob")
SRC = Source("teams", "conv-1", "act-1")


async def _item(store: Store, number: str = "34") -> int:
    async with store.sessions() as s, s.begin():
        r = Report(
            key="vetting", title="An inspection of vetting, misconduct, and misogyny in the police service"
        )
        s.add(r)
        await s.flush()
        i = Item(
            report_id=r.id,
            kind="recommendation",
            number=number,
            match_key=number,
            text="By 30 April 2023, chief constables should make sure that their counter-corruption units "
            "actively seek corruption-related intelligence as a matter of routine.",
        )
        s.add(i)
        await s.flush()
        return i.id


async def test_evidence_changes_status_and_is_audited(store: Store) -> None:
    item_id = await _item(store)
    before = await store.get_item(item_id)
    res = await store.change_item(
        item_id,
        before.version,
        ItemChange(
            status="evidenced",
            evidence=NewEvidence("evidence", "CCU now tasks intel routinely", ("https://x/y",)),
        ),
        ALICE,
        SRC,
    )
    assert res.item.status == "evidenced"
    assert res.item.version == before.version + 1
    assert res.item.latest_evidence == "CCU now tasks intel routinely"
    detail = await store.item_detail(item_id)
    assert [e.text for e in detail.evidence] == ["CCU now tasks intel routinely"]
    assert detail.evidence[0].links == ("https://x/y",)
    assert detail.evidence[0].source_activity_id == "act-1"
    actions = [
        (e.action, e.old_value, e.new_value, e.actor_aad_id, e.source_activity_id) for e in detail.events
    ]
    assert ("status_changed", "open", "evidenced", "aad-alice", "act-1") in actions
    assert any(a[0] == "evidence_added" for a in actions)
    assert await store.current_seq() >= 1
    # What the change said it wrote is what was stored: the same audit rows, ids and times included.
    assert res.events and set(res.events) <= set(detail.events)
    assert {e.item_id for e in res.events} == {item_id} and all(e.at is not None for e in res.events)


async def test_stale_version_is_refused_and_changes_nothing(store: Store) -> None:
    item_id = await _item(store)
    v = (await store.get_item(item_id)).version
    await store.change_item(item_id, v, ItemChange(status="in_progress"), ALICE, SRC)
    with pytest.raises(VersionConflict) as err:
        await store.change_item(item_id, v, ItemChange(status="evidenced"), BOB, Source("teams", "c", "a2"))
    assert err.value.current.status == "in_progress"
    assert (await store.get_item(item_id)).status == "in_progress"
    assert len(await store.history(item_id)) == 1


async def test_concurrent_writers_one_wins(store: Store) -> None:
    item_id = await _item(store)
    v = (await store.get_item(item_id)).version
    results = await asyncio.gather(
        *[
            store.change_item(
                item_id,
                v,
                ItemChange(evidence=NewEvidence("update", f"note {n}")),
                ALICE,
                Source("teams", "c", f"a{n}"),
            )
            for n in range(5)
        ],
        return_exceptions=True,
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert len(ok) == 1 and len(conflicts) == 4, results
    assert len((await store.item_detail(item_id)).evidence) == 1


async def test_idempotency_key_writes_once(store: Store) -> None:
    item_id = await _item(store)
    change = ItemChange(evidence=NewEvidence("update", "once only"))
    first = await store.change_item(item_id, None, change, ALICE, SRC, idempotency_key="msteams:conv-1:act-1")
    again = await store.change_item(item_id, None, change, ALICE, SRC, idempotency_key="msteams:conv-1:act-1")
    assert not first.duplicate and again.duplicate
    assert len((await store.item_detail(item_id)).evidence) == 1


async def test_missing_item(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.change_item(999, None, ItemChange(status="open"), ALICE, SRC)
    with pytest.raises(NotFound):
        await store.history(999)


async def test_unknown_status_is_refused_before_writing(store: Store) -> None:
    item_id = await _item(store)
    with pytest.raises(ValueError):
        await store.change_item(item_id, None, ItemChange(status="banana"), ALICE, SRC)
    assert (await store.history(item_id)) == ()


async def test_refusal_is_audited(store: Store) -> None:
    item_id = await _item(store)
    await store.record_refusal(item_id, "sign_off", BOB, SRC, "only admins can sign off")
    (ev,) = await store.history(item_id)
    assert ev.action == "refused" and ev.field == "sign_off" and ev.actor_aad_id == "aad-bob"
    assert (await store.get_item(item_id)).status == "open"


async def test_snapshot_incremental(store: Store) -> None:
    item_id = await _item(store)
    full = await store.snapshot()
    assert [i.id for i in full.items] == [item_id]
    await store.change_item(item_id, None, ItemChange(status="in_progress"), ALICE, SRC)
    delta = await store.snapshot(since_seq=full.seq)
    assert not delta.full and [i.status for i in delta.items] == ["in_progress"]
    none = await store.snapshot(since_seq=delta.seq)
    assert none.items == ()


async def test_old_idempotency_keys_are_forgotten(store: Store) -> None:
    import datetime as dt

    from storage.models import ProcessedKey, utcnow

    async with store.sessions() as s, s.begin():  # a key claimed three days ago
        s.add(ProcessedKey(key="in:msteams:c:old", created_at=utcnow() - dt.timedelta(days=3)))
    assert await store.claim_key("in:msteams:c:new")
    assert not await store.claim_key("in:msteams:c:new")  # the unique key holds
    assert await store.prune_keys(utcnow() - dt.timedelta(days=2)) == 1
    assert not await store.key_used("in:msteams:c:old") and await store.key_used("in:msteams:c:new")


async def test_the_rate_limit_counts_messages_that_changed_something_since_a_time(store: Store) -> None:
    import datetime as dt

    from storage.models import utcnow

    item_id = await _item(store)
    start = utcnow()
    # One message that changed two fields counts once; a refusal and someone else's write do not count.
    two_fields = ItemChange(
        status="in_progress", evidence=NewEvidence("evidence", "CCU tasks intel routinely")
    )
    v = (await store.change_item(item_id, None, two_fields, ALICE, Source("teams", "c", "m1"))).item.version
    await store.record_refusal(item_id, "sign_off", ALICE, Source("teams", "c", "m2"), "only admins")
    await store.change_item(item_id, v, ItemChange(status="evidenced"), ALICE, Source("teams", "c", "m3"))
    await store.change_item(item_id, None, ItemChange(status="open"), BOB, Source("teams", "c", "m4"))
    assert await store.count_writes_since("aad-alice", start - dt.timedelta(seconds=1)) == 2
    assert await store.count_writes_since("aad-bob", start - dt.timedelta(seconds=1)) == 1
    assert await store.count_writes_since("aad-alice", utcnow() + dt.timedelta(seconds=1)) == 0
    assert await store.count_writes_since("aad-nobody", start - dt.timedelta(days=1)) == 0
