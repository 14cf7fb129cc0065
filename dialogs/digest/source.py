"""What the digest says: read-model items and reports plus a week of audit events, built into a card."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from dialogs.digest.card import build_digest
from dialogs.types import Outcome
from storage.readmodel import ReadModel
from storage.store import Store

EVENTS_LIMIT = 50_000  # a week of audit events; bulk imports of thousands of items stay well under


class DigestSource:
    """Gathers what the digest needs and builds it."""

    def __init__(self, model: ReadModel, store: Store, tz: dt.tzinfo) -> None:
        self._model = model
        self._store = store
        self._tz = tz

    async def build(self, now: dt.datetime) -> tuple[dict[str, Any], str]:
        """The digest card and its text, as of ``now``."""
        events = await self._store.events_since(now - dt.timedelta(days=7), limit=EVENTS_LIMIT)
        # Copy on the loop (the model changes under us otherwise), build in a thread: 10,000 items
        # take tens of milliseconds that other turns should not wait for.
        items, reports = list(self._model.items.values()), dict(self._model.reports)
        return await asyncio.to_thread(build_digest, items, reports, events, now, self._tz)

    async def outcome(self, now: dt.datetime) -> Outcome:
        """The digest as a reply ("send the digest now")."""
        card, text = await self.build(now)
        return Outcome.say(text, card)
