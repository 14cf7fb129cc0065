"""The weekly digest: when it is due, and posting it to every subscribed conversation exactly once.

``scheduler_task`` runs for the app's lifetime (``tracker serve``); ``digest_command`` is
``tracker digest preview|send``. Both go through :class:`DigestSender`, which claims each
(subscription, ISO week) in the ledger (``storage.deliveries``) before posting, so any number of
instances and CLI runs sharing a database post one digest per conversation per week.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationAccount, ConversationReference

from bot.connector import ConnectorError, DeliveryUncertain
from dialogs.digest import build_digest
from dialogs.types import Outcome
from storage.deliveries import FAILED, SENT, SETTLED, UNCERTAIN, Claim, Deliveries
from storage.readmodel import ReadModel
from storage.store import Store
from storage.subscriptions import Subscriptions, SubscriptionView

if TYPE_CHECKING:
    from bot.adapter import TrackerAdapter
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], dt.datetime]
EVENTS_LIMIT = 50_000  # a week of audit events; bulk imports of thousands of items stay well under
FALLBACK_CHARS = 4000


# ---- when ---------------------------------------------------------------------------------------


def _slot(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    # A wall time that does not exist (spring forward) lands just after the gap; one that happens
    # twice (fall back) is taken the first time (fold=0): either way exactly one instant a week.
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def next_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The first scheduled instant strictly after ``now_utc`` (in UTC): ``weekday`` at local ``time``."""
    today = now_utc.astimezone(tz).date()
    for days in range(15):  # bounded: a match always comes within 8 days
        day = today + dt.timedelta(days=days)
        if day.weekday() == weekday and (slot := _slot(day, time, tz)) > now_utc:
            return slot
    raise ValueError(f"no slot for weekday {weekday}")


def previous_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The latest scheduled instant at or before ``now_utc`` (in UTC)."""
    today = now_utc.astimezone(tz).date()
    for days in range(15):
        day = today - dt.timedelta(days=days)
        if day.weekday() == weekday and (slot := _slot(day, time, tz)) <= now_utc:
            return slot
    raise ValueError(f"no slot for weekday {weekday}")


def this_weeks_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The scheduled instant in the current ISO week (local time), passed or not."""
    today = now_utc.astimezone(tz).date()
    return _slot(today + dt.timedelta(days=weekday - today.weekday()), time, tz)


def week_key(slot: dt.datetime, tz: dt.tzinfo) -> str:
    """The ledger's week: the ISO week of the slot's local date, e.g. ``2026-W48``."""
    year, week, _ = slot.astimezone(tz).date().isocalendar()
    return f"{year}-W{week:02d}"


# ---- what ---------------------------------------------------------------------------------------


class DigestSource:
    """Gathers what the digest needs (read-model items and reports, a week of audit events) and builds it."""

    def __init__(self, model: ReadModel, store: Store, tz: dt.tzinfo) -> None:
        self._model = model
        self._store = store
        self._tz = tz

    async def build(self, now: dt.datetime) -> tuple[dict[str, Any], str]:
        """The digest card and its text, as of ``now``."""
        events = await self._store.events_since(now - dt.timedelta(days=7), limit=EVENTS_LIMIT)
        # Copy on the loop (the model changes under us otherwise), build in a thread: 10,000 items
        # take tens of milliseconds that other turns should not wait for.
        items, reports = list(self._model.items.values()), dict(self._model.reports)
        return await asyncio.to_thread(build_digest, items, reports, events, now, self._tz)

    async def outcome(self, now: dt.datetime) -> Outcome:
        """The digest as a reply ("send the digest now")."""
        card, text = await self.build(now)
        return Outcome.say(text, card)


def digest_message(card: dict[str, Any], text: str) -> Activity:
    """The proactive message: the card, its text fallback, and the headline as the notification."""
    msg = MessageFactory.attachment(
        CardFactory.adaptive_card({**card, "fallbackText": text[:FALLBACK_CHARS]})
    )
    lines = text.splitlines()
    msg.summary = (lines[1] if len(lines) > 1 else text)[:200] or None
    return msg


