"""Memoised cards carry their JSON: what goes on the wire is exactly the card, encoded once."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from bot.wire import encode_activity
from dialogs.cards import list_card
from dialogs.frozen import FrozenCard
from tests.unit.test_cards import REPORT, TODAY, item

ODD = 'fallback with "quotes", \\ back-slashes, </script>, \u2028 and 🚓'


def _card() -> dict:
    card, _ = list_card("Outstanding", [item(n, "text é 🚓") for n in range(1, 4)], {1: REPORT}, TODAY,
                        total=3, page=0, page_size=10, more=None, empty="none")  # fmt: skip
    return card


def _activity(content: dict) -> dict:
    return {"type": "message", "summary": "s", "conversation": {"id": "a:1"},
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": content}]}  # fmt: skip


def test_frozen_card_encodes_to_the_same_json_as_the_plain_card() -> None:
    plain = _card()
    frozen = FrozenCard(plain)
    assert json.loads(encode_activity(_activity(frozen))) == _activity(plain)
    assert json.loads(frozen.json()) == plain


@pytest.mark.parametrize("text", ["", "short", ODD])
def test_fallback_is_spliced_into_the_cached_json(text: str) -> None:
    plain = _card()
    frozen = FrozenCard(plain).with_fallback(text)
    expected = {**plain, "fallbackText": text}
    assert frozen == expected and json.loads(frozen.json()) == expected
    assert json.loads(encode_activity(_activity(frozen))) == _activity(expected)
    assert frozen.with_fallback(text) is frozen  # already there: nothing to derive
    assert json.loads(frozen.with_fallback("other").json())["fallbackText"] == "other"


def test_attachments_without_frozen_cards_and_other_fields_survive() -> None:
    mixed = {"type": "message", "attachments": [
        {"contentType": "a", "content": FrozenCard({"x": 1}), "name": "n"},
        {"contentType": "b", "content": {"y": [1, 2]}},
        {"content": FrozenCard({"z": "é"})},
    ]}  # fmt: skip
    assert json.loads(encode_activity(mixed)) == {
        "type": "message",
        "attachments": [{"contentType": "a", "content": {"x": 1}, "name": "n"}, {"contentType": "b", "content": {"y": [1, 2]}}, {"content": {"z": "é"}}],
    }  # fmt: skip
    assert json.loads(encode_activity({"attachments": [{"content": FrozenCard({})}]})) == {
        "attachments": [{"content": {}}]
    }


def test_a_frozen_card_refuses_changes_and_copies_are_plain() -> None:
    frozen = FrozenCard(_card())
    for change in (lambda: frozen.__setitem__("x", 1), lambda: frozen.pop("body"), lambda: frozen.update(x=1),
                   lambda: frozen.setdefault("x", 1), frozen.clear, frozen.popitem, lambda: frozen.__delitem__("body")):  # fmt: skip
        with pytest.raises(TypeError):
            change()
    deep = copy.deepcopy(frozen)
    deep["body"].append({"type": "TextBlock", "text": "mine"})
    assert type(deep) is dict and frozen["body"][-1] != {"type": "TextBlock", "text": "mine"}
    assert type(copy.copy(frozen)) is dict
    again = pickle.loads(pickle.dumps(frozen))
    assert isinstance(again, FrozenCard) and again == frozen
