"""Linear cost of understanding (issue 12, point 9): adversarial repeats of every word the language knows.

For every keyword and cue word (collected from ``dialogs.language``: the cue patterns and examples,
the glossary, status words, the intent vocabulary, the tracker words, plus a list of our own), a
message of the word repeated to ~1,000 and ~4,000 characters, alternating pairs, digits and dates,
is understood against the demo data. CPU time at 4n must stay within 8x of the time at n (linear
is 4x; quadratic backtracking is 16x), and no 4,000-character message may take over 50 ms: a loose
ceiling that catches a blow-up, not a benchmark (that is ``make bench``). Each size is timed a few
times when it looks slow and the fastest run kept, so other work on a shared machine does not fail the test.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Iterator

import pytest

from dialogs.language import Context, cues, mentions, parts, text, understand
from tests.heldout.world import TODAY, World, build_world

N_CHARS = 1000
RUNS = 3
RATIO = 8.0
CEILING = 0.050  # seconds, one 4,000-character message
FLOOR = 0.0005  # below half a millisecond at n, timer noise dominates: compare with this instead

# Words the understanding should know whatever its tables say (dates, numbers, references, the committee).
OWN = (
    "due", "overdue", "by", "before", "after", "since", "until", "rec", "recs", "recommendation", "afi", "afis",
    "area for improvement", "cause of concern", "coc", "mark", "evidenced", "evidence", "owner", "owns", "who",
    "peel", "jac", "committee", "signed off", "sign off", "sign-off", "tick off", "done", "complete", "close",
    "reopen", "put back to open", "un-mark", "assign", "is now leading on", "move the deadline", "retarget",
    "extend", "update", "note", "show", "list", "outstanding", "open", "in progress", "not for us", "for us",
    "iopc", "npcc", "mine", "my", "me", "it", "that one", "the second one", "the", "and", "or", "of", "to",
    "this week", "last week", "next week", "since monday", "since the last jac", "today", "tomorrow",
    "yesterday", "christmas", "easter", "end of march", "march", "31 march", "31 march 2023", "2023", "2023-25",
    "2021/22", "3 of 6", "1st", "q3", "#7", "7.1", "35", "question 6", "what changed", "how many",
    "thanks", "hi", "help", "digest", "subscribe", "stop", "@tracker", "<at>Tracker</at>", "http://x.y/z",
    ":", "-", "?", "!", "'", "(", ")", ",", ".", "/", "&",
)  # fmt: skip
PARTNERS = ("35", "rec", "by", "31 march", ":", "and", "the", "due")
DIGIT_SHAPES = (
    "1 ", "35 ", "1 2 3 ", "35 and 36 and ", "33, 34, ", "1/2/3/4/", "1.2.3.4.", "12/12/2026 ", "2026-12-02 ",
    "31 march 2023 ", "31st of march ", "3 of 6 ", "#1 ", "rec 1, ", "2023-25 ", "7.1.1 ", "0", "9" * 50 + " ",
    "1-2-", "1:2:", "1st 2nd ", "q1 q2 ", "by 31 march ", "due by 31/03/2023 ", "since 1 november ",
)  # fmt: skip
PREFIXES = ("", "show ", "mark 34 as evidenced: ", "what's outstanding ", "who owns ", "since the last jac ")


def _words_of_pattern(pattern: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z'&-]{1,}", re.sub(r"\\[a-zA-Z]", " ", pattern)))


def keywords() -> list[str]:
    """Every word and phrase the understanding knows, and ours (sorted, deduplicated)."""
    found: set[str] = set(OWN)
    for cue in cues.CUES:
        found.add(cue.example)
        for p in cue.patterns:
            found |= _words_of_pattern(p.pattern)
    found |= set(text.GLOSSARY) | set(text.GLOSSARY.values()) | set(text.RANKS)
    found |= set(mentions.STATUS_WORDS) | set(parts.INTENT_VOCAB)
    # (the package exports the function under the module's name, so fetch the module itself)
    found |= set(getattr(importlib.import_module("dialogs.language.understand"), "_TRACKER_WORDS", ()))
    return sorted(w for w in found if w.strip())


def repeated(unit: str, chars: int) -> str:
    """``unit`` repeated to about ``chars`` characters."""
    return unit * max(1, chars // max(1, len(unit)))


def shapes() -> Iterator[tuple[str, str]]:
    """(name, unit) pairs: each is repeated to n and 4n characters."""
    for i, word in enumerate(keywords()):
        yield f"repeat {word!r}", word + " "
        yield f"glued {word!r}", word
        partner = PARTNERS[i % len(PARTNERS)]
        yield f"pair {word!r}+{partner!r}", f"{word} {partner} "
    for word in OWN:
        for partner in PARTNERS:
            yield f"pair {word!r}+{partner!r}", f"{word} {partner} "
    for unit in DIGIT_SHAPES:
        yield f"digits {unit!r}", unit


@pytest.fixture(scope="module")
def world() -> World:
    logging.disable(logging.INFO)
    try:
        return build_world()
    finally:
        logging.disable(logging.NOTSET)


def _cpu(world: World, message: str, runs: int = 1) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        understand(message, Context(), world.resolver, TODAY)
        best = min(best, time.process_time() - start)
    return best


def _slow(t_small: float, t_large: float) -> bool:
    return t_large > CEILING or t_large > RATIO * max(t_small, FLOOR)


def _check(world: World, name: str, prefix: str, unit: str) -> str | None:
    small = prefix + repeated(unit, N_CHARS - len(prefix))
    large = prefix + repeated(unit, 4 * N_CHARS - len(prefix))
    t_small, t_large = _cpu(world, small), _cpu(world, large)
    if _slow(t_small, t_large):  # one run each is enough to pass; a failure is timed again, best of RUNS
        t_small, t_large = _cpu(world, small, RUNS), _cpu(world, large, RUNS)
    if t_large > CEILING:
        return f"{prefix}{name}: {len(large)} chars took {t_large * 1000:.1f} ms (ceiling {CEILING * 1000:.0f} ms)"
    if t_large > RATIO * max(t_small, FLOOR):
        return (f"{prefix}{name}: {t_large / max(t_small, FLOOR):.1f}x from {len(small)} to {len(large)} chars "
                f"({t_small * 1000:.2f} -> {t_large * 1000:.2f} ms)")  # fmt: skip
    return None


def test_the_word_lists_are_collected() -> None:
    words = keywords()
    assert len(words) >= 300
    assert {"due", "overdue", "evidenced", "peel", "jac", "vawg", "signed off"} <= set(words)


def test_repeats_of_every_keyword_cost_linear_time(world: World) -> None:
    slow = [s for name, unit in shapes() if (s := _check(world, name, "", unit))]
    assert slow == [], "\n".join(slow)


@pytest.mark.parametrize("prefix", [p for p in PREFIXES if p])
def test_repeats_after_a_request_cost_linear_time(world: World, prefix: str) -> None:
    """The same after the start of a real request (the cue window, the evidence note, the filters)."""
    units = [(f"repeat {w!r}", w + " ") for w in OWN] + [(f"digits {u!r}", u) for u in DIGIT_SHAPES]
    slow = [s for name, unit in units if (s := _check(world, name, prefix, unit))]
    assert slow == [], "\n".join(slow)
