"""The Teams app package: manifest.json built from the template and the route table, plus icons.

``manifest/manifest.template.json`` holds everything static; ``${{NAME}}`` placeholders are filled
here. The bot's command lists come from ``bot.routes.manifest_commands`` so that the command menu
and the help text can never disagree. ``write_package`` zips the result the way Teams' "Upload a
custom app" expects: manifest.json and the icons at the zip root.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dialogs.links import link_domains
from dialogs.routes import manifest_commands

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifest"
TEMPLATE_PATH = MANIFEST_DIR / "manifest.template.json"

# A reserved example domain (RFC 2606): obviously a placeholder until the force supplies its own.
DEFAULT_DEVELOPER_URL = "https://tracker.example.com"

# Teams' documented limits, stricter than the JSON schema (which allows 12 commands, 128-char titles).
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_BOT_NAME = 30  # name.short in the schema
MAX_VALID_DOMAINS = 100
MAX_LINK_DOMAINS = 100

_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_NIL_GUID = "00000000-0000-0000-0000-000000000000"
# MAJOR.MINOR.PATCH only: Teams rejects pre-release and build suffixes. [0-9], not \d: no Unicode digits.
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
# A host name, optionally "*." for its subdomains; no scheme, port or path (Teams' rules).
_DOMAIN = re.compile(r"(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_PACKAGE_DATE = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same input gives identical bytes


def build_manifest(
    app_id: str,
    bot_name: str,
    version: str = "1.0.0",
    valid_domains: Sequence[str] = (),
    developer_url: str | None = None,
    link_domains: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The Teams manifest for this bot, as a dict ready for ``json.dumps``.

    ``app_id`` is the bot's Microsoft App ID (Entra app registration); it is used as both the Teams
    app id and ``bots[0].botId``. Pure apart from reading the shipped template.

    Raises ``ValueError`` with a readable message for any input Teams would reject.
    """
    values: dict[str, Any] = {
        "APP_ID": check_app_id(app_id),
        "BOT_NAME": check_bot_name(bot_name),
        "VERSION": check_version(version),
        "VALID_DOMAINS": check_valid_domains(valid_domains),
        "DEVELOPER_URL": check_developer_url(developer_url or DEFAULT_DEVELOPER_URL),
        # Link previews (issue 15): HMICFRS pages and the bot's own item links, unless given.
        "LINK_DOMAINS": check_valid_domains(
            link_domains
            if link_domains is not None
            else default_link_domains(developer_url or DEFAULT_DEVELOPER_URL)
        )[:MAX_LINK_DOMAINS],
    }
    template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    manifest = fill_placeholders(template, values)
    bot = manifest["bots"][0]
    bot["commandLists"] = command_lists(bot["scopes"])
    return manifest


def default_link_domains(own_url: str, urls: Sequence[str | None] = ()) -> list[str]:
    """HMICFRS's site, the hosts of the links the tracker holds (``urls``), and the bot's own."""
    return link_domains(urls, own_url)


