"""Understanding a message, entity-first: text (+ conversation context) -> a :class:`Parsed` request.

Pure and synchronous: the bot, ``tracker parse`` and ``tracker chat`` all call :func:`understand`.

1. Normalise: markup, @mentions, politeness, Unicode; slips corrected against the words requests
   are phrased in and the words of the tracker itself (``parts.correct_intent_words``).
2. The cue table (``cues``) names the intent when the words say it outright; writes always need one.
3. Whatever the phrasing, find what the message refers to: item numbers (one or several),
   references back ("it", "the second one"), reports, people and departments, statuses, kinds,
   addressees, themes, PEEL questions, due dates and "since" periods (``mentions``, ``parts``, and
   the resolver in ``rank`` over the ``index``).
4. No cue: the defaults people expect. An item named alone is shown; a report, person, department,
   status or kind named alone lists what is outstanding; a date lists what is due; nothing of the
   tracker at all is out of scope. A follow-up ("and for PEEL?") repeats the last list's question.

Pieces come out in an order that keeps them from being mistaken for each other: owner phrases
before dates ("owned by June Smith" is not June), report names before dates ("the 2014 child
protection report" and "PEEL 2023-25" are not dates).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.language.cues import CUE_DATE, CUE_WINDOW, CUES, CUES_BY_INTENT
from dialogs.language.dates import Period, parse_period
from dialogs.language.index import Index
from dialogs.language.intents import (
    EVIDENCE_INTENTS,
    ITEM_WRITES,
    LIST_INTENTS,
    PLAIN_INTENTS,
    WRITES,
    Intent,
)
from dialogs.language.mentions import (
    QUESTION_REF,
    Addressee,
    Since,
    addressee_in,
    list_kind,
    ordinal_in,
    peel_question_in,
    pronoun_in,
    several_named,
    several_numbers,
    since_in,
    statuses_in,
)
from dialogs.language.parts import (
    INTENT_VOCAB,
    PROPER,
    URL,
    as_typed,
    correct_intent_words,
    cut,
    department_filter,
    describe,
    kind_hint,
    new_owner,
    owner_filter,
    split_evidence,
    take_item_ref,
    theme_filter,
)
from dialogs.language.rank import MAX_ASK, REPORT_FLOOR, Reference, Resolver, Scored
from dialogs.language.text import MARKUP, MAX_TEXT, MENTION_HEAD, STOPWORDS, clean, normalise, stem, words_of
from storage.views import ItemView, ReportView

_FOLLOW_UP = re.compile(r"^(?:and|what about|how about|same for|same again for|now|also)\b")
_THANKS_ONLY = frozenset(
    [
        "thanks",
        "thank",
        "you",
        "thankyou",
        "thx",
        "ty",
        "cheers",
        "ta",
        "many",
        "great",
        "brilliant",
        "perfect",
        "lovely",
        "super",
        "fab",
        "fantastic",
        "excellent",
        "that's",
        "thats",
        "that",
        "is",
        "was",
        "really",
        "very",
        "so",
        "much",
        "a",
        "lot",
        "for",
        "this",
        "your",
        "help",
        "the",
        "appreciated",
        "much",
        "star",
        "you're",
        "youre",
        "mate",
        "all",
        "again",
        "helpful",
        "useful",
        "nice",
        "one",
        "cool",
        "ok",
        "okay",
        "awesome",
        "exactly",
        "what",
        "i",
        "needed",
        "wanted",
        "just",
        "it",
        "it's",
        "sorted",
        "top",
        "legend",
        "wonderful",
        "thnaks",
        "thansk",
        "thanx",
        "thnx",
        "u",
        "we",
        "that's",
        "spot",
        "on",
    ]
)
_THANKS = re.compile(
    r"\b(?:thanks|thank you|thank u|thankyou|thx|ty|cheers|ta|many thanks|thnaks|thansk|thanx|thnx)\b"
)
_ADDED = re.compile(r"\b(?:added|new|came in|come in|arrived|received|published|joined)\b")
_RETARGETED = re.compile(
    r"\b(?:re ?target(?:ed|ted|s)?|moved (?:their |its )?targets?|target (?:dates? )?(?:moved|changed|revised)|revised (?:their )?targets?|extended|extensions?)\b"
)
_CLOSED = re.compile(r"\b(?:signed off|sign off|signed-off|closed|close|completed|complete|discharged)\b")
_ACTOR = re.compile(
    r"^(?:what|which)(?: items| recs)? did (?P<who>[a-z][a-z.' -]{0,60}?) (?:change|do|update|sign off|evidence|close|add|record|touch|move)\b"
    r"|^(?:did|has|have) (?P<who2>[a-z][a-z.' -]{0,60}?) (?:changed|updated|done|touched|moved|recorded)\b"
    r"|\b(?:changes|updates|activity) (?:by|from) (?P<who3>[a-z][a-z.' -]{0,60}?)(?=\s+(?:this|since|last|in|on|today)\b|\s*[?!.,]|$)"
)
_PLURAL = re.compile(r"\b(?:ones|recs|recommendations|items|afis|actions|all)\b")
_WE = frozenset(
    {"we", "i", "us", "the force", "you", "anyone", "anybody", "people", "everyone", "somebody", "someone"}
)
_WRITE_DATE = re.compile(CUE_DATE)
# Words that belong to the tracker's world even when no report or item is named.
_TRACKER_WORDS = frozenset(
    [
        "rec",
        "recs",
        "recommendation",
        "recommendations",
        "item",
        "items",
        "afi",
        "afis",
        "action",
        "actions",
        "area",
        "areas",
        "improvement",
        "cause",
        "causes",
        "concern",
        "concerns",
        "report",
        "reports",
        "inspection",
        "inspections",
        "tracker",
        "hmicfrs",
        "hmic",
        "open",
        "outstanding",
        "overdue",
        "due",
        "evidenced",
        "evidence",
        "signed",
        "sign",
        "off",
        "live",
        "closed",
        "complete",
        "completed",
        "status",
        "owner",
        "owners",
        "lead",
        "leads",
        "deadline",
        "deadlines",
        "target",
        "targets",
        "progress",
        "update",
        "updates",
        "summary",
        "digest",
        "peel",
        "jac",
        "committee",
        "ones",
        "one",
        "anything",
        "everything",
        "all",
        "left",
        "remaining",
        "late",
        "new",
        "added",
        "mine",
        "my",
        "our",
        "force",
    ]
)


@dataclass(frozen=True)
class Context:
    """What the conversation remembers between messages (and who is speaking, when)."""

    last_report_key: str | None = None
    user_name: str | None = None
    last_item_id: int | None = None
    last_items: tuple[int, ...] = ()  # the items of the last list or choice shown, in order
    last_query: str | None = None  # the last list's question: outstanding | overdue | due
    last_meeting: dt.date | None = None  # the latest committee meeting before today


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
    items: tuple[ItemView, ...] = ()  # several items named at once ("mark 33 and 34 as evidenced")
    item_reports: tuple[str, ...] = ()  # the report key of each of ``items``
    status: tuple[str, ...] = ()  # statuses filtered on
    since: Since | None = None  # a period in the past asked about ("this week", "since the last JAC")
    department: str | None = None
    addressee: Addressee | None = None
    peel_question: int | None = None
    measure: str | None = None  # what a count counts: signed_off | added | addressee | retargeted
    actor: str | None = None  # whose changes ("what did Owen change?")
    target_date: dt.date | None = None  # a re-target's new date; a committee meeting's date
    thanks: bool = False
    out_of_scope: bool = False

    def to_json(self) -> dict[str, Any]:
        """The shape ``tracker parse --json`` prints."""
        item = self.item
        return {
            "intent": self.intent.value,
            "report": self.report.key if self.report else None,
            "item": _item_json(item, self.report) if item else None,
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
            "status": list(self.status) or None,
            "since": self.since.start.isoformat() if self.since else None,
            "until": self.since.end.isoformat() if self.since and self.since.end else None,
            "items": [{**_item_json(i, None), "report": key} for i, key in zip(self.items, self.item_reports, strict=False)],
            "department": self.department,
            "addressee": (self.addressee.body or self.addressee.side) if self.addressee else None,
            "peel_question": self.peel_question,
            "measure": self.measure,
            "actor": self.actor,
            "target_date": self.target_date.isoformat() if self.target_date else None,
            "out_of_scope": self.out_of_scope,
        }  # fmt: skip


def _item_json(item: ItemView, report: ReportView | None) -> dict[str, Any]:
    return {"report": report.key if report and report.id == item.report_id else None, "kind": item.kind,
            "number": item.number or None, "id": item.id}  # fmt: skip


def _candidate_json(c: Scored) -> dict[str, Any]:
    item = c.item
    return {
        "report": c.report.key if c.report else None,
        "kind": item.kind if item else None,
        "number": (item.number or None) if item else None,
        "id": item.id if item else None,
        "score": round(c.score, 1),
    }


# ---- intent from the words ----------------------------------------------------------------------------


def classify(text: str) -> Intent | None:
    """The intent the words of already-:func:`clean`-ed text name, or None when no cue says one."""
    if not text:
        return Intent.HELP
    window = text[:CUE_WINDOW]
    for cue in CUES:
        if cue.matcher.search(window):
            return cue.intent
    return None


def suggest(text: str, limit: int = 3) -> tuple[str, ...]:
    """Examples of what people can say that look most like ``text`` ("did you mean")."""
    examples = [c.example for c in CUES if c.example and c.intent not in (Intent.GREETING, Intent.UNKNOWN)]
    hits = process.extract(
        text[:SUGGEST_CHARS], list(dict.fromkeys(examples)), scorer=fuzz.WRatio, limit=limit
    )
    return tuple(h[0] for h in hits)


def _greeting(raw: str) -> bool:
    """Checked before politeness is dropped, or "thanks!" would be nothing at all. Thanks with a
    few kind words ("cheers, that's great") is thanks too."""
    light = MENTION_HEAD.sub("", normalise(MARKUP.sub(" ", raw))).strip(" ,.!")
    if CUES_BY_INTENT[Intent.GREETING].matcher.search(light) is not None:
        return True
    words = re.findall(r"[a-z']+", light[:200])
    return bool(_THANKS.search(light)) and 0 < len(words) <= 10 and all(w in _THANKS_ONLY for w in words)


_UPDATE_HEAD = re.compile(r"^(?:update|progress(?: note| update)?|note|comment|latest)\b")


def _route(raw: str, known: Callable[[str], bool]) -> tuple[Intent | None, str, str | None, str]:
    """(intent or None, cleaned request, evidence as typed, request as typed).

    A write's note follows a separator ("mark 34 as evidenced: CCU now tasks intel"): route the
    part before it. Anything else is understood whole ("overdue: vetting").
    """
    head_raw, tail = split_evidence(raw)
    if tail is not None:
        head = correct_intent_words(clean(head_raw), known)
        intent = classify(head)
        if intent in EVIDENCE_INTENTS or intent is Intent.RETARGET:
            return intent, head, " ".join(tail.split()), head_raw
        if intent is Intent.ASSIGN:
            return intent, head, None, head_raw
        if intent not in ITEM_WRITES and _UPDATE_HEAD.match(head):
            return Intent.ADD_UPDATE, head, " ".join(tail.split()), head_raw  # "update fraud rec 1: ..."
    full = correct_intent_words(clean(raw), known)
    intent = classify(full)
    if tail is not None and intent in ITEM_WRITES:
        # The kind of write is said before the note, never inside it ("update 1: calls done" is
        # an update, not "done"): a write verb only in the note is no write at all.
        return None, correct_intent_words(clean(head_raw), known), None, head_raw
    return intent, full, None, raw


def _fix_names(text: str, names: set[str], index: Index) -> str:
    """Slips in people's names ("Noami Clarke"), against the names of those who own items."""
    if not names:
        return text
    out = []
    for word in text.split(" "):
        core = word.strip("?!.,:;'s")
        if core in names:
            fixed = index.correct_name(core)
            word = word.replace(core, fixed) if fixed != core else word
        out.append(word)
    return " ".join(out)


