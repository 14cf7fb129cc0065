"""Understanding a message: text (+ conversation context) -> a :class:`Parsed` request.

Pure and synchronous: the bot, ``tracker parse`` and ``tracker chat`` all call :func:`understand`.
Routing is the table in ``bot.routes``; working out which report or item is meant is
``bot.resolve``'s job; this module takes the message apart (item numbers, owners, themes, dates,
evidence, links) in an order that keeps them from being mistaken for each other: owner phrases
come out before dates are read ("owned by June Smith" is not June), and the words that name a
report come out too ("the 2014 child protection report" is not 2014).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.language.cues import CUES, CUES_BY_INTENT
from dialogs.language.dates import Period, parse_period
from dialogs.language.index import Index
from dialogs.language.intents import (
    EVIDENCE_INTENTS,
    ITEM_WRITES,
    LIST_INTENTS,
    PLAIN_INTENTS,
    Intent,
)
from dialogs.language.rank import MAX_ASK, REPORT_FLOOR, Reference, Resolver, Scored
from dialogs.language.text import (
    MARKUP,
    MAX_TEXT,
    MENTION_HEAD,
    STOPWORDS,
    by_initial,
    clean,
    correct,
    normalise,
    stem,
)
from storage.views import ItemView, ReportView

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
_PROPER = re.compile(r"(?<=[\w,;)] )[A-Z][a-z]+(?:[-'][A-Za-z]+)*\b")

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
    r"\b(?:my|mine|for me|to me|by me|i own|i lead|i have|i've got|have i got|do i (?:own|lead|have))\b"
)
_ME = frozenset({"me", "myself", "i"})
# The new owner in an assignment, as typed: the last "to X", or "make X the owner".
_NEW_OWNER = (
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
    "until", "between", "during", "month", "quarter", "note", "notes", "comment"
))  # fmt: skip
_VOCAB_BY_INITIAL = by_initial(INTENT_VOCAB)


@dataclass(frozen=True)
class Context:
    """What the conversation remembers between messages."""

    last_report_key: str | None = None
    user_name: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What the bot understood from one message."""

    intent: Intent
    text: str
    report: ReportView | None = None  # the report named, or the chosen item's report
    report_candidates: tuple[ReportView, ...] = ()
    item: ItemView | None = None
    candidates: tuple[Scored, ...] = ()  # choices when asking; nearest items when not found
    needs_clarification: bool = False
    not_found: bool = False
    number: str | None = None
    kind: str | None = None
    period: Period | None = None
    owner: str | None = None
    mine: bool = False
    theme: str | None = None
    evidence: str | None = None
    links: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    item_words: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The shape ``tracker parse --json`` prints."""
        item = self.item
        return {
            "intent": self.intent.value,
            "report": self.report.key if self.report else None,
            "item": {"report": self.report.key if self.report else None, "kind": item.kind,
                     "number": item.number or None, "id": item.id} if item else None,
            "needs_clarification": self.needs_clarification,
            # The choices when asking, the nearest items when nothing matched.
            "candidates": [_candidate_json(c) for c in self.candidates] if self.needs_clarification or self.not_found else [],
            "report_candidates": [r.key for r in self.report_candidates] if self.needs_clarification else [],
            "not_found": self.not_found,
            "due_before": self.period.before.isoformat() if self.period and self.period.before else None,
            "due_after": self.period.after.isoformat() if self.period and self.period.after else None,
            "kind": self.kind,
            "number": self.number,
            "owner": self.owner,
            "mine": self.mine,
            "theme": self.theme,
            "evidence": self.evidence,
            "links": list(self.links),
            "suggestions": list(self.suggestions),
        }  # fmt: skip


def _candidate_json(c: Scored) -> dict[str, Any]:
    item = c.item
    return {
        "report": c.report.key if c.report else None,
        "kind": item.kind if item else None,
        "number": (item.number or None) if item else None,
        "id": item.id if item else None,
        "score": round(c.score, 1),
    }


# ---- text -------------------------------------------------------------------------------------------


def correct_intent_words(text: str, known: Callable[[str], bool] = lambda _w: False) -> str:
    """Fix typos in the words routes depend on ("outstnading", "reccomendation").

    A word we know (a report, item or owner word) is never "corrected", and the first letter must
    agree: people slip inside words far more often than at the start.
    """
    out = []
    for word in text.split(" "):
        core = word.strip("?!.,:;")
        if core:
            fixed = correct(core, _VOCAB_BY_INITIAL.get(core[0], ()), known)
            if fixed != core:
                word = word.replace(core, fixed)
        out.append(word)
    return " ".join(out)


def classify(text: str) -> Intent:
    """The intent of already-:func:`clean`-ed text: first anchored match, else keyword scoring.

    Keyword scoring never picks a write: changing the tracker needs a phrasing we recognise.
    """
    if not text:
        return Intent.HELP
    for cue in CUES:
        if cue.matcher.search(text):
            return cue.intent
    words = set(re.findall(r"[a-z]+", text))
    best, best_score = Intent.UNKNOWN, 0
    for cue in CUES:
        if cue.intent in ITEM_WRITES or cue.intent in (Intent.SUBSCRIBE, Intent.UNSUBSCRIBE):
            continue
        score = sum(1 for k in cue.keywords if k in words)
        if score > best_score:
            best, best_score = cue.intent, score
    return best if best_score >= 2 else Intent.UNKNOWN


def suggest(text: str, limit: int = 3) -> tuple[str, ...]:
    """Examples of what people can say that look most like ``text`` ("did you mean")."""
    examples = [c.example for c in CUES if c.example and c.intent not in (Intent.GREETING, Intent.UNKNOWN)]
    hits = process.extract(text, examples, scorer=fuzz.WRatio, limit=limit)
    return tuple(h[0] for h in hits)


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


def _is_greeting(raw: str) -> bool:
    """Checked before politeness is dropped, or "thanks!" would be nothing at all."""
    light = MENTION_HEAD.sub("", normalise(MARKUP.sub(" ", raw))).strip(" ,.!")
    return CUES_BY_INTENT[Intent.GREETING].matcher.search(light) is not None


def _route(raw: str, known: Callable[[str], bool]) -> tuple[Intent, str, str | None, str]:
    """(intent, cleaned request, evidence as typed, request as typed).

    A write's note follows a separator ("mark 34 as evidenced: CCU now tasks intel"): route the
    part before it. Anything else is understood whole ("overdue: vetting").
    """
    head_raw, tail = split_evidence(raw)
    if tail is not None:
        head = correct_intent_words(clean(head_raw), known)
        intent = classify(head)
        if intent in EVIDENCE_INTENTS:
            return intent, head, " ".join(tail.split()), head_raw
        if intent is Intent.ASSIGN:
            return intent, head, None, head_raw
    full = correct_intent_words(clean(raw), known)
    intent = classify(full)
    if tail is not None and intent in EVIDENCE_INTENTS:  # only the whole says it is a write
        return intent, correct_intent_words(clean(head_raw), known), " ".join(tail.split()), head_raw
    return intent, full, None, raw


# ---- the whole message ------------------------------------------------------------------------------


def understand(raw: str, ctx: Context, resolver: Resolver, today: dt.date) -> Parsed:
    """Route one message and resolve what it refers to."""
    raw = " ".join(MARKUP.sub(" ", (raw or "")[:MAX_TEXT]).split())
    if raw and _is_greeting(raw):
        return Parsed(intent=Intent.GREETING, text=clean(raw))
    names = {w.lower() for w in _PROPER.findall(raw)}
    intent, head, evidence, head_raw = _route(raw, lambda w: w in names or resolver.index.knows(w))
    if intent in PLAIN_INTENTS:
        return Parsed(intent=intent, text=head)
    if intent is Intent.UNKNOWN:
        return Parsed(intent=intent, text=head, suggestions=suggest(head))
    links = tuple(dict.fromkeys(m.group(0).rstrip(".,;") for m in URL.finditer(raw)))
    if intent in LIST_INTENTS:
        return _list_request(intent, head, raw, resolver, today, links)
    return _item_request(intent, head, head_raw, evidence, links, ctx, resolver)


def _list_request(
    intent: Intent, head: str, raw: str, resolver: Resolver, today: dt.date, links: tuple[str, ...]
) -> Parsed:
    """Outstanding, overdue, due and summary: filters (report, kind, owner, theme, dates)."""
    owner, mine, scan = _owner_filter(head, raw, resolver.index)
    theme, scan = _theme_filter(scan, resolver.index) if intent is not Intent.SUMMARY else (None, scan)
    kind = _list_kind(scan)
    res = resolver.reports(scan)
    report = res.chosen.report if res.chosen else None
    period = None
    if intent in (Intent.DUE, Intent.OUTSTANDING):
        period = parse_period(resolver.index.without_report_words(scan, report) if report else scan, today)
        if period is not None:
            intent = Intent.DUE  # "what's outstanding by end of March" is a question about due dates
    ask = report is None and res.needs_clarification and res.candidates[0].score >= REPORT_FLOOR
    candidates = tuple(s for s in res.candidates if s.report) if ask else ()
    return Parsed(
        intent=intent, text=head, report=report, report_candidates=tuple(s.report for s in candidates if s.report),
        candidates=candidates, needs_clarification=ask, kind=kind, period=period, owner=owner, mine=mine,
        theme=theme, links=links,
    )  # fmt: skip


def _item_request(
    intent: Intent,
    head: str,
    head_raw: str,
    evidence: str | None,
    links: tuple[str, ...],
    ctx: Context,
    resolver: Resolver,
) -> Parsed:
    """Show, owner and the writes: which item, and (for assign) who gets it."""
    owner, mine, scan = (None, False, head)
    if intent is Intent.ASSIGN:  # the new owner as typed, before any typo correction
        owner, mine, scan = _new_owner(clean(head_raw), head_raw, ctx)
    number, kind, scan = _take_item_ref(scan)
    hint = kind or _kind_hint(scan)
    context = resolver.report_by_key(ctx.last_report_key) if ctx.last_report_key else None
    ref = resolver.refer(scan, number=number, kind=hint, context_report_id=context.id if context else None,
                         strict=intent in ITEM_WRITES)  # fmt: skip
    base: dict[str, Any] = dict(intent=intent, text=head, number=number, kind=hint, owner=owner, mine=mine,
                                evidence=evidence if intent in EVIDENCE_INTENTS else None, links=links,
                                item_words=_describe(scan) if not number else None)  # fmt: skip
    if ref.report_only:
        return _about_report(intent, ref, hint, resolver, base)
    return Parsed(
        **base, report=ref.report, item=ref.item, candidates=ref.candidates, report_candidates=ref.report_candidates,
        needs_clarification=ref.needs_clarification, not_found=ref.not_found,
    )  # fmt: skip


def _about_report(
    intent: Intent, ref: Reference, kind: str | None, resolver: Resolver, base: dict[str, Any]
) -> Parsed:
    """The words name a report but no item in it: show lists it; anything else asks which item."""
    reports = (ref.report,) if ref.report else ref.report_candidates
    items = [(r, i) for r in reports for i in resolver.index.report_items(r.id, kind)]
    if len(items) == 1:
        report, item = items[0]
        return Parsed(**base, report=report, item=item, candidates=(Scored(100.0, report, item),))
    if intent is Intent.SHOW and ref.report is not None:
        return Parsed(**base, report=ref.report)
    if not items:
        return Parsed(**base, report=ref.report, not_found=True)
    choices = tuple(Scored(100.0, report, item) for report, item in _interleave(items)[:MAX_ASK])
    return Parsed(**base, report=ref.report, report_candidates=ref.report_candidates, candidates=choices,
                  needs_clarification=len(choices) > 1)  # fmt: skip


def _interleave(pairs: list[tuple[ReportView, ItemView]]) -> list[tuple[ReportView, ItemView]]:
    """Several reports' items taken in turn, so a short list of choices shows each report."""
    by_report: dict[int, list[tuple[ReportView, ItemView]]] = {}
    for pair in pairs:
        by_report.setdefault(pair[0].id, []).append(pair)
    queues = list(by_report.values())
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


