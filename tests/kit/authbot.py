"""A running bot with authentication on: its local login server, tokens, and guards (shared by the
auth, roles, security and fuzz tests)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.db import create_engine
from storage.models import Base
from storage.store import Store
from tests.kit.authkit import AuthServer, KeyPair, channel_claims, mint, run_auth_server
from tests.kit.botkit import TENANT, RunningBot, running_bot
from tests.kit.data import seed_small

APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "tracker-test-app-password-Zq9x!"
KID = "tracker-test-kid-1"
OTHER_TENANT = "0b5f0c8e-1111-4a4a-9c9c-222233334444"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


# ---- shared helpers ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and remember) any name lookup that is not loopback: no test may reach a real
    login endpoint, even by accident through a default URL."""
    attempted: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            attempted.append(name)
            raise OSError(f"test network guard: {name} is not loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempted
    assert attempted == [], f"tests tried to reach {attempted}"


@dataclass
class AuthedBot:
    """A running bot with authentication on, its login server and the key its tokens use."""

    bot: RunningBot
    auth: AuthServer
    signing: KeyPair

    @property
    def service_url(self) -> str:
        return self.bot.acts.service_url

    def token(self, **claims: Any) -> str:
        """A valid channel token for this bot (``claims`` override or break it)."""
        return mint(channel_claims(APP_ID, self.service_url, **claims), self.signing)

    async def post(self, activity: dict[str, Any], *, token: str | None = None) -> tuple[int, Any]:
        """POST with ``Authorization: Bearer <valid token>`` (or the given one)."""
        return await self.bot.post(activity, headers={"Authorization": f"Bearer {token or self.token()}"})

    async def say(self, text: str, **kw: Any) -> list[dict[str, Any]]:
        """An authenticated personal message; returns the replies it produced."""
        before = len(self.bot.connector.messages())
        status, _ = await self.post(self.bot.acts.message(text, **kw))
        assert status == 200, status
        return self.bot.connector.messages()[before:]


def auth_settings(db_url: str, auth: AuthServer, **overrides: Any) -> Settings:
    """Production-shaped settings, pointed at the local login server."""
    values: dict[str, Any] = {
        "app_id": APP_ID, "app_password": APP_PASSWORD, "app_tenant_id": TENANT,
        "allowed_tenants": frozenset({TENANT}), "database_url": db_url, "write_limit": 100,
        "openid_url": auth.metadata_url, "login_url": auth.authority,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)


async def seed(db_url: str) -> dict[str, int]:
    """The small tracker (tests/data.py) in a fresh database; returns item ids by name."""
    engine = create_engine(db_url)
    try:
        return await seed_small(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def authed_bot(db_url: str, signing: KeyPair, **overrides: Any) -> AsyncIterator[AuthedBot]:
    """Seed, start a login server publishing ``signing`` (endorsed for msteams) and the app."""
    await seed(db_url)
    async with (
        run_auth_server([signing], endorsements={signing.kid: ["msteams"]}) as auth,
        running_bot(auth_settings(db_url, auth, **overrides)) as bot,
    ):
        yield AuthedBot(bot, auth, signing)


async def fingerprint(store: Store) -> dict[str, list[str]]:
    """Every row of every table, as text: equal fingerprints mean nothing at all was written."""
    out: dict[str, list[str]] = {}
    async with store.sessions() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = sorted(json.dumps(list(r), default=str) for r in rows)
    return out
