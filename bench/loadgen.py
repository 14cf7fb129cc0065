"""Closed-loop load generator for Bot Framework bots.

``concurrency`` workers each loop: build a realistic Teams message activity with its own
conversation id, register with the :class:`~bench.mock_connector.MockConnector`, POST it to the
target's ``/api/messages``, wait for the HTTP answer and for the reply to reach the connector, and
go again.  Closed loop means offered load adapts to the target: throughput is what the target
sustains at that concurrency, and latency is not inflated by an open-loop queue.

A phase stops when it has *issued* ``max_requests`` or ``max_seconds`` have passed, whichever comes
first; requests already in flight then finish (each bounded by ``reply_timeout``), so a phase lasts
at most ``max_seconds + reply_timeout``.  Latency is measured from just before the POST to the
moment the reply arrived at the connector.  Anything other than a 2xx answer plus a reply within
``reply_timeout`` (10 s) is an error, classified by kind.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.mock_connector import MockConnector

logger = logging.getLogger(__name__)

MessageSupplier = Callable[[int], str]
"""Returns the message text for the request with this sequence number (0, 1, 2, ...)."""

ActivityCustomiser = Callable[[dict[str, Any], int], None]
"""Mutates a built activity in place before it is sent (e.g. a different user per request)."""

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def cycle_messages(texts: Sequence[str]) -> MessageSupplier:
    """A supplier that walks ``texts`` in order, round and round (deterministic across runs)."""
    frozen = tuple(texts)
    if not frozen:
        raise ValueError("cycle_messages needs at least one text")
    return lambda seq: frozen[seq % len(frozen)]


def echo_messages(seq: int) -> str:
    """Default supplier: short, distinct chat text like a person would type."""
    return f"hello tracker, message {seq}"


@dataclass(frozen=True)
class Identity:
    """Who is talking to whom: a Teams user in a personal (1:1) chat with the bot."""

    tenant_id: str = "8d0f2c4e-5b7a-4c1e-9f3d-2a6b8c0e1f47"
    user_id: str = "29:1bench-user-Zq8xvYtXw3kPmN0aBcDeF"
    user_name: str = "Alex Bench"
    user_aad_object_id: str = "3f6e2a90-7c1d-4b8e-a5f2-9d0c1b2e3f4a"
    bot_id: str = "28:00000000-0000-0000-0000-000000000000"
    bot_name: str = "Tracker"
    locale: str = "en-GB"
    timezone: str = "Europe/London"


def build_activity(
    *,
    seq: int,
    text: str,
    conversation_id: str,
    activity_id: str,
    service_url: str,
    identity: Identity,
) -> dict[str, Any]:
    """A message activity shaped like the ones Teams posts to a bot in a personal chat."""
    now = datetime.now(UTC)
    return {
        "text": text,
        "textFormat": "plain",
        "type": "message",
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": now.isoformat(timespec="milliseconds"),
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {
            "id": identity.user_id,
            "name": identity.user_name,
            "aadObjectId": identity.user_aad_object_id,
        },
        "conversation": {
            "conversationType": "personal",
            "tenantId": identity.tenant_id,
            "id": conversation_id,
        },
        "recipient": {"id": identity.bot_id, "name": identity.bot_name},
        "entities": [
            {
                "locale": identity.locale,
                "country": identity.locale.split("-")[-1],
                "platform": "Web",
                "timezone": identity.timezone,
                "type": "clientInfo",
            }
        ],
        "channelData": {"tenant": {"id": identity.tenant_id}},
        "locale": identity.locale,
        "localTimezone": identity.timezone,
    }


@dataclass(frozen=True)
class PhaseConfig:
    """Bounds and shape of one load phase."""

    concurrency: int
    max_requests: int
    max_seconds: float
    reply_timeout: float = 10.0


@dataclass
class LatencySummary:
    """Latency percentiles in milliseconds (nearest-rank), over successful requests only."""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> LatencySummary:
        """Summarise a list of durations given in seconds."""
        if not seconds:
            return cls()
        ordered = sorted(seconds)
        n = len(ordered)

        def rank(p: float) -> float:
            return round(ordered[max(0, math.ceil(p / 100 * n) - 1)] * 1000, 3)

        return cls(
            count=n,
            p50=rank(50),
            p95=rank(95),
            p99=rank(99),
            mean=round(sum(ordered) / n * 1000, 3),
            min=round(ordered[0] * 1000, 3),
            max=round(ordered[-1] * 1000, 3),
        )


@dataclass
class PhaseResult:
    """What one phase measured."""

    concurrency: int
    issued: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    elapsed_s: float
    throughput_rps: float  # successful replies per second of wall time
    latency_ms: LatencySummary  # inbound POST sent -> reply at connector
    ack_latency_ms: LatencySummary  # inbound POST sent -> target's HTTP answer
    loadgen_cpu: float  # load generator + connector CPU, in cores (1.0 = one core saturated)
    loadgen_gc: dict[str, float]
    connector: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


class _GcWatch:
    """Times the load generator's own GC pauses, so a latency outlier can be blamed correctly."""

    def __init__(self) -> None:
        self.collections = 0
        self.total = 0.0
        self.worst = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.collections += 1
            self.total += pause
            self.worst = max(self.worst, pause)

    def summary(self) -> dict[str, float]:
        return {
            "collections": self.collections,
            "total_pause_ms": round(self.total * 1000, 3),
            "max_pause_ms": round(self.worst * 1000, 3),
        }


