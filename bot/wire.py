"""What goes on the wire as JSON bytes, and what comes in: activities and invoke answers.

One encoder for everything (``dialogs.frozen.to_json``: orjson, with cards built once and sent many
times spliced in as they were encoded), and one decoder for request bodies.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from dialogs.frozen import to_json


def encode_body(value: Any) -> bytes:
    """``value`` as the JSON bytes we send: an outgoing activity, an invoke's answer."""
    return to_json(value)


def _not_json(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser would accept them."""
    raise ValueError(f"{name} is not JSON")


# orjson reads an integer beyond 64 bits as a float; ``json`` keeps it exact. 19 digits in a row
# anywhere (a string too) sends the body to ``json``, which is rare and costs only time.
_LONG_NUMBER = re.compile(rb"\d{19}")


def decode_body(raw: bytes) -> Any:
    """A request body. orjson first (strict JSON, ~3x faster); what it refuses, or might read
    differently, is read by the standard library, which decides as before: lone surrogates
    (cleaned by the caller), NaN and Infinity refused, malformed text a ``ValueError``."""
    if not _LONG_NUMBER.search(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw, parse_constant=_not_json)
