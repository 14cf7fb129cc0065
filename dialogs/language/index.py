"""The inverted indexes that resolution narrows with, kept in step with the read model (pure).

A fuzzy scan over every item's text costs ~100 ms at 10,000 items, so resolution first looks words
up here: word -> reports, word -> items (sorted id arrays), printed number -> items, report ->
items, plus the vocabulary the typo corrector may correct towards (words as written in report names
and item texts), the people who own items and the themes recorded on them. Status and owner changes
do not move the word indexes; a new item with the highest id is appended; anything else rebuilds
lazily on the next question.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dialogs.language.text import (
    GLOSSARY,
    RANKS,
    STOP_SURFACE,
    STOPWORDS,
    acronyms,
    content,
    contract,
    correct,
    correctable,
    normalise,
    stem,
    surface_words,
    tokens,
    words_of,
)
from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView

Alias = tuple[tuple[str, ...], int]  # (the alias's words, report id)


@dataclass(frozen=True, slots=True)
class Query:
    """A reference's words, ready to look up."""

    words: tuple[str, ...]  # content words, typo-corrected, acronyms contracted
    aliased: frozenset[int]  # reports named by one of their aliases or key, word for word


class Index:
    """Report and item indexes over the read model; they follow the model as it changes."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self._reports_seen: object = None
        self._report_surface: dict[str, set[str]] = {}
        self.report_words: dict[int, frozenset[str]] = {}
        self.report_postings: dict[str, set[int]] = {}
        self._aliases: dict[str, list[Alias]] = {}  # first word -> aliases starting with it
        self._exact_names: dict[str, int] = {}  # whole normalised alias/title/key -> report
        self.item_postings: dict[str, array] = {}
        self._surface: dict[str, set[str]] = {}  # initial letter -> words as written in items/reports
        # Corrections already worked out: a fuzzy search over every word of one initial is the
        # costliest step of a query at 100,000 items, and people use the same words all day.
        # Forgotten whenever the vocabulary grows (a new word may be the one someone meant).
        self._corrected: dict[str, str] = {}
        self._known: dict[str, bool] = {}  # knows() answers, forgotten with the corrections
        self._by_number: dict[str, list[int]] = {}
        self.by_report: dict[int, list[int]] = {}
        self._indexed = Fingerprints()  # item id -> fingerprint of what we indexed
        self._people: set[str] = set()
        self._people_surface: dict[str, set[str]] = {}  # initial -> owners' names as written (for slips)
        self._departments: dict[str, str] = {}  # normalised department words -> as written on owners
        self._themes: dict[str, str] = {}  # normalised theme words -> the theme as recorded
        self._max_id = 0
        self._dirty = True
        model.subscribe(self._on_change)
        self._on_change(model, model.items.values(), True)

    # ---- maintenance ---------------------------------------------------------------------------

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
        self.ensure_items()

    def ensure_items(self) -> None:
        """Rebuild the item indexes if a change made them stale."""
        if not self._dirty:
            return
        self.item_postings, self._by_number, self.by_report, self._indexed = {}, {}, {}, Fingerprints()
        # report id -> printed number -> the item's id (a tuple of ids when a report prints one
        # number twice): at 100,000 items a list and a (report, number) key per item cost ~10 MB.
        self._by_report_number: dict[int, dict[str, int | tuple[int, ...]]] = {}
        self._numbers: dict[str, str] = {}  # one string per distinct printed number, shared
        self._people, self._themes, self._max_id = set(), {}, 0
        self._people_surface, self._departments = {}, {}
        self._surface = {c: set(words) for c, words in self._report_surface.items()}
        self._forget_words()
        for item_id in sorted(self.model.items):
            self._index_item(self.model.items[item_id])
        self._dirty = False

    def _index_item(self, item: ItemView) -> None:
        self._indexed[item.id] = _fingerprint(item)
        self._max_id = max(self._max_id, item.id)
        surface = surface_words(item.text)
        words = content(stem(w) if w != "&" else "and" for w in surface)
        for word in {*words, *acronyms(words)}:
            posting = self.item_postings.get(word)
            if posting is None:
                posting = self.item_postings[word] = array("i")
            posting.append(item.id)
        for word in surface:
            if correctable(word):
                pool = self._surface.setdefault(word[0], set())
                if word not in pool:
                    pool.add(word)
                    self._forget_words()
        if item.number:
            number = item.number.lower()
            number = self._numbers.setdefault(number, number)
            self._by_number.setdefault(number, []).append(item.id)
            numbers = self._by_report_number.setdefault(item.report_id, {})
            had = numbers.get(number)
            numbers[number] = (
                item.id if had is None else (*((had,) if isinstance(had, int) else had), item.id)
            )
        self.by_report.setdefault(item.report_id, []).append(item.id)
        self._note_people_and_themes(item)

    def _note_people_and_themes(self, item: ItemView) -> None:
        if item.owner_name:
            person, department = split_owner(item.owner_name)
            for w in surface_words(person):
                if w not in RANKS and len(w) > 1:
                    if stem(w) not in self._people:
                        self._forget_words()  # a new name: words once unknown may be it now
                    self._people.add(stem(w))
                    self._people_surface.setdefault(w[0], set()).add(w)
            if department:
                key = " ".join(content(words_of(department)))
                self._departments.setdefault(key, department)
                for short in _acronyms(department):  # "SD&A", "SDA" for Strategy, Delivery & Assurance
                    self._departments.setdefault(short, department)
        for theme in item.themes:
            self._themes.setdefault(" ".join(content(words_of(theme))), theme)

    def _index_reports(self, reports: Iterable[ReportView]) -> None:
        postings: dict[str, set[int]] = {}
        aliases: dict[str, list[Alias]] = {}
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
                    if correctable(w):
                        report_surface.setdefault(w[0], set()).add(w)
            for name in (r.key.replace("-", " "), *r.aliases):
                seq = tuple(words_of(name))  # word for word: "our PEEL" is not "the PEEL report"
                if seq:
                    aliases.setdefault(seq[0], []).append((seq, r.id))
            report_words[r.id] = frozenset(words)
            for w in words:
                postings.setdefault(w, set()).add(r.id)
        self.report_postings, self._aliases, self._exact_names = postings, aliases, exact
        self.report_words = report_words
        self._report_surface = report_surface
        self._forget_words()
        for initial, found in report_surface.items():
            self._surface.setdefault(initial, set()).update(found)

    # ---- words ---------------------------------------------------------------------------------

    def _forget_words(self) -> None:
        """The vocabulary grew (or was rebuilt): a word once unknown, or corrected, may be ours now."""
        self._corrected = {}
        self._known = {}

    def knows(self, word: str) -> bool:
        """Is ``word`` (as typed) part of our vocabulary: report names, item texts, owners, acronyms?"""
        self.ensure_items()
        known = self._known.get(word)
        if known is not None:
            return known
        w = stem(normalise(word).strip(".'"))
        found = (
            w in self.report_postings or w in self.item_postings or w in self._people or w in GLOSSARY
            or w in STOPWORDS
        )  # fmt: skip
        if len(self._known) >= _CORRECTED_LIMIT:
            self._known.clear()
        self._known[word] = found
        return found

    def correct(self, word: str) -> str:
        """A typo in a word as written, fixed against the words of the tracker (and of requests)."""
        if word in STOPWORDS or not correctable(word):
            return word
        self.ensure_items()
        done = self._corrected.get(word)
        if done is not None:
            return done
        pool = self._surface.get(word[0], set())
        if word in pool or stem(word) in self.item_postings or stem(word) in self.report_postings:
            fixed = word
        else:
            fixed = correct(word, (*pool, *STOP_SURFACE.get(word[0], ())))
        if len(self._corrected) >= _CORRECTED_LIMIT:
            self._corrected.clear()
        self._corrected[word] = fixed
        return fixed

    def query(self, text: str) -> Query:
        """The words of a reference, corrected and contracted, and the reports its aliases name."""
        every = [stem(self.correct(w)) if w != "&" else "and" for w in surface_words(text)]
        aliased = set()
        for i, w in enumerate(every):
            for alias, rid in self._aliases.get(w, ()):
                if tuple(every[i : i + len(alias)]) == alias:
                    aliased.add(rid)
        seq = tuple(w for w in contract(content(every)) if w not in STOPWORDS and len(w) >= 2)
        return Query(tuple(dict.fromkeys(seq)), frozenset(aliased))

    def correct_name(self, word: str) -> str:
        """A slip in someone's name ("Noami"), fixed against the names of the people who own items."""
        w = word.lower()
        self.ensure_items()
        if len(w) < 4 or stem(w) in self._people:
            return word
        fixed = correct(w, tuple(self._people_surface.get(w[0], ())))
        return fixed if fixed != w else word

    def department(self, phrase: str) -> str | None:
        """The department (as written on owners, e.g. "Public Protection") that ``phrase`` names."""
        self.ensure_items()
        key = _UNIT_WORDS.sub("", " ".join(content(words_of(phrase)))).strip()
        if not key or not self._departments:
            return None
        if key in self._departments:
            return self._departments[key]
        hit = process.extractOne(key, list(self._departments), scorer=fuzz.ratio, score_cutoff=88)
        return self._departments[hit[0]] if hit else None

    def query_tokens(self, text: str) -> list[str]:
        """Distinct meaningful words of a query, typo-corrected, acronyms contracted, in order."""
        return list(self.query(text).words)

    def person(self, phrase: str) -> bool:
        """Does ``phrase`` name someone who owns items ("Sarah Khan", "DCI Khan")? Ranks alone do not."""
        self.ensure_items()
        words = [w for w in words_of(phrase) if w not in RANKS]
        return bool(words) and all(w in self._people for w in words)

    def theme(self, phrase: str) -> str | None:
        """The theme (as recorded on items) that ``phrase`` names, if any."""
        self.ensure_items()
        key = " ".join(content(words_of(phrase)))
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
        return self.model.reports.get(rid) if rid is not None else None

    def report_covers(self, phrase: str) -> bool:
        """Do a report's own names hold every word of ``phrase`` ("roads policing")?"""
        words = content(words_of(phrase))
        if not words:
            return False
        pools = [self.report_postings.get(w, set()) for w in words]
        return bool(set.intersection(*pools)) if all(pools) else False

    def without_report_words(self, text: str, report: ReportView) -> str:
        """``text`` minus the words that name ``report`` (so "the 2014 report" is not a date)."""
        names = self.report_words.get(report.id, frozenset())
        kept = []
        for word in text.split():
            words = content(stem(self.correct(w)) for w in surface_words(word))
            if not words or not all(w in names for w in words):
                kept.append(word)
        return " ".join(kept)

    # ---- items ---------------------------------------------------------------------------------

    def items_by_number(
        self, number: str, *, report_id: int | None = None, kind: str | None = None
    ) -> list[ItemView]:
        """Items printed with this number (optionally within one report / of one kind)."""
        self.ensure_items()
        items = self.model.items
        # Comprehensions, not a loop of appends: a common number ("1", "5") is printed in every
        # report, so at 10,000 items this runs over a few hundred entries on every "show rec N".
        if report_id is not None:  # one report's: a look-up, not a scan of every report's "5"
            found = self._by_report_number.get(report_id, {}).get(number.lower())
            ids = () if found is None else (found,) if isinstance(found, int) else found
            out = [
                item for iid in ids if (item := items.get(iid)) is not None and item.report_id == report_id
            ]
        else:
            out = [
                item
                for iid in self._by_number.get(number.lower(), ())
                if (item := items.get(iid)) is not None
            ]
        return out if kind is None else [i for i in out if i.kind == kind]

    def report_items(self, report_id: int, kind: str | None = None) -> list[ItemView]:
        """A report's items, live ones first, in printed order."""
        self.ensure_items()
        items = [self.model.items[i] for i in self.by_report.get(report_id, ()) if i in self.model.items]
        items = [i for i in items if kind is None or i.kind == kind]
        return sorted(items, key=lambda i: (not i.live, number_key(i.number), i.id))


