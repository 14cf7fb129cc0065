"""Typed settings, read once from the environment and validated with clear errors.

Bot Framework's own variable names (MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType,
MicrosoftAppTenantId) plus Tracker's own. Nothing reads the environment anywhere else.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.db import DEFAULT_DATABASE_URL

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# (variable, meaning, default) — the README's configuration table is generated from this list.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("MicrosoftAppId", "Azure Bot's app (client) id. Empty: local mode, no authentication.", ""),
    ("MicrosoftAppPassword", "Client secret of that app registration (never logged).", ""),
    ("MicrosoftAppType", "SingleTenant or MultiTenant (UserAssignedMSI is not supported).", "SingleTenant"),
    ("MicrosoftAppTenantId", "Your Entra tenant id; required for SingleTenant.", ""),
    (
        "DATABASE_URL",
        "SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
        DEFAULT_DATABASE_URL,
    ),
    ("HOST", "Interface to listen on.", "127.0.0.1"),
    ("PORT", "Port to listen on.", "3978"),
    (
        "TRACKER_ALLOWED_TENANTS",
        "Comma-separated tenant ids allowed to talk to the bot (empty: any, local mode only).",
        "",
    ),
    (
        "TRACKER_EDITORS",
        "Comma-separated AAD object ids who may record evidence and updates on any item.",
        "",
    ),
    ("TRACKER_ADMINS", "Comma-separated AAD object ids who may also sign off, reopen and assign.", ""),
    ("TRACKER_WRITE_LIMIT", "Writes per person per window, as COUNT/MINUTES (0 disables).", "30/10"),
    ("TRACKER_MAX_BODY_BYTES", "Largest request body accepted on /api/messages.", "262144"),
    ("TRACKER_DIGEST_DAY", "Weekday of the digest.", "monday"),
    ("TRACKER_DIGEST_TIME", "Local time (Europe/London) of the digest, HH:MM.", "09:00"),
    ("TRACKER_TIMEZONE", "Time zone of the digest schedule and of 'today'.", "Europe/London"),
    (
        "TRACKER_SCHEDULER",
        "on: post digests from this process; off: use 'tracker digest send' instead.",
        "on",
    ),
    ("TRACKER_SEED_DEMO", "on: 'make run' seeds demo data into an empty database.", "off"),
    ("TRACKER_BOT_NAME", "The bot's display name (manifest, mentions).", "Tracker"),
    ("TRACKER_REFRESH_SECONDS", "How often to pick up other instances' writes.", "2"),
    (
        "TRACKER_OPENID_URL",
        "Bot Framework OpenID metadata URL (override only for tests).",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
    ),
    (
        "TRACKER_LOGIN_URL",
        "Entra authority for outbound tokens (override only for tests).",
        "https://login.microsoftonline.com",
    ),
    ("LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR.", "INFO"),
)


class SettingsError(ValueError):
    """A configuration problem, worded for the person starting the bot."""


def _in_memory(url: str) -> bool:
    database = url.split("://", 1)[1].lstrip("/").split("?")[0]
    return database in ("", ":memory:") or "mode=memory" in url


def _csv(value: str) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with :meth:`from_env`; tests construct it directly."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3978
    allowed_tenants: frozenset[str] = frozenset()
    editors: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    write_limit: int = 30
    write_window_minutes: int = 10
    max_body_bytes: int = 262_144
    digest_weekday: int = 0
    digest_time: dt.time = dt.time(9, 0)
    timezone: str = "Europe/London"
    scheduler: bool = True
    seed_demo: bool = False
    bot_name: str = "Tracker"
    refresh_seconds: float = 2.0
    openid_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    login_url: str = "https://login.microsoftonline.com"
    log_level: str = "INFO"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def schedule_label(self) -> str:
        return f"{WEEKDAYS[self.digest_weekday].capitalize()}s at {self.digest_time:%H:%M} ({self.timezone})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; raises :class:`SettingsError` listing every problem at once."""
        env = os.environ if env is None else env
        errors: list[str] = []

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or default).strip()

        def as_int(name: str, default: str, lo: int, hi: int) -> int:
            raw = get(name, default)
            try:
                value = int(raw)
            except ValueError:
                errors.append(f"{name} must be a whole number, not {raw!r}")
                return int(default)
            if not lo <= value <= hi:
                errors.append(f"{name} must be between {lo} and {hi}, not {value}")
            return value

        app_id, password = get("MicrosoftAppId"), env.get("MicrosoftAppPassword", "")
        app_type, tenant = (
            get("MicrosoftAppType", "SingleTenant") or "SingleTenant",
            get("MicrosoftAppTenantId"),
        )
        if app_id and not GUID.match(app_id):
            errors.append("MicrosoftAppId must be the app registration's GUID")
        if app_id and not password:
            errors.append("MicrosoftAppPassword is required when MicrosoftAppId is set")
        if app_type.lower() not in ("singletenant", "multitenant"):
            errors.append(f"MicrosoftAppType must be SingleTenant or MultiTenant, not {app_type!r}")
        if app_id and app_type.lower() == "singletenant" and not GUID.match(tenant):
            errors.append("MicrosoftAppTenantId (a GUID) is required for a SingleTenant bot")
        allowed = _csv(get("TRACKER_ALLOWED_TENANTS"))
        if app_id and not allowed:
            errors.append("TRACKER_ALLOWED_TENANTS must list your tenant id(s) when MicrosoftAppId is set")
        if any(not GUID.match(t) for t in allowed):
            errors.append("TRACKER_ALLOWED_TENANTS must be comma-separated tenant GUIDs")
        limit_raw = get("TRACKER_WRITE_LIMIT", "30/10")
        m = re.fullmatch(r"(\d{1,5})(?:/(\d{1,4}))?", limit_raw)
        if not m:
            errors.append(f"TRACKER_WRITE_LIMIT must look like 30/10 (writes/minutes), not {limit_raw!r}")
            m = re.fullmatch(r"(\d+)/(\d+)", "30/10")
        assert m is not None
        day = get("TRACKER_DIGEST_DAY", "monday").lower()
        if day not in WEEKDAYS:
            errors.append(f"TRACKER_DIGEST_DAY must be a weekday name, not {day!r}")
        time_raw = get("TRACKER_DIGEST_TIME", "09:00")
        try:
            digest_time = dt.time.fromisoformat(time_raw)
        except ValueError:
            errors.append(f"TRACKER_DIGEST_TIME must be HH:MM, not {time_raw!r}")
            digest_time = dt.time(9, 0)
        tz = get("TRACKER_TIMEZONE", "Europe/London")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(f"TRACKER_TIMEZONE {tz!r} is not a known time zone")
            tz = "Europe/London"
        flags = {}
        for name, default in (("TRACKER_SCHEDULER", "on"), ("TRACKER_SEED_DEMO", "off")):
            raw = get(name, default).lower()
            if raw not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
                errors.append(f"{name} must be on or off, not {raw!r}")
            flags[name] = raw in ("on", "true", "1", "yes")
        url = get("DATABASE_URL", DEFAULT_DATABASE_URL)
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            errors.append("DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        elif url.startswith("sqlite") and _in_memory(url):
            # The bot opens several connections (SQLAlchemy's, and the per-message hot path's):
            # each would get an empty database of its own.
            errors.append("DATABASE_URL: an in-memory SQLite database cannot be shared by the bot's connections; name a file")
        level = get("LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            errors.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
        try:
            refresh = float(get("TRACKER_REFRESH_SECONDS", "2"))
        except ValueError:
            errors.append("TRACKER_REFRESH_SECONDS must be a number")
            refresh = 2.0
        settings = cls(
            app_id=app_id, app_password=password, app_type=app_type, app_tenant_id=tenant, database_url=url,
            host=get("HOST", "127.0.0.1"), port=as_int("PORT", "3978", 1, 65535), allowed_tenants=allowed,
            editors=_csv(get("TRACKER_EDITORS")), admins=_csv(get("TRACKER_ADMINS")),
            write_limit=int(m.group(1)), write_window_minutes=int(m.group(2) or 10),
            max_body_bytes=as_int("TRACKER_MAX_BODY_BYTES", "262144", 1024, 50_000_000),
            digest_weekday=WEEKDAYS.index(day) if day in WEEKDAYS else 0, digest_time=digest_time, timezone=tz,
            scheduler=flags["TRACKER_SCHEDULER"], seed_demo=flags["TRACKER_SEED_DEMO"],
            bot_name=get("TRACKER_BOT_NAME", "Tracker"), refresh_seconds=refresh,
            openid_url=get("TRACKER_OPENID_URL", cls.openid_url), login_url=get("TRACKER_LOGIN_URL", cls.login_url),
            log_level=level,
        )  # fmt: skip
        if errors:
            raise SettingsError("Configuration problems:\n  - " + "\n  - ".join(errors))
        return settings
