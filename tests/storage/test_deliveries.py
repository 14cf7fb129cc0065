"""The digest's once-only ledger, on SQLite and PostgreSQL: claims, leases, fencing, retries."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from storage.deliveries import Deliveries
from storage.models import DigestDelivery, Subscription
from storage.store import Store

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
WEEK = "2026-W49"
LEASE = dt.timedelta(minutes=5)


async def _subscriptions(store: Store, n: int) -> list[int]:
    async with store.sessions() as s, s.begin():
        rows = [Subscription(conversation_id=f"19:chan-{k}@thread.tacv2", service_url="http://127.0.0.1:9/",
                             reference={}, created_at=NOW - dt.timedelta(days=30)) for k in range(n)]  # fmt: skip
        s.add_all(rows)
        await s.flush()
        return [r.id for r in rows]


async def _row(store: Store, sub_id: int, week: str = WEEK) -> DigestDelivery:
    async with store.sessions() as s:
        row = await s.scalar(
            select(DigestDelivery).where(
                DigestDelivery.subscription_id == sub_id, DigestDelivery.week == week
            )
        )
        assert row is not None
        return row


async def test_one_claim_per_subscription_per_week(store: Store) -> None:
    (sub,) = await _subscriptions(store, 1)
    ledger = Deliveries(store, lease=LEASE)
    first = await ledger.claim(sub, WEEK, "a", NOW)
    assert first is not None and first.attempt == 1
    assert await ledger.claim(sub, WEEK, "b", NOW) is None
    assert await ledger.claim(sub, WEEK, "a", NOW) is None  # not even the holder claims twice
    assert await ledger.claim(sub, "2026-W50", "b", NOW) is not None  # next week is another delivery
    assert await ledger.start(first, NOW)
    assert await ledger.mark_sent(first, NOW, "activity-1")
    row = await _row(store, sub)
    assert (row.state, row.activity_id, row.claimed_by) == ("sent", "activity-1", "a")
    assert await ledger.claim(sub, WEEK, "b", NOW + dt.timedelta(days=3)) is None  # sent is sent
    assert [d.week for d in await ledger.unsent("2026-W50")] == ["2026-W50"]
    assert await ledger.unsent(WEEK) == []


async def test_racing_claims_from_two_engines_have_one_winner(db_url: str) -> None:
    """Two processes' worth of connection pools claim the same 6 deliveries at once: one wins each."""
    stores = [await Store.open(db_url), await Store.open(db_url)]
    try:
        subs = await _subscriptions(stores[0], 6)
        ledgers = [Deliveries(s, lease=LEASE) for s in stores]
        attempts = [ledgers[k % 2].claim(sub, WEEK, f"owner-{k}", NOW) for sub in subs for k in range(4)]
        claims = [c for c in await asyncio.gather(*attempts) if c is not None]
        assert sorted(c.subscription_id for c in claims) == sorted(subs)
        assert len(await ledgers[0].for_week(WEEK)) == 6
    finally:
        for s in stores:
            await s.close()


async def test_a_lapsed_claim_is_taken_over_and_its_old_owner_is_fenced_off(store: Store) -> None:
    (sub,) = await _subscriptions(store, 1)
    ledger = Deliveries(store, lease=LEASE)
    dead = await ledger.claim(sub, WEEK, "dead-process", NOW)
    assert dead is not None
    assert (
        await ledger.claim(sub, WEEK, "restarted", NOW + LEASE - dt.timedelta(seconds=1)) is None
    )  # still leased
    live = await ledger.claim(sub, WEEK, "restarted", NOW + LEASE)
    assert live is not None and live.attempt == 2
    # The old owner wakes up: it can neither start posting nor record anything.
    assert not await ledger.start(dead, NOW + LEASE)
    assert not await ledger.mark_failed(dead, NOW + LEASE, "late")
    assert await ledger.start(live, NOW + LEASE)
    assert await ledger.mark_sent(live, NOW + LEASE, "a-2")
    row = await _row(store, sub)
    assert (row.state, row.claimed_by, row.attempts) == ("sent", "restarted", 2)


async def test_concurrent_take_overs_of_one_lapsed_claim_have_one_winner(db_url: str) -> None:
    stores = [await Store.open(db_url), await Store.open(db_url)]
    try:
        (sub,) = await _subscriptions(stores[0], 1)
        ledgers = [Deliveries(s, lease=LEASE) for s in stores]
        assert await ledgers[0].claim(sub, WEEK, "dead", NOW) is not None
        later = NOW + dt.timedelta(hours=1)
        won = [
            c
            for c in await asyncio.gather(
                *(ledgers[k % 2].claim(sub, WEEK, f"r{k}", later) for k in range(8))
            )
            if c
        ]
        assert len(won) == 1 and won[0].attempt == 2
    finally:
        for s in stores:
            await s.close()


async def test_a_post_that_may_have_gone_out_is_never_claimed_again(store: Store) -> None:
    a, b = await _subscriptions(store, 2)
    ledger = Deliveries(store, lease=LEASE)
    # a: the connector timed out. b: the process died mid-POST (left in "sending").
    ca, cb = await ledger.claim(a, WEEK, "p", NOW), await ledger.claim(b, WEEK, "p", NOW)
    assert ca and cb and await ledger.start(ca, NOW) and await ledger.start(cb, NOW)
    assert await ledger.mark_uncertain(ca, NOW, "no answer within 30s")
    assert (
        await ledger.expire_stale(WEEK, NOW + LEASE - dt.timedelta(seconds=1)) == []
    )  # may still be posting
    assert await ledger.claim(b, WEEK, "q", NOW + dt.timedelta(days=1)) is None
    assert len(await ledger.expire_stale(WEEK, NOW + LEASE)) == 1
    for sub in (a, b):
        assert await ledger.claim(sub, WEEK, "q", NOW + dt.timedelta(days=2)) is None
        assert (await _row(store, sub)).state == "uncertain"
    assert {d.state for d in await ledger.unsent(WEEK)} == {"uncertain"}
    assert await ledger.next_retry(WEEK, NOW, {a, b}) is None  # nothing left to try this week


async def test_a_refused_post_is_retried_later_a_bounded_number_of_times(store: Store) -> None:
    (sub,) = await _subscriptions(store, 1)
    wait = dt.timedelta(minutes=15)
    ledger = Deliveries(store, lease=LEASE, retry_after=wait, max_attempts=2)
    first = await ledger.claim(sub, WEEK, "p", NOW)
    assert (
        first
        and await ledger.start(first, NOW)
        and await ledger.mark_failed(first, NOW, "connector answered 503")
    )
    assert await ledger.next_retry(WEEK, NOW, {sub}) == NOW + wait
    assert await ledger.next_retry(WEEK, NOW, set()) is None  # e.g. the subscription was deactivated
    assert await ledger.claim(sub, WEEK, "p", NOW + wait - dt.timedelta(seconds=1)) is None
    second = await ledger.claim(sub, WEEK, "p", NOW + wait)
    assert second is not None and second.attempt == 2
    assert await ledger.mark_failed(second, NOW + wait, "connector answered 503")  # failed before posting
    assert await ledger.claim(sub, WEEK, "p", NOW + dt.timedelta(days=1)) is None  # attempts used up
    assert await ledger.next_retry(WEEK, NOW + wait, {sub}) is None
    row = await _row(store, sub)
    assert (row.state, row.attempts, row.error) == ("failed", 2, "connector answered 503")
