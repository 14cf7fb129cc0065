"""Issue 15: owner reminders, opt-in, once per person per period across instances, in personal chat."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

from bot.cli import remind_command
from bot.settings import Settings
from storage.people import People
from tests.kit.botkit import RunningBot, cards_of, running_bot, text_of
from tests.kit.cardschema import assert_valid_card

SARAH = {"aad": "aad-sarah", "user": "DCI Sarah Khan", "conversation": "a:personal-sarah"}


async def test_opt_in_then_one_reminder_per_period_across_instances(bot: RunningBot, db_url: str) -> None:
    (ok,) = await bot.say("remind me about my items", **SARAH)
    assert "I'll message you here" in text_of(ok)
    person = await People(bot.services.store).get("aad-sarah")
    assert person is not None and person.remind is True and person.reachable
    before = len(bot.connector.messages("a:personal-sarah"))
    # Three "instances" run the same month at once, then one runs again: exactly one reminder.
    svc = bot.services
    senders = [svc.reminder_sender() for _ in range(3)]
    reports = await asyncio.gather(*(s.run("2026-11") for s in senders))
    assert sum(len(r.sent) for r in reports) == 1
    again = await svc.reminder_sender().run("2026-11")
    assert again.sent == [] and again.done_before == [person.id]
    posted = bot.connector.messages("a:personal-sarah")[before:]
    assert len(posted) == 1
    text = text_of(posted[0])
    assert (
        "2 of your items are overdue" in text
        and "Vetting, misconduct and misogyny (2022) rec 34" in text
        and "Vetting, misconduct and misogyny (2022) rec 39" in text
    )
    assert "rec 33" not in text  # signed off
    (card,) = cards_of(posted[0])
    assert_valid_card(card)
    buttons = [a for b in card["body"] if b.get("type") == "ColumnSet" for c in b["columns"] for i in c["items"]
               if i.get("type") == "ActionSet" for a in i["actions"]]  # fmt: skip
    assert buttons and all(b["data"]["msteams"] == {"type": "task/fetch"} and b["data"]["intent"] == "add_update"
                           for b in buttons)  # fmt: skip
    # The next month is a new period.
    assert len((await svc.reminder_sender().run("2026-12")).sent) == 1


async def test_stop_reminding_me_and_the_default(bot: RunningBot, db_url: str) -> None:
    await bot.say("remind me", **SARAH)
    (stopped,) = await bot.say("stop reminding me", **SARAH)
    assert "no more reminders" in text_of(stopped)
    assert (await bot.services.reminder_sender().plan(nudge=False)) == []
    # Owners known from their personal chat ("my items") get reminders when the admins' default is on.
    async with running_bot(Settings(database_url=db_url, remind_default=True)) as other:
        await other.say("my items", aad="aad-tom", user="DCI Tom Reid", conversation="a:personal-tom")
        plans = await other.services.reminder_sender().plan(nudge=False)
        assert [p.person.aad_id for p in plans] == ["aad-tom"]  # Sarah said stop: her choice wins
        assert plans[0].reply is None  # Tom's only item is signed off: nothing to say, nothing sent


async def test_nudge_n_days_before_due_and_cli(db_url: str, seeded: dict[str, int]) -> None:
    clock = lambda: dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)  # noqa: E731 - 14 days before 20 December
    async with running_bot(Settings(database_url=db_url), clock=clock) as bot:
        await bot.say("remind me", aad="aad-jo", user="Insp Jo Bell", conversation="a:personal-jo")
        report = await bot.services.reminder_sender().run("2026-12-06", nudge=True)
        assert len(report.sent) == 1
        (nudge,) = bot.connector.messages("a:personal-jo")[-1:]
        assert "1 of your items is due in 14 days" in text_of(nudge)
        out = io.StringIO()
        assert (
            await remind_command(Settings(database_url=db_url), "preview", False, clock=clock, out=out) == 0
        )
        assert "Insp Jo Bell" in out.getvalue() and "PEEL 2021/22 AFI 2" in out.getvalue()
        out = io.StringIO()
        assert await remind_command(Settings(database_url=db_url), "send", False, clock=clock, out=out) == 0
        assert "already done 1" in out.getvalue()  # today's nudge went out above: not again


async def test_scheduled_month_skips_who_asked_after_its_day(bot: RunningBot) -> None:
    """A restart mid-month runs the month's slot again: someone who opted in after it waits for the next."""
    await bot.say("remind me", **SARAH)  # at FIXED_NOW, 25 November
    sched = bot.services.reminder_schedule
    slot = sched.monthly(bot.services.clock())  # 1 November, 09:00
    report = await bot.services.reminder_sender().run(sched.month_key(slot), opted_before=slot)
    assert report.sent == [] and report.done_before == []
