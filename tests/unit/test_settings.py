"""Settings: read from the environment, validated with clear errors, documented in the README."""

from __future__ import annotations

import pytest

from bot.settings import VARIABLES, Settings, SettingsError
from tests.conftest import REPO

GUID = "00000000-1111-2222-3333-444444444444"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_defaults_are_local_mode() -> None:
    s = Settings.from_env({})
    assert not s.auth_enabled
    assert s.database_url == "sqlite+aiosqlite:///var/tracker.db"
    assert (s.port, s.digest_weekday, s.digest_time.hour) == (3978, 0, 9)


def test_every_problem_is_reported_at_once() -> None:
    env = {
        "MicrosoftAppId": "not-a-guid",
        "PORT": "eighty",
        "TRACKER_DIGEST_DAY": "funday",
        "DATABASE_URL": "mysql://x",
        "TRACKER_WRITE_LIMIT": "lots",
    }
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    msg = str(err.value)
    for fragment in ("MicrosoftAppId", "PORT", "TRACKER_DIGEST_DAY", "DATABASE_URL", "TRACKER_WRITE_LIMIT"):
        assert fragment in msg


def test_auth_needs_password_tenant_and_allowlist() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"MicrosoftAppId": GUID})
    assert "MicrosoftAppPassword" in str(err.value) and "TRACKER_ALLOWED_TENANTS" in str(err.value)
    s = Settings.from_env(
        {
            "MicrosoftAppId": GUID,
            "MicrosoftAppPassword": "s3cret",
            "MicrosoftAppTenantId": TENANT,
            "TRACKER_ALLOWED_TENANTS": TENANT,
            "TRACKER_ADMINS": "AAD-Admin",
        }
    )
    assert s.auth_enabled and s.admins == frozenset({"aad-admin"})
    assert "s3cret" not in repr(s)


def test_readme_documents_every_variable() -> None:
    readme = (REPO / "README.md").read_text()
    for name, _meaning, _default in VARIABLES:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:t?mode=memory&uri=true",
    ],
)
def test_in_memory_sqlite_is_refused_with_the_reason(url: str) -> None:
    with pytest.raises(SettingsError, match="in-memory SQLite"):
        Settings.from_env({"DATABASE_URL": url})


def test_file_databases_are_accepted() -> None:
    for url in (
        "sqlite+aiosqlite:///var/t.db",
        "sqlite+aiosqlite:////tmp/t.db",
        "postgresql+asyncpg://u@h/db",
    ):
        assert Settings.from_env({"DATABASE_URL": url}).database_url == url


def test_event_loop_is_uvloop_unless_asked_for_asyncio() -> None:
    assert Settings.from_env({}).event_loop == "uvloop"
    assert Settings.from_env({"TRACKER_EVENT_LOOP": " AsyncIO "}).event_loop == "asyncio"
    with pytest.raises(SettingsError, match=r"TRACKER_EVENT_LOOP.*uvloop or asyncio, not 'trio'"):
        Settings.from_env({"TRACKER_EVENT_LOOP": "trio"})
