"""A mock Bot Connector service for load tests, run inside the load generator's process.

A bot under test replies by calling the Bot Connector REST API at the inbound activity's
``serviceUrl``.  This module plays that service on 127.0.0.1 and tells the load generator *when*
each reply arrived, so the generator can measure "inbound activity sent" -> "reply received by
the channel", which is the latency a Teams user actually sees.

Matching is by conversation id and the inbound activity's id: the load generator runs one turn at a
time per conversation, calls :meth:`MockConnector.expect` before sending, and awaits the returned
future, which resolves to an :class:`Arrival` (the ``time.perf_counter()`` stamp taken when the
first *message* reply for that turn arrived, and the reply itself). A reply that names another
activity (``/activities/{id}`` or ``replyToId``) is a late reply to an earlier turn: it is counted
as ``stale`` and never completes the current one. Stamping here (rather than when the awaiting
task wakes up) keeps event-loop scheduling delay in the load generator out of the figure.

Hang mode (:meth:`MockConnector.hang`): for chosen conversation ids the connector accepts the
request and does not answer, until :meth:`release` or ``max_hold_s`` (then 503), or answers after
a bounded delay. It plays a Bot Connector region in trouble for a few conversations, to measure
whether the others stay healthy.

It must stay cheap because it shares a core with the load generator: no access log, one
``json.loads`` per reply, constant-size responses.  botbuilder's connector client sends through
``requests`` in executor threads with a new ``requests.Session`` per turn, so the target opens
many short-lived (and sometimes leaked, idle) connections; the listen backlog is raised and idle
keep-alive connections are closed after ``keepalive_timeout`` seconds to bound open sockets.

Routes handled (anything else answers 404 and is counted in ``unhandled``):

* ``POST /v3/conversations/{conversationId}/activities``               send to conversation
* ``POST /v3/conversations/{conversationId}/activities/{activityId}``  reply to activity
* ``PUT|DELETE /v3/conversations/{conversationId}/activities/{activityId}``  update/delete
* ``GET /v3/conversations/{conversationId}/members[/{memberId}]``      Teams member lookup
* ``POST /v3/conversations``                                           create conversation

Standalone use, to point a manually started bot at it::

    .venv/bin/python -m bench.mock_connector --port 3979 --seconds 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

MemberLookup = Callable[[str], Mapping[str, Any]]

_CONVERSATION = "/v3/conversations/{conversation_id}"


@dataclass(slots=True)
class ConnectorStats:
    """Counters since the last :meth:`MockConnector.reset_stats`.

    Byte counts are HTTP *bodies* only (headers are excluded), which is what differs between
    targets; header overhead is roughly constant per request.
    """

    requests: int = 0  # every HTTP request that reached a handler, including 404s
    replies: int = 0  # activities of type "message" posted to a conversation
    matched: int = 0  # replies that resolved a waiting load-generator request
    unmatched: int = 0  # replies nobody waited for: late, or a 2nd message in the same turn
    other_activities: int = 0  # typing indicators, events, updates, deletes
    lookups: int = 0  # member / conversation-creation calls
    stale: int = 0  # message replies naming an earlier activity than the one awaited
    hung: int = 0  # requests held by hang mode
    unhandled: int = 0  # requests for routes this mock does not implement
    bad_requests: int = 0  # bodies that were not a JSON object
    bytes_in: int = 0
    bytes_out: int = 0

    def as_dict(self) -> dict[str, int]:
        """Plain dict for JSON output."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A reply that completed a waiting turn: when it arrived, and the activity as posted."""

    at: float
    activity: dict[str, Any]


def default_member(member_id: str) -> dict[str, Any]:
    """A plausible Teams member profile for ``GET .../members/{id}`` (``TeamsInfo.get_member``)."""
    stable = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-member:{member_id}")
    return {
        "id": member_id,
        "name": "Bench User",
        "aadObjectId": str(stable),
        "givenName": "Bench",
        "surname": "User",
        "email": "bench.user@example.police.uk",
        "userPrincipalName": "bench.user@example.police.uk",
        "userRole": "user",
    }


