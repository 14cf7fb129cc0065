"""Cards that are built once and sent many times carry their JSON with them; the one JSON encoder.

A list page or the summary is the same card until its items change, so it is kept (see
:meth:`storage.readmodel.ReadModel.keep` and :meth:`~storage.readmodel.ReadModel.memo`). A :class:`FrozenCard` is encoded once, on first send,
and :func:`to_json` puts those bytes into each outgoing body as they are (``orjson.Fragment``).

orjson, not the standard library's encoder: it writes a 7-14 KB card in ~10 µs where ``json``
took 60-140 µs, and it writes a subclass of a builtin through ``default`` (below), which is how a
frozen card is spliced in without a walk of our own. What orjson refuses and ``json`` writes (an
integer beyond 64 bits) goes through ``json``, so nothing is encoded differently from before.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS
_stdlib = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _default(value: Any) -> Any:
    """Subclasses of the builtins, handed back by orjson: a frozen card as its cached JSON, the
    others (StrEnum members, OrderedDicts, named tuples) as the builtin they are."""
    if isinstance(value, FrozenCard):
        return orjson.Fragment(value.json())
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (characters kept as they are), frozen cards spliced in."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _stdlib(value).encode()


def compact_json(value: Any) -> str:
    """:func:`to_json` as text."""
    return to_json(value).decode()


class FrozenCard(dict[str, Any]):
    """An Adaptive Card that nobody changes after it is built, so its JSON is written once.

    It is a plain ``dict`` to every reader; the promise not to mutate it is what makes the cached
    JSON right. Derive changed cards with :meth:`with_fallback` or by copying into a new dict.
    """

    __slots__ = ("_json",)

    def __init__(self, card: dict[str, Any]) -> None:
        super().__init__(card)
        self._json: bytes | None = None

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

    def json(self) -> bytes:
        """The compact JSON of this card (computed on first use)."""
        if self._json is None:
            self._json = to_json(dict(self))
        return self._json

    def with_fallback(self, text: str) -> FrozenCard:
        """This card with ``fallbackText`` set, its JSON derived without encoding the card again."""
        if self.get("fallbackText") == text:
            return self
        out = FrozenCard({**self, "fallbackText": text})
        if "fallbackText" not in self and self:
            # JSON keeps insertion order, so the new key goes last: before the closing brace.
            out._json = b'%s,"fallbackText":%s}' % (self.json()[:-1], to_json(text))
        return out