_DEPARTMENT_SPLIT = re.compile(r"\s*[(),]\s*|\s+[-\u2013\u2014]\s+")


def split_owner(owner: str) -> tuple[str, str | None]:
    """ "DI Naomi Clarke (Public Protection)" -> ("DI Naomi Clarke", "Public Protection"); also
    "Supt Owen Price, Professional Standards" and "Ch Insp R. Dhillon - Force CID". A department in
    brackets is taken whole ("(Strategy, Delivery & Assurance)")."""
    bracketed = _BRACKETED.match(owner)
    if bracketed:
        return bracketed.group(1).strip(), bracketed.group(2).strip()
    parts = [p for p in _DEPARTMENT_SPLIT.split(owner, maxsplit=1) if p and p.strip()]
    if len(parts) < 2:
        return owner.strip(), None
    return parts[0].strip(), parts[1].strip(" ()")


_CORRECTED_LIMIT = 20_000
_BRACKETED = re.compile(r"^([^()]{1,120}?)\s*\(([^()]{1,120})\)\s*$")
_UNIT_WORDS = re.compile(r"\s*\b(?:unit|team|department|dept|command|directorate|portfolio|function)\s*$")


def _acronyms(department: str) -> tuple[str, ...]:
    """Short forms people write for a department of several words: "SD&A" and "SDA"."""
    words = [w for w in re.findall(r"[A-Za-z]+|&", department) if w.lower() not in ("and", "of", "the")]
    if len([w for w in words if w != "&"]) < 2:
        return ()
    with_amp = "".join(w if w == "&" else w[0] for w in words).lower()
    return tuple(dict.fromkeys((with_amp, with_amp.replace("&", ""))))


