"""The digest scheduler: DST-proof timing, exactly once per conversation per week, and bad channels.

Apps run for real on 127.0.0.1 with the scheduler as a background task; subscriptions point at a
local mock Bot Connector. Time is injected: sleeping moves a fake clock on at once, so a week
passes in milliseconds and nothing waits for Monday.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import io
import logging
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy import select, update

from bot.cli import digest_command
from bot.services import digest_task, services
from bot.settings import Settings
from dialogs.digest import DigestConfig, next_run, previous_run, this_weeks_run, week_key
from storage.db import create_engine
from storage.models import DigestDelivery, Subscription
from storage.store import Store
from storage.subscriptions import Subscriptions
from tests.conftest import REPO
from tests.kit.botkit import TENANT, Activities, MockConnector, Scripted, cards_of, running_bot
from tests.kit.cardschema import assert_valid_card
from tests.kit.data import seed_small

LONDON = ZoneInfo("Europe/London")
MONDAY, NINE = 0, dt.time(9, 0)
CONFIG = DigestConfig(send_timeout=1.5, lease=dt.timedelta(minutes=5), retry_after=dt.timedelta(minutes=15))
LONG_AGO = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# ---- timing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [
    (utc(2026, 3, 27, 12), utc(2026, 3, 30, 8)),  # spring forward on Sun 29 Mar: 09:00 BST is 08:00 UTC
    (utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)),  # exactly at a slot: the next one, a week on
    (utc(2026, 3, 23, 8, 59), utc(2026, 3, 23, 9)),  # still GMT that Monday
    (utc(2026, 10, 24, 12), utc(2026, 10, 26, 9)),  # fall back on Sun 25 Oct: 09:00 GMT is 09:00 UTC
    (utc(2026, 10, 19, 8, 30), utc(2026, 10, 26, 9)),  # 19 Oct's 09:00 BST (08:00 UTC) has passed
])  # fmt: skip
def test_next_run_is_nine_local_time_on_monday_across_both_2026_clock_changes(
    now: dt.datetime, expected: dt.datetime
) -> None:
    assert next_run(now, MONDAY, NINE, LONDON) == expected


def test_a_slot_inside_the_clock_changes_happens_once() -> None:
    sunday, half_one = 6, dt.time(1, 30)
    # 01:30 does not exist on 29 Mar 2026: the digest goes at 02:30 BST (01:30 UTC), once.
    assert next_run(utc(2026, 3, 28, 12), sunday, half_one, LONDON) == utc(2026, 3, 29, 1, 30)
    # 01:30 happens twice on 25 Oct 2026: the first one (BST, 00:30 UTC) only.
    first = next_run(utc(2026, 10, 24, 12), sunday, half_one, LONDON)
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_run(first, sunday, half_one, LONDON) == utc(2026, 11, 1, 1, 30)


def test_a_year_of_slots_is_every_monday_at_nine_local() -> None:
    slot, seen = utc(2025, 12, 28, 9), []
    for _ in range(53):
        slot = next_run(slot, MONDAY, NINE, LONDON)
        local = slot.astimezone(LONDON)
        assert (local.weekday(), local.time()) == (MONDAY, NINE)
        assert previous_run(slot, MONDAY, NINE, LONDON) == slot
        seen.append(week_key(slot, LONDON))
    assert seen[0] == "2026-W01" and seen[-1] == "2026-W53" and len(set(seen)) == 53  # 2026 has 53 ISO weeks


def test_this_weeks_run_and_previous_run() -> None:
    wednesday = utc(2026, 11, 25, 10)
    assert this_weeks_run(wednesday, 4, NINE, LONDON) == utc(2026, 11, 27, 9)  # Friday, still to come
    assert previous_run(wednesday, 4, NINE, LONDON) == utc(2026, 11, 20, 9)
    assert week_key(this_weeks_run(wednesday, 4, NINE, LONDON), LONDON) == "2026-W48"
    with pytest.raises(ValueError):
        DigestConfig(send_timeout=600)  # a lease shorter than a send would let two runs post


# ---- the kit --------------------------------------------------------------------------------------


class FakeTime:
    """The scheduler's clock and sleep: sleeping moves the clock on at once; past ``stop_at`` it parks
    (``parked`` is set) until the app stops. An optional ``gate`` holds every sleeper until opened."""

    def __init__(
        self, start: dt.datetime, stop_at: dt.datetime | None = None, gate: asyncio.Event | None = None
    ) -> None:
        self.now = start
        self.stop_at = stop_at or start
        self.gate = gate
        self.sleeps: list[float] = []
        self.parked = asyncio.Event()

    def clock(self) -> dt.datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.gate is not None:
            await self.gate.wait()
        if self.now + dt.timedelta(seconds=seconds) > self.stop_at:
            self.parked.set()
            await asyncio.Event().wait()  # cancelled when the app stops
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)

    async def wait_parked(self) -> None:
        await asyncio.wait_for(self.parked.wait(), 15.0)  # bounded: a scheduler that never sleeps fails here


class TimedConnector(MockConnector):
    """The mock Bot Connector, also noting when each conversation's first request came and first post landed."""

    def __init__(self) -> None:
        super().__init__()
        self.first_seen: dict[str, float] = {}
        self.landed: dict[str, float] = {}

    async def _handle(self, request: web.Request) -> web.Response:
        conv = request.match_info["conv"]
        self.first_seen.setdefault(conv, asyncio.get_running_loop().time())
        response = await super()._handle(request)
        if response.status < 300:
            self.landed.setdefault(conv, asyncio.get_running_loop().time())
        return response