def new_client_session(concurrency: int) -> aiohttp.ClientSession:
    """A session sized for ``concurrency`` keep-alive connections to the target.

    Must be called inside the running event loop.
    """
    connector = aiohttp.TCPConnector(limit=max(1, concurrency))
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))


async def run_phase(
    *,
    session: aiohttp.ClientSession,
    connector: MockConnector,
    target_url: str,
    config: PhaseConfig,
    messages: MessageSupplier = echo_messages,
    customise: ActivityCustomiser | None = None,
    identity: Identity | None = None,
) -> PhaseResult:
    """Drive one closed-loop phase against ``target_url`` and summarise it."""
    who = identity or Identity()
    run_token = uuid.uuid4().hex[:12]  # conversation ids never repeat across phases or runs
    base_id = int(time.time() * 1000)  # Teams message ids look like epoch milliseconds
    service_url = connector.service_url
    sequence = itertools.count()
    latencies: list[float] = []
    acks: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0

    connector.reset_stats()
    gc_watch = _GcWatch()
    gc.callbacks.append(gc_watch)
    started = time.perf_counter()
    deadline = started + config.max_seconds
    cpu_started = time.process_time()

    async def worker() -> None:
        nonlocal issued
        while True:
            seq = next(sequence)
            if seq >= config.max_requests or time.perf_counter() >= deadline:
                return
            issued += 1
            conversation_id = f"a:bench-{run_token}-{seq}"
            activity = build_activity(
                seq=seq,
                text=messages(seq),
                conversation_id=conversation_id,
                activity_id=str(base_id + seq),
                service_url=service_url,
                identity=who,
            )
            if customise is not None:
                customise(activity, seq)
            body = json.dumps(activity).encode()
            reply = connector.expect(conversation_id)
            sent = time.perf_counter()
            try:
                async with asyncio.timeout(config.reply_timeout):
                    async with session.post(target_url, data=body, headers=JSON_HEADERS) as response:
                        await response.read()
                        status = response.status
                    acked = time.perf_counter()
                    if not 200 <= status < 300:
                        errors[f"http_{status}"] += 1
                        continue
                    arrived = await reply
            except TimeoutError:
                errors["timeout"] += 1
                continue
            except aiohttp.ClientConnectionError as exc:
                errors[type(exc).__name__] += 1
                # Target down or refusing: back off a little rather than spin through the budget.
                await asyncio.sleep(0.05)
                continue
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] += 1
                continue
            finally:
                connector.forget(conversation_id)
            latencies.append(arrived - sent)
            acks.append(acked - sent)

    try:
        await asyncio.gather(*(worker() for _ in range(config.concurrency)))
    finally:
        gc.callbacks.remove(gc_watch)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    ok = len(latencies)
    return PhaseResult(
        concurrency=config.concurrency,
        issued=issued,
        ok=ok,
        errors=sum(errors.values()),
        error_kinds=dict(errors),
        elapsed_s=round(elapsed, 3),
        throughput_rps=round(ok / elapsed, 2) if elapsed > 0 else 0.0,
        latency_ms=LatencySummary.of(latencies),
        ack_latency_ms=LatencySummary.of(acks),
        loadgen_cpu=round(cpu / elapsed, 3) if elapsed > 0 else 0.0,
        loadgen_gc=gc_watch.summary(),
        connector={**connector.stats.as_dict(), "open_connections_at_end": connector.open_connections},
    )


async def wait_for_stragglers(connector: MockConnector, seconds: float = 0.2) -> None:
    """Give replies still in flight after a phase a moment to land before counters are reset."""
    await asyncio.sleep(seconds)
    if connector.pending:
        logger.debug("%d waiters still pending after phase", connector.pending)
