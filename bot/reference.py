"""A conversation reference as JSON, without msrest.

``TurnContext.get_conversation_reference(activity).serialize()`` goes through msrest's generic
serializer (~0.3 ms here); a person's first message in a chat stores one. The reference holds only
strings, booleans and two account objects, so walking the models' own ``_attribute_map`` gives the
same JSON directly (a test checks it against msrest's).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

_PLAIN = frozenset({"str", "bool", "object", "int"})


def _plain(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, spec in type(model)._attribute_map.items():
        value = getattr(model, attr, None)
        if value is None:
            continue
        out[spec["key"]] = value if spec["type"] in _PLAIN else _plain(value)
    return out


def reference_json(activity: Activity) -> dict[str, Any]:
    """What ``TurnContext.get_conversation_reference(activity).serialize()`` returns."""
    return _plain(TurnContext.get_conversation_reference(activity))


_TURN = "tracker.reference"


def turn_reference(ctx: TurnContext) -> ConversationReference:
    """This turn's conversation reference, built once: botbuilder copies three accounts each time,
    and a turn needs it for its replies and, in a personal chat, to link the person. Read it only."""
    ref = ctx.turn_state.get(_TURN)
    if ref is None:
        ref = ctx.turn_state[_TURN] = TurnContext.get_conversation_reference(ctx.activity)
    return ref


def turn_reference_json(ctx: TurnContext) -> dict[str, Any]:
    """:func:`reference_json` of this turn's activity, from :func:`turn_reference`."""
    return _plain(turn_reference(ctx))