# ---- the whole message ------------------------------------------------------------------------------


def understand(raw: str, ctx: Context, resolver: Resolver, today: dt.date) -> Parsed:
    """Understand one message and resolve what it refers to."""
    raw = " ".join(MARKUP.sub(" ", (raw or "")[:MAX_TEXT]).split())
    if (
        len(raw) > REQUEST_CHARS
        and split_evidence(raw)[1] is None
        and classify(clean(raw[:CUE_WINDOW])) not in WRITES
    ):
        # A request is said in its first words; a long message without a note is read from its start.
        # Never a write: what it says (a new owner, a reason) is what gets written, so all of it.
        raw = raw[:REQUEST_CHARS]
    if raw and _greeting(raw):
        return Parsed(intent=Intent.GREETING, text=clean(raw), thanks=bool(_THANKS.search(raw.lower())))
    index = resolver.index
    names = {w.lower() for w in PROPER.findall(raw[:CUE_WINDOW])}
    intent, head, evidence, head_raw = _route(raw, lambda w: w in names or index.knows(w))
    head = _fix_names(head, names, index)
    if intent in PLAIN_INTENTS:
        return Parsed(intent=intent, text=head)
    if intent is Intent.COMMITTEE_PACK:
        return Parsed(intent=intent, text=head)
    if intent is Intent.RECORD_MEETING:
        return Parsed(intent=intent, text=head, target_date=_meeting_date(head, today))
    links = tuple(dict.fromkeys(m.group(0).rstrip(".,;") for m in URL.finditer(raw)))
    if intent is None or intent is Intent.UNKNOWN:
        intent = _default_intent(head, ctx, resolver, today)
    if intent is Intent.UNKNOWN:
        oos = _out_of_scope(head, index) or elsewhere(head)
        return Parsed(intent=intent, text=head, suggestions=suggest(head), out_of_scope=oos)
    if intent in (Intent.SHOW, Intent.OWNER) and elsewhere(head) and not _DIGIT.search(head):
        return Parsed(intent=Intent.UNKNOWN, text=head, suggestions=suggest(head), out_of_scope=True)
    if intent is Intent.CHANGES:
        return _changes_request(head, raw, ctx, resolver, today)
    if intent in LIST_INTENTS:
        return _list_request(intent, head, raw, ctx, resolver, today, links)
    return _item_request(intent, head, head_raw, evidence, links, ctx, resolver, today)


