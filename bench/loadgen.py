"""Closed-loop load generator for Bot Framework bots.

``concurrency`` workers each loop: take the next conversation of the :data:`~bench.traffic.Traffic`
(one or more turns), and for each turn in order build a realistic Teams activity (a message, or an
invoke), register with the :class:`~bench.mock_connector.MockConnector`, POST it to the target's
``/api/messages``, wait for the HTTP answer and, for a message, for the reply to reach the
connector; then the next turn, then the next conversation.  Closed loop means offered load adapts
to the target: throughput is what the target sustains at that concurrency, and latency is not
inflated by an open-loop queue.  Each conversation has its own user (a Teams user id and AAD
object id), as many people would.

A phase stops starting conversations when it has *issued* ``max_requests`` turns or
``max_seconds`` have passed; conversations already started finish (a "yes" still follows its
proposal; scripts are at most a few turns) and every turn is bounded by ``reply_timeout``.
Latency is measured from just before the POST to the moment the reply arrived at the connector;
for an invoke the HTTP response *is* the reply (its status and body are classified, not judged: a
501 from a feature not built yet is counted and shown, per kind).  A message turn without a 2xx
answer plus a reply within ``reply_timeout`` (10 s) is an error, classified by kind, and ends
its conversation.

Fault isolation (:class:`HangConfig`): alongside the measured workers, ``conversations`` extra
conversations send messages whose replies the mock connector holds; the measured workers'
figures are then those of the healthy conversations while the others hang.
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
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.mock_connector import MockConnector
from bench.traffic import (
    Kind,
    Step,
    Traffic,
    classify_invoke,
    classify_reply,
    invoke_as_expected,
    single_messages,
)

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

    def for_conversation(self, n: int) -> Identity:
        """The same tenant and bot, a different person per conversation (stable across runs)."""
        aad = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-user:{n}")
        return replace(
            self, user_id=f"29:1bench-user-{n}", user_name=f"Bench User {n}", user_aad_object_id=str(aad)
        )


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


def build_invoke(
    *,
    name: str,
    value: dict[str, Any],
    conversation_id: str,
    activity_id: str,
    service_url: str,
    identity: Identity,
) -> dict[str, Any]:
    """An invoke activity as Teams posts it (message extension query, Universal Actions, ...)."""
    activity = build_activity(
        seq=0, text="", conversation_id=conversation_id, activity_id=activity_id, service_url=service_url,
        identity=identity,
    )  # fmt: skip
    del activity["text"], activity["textFormat"]
    activity.update(type="invoke", name=name, value=value)
    return activity


@dataclass(frozen=True)
class HangConfig:
    """Conversations whose replies hang at the connector while the measured ones run.

    ``delay_s`` None: the connector holds each request until the phase ends (or ``max_hold_s``);
    otherwise it answers after ``delay_s``. Each hung inbound POST is abandoned after
    ``request_timeout`` and sent again, so ``conversations`` stay hung for the whole phase.
    """

    conversations: int = 60
    delay_s: float | None = None
    max_hold_s: float = 60.0
    request_timeout: float = 30.0
    settle_s: float = 10.0  # at most this long to wait for the hang to be established
    text: str = "what's overdue?"


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
    latency_ms: LatencySummary  # inbound POST sent -> reply at connector (answered turns)
    latency_with_failures_ms: LatencySummary  # the same with each failed turn at its time to failure
    ack_latency_ms: LatencySummary  # inbound POST sent -> target's HTTP answer
    loadgen_cpu: float  # load generator + connector CPU, in cores (1.0 = one core saturated)
    loadgen_gc: dict[str, float]
    connector: dict[str, int]
    conversations: int = 0  # conversations started
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)  # per turn kind (see KindStats)
    hang: dict[str, Any] | None = None  # the hung conversations' own counts (fault phases)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


@dataclass
class KindStats:
    """One kind of turn in one phase: answered, failed, HTTP statuses, what was said, latency."""

    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    as_expected: int = 0
    latencies: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output (latency as a :class:`LatencySummary`)."""
        return {
            "ok": self.ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "outcomes": dict(self.outcomes.most_common()),
            "as_expected": self.as_expected,
            "latency_ms": asdict(LatencySummary.of(self.latencies)),
        }


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


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def run_phase(
    *,
    session: aiohttp.ClientSession,
    connector: MockConnector,
    target_url: str | Sequence[str],
    config: PhaseConfig,
    messages: MessageSupplier = echo_messages,
    traffic: Traffic | None = None,
    customise: ActivityCustomiser | None = None,
    identity: Identity | None = None,
    hang: HangConfig | None = None,
    start_at: int = 0,
) -> PhaseResult:
    """Drive one closed-loop phase and summarise it.

    Conversations are numbered from ``start_at`` (so a measured phase can go on where its
    warm-up stopped instead of repeating the same conversations).

    ``traffic`` (conversation scripts) wins over ``messages`` (one message per conversation).
    With several ``target_url`` s (instances of one bot), turn ``t`` of conversation ``n`` goes to
    instance ``(n + t) % len``: consecutive turns of a conversation land on different instances,
    as behind a load balancer without affinity.
    """
    urls = (target_url,) if isinstance(target_url, str) else tuple(target_url)
    scripts = traffic or single_messages(messages)
    who = identity or Identity()
    run_token = uuid.uuid4().hex[:12]  # conversation ids never repeat across phases or runs
    base_id = int(time.time() * 1000)  # Teams message ids look like epoch milliseconds
    service_url = connector.service_url
    sequence = itertools.count()
    conversation_numbers = itertools.count(start_at)
    latencies: list[float] = []
    failed: list[float] = []  # time to failure of each failed turn (a timeout counts its full wait)
    acks: list[float] = []
    errors: Counter[str] = Counter()
    kinds: dict[Kind, KindStats] = {}
    issued = 0

    hanging = await _start_hang(hang, connector, urls, who, run_token) if hang else None
    connector.reset_stats()
    gc_watch = _GcWatch()
    gc.callbacks.append(gc_watch)
    started = time.perf_counter()
    deadline = started + config.max_seconds
    cpu_started = time.process_time()

    async def turn(url: str, step: Step, conversation_id: str, person: Identity) -> bool:
        """One turn; True if it was answered (the conversation may go on)."""
        nonlocal issued
        seq = next(sequence)
        issued += 1
        stats = kinds.get(step.kind)
        if stats is None:
            stats = kinds[step.kind] = KindStats()
        activity_id = str(base_id + seq)
        if step.invoke is None:
            activity = build_activity(
                seq=seq, text=step.text, conversation_id=conversation_id, activity_id=activity_id,
                service_url=service_url, identity=person,
            )  # fmt: skip
            reply = connector.expect(conversation_id, activity_id)
        else:
            activity = build_invoke(
                name=step.invoke, value=step.value or {}, conversation_id=conversation_id, activity_id=activity_id,
                service_url=service_url, identity=person,
            )  # fmt: skip
            reply = None
        if customise is not None:
            customise(activity, seq)
        body = json.dumps(activity).encode()
        sent = time.perf_counter()
        failure = None
        try:
            async with asyncio.timeout(config.reply_timeout):
                async with session.post(url, data=body, headers=JSON_HEADERS) as response:
                    raw = await response.read()
                    status = response.status
                acked = time.perf_counter()
                stats.statuses[status] += 1
                if reply is None:  # an invoke: the HTTP answer is the reply, whatever its status
                    outcome = classify_invoke(step.kind, status, _json_body(raw))
                    arrived = acked
                elif not 200 <= status < 300:
                    failure = f"http_{status}"
                else:
                    arrival = await reply
                    arrived = arrival.at
                    outcome = classify_reply(step.kind, arrival.activity)
        except TimeoutError:
            failure = "timeout"
        except aiohttp.ClientConnectionError as exc:
            failure = type(exc).__name__
            # Target down or refusing: back off a little rather than spin through the budget.
            await asyncio.sleep(0.05)
        except aiohttp.ClientError as exc:
            failure = type(exc).__name__
        finally:
            if reply is not None:
                connector.forget(conversation_id)
        if failure is not None:
            failed.append(time.perf_counter() - sent)
            errors[failure] += 1
            stats.errors[failure] += 1
            return False
        elapsed = arrived - sent
        latencies.append(elapsed)
        acks.append(acked - sent)
        stats.ok += 1
        stats.latencies.append(elapsed)
        stats.outcomes[outcome] += 1
        if reply is not None or invoke_as_expected(step.kind, outcome):
            stats.as_expected += 1
        return True

    async def worker() -> None:
        while issued < config.max_requests and time.perf_counter() < deadline:
            n = next(conversation_numbers)
            conversation_id = f"a:bench-{run_token}-{n}"
            person = who.for_conversation(n)
            for t, step in enumerate(scripts(n)):
                if not await turn(urls[(n + t) % len(urls)], step, conversation_id, person):
                    break  # a failed turn ends its conversation: a "yes" to nothing proves nothing

    try:
        await asyncio.gather(*(worker() for _ in range(config.concurrency)))
    finally:
        gc.callbacks.remove(gc_watch)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        hang_result = await _stop_hang(hanging, connector) if hanging else None
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
        latency_with_failures_ms=LatencySummary.of(latencies + failed),
        ack_latency_ms=LatencySummary.of(acks),
        loadgen_cpu=round(cpu / elapsed, 3) if elapsed > 0 else 0.0,
        loadgen_gc=gc_watch.summary(),
        connector={**connector.stats.as_dict(), "open_connections_at_end": connector.open_connections},
        conversations=next(conversation_numbers) - start_at,
        kinds={kind.value: stats.as_dict() for kind, stats in sorted(kinds.items())},
        hang=hang_result,
    )


