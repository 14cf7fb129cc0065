"""The weekly digest card: content, the Adaptive Card 1.5 schema, and size with 10,000 items."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings
from dialogs.digest import build_digest
from storage.readmodel import ReadModel
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, EventView, ItemView, ReportView, Source
from tests.kit.botkit import RunningBot, cards_of, running_bot, text_of
from tests.kit.cardschema import assert_valid_card
from tests.kit.data import seed_small

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
ALICE = Actor("Alice Ames", "aad-alice")


def _item(n: int, report_id: int, status: str, due: dt.date | None, *, created_days_ago: int = 200,
          evidenced_days_ago: int = 10, owner: str | None = "DCI Sarah Khan (PSD)") -> ItemView:  # fmt: skip
    return ItemView(
        id=n, report_id=report_id, kind="recommendation", number=str(n),
        text="*By 30 April 2023*, chief constables should make sure that their counter-corruption units actively "
             "seek corruption-related intelligence as a matter of routine — “quoted” & <marked>.",
        addressee="Chief constables", for_force=status != "not_for_us", deadline_text=None, due_date=due,
        owner_name=owner, owner_aad_id=None, themes=(), status=status, register_status=None, register_id=None,
        register_url=None, source_url=None, version=1, created_at=NOW - dt.timedelta(days=created_days_ago),
        updated_at=NOW, status_changed_at=NOW - dt.timedelta(days=evidenced_days_ago),
    )  # fmt: skip


def _event(n: int, item_id: int, action: str, *, old: str | None = None, new: str | None = None,
           actor: str = "Alice Ames", days_ago: float = 1, note: str | None = None) -> EventView:  # fmt: skip
    return EventView(n, item_id, NOW - dt.timedelta(days=days_ago), action, None, old, new, actor, None, "teams",
                     None, None, note)  # fmt: skip


def _report(n: int) -> ReportView:
    return ReportView(n, f"report-{n}", f"An inspection of something important, number {n}, with a long title",
                      "national_thematic", None, None, (f"inspection {n}",))  # fmt: skip


def test_digest_says_what_changed_who_did_it_and_what_is_due() -> None:
    today = NOW.date()
    reports = {1: _report(1), 2: _report(2)}
    items = [
        _item(1, 1, "open", today - dt.timedelta(days=40)),  # overdue
        _item(2, 1, "in_progress", today + dt.timedelta(days=12)),  # due soon
        _item(3, 2, "evidenced", today + dt.timedelta(days=90), evidenced_days_ago=2),  # awaiting sign-off
        _item(4, 2, "signed_off", None),
        _item(5, 2, "open", None, created_days_ago=1),  # new this week
        _item(6, 1, "open", None),  # reopened
        _item(7, 1, "not_for_us", None),
    ]
    events = [
        _event(1, 3, "evidence_added", new="CCU now tasks intelligence routinely", days_ago=2),
        _event(2, 3, "status_changed", old="in_progress", new="evidenced", days_ago=2),
        _event(
            3, 4, "status_changed", old="evidenced", new="signed_off", actor="Rachel Jones-Burns", days_ago=3
        ),
        _event(4, 5, "created", new="text", actor="tracker import", days_ago=1),
        _event(
            5,
            6,
            "status_changed",
            old="signed_off",
            new="open",
            actor="Rachel Jones-Burns",
            note="HMICFRS asked for more",
        ),
        _event(6, 2, "owner_changed", old="Supt Mark Owen (ICT)", new="DCI Sarah Khan (PSD)", days_ago=4),
        _event(7, 2, "update_added", new="Drafted", days_ago=4),
        _event(8, 1, "refused", actor="Mallory"),
        _event(9, 1, "status_changed", old="open", new="evidenced", days_ago=9),  # older than the week
    ]
    card, text = build_digest(items, reports, events, NOW, LONDON)
    assert_valid_card(card)
    assert text.startswith("Weekly status digest — Monday 30 November 2026")
    assert "4 live items (3 open, 1 in progress, 1 awaiting sign-off)" not in text  # evidenced is live too
    assert "5 live items (3 open, 1 in progress, 1 awaiting sign-off)" in text
    assert "this week 1 signed off and 1 added; 1 overdue, 1 due in the next 30 days" in text
    assert (
        "Evidenced (1):\n- Something important, number 2, with a long title rec 3: by Alice Ames, Sat 28 Nov — CCU now tasks intelligence routinely"
        in text
    )
    assert (
        "Signed off by HMICFRS (1):\n- Something important, number 2, with a long title rec 4: by Rachel Jones-Burns, Fri 27 Nov"
        in text
    )
    assert (
        "Reopened (1):\n- Something important, number 1, with a long title rec 6: by Rachel Jones-Burns, Sun 29 Nov — HMICFRS asked for more"
        in text
    )
    assert "New (1):\n- Something important, number 2, with a long title rec 5: by tracker import" in text
    assert (
        "Owner changes (1):\n- Something important, number 1, with a long title rec 2: by Alice Ames, Thu 26 Nov — Supt Mark Owen (ICT) → DCI Sarah Khan (PSD)"
        in text
    )
    assert "Also 1 progress updates." in text
    assert "Mallory" not in text  # a refused change changed nothing
    assert (
        "Overdue (1):\n- Something important, number 1, with a long title rec 1: overdue since 21 Oct 2026"
        in text
    )
    assert (
        "Awaiting HMICFRS sign-off (1):\n- Something important, number 2, with a long title rec 3: evidenced 2 days ago"
        in text
    )
    assert "- Something important, number 1, with a long title: 3 live, 1 overdue, 0 signed off" in text
    shows = {a["data"]["item_id"] for a in _actions(card) if a.get("verb") == "show"}
    assert shows == {1, 2, 3, 4, 5, 6}
    assert r"\\*By 30 April 2023\\*" in json.dumps(card)  # item text is shown literally, not as markdown


def _actions(node: object) -> list[dict]:
    """Every action anywhere in a card."""
    found: list[dict] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for value in node.values():
            found += _actions(value)
    elif isinstance(node, list):
        for value in node:
            found += _actions(value)
    return found


def test_a_quiet_week_and_an_empty_tracker_still_make_a_valid_card() -> None:
    card, text = build_digest([], {}, [], NOW, LONDON)
    assert_valid_card(card)
    assert "Nothing changed this week." in text and "0 live items" in text


def test_ten_thousand_items_fit_in_one_card_under_80_kb() -> None:
    rng = random.Random(7)
    reports = {n: _report(n) for n in range(1, 401)}
    statuses = ("open", "in_progress", "evidenced", "signed_off", "not_for_us")
    today = NOW.date()
    items = [
        _item(n, rng.randint(1, 400), rng.choice(statuses), today + dt.timedelta(days=rng.randint(-500, 300)),
              created_days_ago=rng.randint(0, 400), evidenced_days_ago=rng.randint(0, 90),
              owner=f"DCI Person {rng.randint(1, 300)} (A long department name)")
        for n in range(1, 10_001)
    ]  # fmt: skip
    actions = (
        "status_changed",
        "owner_changed",
        "evidence_added",
        "update_added",
        "created",
        "field_changed",
    )
    events = [
        _event(n, rng.randint(1, 10_000), rng.choice(actions), old=rng.choice(statuses), new=rng.choice(statuses),
               actor=f"Officer {rng.randint(1, 60)}", days_ago=rng.random() * 7)
        for n in range(1, 20_001)
    ]  # fmt: skip
    started = time.perf_counter()
    card, text = build_digest(items, reports, events, NOW, LONDON)
    elapsed = time.perf_counter() - started
    assert_valid_card(card)
    size = len(json.dumps(card).encode())
    # What Teams receives: the card plus its 4,000-character fallback, well under 80 KB.
    wire = len(json.dumps({**card, "fallbackText": text[:4000]}, ensure_ascii=False).encode())
    assert size < 75_000 and wire < 80_000, (size, wire)
    assert elapsed < 2.0, elapsed
    assert "…and " in text and "more reports" in text
    print(
        f"10,000 items, 20,000 events: card {size} bytes, on the wire {wire} bytes, built in {elapsed * 1000:.0f} ms"
    )


@pytest.fixture
async def bot(db_url: str) -> AsyncIterator[RunningBot]:
    async with await Store.open(db_url) as store:
        ids = await seed_small(store)
        item = await store.get_item(ids["vetting recommendation 34"])
        await store.change_item(item.id, item.version, ItemChange(status="evidenced", evidence=NewEvidence(
            "evidence", "CCU now tasks intel routinely")), ALICE, Source("teams", "c", "a1"))  # fmt: skip
    # The clock is real here: the change above was made just now, and must count as this week.
    async with running_bot(Settings(database_url=db_url), clock=lambda: dt.datetime.now(dt.UTC)) as running:
        yield running


async def test_send_the_digest_now_answers_with_the_digest_card(bot: RunningBot) -> None:
    (reply,) = await bot.say("send the digest now")
    (card,) = cards_of(reply)
    assert_valid_card(card)
    text = text_of(reply)
    assert "Weekly status digest" in text
    assert (
        "Vetting, misconduct and misogyny (2022) rec 34: by Alice Ames" in text
        and "CCU now tasks intel routinely" in text
    )
    assert reply["summary"].startswith("Weekly status digest")


async def test_digest_from_the_real_store_and_read_model(store: Store) -> None:
    ids = await seed_small(store)
    item = await store.get_item(ids["vetting recommendation 35"])
    await store.change_item(item.id, item.version, ItemChange(owner_name="Insp Jo Bell", owner_aad_id="aad-jo", set_owner=True),
                            ALICE, Source("teams", "c", "a2"))  # fmt: skip
    model = ReadModel(store)
    await model.load()
    now = dt.datetime.now(dt.UTC)
    events = await store.events_since(now - dt.timedelta(days=7))
    card, text = build_digest(model.items.values(), model.reports, events, now, LONDON)
    assert_valid_card(card)
    assert (
        "Owner changes (1):\n- Vetting, misconduct and misogyny (2022) rec 35: by Alice Ames" in text
        and "Supt Mark Owen (ICT) → Insp Jo Bell" in text
    )
    assert "Fraud: Time to choose (2021) rec 1: overdue since 30 Sep 2021" in text
