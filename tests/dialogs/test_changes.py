""" "What changed this week?": answered from the audit trail, by whom, per report; never from a guess.

Writes go in through the bot itself (proposed, confirmed), then the questions are asked, on SQLite and
PostgreSQL, through botbuilder's TestAdapter.
"""

from __future__ import annotations

from botbuilder.core.adapters import TestAdapter

from tests.dialogs.test_dialogs import TEMPLATE, _seed, ask, bot_services


async def test_what_changed_lists_each_change_by_whom_and_report(db_url: str) -> None:
    await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        assert "?" in await ask(adapter, "mark 35 as evidenced: IT monitoring live since October")
        assert "evidenced" in await ask(adapter, "yes")
        assert "?" in await ask(adapter, "add update to fraud rec 1: guidance briefed to the control room")
        assert "Update added" in await ask(adapter, "yes")

        week = await ask(adapter, "what changed this week?")
        assert week.startswith("What changed this week: 2 items")
        lines = week.splitlines()
        vetting = next(
            i
            for i, line in enumerate(lines)
            if line.startswith("Vetting, misconduct and misogyny (2022) (1)")
        )
        assert "rec 35: " in lines[vetting + 1] and "by Alice Ames" in lines[vetting + 1]
        assert "evidence from Alice Ames" in lines[vetting + 1] or "evidenced" in lines[vetting + 1]
        assert any(line.startswith("Fraud: Time to choose (2021) (1)") for line in lines)
        assert "guidance briefed to the control room" in week

        mine = await ask(adapter, "what did Alice change this week?")
        assert "2 items" in mine.splitlines()[0] and "by Alice" in mine.splitlines()[0]
        nobody = await ask(adapter, "what did Owen change this week?")
        assert nobody.startswith("Nothing changed by Owen")

        in_vetting = await ask(adapter, "what changed on the vetting report this week?")
        assert "1 item" in in_vetting.splitlines()[0] and "Fraud" not in in_vetting


async def test_since_the_last_jac_needs_a_meeting_on_record(db_url: str) -> None:
    await _seed(db_url)
    async with bot_services(db_url) as svc:
        adapter = TestAdapter(svc.bot.on_turn, TEMPLATE)
        said = await ask(adapter, "what changed since the last JAC?")
        assert "No JAC meeting is recorded yet" in said
