"""Posting owner reminders exactly once per person per period, across instances and CLI runs.

Each (person, period) is claimed in the delivery ledger (``storage.deliveries`` on the
``reminder_delivery`` table) before the 1:1 post, as the digest does per (conversation, week): the
same lease, retry and "uncertain is never re-sent" rules. People with nothing due are not claimed
(nothing to say is not a delivery), so an item that falls due later in the period still can be.
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
from dataclasses import dataclass

from dialogs.digest.sender import DigestConfig, RunReport
from dialogs.outbound import Poster, PostRefused, PostUncertain
from dialogs.reminders.card import reminder_items, reminder_reply
from dialogs.reminders.schedule import ReminderSchedule
from dialogs.types import Reply
from storage.deliveries import FAILED, SENT, SETTLED, UNCERTAIN, Claim, Deliveries
from storage.models import ReminderDelivery
from storage.people import People, PersonView
from storage.readmodel import ReadModel
from storage.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Planned:
    """What one person would be sent this period (``reply`` None: nothing due)."""

    person: PersonView
    reply: Reply | None


class ReminderSender:
    """Claims, posts and records one period's reminders for everyone who wants them."""

    def __init__(self, *, store: Store, people: People, model: ReadModel, poster: Poster, clock: Clock,
                 schedule: ReminderSchedule, default: bool, config: DigestConfig | None = None,
                 owner: str | None = None) -> None:  # fmt: skip
        self._config = config = config or DigestConfig()
        self._deliveries = Deliveries(store, lease=config.lease, retry_after=config.retry_after,
                                      max_attempts=config.max_attempts, table=ReminderDelivery)  # fmt: skip
        self._people, self._model, self._poster, self._clock = people, model, poster, clock
        self._schedule, self._default = schedule, default
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]

    async def plan(self, *, nudge: bool, opted_before: dt.datetime | None = None) -> list[Planned]:
        """Everyone who wants reminders and can be reached, with what they would be sent today
        (only those whose choice was made by ``opted_before``, when given)."""
        today = self._clock().astimezone(self._schedule.tz).date()
        days = self._schedule.days
        out = []
        for p in await self._people.all():
            late = (
                opted_before is not None
                and p.remind_changed_at is not None
                and p.remind_changed_at > opted_before
            )
            if p.reachable and p.wants(self._default) and not late:
                items = reminder_items(p.aad_id, p.name, self._model, today, days, nudge=nudge)
                out.append(Planned(p, reminder_reply(p.name, items, self._model, today, days, nudge=nudge)))
        return out

    async def run(
        self, period: str, *, nudge: bool = False, opted_before: dt.datetime | None = None
    ) -> RunReport:
        """Send ``period``'s reminders (monthly "2026-12", or a day's nudges "2026-12-02") once each.
        ``opted_before`` (the slot, for scheduled runs): someone who asks mid-month waits for the next."""
        report = RunReport(period)
        await self._deliveries.expire_stale(period, self._clock())
        planned = [p for p in await self.plan(nudge=nudge, opted_before=opted_before) if p.reply is not None]
        random.Random().shuffle(planned)  # instances running together share the work
        ledger = {d.subscription_id: d for d in await self._deliveries.for_week(period)}
        for plan in planned:
            pid = plan.person.id
            if (row := ledger.get(pid)) is not None and row.state in SETTLED:
                report.done_before.append(pid)
                continue
            claim = await self._deliveries.claim(pid, period, self.owner, self._clock())
            if claim is None:
                report.pending.append(pid)
                continue
            state = await self._deliver(plan, claim)
            {SENT: report.sent, FAILED: report.failed, UNCERTAIN: report.uncertain}.get(
                state, report.pending
            ).append(pid)
        report.retry_at = await self._deliveries.next_retry(
            period, self._clock(), {p.person.id for p in planned}
        )
        log.info("reminders %s (people %d, owner %s)", report.render().replace("digest", "reminders", 1),
                 len(planned), self.owner)  # fmt: skip
        return report

    async def _deliver(self, plan: Planned, claim: Claim) -> str:
        p = plan.person
        if (
            not await self._deliveries.start(claim, self._clock())
            or plan.reply is None
            or p.reference is None
        ):
            return "lost"
        try:
            activity_id = await asyncio.wait_for(
                self._poster.post(p.reference, service_url=p.service_url or "", conversation_id=p.conversation_id or "",
                                  tenant_id=p.tenant_id, channel_id=p.channel_id, reply=plan.reply),
                self._config.send_timeout,
            )  # fmt: skip
        except (TimeoutError, PostUncertain) as err:
            await self._deliveries.mark_uncertain(claim, self._clock(), str(err) or "no answer in time")
            log.warning(
                "reminder to person %d may or may not have arrived: recorded uncertain, not re-sent", p.id
            )
            return UNCERTAIN
        except PostRefused as err:
            await self._deliveries.mark_failed(claim, self._clock(), str(err))
            log.warning("reminder to person %d refused: connector answered %s", p.id, err.status)
            return FAILED
        except Exception as err:  # a bad stored reference, say: nothing was posted
            log.exception("reminder to person %d failed before posting", p.id)
            await self._deliveries.mark_failed(claim, self._clock(), f"{err.__class__.__name__}: {err}")
            return FAILED
        await self._deliveries.mark_sent(claim, self._clock(), activity_id)
        log.info("reminder %s sent to person %d activity=%s", claim.week, p.id, activity_id)
        return SENT


async def run_reminders(sender: ReminderSender, schedule: ReminderSchedule, clock: Clock, *,
                        sleep: Sleep = asyncio.sleep, max_sleep: float = 300.0) -> None:  # fmt: skip
    """Monthly reminders and daily nudges, each slot once (the ledger makes a repeat a no-op), until cancelled."""
    done: dict[str, str] = {}
    while True:
        now = clock()
        for kind, slot, key in (("monthly", schedule.monthly(now), schedule.month_key),
                                ("nudge", schedule.daily(now), schedule.day_key)):  # fmt: skip
            period = key(slot)
            if done.get(kind) != period:
                try:
                    # A restart mid-month must not send this month's reminder to who asked after its day.
                    await sender.run(
                        period, nudge=kind == "nudge", opted_before=slot if kind == "monthly" else None
                    )
                    done[kind] = period
                except Exception:
                    log.exception("reminders for %s failed; will try again", period)
        now = clock()
        wake = min(schedule.next_monthly(now), schedule.next_daily(now))
        await sleep(min(max((wake - now).total_seconds(), 1.0), max_sleep))
