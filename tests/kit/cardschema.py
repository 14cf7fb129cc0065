"""Validation of every card against the official Adaptive Card 1.5 schema (offline copy in tests/schemas/)."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match

from tests.conftest import SCHEMAS

SCHEMA = SCHEMAS / "adaptive-card-1.5.json"


@functools.cache
def _validator() -> Draft6Validator:
    return Draft6Validator(json.loads(SCHEMA.read_text()))


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail with the most relevant schema error."""
    error = best_match(_validator().iter_errors(card))
    assert error is None, f"{error.message} at {list(error.absolute_path)}"
    size = len(json.dumps(card).encode())
    assert size <= 80_000, f"card is {size} bytes"
