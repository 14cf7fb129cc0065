"""Understanding a message: text (+ conversation context) -> a :class:`Parsed` request.

Pure and synchronous: the bot, ``tracker parse`` and ``tracker chat`` all call :func:`understand`.
Routing is the table in ``bot.routes``; working out which report or item is meant is
``bot.resolve``'s job; this module extracts the rest (numbers, dates, owners, evidence, links).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from bot.dates import Period, parse_period
from bot.resolve import Resolution, Resolver, Scored, normalise
from bot.routes import ROUTES, ROUTES_BY_NAME, Route
from storage.views import ItemView, ReportView

MAX_TEXT = 4000  # longer messages are understood from their first 4,000 characters

WRITE_INTENTS = frozenset({"mark_evidenced", "add_update", "reopen", "sign_off", "assign"})
ITEM_INTENTS = WRITE_INTENTS | {"show", "owner"}

KIND_WORDS: tuple[tuple[str, str], ...] = (
    (r"areas? (?:for|of) improvement|afis?", "afi"),
    (r"causes? (?:for|of) concern|cocs?", "cause_of_concern"),
    (r"rec(?:ommendation)?s?|r", "recommendation"),
)
_KIND_PREFIX = "|".join(f"(?P<k{i}>{p})" for i, (p, _) in enumerate(KIND_WORDS))
_ITEM_REF = re.compile(
    rf"(?:\b(?:{_KIND_PREFIX})|\bitem|\bno\.?|\bnumber|#)\s*(?:no\.?\s*|number\s*|#\s*)?(?P<num>\d{{1,3}}(?:\.\d{{1,2}}){{0,2}}[a-z]?)\b"
)
_BARE_NUMBER = re.compile(
    r"(?<![\w/.:-])(?P<num>\d{1,3}(?:\.\d{1,2}){0,2})(?![\w/:-]|\.\d)(?!\s*(?:days?|weeks?|months?|years?|st|nd|rd|th|am|pm|%|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b)"
)
_DATE_LIKE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{1,4})?\b")
_LIST_KIND = re.compile(r"\b(?:(afis|areas for improvement)|(causes of concern)|(recs|recommendations))\b")
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_EVIDENCE_SPLIT = re.compile(
    r"\s*(?::|\s[-\u2013\u2014]+\s|\bwith (?:the )?(?:note|evidence|comment|update)s?\b:?|\bsaying\b|\bevidence(?: is)?:)\s*",
    re.IGNORECASE,
)
_ASSIGN_TO = re.compile(r"\b(?:to|is|as)\s+(?P<who>.+?)\s*[.!]*$", re.IGNORECASE)
_OWNED_BY = re.compile(r"\b(?:owned by|assigned to|led by|lead is|owner is|belonging to|for)\s+(?P<who>[a-z][\w.' -]{1,60}?)(?:\s+(?:from|in|on|of|due)\b|[?!.]*$)", re.IGNORECASE)
_MINE = re.compile(r"\b(?:my|mine|assigned to me|owned by me|i own|i lead)\b")
_THEME = re.compile(r"\b(?:theme|themed|about|on the theme of|relating to|related to)\s+(?P<theme>[a-z][\w -]{2,40}?)(?:\s+(?:from|in|due|owned)\b|[?!.]*$)")
_POLITE_HEAD = re.compile(
    r"^(?:@[\w.-]+[ ,:]*|tracker[ ,:]+|(?:hi|hey|hello|ok|okay|so|right)\b[ ,!]+(?=\S)|(?:please|pls|plz|kindly|can you|could you|would you|will you|can i|could i|i'd like to|i want to|i need to|let's|lets)\b[ ,]*)+"
)
_POLITE_TAIL = re.compile(r"[ ,]*(?:please|pls|thanks|thank you|ta|cheers)[ !.]*$")

# Words the route patterns rely on: a typo in one of these is corrected before routing.
INTENT_VOCAB = tuple(
    sorted(
        set(
            ["outstanding", "overdue", "remaining", "evidenced", "evidence", "recommendation", "recommendations", "summary", "digest", "subscribe", "unsubscribe", "status", "reopen", "assign", "update", "progress", "owner", "deadline", "deadlines", "improvement", "concern", "signed", "complete", "completed", "weekly", "christmas", "anything", "outstanding", "show", "display", "details", "overview", "breakdown", "owns", "leads", "responsible"]
        )
    )
)


@dataclass(frozen=True)
class Context:
    """What the conversation remembers between messages."""

    last_report_key: str | None = None
    user_name: str | None = None
    user_aad_id: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What the bot understood from one message."""

    intent: str
    text: str
    report: ReportView | None = None
    report_candidates: tuple[ReportView, ...] = ()
    item: ItemView | None = None
    candidates: tuple[Scored, ...] = ()
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
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The shape ``tracker parse --json`` prints."""
        rk = {rid.id: rid.key for rid in self.report_candidates}

        def item_json(i: ItemView) -> dict[str, Any]:
            return {"report": rk.get(i.report_id, self.extra.get("report_keys", {}).get(i.report_id)), "kind": i.kind, "number": i.number or None, "id": i.id}

        return {
            "intent": self.intent,
            "report": self.report.key if self.report else None,
            "item": item_json(self.item) if self.item else None,
            "needs_clarification": self.needs_clarification,
            "candidates": [
                {"report": self.extra.get("report_keys", {}).get(c.item.report_id) if c.item else (c.report.key if c.report else None),
                 "number": c.item.number if c.item else None, "id": c.item.id if c.item else None, "score": round(c.score, 1)}
                for c in self.candidates
            ] if self.needs_clarification else [],
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


def clean(text: str) -> str:
    """Normalise and drop politeness, so anchored patterns see the request itself."""
    t = normalise(text[:MAX_TEXT])
    t = "".join(ch if ch.isprintable() else " " for ch in t)
    t = t.strip(" ,.!")
    prev = None
    while prev != t:
        prev = t
        t = _POLITE_HEAD.sub("", t).strip()
        t = _POLITE_TAIL.sub("", t).strip()
    return " ".join(t.split())


def correct_intent_words(text: str) -> str:
    """Fix typos in the words routes depend on ("outstnading", "reccomendation")."""
    out = []
    for word in text.split(" "):
        core = word.strip("?!.,:;")
        if len(core) >= 5 and core.isalpha() and core not in INTENT_VOCAB:
            hit = process.extractOne(core, INTENT_VOCAB, scorer=fuzz.ratio, score_cutoff=84)
            if hit:
                word = word.replace(core, hit[0])
        out.append(word)
    return " ".join(out)


def classify(text: str) -> Route:
    """The route for already-:func:`clean`-ed text: first anchored match, else keyword scoring."""
    if not text:
        return ROUTES_BY_NAME["help"]
    for route in ROUTES:
        if any(p.search(text) for p in route.patterns):
            return route
    words = set(re.findall(r"[a-z]+", text))
    best, best_score = ROUTES_BY_NAME["unknown"], 0
    for route in ROUTES:
        score = sum(1 for k in route.keywords if k in words)
        if score > best_score:
            best, best_score = route, score
    return best if best_score >= 2 else ROUTES_BY_NAME["unknown"]


def suggest(text: str, limit: int = 3) -> tuple[str, ...]:
    """Examples of what people can say that look most like ``text`` ("did you mean")."""
    examples = [r.example for r in ROUTES if r.in_help and r.example]
    hits = process.extract(text, examples, scorer=fuzz.WRatio, limit=limit)
    return tuple(h[0] for h in hits)


def split_evidence(raw: str) -> tuple[str, str | None]:
    """"mark 34 as evidenced: CCU now tasks intel" -> ("mark 34 as evidenced", "CCU now tasks intel")."""
    m = _EVIDENCE_SPLIT.search(raw)
    if not m or m.start() == 0:
        return raw, None
    head, tail = raw[: m.start()], raw[m.end() :].strip()
    # "7.1" or a URL's "https:" is not a separator.
    if raw[m.start() : m.end()].strip() == ":" and (head.lower().endswith(("http", "https")) or (tail[:1].isdigit() and head[-1:].isdigit())):
        return raw, None
    return head, tail or None


def _item_ref(text: str, allow_bare: bool) -> tuple[str | None, str | None]:
    """(number, kind) of an item reference in cleaned text."""
    m = _ITEM_REF.search(text)
    if m:
        kind = next((KIND_WORDS[i][1] for i in range(len(KIND_WORDS)) if m.group(f"k{i}")), None)
        return m.group("num"), kind
    if allow_bare:
        m = _BARE_NUMBER.search(_DATE_LIKE.sub(" ", text))
        if m:
            return m.group("num"), None
    return None, None


def understand(raw: str, ctx: Context, resolver: Resolver, today: dt.date) -> Parsed:
    """Route one message and resolve what it refers to."""
    raw = (raw or "")[:MAX_TEXT]
    head_raw, tail = split_evidence(raw)
    head = correct_intent_words(clean(head_raw))
    route = classify(head)
    evidence = None
    if route.name in WRITE_INTENTS and route.name != "assign":
        evidence = tail
    else:
        full = correct_intent_words(clean(raw))
        full_route = classify(full)
        if full_route.name in WRITE_INTENTS and full_route.name != "assign":
            route, evidence = full_route, None
        elif route.name == "unknown" or tail is None:
            route, head = full_route, full
    intent = route.name
    if intent in ("greeting", "help", "subscribe", "unsubscribe", "digest_now"):
        return Parsed(intent=intent, text=head)
    if intent == "unknown":
        return Parsed(intent=intent, text=head, suggestions=suggest(head))

    links = tuple(dict.fromkeys(m.group(0).rstrip(".,;") for m in _URL.finditer(raw)))
    if evidence:
        evidence = " ".join(evidence.split())
    owner = None
    mine = False
    scan = head
    if intent == "assign":
        m = _ASSIGN_TO.search(head_raw if tail is None else raw)
        if m:
            owner = " ".join(m.group("who").split()).strip(" .")
            scan = head[: max(0, head.rfind(" to "))] if " to " in head else head
    elif intent in ("outstanding", "overdue", "due", "summary"):
        if _MINE.search(head):
            mine = True
        else:
            m = _OWNED_BY.search(head)
            if m and not _looks_like_time(m.group("who")):
                owner = m.group("who").strip()
                scan = head.replace(m.group(0), " ")
    theme_m = _THEME.search(head) if intent in ("outstanding", "overdue", "due") else None
    theme = theme_m.group("theme").strip() if theme_m else None

    period = parse_period(head, today) if intent in ("due", "outstanding") else None
    if intent == "outstanding" and period is not None and re.search(r"\bdue\b", head):
        intent = "due"
    number, kind = _item_ref(scan, allow_bare=intent in ITEM_INTENTS)
    if kind is None and intent in ("outstanding", "overdue", "due", "summary"):
        lk = _LIST_KIND.search(scan)
        kind = ("afi" if lk.group(1) else "cause_of_concern" if lk.group(2) else "recommendation") if lk else None
        kind = None if kind == "recommendation" and "recommendations" in scan and not lk.group(3).startswith("rec") else kind

    reports: Resolution = resolver.reports(_without_numbers(scan))
    report = reports.chosen.report if reports.chosen else None
    report_candidates = tuple(s.report for s in reports.candidates if s.report)
    base = dict(
        intent=intent, text=head, report=report, report_candidates=report_candidates, number=number, kind=kind,
        period=period, owner=owner, mine=mine, theme=theme, evidence=evidence, links=links,
        extra={"report_keys": {r.id: r.key for r in resolver_reports(resolver)}},
    )  # fmt: skip
    if intent not in ITEM_INTENTS:
        if report is None and reports.needs_clarification and _mentions_report(scan):
            return Parsed(**base, needs_clarification=True,
                          candidates=tuple(s for s in reports.candidates if s.report))  # fmt: skip
        return Parsed(**base)

    ctx_report = resolver.report_by_key(ctx.last_report_key) if ctx.last_report_key else None
    if number:
        res = resolver.item_by_number(
            number, report_id=report.id if report else None, kind=kind,
            context_report_id=ctx_report.id if ctx_report and report is None else None,
        )  # fmt: skip
        words = None
    else:
        words = _item_words(scan)
        if not words:
            return Parsed(**base, not_found=report is None, item_words=None)
        scope = report or ctx_report
        res = resolver.items_by_words(words, report_id=scope.id if scope else None, kind=kind)
        if res.chosen is None and scope is not None:
            # The words may have looked like a report name ("the organised crime one") when they
            # describe an item elsewhere: search everything before saying it does not exist.
            wider = resolver.items_by_words(words, kind=kind)
            if _best(wider) > _best(res):
                res, report = wider, None
                base["report"] = None
    if res.chosen and res.chosen.item:
        chosen_report = resolver_report(resolver, res.chosen.item)
        return Parsed(**base | {"report": chosen_report},
                      item=res.chosen.item, candidates=res.candidates, item_words=words)  # fmt: skip
    if len(res.candidates) > 1:
        return Parsed(**base, candidates=res.candidates, needs_clarification=True, item_words=words)
    nearest = tuple(Scored(s.score, item=s.item) for s in res.candidates)
    return Parsed(**base, candidates=nearest, not_found=True, item_words=words)


def _best(res: Resolution) -> float:
    top = res.chosen or (res.candidates[0] if res.candidates else None)
    return top.score if top else 0.0


def resolver_reports(resolver: Resolver) -> list[ReportView]:
    return list(resolver._model.reports.values())


def resolver_report(resolver: Resolver, item: ItemView) -> ReportView | None:
    return resolver._model.reports.get(item.report_id)


def _without_numbers(text: str) -> str:
    return re.sub(r"\d+(?:\.\d+)*", " ", text)


def _mentions_report(text: str) -> bool:
    return bool(re.search(r"\b(?:report|inspection|review|thematic|from|the .+ one)\b", text))


def _looks_like_time(who: str) -> bool:
    return bool(re.match(r"(?:this|next|the end|end|christmas|easter|\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", who))


_ITEM_WORDS_DROP = re.compile(
    r"\b(?:the|one|ones|about|regarding|on|re|item|rec|recommendation|thing|bit|that|which|is|it|please|show|who|owns|own|leads?|is|mark|as|evidenced|done|sign|signed|off|reopen|add|update|note|to|for|of|from|me|what|whats|what's|tell|details|status|open|assign|owner)\b"
)


def _item_words(text: str) -> str:
    return " ".join(_ITEM_WORDS_DROP.sub(" ", text).split())
