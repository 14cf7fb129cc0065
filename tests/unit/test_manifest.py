"""The Teams app package: schema-valid manifest, Teams-compliant icons, command lists from the routes."""

from __future__ import annotations

import importlib.util
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from bot.manifest import (
    MANIFEST_DIR,
    build_manifest,
    fill_placeholders,
    main_build,
    write_package,
)
from dialogs.routes import manifest_commands

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "tests" / "schemas" / "MicrosoftTeams.schema.json"
APP_ID = "1b4f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return build_manifest(APP_ID, "Tracker", "1.2.3", ["tracker.example.police.uk"])


def schema_errors(schema: dict[str, Any], instance: dict[str, Any]) -> str | None:
    """The most relevant validation error as "path: message", or None if valid."""
    validator_cls = validator_for(schema)  # the schema declares draft-04
    # No format checking of the schema itself: its patterns are ECMA-262 (e.g. \p{L}), which
    # Python's re cannot compile, though none of them applies to what this bot's manifest uses.
    validator_cls.check_schema(schema, format_checker=None)
    error = best_match(validator_cls(schema).iter_errors(instance))
    return None if error is None else f"{error.json_path}: {error.message}"


# --- PNG reading (stdlib only: enough for 8-bit non-interlaced images) -------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + body) == crc, f"bad CRC in {tag!r}"
        chunks.append((tag, body))
        pos += 12 + length
    return chunks


def png_header(data: bytes) -> tuple[int, int, int, int, int]:
    """(width, height, bit depth, colour type, interlace) from IHDR."""
    tag, body = png_chunks(data)[0]
    assert tag == b"IHDR"
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
    return width, height, depth, colour_type, interlace


def png_rgba(data: bytes) -> list[list[tuple[int, ...]]]:
    """Pixels of an 8-bit RGBA PNG, undoing all five row filters."""
    width, height, depth, colour_type, interlace = png_header(data)
    assert (depth, colour_type, interlace) == (8, 6, 0), "expected 8-bit non-interlaced RGBA"
    raw = zlib.decompress(b"".join(body for tag, body in png_chunks(data) if tag == b"IDAT"))
    stride, bpp = width * 4, 4
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        previous = line
    return [[tuple(row[x * 4 : x * 4 + 4]) for x in range(width)] for row in rows]


def load_make_icons() -> ModuleType:
    """manifest/make_icons.py is a script, not a package module: load it by path."""
    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- manifest ----------------------------------------------------------------------------------


def test_manifest_is_valid_against_the_teams_schema(schema, manifest):
    assert schema_errors(schema, manifest) is None


def test_schema_validation_would_catch_a_broken_manifest(schema, manifest):
    broken = json.loads(json.dumps(manifest))
    broken["bots"][0]["botId"] = "tracker-bot"
    assert "botId" in (schema_errors(schema, broken) or "")


def test_manifest_version_is_the_schemas(schema, manifest):
    # Draft-04 validators ignore "const", so the schema check alone would accept any manifestVersion.
    expected = schema["properties"]["manifestVersion"]["const"]
    assert manifest["manifestVersion"] == expected
    assert f"/v{expected}/" in manifest["$schema"]


def test_version_is_the_semver_teams_accepts(schema, manifest):
    # The top-level "version" property only limits length; the schema's semver definition is the rule.
    assert re.fullmatch(schema["definitions"]["semver"]["pattern"], manifest["version"])
    assert manifest["version"] == "1.2.3"


def test_ids_names_and_domains_are_filled_in(manifest):
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["name"]["short"] == "Tracker"
    assert manifest["validDomains"] == ["tracker.example.police.uk"]
    assert manifest["developer"]["name"] == "Strategy, Delivery & Assurance"
    assert "${{" not in json.dumps(manifest)


def test_bot_is_conversational_in_every_scope(manifest):
    bot = manifest["bots"][0]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False


def test_command_lists_come_from_the_route_table(manifest):
    lists = manifest["bots"][0]["commandLists"]
    assert sorted(scope for entry in lists for scope in entry["scopes"]) == sorted(
        manifest["bots"][0]["scopes"]
    )
    for entry in lists:
        (scope,) = entry["scopes"]
        routes = manifest_commands(scope)
        assert 0 < len(entry["commands"]) <= 10
        assert [c["title"] for c in entry["commands"]] == [r.title for r in routes]
        assert [c["description"] for c in entry["commands"]] == [r.description for r in routes]


def test_developer_urls_are_configurable():
    built = build_manifest(APP_ID, "Tracker", developer_url="https://sdna.example.police.uk/")
    developer = built["developer"]
    assert developer["websiteUrl"] == "https://sdna.example.police.uk"
    assert developer["privacyUrl"] == "https://sdna.example.police.uk/privacy"
    assert developer["termsOfUseUrl"] == "https://sdna.example.police.uk/terms"


