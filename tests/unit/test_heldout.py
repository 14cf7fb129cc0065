"""The held-out set (tests/heldout): its size and coverage, and the figures it must reach (issue 12, point 11).

The set is scored against the demo data the bot ships with, through ``understand()`` as the bot calls it.
"""

from __future__ import annotations

import logging

import pytest

from dialogs.language import Intent
from dialogs.language import intents as intents_module
from tests.heldout.rows import ROLES, Row, load_rows
from tests.heldout.score import Outcome, Scores, run
from tests.heldout.world import World, build_world


@pytest.fixture(scope="module")
def world() -> World:
    logging.disable(logging.INFO)
    try:
        return build_world()
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def rows(world: World) -> list[Row]:
    return load_rows(world)


@pytest.fixture(scope="module")
def outcomes(world: World) -> list[Outcome]:
    return run(world)


def test_the_set_is_big_enough_and_hard_enough(rows: list[Row]) -> None:
    assert len(rows) >= 300
    assert sum(r.hard for r in rows) >= 100  # one or two slips
    assert all(r.typos in (1, 2) for r in rows if r.hard)
    for tag, least in [("unnumbered", 30), ("followup", 20), ("filter", 40), ("committee", 20), ("write", 40),
                       ("multi", 6), ("oos", 8), ("smalltalk", 8)]:  # fmt: skip
        assert sum(tag in r.tags for r in rows) >= least, tag
    for role in ROLES:
        assert sum(r.role == role for r in rows) >= 80, role


def test_the_set_covers_every_intent_a_person_can_ask_for(rows: list[Row]) -> None:
    offered_only = getattr(intents_module, "OFFERED_ONLY", frozenset())
    asked = {intent for r in rows for intent, _ in r.intents}
    assert set(Intent) - set(offered_only) - asked == set()


def test_the_set_has_writes_and_non_writes_of_every_kind(rows: list[Row]) -> None:
    writes = {intent for r in rows if r.write for intent, _ in r.intents}
    assert writes >= intents_module.WRITES
    assert sum(not r.write for r in rows) > sum(r.write for r in rows)


def test_no_wrong_writes(outcomes: list[Outcome]) -> None:
    wrong = [f"{o.row.id} {o.row.text!r}: {o.wrong_write}" for o in outcomes if o.wrong_write]
    assert wrong == []


def test_the_figures_reach_the_targets(outcomes: list[Outcome]) -> None:
    scores = Scores.of(outcomes)
    assert scores.intent >= 0.97, f"intent {scores.intent:.1%}"
    assert scores.target >= 0.95, f"target {scores.target:.1%}"