_MET = re.compile(r"\b(?:met|sat|was held|took place|happened|had)\b")
_RELATIVE_DAY = re.compile(r"\b(?:(?P<y>yesterday)|today|this (?:morning|afternoon))\b")
# "the sex offenders area for improvement", "the one about categorising corruption intelligence":
# one item, described (a list says "ones", "recs", "items").
_SINGULAR = re.compile(
    r"^(?:(?:show|open|find|get|pull up)(?: me)? )?(?:the|that) (?:[a-z0-9&'-]+ ){0,8}?"
    r"(?:one|rec|recommendation|afi|area for improvement|cause of concern|item)\b(?!s)"
)


def _meeting_date(head: str, today: dt.date) -> dt.date | None:
    """When the committee met ("yesterday", "on 27 November": in the past when it "met")."""
    relative = _RELATIVE_DAY.search(head)
    if relative:
        return today - dt.timedelta(days=1) if relative.group("y") else today
    said = _a_date(head, today, future_ok=True)
    if said is not None and said > today and _MET.search(head):
        try:
            earlier = said.replace(year=said.year - 1)  # "met on 27 November": the last 27 November
        except ValueError:  # 29 February
            earlier = said - dt.timedelta(days=365)
        return earlier if earlier <= today else said
    return said


def _default_intent(head: str, ctx: Context, resolver: Resolver, today: dt.date) -> Intent:
    """The intent of a message no cue names, from what it refers to."""
    scan = head[: CUE_WINDOW * 2]
    if _FOLLOW_UP.match(scan) and ctx.last_query in ("outstanding", "overdue", "due"):
        number, _, _ = take_item_ref(scan)
        if number is None:
            return Intent(ctx.last_query)  # "and for PEEL?" asks the last list's question again
    if since_in(scan, today, ctx.last_meeting) and (
        _ADDED.search(scan) or _CLOSED.search(scan) or _RETARGETED.search(scan)
    ):
        return Intent.SUMMARY  # "what's been added since the last JAC", "signed off in the last 3 months"
    number, _, _ = take_item_ref(QUESTION_REF.sub(" ", scan))
    if number is not None or several_numbers(scan)[0]:
        return Intent.SHOW
    if (pronoun_in(scan) and ctx.last_item_id) or (ordinal_in(scan) and ctx.last_items):
        return Intent.SHOW
    if _SINGULAR.match(scan):
        return Intent.SHOW
    if statuses_in(scan) or addressee_in(scan) or list_kind(scan) or QUESTION_REF.search(scan):
        return Intent.OUTSTANDING
    index = resolver.index
    owner, mine, _ = owner_filter(scan, scan, index)
    if owner or mine or department_filter(scan, index)[0] or theme_filter(scan, index)[0]:
        return Intent.OUTSTANDING
    if _names_a_person(scan, index):
        return Intent.OUTSTANDING
    res = resolver.reports(scan)
    if res.chosen or (res.candidates and res.candidates[0].score >= REPORT_FLOOR):
        return Intent.OUTSTANDING
    if _mostly_unknown(scan, index):
        return Intent.UNKNOWN
    if parse_period(scan, today):
        return Intent.DUE
    ref = resolver.refer(scan)
    if ref.item is not None or (ref.needs_clarification and ref.candidates and ref.candidates[0].score >= 80):
        return Intent.SHOW
    return Intent.UNKNOWN


