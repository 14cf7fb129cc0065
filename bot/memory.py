"""A conversation's memory in rows of its own: one for what the conversation shares, one per person
for the question that person has pending.

Two people answering in one channel thread then never write the same row, so neither can lose
the other's question. Every write is a compare-and-set on the row's etag: a row another turn
changed since it was read is read again and this turn's change applied on top (bounded retries),
never overwritten blindly. The rows are read in the same round trip as the turn's idempotency
claim.

Rows written before per-person rows existed (one row holding every person's question) are still
read: a person's question there counts until that person's own row is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from dialogs.state import UNSET, Memory, Pending, StateChange
from storage.store import Store

log = logging.getLogger(__name__)

PROPERTY = "tracker"  # the conversation row's layout is botbuilder's: {"tracker": memory}
_TURN = "tracker.memory"  # turn_state key: this turn's rows


@dataclass
class _Rows:
    """What one turn read, and what it wants to change."""

    conv_key: str
    pend_key: str
    user_key: str
    conv: dict[str, Any] | None = None  # the conversation row's memory JSON
    conv_etag: int | None = None
    pend: dict[str, Any] | None = None  # the person's row ({} once their question was settled)
    pend_etag: int | None = None
    change: StateChange | None = None

    def memory(self) -> Memory:
        data = dict(self.conv or {})
        legacy = data.pop("pending", None)
        if self.pend:
            data["pending"] = {self.user_key: self.pend}
        elif self.pend is None and isinstance(legacy, dict) and self.user_key in legacy:
            data["pending"] = {self.user_key: legacy[self.user_key]}
        return Memory.from_json(data)


def _keys(activity: Any, user_key: str) -> tuple[str, str]:
    conv = f"{activity.channel_id}/conversations/{activity.conversation.id if activity.conversation else ''}"
    return conv, f"{conv}/pending/{user_key}"


def _decode(data: str) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ConversationMemory:
    """Loads and saves :class:`Memory` for a turn (see the module docstring)."""

    def __init__(self, store: Store, *, attempts: int = 12, rng: random.Random | None = None) -> None:
        self._store = store
        self._attempts = attempts
        self._rng = rng or random.Random()

    def _rows(self, ctx: TurnContext, user_key: str) -> _Rows:
        rows = ctx.turn_state.get(_TURN)
        if rows is None or rows.user_key != user_key:
            conv, pend = _keys(ctx.activity, user_key)
            rows = ctx.turn_state[_TURN] = _Rows(conv, pend, user_key)
            rows.change = None
        return rows

    def _fill(self, rows: _Rows, found: list[tuple[str, str, int]]) -> None:
        for key, data, etag in found:
            value = _decode(data) or {}
            if key == rows.conv_key:
                rows.conv, rows.conv_etag = value.get(PROPERTY) or {}, etag
            elif key == rows.pend_key:
                rows.pend, rows.pend_etag = value, etag

    async def claim_and_load(self, ctx: TurnContext, claim_key: str, user_key: str) -> bool:
        """Claim ``claim_key`` and read this person's rows in the same round trip; False if taken."""
        rows = self._rows(ctx, user_key)
        claimed, found = await self._store.claim_and_read_states(claim_key, [rows.conv_key, rows.pend_key])
        if claimed:
            self._fill(rows, found)
            ctx.turn_state[_TURN + ".loaded"] = True
        return claimed

    async def memory(self, ctx: TurnContext, user_key: str) -> Memory:
        """This conversation's memory as ``user_key`` sees it (their own question only)."""
        rows = self._rows(ctx, user_key)
        if not ctx.turn_state.get(_TURN + ".loaded"):
            self._fill(rows, await self._store.read_state([rows.conv_key, rows.pend_key]))
            ctx.turn_state[_TURN + ".loaded"] = True
        return rows.memory()

    def remember(self, ctx: TurnContext, change: StateChange | None, user_key: str) -> None:
        """Note what this turn wants remembered; :meth:`save` writes it."""
        if change is None or change.empty:
            return
        rows = self._rows(ctx, user_key)
        rows.change = change if rows.change is None else rows.change.merged(change)

    async def save(self, ctx: TurnContext) -> None:
        """Write this turn's change: the person's question on their row, the rest on the conversation's."""
        rows: _Rows | None = ctx.turn_state.get(_TURN)
        if rows is None or rows.change is None:
            return
        change, rows.change = rows.change, None
        if change.pending is not UNSET:
            await self._save_pending(rows, change.pending)
        shared = dataclasses.replace(change, pending=UNSET)
        if not shared.empty:
            await self._save_shared(rows, shared)

    async def _save_pending(self, rows: _Rows, pending: Pending | None) -> None:
        mine = pending.token if pending is not None else None
        for attempt in range(self._attempts):
            if pending is None and not rows.pend and rows.pend_etag is None and not self._legacy(rows):
                return  # nothing stored, nothing to forget
            data = json.dumps(pending.to_json() if pending is not None else {}, separators=(",", ":"))
            if rows.pend_etag is None:
                ok = await self._store.insert_state(rows.pend_key, data)
            else:
                ok = await self._store.update_state(rows.pend_key, data, rows.pend_etag)
            if ok:
                rows.pend, rows.pend_etag = json.loads(data), (rows.pend_etag or 0) + 1
                return
            # The same person's other turn wrote meanwhile (two clicks, two quick messages).
            await self._reread(rows, rows.pend_key, attempt)
            theirs = (rows.pend or {}).get("token")
            if pending is None and theirs and theirs != mine:
                return  # they asked a newer question since: settling ours must not forget it
        log.warning("pending question not saved after %d attempts (row kept changing)", self._attempts)

    async def _save_shared(self, rows: _Rows, shared: StateChange) -> None:
        for attempt in range(self._attempts):
            base = dict(rows.conv or {})
            legacy = base.pop("pending", None)
            new = Memory.from_json(base).apply(shared, rows.user_key).to_json()
            if isinstance(legacy, dict) and legacy:
                new["pending"] = legacy  # other people's questions from before per-person rows
            data = json.dumps({PROPERTY: new}, separators=(",", ":"), default=str)
            if rows.conv_etag is None:
                ok = await self._store.insert_state(rows.conv_key, data)
            else:
                ok = await self._store.update_state(rows.conv_key, data, rows.conv_etag)
            if ok:
                rows.conv, rows.conv_etag = new, (rows.conv_etag or 0) + 1
                return
            await self._reread(rows, rows.conv_key, attempt)
        # Only shared context (the last item talked about) is at stake here, never a question.
        log.warning("conversation context not saved after %d attempts (busy thread)", self._attempts)

    def _legacy(self, rows: _Rows) -> bool:
        legacy = (rows.conv or {}).get("pending")
        return isinstance(legacy, dict) and rows.user_key in legacy

    async def _reread(self, rows: _Rows, key: str, attempt: int) -> None:
        if attempt:
            await asyncio.sleep(self._rng.uniform(0, 0.002 * min(attempt, 8)))
        found = await self._store.read_state([key])
        if key == rows.conv_key:
            rows.conv, rows.conv_etag = None, None
        else:
            rows.pend, rows.pend_etag = None, None
        self._fill(rows, found)
