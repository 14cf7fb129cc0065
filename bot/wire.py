"""What goes on the wire as JSON bytes: activities for the Bot Connector, invoke answers.

Cards built once and sent many times (``dialogs.frozen.FrozenCard``) carry their own JSON; the
encoder splices that text in rather than encoding 7-14 KB again. A dict with a ``json()`` method
returning its encoded text is treated that way; everything else is encoded here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol, runtime_checkable

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@runtime_checkable
class PreEncoded(Protocol):
    """A JSON value that already knows its compact encoding."""

    def json(self) -> str: ...


def compact_json(value: Any) -> str:
    """The JSON we put on the wire: compact, UTF-8 characters kept as they are."""
    return _encode(value)


def encode_body(value: Any, depth: int = 4) -> bytes:
    """``value`` as JSON bytes with the pre-encoded dicts found within ``depth`` levels spliced in:
    an outgoing activity's card (``attachments[i].content``), a compose-box page of up to 25
    result cards (``KeptResults``), a refreshed card in an invoke's answer."""
    found: list[str] = []
    marker = f"\x00{uuid.uuid4().hex}:"  # no text of ours can hold it: it is new for this body

    def swap(v: Any, d: int) -> Any:
        if isinstance(v, dict) and isinstance(v, PreEncoded):
            found.append(v.json())
            return f"{marker}{len(found) - 1}"
        if d and type(v) is dict:
            return {k: swap(x, d - 1) for k, x in v.items()}
        if d and type(v) is list:
            return [swap(x, d - 1) for x in v]
        return v

    text = compact_json(swap(value, depth))
    if not found:
        return text.encode()
    quoted = compact_json(marker)[:-1]  # the marker as it appears inside an encoded string
    head, *rest = text.split(quoted)
    parts = [head]
    for part in rest:
        n, tail = part.split('"', 1)
        parts += [found[int(n)], tail]
    return "".join(parts).encode()
