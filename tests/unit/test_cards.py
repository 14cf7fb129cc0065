"""Every card the bot can send validates against Adaptive Cards 1.5 and stays under 80 KB."""

from __future__ import annotations

import datetime as dt
import json

from dialogs.cards import (
    choice_card,
    confirm_card,
    detail_card,
    list_card,
    message_card,
    summary_card,
)
from dialogs.help import help_reply
from dialogs.routes import help_routes
from storage.views import EvidenceView, ItemDetail, ItemView, ReportView
from tests.kit.cardschema import assert_valid_card

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
HUGE = "Chief constables should *really* [make sure] `that` # > " + "x" * 10_000 + " \u202e\u200b🚓"
REPORT = ReportView(1, "vetting-misconduct-misogyny", "An inspection of vetting, misconduct, and misogyny", "national_thematic",
                    dt.date(2022, 11, 2), "https://example.org/report", ("vetting",))  # fmt: skip


def item(n: int, text: str = HUGE) -> ItemView:
    return ItemView(n, 1, "recommendation", str(n), text, "Chief constables " * 50, True, "By 31 March 2023",
                    dt.date(2023, 3, 31), "DCI Sarah Khan (PSD)", "aad-sarah", ("counter-corruption",) * 5, "open",
                    "being-progressed", "R-1", None, "https://example.org/r", 3, NOW, NOW, NOW, "done")  # fmt: skip


def evidence(n: int) -> EvidenceView:
    return EvidenceView(n, 1, "evidence" if n % 2 else "update", HUGE, ("https://intranet.example/a", "javascript:alert(1)"),
                        "Alice Ames", "aad-alice", NOW, "conv", f"act-{n}")  # fmt: skip


def _check(card: dict, fallback: str) -> None:
    assert_valid_card(card)
    assert fallback.strip()
    assert len(json.dumps({**card, "fallbackText": fallback[:4000]}).encode()) <= 80_000


def test_list_card_with_huge_texts_and_more() -> None:
    items = [item(n) for n in range(1, 9)]
    card, fallback = list_card("Outstanding items from Vetting", items, {1: REPORT}, TODAY, total=400, page=3,
                               page_size=8, more={"query": "outstanding", "page": 4}, empty="none")  # fmt: skip
    _check(card, fallback)
    empty, text = list_card(
        "Overdue items", [], {}, TODAY, total=0, page=0, page_size=8, more=None, empty="Nothing is overdue."
    )
    _check(empty, text)


def test_detail_card_with_long_history() -> None:
    detail = ItemDetail(item=item(34), report=REPORT, evidence=tuple(evidence(n) for n in range(60)))
    card, fallback = detail_card(detail, TODAY)
    _check(card, fallback)
    assert "javascript:" not in json.dumps(card)  # only http(s) links become links


def test_question_cards() -> None:
    _check(
        *confirm_card(
            "Mark Vetting, misconduct and misogyny (2022) rec 34 as evidenced with note '"
            + HUGE[:200]
            + "'?",
            "tok",
            "Links: " + HUGE,
        )
    )
    options = [
        (f"Vetting, misconduct and misogyny (2022) rec {n}: {HUGE}", {"token": "t", "item_id": n})
        for n in range(10)
    ]
    _check(*choice_card('Which item about "counter corruption" do you mean?', options))
    _check(*message_card("I can't find rec 99.", [HUGE, HUGE], None))


def test_summary_and_help_cards() -> None:
    rows = [(f"Report {n} " + "y" * 300, {"live": n, "overdue": n % 3, "signed_off": 2}) for n in range(25)]
    _check(*summary_card({"open": 10, "in_progress": 5, "evidenced": 3, "signed_off": 40}, rows, 4, 2))
    reply = help_reply(help_routes(), "Alice Ames")
    assert reply.card is not None
    _check(reply.card, reply.text)
