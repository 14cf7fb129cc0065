"""Keys and ids of any length in bounded columns.

Idempotency keys, state keys and audit ids are built from ids Teams chooses (conversation ids of a
channel thread run to hundreds of characters). A value longer than its column keeps a readable
prefix and ends in a SHA-256 of the whole value: still unique, still the same every time.
"""

from __future__ import annotations

import hashlib

KEY_CHARS = 400  # processed_key.key, bot_state.key, reply_outbox.key
ID_CHARS = 200  # source_activity_id and other audit ids


def fit(value: str, limit: int = KEY_CHARS) -> str:
    """``value`` if it fits in ``limit`` characters, else a prefix and the hash of the whole."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[: limit - len(digest) - 1]}#{digest}"


def fit_id(value: str | None) -> str | None:
    """An audit id (an activity id) fitted to its column; None stays None."""
    return None if value is None else fit(value, ID_CHARS)