class MockConnector:
    """An in-process aiohttp server that plays the Bot Connector service.

    Use as ``async with MockConnector() as connector:``; ``connector.service_url`` is what goes
    into the inbound activity's ``serviceUrl``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        backlog: int = 2048,
        keepalive_timeout: float = 15.0,
        member_lookup: MemberLookup = default_member,
    ) -> None:
        """Configure; nothing is bound until :meth:`start`. ``port=0`` picks a free port."""
        self._host = host
        self._requested_port = port
        self._backlog = backlog
        self._keepalive_timeout = keepalive_timeout
        self._member_lookup = member_lookup
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._waiters: dict[str, tuple[asyncio.Future[Arrival], str | None]] = {}
        self._hang_ids: frozenset[str] = frozenset()
        self._hang_delay: float | None = None
        self._hang_max = 60.0
        self._released = asyncio.Event()
        self._held = 0  # requests being held right now
        self._ids = itertools.count(1)
        self._unhandled_seen: set[str] = set()
        self.stats = ConnectorStats()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving."""
        app = web.Application()
        app.router.add_post(_CONVERSATION + "/activities", self._on_activity)
        app.router.add_post(_CONVERSATION + "/activities/{activity_id}", self._on_activity)
        app.router.add_put(_CONVERSATION + "/activities/{activity_id}", self._on_update)
        app.router.add_delete(_CONVERSATION + "/activities/{activity_id}", self._on_delete)
        app.router.add_get(_CONVERSATION + "/members", self._on_members)
        app.router.add_get(_CONVERSATION + "/members/{member_id}", self._on_member)
        app.router.add_get(_CONVERSATION + "/pagedmembers", self._on_paged_members)
        app.router.add_post("/v3/conversations", self._on_create_conversation)
        app.router.add_route("*", "/{tail:.*}", self._on_unhandled)
        # access_log=None: formatting a log line per request would cost more than the handler.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=self._keepalive_timeout
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self._host, self._requested_port, backlog=self._backlog, reuse_address=True
        )
        await site.start()
        server = site._server  # aiohttp exposes no public accessor for the bound port
        sockets = getattr(server, "sockets", None)
        assert sockets, "mock connector did not bind"
        self._port = sockets[0].getsockname()[1]
        logger.debug("mock connector listening on %s", self.service_url)

    async def stop(self) -> None:
        """Stop serving and fail any requests still waiting for a reply."""
        self.release()  # held requests answer now, so the runner's cleanup does not wait on them
        for future, _ in self._waiters.values():
            if not future.done():
                future.cancel()
        self._waiters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MockConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError("MockConnector.start() has not been called")
        return self._port

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` to put in inbound activities (trailing slash, as Teams sends it)."""
        return f"http://{self._host}:{self.port}/"

    # -- waiters ---------------------------------------------------------------------------------

    def expect(self, conversation_id: str, activity_id: str | None = None) -> asyncio.Future[Arrival]:
        """Register interest in the next message reply to ``conversation_id``.

        The future resolves to the :class:`Arrival` of the first message reply.  With
        ``activity_id``, a reply that names a different activity (a late reply to an earlier turn
        of the same conversation) does not count.  Call it *before* sending the inbound activity so
        a fast reply cannot be missed.
        """
        future: asyncio.Future[Arrival] = asyncio.get_running_loop().create_future()
        self._waiters[conversation_id] = (future, activity_id)
        return future

    def forget(self, conversation_id: str) -> None:
        """Drop a waiter (after a timeout or error) so the table cannot grow without bound."""
        self._waiters.pop(conversation_id, None)

    @property
    def pending(self) -> int:
        """Waiters registered but not yet resolved or forgotten."""
        return len(self._waiters)

    @property
    def open_connections(self) -> int:
        """Client connections currently open to the connector (idle keep-alive ones included)."""
        if self._runner is None or self._runner.server is None:
            return 0
        return len(self._runner.server.connections)

    # -- hang mode -------------------------------------------------------------------------------

    def hang(
        self, conversation_ids: Iterable[str], *, delay_s: float | None = None, max_hold_s: float = 60.0
    ) -> None:
        """Hold every request for these conversations: unanswered until :meth:`release` or
        ``max_hold_s`` (then 503), or, with ``delay_s``, answered normally after that long.
        Both are capped by ``max_hold_s`` so nothing waits for ever."""
        self._hang_ids = frozenset(conversation_ids)
        self._hang_delay = delay_s
        self._hang_max = max_hold_s
        self._released = asyncio.Event()

    @property
    def held(self) -> int:
        """Requests being held by hang mode right now."""
        return self._held

    def release(self) -> None:
        """End hang mode: held requests answer 503 now, later ones are served normally."""
        self._hang_ids = frozenset()
        self._released.set()

    async def _hold(self) -> web.Response | None:
        """Hang-mode wait; returns the answer to give, or None to answer normally."""
        self.stats.hung += 1
        released = self._released
        self._held += 1
        try:
            if self._hang_delay is not None:
                await asyncio.sleep(min(self._hang_delay, self._hang_max))
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), self._hang_max)
            return web.Response(status=503, headers={"Retry-After": "1"})
        finally:
            self._held -= 1

    def reset_stats(self) -> ConnectorStats:
        """Start a fresh set of counters; returns the previous ones."""
        previous, self.stats = self.stats, ConnectorStats()
        return previous

    # -- handlers --------------------------------------------------------------------------------

    def _json_response(self, payload: bytes) -> web.Response:
        self.stats.bytes_out += len(payload)
        return web.Response(body=payload, content_type="application/json")

    async def _read_activity(self, request: web.Request) -> tuple[float, dict[str, Any] | None]:
        body = await request.read()
        arrived = time.perf_counter()
        stats = self.stats
        stats.requests += 1
        stats.bytes_in += len(body)
        try:
            activity = json.loads(body)
        except ValueError:
            activity = None
        if not isinstance(activity, dict):
            stats.bad_requests += 1
            return arrived, None
        return arrived, activity

    async def _on_activity(self, request: web.Request) -> web.Response:
        arrived, activity = await self._read_activity(request)
        if activity is None:
            return web.Response(status=400)
        conversation_id = request.match_info["conversation_id"]
        if self._hang_ids and conversation_id in self._hang_ids:
            held = await self._hold()
            if held is not None:
                return held
        stats = self.stats
        # Only a message counts as "the reply": a bot may send a typing indicator first.
        if activity.get("type", "message") == "message":
            stats.replies += 1
            waiter = self._waiters.get(conversation_id)
            if waiter is None or waiter[0].done():
                stats.unmatched += 1
            else:
                future, expected = waiter
                names = request.match_info.get("activity_id") or activity.get("replyToId")
                if expected is not None and names is not None and names != expected:
                    stats.stale += 1
                else:
                    del self._waiters[conversation_id]
                    future.set_result(Arrival(arrived, activity))
                    stats.matched += 1
        else:
            stats.other_activities += 1
        return self._json_response(b'{"id":"%d"}' % next(self._ids))

    async def _on_update(self, request: web.Request) -> web.Response:
        _, activity = await self._read_activity(request)
        if activity is None:
            return web.Response(status=400)
        if self._hang_ids and request.match_info["conversation_id"] in self._hang_ids:
            held = await self._hold()
            if held is not None:
                return held
        self.stats.other_activities += 1
        return self._json_response(json.dumps({"id": request.match_info["activity_id"]}).encode())

    async def _on_delete(self, request: web.Request) -> web.Response:
        await request.read()
        self.stats.requests += 1
        self.stats.other_activities += 1
        return web.Response(status=200)

    async def _on_member(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        self.stats.lookups += 1
        member = self._member_lookup(request.match_info["member_id"])
        return self._json_response(json.dumps(member).encode())

    async def _on_members(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        self.stats.lookups += 1
        return self._json_response(json.dumps([self._member_lookup("29:bench-user")]).encode())

    async def _on_paged_members(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        self.stats.lookups += 1
        page = {"continuationToken": None, "members": [self._member_lookup("29:bench-user")]}
        return self._json_response(json.dumps(page).encode())

    async def _on_create_conversation(self, request: web.Request) -> web.Response:
        _, body = await self._read_activity(request)
        if body is None:
            return web.Response(status=400)
        self.stats.lookups += 1
        n = next(self._ids)
        payload = {"id": f"a:bench-created-{n}", "activityId": str(n), "serviceUrl": self.service_url}
        return self._json_response(json.dumps(payload).encode())

    async def _on_unhandled(self, request: web.Request) -> web.Response:
        await request.read()
        self.stats.requests += 1
        self.stats.unhandled += 1
        route = f"{request.method} {request.path}"
        # Log each distinct route once: a target calling an unsupported API should be visible,
        # but not at one log line per request under load.
        if route not in self._unhandled_seen and len(self._unhandled_seen) < 50:
            self._unhandled_seen.add(route)
            logger.warning("mock connector: unhandled %s", route)
        return web.Response(status=404)


async def _serve(port: int, seconds: float) -> None:
    async with MockConnector(port=port) as connector:
        logger.info("mock connector serving at %s for %.0f s", connector.service_url, seconds)
        await asyncio.sleep(seconds)
        logger.info("mock connector stats: %s", connector.stats.as_dict())


def main(argv: list[str] | None = None) -> None:
    """Serve standalone for a bounded time (for pointing a hand-started bot at it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3979)
    parser.add_argument("--seconds", type=float, default=300.0, help="stop after this long")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_serve(args.port, args.seconds))


if __name__ == "__main__":
    main()
