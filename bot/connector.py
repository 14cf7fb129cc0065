"""Posting activities to the Bot Connector service: one shared aiohttp session, cached tokens.

botbuilder's own outbound path builds two msrest clients and a `requests` connection per turn
(~80 turns/s here); this one reuses connections and serialises a card once. Retries follow the
Teams guidance: 429 honours Retry-After; 412/502/503/504 back off with jitter; every loop is
bounded. A POST that timed out is *not* re-sent: it may have been delivered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.wire import encode_activity

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 502, 503, 504})
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
    """Sends activities (already serialised to JSON-ready dicts) to a conversation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: TokenSource | None = None,
        *,
        timeout: float = 15.0,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        base_backoff: float = 0.5,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._base = base_backoff
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def send(
        self, service_url: str, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None = None
    ) -> str:
        """Post a new activity (or a reply in a thread); returns the id the service gave it."""
        base = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
        url = f"{base}/{quote(reply_to_id, safe='')}" if reply_to_id else base
        body = await self._request("POST", url, activity)
        return str(body.get("id") or "")

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        await self._request("PUT", url, activity)

    async def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        await self._request("DELETE", url, None)

    async def _request(self, method: str, url: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        data = encode_activity(payload) if payload is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = await self._token() if self._token else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._session.request(
                    method, url, data=data, headers=headers, timeout=self._timeout
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
                await self._sleep(self._backoff(attempt))
                continue
            except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as err:
                raise DeliveryUncertain(f"{method} {_redact(url)}: {err.__class__.__name__}") from err
            if status == 429 and attempt < self._max_attempts:
                wait = min(
                    retry_after if retry_after is not None else self._backoff(attempt), self._max_retry_after
                )
                log.warning("connector throttled (429): retrying in %.1fs", wait)
                await self._sleep(wait)
                continue
            if status in RETRY_STATUSES and attempt < self._max_attempts:
                await self._sleep(self._backoff(attempt))
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
