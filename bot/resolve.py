"""Working out *which* report or item a person means. All resolution lives here.

Two steps, because a fuzzy scan over every item's text costs ~100 ms at 10,000 items:
1. narrow: normalise the words (typos corrected against our own vocabulary, acronyms expanded),
   then look them up in inverted indexes (word -> reports, word -> items, number -> items);
2. rank: score the few candidates by how much of the *distinctive* wording they share (IDF
   weighted), and call it confident only when the best clearly beats the runner-up.
When it is not confident the caller asks; nothing here ever picks for a write.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView

# Acronyms people use for reports and topics -> the words those reports are written in.
GLOSSARY: dict[str, str] = {
    "vawg": "violence against women and girls",
    "cse": "child sexual exploitation",
    "csa": "child sexual abuse",
    "ppda": "abuse of position for a sexual purpose",
    "da": "domestic abuse",
    "dv": "domestic violence",
    "ccu": "counter corruption unit",
    "ccus": "counter corruption units",
    "asb": "antisocial behaviour",
    "peel": "police effectiveness efficiency legitimacy",
    "jtai": "joint targeted area inspection",
    "s&s": "stop and search",
    "sas": "stop and search",
    "bwv": "body worn video",
    "cdi": "crime data integrity",
    "soc": "serious and organised crime",
    "ocg": "organised crime group",
    "ocgs": "organised crime groups",
    "rasso": "rape and serious sexual offences",
    "mash": "multi agency safeguarding hub",
    "spr": "strategic policing requirement",
    "cp": "child protection",
    "vmm": "vetting misconduct misogyny",
}

# Words that carry no meaning for resolution (function words, and the words of the intents).
STOPWORDS = frozenset(
    ["a", "an", "the", "of", "for", "from", "to", "in", "on", "at", "by", "with", "and", "or", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "what", "whats", "which", "who", "whos", "whose", "how", "many", "much", "any", "anything", "something", "all", "our", "my", "me", "us", "we", "you", "i", "please", "can", "could", "would", "should", "show", "tell", "give", "get", "list", "find", "open", "about", "one", "ones", "there", "here", "still", "due", "overdue", "outstanding", "left", "remaining", "status", "summary", "owner", "owns", "lead", "leads", "mark", "as", "evidenced", "evidence", "update", "note", "add", "progress", "sign", "signed", "off", "reopen", "assign", "rec", "recs", "recommendation", "recommendations", "item", "items", "afi", "afis", "area", "areas", "improvement", "cause", "causes", "concern", "report", "reports", "inspection", "inspections", "thing", "things", "one", "bit", "re", "hmicfrs", "hmic", "do", "does", "did", "done", "yet", "not", "no", "new", "before", "after", "until", "within", "next", "this", "last", "week", "month", "year", "today", "tomorrow", "soon", "christmas", "easter", "has", "have", "had", "got", "owned", "lead", "led", "owner's", "who's", "where", "we're", "whats", "that's", "isn't"]
)

_TOKEN = re.compile(r"[a-z0-9&]+(?:\.[0-9]+)*")
_DASHES = re.compile(r"[\u2010-\u2015\u2212-]")


def normalise(text: str) -> str:
    """Lower case, straight quotes, dashes as spaces, accents folded, one space between words."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = _DASHES.sub(" ", text.lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.split())


def stem(word: str) -> str:
    """A deliberately tiny stemmer: plural 's' only, applied the same on both sides."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Normalised, stemmed words of ``text``; acronyms from the glossary add their expansion."""
    out: list[str] = []
    for w in _TOKEN.findall(normalise(text)):
        w = w.strip(".")
        if not w:
            continue
        out.append(stem(w))
        if w in GLOSSARY:
            out.extend(stem(x) for x in GLOSSARY[w].split())
    return out


def acronyms_in(text: str) -> list[str]:
    """Glossary acronyms whose expansion appears in ``text`` (so "VAWG" finds the VAWG report)."""
    norm = " ".join(stem(w) for w in _TOKEN.findall(normalise(text)))
    return [a for a, phrase in GLOSSARY.items() if " ".join(stem(w) for w in phrase.split()) in norm]


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate and how well it matched (0-100)."""

    score: float
    report: ReportView | None = None
    item: ItemView | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a reference: one confident answer, or candidates to ask about."""

    chosen: Scored | None = None
    candidates: tuple[Scored, ...] = ()
    asked_for_specific: bool = False  # e.g. a number was given

    @property
    def needs_clarification(self) -> bool:
        return self.chosen is None and len(self.candidates) > 1

    @property
    def not_found(self) -> bool:
        return self.chosen is None and len(self.candidates) <= 1


