"""Ranking: which report or item a reference means, or that it is unclear (pure).

Candidates come from the :class:`~dialogs.language.index.Index` (a bounded number, however large
the tracker); each is scored by how much of the reference's *distinctive* wording (IDF weighted) it
explains, counting a report's names as part of each of its items, and the best is chosen only when
it clearly beats the runner-up. Writes need a clearer winner than reads. When it is not confident
the caller asks; nothing here ever guesses.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass

from dialogs.language.index import Index, Query, contains, number_key
from storage.views import ItemView, ReportView

# Confidence rules. Writes need a clearer winner than reads; reports are few and named on purpose.
REPORT_FLOOR, REPORT_MARGIN = 55.0, 12.0
ITEM_FLOOR, ITEM_MARGIN = 60.0, 10.0
WRITE_FLOOR, WRITE_MARGIN = 70.0, 15.0
ALIAS_BONUS = REPORT_MARGIN  # an alias, said word for word, settles which report
ASK_BAND = 25.0  # candidates offered: those within this many points of the best
SCORED_KEPT = 100  # candidates kept, best first, from one scoring pass
POSTING_CAP = 300  # a word on more items than this does not narrow; it only scores
MAX_ASK = 6


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate and how well it matched (0-100). Item candidates carry their report too."""

    score: float
    report: ReportView | None = None
    item: ItemView | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a reference: one confident answer, or candidates to ask about."""

    chosen: Scored | None = None
    candidates: tuple[Scored, ...] = ()

    @property
    def needs_clarification(self) -> bool:
        return self.chosen is None and len(self.candidates) > 1

    @property
    def not_found(self) -> bool:
        return self.chosen is None and len(self.candidates) <= 1


@dataclass(frozen=True, slots=True)
class Reference:
    """Which item (or report) a message refers to, or what to ask, or that nothing fits."""

    report: ReportView | None = None  # the named report, or the chosen item's report
    item: ItemView | None = None
    candidates: tuple[Scored, ...] = ()  # items to choose from (asking) or the nearest (not found)
    report_candidates: tuple[ReportView, ...] = ()
    needs_clarification: bool = False
    not_found: bool = False
    report_only: bool = False  # the words name a report and nothing more specific
    examined: int = 0  # how many items were scored: the narrowing step's bound, for tests


def pick(ranked: list[Scored], *, floor: float, margin: float) -> Resolution:
    """Confident when the best clears ``floor`` and beats the runner-up by ``margin``."""
    ranked = sorted(ranked, key=lambda s: -s.score)
    if not ranked:
        return Resolution()
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= floor and best.score - second >= margin:
        return Resolution(chosen=best, candidates=tuple(ranked[:5]))
    close = [s for s in ranked if s.score >= max(floor * 0.6, best.score - ASK_BAND)]
    return Resolution(candidates=tuple(close[:MAX_ASK] if len(close) > 1 else ranked[:3]))


class Resolver:
    """Report and item resolution over an :class:`Index` (which follows the read model)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.model = index.model

    def report_by_key(self, key: str) -> ReportView | None:
        return self.model.reports_by_key.get(key)

    def reports(self, text: str) -> Resolution:
        """Which report does ``text`` name? (``chosen`` is None when none, or unclear.)"""
        return pick(self._rank_reports(self.index.query(text)), floor=REPORT_FLOOR, margin=REPORT_MARGIN)

    def _rank_reports(self, q: Query) -> list[Scored]:
        n = max(len(self.model.reports), 1)
        # Words most reports share ("police") cannot tell reports apart; numbers only support words.
        words = [w for w in q.words if 0 < len(self.index.report_postings.get(w, ())) <= max(1, n // 2)]
        named = {rid for w in words if not w.isdigit() for rid in self.index.report_postings[w]} | q.aliased
        words = [w for w in words if not w.isdigit() or self.index.report_postings[w] & named]
        weights = {w: math.log(1 + n / len(self.index.report_postings[w])) for w in words}
        total = sum(weights.values())
        ranked = []
        for rid in named:
            report = self.model.reports.get(rid)
            if report is None:
                continue
            covered = sum(wt for w, wt in weights.items() if rid in self.index.report_postings[w])
            score = 100.0 * covered / total if total else 0.0
            if rid in q.aliased:
                # A name the force chose, word for word, settles it, unless the rest of the message
                # names another report better ("PEEL 2021/22 West Mercia" when "PEEL 2021/22" is West
                # Midlands' alias): the bonus adds to what the words explain.
                score = (score if total else 100.0) + ALIAS_BONUS
            ranked.append(Scored(score, report=report))
        return ranked

    def refer(
        self, text: str, *, number: str | None = None, kind: str | None = None,
        context_report_id: int | None = None, strict: bool = False,
    ) -> Reference:  # fmt: skip
        """The item ``text`` refers to ("rec 4 of the disproportionality report", "the CCU one").

        ``number``/``kind`` come from an item reference already taken out of ``text``; the rest of
        ``text`` may name a report, describe the item, or both. ``context_report_id`` is the report
        the conversation was about: it decides only what the words leave open. ``strict`` (writes)
        asks for a clearer winner.
        """
        self.index.ensure_items()
        q = self.index.query(text)
        named = self._named(q)
        if number:
            return self._by_number_ref(q, number, kind, named, context_report_id, strict)
        return self._by_words_ref(q, kind, named, context_report_id, strict)

    def _named(self, q: Query) -> ReportView | None:
        res = pick(self._rank_reports(q), floor=REPORT_FLOOR, margin=REPORT_MARGIN)
        return res.chosen.report if res.chosen else None

    def _by_number_ref(
        self,
        q: Query,
        number: str,
        kind: str | None,
        named: ReportView | None,
        context: int | None,
        strict: bool,
    ) -> Reference:
        if named is not None and named.id in q.aliased:
            # Named by one of its aliases: that report's item, looked up, whatever other reports hold.
            found = self.index.items_by_number(number, report_id=named.id, kind=kind)
            if not found:
                return Reference(report=named, not_found=True)
            return self._numbered(q, found, named, True, strict, kind)
        if named is None and context is not None:
            in_context = self.index.items_by_number(number, report_id=context, kind=kind)
            if in_context:  # "and rec 5?": the report the conversation is about
                return self._numbered(q, in_context, None, False, strict, kind)
        found = self.index.items_by_number(number, kind=kind)
        if named is not None and self._narrows(q, named, found):
            found = [i for i in found if i.report_id == named.id]
            if not found:
                return Reference(report=named, not_found=True)
            scope_named = True
        else:
            scope_named = False
            if context is not None and any(i.report_id == context for i in found):
                found = [i for i in found if i.report_id == context]
        return self._numbered(q, found, named, scope_named, strict, kind)

    def _numbered(
        self, q: Query, found: list[ItemView], named: ReportView | None, scope_named: bool, strict: bool,
        kind: str | None,
    ) -> Reference:  # fmt: skip
        """The reference among items printed with the number asked for."""
        if kind is None and len({i.report_id for i in found}) == 1 and len(found) > 1:
            recs = [i for i in found if i.kind == "recommendation"]
            found = recs if len(recs) == 1 else found  # "35" within one report means the recommendation
        if len(found) > 1 and not scope_named and q.words:
            # "rec 5 about perpetrators": let the words choose among the numbered items.
            ranked = self._score(q, found)
            floor, margin = (WRITE_FLOOR, WRITE_MARGIN) if strict else (ITEM_FLOOR, ITEM_MARGIN)
            second = ranked[1].score if len(ranked) > 1 else 0.0
            if ranked and ranked[0].item and ranked[0].score >= floor and ranked[0].score - second >= margin:
                found = [ranked[0].item]
        scored = tuple(self._scored(100.0, i) for i in found[:10])  # a choice shows a few, never thousands
        if len(found) == 1:
            return Reference(
                report=self.model.reports.get(found[0].report_id), item=found[0], candidates=scored
            )
        if not found:
            return Reference(not_found=True)
        return Reference(
            report=named if scope_named else None, candidates=scored[:10], needs_clarification=True
        )

    def _narrows(self, q: Query, named: ReportView, found: list[ItemView]) -> bool:
        """Does the report the words seem to name really narrow these numbered items?

        Yes if it was named by an alias, or its name explains the words at least as well as any
        other numbered item's text does ("rec 5 about multi-agency arrangements" is not JTAI's).
        """
        if named.id in q.aliased:
            return True
        weights = self._item_weights(q)
        mine = self._report_score(weights, named.id)
        if mine >= 100.0 - 1e-9:
            return True  # its name says every word: nothing can explain them better
        ours = [i for i in found if i.report_id == named.id]
        theirs = [i for i in found if i.report_id != named.id]
        mine = max(mine, self._best_score(ours, weights))
        return mine >= self._best_score(theirs, weights)

    def _best_score(self, items: list[ItemView], weights: dict[str, float]) -> float:
        """The best of :meth:`_score`'s scores over ``items``, without ranking them."""
        total = sum(weights.values())
        if not total or not items:
            return 0.0
        postings = [(w, wt, self.index.item_postings.get(w)) for w, wt in weights.items()]
        report_words = self.index.report_words
        best = 0.0
        for item in items:
            names = report_words.get(item.report_id, frozenset())
            either = sum(wt for w, wt, posting in postings if w in names or contains(posting, item.id))
            best = max(best, either)
        return 100.0 * best / total

    def _by_words_ref(
        self, q: Query, kind: str | None, named: ReportView | None, context: int | None, strict: bool
    ) -> Reference:
        weights = self._item_weights(q)
        if not any(w in self.index.item_postings or w in self.index.report_postings for w in weights):
            return Reference(report=named, report_only=named is not None, not_found=named is None)
        seeds = {r for r in (named.id if named else None, context) if r is not None} | q.aliased
        pool, examined = self._narrow(weights, seeds)
        items = self.model.items
        scope = None
        if (
            named is not None
            and named.id in q.aliased
            and self._report_score(weights, named.id) >= 100.0 - 1e-9
        ):
            # Named by an alias that says every word: the report scopes the search whatever its
            # items say (the rule below would decide so), so only its own candidates are scored.
            scope = named
            ranked = self._score(
                q, [items[i] for i in pool if i in items and items[i].report_id == named.id], weights
            )
        else:
            ranked = self._score(q, [items[i] for i in pool if i in items], weights)
        best = ranked[0].score if ranked else 0.0
        if named is not None and scope is None:
            in_named = [s for s in ranked if s.item and s.item.report_id == named.id]
            best_named = max(in_named[0].score if in_named else 0.0, self._report_score(weights, named.id))
            elsewhere = max((s.score for s in ranked if s.item and s.item.report_id != named.id), default=0.0)
            # Words can look like a report's name when they describe items: "the organised crime
            # one" is not crime data integrity, and "the stop and search one" may be any of the
            # stop and search items. The report narrows the search only if it explains the words
            # best, or was named by one of its aliases.
            if best_named > elsewhere or (named.id in q.aliased and best_named >= best - 5):
                scope, ranked = named, in_named
        best = ranked[0].score if ranked else 0.0
        by_report = self._report_only(weights, q, scope)
        top = by_report[0] if by_report else None
        if top is not None and top.score >= best - 1e-6 and top.report is not None:
            top_id = top.report.id
            rival = max((s.score for s in ranked if s.item and s.item.report_id != top_id), default=0.0)
            if scope is not None or top_id in q.aliased or rival < top.score:
                # Nothing says more than a report's name: that report, not one of its items.
                return self._report_reference(by_report, examined)
        if kind is not None:
            of_kind = [s for s in ranked if s.item and s.item.kind == kind]
            ranked = of_kind if of_kind else ranked  # a kind word is a hint, not a filter that empties
        return self._decide(ranked, scope, context, strict, examined)

    def _report_reference(self, by_report: list[Scored], examined: int) -> Reference:
        res = pick(by_report, floor=REPORT_FLOOR, margin=REPORT_MARGIN)
        if res.chosen and res.chosen.report:
            return Reference(report=res.chosen.report, report_only=True, examined=examined)
        reports = tuple(s.report for s in res.candidates if s.report)
        return Reference(report_candidates=reports, report_only=True, needs_clarification=len(reports) > 1,
                         not_found=len(reports) <= 1, examined=examined)  # fmt: skip

    def _decide(
        self, ranked: list[Scored], scope: ReportView | None, context: int | None, strict: bool, examined: int
    ) -> Reference:
        floor, margin = (WRITE_FLOOR, WRITE_MARGIN) if strict else (ITEM_FLOOR, ITEM_MARGIN)
        if not ranked or ranked[0].score < floor:
            return Reference(report=scope, candidates=tuple(ranked[:3]), not_found=True, examined=examined)
        for pool in (ranked, [s for s in ranked if context and s.item and s.item.report_id == context]):
            near = bool(pool) and pool[0].score >= max(floor, ranked[0].score - margin)
            if near and (len(pool) == 1 or pool[0].score - pool[1].score >= margin):
                chosen = pool[0]
                return Reference(
                    report=chosen.report, item=chosen.item, candidates=(chosen,), examined=examined
                )
        close = tuple(s for s in ranked if s.score >= ranked[0].score - ASK_BAND)[:MAX_ASK]
        return Reference(report=scope, candidates=close, needs_clarification=len(close) > 1,
                         not_found=len(close) <= 1, examined=examined)  # fmt: skip

    def _item_weights(self, q: Query) -> dict[str, float]:
        """IDF over item texts for the query's words.

        A word we have never seen ("the body armour one") still counts, at half the weight of the
        rarest word: it says the person means something we may not have, so it must lower our
        confidence, but not sink a match over one stray word ("the cannabis one we discussed").
        """
        n = max(len(self.model.items), 1)
        unknown = math.log(1 + n) / 2
        return {
            w: math.log(1 + n / (1 + len(self.index.item_postings[w]))) if w in self.index.item_postings
            else math.log(1 + n) if w in self.index.report_postings else unknown
            for w in q.words
            if not w.isdigit()
        }  # fmt: skip

    def _narrow(self, weights: dict[str, float], seeds: set[int]) -> tuple[set[int], int]:
        """Candidate item ids: the rarest words' postings plus the items of ``seeds`` (reports named,
        or the conversation's), each capped, so the work is bounded however large the tracker."""
        pool: set[int] = set()
        rare = sorted(
            (w for w in weights if w in self.index.item_postings),
            key=lambda w: len(self.index.item_postings[w]),
        )
        for w in rare[:3]:
            posting = self.index.item_postings[w]
            if len(posting) <= POSTING_CAP:
                pool.update(posting)
        if not pool and rare:
            pool.update(self.index.item_postings[rare[0]][:POSTING_CAP])  # only common words: a sample scores
        for rid in seeds:
            pool.update(self.index.by_report.get(rid, ())[:POSTING_CAP])
        return pool, len(pool)

    def _report_score(self, weights: dict[str, float], report_id: int) -> float:
        total = sum(weights.values())
        names = self.index.report_words.get(report_id, frozenset())
        return 100.0 * sum(wt for w, wt in weights.items() if w in names) / total if total else 0.0

    def _report_only(self, weights: dict[str, float], q: Query, scope: ReportView | None) -> list[Scored]:
        rids = (
            {scope.id} if scope else {rid for w in weights for rid in self.index.report_postings.get(w, ())}
        )
        ranked = []
        for rid in rids:
            report = self.model.reports.get(rid)
            if report is not None:
                bonus = ALIAS_BONUS if rid in q.aliased else 0.0
                ranked.append(Scored(self._report_score(weights, rid) + bonus, report=report))
        return sorted(ranked, key=lambda s: -s.score)

    def _score(
        self, q: Query, items: list[ItemView], weights: dict[str, float] | None = None
    ) -> list[Scored]:
        """Each item's share of the query's weight explained by its text or its report's names."""
        weights = weights if weights is not None else self._item_weights(q)
        total = sum(weights.values())
        if not total:
            return []
        out: list[tuple[float, float, bool, int, int, ItemView]] = []
        # Each word's items among the candidates, worked out once per word: a set when its posting
        # is short, else by bisection of the sorted posting (a set of it would cost more to build).
        ids = [item.id for item in items]
        hits: list[tuple[str, float, set[int] | frozenset[int]]] = []
        for w, wt in weights.items():
            posting = self.index.item_postings.get(w)
            if not posting:
                hits.append((w, wt, frozenset()))
            elif len(posting) <= 4 * len(ids):
                hits.append((w, wt, set(posting)))
            else:
                n, bl = len(posting), bisect.bisect_left
                hits.append((w, wt, {i for i in ids if (j := bl(posting, i)) < n and posting[j] == i}))
        report_words = self.index.report_words
        for item in items:
            names = report_words.get(item.report_id, frozenset())
            in_text = either = 0.0
            for w, wt, found in hits:  # one look-up per word and item (this loop is the hot one)
                if item.id in found:
                    in_text += wt
                    either += wt
                elif w in names:
                    either += wt
            # Plain tuples, smallest first: compared without a key function (ids are unique).
            out.append((-100.0 * either / total, -in_text, not item.live, item.report_id, item.id, item))
        # Ties go to items whose own text says it, then to live items, then in printed order. Only
        # the best SCORED_KEPT are ranked and kept: choices show a handful, and ranking a thousand
        # candidates of a common word was the costliest step of a question at 100,000 items.
        best = heapq.nsmallest(SCORED_KEPT, out) if len(out) > SCORED_KEPT else sorted(out)
        best.sort(key=lambda t: (t[0], t[1], t[2], t[3], number_key(t[5].number), t[4]))  # printed order
        return [self._scored(-t[0], t[5]) for t in best]

    def _scored(self, score: float, item: ItemView) -> Scored:
        return Scored(score, report=self.model.reports.get(item.report_id), item=item)
