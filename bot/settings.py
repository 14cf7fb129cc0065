"""Typed settings on pydantic-settings, read once from the environment and validated with clear errors.

Bot Framework's own variable names (MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType,
MicrosoftAppTenantId) plus Tracker's own. Nothing reads the environment anywhere else. Every field
is declared once, with its variable name, meaning and default: the README's configuration table is
checked against :data:`VARIABLES`, which is derived from the fields. Problems are reported all at
once, in plain words, as :class:`SettingsError`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from storage.db import DEFAULT_DATABASE_URL, is_in_memory

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FLAGS = {
    "on": True,
    "true": True,
    "1": True,
    "yes": True,
    "off": False,
    "false": False,
    "0": False,
    "no": False,
}


class SettingsError(ValueError):
    """A configuration problem, worded for the person starting the bot."""


def _ids(value: Any) -> frozenset[str]:
    """Comma-separated ids (or a collection of them), lower-cased."""
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(str(v).strip().lower() for v in value if str(v).strip())


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw not in _FLAGS:
        raise ValueError(f"must be on or off, not {raw!r}")
    return _FLAGS[raw]


def _whole(lo: int, hi: int) -> BeforeValidator:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a whole number, not {value!r}") from None
        if not lo <= number <= hi:
            raise ValueError(f"must be between {lo} and {hi}, not {number}")
        return number

    return BeforeValidator(check)


def _var(name: str, meaning: str, default: Any, *, shown: str | None = None) -> Any:
    """A field read from environment variable ``name`` (or set by its Python name in code)."""
    return Field(
        default, validation_alias=AliasChoices(name), description=meaning, json_schema_extra={"shown": shown}
    )


Ids = Annotated[frozenset[str], BeforeValidator(_ids)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class Settings(BaseSettings):
    """Everything configurable. Build with :meth:`from_env`; tests construct it directly by field name."""

    model_config = SettingsConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", hide_input_in_errors=True
    )

    app_id: str = _var(
        "MicrosoftAppId", "Azure Bot's app (client) id. Empty: local mode, no authentication.", ""
    )
    app_password: SecretStr = _var("MicrosoftAppPassword", "Client secret of that app registration (never logged).",
                                   SecretStr(""), shown="")  # fmt: skip
    app_type: str = _var("MicrosoftAppType", "SingleTenant or MultiTenant (UserAssignedMSI is not supported).",
                         "SingleTenant")  # fmt: skip
    app_tenant_id: str = _var("MicrosoftAppTenantId", "Your Entra tenant id; required for SingleTenant.", "")
    database_url: str = _var("DATABASE_URL", "SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
                             DEFAULT_DATABASE_URL)  # fmt: skip
    host: str = _var("HOST", "Interface to listen on.", "127.0.0.1")
    port: Annotated[int, _whole(1, 65535)] = _var("PORT", "Port to listen on.", 3978)
    allowed_tenants: Ids = _var("TRACKER_ALLOWED_TENANTS",
                                "Comma-separated tenant ids allowed to talk to the bot (empty: any, local mode only).",
                                frozenset(), shown="")  # fmt: skip
    editors: Ids = _var("TRACKER_EDITORS",
                        "Comma-separated AAD object ids who may record evidence and updates on any item.",
                        frozenset(), shown="")  # fmt: skip
    admins: Ids = _var("TRACKER_ADMINS", "Comma-separated AAD object ids who may also sign off, reopen and assign.",
                       frozenset(), shown="")  # fmt: skip
    # TRACKER_WRITE_LIMIT ("30/10") sets both of these; see _split_write_limit.
    write_limit: Annotated[int, _whole(0, 99_999)] = _var(
        "TRACKER_WRITE_LIMIT",
        "Writes per person per window, as COUNT/MINUTES (0 disables).",
        30,
        shown="30/10",
    )
    write_window_minutes: Annotated[int, _whole(1, 9_999)] = Field(10, exclude=True)
    max_body_bytes: Annotated[int, _whole(1024, 50_000_000)] = _var(
        "TRACKER_MAX_BODY_BYTES", "Largest request body accepted on /api/messages.", 262_144
    )
    digest_weekday: int = _var("TRACKER_DIGEST_DAY", "Weekday of the digest.", 0, shown="monday")
    digest_time: dt.time = _var("TRACKER_DIGEST_TIME", "Local time (Europe/London) of the digest, HH:MM.",
                                dt.time(9, 0), shown="09:00")  # fmt: skip
    timezone: str = _var(
        "TRACKER_TIMEZONE", "Time zone of the digest schedule and of 'today'.", "Europe/London"
    )
    scheduler: Flag = _var("TRACKER_SCHEDULER",
                           "on: post digests from this process; off: use 'tracker digest send' instead.",
                           True, shown="on")  # fmt: skip
    seed_demo: Flag = _var("TRACKER_SEED_DEMO", "on: 'make run' seeds demo data into an empty database.", False,
                           shown="off")  # fmt: skip
    bot_name: str = _var("TRACKER_BOT_NAME", "The bot's display name (manifest, mentions).", "Tracker")
    refresh_seconds: float = _var("TRACKER_REFRESH_SECONDS", "How often to pick up other instances' writes.", 2.0,
                                  shown="2")  # fmt: skip
    openid_url: str = _var("TRACKER_OPENID_URL", "Bot Framework OpenID metadata URL (override only for tests).",
                           "https://login.botframework.com/v1/.well-known/openidconfiguration")  # fmt: skip
    login_url: str = _var("TRACKER_LOGIN_URL", "Entra authority for outbound tokens (override only for tests).",
                          "https://login.microsoftonline.com")  # fmt: skip
    log_level: str = _var("LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR.", "INFO")
    event_loop: str = _var("TRACKER_EVENT_LOOP",
                           "uvloop (the default: asyncio's loop in C, ~10 % less CPU a turn) or asyncio.",
                           "uvloop")  # fmt: skip
    # ---- issue 15: link previews and owner reminders ----
    public_url: str = _var("TRACKER_PUBLIC_URL", "Base https URL of the bot's own item links (link previews).",
                           "https://tracker.example.com")  # fmt: skip
    remind_default: Flag = _var("TRACKER_REMIND_DEFAULT",
                                "on: owners get reminders unless they say stop; off: only those who ask.",
                                False, shown="off")  # fmt: skip
    remind_days: Annotated[int, _whole(1, 365)] = _var(
        "TRACKER_REMIND_DAYS",
        "Reminders list items due within this many days (and nudge this many days before).",
        14,
    )
    remind_day: Annotated[int, _whole(1, 28)] = _var(
        "TRACKER_REMIND_DAY", "Day of the month of the reminders.", 1
    )
    remind_time: dt.time = _var("TRACKER_REMIND_TIME", "Local time of the reminders and nudges, HH:MM.",
                                dt.time(9, 0), shown="09:00")  # fmt: skip
    # ---- delivery under faults (issue 16) ----
    insecure_local: Flag = _var("TRACKER_INSECURE_LOCAL",
                                "on: allow local mode (no MicrosoftAppId) to listen on a non-loopback interface.",
                                False, shown="off")  # fmt: skip
    reply_budget_seconds: float = _var("TRACKER_REPLY_BUDGET_SECONDS",
                                       "Longest a turn's replies may take before the rest waits in the outbox.",
                                       8.0, shown="8")  # fmt: skip
    outbox_lease_seconds: float = _var("TRACKER_OUTBOX_LEASE_SECONDS",
                                       "After this long a reply another instance was sending is sent again.",
                                       30.0, shown="30")  # fmt: skip
    digest_lease_seconds: float = _var("TRACKER_DIGEST_LEASE_SECONDS",
                                       "After this long a digest delivery left 'sending' counts as uncertain.",
                                       600.0, shown="600")  # fmt: skip

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        # Only what is passed in: :meth:`from_env` hands over the environment it was given, so a
        # test's mapping (or a direct construction) never mixes with the process's own variables.
        return (init_settings,)

    # ---- field rules (messages are read by the person starting the bot) ---------------------------

    @field_validator("app_id", "app_tenant_id", "app_type", "host", "bot_name", "timezone", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("app_id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        if value and not GUID.match(value):
            raise ValueError("must be the app registration's GUID")
        return value

    @field_validator("app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        value = value or "SingleTenant"
        if value.lower() not in ("singletenant", "multitenant"):
            raise ValueError(f"must be SingleTenant or MultiTenant, not {value!r}")
        return value

    @field_validator("allowed_tenants")
    @classmethod
    def _tenants(cls, value: frozenset[str]) -> frozenset[str]:
        if any(not GUID.match(t) for t in value):
            raise ValueError("must be comma-separated tenant GUIDs")
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        url = str(value).strip() or DEFAULT_DATABASE_URL
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if url.startswith("sqlite") and is_in_memory(url):
            # The bot opens several connections (SQLAlchemy's, and the per-message fast path's):
            # each would get an empty database of its own.
            raise ValueError(
                "an in-memory SQLite database cannot be shared by the bot's connections; name a file"
            )
        return url

    @field_validator("digest_weekday", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> int:
        if isinstance(value, int):
            return value
        day = str(value).strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(f"must be a weekday name, not {day!r}")
        return WEEKDAYS.index(day)

    @field_validator("digest_time", "remind_time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> dt.time:
        if isinstance(value, dt.time):
            return value
        try:
            return dt.time.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"must be HH:MM, not {value!r}") from None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator("refresh_seconds", "reply_budget_seconds", "outbox_lease_seconds", "digest_lease_seconds",
                     mode="before")  # fmt: skip
    @classmethod
    def _seconds(cls, value: Any) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number") from None

    @field_validator("reply_budget_seconds")
    @classmethod
    def _budget(cls, value: float) -> float:
        if not 0.5 <= value <= 12:  # Teams gives up on a request after 15 s
            raise ValueError(f"must be between 0.5 and 12 seconds, not {value:g}")
        return value

    @field_validator("outbox_lease_seconds", "digest_lease_seconds")
    @classmethod
    def _lease(cls, value: float) -> float:
        if not 1 <= value <= 86_400:
            raise ValueError(f"must be between 1 and 86400 seconds, not {value:g}")
        return value

    @field_validator("event_loop", mode="before")
    @classmethod
    def _loop(cls, value: Any) -> str:
        name = str(value).strip().lower()
        if name not in ("uvloop", "asyncio"):
            raise ValueError(f"must be uvloop or asyncio, not {name!r}")
        if name == "uvloop" and importlib.util.find_spec("uvloop") is None:
            raise ValueError(
                "uvloop is not installed here (pip install uvloop, or set TRACKER_EVENT_LOOP=asyncio)"
            )
        return name

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
        return level

    # ---- derived -----------------------------------------------------------------------------

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
        """Read and validate ``env`` (default: the process environment); raises :class:`SettingsError`
        listing every problem at once."""
        env = os.environ if env is None else env
        given = {
            name: value for name in _NAMES if (value := env.get(name)) is not None and value.strip() != ""
        }
        if "MicrosoftAppPassword" in env:  # a secret is taken as it is, spaces and all
            given["MicrosoftAppPassword"] = env["MicrosoftAppPassword"]
        problems = _split_write_limit(given)
        problems += _needs(given)
        try:
            settings = cls.model_validate(given)
        except ValidationError as err:
            problems = [_plain(e) for e in err.errors()] + problems
            raise SettingsError("Configuration problems:\n  - " + "\n  - ".join(problems)) from None
        if problems:
            raise SettingsError("Configuration problems:\n  - " + "\n  - ".join(problems))
        return settings


def _split_write_limit(given: dict[str, Any]) -> list[str]:
    """TRACKER_WRITE_LIMIT "30/10" is two settings: the count and the window in minutes."""
    raw = given.pop("TRACKER_WRITE_LIMIT", None)
    if raw is None:
        return []
    m = re.fullmatch(r"(\d{1,5})(?:/(\d{1,4}))?", raw.strip())
    if not m:
        return [f"TRACKER_WRITE_LIMIT must look like 30/10 (writes/minutes), not {raw!r}"]
    given["write_limit"] = int(m.group(1))
    given["write_window_minutes"] = int(m.group(2) or 10)
    return []


def _needs(given: Mapping[str, Any]) -> list[str]:
    """Settings that only make sense together (each is valid on its own)."""
    app_id = str(given.get("MicrosoftAppId", "")).strip()
    if not app_id:
        return []
    problems = []
    if not given.get("MicrosoftAppPassword"):
        problems.append("MicrosoftAppPassword is required when MicrosoftAppId is set")
    single = str(given.get("MicrosoftAppType") or "SingleTenant").strip().lower() == "singletenant"
    if single and not GUID.match(str(given.get("MicrosoftAppTenantId", "")).strip()):
        problems.append("MicrosoftAppTenantId (a GUID) is required for a SingleTenant bot")
    if not str(given.get("TRACKER_ALLOWED_TENANTS", "")).strip():
        problems.append("TRACKER_ALLOWED_TENANTS must list your tenant id(s) when MicrosoftAppId is set")
    return problems


def _plain(error: Any) -> str:
    """One pydantic error as a sentence naming the variable."""
    loc = error.get("loc") or ("?",)
    name = str(loc[0])
    field = Settings.model_fields.get(name)
    variable = _variable_of(field) if field is not None else name
    msg = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if error.get("type") != "value_error":
        msg = f"is not valid ({msg.lower()})"
    return f"{variable} {msg}"


def _variable_of(field: Any) -> str:
    alias = field.validation_alias
    return str(alias.choices[0]) if isinstance(alias, AliasChoices) else str(alias)


def _variables() -> tuple[tuple[str, str, str], ...]:
    out = []
    for field in Settings.model_fields.values():
        if field.validation_alias is None:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        shown = extra.get("shown")
        default = field.default
        text = shown if shown is not None else str(default)
        out.append((_variable_of(field), field.description or "", str(text)))
    return tuple(out)


VARIABLES: tuple[tuple[str, str, str], ...] = _variables()
"""(variable, meaning, default as shown) for every setting: the README's configuration table."""
_NAMES = frozenset(name for name, _, _ in VARIABLES)
