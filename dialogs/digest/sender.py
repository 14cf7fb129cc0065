"""Posting the weekly digest to every subscribed conversation exactly once, and when.

:class:`DigestSender` claims each (subscription, ISO week) in the delivery ledger
(``storage.deliveries``) before posting, so any number of instances and CLI runs sharing a
database post one digest per conversation per week. :func:`run_schedule` runs it at each
scheduled time for the app's lifetime. Posting itself is the edge's (a :class:`Poster`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dialogs.digest.schedule import next_run, previous_run, week_key
from dialogs.digest.source import DigestSource
from dialogs.outbound import Poster, PostRefused, PostUncertain
from dialogs.types import Reply
from storage.deliveries import FAILED, SENT, SETTLED, UNCERTAIN, Claim, Deliveries
from storage.store import Store
from storage.subscriptions import Subscriptions, SubscriptionView

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], dt.datetime]
FALLBACK_CHARS = 4000


def digest_reply(card: dict[str, Any], text: str) -> Reply:
    """The proactive message: the card, its text fallback, and the headline as the notification."""
    lines = text.splitlines()
    return Reply(text[:FALLBACK_CHARS], card, summary=(lines[1] if len(lines) > 1 else text)[:200] or None)


@dataclass(frozen=True)
class Schedule:
    """When the digest goes out: ``weekday`` (0 = Monday) at local ``time`` in ``tz``."""

    weekday: int
    time: dt.time
    tz: dt.tzinfo
    label: str = ""


@dataclass(frozen=True)
class DigestConfig:
    """Sending limits. The lease must outlast a send, or another run could declare a send that is
    still in flight uncertain."""

    concurrency: int = 8
    # Covers the connector's own bounded retries (4 tries, Retry-After capped at 30 s): past it, the
    # send is recorded uncertain, since a request may have been in flight.
    send_timeout: float = 120.0
    lease: dt.timedelta = dt.timedelta(minutes=10)
    retry_after: dt.timedelta = dt.timedelta(minutes=15)
    max_attempts: int = 3
    max_sleep: float = 300.0  # wake at least this often, so a clock that jumped (suspend, NTP) is noticed
    min_sleep: float = 1.0

    def __post_init__(self) -> None:
        if self.lease.total_seconds() <= self.send_timeout:
            raise ValueError("the lease must be longer than the send timeout")
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")


@dataclass
class RunReport:
    """What one run did, by subscription id."""

    week: str
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)
    done_before: list[int] = field(default_factory=list)  # sent (or uncertain) by an earlier run
    pending: list[int] = field(default_factory=list)  # held by another run, or waiting for a retry
    retry_at: dt.datetime | None = None

    def render(self) -> str:
        parts = [f"sent {len(self.sent)}", f"failed {len(self.failed)}", f"uncertain {len(self.uncertain)}",
                 f"already done {len(self.done_before)}", f"pending {len(self.pending)}"]  # fmt: skip
        return f"digest {self.week}: " + ", ".join(parts)


class DigestSender:
    """Claims, posts and records one week's digest for every subscription not yet served."""

    def __init__(
        self,
        *,
        store: Store,
        subscriptions: Subscriptions,
        source: DigestSource,
        poster: Poster,
        clock: Clock,
        config: DigestConfig,
        owner: str | None = None,
        personalise: Callable[[SubscriptionView, Reply], Awaitable[Reply]] | None = None,
    ) -> None:
        self._personalise = personalise  # issue 15: each reader's own section, by refresh
        self._subs = subscriptions
        self._deliveries = Deliveries(
            store, lease=config.lease, retry_after=config.retry_after, max_attempts=config.max_attempts
        )
        self._source = source
        self._poster = poster
        self._clock = clock
        self._config = config
        # Who holds a claim: host, process and run, so a lapsed claim is never mistaken for ours.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]

    async def run(self, week: str, *, created_before: dt.datetime | None = None) -> RunReport:
        """Send ``week``'s digest to every active subscription (created by ``created_before``) not yet served."""
        report = RunReport(week)
        now = self._clock()
        for d in await self._deliveries.expire_stale(week, now):
            log.warning("digest %s to subscription %d left 'sending' past the %ds lease (owner %s): now uncertain, "
                        "not re-sent; check the channel, then 'tracker digest resend --week %s'",
                        week, d.subscription_id, int(self._config.lease.total_seconds()), d.claimed_by, week)  # fmt: skip
        subs = [s for s in await self._subs.active()
                if created_before is None or s.created_at is None or s.created_at <= created_before]  # fmt: skip
        # A random order: instances running together share the work instead of trailing each other.
        random.Random().shuffle(subs)
        ledger = {d.subscription_id: d for d in await self._deliveries.for_week(week)}
        claims: list[tuple[SubscriptionView, Claim]] = []
        for sub in subs:
            if (row := ledger.get(sub.id)) is not None and row.state in SETTLED:
                report.done_before.append(sub.id)
            elif (claim := await self._deliveries.claim(sub.id, week, self.owner, now)) is not None:
                claims.append((sub, claim))
            else:
                report.pending.append(sub.id)
        if claims:
            await self._send_all(claims, report)
        report.retry_at = await self._deliveries.next_retry(week, self._clock(), {s.id for s in subs})
        log.info("%s (subscriptions %d, owner %s)", report.render(), len(subs), self.owner)
        return report

    async def _send_all(self, claims: list[tuple[SubscriptionView, Claim]], report: RunReport) -> None:
        try:
            card, text = await self._source.build(self._clock())
        except Exception as err:
            log.exception("digest could not be built: nothing sent")
            for sub, claim in claims:
                await self._deliveries.mark_failed(
                    claim, self._clock(), f"digest not built: {err.__class__.__name__}"
                )
                report.failed.append(sub.id)
            return
        reply = digest_reply(card, text)
        limit = asyncio.Semaphore(self._config.concurrency)
        results = await asyncio.gather(*(self._deliver(limit, sub, claim, reply) for sub, claim in claims),
                                       return_exceptions=True)  # fmt: skip
        for (sub, _), result in zip(claims, results, strict=True):
            if isinstance(result, BaseException):
                log.error("digest to subscription %d: unexpected %r", sub.id, result)
                report.failed.append(sub.id)
            else:
                {SENT: report.sent, FAILED: report.failed, UNCERTAIN: report.uncertain}.get(
                    result, report.pending
                ).append(sub.id)

    async def _deliver(
        self, limit: asyncio.Semaphore, sub: SubscriptionView, claim: Claim, reply: Reply
    ) -> str:
        """Post to one conversation and record the outcome; returns the state recorded."""
        async with limit:
            if not await self._deliveries.start(claim, self._clock()):
                log.info("digest to subscription %d taken over by another run: not sent here", sub.id)
                return "lost"
            try:
                if self._personalise is not None:
                    reply = await self._personalise(sub, reply)
                activity_id = await asyncio.wait_for(self._post(sub, reply), self._config.send_timeout)
            except (TimeoutError, PostUncertain) as err:
                why = (
                    f"no answer within {self._config.send_timeout:g}s"
                    if isinstance(err, TimeoutError)
                    else str(err)
                )
                log.warning("digest to %s may or may not have arrived (%s): recorded uncertain, not re-sent",
                            sub.conversation_id, why)  # fmt: skip
                await self._deliveries.mark_uncertain(claim, self._clock(), why)
                return UNCERTAIN
            except PostRefused as err:
                await self._failed(sub, claim, err)
                return FAILED
            except Exception as err:  # a bad stored reference, say: nothing was posted
                log.exception("digest to %s failed before posting", sub.conversation_id)
                await self._deliveries.mark_failed(claim, self._clock(), f"{err.__class__.__name__}: {err}")
                return FAILED
            if not await self._deliveries.mark_sent(claim, self._clock(), activity_id):
                log.warning(
                    "digest to %s was sent but the ledger had moved on (lease too short?)",
                    sub.conversation_id,
                )
            log.info("digest %s sent to %s activity=%s", claim.week, sub.conversation_id, activity_id)
            return SENT

    async def _failed(self, sub: SubscriptionView, claim: Claim, err: PostRefused) -> None:
        if err.status == 403:
            reason = "Teams answered 403: the bot was removed from this conversation or blocked"
            await self._subs.deactivate(sub.conversation_id, reason)
            log.warning(
                "digest subscription %d deactivated: %s (conversation %s)",
                sub.id,
                reason,
                sub.conversation_id,
            )
        else:
            log.warning("digest to %s failed: connector answered %s", sub.conversation_id, err.status)
        await self._deliveries.mark_failed(claim, self._clock(), str(err))

    async def _post(self, sub: SubscriptionView, reply: Reply) -> str:
        # The subscription row has the freshest address and the channel (never a thread) id.
        return await self._poster.post(
            sub.reference, service_url=sub.service_url, conversation_id=sub.conversation_id,
            tenant_id=sub.tenant_id, channel_id=sub.channel_id, reply=reply,
        )  # fmt: skip


