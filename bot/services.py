"""Wiring: builds the object graph once, for the web app, ``tracker chat`` and the tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp

from bot.adapter import TrackerAdapter
from bot.auth import OpenIdKeys, TokenProvider, TokenValidator
from bot.connector import Connector
from bot.handler import TrackerBot
from bot.resolve import Resolver
from bot.scheduler import DigestSource
from bot.settings import Settings
from bot.state import SqlConversationState, SqlStorage
from dialogs.conversation import Conversation
from dialogs.policy import Policy
from dialogs.writes import RateLimit
from storage.db import create_engine, session_factory
from storage.hotpath import HotPath
from storage.readmodel import ReadModel
from storage.store import Store
from storage.subscriptions import Subscriptions

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    """Everything a running bot needs, built by :func:`services`."""

    settings: Settings
    store: Store
    model: ReadModel
    resolver: Resolver
    subscriptions: Subscriptions
    conversation: Conversation
    adapter: TrackerAdapter
    bot: TrackerBot
    session: aiohttp.ClientSession
    clock: Clock

    def today(self) -> dt.date:
        return self.clock().astimezone(self.settings.tz).date()


def policy_for(settings: Settings) -> Policy:
    policy = Policy.from_lists(
        set(settings.editors), set(settings.admins), auth_enabled=settings.auth_enabled
    )
    if policy.open_writes:
        log.warning(
            "local mode: no MicrosoftAppId and no TRACKER_EDITORS/TRACKER_ADMINS, so everyone may write"
        )
    elif not settings.editors and not settings.admins:
        log.warning("TRACKER_EDITORS and TRACKER_ADMINS are empty: only item owners can record evidence")
    return policy


@contextlib.asynccontextmanager
async def services(
    settings: Settings,
    *,
    clock: Clock = utc_clock,
    session: aiohttp.ClientSession | None = None,
    typing_delay: float = 0.25,
) -> AsyncIterator[Services]:
    """Build and tear down the whole graph: engine, HTTP session, read model, adapter, bot."""
    engine = create_engine(settings.database_url)
    own_session = session is None
    http = session or aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, limit_per_host=50))
    hot: HotPath | None = None
    try:
        hot = await HotPath.open(settings.database_url)
        store = Store(session_factory(engine), hot)
        model = ReadModel(store)
        await model.load()
        resolver = Resolver(model)
        resolver.warm()
        subs = Subscriptions(store)
        policy = policy_for(settings)
        conversation = Conversation(
            store=store, model=model, resolver=resolver, policy=policy, subscriptions=subs,
            rate=RateLimit(settings.write_limit, dt.timedelta(minutes=settings.write_window_minutes)),
            schedule_label=settings.schedule_label, digest=DigestSource(model, store, settings.tz).outcome,
        )  # fmt: skip
        tokens = TokenProvider(http, settings.app_id, settings.app_password, settings.app_tenant_id or None,
                               authority=settings.login_url) if settings.auth_enabled else None  # fmt: skip
        validator = (
            TokenValidator(settings.app_id, OpenIdKeys(http, settings.openid_url))
            if settings.auth_enabled
            else None
        )
        connector = Connector(http, tokens.get_token if tokens else None)
        adapter = TrackerAdapter(
            connector, app_id=settings.app_id, validator=validator, allowed_tenants=settings.allowed_tenants
        )
        conv_state = SqlConversationState(SqlStorage(store.sessions, hot))

        def today() -> dt.date:
            return clock().astimezone(settings.tz).date()

        bot = TrackerBot(
            conversation, conv_state, store, subs, clock=clock, today=today, typing_delay=typing_delay
        )
        yield Services(settings, store, model, resolver, subs, conversation, adapter, bot, http, clock)
    finally:
        if hot is not None:
            await hot.close()
        if own_session:
            await http.close()
        await engine.dispose()


KEY_RETENTION = dt.timedelta(days=2)  # Teams re-sends within minutes; questions expire in 30
PRUNE_EVERY = 3600.0


async def refresh_loop(model: ReadModel, every: float, store: Store | None = None) -> None:
    """Pick up other instances' writes, and hourly forget old idempotency keys (runs until cancelled)."""
    loop = asyncio.get_running_loop()
    next_prune = loop.time()
    while True:
        await asyncio.sleep(every)
        try:
            await model.refresh()
            if store is not None and loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_EVERY
                removed = await store.prune_keys(utc_clock() - KEY_RETENTION)
                if removed:
                    log.info("forgot %d idempotency keys older than %s", removed, KEY_RETENTION)
        except Exception:
            log.warning("background refresh failed; will retry", exc_info=True)