class Fingerprints:
    """Item id -> a fingerprint of what was indexed for it, in an array by id (ids are the
    database's dense keys): ~1 MB at 100,000 items, where a dict of int objects costs ~8 MB. An id
    far beyond the others (a hand-edited database) goes to a dict instead of growing the array."""

    def __init__(self) -> None:
        self._dense = array("q")
        self._sparse: dict[int, int] = {}

    def get(self, item_id: int) -> int | None:
        if 0 <= item_id < len(self._dense):
            return self._dense[item_id] or None  # 0: nothing indexed for this id
        return self._sparse.get(item_id)

    def __setitem__(self, item_id: int, fingerprint: int) -> None:
        fingerprint = fingerprint or 1  # 0 means "none" in the array
        size = len(self._dense)
        if 0 <= item_id < size:
            self._dense[item_id] = fingerprint
        elif 0 <= item_id < 2 * size + 4096:
            self._dense.extend(array("q", bytes(8 * (max(item_id + 1, 2 * size) - size))))
            self._dense[item_id] = fingerprint
        else:
            self._sparse[item_id] = fingerprint


def _fingerprint(item: ItemView) -> int:
    return hash((item.text, item.number, item.report_id, item.kind))


def contains(posting: array | None, item_id: int) -> bool:
    """Is ``item_id`` in a sorted posting array?"""
    if not posting:
        return False
    i = bisect_left(posting, item_id)
    return i < len(posting) and posting[i] == item_id


def number_key(number: str) -> tuple[int, ...]:
    """Printed numbers in reading order ("7.2" before "7.10"); unnumbered last."""
    try:
        return tuple(int(p) for p in number.split(".")) if number else (10**6,)
    except ValueError:
        return (10**6,)