@pytest.fixture
async def teams() -> AsyncIterator[TimedConnector]:
    connector = TimedConnector()
    await connector.start()
    try:
        yield connector
    finally:
        await connector.stop()


async def subscribe(store: Store, teams: MockConnector, n: int, *, created_at: dt.datetime = LONG_AGO,
                    prefix: str = "chan") -> dict[int, str]:  # fmt: skip
    """``n`` channels subscribed the way an installation does it; returns {subscription id: conversation id}."""
    subs, out = Subscriptions(store), {}
    for k in range(n):
        conv = f"19:{prefix}-{k}@thread.tacv2"
        install = Activities(teams.url).install(conversation=conv, team=f"19:team-{prefix}-{k}@thread.tacv2")
        ref = TurnContext.get_conversation_reference(Activity().deserialize(install)).serialize()
        view, _ = await subs.subscribe(conversation_id=conv, service_url=teams.url, reference=ref, tenant_id=TENANT,
                                       team_id=f"19:team-{prefix}-{k}", conversation_type="channel", created_by="test")  # fmt: skip
        out[view.id] = conv
    async with store.sessions() as s, s.begin():
        await s.execute(
            update(Subscription).where(Subscription.id.in_(list(out))).values(created_at=created_at)
        )
    return out


async def ledger(store: Store) -> dict[tuple[int, str], DigestDelivery]:
    async with store.sessions() as s:
        return {(d.subscription_id, d.week): d for d in (await s.scalars(select(DigestDelivery))).all()}


def with_scheduler(fake: FakeTime, config: DigestConfig = CONFIG) -> tuple:
    return (functools.partial(digest_task, sleep=fake.sleep, config=config),)


def posts(teams: MockConnector, conv: str) -> list[dict]:
    return teams.messages(conv)


# ---- exactly once ---------------------------------------------------------------------------------


