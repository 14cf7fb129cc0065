"""The digest ledger, visible (issue 16): the lease is a setting, a delivery that becomes uncertain
is logged, ``tracker digest status`` lists every channel, ``resend`` sends again after a check, and
``send`` exits non-zero while anything is uncertain or failed. Real SQLite and PostgreSQL, the local
mock Bot Connector."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging

import pytest

from bot.cli import digest_command
from bot.settings import Settings
from storage.models import DigestDelivery
from storage.store import Store
from tests.e2e.test_scheduler import TimedConnector, posts, subscribe, teams, utc  # noqa: F401

WEEK = "2026-W49"
NOW = utc(2026, 11, 30, 9, 30)  # Monday: the slot (09:00) has passed


async def run(settings: Settings, action: str, **kw: object) -> tuple[int, str]:
    out = io.StringIO()
    code = await asyncio.wait_for(
        digest_command(settings, action, now=True, clock=lambda: NOW, out=out, **kw), 30
    )
    return code, out.getvalue()


async def left_sending(store: Store, sub_id: int, at: dt.datetime) -> None:
    async with store.sessions() as s, s.begin():
        s.add(DigestDelivery(subscription_id=sub_id, week=WEEK, state="sending", claimed_by="dead-host:4242:abcd",
                             claimed_at=at, attempts=1))  # fmt: skip


async def test_uncertain_is_logged_listed_exits_non_zero_and_can_be_resent(
    db_url: str,
    store: Store,
    teams: TimedConnector,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    convs = await subscribe(store, teams, 3)
    dead, *rest = list(convs)
    await left_sending(store, dead, utc(2026, 11, 30, 9))  # a sender killed mid-POST at 09:00
    settings = Settings(database_url=db_url, digest_lease_seconds=600)
    with caplog.at_level(logging.WARNING):
        code, said = await run(settings, "send")
    assert (
        code == 1
        and "1 deliveries of 2026-W49 uncertain or failed" in said
        and "resend --week 2026-W49" in said
    )
    assert any("now uncertain" in r.getMessage() and str(dead) in r.getMessage() for r in caplog.records)
    assert [len(posts(teams, convs[i])) for i in (dead, *rest)] == [0, 1, 1]
    code, said = await run(settings, "send")  # asking again does not hide it
    assert code == 1 and "already done 3" in said
    code, status = await run(settings, "status", week=WEEK)
    assert code == 1
    lines = {line.split()[1]: line for line in status.splitlines()[1:] if line.startswith("  ")}
    assert "uncertain" in lines[convs[dead]] and all(" sent " in lines[convs[i]] for i in rest)
    code, said = await run(settings, "resend", week=WEEK, channel=convs[dead])
    assert code == 0 and "released for a resend: 1" in said and "every delivery of 2026-W49" in said
    assert [len(posts(teams, convs[i])) for i in (dead, *rest)] == [1, 1, 1]
    assert (await run(settings, "status", week=WEEK))[0] == 0


async def test_the_lease_is_the_setting(db_url: str, store: Store, teams: TimedConnector) -> None:  # noqa: F811
    convs = await subscribe(store, teams, 1)
    (sub,) = convs
    await left_sending(store, sub, utc(2026, 11, 30, 9))
    code, status = await run(Settings(database_url=db_url, digest_lease_seconds=3600), "send")
    assert code == 0 and "already done 0" in status  # 30 min < 1 h: it may still be posting
    code, status = await run(Settings(database_url=db_url, digest_lease_seconds=3600), "status")
    assert code == 0 and " sending " in status
