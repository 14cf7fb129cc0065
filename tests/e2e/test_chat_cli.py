"""`tracker chat` and `tracker manifest build`, through the real command-line entry point."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import create_engine
from tests.kit.data import seed_small


@pytest.fixture
def seeded_db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def seed() -> None:
        engine = create_engine(url)
        try:
            await seed_small(engine)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_chat_one_message_and_context_across_runs(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    conv = f"console-{uuid.uuid4().hex[:6]}"
    assert (
        main(
            [
                "chat",
                "--as",
                "Alice Ames",
                "--conversation",
                conv,
                "mark",
                "vetting",
                "rec",
                "35",
                "as",
                "evidenced:",
                "IT",
                "monitoring",
                "live",
            ]
        )
        == 0
    )
    asked = capsys.readouterr().out
    assert (
        "Mark Vetting, misconduct and misogyny (2022) rec 35 as evidenced with note 'IT monitoring live'?"
        in asked
    )
    # A second process, same conversation: the question is still open, so "yes" writes.
    assert main(["chat", "--as", "Alice Ames", "--conversation", conv, "yes"]) == 0
    assert "is now evidenced" in capsys.readouterr().out
    assert main(["history", "vetting rec 35"]) == 0
    trail = capsys.readouterr().out
    assert "status_changed" in trail and "Alice Ames" in trail


def test_chat_json_prints_activities(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--json", "what's overdue?"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines and lines[0]["type"] == "message"
    assert lines[0]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_manifest_build_writes_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "app.zip"
    app_id = "3f6e2a90-7c1d-4b8e-a5f2-9d0c1b2e3f4a"
    assert (
        main(
            ["manifest", "build", "--app-id", app_id, "--out", str(out), "--domain", "tracker.police.example"]
        )
        == 0
    )
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["id"] == app_id and manifest["bots"][0]["botId"] == app_id
    assert "tracker.police.example" in manifest["validDomains"]
    assert main(["manifest", "build", "--app-id", "not-a-guid", "--out", str(out)]) == 2
    assert "cannot build" in capsys.readouterr().err