# ---- how ----------------------------------------------------------------------------------------


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
        subscriptions: Subscriptions,
        deliveries: Deliveries,
        source: DigestSource,
        adapter: TrackerAdapter,
        app_id: str,
        clock: Clock,
        config: DigestConfig,
        owner: str | None = None,
    ) -> None:
        self._subs = subscriptions
        self._deliveries = deliveries
        self._source = source
        self._adapter = adapter
        self._app_id = app_id
        self._clock = clock
        self._config = config
        # Who holds a claim: host, process and run, so a lapsed claim is never mistaken for ours.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]

    async def run(self, week: str, *, created_before: dt.datetime | None = None) -> RunReport:
        """Send ``week``'s digest to every active subscription (created by ``created_before``) not yet served."""
        report = RunReport(week)
        now = self._clock()
        await self._deliveries.expire_stale(week, now)
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
        limit = asyncio.Semaphore(self._config.concurrency)
        results = await asyncio.gather(*(self._deliver(limit, sub, claim, card, text) for sub, claim in claims),
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
        self, limit: asyncio.Semaphore, sub: SubscriptionView, claim: Claim, card: dict[str, Any], text: str
    ) -> str:
        """Post to one conversation and record the outcome; returns the state recorded."""
        async with limit:
            if not await self._deliveries.start(claim, self._clock()):
                log.info("digest to subscription %d taken over by another run: not sent here", sub.id)
                return "lost"
            try:
                activity_id = await asyncio.wait_for(self._post(sub, card, text), self._config.send_timeout)
            except (TimeoutError, DeliveryUncertain) as err:
                why = (
                    f"no answer within {self._config.send_timeout:g}s"
                    if isinstance(err, TimeoutError)
                    else str(err)
                )
                log.warning("digest to %s may or may not have arrived (%s): recorded uncertain, not re-sent",
                            sub.conversation_id, why)  # fmt: skip
                await self._deliveries.mark_uncertain(claim, self._clock(), why)
                return UNCERTAIN
            except ConnectorError as err:
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

    async def _failed(self, sub: SubscriptionView, claim: Claim, err: ConnectorError) -> None:
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

    async def _post(self, sub: SubscriptionView, card: dict[str, Any], text: str) -> str:
        reference = ConversationReference().deserialize(sub.reference)
        # The subscription row has the freshest address and the channel (never a thread) id.
        reference.service_url = sub.service_url
        reference.channel_id = reference.channel_id or sub.channel_id
        conversation = reference.conversation or ConversationAccount()
        conversation.id = sub.conversation_id
        conversation.tenant_id = conversation.tenant_id or sub.tenant_id
        reference.conversation = conversation
        ids: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            # A continuation is not a message: without an id the digest starts a new post rather
            # than replying to an activity that does not exist.
            turn_context.activity.id = None
            response = await turn_context.send_activity(digest_message(card, text))
            ids.append(response.id if response else "")

        await self._adapter.continue_conversation(reference, post, bot_app_id=self._app_id)
        return ids[0] if ids else ""


def sender_for(svc: Services, config: DigestConfig) -> DigestSender:
    """A sender wired from the app's services."""
    deliveries = Deliveries(
        svc.store, lease=config.lease, retry_after=config.retry_after, max_attempts=config.max_attempts
    )
    return DigestSender(
        subscriptions=svc.subscriptions, deliveries=deliveries, source=DigestSource(svc.model, svc.store, svc.settings.tz),
        adapter=svc.adapter, app_id=svc.settings.app_id, clock=svc.clock, config=config,
    )  # fmt: skip


# ---- the loop and the command ---------------------------------------------------------------------


async def scheduler_task(
    svc: Services, *, sleep: Sleep = asyncio.sleep, config: DigestConfig | None = None
) -> None:
    """Post the digest at each scheduled time, for the app's lifetime.

    On start-up it runs the latest slot at once: a digest missed while the bot was down goes out
    (the ledger makes that a no-op when it was sent). Claims held by a run that stopped are picked
    up when their lease lapses, and refused sends are retried a bounded number of times.
    """
    config = config or DigestConfig()
    sender = sender_for(svc, config)
    s = svc.settings
    done: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    log.info(
        "digest scheduler on: %s, next %s",
        s.schedule_label,
        next_run(svc.clock(), s.digest_weekday, s.digest_time, s.tz),
    )
    while True:
        now = svc.clock()
        slot = previous_run(now, s.digest_weekday, s.digest_time, s.tz)
        if slot != done or (retry_at is not None and now >= retry_at):
            retry_at = await _run_slot(sender, slot, s.tz, svc.clock, config)
            done = slot
        now = svc.clock()
        wake = next_run(now, s.digest_weekday, s.digest_time, s.tz)
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


async def digest_command(
    settings: Settings, action: str, now: bool, *, clock: Clock | None = None, out: TextIO | None = None,
    config: DigestConfig | None = None,
) -> int:  # fmt: skip
    """``tracker digest preview`` prints the text digest; ``send [--now]`` sends this week's to those not yet served."""
    from bot.services import services, utc_clock

    out = out or sys.stdout
    async with services(settings, clock=clock or utc_clock, typing_delay=0) as svc:
        current = svc.clock()
        if action == "preview":
            _, text = await DigestSource(svc.model, svc.store, settings.tz).build(current)
            print(text, file=out)
            return 0
        if action != "send":
            print(f"unknown digest action {action!r}: use preview or send", file=sys.stderr)
            return 2
        slot = this_weeks_run(current, settings.digest_weekday, settings.digest_time, settings.tz)
        if not now and current < slot:
            local = slot.astimezone(settings.tz)
            print(f"This week's digest is due {local:%A %-d %B at %H:%M} ({settings.timezone}): nothing sent. "
                  "Use --now to send it now.", file=out)  # fmt: skip
            return 0
        # An operator asking again may retry a refused send at once; uncertain ones stay unsent.
        config = config or DigestConfig(retry_after=dt.timedelta(0))
        report = await sender_for(svc, config).run(week_key(slot, settings.tz))
        print(report.render(), file=out)
        for label, ids in (("failed", report.failed), ("uncertain (check the channel)", report.uncertain)):
            if ids:
                print(f"{label}: subscriptions {', '.join(map(str, sorted(ids)))}", file=out)
        return 1 if report.failed or report.uncertain else 0
