"""Outgoing activities as JSON bytes, for the Bot Connector.

Cards built once and sent many times (``dialogs.frozen.FrozenCard``) carry their own JSON; the
encoder splices that text in rather than encoding 7-14 KB again. Anything with a ``json()`` method
returning its encoded text is treated that way; everything else is encoded here.
"""

from __future__ import annotations

import json
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
