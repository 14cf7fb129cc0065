"""``tracker parse``: what the bot understands, printed as JSON, through ``bot.cli.main``.

A real migrated SQLite file (copied from the session's template) seeded with ``tests.kit.data``;
``DATABASE_URL`` points at it. One message as an argument, or one per stdin line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from storage.db import create_engine
from tests.kit.data import VETTING, seed_small

FIELDS = {"intent", "report", "item", "needs_clarification", "candidates", "due_before", "due_after", "kind",
          "owner", "evidence", "links"}  # fmt: skip


@pytest.fixture
def seeded(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A migrated SQLite copy with the small dataset; DATABASE_URL points at it."""
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def seed() -> dict[str, int]:
        engine = create_engine(url)
        try:
            return await seed_small(engine)
        finally:
            await engine.dispose()

    ids = asyncio.run(seed())
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS", "TRACKER_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    return ids


def parse(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert main(["parse", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_one_message_as_json(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    (out,) = parse(capsys, "show rec 35", "--json")
    assert set(out) >= FIELDS
    assert out["text"] == "show rec 35" and out["intent"] == "show" and out["report"] == VETTING
    item = out["item"]
    assert (item["report"], item["kind"], item["number"]) == (VETTING, "recommendation", "35")
    assert item["id"] == seeded["vetting recommendation 35"]
    assert out["needs_clarification"] is False and out["candidates"] == []


def test_a_write_with_evidence_and_links(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    (out,) = parse(capsys, "mark 34 as evidenced: see https://x.example/a and https://x.example/b", "--json")
    assert out["intent"] == "mark_evidenced"
    assert out["item"]["number"] == "34" and out["item"]["id"] == seeded["vetting recommendation 34"]
    assert out["evidence"] == "see https://x.example/a and https://x.example/b"
    assert out["links"] == ["https://x.example/a", "https://x.example/b"]


def test_an_ambiguous_reference_lists_candidates(
    seeded: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    (out,) = parse(capsys, "who owns the counter corruption one", "--json")
    assert out["intent"] == "owner" and out["needs_clarification"] is True and out["item"] is None
    assert {c["number"] for c in out["candidates"]} >= {"34", "35", "39"}
    assert all(set(c) >= {"report", "number", "score"} and c["report"] == VETTING for c in out["candidates"])


def test_dates_and_owners(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    (due,) = parse(capsys, "anything due before Christmas?", "--json")
    assert due["intent"] == "due" and due["due_after"] is None
    assert due["due_before"].endswith("-12-24")
    assert dt.date.fromisoformat(due["due_before"]) >= dt.date.today() - dt.timedelta(days=1)
    (owned,) = parse(capsys, "what's outstanding owned by June Smith", "--json")
    assert owned["owner"] == "June Smith" and owned["due_before"] is None  # June the person, not the month
    (assign,) = parse(capsys, "assign rec 35 to DCI Patel", "--json")
    assert (
        assign["intent"] == "assign" and assign["owner"] == "DCI Patel" and assign["item"]["number"] == "35"
    )


def test_context_fills_a_missing_report(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    (without,) = parse(capsys, "show 1", "--json")  # fraud rec 1 and PEEL AFI 1
    assert without["needs_clarification"] is True
    (with_context,) = parse(capsys, "show 1", "--json", "--context", "peel-2021-22-wmp")
    assert (with_context["item"]["report"], with_context["item"]["kind"]) == ("peel-2021-22-wmp", "afi")


def test_stdin_gives_one_json_object_per_line(
    seeded: dict[str, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        "show rec 35",
        "what's overdue?",
        "help",
        "asdfgh",
        "@Tracker show rec 4",
        "mark 34 as evidenced - done",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = parse(capsys)
    assert [o["text"] for o in out] == lines
    assert [o["intent"] for o in out] == ["show", "overdue", "help", "unknown", "show", "mark_evidenced"]
    assert all(set(o) >= FIELDS for o in out)
    assert out[3]["suggestions"]
    assert out[4]["item"]["report"] == "disproportionality"  # the only rec 4 in this data
    assert out[5]["evidence"] == "done"


def test_pretty_output_without_json(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "show rec 35"]) == 0
    text = capsys.readouterr().out
    assert "intent: show" in text and f"report: {VETTING}" in text


def test_new_fields_status_since_items_and_changes(
    seeded: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    (listed,) = parse(capsys, "show everything that is evidenced and awaiting sign-off", "--json")
    assert listed["intent"] == "outstanding" and listed["status"] == ["evidenced"] and listed["since"] is None
    (changed,) = parse(capsys, "what changed since Monday?", "--json", "--today", "2026-12-02")
    assert changed["intent"] == "changes" and changed["since"] == "2026-11-30"
    (several,) = parse(capsys, "mark 33 and 34 as evidenced: CCU tasking log", "--json")
    assert several["intent"] == "mark_evidenced" and several["evidence"] == "CCU tasking log"
    assert [i["id"] for i in several["items"]] == [
        seeded["vetting recommendation 33"],
        seeded["vetting recommendation 34"],
    ]
    (plain,) = parse(capsys, "show rec 35", "--json")
    assert plain["items"] == [] and plain["status"] is None


def test_today_makes_relative_dates_read_from_a_given_day(
    seeded: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    (then,) = parse(capsys, "what's due this month?", "--json", "--today", "2023-03-10")
    assert then["intent"] == "due" and then["due_before"] == "2023-03-31"
    assert main(["parse", "what's due?", "--today", "not a date"]) == 2
    assert "--today" in capsys.readouterr().err
