"""Memoised cards carry their JSON: what goes on the wire is exactly the card, encoded once."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from bot.wire import encode_body
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
    assert json.loads(encode_body(_activity(frozen))) == _activity(plain)
    assert json.loads(frozen.json()) == plain


@pytest.mark.parametrize("text", ["", "short", ODD])
def test_fallback_is_spliced_into_the_cached_json(text: str) -> None:
    plain = _card()
    frozen = FrozenCard(plain).with_fallback(text)
    expected = {**plain, "fallbackText": text}
    assert frozen == expected and json.loads(frozen.json()) == expected
    assert json.loads(encode_body(_activity(frozen))) == _activity(expected)
    assert frozen.with_fallback(text) is frozen  # already there: nothing to derive
    assert json.loads(frozen.with_fallback("other").json())["fallbackText"] == "other"


def test_attachments_without_frozen_cards_and_other_fields_survive() -> None:
    mixed = {"type": "message", "attachments": [
        {"contentType": "a", "content": FrozenCard({"x": 1}), "name": "n"},
        {"contentType": "b", "content": {"y": [1, 2]}},
        {"content": FrozenCard({"z": "é"})},
    ]}  # fmt: skip
    assert json.loads(encode_body(mixed)) == {
        "type": "message",
        "attachments": [{"contentType": "a", "content": {"x": 1}, "name": "n"}, {"contentType": "b", "content": {"y": [1, 2]}}, {"content": {"z": "é"}}],
    }  # fmt: skip
    assert json.loads(encode_body({"attachments": [{"content": FrozenCard({})}]})) == {
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


def test_a_response_body_splices_the_cards_it_carries_and_reads_back_the_same() -> None:
    from dialogs.surfaces import compose_result

    frozen = [FrozenCard({"contentType": "x", "content": _card(), "n": n}) for n in range(3)]
    for att in frozen:
        att.json()  # encoded once, before
    trap = {"text": '"\\u0000 not a marker: 0"', "odd": ODD}
    body = compose_result([frozen[0], trap, frozen[1], frozen[2]])
    raw = encode_body(body)
    assert json.loads(raw) == json.loads(json.dumps(body))
    assert "\\u0000" not in raw.decode().replace(json.dumps(trap["text"])[1:-1], "")
    assert frozen[1].json() in raw  # spliced as it was encoded, not encoded again
    assert encode_body(None) == b"null" and json.loads(encode_body({"statusCode": 200, "value": frozen[0]}))


def test_search_results_are_built_once_per_item_as_it_stands() -> None:
    import dataclasses

    from dialogs.surfaces import KeptResults, result_attachment

    kept = KeptResults(size=2)
    one, two, three = item(1, "counter-corruption"), item(2, "vetting"), item(3, "custody")
    first = kept.attachment(one, REPORT, TODAY)
    assert first == result_attachment(one, REPORT, TODAY) and kept.attachment(one, REPORT, TODAY) is first
    changed = dataclasses.replace(one, status="evidenced", version=one.version + 1)
    again = kept.attachment(changed, REPORT, TODAY)
    assert again is not first and again == result_attachment(changed, REPORT, TODAY)
    kept.attachment(two, REPORT, TODAY)
    kept.attachment(three, REPORT, TODAY)  # beyond size: the oldest are forgotten
    assert len(kept._kept) == 2 and kept.attachment(one, REPORT, TODAY) is not first


def test_the_encoder_writes_what_the_standard_library_would() -> None:
    import collections
    import enum

    from dialogs.frozen import to_json

    class Verb(enum.StrEnum):
        SHOW = "show"

    pair = collections.namedtuple("pair", "a b")
    value = {"verb": Verb.SHOW, "flag": True, "n": 3, "big": 10**30, "f": 0.1, "pair": pair(1, 2),
             "od": collections.OrderedDict(z=[1, (2, 3)]), "odd": ODD, "none": None}  # fmt: skip
    assert json.loads(to_json(value)) == json.loads(json.dumps(value, ensure_ascii=False))
    assert to_json({"é": "🚓"}) == '{"é":"🚓"}'.encode()  # compact, characters as they are
    with pytest.raises(TypeError):
        to_json({"x": object()})


@pytest.mark.parametrize(
    "raw",
    [b'{"type":"message","text":"\\ud83d\\ude93 \\u00e9"}', b'{"n":123456789012345678901234567890}',
     b'{"id":"1700000000000000000123","v":[1.5,-2,null,true]}', b'{"text":"lone \\ud800 surrogate"}'],
)  # fmt: skip
def test_request_bodies_decode_as_the_standard_library_reads_them(raw: bytes) -> None:
    from bot.wire import decode_body

    assert decode_body(raw) == json.loads(raw)


@pytest.mark.parametrize("raw", [b'{"n":NaN}', b'{"n":Infinity}', b"{'a':1}", b'{"a":', b"\xff\xfe"])
def test_what_is_not_json_is_refused_with_a_value_error(raw: bytes) -> None:
    from bot.wire import decode_body

    with pytest.raises(ValueError):
        decode_body(raw)
