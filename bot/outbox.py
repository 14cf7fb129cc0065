"""Replies that reach people: effects once, replies at least once.

A turn's replies go out directly, within the turn's budget (Teams gives up on a request after
15 s and sends it again). When the turn committed a write they are first kept in the database's
outbox under the inbound activity's idempotency key, so:

- a reply the connector refuses for now (500, 429, a hang, a closed port) after a committed write
  is retried later by whichever instance is alive, never replaced by an apology;
- an instance killed after the commit leaves its reply leased in the outbox; another instance
  sends it once the lease runs out;
- a re-delivered activity whose effect committed gets the same replies again.

Replies of a turn that changed nothing are kept only when an attempt failed in a way worth
retrying (throttled beyond the budget, a hang, a server error).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes

from bot.adapter import to_wire
from bot.connector import Connector, ConnectorError, DeliveryUncertain
from bot.reference import turn_reference
from bot.turn import DEADLINE, INBOUND_KEY
from storage import effects
from storage.models import utcnow
from storage.outbox import SENT, Outbox, OutboxEntry

log = logging.getLogger(__name__)

PERMANENT = frozenset({400, 401, 403, 404, 405, 413})  # the connector will not take it, ever
MAX_ATTEMPTS = 30  # then the row is marked failed (about a day of back-off)
PRUNE_EVERY = 3600.0
KEEP = dt.timedelta(days=2)  # Teams re-sends within minutes


def _permanent(err: Exception) -> bool:
    return isinstance(err, ConnectorError) and err.status in PERMANENT


def _retry_in(err: Exception, attempts: int) -> float:
    if isinstance(err, ConnectorError) and err.retry_after:
        return err.retry_after
    return float(min(2 ** max(attempts, 1), 900))


class Replies:
    """Sends turn replies through the outbox rules above, and delivers what the outbox holds."""

    def __init__(
        self, connector: Connector, outbox: Outbox, *, budget: float = 8.0, lease: float = 30.0
    ) -> None:
        self._connector = connector
        self._outbox = outbox
        self._budget = budget
        self._lease = dt.timedelta(seconds=lease)

    # ---- in a turn ---------------------------------------------------------------------------------

    async def send(self, ctx: TurnContext, activities: list[Activity]) -> None:
        """Send a turn's replies (raises, for the apology, only when nothing was committed)."""
        act = ctx.activity
        if not activities:
            return
        direct = getattr(ctx.adapter, "connector", None) is self._connector  # not a test or console adapter
        if act.delivery_mode == DeliveryModes.expect_replies or not act.conversation or not direct:
            for a in activities:  # expectReplies: the caller collects them from the HTTP response
                await ctx.send_activity(a)
            return
        ref = turn_reference(ctx)
        wires = []
        for a in activities:
            out = TurnContext.apply_conversation_reference(a, ref)
            out.type = out.type or ActivityTypes.message
            out.input_hint = out.input_hint or "acceptingInput"
            out.id = None
            wires.append(to_wire(out))
        ctx.responded = True
        n = ctx.turn_state[INBOUND_KEY + ".n"] = ctx.turn_state.get(INBOUND_KEY + ".n", 0) + 1
        inbound = ctx.turn_state.get(INBOUND_KEY)
        key = f"reply:{inbound}" + (f"#{n}" if n > 1 else "") if inbound else f"reply:{uuid.uuid4().hex}"
        deadline = ctx.turn_state.get(DEADLINE) or asyncio.get_running_loop().time() + self._budget
        committed = effects.current()
        entry = None
        if committed:
            # Leased past this turn's own attempts, so no other instance sends it alongside.
            lease = max(self._lease, dt.timedelta(seconds=self._budget + 2))
            entry = await self._outbox.add(key, act.service_url, act.conversation.id, wires,
                                           state="sending", lease_until=utcnow() + lease)  # fmt: skip
        done, err = await self._post(act.service_url, act.conversation.id, wires, 0, deadline)
        if err is None:
            if entry is not None:
                await self._outbox.sent(entry)
            return
        if _permanent(err):
            if entry is not None:
                await self._outbox.failed(entry, done, str(err))
                log.error(
                    "reply after a committed write (%s) refused by the connector: %s",
                    "; ".join(committed),
                    err,
                )
                return
            raise err
        at = utcnow() + dt.timedelta(seconds=_retry_in(err, 1))
        if entry is None:
            entry = await self._outbox.add(key, act.service_url, act.conversation.id, wires, state="pending",
                                           next_at=at, done=done, error=str(err))  # fmt: skip
            if (
                entry is None
            ):  # the key is taken (a re-delivery's replay): keep these under a key of their own
                await self._outbox.add(f"{key}:{uuid.uuid4().hex}", act.service_url, act.conversation.id, wires,
                                       state="pending", next_at=at, done=done, error=str(err))  # fmt: skip
        else:
            await self._outbox.retry(entry, done, at, str(err))
        log.warning("reply kept in the outbox (%d of %d sent): %s; next attempt at %s",
                    done, len(wires), err, at.isoformat(timespec="seconds"))  # fmt: skip

    async def replay(self, ctx: TurnContext) -> bool:
        """A re-delivered activity: send the replies kept for it again. False if none were kept."""
        inbound = ctx.turn_state.get(INBOUND_KEY)
        entry = await self._outbox.get(f"reply:{inbound}") if inbound else None
        if entry is None:
            return False
        if entry.state != SENT:
            log.info("re-delivered activity: its replies are already in the outbox (%s)", entry.state)
            return True
        deadline = ctx.turn_state.get(DEADLINE) or asyncio.get_running_loop().time() + self._budget
        done, err = await self._post(
            entry.service_url, entry.conversation_id, list(entry.activities), 0, deadline
        )
        if err is not None and not _permanent(err):
            await self._outbox.retry(
                entry, done, utcnow() + dt.timedelta(seconds=_retry_in(err, 1)), str(err)
            )
        log.info("re-delivered activity: its %d kept replies sent again", len(entry.activities))
        return True

    async def _post(
        self, service_url: str, conversation_id: str, wires: list[dict[str, Any]], start: int, deadline: float
    ) -> tuple[int, Exception | None]:
        done = start
        for wire in wires[start:]:
            try:
                await self._connector.send(
                    service_url, conversation_id, wire, wire.get("replyToId"), deadline=deadline
                )
            except (ConnectorError, DeliveryUncertain) as err:
                return done, err
            done += 1
        return done, None

    # ---- in the background -----------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Send every due outbox row once (concurrently, each within the budget); how many were sent."""
        entries = await self._outbox.take_due(utcnow(), self._lease)
        results = await asyncio.gather(*(self._deliver(e) for e in entries), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                log.warning("outbox delivery failed: %s", r.__class__.__name__)
        return sum(1 for r in results if r is True)

    async def _deliver(self, entry: OutboxEntry) -> bool:
        deadline = asyncio.get_running_loop().time() + self._budget
        done, err = await self._post(
            entry.service_url, entry.conversation_id, list(entry.activities), entry.done, deadline
        )
        if err is None:
            await self._outbox.sent(entry)
            log.info("outbox: replies kept since %s delivered (attempt %d)",
                     entry.created_at.isoformat(timespec="seconds"), entry.attempts)  # fmt: skip
            return True
        if _permanent(err) or entry.attempts >= MAX_ATTEMPTS:
            await self._outbox.failed(entry, done, str(err))
            log.error("outbox: replies kept since %s given up after %d attempts: %s",
                      entry.created_at.isoformat(timespec="seconds"), entry.attempts, err)  # fmt: skip
            return False
        at = utcnow() + dt.timedelta(seconds=_retry_in(err, entry.attempts))
        await self._outbox.retry(entry, done, at, str(err))
        return False

    async def run(self, every: float = 1.0) -> None:
        """Deliver due rows every ``every`` seconds and prune old ones hourly (until cancelled)."""
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + PRUNE_EVERY
        while True:
            await asyncio.sleep(every)
            try:
                await self.deliver_due()
                if loop.time() >= next_prune:
                    next_prune = loop.time() + PRUNE_EVERY
                    await self._outbox.prune(utcnow() - KEEP)
            except Exception:
                log.warning("outbox pass failed; will retry", exc_info=True)
