"""What a message mentions besides reports and items: statuses, kinds, addressees, PEEL questions,
"since" dates, references back ("it", "the second one") and several numbers at once. Pure.

Every pattern here is anchored at a word, bounded in length, or matched token by token, so the
cost grows linearly with the message (a test feeds each one thousands of repeats of its keywords).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from dialogs.language.dates import parse_period
from dialogs.language.numbers import MONTH_NUMBERS, add_months, month_end, number_value

# ---- statuses -------------------------------------------------------------------------------------

# Phrases people use for each status (normalised text), longest first when compiled.
STATUS_WORDS: Final[Mapping[str, str]] = MappingProxyType({
    "awaiting sign off": "evidenced", "awaiting sign-off": "evidenced", "awaiting signoff": "evidenced",
    "waiting for sign off": "evidenced", "waiting on hmicfrs": "evidenced", "waiting for hmicfrs": "evidenced",
    "with hmicfrs": "evidenced", "with the inspectorate": "evidenced", "ready for sign off": "evidenced",
    "submitted to hmicfrs": "evidenced", "evidenced": "evidenced", "evidence submitted": "evidenced",
    "signed off": "signed_off", "signed-off": "signed_off", "signoff": "signed_off", "sign off": "signed_off",
    "closed": "signed_off", "completed": "signed_off", "complete": "signed_off", "discharged": "signed_off",
    "in progress": "in_progress", "in hand": "in_progress", "being progressed": "in_progress", "underway": "in_progress",
    "under way": "in_progress", "started": "in_progress", "not started": "open", "not yet started": "open",
    "untouched": "open", "not for us": "not_for_us", "not ours": "not_for_us", "for other bodies": "not_for_us",
    "superseded": "superseded",
})  # fmt: skip
_STATUS = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(STATUS_WORDS, key=len, reverse=True)) + r")\b"
)
# "waiting for HMICFRS to sign off": the words between are free; bounded so the search stays linear.
_WAITING = re.compile(
    r"\b(?:wait(?:ing)?|awaiting|pending)\b[^.?!]{0,40}\b(?:hmicfrs|hmic|inspectorate|sign(?:ed)?[ -]?off)\b"
)


def statuses_in(text: str) -> tuple[str, ...]:
    """The statuses a message filters on, in the order it names them (normalised text)."""
    waiting = _WAITING.search(text)
    found = [STATUS_WORDS[m.group(0)] for m in _STATUS.finditer(text)
             if not (waiting and waiting.start() <= m.start() < waiting.end())]  # fmt: skip
    if waiting:
        found.append("evidenced")  # "waiting for HMICFRS to sign off" is evidenced, not signed off
    return tuple(dict.fromkeys(found))


# ---- addressees -------------------------------------------------------------------------------------

_OTHER_BODIES: Final = {
    "npcc": "NPCC", "national police chiefs council": "NPCC", "iopc": "IOPC",
    "independent office for police conduct": "IOPC", "college of policing": "College of Policing",
    "the college": "College of Policing", "home office": "Home Office", "government": "Government",
    "cps": "CPS", "crown prosecution service": "CPS", "pccs": "PCCs", "police and crime commissioners": "PCCs",
}  # fmt: skip
_BODY = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(_OTHER_BODIES, key=len, reverse=True)) + r")\b"
)
_OTHER = re.compile(
    r"\b(?:other bod(?:y|ies)|other agenc(?:y|ies)|other organisations|not for us|not ours|national bodies)\b"
)
_FOR_US = re.compile(
    r"\b(?:for us|for the force|for wmp|for the police|addressed to (?:us|the force|forces|chief constables))\b"
)


@dataclass(frozen=True)
class Addressee:
    """Who items are for: the force ("force"), other bodies ("other"), or one named body."""

    side: str  # force | other | both
    body: str | None = None  # "IOPC", "NPCC", ... when one is named


def addressee_in(text: str) -> Addressee | None:
    body = _BODY.search(text)
    other = _OTHER.search(text) or body
    us = _FOR_US.search(text)
    if us and other:
        return Addressee("both")
    if other:
        return Addressee("other", _OTHER_BODIES[body.group(0)] if body else None)
    if us:
        return Addressee("force")
    return None


# ---- kinds ----------------------------------------------------------------------------------------

_KIND_LIST = re.compile(
    r"\b(?:(afis|afi|areas? (?:for|of) improvement)|(causes? (?:for|of) concern|cocs?)|(recs|recommendations))\b"
)


def list_kind(text: str) -> str | None:
    """The kind a list is restricted to ("open AFIs", "causes of concern", "recs")."""
    m = _KIND_LIST.search(text)
    return None if not m else "afi" if m.group(1) else "cause_of_concern" if m.group(2) else "recommendation"


# ---- PEEL questions (the nine of the 2023 framework, in the paper's order) --------------------------

PEEL_QUESTIONS: Final = (
    "How good is the force's service for victims of crime?",
    "How good is the force at treating the public fairly, appropriately, and respectfully?",
    "How good is the force at preventing and deterring crime, antisocial behaviour (ASB) and vulnerability?",
    "How good is the force at responding to the public?",
    "How good is the force at investigating crime?",
    "How good is the force at protecting vulnerable people?",
    "How good is the force at managing offenders and suspects?",
    "How good is the force at building, developing, and looking after its workforce and encouraging an ethical, "
    "lawful and inclusive workplace?",
    "How good is the force at planning and managing its organisation efficiently, making sure it achieves value "
    "for money both now and in the future?",
)
# Stems that say which question an item or a message is about (normalised, stemmed words).
PEEL_CUES: Final[tuple[frozenset[str], ...]] = (
    frozenset({"victim", "victims", "crime recording", "recording", "cdi", "ethical crime recording"}),
    frozenset(
        {
            "fairly",
            "fair",
            "respectfully",
            "legitimacy",
            "stop",
            "search",
            "force",
            "disproportionality",
            "complaint",
            "complaints",
            "public treatment",
        }
    ),
    frozenset(
        {"preventing", "prevention", "deterring", "asb", "antisocial", "problem solving", "neighbourhood"}
    ),
    frozenset({"responding", "response", "calls", "call", "101", "999", "attendance", "handling"}),
    frozenset({"investigating", "investigation", "investigations", "investigate", "detection", "outcomes"}),
    frozenset(
        {
            "vulnerable",
            "vulnerability",
            "safeguarding",
            "domestic",
            "child",
            "children",
            "missing",
            "protect",
            "protecting",
            "exploitation",
            "mental",
        }
    ),
    frozenset(
        {"offenders", "offender", "suspects", "suspect", "sex offenders", "mosovo", "iom", "bail", "wanted"}
    ),
    frozenset(
        {
            "workforce",
            "wellbeing",
            "recruitment",
            "retention",
            "vetting",
            "ethical",
            "inclusive",
            "culture",
            "training",
            "supervision",
            "leadership",
            "performance",
        }
    ),
    frozenset(
        {
            "efficiently",
            "efficiency",
            "value for money",
            "planning",
            "finance",
            "demand",
            "resources",
            "estate",
            "ict",
            "productivity",
        }
    ),
)
QUESTION_REF = re.compile(r"\b(?:peel )?question (?:number |no\.? )?(?P<n>[1-9])\b|\bq(?P<q>[1-9]) of peel\b")


def peel_question_of(words: set[str]) -> int | None:
    """The PEEL question (1-9) whose cues these words share most (None when none)."""
    best, score = None, 0
    for n, cues in enumerate(PEEL_CUES, start=1):
        hits = len(words & cues)
        if hits > score:
            best, score = n, hits
    return best


def peel_question_in(text: str, words: set[str]) -> int | None:
    """A PEEL question a message names: "question 6", or its theme in a message about PEEL."""
    m = QUESTION_REF.search(text)
    if m:
        return int(m.group("n") or m.group("q"))
    if "peel" not in words and "question" not in words:
        return None
    return peel_question_of(words - {"peel", "question"})


# ---- since / within a past period -----------------------------------------------------------------

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SINCE = re.compile(
    r"\b(?:since|from|after)\s+(?:the\s+)?(?:(?P<last>last|previous|latest)\s+)?"
    r"(?P<what>jac|audit committee|committee|meeting|board|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last week|start of (?:the )?(?:week|month|year)|"
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>[a-z]{3,9})(?:\s+(?P<y1>\d{4}))?|(?P<m2>[a-z]{3,9})(?:\s+(?P<y2>\d{4}))?)\b"
)
_THIS = re.compile(r"\b(?P<which>this|last|past|previous)\s+(?P<unit>week|month|fortnight|quarter|year)\b")
_LAST_N = re.compile(
    r"\b(?:in|over|during|within)\s+the\s+(?:last|past|previous)\s+(?P<n>\d{1,3}|[a-z]+(?:[ -][a-z]+)?)\s+"
    r"(?P<unit>days?|weeks?|months?|years?)\b"
)
_TODAY_WORDS = re.compile(r"\b(?:today|so far today)\b")
_IN_MONTH = re.compile(
    r"\b(?:in|during|for|over)\s+(?P<m>january|february|march|april|may|june|july|august|september|october|"
    r"november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)(?:\s+(?P<y>\d{4}))?\b"
)


@dataclass(frozen=True)
class Since:
    """A period in the past that a question asks about: ``start`` to ``end`` (inclusive), and how it was said."""

    start: dt.date
    end: dt.date | None
    label: str
    committee: bool = False  # "since the last JAC"


def since_in(text: str, today: dt.date, last_meeting: dt.date | None) -> Since | None:
    """ "since Monday", "this week", "in the last 3 months", "in November", "since the last JAC"."""
    m = _SINCE.search(text)
    if m:
        what = m.group("what")
        if what in ("jac", "audit committee", "committee", "meeting", "board"):
            if last_meeting is None:
                return Since(today, None, "since the last JAC (no meeting recorded)", committee=True)
            return Since(
                last_meeting + dt.timedelta(days=1), None, f"since the JAC on {last_meeting:%-d %B %Y}", True
            )
        if what in _DAYS:
            back = (today.weekday() - _DAYS.index(what)) % 7 or 7 if what != _DAYS[today.weekday()] else 0
            return Since(today - dt.timedelta(days=back), None, f"since {what.capitalize()}")
        if what == "yesterday":
            return Since(today - dt.timedelta(days=1), None, "since yesterday")
        if what == "last week":
            start = today - dt.timedelta(days=today.weekday() + 7)
            return Since(start, None, "since last week")
        if what and what.startswith("start of"):
            unit = what.rsplit(" ", 1)[-1]
            start = {"week": today - dt.timedelta(days=today.weekday()), "month": today.replace(day=1),
                     "year": today.replace(month=1, day=1)}[unit]  # fmt: skip
            return Since(start, None, f"since the start of the {unit}")
        month = MONTH_NUMBERS.get(m.group("m1") or m.group("m2") or "")
        if month:
            year_text = m.group("y1") or m.group("y2")
            day = int(m.group("d")) if m.group("d") else 1
            year = (
                int(year_text)
                if year_text
                else (today.year if (month, day) <= (today.month, today.day) else today.year - 1)
            )
            try:
                start = dt.date(year, month, day)
            except ValueError:
                return None
            return Since(start, None, f"since {start:%-d %B %Y}")
    m = _LAST_N.search(text)
    if m:
        n = number_value(m.group("n")) if not m.group("n").isdigit() else int(m.group("n"))
        if n:
            unit = m.group("unit").rstrip("s")
            start = (add_months(today, -n) if unit == "month" else add_months(today, -12 * n) if unit == "year"
                     else today - dt.timedelta(days=n * (7 if unit == "week" else 1)))  # fmt: skip
            return Since(start, None, f"in the last {n} {unit}{'s' if n != 1 else ''}")
    m = _THIS.search(text)
    if m:
        which, unit = m.group("which"), m.group("unit")
        if unit == "fortnight":
            return Since(today - dt.timedelta(days=14), None, "in the last fortnight")
        if which == "this":
            start = {"week": today - dt.timedelta(days=today.weekday()), "month": today.replace(day=1),
                     "quarter": dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1),
                     "year": today.replace(month=1, day=1)}[unit]  # fmt: skip
            return Since(start, None, f"this {unit}")
        if which == "past":
            days = {"week": 7, "month": 30, "quarter": 91, "year": 365}[unit]
            return Since(today - dt.timedelta(days=days), None, f"in the past {unit}")
        if unit == "week":
            start = today - dt.timedelta(days=today.weekday() + 7)
            return Since(start, start + dt.timedelta(days=6), "last week")
        if unit == "month":
            first = add_months(today.replace(day=1), -1)
            return Since(first, month_end(first.year, first.month), f"in {first:%B %Y}")
        if unit == "year":
            return Since(
                dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), f"in {today.year - 1}"
            )
        first = add_months(dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), -3)
        return Since(first, month_end(first.year, first.month + 2), "last quarter")
    m = _IN_MONTH.search(text)
    if m:
        month = MONTH_NUMBERS[m.group("m")]
        year = int(m.group("y")) if m.group("y") else (today.year if month <= today.month else today.year - 1)
        return Since(dt.date(year, month, 1), month_end(year, month), f"in {dt.date(year, month, 1):%B %Y}")
    if _TODAY_WORDS.search(text):
        return Since(today, today, "today")
    return None


def due_period(text: str, today: dt.date) -> object:
    """Re-exported for callers that read due dates and "since" dates from one module."""
    return parse_period(text, today)


# ---- references back, and several numbers ------------------------------------------------------------

_IT = re.compile(
    r"\b(?:it|its|that one|that ones|this one|that item|this item|that rec|this rec|the same one|same one|that)\b"
)
_ORDINAL = re.compile(
    r"\b(?:the\s+)?(?P<o>first|second|third|fourth|fifth|sixth|seventh|eighth|1st|2nd|3rd|4th|5th|6th|7th|8th|last)"
    r"\s+(?:one|item|rec|recommendation|afi)\b"
)
ORDINALS: Final = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                   "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "last": -1}  # fmt: skip
_NUM = r"\d{1,3}(?:\.\d{1,2}){0,2}[a-z]?"
_KINDS = r"(?:rec(?:ommendation)?s?|afis?|areas? (?:for|of) improvement|causes? (?:for|of) concern|cocs?|items?|numbers?|nos?\.?|#)"
# "33 and 34", "33, 34 and 35", "recs 33 & 34", "rec 33 and rec 34", "33-35" (a range, at most 10 items)
_SEVERAL = re.compile(
    rf"(?:\b{_KINDS}\s*)?#?(?P<first>{_NUM})(?P<rest>(?:\s*(?:,|&|\band\b|\bor\b|\bplus\b)\s*(?:{_KINDS}\s*)?#?{_NUM}){{1,9}})\b"
)
# "vawg 1 and vawg 2", "vetting 34 and fraud 1": a few words (a report's) before each number.
_WORDS = r"(?:[a-z][a-z'&-]*\s+){0,3}"
_SEVERAL_NAMED = re.compile(
    rf"(?P<first>{_NUM})(?P<rest>(?:\s*(?:,|&|\band\b|\bplus\b)\s*(?!and\b){_WORDS}(?:{_KINDS}\s*)?#?{_NUM}\b){{1,9}})"
)
_SEGMENT = re.compile(rf"(?P<words>{_WORDS})(?:{_KINDS}\s*)?#?(?P<n>{_NUM})\b")
_SEPARATOR = re.compile(r"\s*(?:,|&|\band\b|\bplus\b)\s*")
_RANGE = re.compile(rf"\b{_KINDS}\s*(?P<a>\d{{1,3}})\s*(?:-|–|to)\s*(?P<b>\d{{1,3}})\b")
_EACH = re.compile(_NUM)


def pronoun_in(text: str) -> bool:
    """Does the message point back at the item last talked about ("mark it as evidenced")?"""
    return _IT.search(text) is not None


def ordinal_in(text: str) -> int | None:
    """ "the second one" -> 2 ("the last one" -> -1), None when the message has no such phrase."""
    m = _ORDINAL.search(text)
    return ORDINALS[m.group("o")] if m else None


def several_numbers(text: str) -> tuple[tuple[str, ...], tuple[int, int] | None]:
    """(the item numbers a message lists, the span they take) when it names two or more."""
    m = _RANGE.search(text)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        if 0 < b - a < 10:
            return tuple(str(n) for n in range(a, b + 1)), m.span()
    m = _SEVERAL.search(text)
    if not m:
        return (), None
    numbers = [m.group("first"), *_EACH.findall(m.group("rest"))]
    numbers = [n for n in numbers if not _looks_like_a_year(n)]
    return (tuple(dict.fromkeys(numbers)), m.span()) if len(set(numbers)) >= 2 else ((), None)


def several_named(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[int, int] | None]:
    """((words, number), ...) and their span when a message names several items each with its own
    words ("vawg 1 and fraud 1"); words are "" where a number stands alone ("33 and 34")."""
    m = _SEVERAL_NAMED.search(text)
    if not m:
        return (), None
    start = m.start()
    lead = re.search(rf"{_WORDS}(?:{_KINDS}\s*)?#?$", text[:start])  # the words before the first number
    pairs = [((lead.group(0) if lead else "").strip(), m.group("first"))]
    for part in _SEPARATOR.split(m.group("rest")):
        seg = _SEGMENT.fullmatch(part.strip())
        if seg:
            pairs.append((seg.group("words").strip(), seg.group("n")))
    pairs = [(w, n) for w, n in pairs if not _looks_like_a_year(n)]
    if len(pairs) < 2 or len(set(pairs)) < 2:
        return (), None
    return tuple(dict.fromkeys(pairs)), (start - (len(lead.group(0)) if lead else 0), m.end())


def _looks_like_a_year(number: str) -> bool:
    return len(number) == 4 and number.isdigit()
