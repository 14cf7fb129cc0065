"""A botbuilder ``Storage`` on the tracker's Store: conversation state lives in the database, so a
conversation survives a restart and continues on any instance."""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import ConversationState, Storage, StoreItem, TurnContext
from botbuilder.core.bot_state import CachedBotState

from storage.store import Store


class StateConflict(Exception):
    """Another instance saved this state since we read it (etag mismatch)."""


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, StoreItem) or hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(data: str, etag: int) -> Any:
    value = json.loads(data)
    if isinstance(value, dict):
        value["e_tag"] = str(etag)
    return value


class SqlStorage(Storage):
    """Rows keyed by botbuilder's storage key; ``e_tag`` gives optimistic concurrency."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def read(self, keys: list[str]) -> dict[str, Any]:
        return {key: _decode(data, etag) for key, data, etag in await self._store.read_state(list(keys))}

    async def claim_and_read(self, claim_key: str, state_key: str) -> tuple[bool, Any]:
        """Claim an idempotency key and read one state item in one round trip: (claimed, item or None)."""
        claimed, row = await self._store.claim_and_read_state(claim_key, state_key)
        return claimed, _decode(*row) if row else None

    async def write(self, changes: dict[str, Any]) -> None:
        for key, raw in (changes or {}).items():
            value = dict(_plain(raw))
            etag = value.pop("e_tag", None)
            data = json.dumps(value, separators=(",", ":"), default=str)
            if etag is None:
                # New here: create it. A row someone else created meanwhile is theirs, not ours to
                # overwrite: the caller reads it again (no blind writes).
                if not await self._store.insert_state(key, data):
                    raise StateConflict(f"state {key!r} was created by another turn meanwhile")
                continue
            if etag == "*":  # last-writer-wins, asked for explicitly (botbuilder's convention)
                if not await self._store.insert_state(key, data) and not await self._store.update_state(
                    key, data, None
                ):
                    raise StateConflict(f"state {key!r} could not be written")
                continue
            try:
                expected = int(etag)
            except (TypeError, ValueError) as err:
                raise StateConflict(f"state {key!r} has an unreadable etag") from err
            if not await self._store.update_state(key, data, expected):
                raise StateConflict(f"state {key!r} changed since it was read")

    async def delete(self, keys: list[str]) -> None:
        await self._store.delete_state(list(keys or ()))


class SqlConversationState(ConversationState):
    """ConversationState that can read its row in the same round trip as the turn's idempotency
    claim (every message needs both; on PostgreSQL that is one network round trip fewer)."""

    _PRIMED = "tracker.primed_state"  # turn_state keys: the row read with the claim, per turn,
    _LOADED = "tracker.state_loaded"  # and whether this turn has read its state already

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._sql = storage

    async def claim_and_load(self, turn_context: TurnContext, claim_key: str) -> bool:
        """Claim ``claim_key``; if this turn got it, the state read alongside serves :meth:`load`."""
        claimed, value = await self._sql.claim_and_read(claim_key, self.get_storage_key(turn_context))
        if claimed:
            turn_context.turn_state[self._PRIMED] = value
        return claimed

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        # botbuilder reads again whenever the cached state is empty, which a new conversation's is:
        # its first turn would read the same missing row two or three times. Once a turn has read
        # its state, only ``force`` reads it again.
        primed = turn_context.turn_state.pop(self._PRIMED, _NOTHING)
        if force or (primed is _NOTHING and not turn_context.turn_state.get(self._LOADED)):
            await super().load(turn_context, force)
        elif primed is not _NOTHING and self.get_cached_state(turn_context) is None:
            turn_context.turn_state[self._context_service_key] = CachedBotState(primed)
        turn_context.turn_state[self._LOADED] = True


_NOTHING = object()