async def test_two_app_instances_sharing_the_database_post_once_per_channel(db_url: str, store: Store,
                                                                           teams: TimedConnector) -> None:  # fmt: skip
    await seed_small(store)
    convs = await subscribe(store, teams, 12)
    async with store.sessions() as s, s.begin():  # last week's went out as normal
        s.add_all(
            DigestDelivery(subscription_id=i, week="2026-W48", state="sent", claimed_at=utc(2026, 11, 23, 9))
            for i in convs
        )
    gate = asyncio.Event()
    # Each app has its own fake clock: stop both just after 09:00, before any lease could lapse.
    start, stop = utc(2026, 11, 30, 8, 59), utc(2026, 11, 30, 9, 1)
    a, b = FakeTime(start, stop, gate), FakeTime(start, stop, gate)
    settings = Settings(database_url=db_url)
    async with running_bot(settings, clock=a.clock, background=with_scheduler(a)), \
            running_bot(settings, clock=b.clock, background=with_scheduler(b)):  # fmt: skip
        gate.set()  # both are up and asleep: 09:00 strikes for both at once
        await a.wait_parked()
        await b.wait_parked()
    rows = await ledger(store)
    for sub_id, conv in convs.items():
        (message,) = posts(teams, conv)
        row = rows[(sub_id, "2026-W49")]
        assert row.state == "sent" and row.attempts == 1
    assert_valid_card(cards_of(message)[0])
    assert message["summary"].startswith("7 live items (5 open, 1 in progress, 1 awaiting sign-off)")
    assert all(r["reply_to"] is None for r in teams.received)  # a new post, not a reply
    owners = {rows[(i, "2026-W49")].claimed_by for i in convs}
    print(f"12 channels: {len(teams.received)} posts; claims won by {len(owners)} instance(s)")


async def test_two_concurrent_runs_split_the_work_and_post_once(
    db_url: str, store: Store, teams: TimedConnector
) -> None:
    convs = await subscribe(store, teams, 16)
    now = utc(2026, 11, 30, 9, 0, 5)
    settings = Settings(database_url=db_url)
    async with services(settings, clock=lambda: now, typing_delay=0) as one, \
            services(settings, clock=lambda: now, typing_delay=0) as two:  # fmt: skip
        reports = await asyncio.gather(*(svc.digest_sender(CONFIG).run("2026-W49") for svc in (one, two)))
    sent = [i for r in reports for i in r.sent]
    assert sorted(sent) == sorted(convs)  # every channel once, by exactly one of the runs
    assert all(len(posts(teams, conv)) == 1 for conv in convs.values())
    assert len(teams.received) == 16


async def test_restart_after_a_crash_mid_send_posts_only_to_the_rest(
    db_url: str, store: Store, teams: TimedConnector
) -> None:
    convs = await subscribe(store, teams, 5)
    (sent, left_claimed, left_sending, untouched, held) = list(convs)
    start = utc(2026, 11, 30, 9, 20)  # the dead process claimed them at 09:00
    async with store.sessions() as s, s.begin():
        for sub_id, state, at in ((sent, "sent", utc(2026, 11, 30, 9)), (left_claimed, "claimed", utc(2026, 11, 30, 9)),
                                  (left_sending, "sending", utc(2026, 11, 30, 9)), (held, "claimed", start - dt.timedelta(minutes=2))):  # fmt: skip
            s.add(DigestDelivery(subscription_id=sub_id, week="2026-W49", state=state, claimed_by="dead-host:4242:abcd",
                                 claimed_at=at, attempts=1))  # fmt: skip
    fake = FakeTime(start, start + dt.timedelta(minutes=30))
    async with running_bot(Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)):
        await fake.wait_parked()
    rows = await ledger(store)
    assert [len(posts(teams, convs[i])) for i in (sent, left_claimed, left_sending, untouched, held)] == [
        0,
        1,
        0,
        1,
        1,
    ]
    assert {i: rows[(i, "2026-W49")].state for i in convs} == {
        sent: "sent",
        left_claimed: "sent",
        left_sending: "uncertain",
        untouched: "sent",
        held: "sent",
    }
    # The lapsed claim went at once; the one still leased to a live-looking run only after its lease.
    assert rows[(left_claimed, "2026-W49")].attempts == 2
    assert rows[(held, "2026-W49")].claimed_at.replace(tzinfo=dt.UTC) >= start + dt.timedelta(minutes=3)