def fill_placeholders(node: Any, values: Mapping[str, Any]) -> Any:
    """A copy of the JSON value ``node`` with every ``${{NAME}}`` replaced from ``values``.

    A string that is exactly one placeholder becomes the value itself (so a list can fill
    ``validDomains``); placeholders inside longer strings are replaced as text.
    """
    if isinstance(node, dict):
        return {key: fill_placeholders(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_placeholders(item, values) for item in node]
    if not isinstance(node, str):
        return node

    def lookup(name: str) -> Any:
        if name not in values:
            raise ValueError(f"manifest template placeholder ${{{{{name}}}}} has no value")
        return values[name]

    whole = _PLACEHOLDER.fullmatch(node)
    if whole:
        value = lookup(whole.group(1))
        return list(value) if isinstance(value, (list, tuple)) else value
    return _PLACEHOLDER.sub(lambda m: str(lookup(m.group(1))), node)


def command_lists(scopes: Sequence[str]) -> list[dict[str, Any]]:
    """One Teams command list per scope, from the route table, in menu order."""
    lists = []
    for scope in scopes:
        commands = []
        for route in manifest_commands(scope, limit=MAX_COMMANDS):
            # The schema is looser than what Teams renders, so enforce Teams' limits here.
            if not 0 < len(route.title) <= MAX_COMMAND_TITLE:
                raise ValueError(f"route {route.name!r}: title must be 1-{MAX_COMMAND_TITLE} characters")
            if len(route.description) > MAX_COMMAND_DESCRIPTION:
                raise ValueError(
                    f"route {route.name!r}: description must be at most {MAX_COMMAND_DESCRIPTION} characters"
                )
            commands.append({"title": route.title, "description": route.description})
        if commands:
            lists.append({"scopes": [scope], "commands": commands})
    return lists


def check_app_id(app_id: str) -> str:
    """The app id, stripped, if it is a usable GUID; else ``ValueError``."""
    cleaned = app_id.strip()
    if not _GUID.fullmatch(cleaned):
        raise ValueError(
            f"app id must be a GUID like 1b4f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d "
            f"(the bot's Microsoft App ID): got {app_id!r}"
        )
    if cleaned == _NIL_GUID:
        raise ValueError("app id is the all-zero GUID: use the bot's real Microsoft App ID")
    return cleaned


def check_bot_name(bot_name: str) -> str:
    """The bot's display name, stripped, if Teams accepts it as ``name.short``; else ``ValueError``."""
    cleaned = bot_name.strip()
    if not cleaned:
        raise ValueError("bot name must not be empty")
    if len(cleaned) > MAX_BOT_NAME:
        raise ValueError(
            f"bot name must be at most {MAX_BOT_NAME} characters: {cleaned!r} has {len(cleaned)}"
        )
    if any(not ch.isprintable() for ch in cleaned):
        raise ValueError(f"bot name must not contain control characters: got {bot_name!r}")
    return cleaned


def check_version(version: str) -> str:
    """The app version if it is MAJOR.MINOR.PATCH; else ``ValueError``."""
    if not _SEMVER.fullmatch(version):
        raise ValueError(
            f"version must be MAJOR.MINOR.PATCH such as 1.0.0 (Teams takes no pre-release tags): got {version!r}"
        )
    return version


def check_valid_domains(domains: Sequence[str]) -> list[str]:
    """Domains lower-cased and de-duplicated in order, if each is a bare host name; else ``ValueError``."""
    if isinstance(domains, str):  # a lone string would otherwise be read one character at a time
        raise ValueError(f"valid domains must be a list of host names, not the string {domains!r}")
    cleaned: list[str] = []
    for domain in domains:
        host = domain.strip().lower()
        if not _DOMAIN.fullmatch(host):
            raise ValueError(
                f"valid domain {domain!r} must be a host name such as tracker.example.police.uk "
                "or *.example.police.uk, without https://, a port or a path"
            )
        if host not in cleaned:
            cleaned.append(host)
    if len(cleaned) > MAX_VALID_DOMAINS:
        raise ValueError(f"at most {MAX_VALID_DOMAINS} valid domains are allowed: got {len(cleaned)}")
    return cleaned


def check_developer_url(url: str) -> str:
    """The developer site's https URL without a trailing slash; else ``ValueError``.

    The privacy and terms pages are ``<url>/privacy`` and ``<url>/terms``.
    """
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"developer URL must be an https:// address with no query or fragment: got {url!r}")
    return cleaned


def write_package(out_path: Path, manifest: dict[str, Any], icons_dir: Path = MANIFEST_DIR) -> Path:
    """Write the app package zip (manifest.json and the icons at its root) and return its path.

    Icons are read from ``icons_dir`` under the names the manifest gives them. The zip is written
    beside ``out_path`` first and then moved into place, so a failure never leaves half a package.
    """
    if out_path.is_dir():
        raise IsADirectoryError(f"{out_path} is a directory: give the path of the .zip to write")
    icon_names = list(dict.fromkeys(manifest["icons"].values()))
    for name in icon_names:
        if Path(name).name != name:
            raise ValueError(f"icon {name!r} must be a bare file name: Teams looks for icons at the zip root")
        if not (icons_dir / name).is_file():
            raise FileNotFoundError(f"icon {icons_dir / name} is missing: run python manifest/make_icons.py")

    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as package:
            manifest_json = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            _add_file(package, "manifest.json", manifest_json.encode("utf-8"))
            for name in icon_names:
                _add_file(package, name, (icons_dir / name).read_bytes())
        os.replace(partial, out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out_path


def _add_file(package: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_PACKAGE_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # rw-r--r--: some unzip tools otherwise extract with no permissions
    package.writestr(info, data)


def main_build(
    app_id: str,
    bot_name: str,
    out: Path,
    version: str,
    valid_domains: list[str],
    *,
    developer_url: str | None = None,
    link_domains: list[str] | None = None,
) -> Path:
    """Build the manifest and write the app package to ``out``; for ``tracker manifest build``."""
    manifest = build_manifest(app_id, bot_name, version, valid_domains, developer_url, link_domains)
    return write_package(out, manifest)