def _names_a_person(text: str, index: Index) -> bool:
    """A message that is (mostly) someone's name: "Naomi Clarke", "DI Clarke?"."""
    words = [w for w in words_of(text) if w not in STOPWORDS]
    return 0 < len(words) <= 4 and index.person(" ".join(words))


def _out_of_scope(text: str, index: Index) -> bool:
    """Nothing in the message belongs to the tracker: say so, rather than guess."""
    words = [w for w in re.findall(r"[a-z]+", text[:CUE_WINDOW]) if len(w) > 2]
    content = [w for w in words if w not in STOPWORDS]
    if not content:
        return False
    return not any(_tracker_word(w, index) for w in content)


def _tracker_word(word: str, index: Index) -> bool:
    return word in _TRACKER_WORDS or stem(word) in _TRACKER_WORDS or word in INTENT_VOCAB or index.knows(word)


def _mostly_unknown(text: str, index: Index) -> bool:
    """Half or more of the message's own words mean nothing to the tracker ("order a pizza")."""
    words = [w for w in re.findall(r"[a-z]+", text[:CUE_WINDOW]) if len(w) > 2 and w not in STOPWORDS]
    unknown = [w for w in words if not _tracker_word(w, index)]
    return bool(unknown) and len(unknown) >= max(1, len(words) / 2)


