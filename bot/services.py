"""Wiring: builds the object graph once, for the web app, ``tracker chat`` and the tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.adapter import TrackerAdapter
from bot.auth import OpenIdKeys, TokenProvider, TokenValidator
from bot.connector import Connector
from bot.handler import TrackerBot
from bot.invokes import SurfaceInvokes
from bot.members import Members
from bot.memory import ConversationMemory
from bot.outbox import Replies
from bot.proactive import AdapterPoster
from bot.settings import Settings
from dialogs.conversation import Conversation
from dialogs.digest import DigestConfig, DigestSender, DigestSource, Schedule, run_schedule
from dialogs.digest.mine import DigestViews
from dialogs.digest.sender import Sleep
from dialogs.language import Index, Resolver
from dialogs.policy import Policy
from dialogs.reminders import ReminderSchedule, ReminderSender, run_reminders
from dialogs.writes import RateLimit
from storage.outbox import Outbox
from storage.people import People
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
    digest: DigestSource
    replies: Replies
    members: Members | None = None  # issue 15: who reads a digest, for its per-reader refresh

    def today(self) -> dt.date:
        return self.clock().astimezone(self.settings.tz).date()

    @property
    def schedule(self) -> Schedule:
        s = self.settings
        return Schedule(s.digest_weekday, s.digest_time, s.tz, s.schedule_label)

    @property
    def reminder_schedule(self) -> ReminderSchedule:
        s = self.settings
        return ReminderSchedule(s.remind_day, s.remind_time, s.tz, s.remind_days)

    def reminder_sender(self, config: DigestConfig | None = None) -> ReminderSender:
        """Owner reminders (issue 15), posted through this bot's adapter into each person's 1:1 chat."""
        return ReminderSender(
            store=self.store, people=People(self.store), model=self.model,
            poster=AdapterPoster(self.adapter, self.settings.app_id), clock=self.clock,
            schedule=self.reminder_schedule, default=self.settings.remind_default, config=config,
        )  # fmt: skip

    def digest_sender(self, config: DigestConfig) -> DigestSender:
        """A digest sender that posts through this bot's adapter."""
        return DigestSender(
            store=self.store, subscriptions=self.subscriptions, source=self.digest,
            poster=AdapterPoster(self.adapter, self.settings.app_id), clock=self.clock, config=config,
            personalise=self.members.personalise if self.members else None,
        )  # fmt: skip


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
    """Build and tear down the whole graph: store, HTTP session, read model, adapter, bot."""
    own_session = session is None
    # A connection budget one host cannot exhaust, and one conversation can use only a few of
    # (bot.connector): in Teams every conversation of a region shares one serviceUrl.
    http = session or aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512, limit_per_host=256))
    store: Store | None = None
    try:
        store = await Store.open(settings.database_url)
        model = ReadModel(store)
        await model.load()
        model.warm()
        index = Index(model)
        index.warm()
        resolver = Resolver(index)
        subs = Subscriptions(store)
        digest = DigestSource(model, store, settings.tz)
        conversation = Conversation(
            store=store, model=model, resolver=resolver, policy=policy_for(settings), subscriptions=subs,
            rate=RateLimit(settings.write_limit, dt.timedelta(minutes=settings.write_window_minutes)),
            schedule_label=settings.schedule_label, digest=digest.outcome, tz=settings.tz,
        )  # fmt: skip
        tokens = TokenProvider(http, settings.app_id, settings.app_password.get_secret_value(), settings.app_tenant_id or None,
                               authority=settings.login_url) if settings.auth_enabled else None  # fmt: skip
        validator = (
            TokenValidator(settings.app_id, OpenIdKeys(http, settings.openid_url))
            if settings.auth_enabled
            else None
        )
        budget = settings.reply_budget_seconds
        connector = Connector(http, tokens.get_token if tokens else None, timeout=min(5.0, budget))
        adapter = TrackerAdapter(connector, app_id=settings.app_id, validator=validator,
                                 allowed_tenants=settings.allowed_tenants, budget=budget)  # fmt: skip
        replies = Replies(connector, Outbox(store), budget=budget, lease=settings.outbox_lease_seconds)

        def today() -> dt.date:
            return clock().astimezone(settings.tz).date()

        surfaces = SurfaceInvokes(
            conversation, digest_refresh=DigestViews(digest, model, settings.tz).for_user
        )
        bot = TrackerBot(conversation, ConversationMemory(store), store, subs, clock=clock, today=today,
                         typing_delay=typing_delay, replies=replies, surfaces=surfaces,
                         public_url=settings.public_url)  # fmt: skip
        yield Services(settings, store, model, resolver, subs, conversation, adapter, bot, http, clock, digest,
                       replies, Members(connector))  # fmt: skip
    finally:
        if store is not None:
            await store.close()
        if own_session:
            await http.close()


def digest_config(settings: Settings, **kw: Any) -> DigestConfig:
    """The digest limits, with the lease of TRACKER_DIGEST_LEASE_SECONDS (a send must end well within it)."""
    lease = dt.timedelta(seconds=settings.digest_lease_seconds)
    return DigestConfig(lease=lease, send_timeout=min(120.0, lease.total_seconds() / 2), **kw)


async def digest_task(
    svc: Services, *, sleep: Sleep = asyncio.sleep, config: DigestConfig | None = None
) -> None:
    """The weekly digest, for the app's lifetime (``tracker serve`` runs it unless TRACKER_SCHEDULER=off)."""
    config = config or digest_config(svc.settings)
    await run_schedule(svc.digest_sender(config), svc.schedule, svc.clock, sleep=sleep, config=config)


async def reminders_task(svc: Services, *, sleep: Sleep = asyncio.sleep) -> None:
    """Owner reminders and nudges, for the app's lifetime (with the digest, unless TRACKER_SCHEDULER=off)."""
    await run_reminders(svc.reminder_sender(), svc.reminder_schedule, svc.clock, sleep=sleep)


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
