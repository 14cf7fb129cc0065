"""The digest's once-only ledger: one ``DigestDelivery`` row per (subscription, ISO week).

A row moves ``claimed`` → ``sending`` → ``sent`` | ``failed`` | ``uncertain``. The unique key
makes the claim: whoever inserts the row owns the delivery, on SQLite and PostgreSQL alike.

- ``claimed`` means nothing has been posted yet. A claim older than the lease belongs to a process
  that died (or stalled) before posting, so another run may take it over.
- ``sending`` is written just before the POST. A row left there past the lease may have been
  delivered, so it becomes ``uncertain``: never re-sent automatically (a duplicate digest in a
  channel is worse than a missing one, and a person can check the channel).
- ``failed`` means the connector refused it (nothing was posted): retried after ``retry_after``,
  at most ``max_attempts`` times in the week.

Every transition is a compare-and-set on (owner, attempt, state), so a run whose lease lapsed and
was taken over cannot post or record anything afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.exc import IntegrityError

from storage.models import DigestDelivery, ReminderDelivery
from storage.store import Store
from storage.views import as_utc

CLAIMED, SENDING, SENT, FAILED, UNCERTAIN, SKIPPED = (
    "claimed",
    "sending",
    "sent",
    "failed",
    "uncertain",
    "skipped",
)
# Nothing more happens to these this week.
SETTLED = frozenset({SENT, UNCERTAIN, SKIPPED})


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One ledger row, read-only."""

    id: int
    subscription_id: int
    week: str
    state: str
    claimed_by: str | None
    claimed_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    activity_id: str | None
    error: str | None

    @classmethod
    def of(cls, d: DigestDelivery | ReminderDelivery) -> DeliveryView:
        return cls(
            d.id, d.subscription_id, d.week, d.state, d.claimed_by, as_utc(d.claimed_at), as_utc(d.finished_at),
            int(d.attempts or 0), d.activity_id, d.error,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to post one subscription's digest for one week; ``attempt`` fences stale owners."""

    delivery_id: int
    subscription_id: int
    week: str
    owner: str
    attempt: int


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite keeps the wall-clock fields only: store everything in UTC so comparisons hold.
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return value.astimezone(dt.UTC)


class Deliveries:
    """Claim, record and list digest deliveries."""

    def __init__(
        self,
        store: Store,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=10),
        retry_after: dt.timedelta = dt.timedelta(minutes=15),
        max_attempts: int = 3,
        table: type[DigestDelivery] | type[ReminderDelivery] = DigestDelivery,
    ) -> None:
        self._t: Any = table  # the digest's ledger, or the owner reminders' (issue 15): same columns
        self._sessions = store.sessions
        self._reads = store.read_sessions
        self.lease = lease
        self.retry_after = retry_after
        self.max_attempts = max_attempts

    async def claim(self, subscription_id: int, week: str, owner: str, now: dt.datetime) -> Claim | None:
        """Take this week's delivery for the subscription; None if it is done or someone else holds it."""
        now = _utc(now)
        try:
            async with self._sessions() as s, s.begin():
                row = self._t(subscription_id=subscription_id, week=week, state=CLAIMED, claimed_by=owner,
                                     claimed_at=now, attempts=1)  # fmt: skip
                s.add(row)
                await s.flush()
                return Claim(row.id, subscription_id, week, owner, 1)
        except IntegrityError:
            pass  # the row exists: served, in hand elsewhere, or left behind by a run that stopped
        return await self._take_over(subscription_id, week, owner, now)

    async def _take_over(self, subscription_id: int, week: str, owner: str, now: dt.datetime) -> Claim | None:
        async with self._sessions() as s, s.begin():
            row = await s.scalar(
                select(self._t).where(self._t.subscription_id == subscription_id, self._t.week == week)
            )
            if row is None or not self._recoverable(DeliveryView.of(row), now):
                return None
            attempt = int(row.attempts or 0) + 1
            res = await s.execute(
                update(self._t)
                .where(
                    self._t.id == row.id,
                    self._t.state == row.state,
                    self._t.attempts == row.attempts,
                )
                .values(state=CLAIMED, claimed_by=owner, claimed_at=now, attempts=attempt, finished_at=None)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(res) != 1:
                return None  # another run took it over between our read and our write
            return Claim(row.id, subscription_id, week, owner, attempt)

    def _recoverable(self, d: DeliveryView, now: dt.datetime) -> bool:
        if d.state == CLAIMED:
            return d.claimed_at is None or d.claimed_at <= now - self.lease
        if d.state == FAILED:
            since = d.finished_at or d.claimed_at
            return d.attempts < self.max_attempts and (since is None or since <= now - self.retry_after)
        return False

    async def start(self, claim: Claim, now: dt.datetime) -> bool:
        """Just before the POST: ``claimed`` → ``sending``. False if the claim was taken over."""
        return await self._move(claim, (CLAIMED,), SENDING, claimed_at=_utc(now))

    async def mark_sent(self, claim: Claim, now: dt.datetime, activity_id: str | None) -> bool:
        """The connector accepted it; ``activity_id`` is the id Teams gave the post."""
        return await self._move(
            claim, (SENDING,), SENT, finished_at=_utc(now), activity_id=activity_id, error=None
        )

    async def mark_failed(self, claim: Claim, now: dt.datetime, error: str) -> bool:
        """Nothing was posted (the connector refused, or we never got to post)."""
        return await self._move(claim, (CLAIMED, SENDING), FAILED, finished_at=_utc(now), error=error[:2000])

    async def mark_uncertain(self, claim: Claim, now: dt.datetime, error: str) -> bool:
        """The POST may have been delivered: never re-sent automatically."""
        return await self._move(claim, (SENDING,), UNCERTAIN, finished_at=_utc(now), error=error[:2000])

    async def _move(
        self, claim: Claim, from_states: tuple[str, ...], to_state: str, **values: object
    ) -> bool:
        async with self._sessions() as s, s.begin():
            res = await s.execute(
                update(self._t)
                .where(
                    self._t.id == claim.delivery_id,
                    self._t.claimed_by == claim.owner,
                    self._t.attempts == claim.attempt,
                    self._t.state.in_(from_states),
                )
                .values(state=to_state, **values)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(res) == 1

    async def expire_stale(self, week: str, now: dt.datetime) -> list[DeliveryView]:
        """Rows left in ``sending`` past the lease (the process stopped mid-POST) become ``uncertain``;
        returns the rows that did, as they are now (for the caller to report each)."""
        now = _utc(now)
        stale = [d for d in await self.for_week(week)
                 if d.state == SENDING and d.claimed_at is not None and d.claimed_at <= now - self.lease]  # fmt: skip
        changed = []
        for d in stale:
            async with self._sessions() as s, s.begin():
                res = await s.execute(
                    update(self._t)
                    .where(self._t.id == d.id, self._t.state == SENDING, self._t.attempts == d.attempts)
                    .values(
                        state=UNCERTAIN,
                        finished_at=now,
                        error="the process stopped while posting: it may have been delivered",
                    )
                    .execution_options(synchronize_session=False)
                )
            if _rowcount(res) == 1:
                changed.append(DeliveryView(d.id, d.subscription_id, d.week, UNCERTAIN, d.claimed_by, d.claimed_at,
                                            now, d.attempts, d.activity_id, "the process stopped while posting"))  # fmt: skip
        return changed

    async def release(self, week: str, subscription_ids: Collection[int] | None = None) -> list[int]:
        """An operator checked the channels: ``uncertain`` and ``failed`` rows of ``week`` (of these
        subscriptions, or all) may be sent again. Returns the subscriptions released."""
        released = []
        for d in await self.for_week(week):
            if d.state not in (UNCERTAIN, FAILED) or (
                subscription_ids is not None and d.subscription_id not in subscription_ids
            ):
                continue
            async with self._sessions() as s, s.begin():
                res = await s.execute(
                    update(self._t)
                    .where(self._t.id == d.id, self._t.state == d.state)
                    .values(
                        state=FAILED,
                        attempts=0,
                        error=f"released for a resend by the operator (was {d.state})",
                    )
                    .execution_options(synchronize_session=False)
                )
            if _rowcount(res) == 1:
                released.append(d.subscription_id)
        return released

    async def for_week(self, week: str) -> list[DeliveryView]:
        """Every row of ``week``, oldest first."""
        async with self._reads() as s:
            rows = (await s.scalars(select(self._t).where(self._t.week == week).order_by(self._t.id))).all()
            return [DeliveryView.of(r) for r in rows]

    async def unsent(self, week: str) -> list[DeliveryView]:
        """This week's rows not (known to be) delivered: claimed, sending, failed or uncertain."""
        return [d for d in await self.for_week(week) if d.state not in (SENT, SKIPPED)]

    async def next_retry(
        self, week: str, now: dt.datetime, subscription_ids: Collection[int]
    ) -> dt.datetime | None:
        """When a claim held elsewhere lapses or a failure may be retried, for these subscriptions."""
        now = _utc(now)
        times: list[dt.datetime] = []
        for d in await self.for_week(week):
            if d.subscription_id not in subscription_ids:
                continue
            if d.state == CLAIMED and d.claimed_at is not None:
                times.append(d.claimed_at + self.lease)
            elif d.state == FAILED and d.attempts < self.max_attempts:
                times.append((d.finished_at or d.claimed_at or now) + self.retry_after)
        return min(times) if times else None


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (execute() is typed as returning a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)
