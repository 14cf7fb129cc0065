"""Outgoing activities as JSON bytes, for the Bot Connector.

Cards built once and sent many times (``dialogs.frozen.FrozenCard``) carry their own JSON; the
encoder splices that text in rather than encoding 7-14 KB again. Anything with a ``json()`` method
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


def encode_activity(payload: dict[str, Any]) -> bytes:
    """Encode an outgoing activity, splicing in the JSON pre-encoded cards already have."""
    attachments = payload.get("attachments")
    if not attachments or not any(isinstance(a.get("content"), PreEncoded) for a in attachments):
        return compact_json(payload).encode()
    parts = []
    for a in attachments:
        content = a.get("content")
        if isinstance(content, PreEncoded):
            rest = compact_json({k: v for k, v in a.items() if k != "content"})
            parts.append(f'{rest[:-1]}{"," if len(rest) > 2 else ""}"content":{content.json()}}}')
        else:
            parts.append(compact_json(a))
    head = compact_json({k: v for k, v in payload.items() if k != "attachments"})
    return f'{head[:-1]}{"," if len(head) > 2 else ""}"attachments":[{",".join(parts)}]}}'.encode()


def encode_body(value: Any, depth: int = 4) -> bytes:
    """A JSON response body (an invoke's answer) with the pre-encoded values found within ``depth``
    levels spliced in: a compose-box page carries up to 25 cards built once (``KeptResults``)."""
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
