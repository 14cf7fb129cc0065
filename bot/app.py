"""The aiohttp app factory: POST /api/messages and GET /healthz.

No singletons: :func:`create_app` wires everything from a :class:`Settings`; every resource with
a lifetime (engine, HTTP session, background tasks) is opened and closed in a ``cleanup_ctx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.adapter import Forbidden, tenant_of
from bot.auth import AuthUnavailable, Unauthorized
from bot.logs import turn_log_context
from bot.services import Clock, Services, refresh_loop, services, utc_clock
from bot.settings import Settings
from bot.wire import decode_body, encode_body

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
SETTINGS = web.AppKey("settings", Settings)

BackgroundTask = Callable[[Services], Coroutine[Any, Any, None]]


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# Lone UTF-16 surrogates (legal as JSON escapes, e.g. "\\ud800") cannot be encoded as UTF-8,
# and PostgreSQL text cannot hold NUL: either would fail deep inside a turn (posting the reply,
# saving evidence). C0 controls other than tab, newline and carriage return have no business in
# a chat message either. They are replaced or dropped once, here, before any bot code sees them.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_DEPTH = 64


def clean_strings(value: Any, depth: int = 0) -> Any:
    """Every string in a parsed JSON value, with lone surrogates replaced and controls dropped."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
        return _CONTROL.sub("", value) if _CONTROL.search(value) else value
    if depth >= _MAX_DEPTH:
        raise ValueError("activity nested too deeply")
    if isinstance(value, dict):
        return {clean_strings(k, depth + 1): clean_strings(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_strings(v, depth + 1) for v in value]
    return value


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def messages(request: web.Request) -> web.StreamResponse:
    """The Bot Framework messaging endpoint."""
    if request.content_type != "application/json":
        return _problem(415, "expected application/json")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "request body too large")
    try:
        body = decode_body(raw)
        # JSON can only carry surrogates and control characters as \u escapes, and cannot nest
        # deeper than its brackets: most activities need no walk at all (it costs ~0.2 ms).
        if b"\\u" in raw or raw.count(b"{") + raw.count(b"[") >= _MAX_DEPTH:
            body = clean_strings(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _problem(400, "malformed JSON")
    if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body.get("type"):
        return _problem(400, "not a Bot Framework activity")
    conv = body.get("conversation")
    # Every line logged from here on, by any module, carries these two ids.
    with turn_log_context(activity_id=_id(body.get("id")),
                          conversation_id=_id(conv.get("id")) if isinstance(conv, dict) else None):  # fmt: skip
        return await _process(request.app[SERVICES], body, request.headers.get("Authorization"))


async def _process(svc: Services, body: dict[str, Any], auth_header: str | None) -> web.StreamResponse:
    """Authenticate and run the turn; map refusals to 401/403/503 (never 500)."""
    try:
        invoke = await svc.adapter.process(body, auth_header, svc.bot.on_turn)
    except Unauthorized as err:
        log.info("401 refused: %s", err.reason)
        return _problem(401, "unauthorized")
    except AuthUnavailable:
        log.warning("503: signing keys unavailable")
        return _problem(503, "authentication keys unavailable, try again")
    except Forbidden as err:
        log.warning("403 refused: tenant %s: %s", tenant_of(body) or "(none)", err)
        return _problem(403, "tenant not allowed")
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        # The activity could not even be read (bot code's own errors are handled inside the
        # turn by the adapter's on_turn_error): the client's fault, and nothing ran.
        log.info("400 unreadable activity: %s", err.__class__.__name__)
        return _problem(400, "unreadable activity")
    if invoke is not None:
        return web.Response(body=encode_body(invoke.body), status=int(invoke.status or 200),
                            content_type="application/json", charset="utf-8")  # fmt: skip
    return web.Response(status=200)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: the database answers (and which event loop serves, TRACKER_EVENT_LOOP)."""
    svc = request.app[SERVICES]
    try:
        await asyncio.wait_for(svc.store.ping(), timeout=5)
    except Exception as err:
        return web.json_response({"status": "error", "database": err.__class__.__name__}, status=503)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # "uvloop" or "asyncio"
    return web.json_response(
        {"status": "ok", "items": len(svc.model.items), "seq": svc.model.seq, "loop": loop}
    )


def new_event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    """The loop ``tracker serve`` runs on (TRACKER_EVENT_LOOP). uvloop by default: the same asyncio
    API with its scheduling, sockets and timers in C, which takes ~10 % off the CPU of a turn here
    (bench/README.md); the suite runs on it too (tests/conftest.py), and a part of it on asyncio's."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_clock,
    background: tuple[BackgroundTask, ...] = (),
    typing_delay: float = 0.25,
    freeze_gc: bool = False,
) -> web.Application:
    """Build the web app. ``background`` tasks (e.g. the digest scheduler) run for its lifetime."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        async with services(settings, clock=clock, typing_delay=typing_delay) as svc:
            app[SERVICES] = svc
            tasks = [
                asyncio.create_task(
                    refresh_loop(svc.model, settings.refresh_seconds, svc.store), name="refresh"
                ),
                asyncio.create_task(svc.replies.run(), name="outbox"),  # replies kept for later (bot.outbox)
            ]
            tasks += [
                asyncio.create_task(task(svc), name=getattr(task, "__name__", "background"))
                for task in background
            ]
            if freeze_gc:
                # Everything built so far lives as long as the process: keep it out of the
                # collector's generation-2 scans, whose pauses otherwise set the p99 (~60 ms).
                gc.collect()
                gc.freeze()
            log.info("tracker ready: %d reports, %d items; auth %s", len(svc.model.reports), len(svc.model.items),
                     "on" if settings.auth_enabled else "OFF (local mode)")  # fmt: skip
            try:
                yield
            finally:
                for t in tasks:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t

    app.cleanup_ctx.append(lifetime)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app