async def test_a_digest_missed_while_down_goes_once_on_start_up(
    db_url: str, store: Store, teams: TimedConnector
) -> None:
    convs = await subscribe(store, teams, 3)
    late = await subscribe(store, teams, 1, created_at=utc(2026, 12, 1, 10), prefix="joined-tuesday")
    down_until = utc(2026, 12, 1, 14)  # Monday 30 Nov 09:00 came and went while the bot was down
    for restart in range(2):
        fake = FakeTime(down_until + dt.timedelta(hours=restart))
        async with running_bot(
            Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)
        ):
            await fake.wait_parked()
        assert [len(posts(teams, c)) for c in convs.values()] == [1, 1, 1], restart
    (joined,) = late.values()
    assert posts(teams, joined) == []  # it joined after Monday's slot: its first digest is next Monday
    rows = await ledger(store)
    assert {(i, w) for i, w in rows} == {(i, "2026-W49") for i in convs}
    assert all(rows[(i, "2026-W49")].claimed_at.replace(tzinfo=dt.UTC) == down_until for i in convs)


async def test_it_wakes_on_time_every_week_across_the_autumn_clock_change(db_url: str, store: Store,
                                                                         teams: TimedConnector) -> None:  # fmt: skip
    convs = await subscribe(store, teams, 2)
    fake = FakeTime(utc(2026, 10, 24, 12), utc(2026, 11, 3))  # Saturday (BST) to the Tuesday nine days on
    async with running_bot(Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)):
        await fake.wait_parked()
    rows = await ledger(store)
    for sub_id, conv in convs.items():
        assert len(posts(teams, conv)) == 3
        sent_at = {
            w: rows[(sub_id, w)].claimed_at.replace(tzinfo=dt.UTC)
            for w in ("2026-W43", "2026-W44", "2026-W45")
        }
        assert sent_at == {
            "2026-W43": utc(2026, 10, 24, 12),  # on start-up: that week's digest had never gone
            "2026-W44": utc(2026, 10, 26, 9),  # 09:00 GMT, the day after the clocks went back
            "2026-W45": utc(2026, 11, 2, 9),
        }
    assert max(fake.sleeps) <= CONFIG.max_sleep and min(fake.sleeps) >= CONFIG.min_sleep


# ---- bad channels -----------------------------------------------------------------------------------


async def test_throttled_failing_removed_and_hung_channels(db_url: str, store: Store, teams: TimedConnector,
                                                           caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    convs = await subscribe(store, teams, 5)
    ids = dict(zip(("throttled", "flaky", "removed", "hung", "fine"), convs, strict=True))
    conv = {name: convs[i] for name, i in ids.items()}
    teams.scripts[conv["throttled"]] = [Scripted(status=429, headers={"Retry-After": "1"})]
    teams.scripts[conv["flaky"]] = [Scripted(status=503)]
    teams.scripts[conv["removed"]] = [Scripted(status=403)]
    teams.scripts[conv["hung"]] = [Scripted(delay=2.5)]  # longer than the 1.5 s send timeout
    start = utc(2026, 11, 30, 9, 0, 1)
    fake = FakeTime(start)
    lag = LoopLag()
    with caplog.at_level(logging.INFO, logger="dialogs.digest.sender"):
        async with (
            lag.running(),
            running_bot(Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)),
        ):
            await fake.wait_parked()
    first = min(teams.first_seen.values())
    # Not held up by the hung channel (which would cost at least its 1.5 s send timeout); the
    # margin leaves room for a loaded 2-core CI machine.
    assert teams.landed[conv["fine"]] - first < 1.2
    assert teams.landed[conv["throttled"]] - teams.first_seen[conv["throttled"]] >= 0.95  # Retry-After: 1
    assert lag.worst < 1.0, lag.worst  # the event loop was never blocked
    rows = await ledger(store)
    state = {name: rows[(i, "2026-W49")].state for name, i in ids.items()}
    assert state == {
        "throttled": "sent",
        "flaky": "sent",
        "removed": "failed",
        "hung": "uncertain",
        "fine": "sent",
    }
    attempts = {name: [s for c, s in teams.attempts if c == conv[name]] for name in ids}
    assert attempts["throttled"] == [429, 200] and attempts["flaky"] == [503, 200]
    assert attempts["removed"] == [403] and attempts["hung"] == [200]
    removed = await Subscriptions(store).get(conv["removed"])
    assert removed is not None and not removed.active and "403" in (removed.deactivated_reason or "")
    assert f"digest subscription {ids['removed']} deactivated" in caplog.text
    assert "recorded uncertain, not re-sent" in caplog.text
    # A restart the same morning sends nothing more: not to the hung channel, not to the removed one.
    fake = FakeTime(start + dt.timedelta(hours=2))
    async with running_bot(Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)):
        await fake.wait_parked()
    assert len(teams.attempts) == 7
    assert {name: len(posts(teams, c)) for name, c in conv.items() if name != "hung"} == {
        "throttled": 1,
        "flaky": 1,
        "removed": 0,
        "fine": 1,
    }


