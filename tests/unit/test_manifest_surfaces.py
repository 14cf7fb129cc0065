"""Issue 15 in the manifest: the compose-box search and evidence commands, link previews, the command
menu from the route table, and validation by the official schema and Microsoft's own validator package
(npm ``@microsoft/app-manifest``, pinned in tests/kit/teamsvalidator, schema bundled: no network)."""

from __future__ import annotations

import copy
import fcntl
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bot.manifest import build_manifest
from dialogs.help import help_reply
from dialogs.routes import help_routes, manifest_commands
from tests.unit.test_manifest import APP_ID, SCHEMA_PATH, schema_errors

VALIDATOR_DIR = Path(__file__).resolve().parents[1] / "kit" / "teamsvalidator"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return build_manifest(APP_ID, "Tracker", "1.2.3", ["tracker.example.police.uk"],
                          developer_url="https://tracker.example.police.uk")  # fmt: skip


def test_search_and_evidence_commands_and_link_handler(manifest: dict[str, Any]) -> None:
    (ext,) = manifest["composeExtensions"]
    assert ext["botId"] == APP_ID == manifest["bots"][0]["botId"]
    search = next(c for c in ext["commands"] if c["id"] == "searchItems")
    assert search["type"] == "query" and [p["name"] for p in search["parameters"]] == ["query"]
    assert search["initialRun"] is True  # an empty query: the asker's own live items
    evidence = next(c for c in ext["commands"] if c["id"] == "addEvidence")
    assert evidence["type"] == "action" and evidence["fetchTask"] is True
    # The extension runs wherever the bot is installed: personal, group chat and channel.
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "groupChat", "team"}
    (handler,) = ext["messageHandlers"]
    assert handler["type"] == "link"
    assert {"www.justiceinspectorates.gov.uk", "tracker.example.police.uk"} <= set(
        handler["value"]["domains"]
    )


def test_command_lists_come_from_the_routes_and_help_matches(manifest: dict[str, Any]) -> None:
    lists = {cl["scopes"][0]: cl["commands"] for cl in manifest["bots"][0]["commandLists"]}
    assert set(lists) == {"personal", "team", "groupChat"}
    for scope, commands in lists.items():
        assert 0 < len(commands) <= 10
        assert commands == [
            {"title": r.title, "description": r.description} for r in manifest_commands(scope)
        ]
    assert "remind me" in [c["title"] for c in lists["personal"]]
    help_text = help_reply(help_routes(), "Alice").text
    for commands in lists.values():
        for c in commands:
            route = next(r for r in help_routes() if r.title == c["title"])
            assert route.example in help_text or route.description in help_text


def test_manifest_validates_against_the_official_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema_errors(schema, manifest) is None


def _validator_installed() -> Path:
    """npm ci the pinned validator once (a lock serialises parallel runs); skip without node/npm."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not on PATH: Microsoft's validator package cannot run here")
    marker = VALIDATOR_DIR / "node_modules" / "@microsoft" / "app-manifest" / "package.json"
    lock = Path(tempfile.gettempdir()) / "tracker-teamsvalidator.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not marker.exists():
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=VALIDATOR_DIR,
                                  capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
    return VALIDATOR_DIR / "validate.mjs"


def _microsoft_validate(manifest: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    script = _validator_installed()
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    done = subprocess.run(
        ["node", str(script), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def test_microsofts_validator_package_accepts_the_manifest(manifest: dict[str, Any], tmp_path: Path) -> None:
    result = _microsoft_validate(manifest, tmp_path)
    assert result["validator"] == "@microsoft/app-manifest@1.1.2" and result["schema"] == "v1.29"
    assert result["errors"] == []
    broken = copy.deepcopy(manifest)
    broken["composeExtensions"][0]["commands"][0]["id"] = "x" * 65  # longer than Teams allows
    assert _microsoft_validate(broken, tmp_path)["errors"]  # the validator really validates
