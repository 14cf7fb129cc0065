"""`tracker committee`, `tracker inspection` and `tracker chat --today`, through the real entry point."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from bot.cli import main
from tests.kit.data import seed_small


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    async def seed() -> None:
        await seed_small(db_url)

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    return db_url


def test_committee_add_and_list(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["committee", "list"]) == 0
    assert "no committee meetings recorded" in capsys.readouterr().out
    assert main(["committee", "add", "22 September 2022", "--actor", "Rachel (SD&A)"]) == 0
    assert capsys.readouterr().out.strip() == "recorded: JAC met on 2022-09-22"
    assert main(["committee", "add", "2022-09-22"]) == 0
    assert "already recorded: JAC met on 2022-09-22 (by Rachel (SD&A))" in capsys.readouterr().out
    assert main(["committee", "add", "2022-11-01", "--name", "Strategic Board"]) == 0
    capsys.readouterr()
    assert main(["committee", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[:2] for line in lines] == [
        ["2022-09-22", "JAC"],
        ["2022-11-01", "Strategic Board"],
    ]
    assert "recorded by Rachel (SD&A)" in lines[0] and "cli" in lines[0]
    assert main(["committee", "list", "--name", "jac"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("22/22/2022", "can't read '22/22/2022' as a date"),
        ("next tuesday", "can't read 'next tuesday' as a date"),
        (
            (dt.date.today() + dt.timedelta(days=3)).isoformat(),
            "is in the future: record a meeting once it has met",
        ),
    ],
)
def test_committee_add_refuses_bad_dates_in_one_line(
    cli_db: str, capsys: pytest.CaptureFixture[str], date: str, message: str
) -> None:
    assert main(["committee", "add", date]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert main(["committee", "list"]) == 0
    assert "no committee meetings recorded" in capsys.readouterr().out  # nothing written


def test_inspection_add_and_list(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["inspection", "add", "2023-09-04", "PEEL", "fieldwork", "--note", "1 or 2 weeks in force"]) == 0
    )
    assert "recorded: 2023-09-04 PEEL fieldwork" in capsys.readouterr().out
    assert main(["inspection", "add", "2023-09-04"]) == 2
    assert "needs DATE and NAME" in capsys.readouterr().err
    assert main(["inspection", "list"]) == 0
    assert capsys.readouterr().out.strip() == "2023-09-04  PEEL fieldwork – 1 or 2 weeks in force"


def test_pack_lists_recorded_inspections(cli_db: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    assert main(["inspection", "add", "2023-09-04", "PEEL fieldwork"]) == 0
    assert main(["inspection", "add", "2022-01-10", "An inspection long past"]) == 0
    out = tmp_path / "p.docx"
    assert main(["pack", "--as-of", "2022-12-15", "--since", "2022-09-22", "--out", str(out)]) == 0
    paras = [p.text for p in Document(str(out)).paragraphs]
    assert "4 September 2023: PEEL fieldwork" in paras
    assert not any("long past" in p for p in paras)


def test_chat_today_makes_today_a_given_date(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    conv = f"console-{uuid.uuid4().hex[:6]}"
    assert main(["chat", "--conversation", conv, "what's overdue?"]) == 0
    now = capsys.readouterr().out
    assert main(["chat", "--conversation", conv, "--today", "15 December 2022", "what's overdue?"]) == 0
    then = capsys.readouterr().out
    # Vetting, misconduct and misogyny (2022) rec 35 (due 31 March 2023) is overdue today, not in December 2022; fraud rec 1 is both.
    assert (
        "Vetting, misconduct and misogyny (2022) rec 35" in now
        and "Vetting, misconduct and misogyny (2022) rec 35" not in then
    )
    assert "Fraud: Time to choose (2021) rec 1" in now and "Fraud: Time to choose (2021) rec 1" in then
    assert main(["chat", "--today", "someday", "hello"]) == 2
    assert "--today: can't read 'someday' as a date" in capsys.readouterr().err