# -- fault isolation ------------------------------------------------------------------------------


@dataclass
class _Hanging:
    config: HangConfig
    tasks: list[asyncio.Task[None]]
    session: aiohttp.ClientSession
    outcomes: Counter[str]
    established: int
    settle_s: float


async def _start_hang(
    config: HangConfig, connector: MockConnector, urls: Sequence[str], who: Identity, run_token: str
) -> _Hanging:
    """Start the hung conversations and wait (bounded) until the connector holds their replies."""
    ids = [f"a:hang-{run_token}-{k}" for k in range(config.conversations)]
    # Their own session: hung requests must not take connections from the measured workers.
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=config.conversations),
        timeout=aiohttp.ClientTimeout(total=config.request_timeout),
    )
    outcomes: Counter[str] = Counter()

    async def hung(k: int) -> None:
        person = who.for_conversation(-1 - k)
        for attempt in itertools.count():
            activity = build_activity(
                seq=attempt, text=config.text, conversation_id=ids[k], activity_id=f"hang-{run_token}-{k}-{attempt}",
                service_url=connector.service_url, identity=person,
            )  # fmt: skip
            try:
                async with session.post(
                    urls[k % len(urls)], data=json.dumps(activity).encode(), headers=JSON_HEADERS
                ) as r:
                    await r.read()
                    outcomes[f"http_{r.status}"] += 1
            except TimeoutError:
                outcomes["timeout"] += 1
            except aiohttp.ClientError as exc:
                outcomes[type(exc).__name__] += 1
                await asyncio.sleep(0.5)

    connector.hang(ids, delay_s=config.delay_s, max_hold_s=config.max_hold_s)
    tasks = [asyncio.create_task(hung(k), name=f"hang-{k}") for k in range(config.conversations)]
    started = time.perf_counter()
    # Polls a gauge, bounded by settle_s: the hang is established when the bot has tried to reply.
    while connector.held < config.conversations and time.perf_counter() - started < config.settle_s:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return _Hanging(config, tasks, session, outcomes, connector.held, round(time.perf_counter() - started, 2))


async def _stop_hang(hanging: _Hanging, connector: MockConnector) -> dict[str, Any]:
    """Abandon the hung requests, then let the connector answer what it still holds."""
    held_at_end = connector.held
    for task in hanging.tasks:
        task.cancel()
    await asyncio.gather(*hanging.tasks, return_exceptions=True)
    connector.release()
    await hanging.session.close()
    return {
        "conversations": hanging.config.conversations,
        "mode": "hold" if hanging.config.delay_s is None else f"delay {hanging.config.delay_s:g} s",
        "held_when_measuring_started": hanging.established,
        "settle_s": hanging.settle_s,
        "held_at_end": held_at_end,
        "held_while_measuring": connector.stats.hung,  # new holds after the counters were reset
        "inbound_answers": dict(hanging.outcomes),
    }


async def wait_for_stragglers(connector: MockConnector, seconds: float = 0.2) -> None:
    """Give replies still in flight after a phase a moment to land before counters are reset."""
    await asyncio.sleep(seconds)
    if connector.pending:
        logger.debug("%d waiters still pending after phase", connector.pending)
