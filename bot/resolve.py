"""Working out *which* report or item a person means. All resolution lives here.

Two steps, because a fuzzy scan over every item's text costs ~100 ms at 10,000 items:
1. narrow: normalise the words (typos corrected against our own vocabulary, acronyms and their
   expansions made one word), then look them up in inverted indexes (word -> reports, word ->
   items, number -> items, report -> items), touching a bounded number of candidates;
2. rank: score the candidates by how much of the *distinctive* wording (IDF weighted) they
   explain, counting a report's names as part of each of its items, and call it confident only
   when the best clearly beats the runner-up.
When it is not confident the caller asks; nothing here ever guesses.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView

# Acronyms people use for reports and topics -> the words those reports are written in.
GLOSSARY: Mapping[str, str] = MappingProxyType(
    {
        "vawg": "violence against women and girls",
        "cse": "child sexual exploitation",
        "csa": "child sexual abuse",
        "apsp": "abuse of position for a sexual purpose",
        "ppda": "police perpetrated domestic abuse",
        "da": "domestic abuse",
        "dv": "domestic violence",
        "ccu": "counter corruption unit",
        "asb": "antisocial behaviour",
        "peel": "police effectiveness efficiency legitimacy",
        "jtai": "joint targeted area inspection",
        "s&s": "stop and search",
        "bwv": "body worn video",
        "cdi": "crime data integrity",
        "soc": "serious and organised crime",
        "ocg": "organised crime group",
        "rasso": "rape and serious sexual offences",
        "mash": "multi agency safeguarding hub",
        "spr": "strategic policing requirement",
        "cp": "child protection",
        "vmm": "vetting misconduct misogyny",
        "psd": "professional standards department",
        "anpr": "automatic number plate recognition",
        "idva": "independent domestic violence adviser",
        "iopc": "independent office for police conduct",
        "npcc": "national police chiefs council",
        "cps": "crown prosecution service",
        "cwj": "centre for women's justice",
    }
)

# Words that carry no meaning for resolution: function words, and the words of the intents.
_STOP_RAW = (
    "a", "an", "the", "of", "for", "from", "to", "in", "on", "at", "by", "with", "and", "or", "is", "are",
    "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "what", "whats",
    "which", "who", "whos", "whose", "how", "many", "much", "any", "anything", "something", "everything", "all",
    "our", "my", "me", "us", "we", "you", "i", "please", "can", "could", "would", "should", "will", "show",
    "tell", "give", "get", "list", "find", "open", "about", "one", "ones", "there", "here", "still", "due",
    "overdue", "outstanding", "left", "remaining", "status", "summary", "owner", "owners", "owns", "own",
    "owned", "lead", "leads", "leading", "led", "mark", "as", "evidenced", "evidence", "update", "updates",
    "note", "add", "progress", "sign", "signed", "off", "reopen", "assign", "assigned", "rec", "recs",
    "recommendation", "recommendations", "item", "items", "afi", "afis", "area", "areas", "improvement",
    "cause", "causes", "concern", "report", "reports", "inspection", "inspections", "thing", "things", "bit",
    "re", "hmicfrs", "hmic", "do", "does", "did", "done", "yet", "not", "no", "new", "before", "after", "until",
    "within", "next", "last", "week", "month", "year", "today", "tomorrow", "soon", "christmas", "easter",
    "has", "have", "had", "got", "where", "we're", "that's", "isn't", "number", "details", "detail", "display",
    "view", "look", "lookup", "read", "explain", "describe", "tracker", "bot", "against", "into", "during",
    "between", "than", "then", "so", "if", "whether", "just", "also", "again", "set", "change", "make", "hand",
    "over", "allocate", "transfer", "give", "put", "log", "post", "record", "leave", "comment", "responsible",
    "charge", "dealing", "deal", "looks", "looking", "handles", "handling", "handle", "holds", "relating",
    "related", "regarding", "concerning", "theme", "themed", "re-open", "close", "closed", "complete",
    "completed", "ready", "awaiting", "whatever", "whichever", "someone", "somebody", "anyone", "else", "like",
    "up", "go", "going", "their", "them", "they", "theirs", "his", "her", "hers", "him", "she", "he", "your",
    "yours", "ours", "other", "others", "such", "same", "some", "more", "most", "very", "too", "only", "well",
    "why", "when", "date", "dates", "past", "overview", "overall", "position", "breakdown", "stats",
    "statistics", "dashboard", "picture", "totals", "total", "count", "counts", "figures", "numbers",
    "headline", "headlines", "everyone", "everybody", "anybody", "nothing", "already", "ever", "getting",
    "want", "need", "needs", "let", "lets", "ok", "okay", "thanks", "thank"
)  # fmt: skip


def _fold(text: str) -> str:
    if text.isascii():
        return text  # nearly every message and item text: skip the per-character work
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_TOKEN = re.compile(r"[a-z0-9&]+(?:\.[0-9]+)*")
_DASHES = re.compile(r"[\u2010-\u2015\u2212-]")
# "anti-social", "anti social" and "antisocial" are one word; likewise multi-agency, cyber-crime.
_PREFIX_JOIN = re.compile(r"\b(anti|multi|cyber)[\s\u2010-\u2015\u2212-]+(?=[a-z])")


def normalise(text: str) -> str:
    """Lower case, straight quotes, dashes as spaces, accents folded, one space between words."""
    text = _fold(text).lower()
    text = _PREFIX_JOIN.sub(r"\1", text)
    return " ".join(_DASHES.sub(" ", text).split())


def stem(word: str) -> str:
    """A deliberately tiny stemmer (plurals and "-ing"), applied the same on both sides."""
    end = word[-1:]
    if end == "s":
        if word[:-1] in GLOSSARY:  # "CCUs", "OCGs" (before the "-us" rule that keeps "status")
            return word[:-1]
        if len(word) > 4 and word.endswith("ies"):
            return word[:-3] + "y"
        if len(word) > 3 and not word.endswith(("ss", "us")):
            return word[:-1]
    elif end == "g" and len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    return word


def _correctable(word: str) -> bool:
    """Long enough, and a plain word, for a one- or two-letter slip to be told from another word."""
    return len(word) >= 5 and word.isalpha()


STOPWORDS = frozenset(_STOP_RAW) | frozenset(stem(w) for w in _STOP_RAW)
# A slip in a word that does not matter ("reccomendation") should become that word, not noise.
_STOP_SURFACE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        c: tuple(sorted(w for w in _STOP_RAW if w[0] == c and _correctable(w)))
        for c in {w[0] for w in _STOP_RAW}
    }
)


def surface_words(text: str) -> list[str]:
    """Normalised words of ``text`` as written (not stemmed)."""
    return _TOKEN.findall(normalise(text))


def words_of(text: str) -> list[str]:
    """Normalised, stemmed words of ``text`` (stop words included; "&" on its own is "and")."""
    return [stem(w) if w != "&" else "and" for w in surface_words(text)]


def _content(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(w for w in words if w not in STOPWORDS)


# Each acronym's expansion as content words ("s&s" -> ("stop", "search")), longest first.
_EXPANSIONS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    sorted(((a, _content(words_of(p))) for a, p in GLOSSARY.items()), key=lambda e: -len(e[1]))
)


def acronyms_in(text: str) -> list[str]:
    """Glossary acronyms whose expansion appears in ``text`` (so "VAWG" finds the VAWG report)."""
    return _acronyms(_content(words_of(text)))


def _acronyms(words: tuple[str, ...]) -> list[str]:
    present = set(words)
    found = [(a, phrase) for a, phrase in _EXPANSIONS if phrase and phrase[0] in present]
    if not found:
        return []
    seq = f" {' '.join(words)} "
    return [a for a, phrase in found if f" {' '.join(phrase)} " in seq]


def tokens(text: str) -> list[str]:
    """Index words of a document: its content words plus the acronyms of any expansions in it."""
    words = _content(words_of(text))
    return [*words, *_acronyms(words)]


def contract(words: Iterable[str]) -> list[str]:
    """Query words with each full expansion replaced by its acronym (one concept, one word)."""
    seq = list(words)
    for acronym, phrase in _EXPANSIONS:
        n = len(phrase)
        i = 0
        while i + n <= len(seq):
            if tuple(seq[i : i + n]) == phrase:
                seq[i : i + n] = [acronym]
            i += 1
    return seq


# Ranks, titles and roles in owner names: not part of who someone is.
RANKS = frozenset((
    "pc", "ps", "dc", "ds", "di", "dci", "dsu", "det", "detective", "insp", "inspector", "ch", "chief", "supt",
    "superintendent", "sgt", "sergeant", "acc", "dcc", "cc", "mr", "mrs", "ms", "miss", "dr", "constable",
    "police", "staff"
))  # fmt: skip
_PARENS = re.compile(r"\([^)]*\)")


# Confidence rules. Writes need a clearer winner than reads; reports are few and named on purpose.
REPORT_FLOOR, REPORT_MARGIN = 55.0, 12.0
ITEM_FLOOR, ITEM_MARGIN = 60.0, 10.0
WRITE_FLOOR, WRITE_MARGIN = 70.0, 15.0
ALIAS_BONUS = REPORT_MARGIN  # an alias, said word for word, settles which report
ASK_BAND = 25.0  # candidates offered: those within this many points of the best
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


_Alias = tuple[tuple[str, ...], int]  # (the alias's words, report id)


@dataclass(frozen=True, slots=True)
class _Query:
    words: tuple[str, ...]  # content words, typo-corrected, acronyms contracted
    aliased: frozenset[int]  # reports named by one of their aliases or key, word for word


class Resolver:
    """Report and item resolution over the read model; indexes follow the model as it changes."""

    def __init__(self, model: ReadModel) -> None:
        self._model = model
        self._reports_seen: object = None
        self._report_surface: dict[str, set[str]] = {}
        self._report_words: dict[int, frozenset[str]] = {}
        self._report_postings: dict[str, set[int]] = {}
        self._aliases: dict[str, list[_Alias]] = {}  # first word -> aliases starting with it
        self._exact_names: dict[str, int] = {}  # whole normalised alias/title/key -> report
        self._item_postings: dict[str, array] = {}
        self._surface: dict[str, set[str]] = {}  # initial letter -> words as written in items/reports
        self._by_number: dict[str, list[int]] = {}
        self._by_report: dict[int, list[int]] = {}
        self._indexed: dict[int, int] = {}  # item id -> fingerprint of what we indexed
        self._people: set[str] = set()
        self._themes: dict[str, str] = {}  # normalised theme words -> the theme as recorded
        self._max_id = 0
        self._dirty = True
        model.subscribe(self._on_change)
        self._on_change(model, model.items.values(), True)

    # ---- index maintenance -------------------------------------------------------------------

    def _on_change(self, model: ReadModel, changed: Iterable[ItemView], full: bool) -> None:
        if model.reports is not self._reports_seen:  # the read model replaces the dict on reload
            self._index_reports(model.reports.values())
            self._reports_seen = model.reports
        if full:
            self._dirty = True
            return
        for item in changed:
            self._note_people_and_themes(item)
            old = self._indexed.get(item.id)
            if self._dirty or old == _fingerprint(item):
                continue  # status/owner changes do not move the word indexes
            if old is None and item.id > self._max_id:
                self._index_item(item)  # new item with the highest id: postings stay sorted
            else:
                self._dirty = True

    def warm(self) -> None:
        """Build the item index now (start-up) rather than on the first question."""
        self._ensure_items()

    def _ensure_items(self) -> None:
        if not self._dirty:
            return
        self._item_postings, self._by_number, self._by_report, self._indexed = {}, {}, {}, {}
        self._people, self._themes, self._max_id = set(), {}, 0
        self._surface = {c: set(words) for c, words in self._report_surface.items()}
        for item_id in sorted(self._model.items):
            self._index_item(self._model.items[item_id])
        self._dirty = False

    def _index_item(self, item: ItemView) -> None:
        self._indexed[item.id] = _fingerprint(item)
        self._max_id = max(self._max_id, item.id)
        surface = surface_words(item.text)
        content = _content(stem(w) if w != "&" else "and" for w in surface)
        for word in {*content, *_acronyms(content)}:
            posting = self._item_postings.get(word)
            if posting is None:
                posting = self._item_postings[word] = array("i")
            posting.append(item.id)
        for word in surface:
            if _correctable(word):
                self._surface.setdefault(word[0], set()).add(word)
        if item.number:
            self._by_number.setdefault(item.number.lower(), []).append(item.id)
        self._by_report.setdefault(item.report_id, []).append(item.id)
        self._note_people_and_themes(item)

    def _note_people_and_themes(self, item: ItemView) -> None:
        if item.owner_name:
            self._people.update(w for w in words_of(_PARENS.sub(" ", item.owner_name)) if w not in RANKS)
        for theme in item.themes:
            self._themes.setdefault(" ".join(_content(words_of(theme))), theme)

    def _index_reports(self, reports: Iterable[ReportView]) -> None:
        postings: dict[str, set[int]] = {}
        aliases: dict[str, list[_Alias]] = {}
        exact: dict[str, int] = {}
        report_words: dict[int, frozenset[str]] = {}
        report_surface: dict[str, set[str]] = {}
        for r in reports:
            names = [r.title, r.key.replace("-", " "), *r.aliases]
            words: set[str] = set()
            for name in names:
                words.update(tokens(name))
                exact.setdefault(" ".join(words_of(name)), r.id)
                for w in surface_words(name):
                    if _correctable(w):
                        report_surface.setdefault(w[0], set()).add(w)
            for name in (r.key.replace("-", " "), *r.aliases):
                seq = tuple(words_of(name))  # word for word: "our PEEL" is not "the PEEL report"
                if seq:
                    aliases.setdefault(seq[0], []).append((seq, r.id))
            report_words[r.id] = frozenset(words)
            for w in words:
                postings.setdefault(w, set()).add(r.id)
        self._report_postings, self._aliases, self._exact_names = postings, aliases, exact
        self._report_words = report_words
        self._report_surface = report_surface
        for initial, found in report_surface.items():
            self._surface.setdefault(initial, set()).update(found)

    # ---- words ---------------------------------------------------------------------------------

    def knows(self, word: str) -> bool:
        """Is ``word`` (as typed) part of our vocabulary: report names, item texts, owners, acronyms?"""
        self._ensure_items()
        w = stem(normalise(word).strip(".'"))
        return (
            w in self._report_postings or w in self._item_postings or w in self._people or w in GLOSSARY
            or w in STOPWORDS
        )  # fmt: skip

    def correct(self, word: str) -> str:
        """Fix a typo (in a word as written) against the words we know: one slip in a short word,
        two in a long one. The first letter must agree: people slip inside words, not at the start."""
        if not _correctable(word) or word in STOPWORDS:
            return word
        self._ensure_items()
        if (
            word in self._surface.get(word[0], ())
            or stem(word) in self._item_postings
            or stem(word) in self._report_postings
        ):
            return word
        pool = [*self._surface.get(word[0], ()), *_STOP_SURFACE.get(word[0], ())]
        hit = process.extractOne(word, pool, scorer=OSA.distance, score_cutoff=1 if len(word) < 8 else 2)
        return hit[0] if hit else word

    def _query(self, text: str) -> _Query:
        every = [stem(self.correct(w)) if w != "&" else "and" for w in surface_words(text)]
        aliased = set()
        for i, w in enumerate(every):
            for alias, rid in self._aliases.get(w, ()):
                if tuple(every[i : i + len(alias)]) == alias:
                    aliased.add(rid)
        seq = tuple(w for w in contract(_content(every)) if w not in STOPWORDS and len(w) >= 2)
        return _Query(tuple(dict.fromkeys(seq)), frozenset(aliased))

    def query_tokens(self, text: str) -> list[str]:
        """Distinct meaningful words of a query, typo-corrected, acronyms contracted, in order."""
        return list(self._query(text).words)

    def person(self, phrase: str) -> bool:
        """Does ``phrase`` name someone who owns items ("Sarah Khan", "DCI Khan")? Ranks alone do not."""
        self._ensure_items()
        words = [w for w in words_of(phrase) if w not in RANKS]
        return bool(words) and all(w in self._people for w in words)

    def theme(self, phrase: str) -> str | None:
        """The theme (as recorded on items) that ``phrase`` names, if any."""
        self._ensure_items()
        key = " ".join(_content(words_of(phrase)))
        if not key:
            return None
        if key in self._themes:
            return self._themes[key]
        hit = process.extractOne(key, list(self._themes), scorer=fuzz.ratio, score_cutoff=90)
        return self._themes[hit[0]] if hit else None

    def names_report(self, phrase: str) -> ReportView | None:
        """The report whose alias, key or title is exactly ``phrase`` (a leading "the" aside)."""
        key = " ".join(words_of(re.sub(r"^\s*the\s+", "", normalise(phrase))))
        rid = self._exact_names.get(key)
        return self._model.reports.get(rid) if rid is not None else None

    def without_report_words(self, text: str, report: ReportView) -> str:
        """``text`` minus the words that name ``report`` (so "the 2014 report" is not a date)."""
        names = self._report_words.get(report.id, frozenset())
        kept = []
        for word in text.split():
            content = _content(stem(self.correct(w)) for w in surface_words(word))
            if not content or not all(w in names for w in content):
                kept.append(word)
        return " ".join(kept)

    # ---- reports -------------------------------------------------------------------------------

    def report_by_key(self, key: str) -> ReportView | None:
        return self._model.reports_by_key.get(key)

    def reports(self, text: str) -> Resolution:
        """Which report does ``text`` name? (``chosen`` is None when none, or unclear.)"""
        return pick(self._rank_reports(self._query(text)), floor=REPORT_FLOOR, margin=REPORT_MARGIN)

    def _rank_reports(self, q: _Query) -> list[Scored]:
        n = max(len(self._model.reports), 1)
        # Words most reports share ("police") cannot tell reports apart; numbers only support words.
        words = [w for w in q.words if 0 < len(self._report_postings.get(w, ())) <= max(1, n // 2)]
        named = {rid for w in words if not w.isdigit() for rid in self._report_postings[w]} | q.aliased
        words = [w for w in words if not w.isdigit() or self._report_postings[w] & named]
        weights = {w: math.log(1 + n / len(self._report_postings[w])) for w in words}
        total = sum(weights.values())
        ranked = []
        for rid in named:
            report = self._model.reports.get(rid)
            if report is None:
                continue
            covered = sum(wt for w, wt in weights.items() if rid in self._report_postings[w])
            score = 100.0 * covered / total if total else 0.0
            if rid in q.aliased:
                score = max(score, 100.0) + ALIAS_BONUS  # a name the force chose, word for word
            ranked.append(Scored(score, report=report))
        return ranked

    # ---- items ---------------------------------------------------------------------------------

    def items_by_number(
        self, number: str, *, report_id: int | None = None, kind: str | None = None
    ) -> list[ItemView]:
        """Items printed with this number (optionally within one report / of one kind)."""
        self._ensure_items()
        items = self._model.items
        # Comprehensions, not a loop of appends: a common number ("1", "5") is printed in every
        # report, so at 10,000 items this runs over a few hundred entries on every "show rec N".
        out = [item for iid in self._by_number.get(number.lower(), ()) if (item := items.get(iid)) is not None]
        if report_id is not None:
            out = [i for i in out if i.report_id == report_id]
        return out if kind is None else [i for i in out if i.kind == kind]

    def report_items(self, report_id: int, kind: str | None = None) -> list[ItemView]:
        """A report's items, live ones first, in printed order."""
        self._ensure_items()
        items = [self._model.items[i] for i in self._by_report.get(report_id, ()) if i in self._model.items]
        items = [i for i in items if kind is None or i.kind == kind]
        return sorted(items, key=lambda i: (not i.live, _number_key(i.number), i.id))

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
        self._ensure_items()
        q = self._query(text)
        named = self._named(q)
        if number:
            return self._by_number_ref(q, number, kind, named, context_report_id, strict)
        return self._by_words_ref(q, kind, named, context_report_id, strict)

    def _named(self, q: _Query) -> ReportView | None:
        res = pick(self._rank_reports(q), floor=REPORT_FLOOR, margin=REPORT_MARGIN)
        return res.chosen.report if res.chosen else None

    def _by_number_ref(
        self,
        q: _Query,
        number: str,
        kind: str | None,
        named: ReportView | None,
        context: int | None,
        strict: bool,
    ) -> Reference:
        found = self.items_by_number(number, kind=kind)
        if named is not None and self._narrows(q, named, found):
            found = [i for i in found if i.report_id == named.id]
            if not found:
                return Reference(report=named, not_found=True)
            scope_named = True
        else:
            scope_named = False
            if context is not None and any(i.report_id == context for i in found):
                found = [i for i in found if i.report_id == context]
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
        scored = tuple(self._scored(100.0, i) for i in found)
        if len(found) == 1:
            return Reference(
                report=self._model.reports.get(found[0].report_id), item=found[0], candidates=scored
            )
        if not found:
            return Reference(not_found=True)
        return Reference(
            report=named if scope_named else None, candidates=scored[:10], needs_clarification=True
        )

    def _narrows(self, q: _Query, named: ReportView, found: list[ItemView]) -> bool:
        """Does the report the words seem to name really narrow these numbered items?

        Yes if it was named by an alias, or its name explains the words at least as well as any
        other numbered item's text does ("rec 5 about multi-agency arrangements" is not JTAI's).
        """
        if named.id in q.aliased:
            return True
        weights = self._item_weights(q)
        mine = self._report_score(weights, named.id)
        scores = {s.item.id: s.score for s in self._score(q, found, weights) if s.item}
        mine = max([mine, *(scores[i.id] for i in found if i.report_id == named.id)])
        return mine >= max((scores[i.id] for i in found if i.report_id != named.id), default=0.0)

    def _by_words_ref(
        self, q: _Query, kind: str | None, named: ReportView | None, context: int | None, strict: bool
    ) -> Reference:
        weights = self._item_weights(q)
        if not any(w in self._item_postings or w in self._report_postings for w in weights):
            return Reference(report=named, report_only=named is not None, not_found=named is None)
        seeds = {r for r in (named.id if named else None, context) if r is not None} | q.aliased
        pool, examined = self._narrow(weights, seeds)
        ranked = self._score(q, [self._model.items[i] for i in pool if i in self._model.items], weights)
        best = ranked[0].score if ranked else 0.0
        scope = None
        if named is not None:
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
        if by_report and by_report[0].score >= best - 1e-6 and by_report[0].report:
            top = by_report[0]
            rival = max(
                (s.score for s in ranked if s.item and s.item.report_id != top.report.id), default=0.0
            )
            if scope is not None or top.report.id in q.aliased or rival < top.score:
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

    # ---- scoring -------------------------------------------------------------------------------

    def _item_weights(self, q: _Query) -> dict[str, float]:
        """IDF over item texts for the query's words.

        A word we have never seen ("the body armour one") still counts, at half the weight of the
        rarest word: it says the person means something we may not have, so it must lower our
        confidence, but not sink a match over one stray word ("the cannabis one we discussed").
        """
        n = max(len(self._model.items), 1)
        unknown = math.log(1 + n) / 2
        return {
            w: math.log(1 + n / (1 + len(self._item_postings[w]))) if w in self._item_postings
            else math.log(1 + n) if w in self._report_postings else unknown
            for w in q.words
            if not w.isdigit()
        }  # fmt: skip

    def _narrow(self, weights: dict[str, float], seeds: set[int]) -> tuple[set[int], int]:
        """Candidate item ids: the rarest words' postings plus the items of ``seeds`` (reports named,
        or the conversation's), each capped, so the work is bounded however large the tracker."""
        pool: set[int] = set()
        rare = sorted(
            (w for w in weights if w in self._item_postings), key=lambda w: len(self._item_postings[w])
        )
        for w in rare[:3]:
            posting = self._item_postings[w]
            if len(posting) <= POSTING_CAP:
                pool.update(posting)
        if not pool and rare:
            pool.update(self._item_postings[rare[0]][:POSTING_CAP])  # only common words: a sample scores
        for rid in seeds:
            pool.update(self._by_report.get(rid, ())[:POSTING_CAP])
        return pool, len(pool)

    def _report_score(self, weights: dict[str, float], report_id: int) -> float:
        total = sum(weights.values())
        names = self._report_words.get(report_id, frozenset())
        return 100.0 * sum(wt for w, wt in weights.items() if w in names) / total if total else 0.0

    def _report_only(self, weights: dict[str, float], q: _Query, scope: ReportView | None) -> list[Scored]:
        rids = {scope.id} if scope else {rid for w in weights for rid in self._report_postings.get(w, ())}
        ranked = []
        for rid in rids:
            report = self._model.reports.get(rid)
            if report is not None:
                bonus = ALIAS_BONUS if rid in q.aliased else 0.0
                ranked.append(Scored(self._report_score(weights, rid) + bonus, report=report))
        return sorted(ranked, key=lambda s: -s.score)

    def _score(
        self, q: _Query, items: list[ItemView], weights: dict[str, float] | None = None
    ) -> list[Scored]:
        """Each item's share of the query's weight explained by its text or its report's names."""
        weights = weights if weights is not None else self._item_weights(q)
        total = sum(weights.values())
        if not total:
            return []
        out = []
        postings = [(w, wt, self._item_postings.get(w)) for w, wt in weights.items()]
        for item in items:
            names = self._report_words.get(item.report_id, frozenset())
            in_text = either = 0.0
            for w, wt, posting in postings:  # one look-up per word and item (this loop is the hot one)
                if _contains(posting, item.id):
                    in_text += wt
                    either += wt
                elif w in names:
                    either += wt
            out.append((100.0 * either / total, in_text, item))
        # Ties go to items whose own text says it, then to live items, then in printed order.
        out.sort(
            key=lambda t: (-t[0], -t[1], not t[2].live, t[2].report_id, _number_key(t[2].number), t[2].id)
        )
        return [self._scored(score, item) for score, _, item in out]

    def _scored(self, score: float, item: ItemView) -> Scored:
        return Scored(score, report=self._model.reports.get(item.report_id), item=item)


def _fingerprint(item: ItemView) -> int:
    return hash((item.text, item.number, item.report_id, item.kind))


def _contains(posting: array | None, item_id: int) -> bool:
    if not posting:
        return False
    i = bisect_left(posting, item_id)
    return i < len(posting) and posting[i] == item_id


def _number_key(number: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in number.split(".")) if number else (10**6,)
    except ValueError:
        return (10**6,)
