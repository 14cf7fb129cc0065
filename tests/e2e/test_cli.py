"""``tracker history ITEM``: an item's audit trail, from the real database, through ``bot.cli.main``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, Source
from tests.kit.data import seed_small


@pytest.fixture
def history_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A seeded database with some history on Vetting, misconduct and misogyny (2022) rec 34; DATABASE_URL points at it."""

    async def build() -> dict[str, int]:
        async with await Store.open(db_url) as store:
            ids = await seed_small(store)
            rec34 = ids["vetting recommendation 34"]
            teams = Source("teams", "a:personal-sarah", "act-1")
            sarah = Actor("DCI Sarah Khan", "aad-sarah")
            await store.change_item(
                rec34, None, ItemChange(evidence=NewEvidence("update", "CCU tasking started")), sarah, teams
            )
            await store.record_refusal(rec34, "sign_off", Actor("Sam Stranger", "aad-stranger"), Source("teams", "a:x", "act-2"),
                                       "Only the SD&A tracker admins can do that.")  # fmt: skip
            await store.change_item(rec34, None, ItemChange(status="evidenced", evidence=NewEvidence("evidence", "Intel tasking log")),
                                    sarah, Source("teams", "a:personal-sarah", "act-3"))  # fmt: skip
            await store.change_item(rec34, None, ItemChange(set_owner=True, owner_name="DI Priya Shah"), Actor("Ada Admin", "aad-admin"),
                                    Source("cli"))  # fmt: skip
            return ids

    ids = asyncio.run(build())
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    return ids


def test_history_by_name_prints_the_whole_trail(
    history_db: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "vetting rec 34"]) == 0
    out = capsys.readouterr().out.splitlines()
    rec34 = history_db["vetting recommendation 34"]
    assert out[0].startswith(f"#{rec34} ") and "34" in out[0] and "(status evidenced, version " in out[0]
    trail = out[1:]
    assert len(trail) == 5, trail
    assert "DCI Sarah Khan update_added CCU tasking started [teams act-1]" in trail[0]
    assert (
        "Sam Stranger refused sign_off: Only the SD&A tracker admins can do that. [teams act-2]" in trail[1]
    )
    assert "DCI Sarah Khan evidence_added Intel tasking log [teams act-3]" in trail[2]
    assert "DCI Sarah Khan status_changed status: in_progress → evidenced [teams act-3]" in trail[3]
    assert "Ada Admin owner_changed owner: DCI Sarah Khan (PSD) → DI Priya Shah [cli]" in trail[4]


def test_history_by_id_matches_history_by_name(
    history_db: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "vetting rec 34"]) == 0
    by_name = capsys.readouterr().out
    assert main(["history", str(history_db["vetting recommendation 34"])]) == 0
    assert capsys.readouterr().out == by_name
    assert main(["history", "34", "--by-number"]) == 0  # a bare printed number, when it is unambiguous
    assert capsys.readouterr().out == by_name


def test_history_of_an_item_with_no_events(
    history_db: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(history_db["vetting recommendation 35"])]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_history_explains_what_it_cannot_find(
    history_db: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "999999"]) == 1
    assert "no item 999999" in capsys.readouterr().err
    assert main(["history", "the one about unicorns"]) == 1
    assert "no single item matches 'the one about unicorns'" in capsys.readouterr().err


def test_history_on_an_unmigrated_database_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert main(["history", "1"]) == 1
    err = capsys.readouterr().err
    assert "database problem" in err and "tracker db upgrade" in err and "Traceback" not in err
