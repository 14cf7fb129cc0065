"""What a turn has committed, noted by the store as it commits.

The edge (bot/) must know whether a turn's writes committed before it decides what to do with a
reply that could not be delivered: a reply after a committed write is kept until delivered, and an
apology after one says what was saved. The store notes each committed change here; the edge opens
a :func:`recording` around each turn. Outside a recording, noting does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# A declaration, not a live object: each turn's task sets its own list (contextvars are per task).
_TURN: ContextVar[list[str] | None] = ContextVar("tracker_turn_effects", default=None)


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    """Collect what is committed inside this block (in this task and tasks it starts)."""
    noted: list[str] = []
    token = _TURN.set(noted)
    try:
        yield noted
    finally:
        _TURN.reset(token)


def committed(what: str) -> None:
    """Note one committed change, in words a person can be told ("item 34 is now evidenced")."""
    noted = _TURN.get()
    if noted is not None:
        noted.append(what)


def current() -> list[str]:
    """What this turn has committed so far (empty outside a recording)."""
    return list(_TURN.get() or ())