# ---- pieces of a message --------------------------------------------------------------------------


def _take_item_ref(text: str) -> tuple[str | None, str | None, str]:
    """(number, kind, text without the reference): "rec 35", "AFI 2", "#7", or a bare "7.1"."""
    m = _ITEM_REF.search(text)
    if m:
        kind = next((KIND_WORDS[i][1] for i in range(len(KIND_WORDS)) if m.group(f"k{i}")), None)
        return m.group("num"), kind, _cut(text, m)
    m = _BARE_NUMBER.search(_DATE_LIKE.sub(lambda d: " " * len(d.group(0)), text))
    if m:
        return m.group("num"), None, _cut(text, m)
    return None, None, text


def _cut(text: str, m: re.Match[str]) -> str:
    return " ".join((text[: m.start()] + " " + text[m.end() :]).split())


def _kind_hint(text: str) -> str | None:
    m = _KIND_HINT.search(text)
    return None if not m else "afi" if m.group(1) else "cause_of_concern"


def _list_kind(text: str) -> str | None:
    m = _LIST_KIND.search(text)
    return None if not m else "afi" if m.group(1) else "cause_of_concern" if m.group(2) else "recommendation"


def _owner_filter(head: str, raw: str, index: Index) -> tuple[str | None, bool, str]:
    """(owner as typed, "mine", the text without the owner phrase), for list requests."""
    for pattern, must_be_known in ((_OWNED_BY, False), (_POSSESSIVE, True), (_FOR_PERSON, True)):
        for m in pattern.finditer(head):
            who = m.group("who")
            if who in _ME:
                return None, True, _cut(head, m)
            if must_be_known and not (index.person(who) and len(who.split()) >= 2):
                continue
            return _as_typed(raw, who), False, _cut(head, m)
    mine = _MINE.search(head)
    return None, bool(mine), _cut(head, mine) if mine else head


