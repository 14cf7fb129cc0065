"""Search from the compose box (issue 15): items ranked by the same resolver as the conversation (pure).

"CCU", "vetting 34", "roads", "vetitng 34" (typos corrected by the index): a printed number is
looked up the way "show vetting rec 34" is (:meth:`Resolver.refer`), and the words are scored
by the resolver's IDF ranking over its bounded candidate pool, so the work per query does not
grow with the tracker. An empty query lists the asker's own live items, as "my items" does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dialogs.language import Resolver
from dialogs.lists import find
from dialogs.queries import ListQuery
from storage.views import Actor, ItemView

MAX_PAGE = 25  # Teams shows at most 25 results a page
MAX_RESULTS = 250  # ranked results kept per query: ten pages, however large the tracker
MAX_QUERY_CHARS = 200
MIN_SCORE = 34.0  # a result must explain at least a third of the query's distinctive wording

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3})?)(?![\w.])")
_KIND = {"rec": "recommendation", "recommendation": "recommendation", "afi": "afi", "aof": "afi",
         "coc": "cause_of_concern"}  # fmt: skip
_KIND_WORD = re.compile(r"\b(?:rec|recs|recommendation|recommendations|afi|afis|coc)\b\.?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results: the items shown and how many matched in all."""

    items: tuple[ItemView, ...]
    total: int
    skip: int
    mine: bool = False  # the empty query: the asker's own live items


def page_bounds(skip: object, count: object) -> tuple[int, int]:
    """Client-supplied paging made safe: 0 <= skip <= MAX_RESULTS, 1 <= count <= MAX_PAGE."""

    def whole(value: object, default: int) -> int:
        try:
            return int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            return default

    return max(0, min(whole(skip, 0), MAX_RESULTS)), max(1, min(whole(count, MAX_PAGE), MAX_PAGE))


def search_items(resolver: Resolver, query: str, user: Actor, today: dt.date, *, skip: int = 0,
                 count: int = MAX_PAGE) -> SearchPage:  # fmt: skip
    """A page of items for ``query`` (best first), or of the asker's own live items when it is empty."""
    skip, count = page_bounds(skip, count)
    text = " ".join((query or "").split())[:MAX_QUERY_CHARS]
    if not text:
        mine = ListQuery(
            query="outstanding", owner_aad_id=user.aad_id or f"name:{user.name}", mine_name=user.name
        )
        found = find(mine, resolver.model, today)
        return SearchPage(tuple(found[skip : skip + count]), len(found), skip, mine=True)
    # The same words, the same items: paging through results, or several people looking up the
    # same thing, rank once until the next change (a search is ~0.6 ms of scoring at 10,000 items).
    ranked = resolver.model.memo(("search", text), lambda: rank(resolver, text))
    return SearchPage(tuple(ranked[skip : skip + count]), len(ranked), skip)


def rank(resolver: Resolver, text: str) -> list[ItemView]:
    """Every item ``text`` may mean, best first (at most :data:`MAX_RESULTS`)."""
    resolver.index.ensure_items()
    out: dict[int, ItemView] = {}
    number = _NUMBER.search(text)
    words = text
    if number:
        words = (text[: number.start()] + " " + text[number.end() :]).strip()
        kind_word = _KIND_WORD.search(words)
        kind = _KIND.get(kind_word.group(0).lower().rstrip(".s")) if kind_word else None
        words = _KIND_WORD.sub(" ", words).strip()
        ref = resolver.refer(words, number=number.group(1), kind=kind)
        hits = [ref.item] if ref.item else [c.item for c in ref.candidates if c.item]
        if not hits and ref.report is not None:
            hits = resolver.index.items_by_number(number.group(1), report_id=ref.report.id)
        out.update((i.id, i) for i in hits)
        if ref.item is not None or hits:
            return list(out.values())[:MAX_RESULTS]  # a printed number: those items only
    for item in _by_words(resolver, words):
        out.setdefault(item.id, item)
        if len(out) >= MAX_RESULTS:
            break
    return list(out.values())


def _by_words(resolver: Resolver, text: str) -> list[ItemView]:
    """Items scored by the resolver's IDF ranking, over its bounded pool (rare words' postings and
    the items of any report the words name). Ties go to live items, then printed order."""
    index = resolver.index
    q = index.query(text)
    weights = resolver._item_weights(q)  # the one ranking, shared on purpose
    if not weights:
        return []
    named = resolver._named(q)
    seeds = set(q.aliased) | ({named.id} if named else set())
    pool, _ = resolver._narrow(weights, seeds)
    items = [resolver.model.items[i] for i in pool if i in resolver.model.items]
    scored = resolver._score(q, items, weights)
    good = [s for s in scored if s.item is not None and s.score >= MIN_SCORE]
    # Ties: the items of a report the words name ("vetting") first, then live ones, then printed order.
    good.sort(key=lambda s: (-round(s.score), s.item.report_id not in seeds, not s.item.live))  # type: ignore[union-attr]
    return [s.item for s in good if s.item is not None]
