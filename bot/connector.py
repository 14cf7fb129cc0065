"""Posting activities to the Bot Connector service: one shared aiohttp session, cached tokens.

botbuilder's own outbound path builds two msrest clients and a `requests` connection per turn
(~80 turns/s here); this one reuses connections and serialises a card once. Retries follow the
Teams guidance: 429 honours Retry-After; 412/500/502/503/504 back off with jitter; every loop is
bounded. A POST that timed out is *not* re-sent: it may have been delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.wire import encode_body

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 500, 502, 503, 504})  # 500: replies are at-least-once anyway
TokenSource = Callable[[], Awaitable[str | None]]


class ConnectorError(Exception):
    """The connector answered with an error status (after any retries)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"connector answered {status}: {message}")
        self.status = status
        self.retry_after = retry_after


class DeliveryUncertain(Exception):
    """The request went out but no answer came back: it may or may not have been posted."""


class Connector:
    """Sends activities (already serialised to JSON-ready dicts) to a conversation.

    Every request is bounded: ``timeout`` per attempt (``connect_timeout`` to connect), and, when
    the caller gives a ``deadline`` (a loop time), no attempt, back-off or Retry-After wait runs past
    it: a wait that would is refused at once as :class:`ConnectorError` with its ``retry_after``, for
    the caller to continue later (the outbox). At most ``per_conversation`` requests to one
    conversation are in flight, so a hung conversation holds that many connections and no more.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: TokenSource | None = None,
        *,
        timeout: float = 15.0,
        connect_timeout: float = 3.0,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        base_backoff: float = 0.5,
        per_conversation: int = 8,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self._token = token
        self._request_timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._base = base_backoff
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._per_conversation = per_conversation
        self._gates: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}  # conversation -> (gate, users)

    async def send(
        self, service_url: str, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None = None,
        *, deadline: float | None = None,
    ) -> str:  # fmt: skip
        """Post a new activity (or a reply in a thread); returns the id the service gave it."""
        base = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
        url = f"{base}/{quote(reply_to_id, safe='')}" if reply_to_id else base
        async with self._gate(service_url, conversation_id, deadline):
            body = await self._request("POST", url, activity, deadline)
        return str(body.get("id") or "")

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        async with self._gate(service_url, conversation_id, None):
            await self._request("PUT", url, activity, None)

    async def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        async with self._gate(service_url, conversation_id, None):
            await self._request("DELETE", url, None, None)

    @contextlib.asynccontextmanager
    async def _gate(
        self, service_url: str, conversation_id: str, deadline: float | None
    ) -> AsyncIterator[None]:
        """At most ``per_conversation`` requests in flight to one conversation (a channel thread is one)."""
        name = f"{service_url}|{conversation_id}"
        gate, users = self._gates.setdefault(name, (asyncio.Semaphore(self._per_conversation), [0]))
        users[0] += 1
        try:
            if gate.locked():  # wait for an earlier reply, within the turn's time
                wait = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
                try:
                    async with asyncio.timeout(wait):
                        await gate.acquire()
                except TimeoutError:
                    raise ConnectorError(
                        0, "conversation busy: earlier replies still in flight", 1.0
                    ) from None
            else:  # free: taken at once (wait_for would run it as a task of its own, every reply)
                await gate.acquire()
            try:
                yield
            finally:
                gate.release()
        finally:
            users[0] -= 1
            if not users[0]:
                self._gates.pop(name, None)  # the map holds only conversations in use

    def _left(self, deadline: float | None) -> float | None:
        return None if deadline is None else deadline - asyncio.get_running_loop().time()

    async def _wait(self, seconds: float, deadline: float | None, status: int, text: str) -> None:
        """Sleep before the next attempt, unless that would pass the deadline (then give up now)."""
        left = self._left(deadline)
        if left is not None and seconds >= left:
            raise ConnectorError(status, text or "retry later", seconds)
        await self._sleep(seconds)

    async def _request(
        self, method: str, url: str, payload: dict[str, Any] | None, deadline: float | None
    ) -> dict[str, Any]:
        data = encode_body(payload) if payload is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = await self._token() if self._token else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, self._max_attempts + 1):
            left = self._left(deadline)
            if left is not None and left <= 0.05:
                raise ConnectorError(0, "no time left in this turn", 0.0)
            total = self._request_timeout if left is None else min(self._request_timeout, left)
            timeout = aiohttp.ClientTimeout(total=total, sock_connect=min(self._connect_timeout, total))
            try:
                async with self._session.request(
                    method, url, data=data, headers=headers, timeout=timeout
                ) as resp:
                    text = await resp.text()
                    if resp.status < 300:
                        return _json(text)
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    status = resp.status
            except aiohttp.ClientConnectorError as err:
                # Nothing reached the service: safe to try again.
                if attempt == self._max_attempts:
                    raise ConnectorError(0, f"cannot connect: {err.__class__.__name__}") from err
                await self._wait(
                    self._backoff(attempt), deadline, 0, f"cannot connect: {err.__class__.__name__}"
                )
                continue
            except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as err:
                raise DeliveryUncertain(f"{method} {_redact(url)}: {err.__class__.__name__}") from err
            if status == 429 and attempt < self._max_attempts:
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                if wait > self._max_retry_after:
                    raise ConnectorError(status, text[:200], wait)
                log.warning("connector throttled (429): retrying in %.1fs", wait)
                await self._wait(wait, deadline, status, text[:200])
                continue
            if status in RETRY_STATUSES and attempt < self._max_attempts:
                await self._wait(self._backoff(attempt), deadline, status, text[:200])
                continue
            raise ConnectorError(status, text[:200], retry_after)
        raise ConnectorError(0, "gave up")  # unreachable: the loop returns or raises

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter."""
        return self._rng.uniform(0, self._base * (2 ** (attempt - 1)))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _redact(url: str) -> str:
    return url.split("?")[0]
