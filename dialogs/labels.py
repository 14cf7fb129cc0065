"""Names people can tell apart: a report's short name and an item's label.

A label is read in lists, choices, confirmations, the digest and every text fallback, so it has to
say which item it is without the card around it: "Vetting, misconduct and misogyny (2022) rec 34";
an unnumbered item adds a few words of its own text ("Integrity matters AFI – gifts and hospitality
registers"), because "AFI (unnumbered)" six times over tells nobody anything.

Report names come from the title as people say it (the inspectorate's boilerplate dropped: "An
inspection of ...", "... in the police service"), with the year, since forces carry several
reports on one subject; PEEL reports are named by their years.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dialogs.language.text import SPELLED_IN_CAPITALS
from storage.views import ItemView, ReportView

KIND_LABEL = {"recommendation": "Rec", "afi": "AFI", "cause_of_concern": "Cause of concern"}
KIND_LONG = {
    "recommendation": "recommendation",
    "afi": "area for improvement",
    "cause_of_concern": "cause of concern",
}
GIST_WORDS = 7
NAME_WORDS = 9

# Segments of a title that name the kind of inspection, not its subject.
_GENERIC = re.compile(
    r"^(?:an? |the )?(?:(?:joint |thematic |national |interim |inspection |spotlight )*"
    r"(?:inspection|review|report|revisit|inspection report)s?)(?: (?:of|into|on)\b.*)?$",
    re.IGNORECASE,
)
_LEAD = re.compile(
    r"^(?:(?:an?|the)\s+)?(?:(?:joint|thematic|national|interim)\s+)*"
    r"(?:inspection|review|revisit|report)s?(?:\s*:)?\s+(?:(?:of|into|on)\s+)?(?:(?:how|the)\s+(?=\w+\s))?",
    re.IGNORECASE,
)
_TAIL = re.compile(
    r"\s+(?:in|across|by)\s+(?:the\s+)?(?:police\s+service|police\s+forces?|policing|england\s+and\s+wales)\b.*$"
    r"|\s+report$",
    re.IGNORECASE,
)
_SEGMENTS = re.compile(r"\s+[–—-]\s+")
_YEAR = re.compile(r"\b((?:19|20)\d\d)(?:\s*[/-]\s*(\d{2,4}))?\b")
_PEEL_FORCE = re.compile(r"inspection of ([A-Z][\w&' ]{2,60}?(?:Police|Constabulary|Service))\b")
_QUOTES = str.maketrans("", "", "'‘’\"“”")

# What an unnumbered item's text begins with before it says what it is about.
_PREAMBLE = re.compile(
    r"^(?:to address (?:this|the) cause of concern,?\s*(?:we|hmic(?:frs)?)\s+recommends?\s+that:?\s*"
    r"|hmic(?:frs)?\s+(?:found|finds|is concerned|has concerns?)\s+that\s+)",
    re.IGNORECASE,
)
_BY_DATE = re.compile(
    r"^(?:by\s+[^,]{3,40}|(?:within|in)\s+(?:the\s+next\s+)?\w+\s+(?:months?|weeks?|years?)|immediately),?:?\s*",
    re.IGNORECASE,
)
_WHO_SHOULD = re.compile(r"^[^.;:•]{0,90}?\b(?:should|must|needs? to|ought to)\b,?\s*", re.IGNORECASE)
_OPENERS = re.compile(
    r"^(?:(?:make sure|ensure|take steps to|put in place arrangements to ensure)(?:\s+that)?\s*:?\s*)",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"^(?:text (?:not )?given|not given|see the (?:published )?report|tbc|n/?a)\b", re.IGNORECASE
)
_STOP_END = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "that",
        "its",
        "their",
        "is",
        "are",
        "be",
        "as",
        "from",
    ]
)
_WORD = re.compile(r"[\w'’/&-]+")


def report_name(report: ReportView) -> str:
    """The name people use for a report: "Vetting, misconduct and misogyny (2022)", "PEEL 2021/22"."""
    year = report.published.year if report.published else None
    return _report_name(report.title, report.key, report.report_type, year, report.aliases)


@lru_cache(maxsize=4096)
def _report_name(title: str, key: str, report_type: str, year: int | None, aliases: tuple[str, ...]) -> str:
    title = " ".join((title or "").split())
    if report_type == "peel" or (title.upper().startswith("PEEL ") and "spotlight" not in title.lower()):
        return _peel_name(title, key)
    name = _subject(title) if title else ""
    if not name:
        name = (
            aliases[0]
            if aliases
            else " ".join(w.upper() if w in SPELLED_IN_CAPITALS else w for w in key.split("-"))
        )
    # The year its title's own first part gives ("inspection 2016/17"), else the year it was
    # published, else any year in its title or key ("... the pandemic 2021").
    first = _YEAR.search(_SEGMENTS.split(title, maxsplit=1)[0])
    found = first or (None if year else (_YEAR.search(title) or _YEAR.search(key)))
    when = found.group(0).replace(" ", "") if found else str(year) if year else ""
    if when and when not in name:
        name = f"{name} ({when})"
    return name[:1].upper() + name[1:]


def _peel_name(title: str, key: str) -> str:
    found = _YEAR.search(title) or _YEAR.search(key.replace("-", " "))
    years = ""
    if found:
        start, end = found.group(1), found.group(2)
        years = f"{start}/{end[-2:]}" if end else start
    force = _PEEL_FORCE.search(title)
    pillars = [p for p in ("effectiveness", "efficiency", "legitimacy") if p in title.lower()]
    pillar = f" {pillars[0]}" if len(pillars) == 1 else ""  # "PEEL: Police legitimacy 2016"
    name = f"PEEL{pillar} {years}".strip()
    return f"{name} ({force.group(1)})" if force and _says_force(key) else name


def _says_force(key: str) -> bool:
    # The force is part of the name only when the tracker's own key says so (a regional tracker
    # holding several forces' PEEL reports), not for a force's own reports.
    return key.count("-") >= 2 and not key.rsplit("-", 1)[-1].isdigit() and len(key.rsplit("-", 1)[-1]) > 4


def _subject(title: str) -> str:
    segments = [s.strip() for s in _SEGMENTS.split(title) if s.strip()]
    kept: list[str] = []
    for seg in segments:
        seg = _YEAR.sub("", seg).strip(" ,:")
        seg = _LEAD.sub("", seg)
        seg = _TAIL.sub("", seg).strip(" ,:")
        if not seg or _GENERIC.match(seg):
            continue
        kept.append(seg)
        # A short first segment ("Roads Policing", "PEEL Spotlight") reads better with the next one.
        if len(kept[0].split()) > 2 or len(kept) == 2:
            break
    name = " – ".join(kept).translate(_QUOTES)
    name = re.sub(r",\s+(and|or)\b", r" \1", name)  # "vetting, misconduct, and misogyny"
    words = name.split()
    if len(words) > NAME_WORDS:
        name = " ".join(kept[0].split()[:NAME_WORDS]).translate(_QUOTES)
    return name.strip(" ,:–")


def gist(text: str | None, words: int = GIST_WORDS) -> str | None:
    """A few words saying what an item is about, from its own text (None when it has none)."""
    said = " ".join((text or "").split())
    if not said or _PLACEHOLDER.match(said):
        return None
    said = _PREAMBLE.sub("", said, count=1)
    for _ in range(2):  # "By 31 March 2023, chief constables should, within three months: ..."
        said = _BY_DATE.sub("", said, count=1)
        said = _WHO_SHOULD.sub("", said, count=1)
        said = _BY_DATE.sub("", said.lstrip(" •:-"), count=1)
    said = _OPENERS.sub("", said.lstrip(" •:-"), count=1)
    said = re.sub(r"\([^)]{0,40}\)", "", said)
    picked = _WORD.findall(said)[:words]
    while picked and picked[-1].lower() in _STOP_END:
        picked.pop()
    if len(picked) < 2:
        return None
    out = " ".join(picked)
    return out[:1].lower() + out[1:] if not out[:2].isupper() else out


def item_label(item: ItemView, report: ReportView | None, *, short: bool = True) -> str:
    """ "Vetting, misconduct and misogyny (2022) rec 34"; unnumbered: "... AFI – gifts and hospitality registers"."""
    name = report_name(report) if report else "?"
    kind = KIND_LABEL.get(item.kind, item.kind) if short else KIND_LONG.get(item.kind, item.kind)
    kind = kind.lower() if short and item.kind == "recommendation" else kind
    if item.number:
        return f"{name} {kind} {item.number}"
    about = gist(item.text)
    if about:
        return f"{name} {kind} – {about}"
    return f"{name} {kind} (unnumbered, ref {item.id})"