async def run_schedule(
    sender: DigestSender, schedule: Schedule, clock: Clock, *, sleep: Sleep = asyncio.sleep,
    config: DigestConfig | None = None,
) -> None:  # fmt: skip
    """Post the digest at each scheduled time, until cancelled.

    On start-up it runs the latest slot at once: a digest missed while the bot was down goes out
    (the ledger makes that a no-op when it was sent). Claims held by a run that stopped are picked
    up when their lease lapses, and refused sends are retried a bounded number of times.
    """
    config = config or DigestConfig()
    s = schedule
    done: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    log.info("digest scheduler on: %s, next %s", s.label, next_run(clock(), s.weekday, s.time, s.tz))
    while True:
        now = clock()
        slot = previous_run(now, s.weekday, s.time, s.tz)
        if slot != done or (retry_at is not None and now >= retry_at):
            retry_at = await _run_slot(sender, slot, s.tz, clock, config)
            done = slot
        now = clock()
        wake = next_run(now, s.weekday, s.time, s.tz)
        if retry_at is not None:
            wake = min(wake, retry_at)
        await sleep(min(max((wake - now).total_seconds(), config.min_sleep), config.max_sleep))


async def _run_slot(
    sender: DigestSender, slot: dt.datetime, tz: dt.tzinfo, clock: Clock, config: DigestConfig
) -> dt.datetime | None:
    """One run for ``slot``; returns when to look again this week (None: nothing left to do)."""
    try:
        # Only conversations subscribed by the slot: a channel that joined mid-week waits for the
        # next scheduled digest instead of getting one the next time the bot restarts.
        report = await sender.run(week_key(slot, tz), created_before=slot)
    except Exception:
        log.exception("digest run for %s failed; will try again", slot.isoformat())
        return clock() + config.retry_after
    return report.retry_at
