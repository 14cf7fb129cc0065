"""Taking a message apart: item references, owners, themes, the note after a write, names as typed.

Pure functions over normalised text; each says what it found and returns the text without it, so
the next piece never mistakes one thing for another ("owned by June Smith" is not June, and the
words that name a report are not a date).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dialogs.language.index import Index
from dialogs.language.text import STOPWORDS, by_initial, correct, stem

KIND_WORDS: tuple[tuple[str, str], ...] = (
    (r"areas? (?:for|of) improvement|afis?", "afi"),
    (r"causes? (?:for|of) concern|cocs?", "cause_of_concern"),
    (r"rec(?:ommendation)?s?|r", "recommendation"),
)
_KIND_PREFIX = "|".join(f"(?P<k{i}>{p})" for i, (p, _) in enumerate(KIND_WORDS))
_ITEM_REF = re.compile(
    rf"(?:\b(?:{_KIND_PREFIX})\.?|\bitem|\bno\.?|\bnumber|#)\s*(?:no\.?\s*|number\s*|#\s*)?(?P<num>\d{{1,3}}(?:\.\d{{1,2}}){{0,2}}[a-z]?)\b"
)
_BARE_NUMBER = re.compile(
    r"(?<![\w/.:-])(?P<num>\d{1,3}(?:\.\d{1,2}){0,2})(?![\w/:-]|\.\d)(?!\s*(?:days?|weeks?|months?|years?|st|nd|rd|th|am|pm|%|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b)"
)
# Dates to skip when looking for a bare item number. "7.1" is an item number, not 7 January.
_DATE_LIKE = re.compile(r"\b\d{1,4}[/-]\d{1,2}(?:[/.-]\d{1,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")
# A kind named without a number ("the cause of concern from ...") is a hint; "recommendation" is
# what people call everything, so only the rarer kinds count.
_KIND_HINT = re.compile(r"\b(?:(areas? (?:for|of) improvement|afis?)|(causes? (?:for|of) concern|cocs?))\b")
_LIST_KIND = re.compile(r"\b(?:(afis|areas for improvement)|(causes of concern)|(recs|recommendations))\b")
URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_EVIDENCE_SPLIT = re.compile(
    r"\s*(?::|\s[-\u2013\u2014]+\s|\bwith (?:the )?(?:note|evidence|comment|update)s?\b:?|\bsaying\b|\bevidence(?: is)?:)\s*",
    re.IGNORECASE,
)
# A capitalised word after the first is most likely a name ("owned by Mark Owens"): never a typo.
PROPER = re.compile(r"(?<=[\w,;)] )[A-Z][a-z]+(?:[-'][A-Za-z]+)*\b")

# People. A name runs until a word that starts the next part of the request.
_NAME = r"(?P<who>[a-z][a-z.'-]*(?: [a-z][a-z.'-]*){0,4}?)"
_NAME_END = r"(?=\s+(?:from|in|on|of|due|before|by|after|until|that|which|with|for|and|about|regarding|this|next|over|who|please)\b|\s*[?!.,;:]|$)"
_OWNED_BY = re.compile(
    rf"\b(?:owned by|assigned to|allocated to|led by|lead is|owner is|belonging to|looked after by|held by)\s+{_NAME}{_NAME_END}"
)
_FOR_PERSON = re.compile(rf"\bfor\s+{_NAME}{_NAME_END}")
_POSSESSIVE = re.compile(
    rf"(?:^|\b(?:are|show|list|all|what)\s+){_NAME}'s\s+(?:open |outstanding |live |overdue )?(?:items|recs|recommendations|actions|afis|work)\b"
)
_MINE = re.compile(
    r"\b(?:my|mine|for me|to me|by me|from me|on me|with me|i own|i lead|i have|i've got|have i got|do i (?:own|lead|have)"
    r"|am i (?:leading|leading on|responsible for|accountable for|doing|holding|on)|i'?m (?:leading|responsible|accountable|on))\b"
)
# "what does Naomi Clarke own", "what's DI Clarke got left", "what is Supt Doyle accountable for"
_PERSON_HOLDS = re.compile(
    r"^(?:what|which)(?:'s| is| does| do| has)? (?P<who>[a-z][a-z.'&-]*(?: [a-z][a-z.'&-]*){0,3}?)(?:'s)? "
    r"(?:still )?(?:own|owns|got|holding|accountable for|responsible for|leading on|leading|looking after)\b"
)
_ME = frozenset({"me", "myself", "i"})
# The new owner in an assignment, as typed: the last "to X", or "make X the owner".
_NEW_OWNER = (
    re.compile(
        r"^(?P<who>[a-z][a-z.' -]{1,60}?) (?:is|will be|'s) (?:now )?(?:leading|the lead|the owner|owning|taking over|responsible|in charge)\b",
        re.IGNORECASE,
    ),
    re.compile(r"^(?P<who>[a-z][a-z.' -]{1,60}?) (?:has taken|is taking|will take) over\b", re.IGNORECASE),
    re.compile(
        r"^(?P<who>[a-z][a-z.' -]{1,60}?) (?:will|'ll|is going to|is to) (?:now )?(?:lead|own|take on|pick up|look after)\b",
        re.IGNORECASE,
    ),
    re.compile(r"^make\s+(?P<who>.+?)\s+(?:the\s+)?(?:new\s+)?(?:owner|lead)\b", re.IGNORECASE),
    re.compile(r"^.*\b(?:to|as|is)\s+(?P<who>.+?)$", re.IGNORECASE),
)
_THEME = re.compile(
    r"\b(?:about|on|regarding|relating to|related to|concerning|on the theme of|themed)\s+(?P<theme>[a-z&][a-z&' -]{1,40}?)(?=\s+(?:from|in|due|owned|by|before|after|for|that|which|this|next)\b|\s*[?!.,]|$)"
)
_NOT_A_THEME = re.compile(r"\b(?:report|inspection|review|one|rec|recs|item|items|spotlight|thematic)\b")

# Words the route patterns rely on: a typo in one of these is corrected before routing.
INTENT_VOCAB = frozenset((
    "outstanding", "overdue", "remaining", "evidenced", "evidence", "recommendation", "recommendations",
    "summary", "digest", "digests", "subscribe", "unsubscribe", "status", "reopen", "assign", "assigned",
    "reassign", "allocate", "update", "updates", "updated", "progress", "owner", "owners", "owned", "deadline",
    "deadlines", "improvement", "improvements", "concern", "concerns", "signed", "complete", "completed",
    "close", "closed", "weekly", "christmas", "anything", "everything", "show", "display", "details",
    "overview", "breakdown", "owns", "leads", "leading", "responsible", "statistics", "dashboard", "position",
    "pending", "unfinished", "incomplete", "schedule", "behind", "expiring", "coming", "before", "after",
    "until", "between", "during", "month", "quarter", "note", "notes", "comment", "changed", "changes",
    "happened", "target", "targets", "retarget", "extend", "committee", "meeting", "awaiting", "waiting",
    "signoff", "inspection", "inspections", "report", "reports", "finished", "delivered", "assigned", "allocated",
    "reopened", "remind", "reminders", "reminding", "reminder", "recently", "latest", "there", "which", "where", "anyone", "something",
    "recorded", "record", "please", "thanks", "evidencing", "outstanding", "areas", "number", "numbers",
    "figures", "tracker", "people", "items", "actions", "about", "since", "overall"
))  # fmt: skip
_VOCAB_BY_INITIAL = by_initial(INTENT_VOCAB)
# Short words the cues rely on: a swap of two letters ("mrak", "shwo") is the slip people make in them.
_SHORT_VOCAB = frozenset({
    "mark", "show", "list", "sign", "done", "open", "give", "make", "move", "note", "late", "owns", "lead",
    "what", "whos", "when", "whats", "many", "this", "week", "from", "with", "recs", "afis", "tick", "close",
    "help", "pack", "who", "due", "jac",
})  # fmt: skip
_SHORT_BY_LETTERS = {"".join(sorted(w)): w for w in _SHORT_VOCAB}


def _swapped(word: str) -> str | None:
    """The short cue word ``word`` is, with two neighbouring letters swapped ("mrak" -> "mark")."""
    target = _SHORT_BY_LETTERS.get("".join(sorted(word)))
    if target is None or target == word:
        return None
    diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
    return target if len(diffs) == 2 and diffs[1] == diffs[0] + 1 else None


def correct_intent_words(text: str, known: Callable[[str], bool] = lambda _w: False) -> str:
    """Fix typos in the words routes depend on ("outstnading", "reccomendation").

    A word we know (a report, item or owner word) is never "corrected", and the first letter must
    agree: people slip inside words far more often than at the start.
    """
    out = []
    budget = _CORRECTIONS  # a long message is mostly a note: its request is in its first words
    for word in text.split(" "):
        core = word.strip("?!.,:;")
        if core and budget > 0 and core.isalpha():
            budget -= 1
            if 3 <= len(core) <= 5 and core not in _SHORT_VOCAB and not known(core):
                swapped = _swapped(core)
                if swapped:
                    out.append(word.replace(core, swapped))
                    continue
            fixed = correct(core, _VOCAB_BY_INITIAL.get(core[0], ()), known)
            if fixed != core:
                word = word.replace(core, fixed)
        out.append(word)
    return " ".join(out)


_CORRECTIONS = 40


def split_evidence(raw: str) -> tuple[str, str | None]:
    """ "mark 34 as evidenced: CCU now tasks intel" -> ("mark 34 as evidenced", "CCU now tasks intel")."""
    m = _EVIDENCE_SPLIT.search(raw)
    if not m or m.start() == 0:
        return raw, None
    head, tail = raw[: m.start()], raw[m.end() :].strip()
    # "7.1" or a URL's "https:" is not a separator.
    if raw[m.start() : m.end()].strip() == ":" and (
        head.lower().endswith(("http", "https")) or (tail[:1].isdigit() and head[-1:].isdigit())
    ):
        return raw, None
    return head, tail or None


def take_item_ref(text: str) -> tuple[str | None, str | None, str]:
    """(number, kind, text without the reference): "rec 35", "AFI 2", "#7", or a bare "7.1"."""
    m = _ITEM_REF.search(text)
    if m:
        kind = next((KIND_WORDS[i][1] for i in range(len(KIND_WORDS)) if m.group(f"k{i}")), None)
        return m.group("num"), kind, cut(text, m)
    m = _BARE_NUMBER.search(_DATE_LIKE.sub(lambda d: " " * len(d.group(0)), text))
    if m:
        return m.group("num"), None, cut(text, m)
    return None, None, text


def cut(text: str, m: re.Match[str]) -> str:
    return " ".join((text[: m.start()] + " " + text[m.end() :]).split())


def kind_hint(text: str) -> str | None:
    m = _KIND_HINT.search(text)
    return None if not m else "afi" if m.group(1) else "cause_of_concern"


def list_kind_hint(text: str) -> str | None:
    m = _LIST_KIND.search(text)
    return None if not m else "afi" if m.group(1) else "cause_of_concern" if m.group(2) else "recommendation"


def owner_filter(head: str, raw: str, index: Index) -> tuple[str | None, bool, str]:
    """(owner as typed, "mine", the text without the owner phrase), for list requests."""
    for pattern, must_be_known in (
        (_OWNED_BY, False),
        (_POSSESSIVE, True),
        (_FOR_PERSON, True),
        (_PERSON_HOLDS, True),
    ):
        for m in pattern.finditer(head):
            who = m.group("who")
            if who in _ME:
                return None, True, cut(head, m)
            if must_be_known and not (index.person(who) and len(who.split()) >= 2):
                continue
            return as_typed(raw, who), False, cut(head, m)
    mine = _MINE.search(head)
    return None, bool(mine), cut(head, mine) if mine else head


def new_owner(head: str, head_raw: str, user_name: str | None) -> tuple[str | None, bool, str]:
    """(new owner as typed, "me", the text without the owner) for "assign rec 35 to DCI Patel"."""
    typed = " ".join(head_raw.split())
    for pattern in _NEW_OWNER:
        m = pattern.search(head)
        if m:
            who = m.group("who").strip(" .!?")
            rest = head[: m.start("who")] if pattern is _NEW_OWNER[-1] else cut(head, m)
            rest = re.sub(r"\b(?:to|as|is)\s*$", "", rest).strip()
            if who in _ME:
                return user_name, True, rest
            return as_typed(typed, who), False, rest
    return None, False, head


def theme_filter(text: str, index: Index) -> tuple[str | None, str]:
    """A known theme after "about"/"on" ("open items about counter-corruption").

    A report's own alias wins over a theme of the same name ("what's overdue on vetting").
    """
    for m in _THEME.finditer(text):
        phrase = m.group("theme").strip()
        if _NOT_A_THEME.search(phrase) or index.names_report(phrase):
            continue
        theme = index.theme(phrase)
        if theme:
            return theme, cut(text, m)
    return None, text


def as_typed(raw: str, phrase: str) -> str:
    """``phrase`` (from normalised text) as the person typed it, capitals and all."""
    pattern = r"[\W_]+".join(re.escape(w) for w in phrase.split())
    m = re.search(rf"(?<!\w){pattern}(?!\w)", raw, re.IGNORECASE)
    return " ".join(m.group(0).split()) if m else phrase


def describe(text: str) -> str | None:
    """The words that describe an item, for "I can't find an item about ..."."""
    words = [w for w in re.findall(r"[a-z0-9&'.-]+", text) if stem(w) not in STOPWORDS and w not in STOPWORDS]
    return " ".join(words) or None


_DEPARTMENT = re.compile(
    r"\b(?:for|in|from|by|owned by|led by|with|within|across)\s+(?:the\s+)?(?P<dept>[a-z&][a-z&' -]{1,40}?)"
    r"(?:\s+(?:team|department|dept|unit|directorate|portfolio))?(?=\s+(?:from|in|due|owned|before|after|that|which|this|next|on)\b|\s*[?!.,]|$)"
)


def department_filter(text: str, index: Index) -> tuple[str | None, str]:
    """A department the owners belong to ("what's outstanding for Public Protection?"), as written on
    the owners; a report that has that name wins only when it is named with "report"/"inspection"."""
    holds = _PERSON_HOLDS.search(text)
    if holds and (department := index.department(holds.group("who"))):
        return department, cut(text, holds)  # "what does SD&A own"
    for m in _DEPARTMENT.finditer(text):
        phrase = m.group("dept").strip()
        if _NOT_A_THEME.search(phrase) or (
            (index.names_report(phrase) or index.report_covers(phrase))
            and not m.group(0).rstrip().endswith(("team", "department", "dept", "unit"))
        ):
            continue
        department = index.department(phrase)
        if department:
            return department, cut(text, m)
    return None, text