# Things people ask a work bot that the tracker does not do: rotas, IT, HR, press, the weather.
_ELSEWHERE = re.compile(
    r"\b(?:rest days?|days? off|rota|rotas|shifts?|on call|annual leave|leave request|holiday|overtime|pay ?slips?|payroll|"
    r"expenses|password|log ?in|login|laptop|printer|wi-?fi|it helpdesk|helpdesk|canteen|parking|car park|weather|wether|"
    r"press release|media statement|tweet|draft me|write me|email to|budget|precept|briefing|brefing|meeting room|"
    r"crime number|custody record|suspect|arrest|lunch|coffee|joke|football|officers do we have|staffing levels?|"
    r"sickness|recruitment|vacancies|promotion)\b"
)
_EXPLICIT_LIST = re.compile(
    r"\b(?:outstanding|still open|left to do|haven'?t (?:we )?(?:done|finished)|remaining|not (?:yet )?done|to do)\b"
)


def elsewhere(text: str) -> bool:
    """Does the message ask for something outside the tracker ("can you reset my password")?"""
    return _ELSEWHERE.search(text[:CUE_WINDOW]) is not None


def _scope_check(intent: Intent, head: str, index: Index, parsed: Parsed) -> Parsed:
    """A count or list whose words say nothing of the tracker ("how many officers do we have on
    nights") is out of scope, not the tracker's summary."""
    if intent not in (Intent.SUMMARY, Intent.OUTSTANDING):
        return parsed  # "overdue", "due": the cue itself is the tracker's
    if elsewhere(head) and not parsed.status and not parsed.peel_question:
        return Parsed(intent=Intent.UNKNOWN, text=head, suggestions=suggest(head), out_of_scope=True)
    if _EXPLICIT_LIST.search(head[:CUE_WINDOW]):
        return parsed  # "what's outstanding across the force", "what haven't we done yet?"
    filters = (parsed.report or parsed.owner or parsed.mine or parsed.theme or parsed.kind or parsed.status
               or parsed.department or parsed.addressee or parsed.period or parsed.since or parsed.report_candidates
               or parsed.peel_question or parsed.measure)  # fmt: skip
    if filters:
        return parsed
    words = [w for w in re.findall(r"[a-z]+", head[:CUE_WINDOW]) if len(w) > 2 and w not in STOPWORDS]
    unknown = [w for w in words if not _tracker_word(w, index)]
    if unknown and len(unknown) >= max(1, len(words) // 2):
        return Parsed(intent=Intent.UNKNOWN, text=head, suggestions=suggest(head), out_of_scope=True)
    return parsed


def _list_request(
    intent: Intent,
    head: str,
    raw: str,
    ctx: Context,
    resolver: Resolver,
    today: dt.date,
    links: tuple[str, ...],
) -> Parsed:
    """Outstanding, overdue, due and summary: filters (report, kind, owner, department, theme, status,
    addressee, PEEL question, dates)."""
    index = resolver.index
    scan = head[: CUE_WINDOW * 2]
    owner, mine, scan = owner_filter(scan, raw, index)
    if owner is None and not mine and _names_a_person(scan, index):
        owner = as_typed(raw, " ".join(w for w in scan.split() if stem(w) not in STOPWORDS))
        scan = ""
    department, scan = department_filter(scan, index) if not owner else (None, scan)
    theme, scan = theme_filter(scan, index) if intent is not Intent.SUMMARY else (None, scan)
    kind = list_kind(scan)
    status = statuses_in(scan)
    addressee = addressee_in(scan)
    # "this month" is when something is due, unless the question is about what happened ("since",
    # "signed off", "added"): only then is it a period in the past.
    past = (
        intent is Intent.SUMMARY
        or bool(re.search(r"\bsince\b", scan))
        or "signed_off" in status
        or _ADDED.search(scan)
    )
    since = since_in(scan, today, ctx.last_meeting) if past else None
    words = {stem(w) for w in words_of(scan)}
    retargeted = bool(_RETARGETED.search(scan))
    peel_question = peel_question_in(scan, words)
    if peel_question is not None:
        scan = QUESTION_REF.sub(" ", scan)
    if _RETARGETED.search(scan):
        scan = _RETARGETED.sub(" ", scan)  # "re-targeted" is not the joint *targeted* area inspection
    res = resolver.reports(scan)
    report = res.chosen.report if res.chosen else None
    period = None
    measure = None
    if intent is Intent.SUMMARY:
        measure = _measure(scan, status, addressee, since, retargeted)
    if intent in (Intent.DUE, Intent.OUTSTANDING) and since is None:
        period = parse_period(index.without_report_words(scan, report) if report else scan, today)
        if period is not None:
            intent = Intent.DUE  # "what's outstanding by end of March" is a question about due dates
    if intent is Intent.OUTSTANDING and since is not None and ("signed_off" in status or _ADDED.search(scan)):
        intent = Intent.SUMMARY  # "list what was signed off since the last JAC": the committee's question
        measure = _measure(scan, status, addressee, since)
    ask = report is None and res.needs_clarification and res.candidates[0].score >= REPORT_FLOOR
    if ask and peel_question is not None:
        ask = False  # "PEEL investigating crime": the question scopes it, whichever PEEL report
    candidates = tuple(s for s in res.candidates if s.report) if ask else ()
    parsed = Parsed(
        intent=intent, text=head, report=report, report_candidates=tuple(s.report for s in candidates if s.report),
        candidates=candidates, needs_clarification=ask, kind=kind, period=period, owner=owner, mine=mine,
        theme=theme, links=links, status=status, since=since, department=department, addressee=addressee,
        peel_question=peel_question, measure=measure,
    )  # fmt: skip
    return _scope_check(intent, head, index, parsed)


def _measure(
    scan: str,
    status: tuple[str, ...],
    addressee: Addressee | None,
    since: Since | None,
    retargeted: bool = False,
) -> str | None:
    """What a committee count counts."""
    if retargeted or _RETARGETED.search(scan):
        return "retargeted"
    if addressee is not None and addressee.side in ("both", "other") and not status:
        return "addressee"
    if "signed_off" in status or (since is not None and _CLOSED.search(scan)):
        return "signed_off"
    if _ADDED.search(scan) and since is not None:
        return "added"
    if addressee is not None and addressee.side == "force" and re.search(r"\bhow many\b", scan):
        return "addressee"
    return None


def _changes_request(head: str, raw: str, ctx: Context, resolver: Resolver, today: dt.date) -> Parsed:
    """ "What changed this week / since Monday / since the last JAC", and whose changes."""
    m = _ACTOR.search(head[:CUE_WINDOW])
    actor = None
    if m:
        who = (m.group("who") or m.group("who2") or m.group("who3") or "").strip()
        if who and who not in _WE:
            actor = as_typed(raw, who)
        elif who in _WE and _CLOSED.search(head):
            # "what did we close in November?": the committee's count of sign-offs, not an audit trail.
            since = since_in(head, today, ctx.last_meeting)
            return Parsed(
                intent=Intent.SUMMARY, text=head, status=("signed_off",), since=since, measure="signed_off"
            )
    scan = head[: CUE_WINDOW * 2]
    since = since_in(scan, today, ctx.last_meeting) or Since(
        today - dt.timedelta(days=7), None, "in the last 7 days"
    )
    res = resolver.reports(index_free(scan, actor))
    return Parsed(
        intent=Intent.CHANGES,
        text=head,
        since=since,
        actor=actor,
        report=res.chosen.report if res.chosen else None,
    )


def index_free(text: str, actor: str | None) -> str:
    """``text`` without the actor's name (a name is not a report)."""
    if not actor:
        return text
    return " ".join(w for w in text.split() if w not in set(actor.lower().split()))


def _a_date(text: str, today: dt.date, *, future_ok: bool = False) -> dt.date | None:
    """The one date a write names ("to 30 June 2023", "on 22 September 2022"): the last one written."""
    found = _date_span(text)
    if found is None:
        return None
    period = parse_period(f"on {text[found[0] : found[1]]}", today)
    return period.before if period is not None and period.before is not None else None


def _date_span(text: str) -> tuple[int, int] | None:
    spans = [m.span() for m in _WRITE_DATE.finditer(text[: CUE_WINDOW * 2])]
    return spans[-1] if spans else None


# "child protection rec 3 of 6", "PEEL AFI 4 of 4": an unnumbered item by its place in its report.
_PLACE = re.compile(
    r"\b(?:(?:the\s+)?(?:rec|recs|recommendation|afi|area for improvement|cause of concern|item)s?\s*)?"
    r"(?P<n>\d{1,2})\s+of\s+(?P<m>\d{1,2})\b(?!\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
)
_BOTH = re.compile(r"\b(?:both|them|all of them|those|these|the two|both of them)\b")
SUGGEST_CHARS = 120  # "did you mean": the start of what was said is enough to compare
REQUEST_CHARS = 280  # ~50 words: more than any request says before its note
_TRACKER_REF = re.compile(r"\bref(?:erence)?\s?#?\s?(\d{1,9})\b")


def _item_request(
    intent: Intent, head: str, head_raw: str, evidence: str | None, links: tuple[str, ...], ctx: Context,
    resolver: Resolver, today: dt.date,
) -> Parsed:  # fmt: skip
    """Show, owner and the writes: which item (or items), and (for assign) who gets it."""
    owner, mine, scan = (None, False, head[: CUE_WINDOW * 2])
    target_date = None
    if intent is Intent.ASSIGN:  # the new owner as typed, before any typo correction
        owner, mine, scan = new_owner(clean(head_raw)[: CUE_WINDOW * 2], head_raw, ctx.user_name)
    if intent is Intent.RETARGET:
        target_date = _a_date(scan, today)
        span = _date_span(scan)
        if span is not None:  # the new date is not an item reference ("to 31 March 2027")
            scan = (
                re.sub(r"\b(?:to|until|till|for|back to|out to)\s*$", " ", scan[: span[0]])
                + " "
                + scan[span[1] :]
            )
    base: dict[str, Any] = dict(intent=intent, text=head, owner=owner, mine=mine, links=links,
                                evidence=evidence if intent in EVIDENCE_INTENTS or intent is Intent.RETARGET else None,
                                target_date=target_date)  # fmt: skip
    by_ref = _TRACKER_REF.search(scan)
    if by_ref and (item := resolver.model.items.get(int(by_ref.group(1)))) is not None:
        report = resolver.model.reports.get(item.report_id)  # "ref 18": the label of an unnumbered item
        return Parsed(**base, report=report, item=item, candidates=(Scored(100.0, report, item),))
    placed = _by_place(scan, resolver, kind_hint(scan), base)
    if placed is not None:
        return placed
    if _BOTH.search(scan) and len(ctx.last_items) >= 2 and not _DIGIT.search(scan):
        items = tuple(i for n in ctx.last_items[:MAX_ASK] if (i := resolver.model.items.get(n)) is not None)
        if len(ctx.last_items) == 2 or base["intent"] not in ITEM_WRITES:
            keys = tuple(r.key if (r := resolver.model.reports.get(i.report_id)) else "" for i in items)
            return Parsed(**base, items=items, item_reports=keys)  # "mark both as evidenced"
        return Parsed(**base, candidates=_scored(items, resolver), needs_clarification=True)
    pairs, span = several_named(scan)
    if not pairs:
        numbers, span = several_numbers(scan)
        pairs = tuple(("", n) for n in numbers) if len(numbers) >= 2 else ()
    if pairs and span is not None:
        return _several(pairs, scan[: span[0]] + " " + scan[span[1] :], ctx, resolver, base)
    number, kind, scan = take_item_ref(scan)
    hint = kind or kind_hint(scan)
    base.update(number=number, kind=hint, item_words=describe(scan) if not number else None)
    if (number is None and not ctx.last_item_id and len(ctx.last_items) > 1 and pronoun_in(scan)
            and len([w for w in words_of(scan) if w not in STOPWORDS]) <= 1):  # fmt: skip
        # "reopen that one" after a list: which one? (never a guess on a write)
        items = tuple(i for n in ctx.last_items[:MAX_ASK] if (i := resolver.model.items.get(n)) is not None)
        return Parsed(**base, candidates=_scored(items, resolver), needs_clarification=True)
    back = _referred_back(scan, number, ctx, resolver)
    if back is not None:
        report = resolver.model.reports.get(back.report_id)
        return Parsed(**base, report=report, item=back, candidates=(Scored(100.0, report, back),))
    context = resolver.report_by_key(ctx.last_report_key) if ctx.last_report_key else None
    ref = resolver.refer(scan, number=number, kind=hint, context_report_id=context.id if context else None,
                         strict=intent in ITEM_WRITES)  # fmt: skip
    if ref.report_only:
        return _about_report(intent, ref, hint, resolver, base)
    return Parsed(
        **base, report=ref.report, item=ref.item, candidates=ref.candidates, report_candidates=ref.report_candidates,
        needs_clarification=ref.needs_clarification, not_found=ref.not_found,
    )  # fmt: skip


_DIGIT = re.compile(r"\d")


def _scored(items: tuple[ItemView, ...], resolver: Resolver) -> tuple[Scored, ...]:
    return tuple(Scored(100.0, resolver.model.reports.get(i.report_id), i) for i in items)


def _by_place(scan: str, resolver: Resolver, kind: str | None, base: dict[str, Any]) -> Parsed | None:
    """ "rec 3 of 6": the report named, then its n-th item of that kind, when it has m of them."""
    places = list(_PLACE.finditer(scan))
    if not places:
        return None
    rest = _PLACE.sub(" ", scan)
    ref = resolver.refer(rest, kind=kind)
    report = ref.report or (resolver.model.reports.get(ref.item.report_id) if ref.item else None)
    if report is None:
        return None
    found: list[ItemView] = []
    for m in places:
        n, of = int(m.group("n")), int(m.group("m"))
        pool = sorted(resolver.index.report_items(report.id, kind), key=lambda i: i.id)  # printed order
        if len(pool) != of:
            pool = sorted(resolver.index.report_items(report.id), key=lambda i: i.id)
        if len(pool) != of or not 1 <= n <= of:
            return Parsed(**base, report=report, not_found=True)
        found.append(pool[n - 1])
    if len(found) == 1:
        return Parsed(**base, report=report, item=found[0], candidates=(Scored(100.0, report, found[0]),))
    return Parsed(
        **base, report=report, items=tuple(dict.fromkeys(found)), item_reports=(report.key,) * len(found)
    )


def _referred_back(scan: str, number: str | None, ctx: Context, resolver: Resolver) -> ItemView | None:
    """ "it", "that one": the last item; "the second one": from the last list or choice."""
    if number is not None:
        return None
    items = resolver.model.items
    n = ordinal_in(scan)
    if n is not None and ctx.last_items:
        index = n - 1 if n > 0 else len(ctx.last_items) - 1
        if 0 <= index < len(ctx.last_items):
            return items.get(ctx.last_items[index])
    rest = [w for w in words_of(scan) if w not in STOPWORDS]
    if ctx.last_item_id and pronoun_in(scan) and len(rest) <= 1:
        return items.get(ctx.last_item_id)
    return None


def _several(
    pairs: tuple[tuple[str, str], ...], scan: str, ctx: Context, resolver: Resolver, base: dict[str, Any]
) -> Parsed:
    """Several items in one message: each resolved on its own (with its own words, else the words
    around the list, else the report of the one before); any that is unclear means we ask."""
    context = resolver.report_by_key(ctx.last_report_key) if ctx.last_report_key else None
    kind = kind_hint(scan)
    found: list[ItemView] = []
    unclear: list[Reference] = []
    missing: list[str] = []
    numbers = tuple(n for _, n in pairs)
    previous = context.id if context else None
    for words, number in pairs:
        ref = resolver.refer(f"{words} {scan}", number=number, kind=kind_hint(words) or kind,
                             context_report_id=previous, strict=base["intent"] in ITEM_WRITES)  # fmt: skip
        if ref.item is not None:
            found.append(ref.item)
            previous = ref.item.report_id  # "vawg 1 and 2": the second is in the first one's report
        elif ref.needs_clarification:
            unclear.append(ref)
        else:
            missing.append(number)
    reports = {i.report_id for i in found}
    report = resolver.model.reports.get(next(iter(reports))) if len(reports) == 1 else None
    found = list(dict.fromkeys(found))
    keys = tuple(r.key if (r := resolver.model.reports.get(i.report_id)) else "" for i in found)
    base = {**base, "number": numbers[0], "kind": kind, "item_reports": keys}
    if unclear or missing:
        candidates = tuple(c for ref in unclear for c in ref.candidates)[:MAX_ASK]
        return Parsed(**base, report=report, items=tuple(found), candidates=candidates,
                      needs_clarification=bool(unclear), not_found=bool(missing) and not unclear)  # fmt: skip
    return Parsed(**base, report=report, items=tuple(found))


def _about_report(
    intent: Intent, ref: Reference, kind: str | None, resolver: Resolver, base: dict[str, Any]
) -> Parsed:
    """The words name a report but no item in it: show and "who owns" list it; a write asks which item."""
    reports = (ref.report,) if ref.report else ref.report_candidates
    items = [(r, i) for r in reports for i in resolver.index.report_items(r.id, kind)]
    if len(items) == 1:
        report, item = items[0]
        return Parsed(**base, report=report, item=item, candidates=(Scored(100.0, report, item),))
    if ref.report is not None and (
        intent is Intent.SHOW or (intent is Intent.OWNER and _PLURAL.search(base["text"]))
    ):
        return Parsed(
            **base, report=ref.report
        )  # "who owns the child protection ones?": the list, with owners
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


__all__ = ["URL", "Context", "Parsed", "classify", "cut", "suggest", "understand"]