def _new_owner(head: str, head_raw: str, ctx: Context) -> tuple[str | None, bool, str]:
    """(new owner as typed, "me", the text without the owner) for "assign rec 35 to DCI Patel"."""
    typed = " ".join(head_raw.split())
    for pattern in _NEW_OWNER:
        m = pattern.search(head)
        if m:
            who = m.group("who").strip(" .!?")
            rest = _cut(head, m) if pattern is _NEW_OWNER[0] else head[: m.start("who")]
            rest = re.sub(r"\b(?:to|as|is)\s*$", "", rest).strip()
            if who in _ME:
                return ctx.user_name, True, rest
            return _as_typed(typed, who), False, rest
    return None, False, head


def _theme_filter(text: str, index: Index) -> tuple[str | None, str]:
    """A known theme after "about"/"on" ("open items about counter-corruption").

    A report's own alias wins over a theme of the same name ("what's overdue on vetting").
    """
    for m in _THEME.finditer(text):
        phrase = m.group("theme").strip()
        if _NOT_A_THEME.search(phrase) or index.names_report(phrase):
            continue
        theme = index.theme(phrase)
        if theme:
            return theme, _cut(text, m)
    return None, text


def _as_typed(raw: str, phrase: str) -> str:
    """``phrase`` (from normalised text) as the person typed it, capitals and all."""
    pattern = r"[\W_]+".join(re.escape(w) for w in phrase.split())
    m = re.search(rf"(?<!\w){pattern}(?!\w)", raw, re.IGNORECASE)
    return " ".join(m.group(0).split()) if m else phrase


def _describe(text: str) -> str | None:
    """The words that describe an item, for "I can't find an item about ..."."""
    words = [w for w in re.findall(r"[a-z0-9&'.-]+", text) if stem(w) not in STOPWORDS and w not in STOPWORDS]
    return " ".join(words) or None
