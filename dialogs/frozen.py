"""Cards that are built once and sent many times carry their JSON with them.

A list page or the summary is the same card until the items change, so it is memoised (see
:meth:`storage.readmodel.ReadModel.memo`). Encoding a 7-14 KB card to JSON costs 60-140 µs, more
than building the rest of the reply; a :class:`FrozenCard` is encoded once, on first send, and
the edge's encoder (``bot.wire``) splices that text into each outgoing activity.
"""

from __future__ import annotations

import copy
import json
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def compact_json(value: Any) -> str:
    """The JSON we put on the wire: compact, UTF-8 characters kept as they are."""
    return _encode(value)


class FrozenCard(dict[str, Any]):
    """An Adaptive Card that nobody changes after it is built, so its JSON is written once.

    It is a plain ``dict`` to every reader; the promise not to mutate it is what makes the cached
    JSON right. Derive changed cards with :meth:`with_fallback` or by copying into a new dict.
    """

    __slots__ = ("_json",)

    def __init__(self, card: dict[str, Any]) -> None:
        super().__init__(card)
        self._json: str | None = None

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a FrozenCard is shared and must not change: copy it into a new dict")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    # Copies are for changing, so they are plain dicts; pickling keeps the type.
    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenCard, (dict(self),))

    def json(self) -> str:
        """The compact JSON text of this card (computed on first use)."""
        if self._json is None:
            self._json = compact_json(self)
        return self._json

    def with_fallback(self, text: str) -> FrozenCard:
        """This card with ``fallbackText`` set, its JSON derived without encoding the card again."""
        if self.get("fallbackText") == text:
            return self
        out = FrozenCard({**self, "fallbackText": text})
        if "fallbackText" not in self and self:
            # JSON keeps insertion order, so the new key goes last: before the closing brace.
            out._json = f'{self.json()[:-1]},"fallbackText":{compact_json(text)}}}'
        return out