def pick(ranked: list[Scored], *, floor: float, margin: float) -> Resolution:
    """Confident when the best clears ``floor`` and beats the runner-up by ``margin``."""
    ranked = sorted(ranked, key=lambda s: -s.score)
    if not ranked:
        return Resolution()
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= floor and best.score - second >= margin:
        return Resolution(chosen=best, candidates=tuple(ranked[:5]))
    close = [s for s in ranked if s.score >= max(floor * 0.6, best.score - 25)]
    return Resolution(candidates=tuple(close[:6] if len(close) > 1 else ranked[:3]))


class Resolver:
    """Report and item resolution over the read model; indexes update as the model changes."""

    def __init__(self, model: ReadModel) -> None:
        self._model = model
        self._report_postings: dict[str, set[int]] = {}
        self._report_phrases: list[tuple[str, int]] = []  # (normalised alias/title/key, report id)
        self._report_vocab: list[str] = []
        self._item_postings: dict[str, array] = {}
        self._item_vocab_by_initial: dict[str, list[str]] = {}
        self._by_number: dict[str, list[int]] = {}
        self._indexed_text: dict[int, int] = {}  # item id -> hash of the text we indexed
        self._max_id = 0
        self._dirty = False
        model.subscribe(self._on_change)
        self._on_change(model, model.items.values(), True)

    # ---- index maintenance -------------------------------------------------------------------

    def _on_change(self, model: ReadModel, changed: Iterable[ItemView], full: bool) -> None:
        self._index_reports(model.reports.values())
        if full:
            self._item_postings, self._by_number, self._indexed_text = {}, {}, {}
            self._max_id = 0
            self._dirty = True
        else:
            for item in changed:
                old = self._indexed_text.get(item.id)
                if old is None and not self._dirty and item.id > self._max_id:
                    self._index_item(item)  # new item with the highest id: postings stay sorted
                elif old is not None and old == hash((item.text, item.number)):
                    continue  # status/owner changes do not move the index
                else:
                    self._dirty = True

    def _ensure_items(self) -> None:
        if not self._dirty:
            return
        self._item_postings, self._by_number, self._indexed_text = {}, {}, {}
        self._max_id = 0
        for item_id in sorted(self._model.items):
            self._index_item(self._model.items[item_id])
        vocab: dict[str, list[str]] = {}
        for word in self._item_postings:
            if len(word) >= 4 and not word.isdigit():
                vocab.setdefault(word[0], []).append(word)
        self._item_vocab_by_initial = vocab
        self._dirty = False

    def _index_item(self, item: ItemView) -> None:
        self._indexed_text[item.id] = hash((item.text, item.number))
        self._max_id = max(self._max_id, item.id)
        for word in set(tokens(item.text)):
            if word in STOPWORDS:
                continue
            posting = self._item_postings.get(word)
            if posting is None:
                posting = self._item_postings[word] = array("i")
            posting.append(item.id)
        if item.number:
            self._by_number.setdefault(item.number.lower(), []).append(item.id)

    def _index_reports(self, reports: Iterable[ReportView]) -> None:
        postings: dict[str, set[int]] = {}
        phrases: list[tuple[str, int]] = []
        for r in reports:
            names = [r.title, r.key.replace("-", " "), *r.aliases]
            for name in names:
                phrases.append((normalise(name), r.id))
            words = set()
            for name in names:
                words.update(tokens(name))
                words.update(acronyms_in(name))
            for w in words:
                if w not in STOPWORDS or w in {"peel"}:
                    postings.setdefault(w, set()).add(r.id)
        self._report_postings = postings
        self._report_phrases = phrases
        self._report_vocab = [w for w in postings if len(w) >= 4]

    # ---- words ---------------------------------------------------------------------------------

    def correct(self, word: str) -> str:
        """Fix a typo against the words we know (report names, item texts, glossary)."""
        if len(word) < 5 or word.isdigit() or word in self._report_postings or word in self._item_postings:
            return word
        self._ensure_items()
        pool = self._report_vocab + self._item_vocab_by_initial.get(word[0], [])
        hit = process.extractOne(word, pool, scorer=fuzz.ratio, score_cutoff=82)
        return hit[0] if hit else word

    def query_tokens(self, text: str) -> list[str]:
        """Distinct meaningful words of a query, typo-corrected, in order."""
        seen: dict[str, None] = {}
        for w in tokens(text):
            if w in STOPWORDS or len(w) < 2:
                continue
            seen.setdefault(self.correct(w), None)
            if w in GLOSSARY:
                seen.pop(w, None)
                seen.setdefault(w, None)
        return list(seen)

    # ---- reports -------------------------------------------------------------------------------

    def report_by_key(self, key: str) -> ReportView | None:
        return self._model.reports_by_key.get(key)

    def reports(self, text: str) -> Resolution:
        """Which report does ``text`` mention? (``chosen`` is None when none or unclear.)"""
        norm = " " + " ".join(_TOKEN.findall(normalise(text))) + " "
        n = max(len(self._model.reports), 1)
        scores: dict[int, float] = {}
        # Whole aliases quoted verbatim are the strongest signal ("the misogyny one").
        for phrase, rid in self._report_phrases:
            p = " ".join(_TOKEN.findall(phrase))
            if len(p) >= 3 and f" {p} " in norm:
                scores[rid] = max(scores.get(rid, 0.0), 100.0 + len(p) / 100)
        words = [w for w in self.query_tokens(text) if w in self._report_postings]
        weights = {w: math.log(1 + n / len(self._report_postings[w])) for w in words}
        # Words most reports share ("police", "inspection") cannot tell reports apart.
        distinctive = {w: wt for w, wt in weights.items() if len(self._report_postings[w]) <= max(1, n // 2)}
        total = sum(distinctive.values())
        if total:
            for w, _wt in distinctive.items():
                for rid in self._report_postings[w]:
                    scores[rid] = scores.get(rid, 0.0) + 0.0  # ensure key
            for rid in list(scores):
                matched = sum(wt for w, wt in distinctive.items() if rid in self._report_postings[w])
                scores[rid] = max(scores[rid], 100.0 * matched / total)
        ranked = [Scored(min(s, 100.0), report=self._model.reports[rid]) for rid, s in scores.items() if s > 0]
        return pick(ranked, floor=55, margin=12)

    # ---- items ---------------------------------------------------------------------------------

    def items_by_number(self, number: str, *, report_id: int | None = None, kind: str | None = None) -> list[ItemView]:
        """Items printed with this number (optionally within one report / of one kind)."""
        self._ensure_items()
        out = []
        for iid in self._by_number.get(number.lower(), ()):
            item = self._model.items.get(iid)
            if item is None or (report_id is not None and item.report_id != report_id):
                continue
            if kind is not None and item.kind != kind:
                continue
            out.append(item)
        return out

    def item_by_number(
        self, number: str, *, report_id: int | None, kind: str | None, context_report_id: int | None = None
    ) -> Resolution:
        """"rec 35" (of a report, or of the report we were just talking about, or unique overall)."""
        if report_id is not None:
            found = self.items_by_number(number, report_id=report_id, kind=kind)
        else:
            found = self.items_by_number(number, kind=kind)
            if context_report_id is not None:
                in_context = [i for i in found if i.report_id == context_report_id]
                if in_context:
                    found = in_context
        if kind is None and len(found) > 1:
            recs = [i for i in found if i.kind == "recommendation"]
            if len(recs) == 1 and len({i.report_id for i in found}) == 1:
                found = recs  # "35" within one report means the recommendation, as people say it
        ranked = [Scored(100.0, item=i) for i in found]
        if len(ranked) == 1:
            return Resolution(chosen=ranked[0], candidates=tuple(ranked), asked_for_specific=True)
        return Resolution(candidates=tuple(ranked[:10]), asked_for_specific=True)

    def items_by_words(self, text: str, *, report_id: int | None = None, kind: str | None = None) -> Resolution:
        """"the body worn video one": the items whose text shares the query's distinctive words."""
        self._ensure_items()
        words = [w for w in self.query_tokens(text) if w in self._item_postings and not w.isdigit()]
        if not words:
            return Resolution()
        n = max(len(self._model.items), 1)
        weights = {w: math.log(1 + n / len(self._item_postings[w])) for w in words}
        total = sum(weights.values())
        # Candidates come from the rarest words' postings; every word then scores each candidate.
        rare = sorted(words, key=lambda w: len(self._item_postings[w]))[:3]
        pool: set[int] = set()
        for w in rare:
            posting = self._item_postings[w]
            pool.update(posting if len(posting) <= 5000 else posting[:5000])
        ranked: list[Scored] = []
        for iid in pool:
            item = self._model.items.get(iid)
            if item is None or (report_id is not None and item.report_id != report_id):
                continue
            if kind is not None and item.kind != kind:
                continue
            matched = sum(wt for w, wt in weights.items() if _contains(self._item_postings[w], iid))
            ranked.append(Scored(100.0 * matched / total, item=item))
        ranked.sort(key=lambda s: (-s.score, s.item.id if s.item else 0))
        return pick(ranked[:50], floor=60, margin=10)

    def nearest_items(self, text: str, *, report_id: int | None = None, limit: int = 3) -> list[ItemView]:
        """Best guesses to offer after "not found" (never used to write)."""
        res = self.items_by_words(text, report_id=report_id)
        found = [s.item for s in (res.candidates or ((res.chosen,) if res.chosen else ())) if s and s.item]
        return found[:limit]

    def report_items(self, report_id: int) -> list[ItemView]:
        return [i for i in self._model.items.values() if i.report_id == report_id]


def _contains(posting: array, item_id: int) -> bool:
    i = bisect_left(posting, item_id)
    return i < len(posting) and posting[i] == item_id


@dataclass(frozen=True, slots=True)
class ItemRef:
    """How a message referred to an item: by number, by words, or by explicit id (card buttons)."""

    number: str | None = None
    kind: str | None = None
    words: str | None = None
    item_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