def test_inputs_are_tidied():
    built = build_manifest(
        f" {APP_ID.upper()} ",
        " Tracker ",
        valid_domains=[" Tracker.Example.Police.UK", "tracker.example.police.uk"],
    )
    assert built["id"] == APP_ID.upper()
    assert built["name"]["short"] == "Tracker"
    assert built["validDomains"] == ["tracker.example.police.uk"]


def test_a_thirty_character_name_is_accepted(schema):
    assert schema_errors(schema, build_manifest(APP_ID, "N" * 30)) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_id": "tracker-bot"}, "GUID"),
        ({"app_id": ""}, "GUID"),
        ({"app_id": "{" + APP_ID + "}"}, "GUID"),
        ({"app_id": APP_ID + "0"}, "GUID"),
        ({"app_id": "00000000-0000-0000-0000-000000000000"}, "all-zero"),
        ({"bot_name": "N" * 31}, "at most 30"),
        ({"bot_name": "   "}, "empty"),
        ({"bot_name": "Tra\ncker"}, "control"),
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"version": "1.0.0-beta"}, "MAJOR.MINOR.PATCH"),
        ({"version": "01.0.0"}, "MAJOR.MINOR.PATCH"),
        ({"valid_domains": ["https://tracker.example.police.uk"]}, "without https://"),
        ({"valid_domains": ["tracker.example.police.uk/api"]}, "without https://"),
        ({"valid_domains": ["*.uk"]}, "host name"),
        ({"valid_domains": "tracker.example.police.uk"}, "list"),
        ({"developer_url": "http://sdna.example.police.uk"}, "https://"),
    ],
)
def test_bad_inputs_are_refused_clearly(kwargs, message):
    args = {"app_id": APP_ID, "bot_name": "Tracker", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        build_manifest(**args)


def test_unknown_template_placeholder_is_an_error():
    with pytest.raises(ValueError, match="NOPE"):
        fill_placeholders({"a": ["x ${{NOPE}} y"]}, {"APP_ID": APP_ID})


# --- icons -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), [("color.png", 192), ("outline.png", 32)])
def test_icon_sizes(name, size):
    width, height, *_ = png_header((MANIFEST_DIR / name).read_bytes())
    assert (width, height) == (size, size)


def test_outline_icon_is_white_on_transparent():
    pixels = [p for row in png_rgba((MANIFEST_DIR / "outline.png").read_bytes()) for p in row]
    not_white = [p for p in pixels if p[3] and p[:3] != WHITE]
    assert not not_white, f"outline icon has coloured pixels, e.g. {not_white[:3]}"
    assert any(p[3] == 255 for p in pixels), "outline icon is blank"
    assert any(p[3] == 0 for p in pixels), "outline icon has no transparent background"


def test_color_icon_is_an_opaque_colour_tile_with_a_white_motif():
    pixels = png_rgba((MANIFEST_DIR / "color.png").read_bytes())
    centre = [p for row in pixels[48:144] for p in row[48:144]]
    assert all(p[3] == 255 for p in centre)
    assert any(p[:3] == WHITE for p in centre)
    assert any(len(set(p[:3])) > 1 for p in centre), "colour icon is greyscale"


@pytest.mark.parametrize(
    ("name", "size", "layers"), [("color.png", 192, "color_layers"), ("outline.png", 32, "outline_layers")]
)
def test_committed_icons_match_make_icons(name, size, layers):
    make_icons = load_make_icons()
    expected = make_icons.render(size, getattr(make_icons, layers)())
    actual = png_rgba((MANIFEST_DIR / name).read_bytes())
    assert actual == [[tuple(p) for p in row] for row in expected], f"re-run manifest/make_icons.py ({name})"


# --- package -----------------------------------------------------------------------------------


def test_package_holds_exactly_the_manifest_and_icons_at_its_root(tmp_path, manifest):
    path = write_package(tmp_path / "tracker.zip", manifest)
    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json")) == manifest
        for icon in ("color.png", "outline.png"):
            assert package.read(icon) == (MANIFEST_DIR / icon).read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_package_bytes_are_reproducible(tmp_path, manifest):
    first = write_package(tmp_path / "a.zip", manifest).read_bytes()
    second = write_package(tmp_path / "b.zip", manifest).read_bytes()
    assert first == second


def test_main_build_writes_the_package(tmp_path, schema):
    out = tmp_path / "dist" / "tracker-1.0.1.zip"
    path = main_build(APP_ID, "Tracker", out, "1.0.1", ["tracker.example.police.uk"])
    assert path == out
    with zipfile.ZipFile(path) as package:
        packaged = json.loads(package.read("manifest.json"))
    assert packaged == build_manifest(APP_ID, "Tracker", "1.0.1", ["tracker.example.police.uk"])
    assert schema_errors(schema, packaged) is None


def test_package_refuses_a_directory_as_the_output(tmp_path, manifest):
    with pytest.raises(IsADirectoryError):
        write_package(tmp_path, manifest)