async def test_a_refused_post_is_retried_later_that_morning(
    db_url: str, store: Store, teams: TimedConnector
) -> None:
    (sub_id, conv), *_ = (await subscribe(store, teams, 1)).items()
    teams.scripts[conv] = [Scripted(status=400)]  # refused outright: nothing was posted
    start = utc(2026, 11, 30, 9, 0, 1)
    fake = FakeTime(start, start + dt.timedelta(hours=1))
    async with running_bot(Settings(database_url=db_url), clock=fake.clock, background=with_scheduler(fake)):
        await fake.wait_parked()
    assert [status for _, status in teams.attempts] == [400, 200]
    row = (await ledger(store))[(sub_id, "2026-W49")]
    assert (row.state, row.attempts) == ("sent", 2)
    assert row.claimed_at.replace(tzinfo=dt.UTC) == start + CONFIG.retry_after


class LoopLag:
    """Measures the longest the event loop went without running a 10 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._tick())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            self.worst = max(self.worst, now - last - 0.01)
            last = now


# ---- the command ------------------------------------------------------------------------------------


async def test_tracker_digest_preview_prints_the_text_digest(sqlite_template: Path, tmp_path: Path) -> None:
    """The real command in its own process (on SQLite: the in-process runs below cover PostgreSQL)."""
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    db_url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(db_url)
    try:
        await seed_small(engine)
    finally:
        await engine.dispose()
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "digest", "preview", cwd=REPO, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert text.startswith("Weekly status digest — ")
    assert "7 live items (5 open, 1 in progress, 1 awaiting sign-off)" in text
    assert "- Fraud: Time to choose (2021) rec 1: overdue since 30 Sep 2021" in text
    assert "Awaiting HMICFRS sign-off (1):\n- Vetting, misconduct and misogyny (2022) rec 38" in text


async def test_tracker_digest_send_now_and_on_schedule(
    db_url: str, store: Store, teams: TimedConnector
) -> None:
    convs = await subscribe(store, teams, 2)
    settings = Settings(database_url=db_url, digest_weekday=4)  # Fridays at 09:00

    async def send(now: dt.datetime, *, right_away: bool, action: str = "send") -> tuple[int, str]:
        out = io.StringIO()
        code = await asyncio.wait_for(
            digest_command(settings, action, now=right_away, clock=lambda: now, out=out), 30
        )
        return code, out.getvalue()

    wednesday = utc(2026, 11, 25, 10)
    code, said = await send(wednesday, right_away=False, action="preview")
    assert code == 0 and said.startswith("Weekly status digest — Wednesday 25 November 2026\n0 live items")
    code, said = await send(wednesday, right_away=False)
    assert code == 0 and "due Friday 27 November at 09:00" in said and teams.received == []
    code, said = await send(wednesday, right_away=True)
    assert code == 0 and "digest 2026-W48: sent 2" in said
    code, said = await send(utc(2026, 11, 27, 9, 5), right_away=False)  # Friday's slot: already served
    assert code == 0 and "sent 0" in said and "already done 2" in said
    assert [len(posts(teams, c)) for c in convs.values()] == [1, 1]
