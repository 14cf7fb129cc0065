"""``tracker import`` / ``tracker export`` / ``tracker serve --host --port`` through ``bot.cli.main`` and a
real process, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.cli import IMPORT_CONFLICTS, main
from storage.store import ItemChange, Store
from storage.views import Actor, Source
from tests.storage.test_import_fidelity import FORCE_ROWS, force_workbook, write_csv


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def sign_off_rec_34(db_url: str) -> None:
    async def run() -> None:
        async with await Store.open(db_url) as store:
            (rec,) = [i for i in (await store.snapshot()).items if i.number == "34"]
            await store.change_item(
                rec.id,
                None,
                ItemChange(status="signed_off"),
                Actor("DCI Sarah Khan"),
                Source("teams", "c", "a"),
            )

    asyncio.run(run())


def test_import_export_and_a_stale_file(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "force.csv", FORCE_ROWS)
    assert main(["import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "Dry run: nothing was written." in out
        and "'Rec No' → number" in out
        and "status 'Closed' → signed_off" in out
    )
    assert main(["import", str(path)]) == 0
    assert "items: 5 created" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "old.csv")]) == 0
    assert "exported 5 items" in capsys.readouterr().out
    sign_off_rec_34(cli_db)
    # The old export would undo the sign-off: refused, listed, exit code 3, in the dry run too.
    for extra in (["--dry-run"], []):
        assert main(["import", str(tmp_path / "old.csv"), *extra]) == IMPORT_CONFLICTS
        out = capsys.readouterr().out
        assert (
            "1 conflicts left as they are" in out
            and "rec 34" in out
            and "the file has version 1, the tracker has version 2" in out
        )
    assert main(["import", str(tmp_path / "old.csv"), "--overwrite"]) == 0
    assert "status signed_off → evidenced (overwrite)" in capsys.readouterr().out
    assert main(["history", "34", "--by-number"]) == 0
    assert "tracker import status_changed status: signed_off → evidenced [import]" in capsys.readouterr().out
    assert "overwrite (--overwrite)" in (last_event_note(cli_db) or "")


def last_event_note(db_url: str) -> str | None:
    async def run() -> str | None:
        async with await Store.open(db_url) as store:
            (rec,) = [i for i in (await store.snapshot()).items if i.number == "34"]
            return (await store.history(rec.id))[-1].note

    return asyncio.run(run())


def test_import_sheet_option_and_bad_files(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = force_workbook(tmp_path / "tracker.xlsx")
    assert main(["import", str(book), "--sheet", "Tracker 2022-23", "--dry-run"]) == 0
    assert "items: 3 created" in capsys.readouterr().out
    assert main(["import", str(book), "--sheet", "Cover"]) == 1
    assert "sheet 'Cover' (sheets: 'Cover', 'Notes', 'Tracker 2022-23')" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "nope.csv")]) == 1
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'nope.csv'}: no such file" in err
        and "database problem" not in err
        and "Traceback" not in err
    )
    rows = [r[:] for r in FORCE_ROWS]
    rows[2][5] = "x" * 300
    assert main(["import", str(write_csv(tmp_path / "long.csv", rows))]) == 1
    err = capsys.readouterr().err
    assert (
        "line 4: owner is 300 characters long; the tracker keeps at most 200" in err
        and "Traceback" not in err
    )
    assert main(["export", str(tmp_path / "out.csv")]) == 0
    assert "exported 0 items" in capsys.readouterr().out  # nothing was written by the refused files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("loop", [None, "asyncio"])
def test_serve_host_and_port_flags_beat_the_environment(
    tmp_path: Path, sqlite_template: Path, loop: str | None
) -> None:
    """Also: ``tracker serve`` runs on uvloop unless TRACKER_EVENT_LOOP=asyncio (healthz says which)."""
    db = tmp_path / "serve.db"
    shutil.copy(sqlite_template, db)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS")
    }
    env |= {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "HOST": "127.0.0.2", "PORT": str(_free_port())}
    env.pop("TRACKER_EVENT_LOOP", None)
    if loop:
        env["TRACKER_EVENT_LOOP"] = loop
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    status, said = reply.status, json.loads(reply.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert status == 200, (
            proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else "no answer"
        )
        assert said["loop"] == (loop or "uvloop")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_serve_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "70000"])
    assert exit_.value.code == 2
    assert "'70000' is not a port (1 to 65535)" in capsys.readouterr().err
