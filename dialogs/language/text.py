"""Text normalisation and the vocabulary every part of understanding shares (pure).

One place for: folding and normalising text, the tiny stemmer, stop words, the glossary of acronyms
(the only one: card labels use it too), people's ranks, politeness that carries no request, and the
one typo corrector (:func:`correct`), used both for the words requests are phrased in and for the
words of the tracker itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from types import MappingProxyType

from rapidfuzz import process
from rapidfuzz.distance import OSA

MAX_TEXT = 4000  # longer messages are understood from their first 4,000 characters

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
        "wmp": "west midlands police",
    }
)
# Shown in capitals in names made from report keys ("vawg-interim" -> "VAWG interim"): every
# acronym above, and the inspectorate's own, which is a stop word rather than a glossary entry.
SPELLED_IN_CAPITALS = frozenset(GLOSSARY) | {"hmicfrs", "hmic"}

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


def fold(text: str) -> str:
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
    text = fold(text).lower()
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


def correctable(word: str) -> bool:
    """Long enough, and a plain word, for a one- or two-letter slip to be told from another word."""
    return len(word) >= 5 and word.isalpha()


STOPWORDS = frozenset(_STOP_RAW) | frozenset(stem(w) for w in _STOP_RAW)
# A slip in a word that does not matter ("reccomendation") should become that word, not noise.
STOP_SURFACE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        c: tuple(sorted(w for w in _STOP_RAW if w[0] == c and correctable(w)))
        for c in {w[0] for w in _STOP_RAW}
    }
)


def surface_words(text: str) -> list[str]:
    """Normalised words of ``text`` as written (not stemmed)."""
    return _TOKEN.findall(normalise(text))


def words_of(text: str) -> list[str]:
    """Normalised, stemmed words of ``text`` (stop words included; "&" on its own is "and")."""
    return [stem(w) if w != "&" else "and" for w in surface_words(text)]


def content(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(w for w in words if w not in STOPWORDS)


# Each acronym's expansion as content words ("s&s" -> ("stop", "search")), longest first.
_EXPANSIONS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    sorted(((a, content(words_of(p))) for a, p in GLOSSARY.items()), key=lambda e: -len(e[1]))
)

_EXPANSIONS_BY_FIRST: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
for _acronym, _phrase in _EXPANSIONS:  # already longest first
    if _phrase:
        _EXPANSIONS_BY_FIRST[_phrase[0]] = (*_EXPANSIONS_BY_FIRST.get(_phrase[0], ()), (_acronym, _phrase))


def acronyms_in(text: str) -> list[str]:
    """Glossary acronyms whose expansion appears in ``text`` (so "VAWG" finds the VAWG report)."""
    return acronyms(content(words_of(text)))


def acronyms(words: tuple[str, ...]) -> list[str]:
    present = set(words)
    found = [(a, phrase) for a, phrase in _EXPANSIONS if phrase and phrase[0] in present]
    if not found:
        return []
    seq = f" {' '.join(words)} "
    return [a for a, phrase in found if f" {' '.join(phrase)} " in seq]


def tokens(text: str) -> list[str]:
    """Index words of a document: its content words plus the acronyms of any expansions in it."""
    words = content(words_of(text))
    return [*words, *acronyms(words)]


def contract(words: Iterable[str]) -> list[str]:
    """Query words with each full expansion replaced by its acronym (one concept, one word).

    One pass, looking up only the expansions that start with each word (longest first): linear in
    the message, not words x glossary."""
    seq = list(words)
    out: list[str] = []
    i = 0
    while i < len(seq):
        for acronym, phrase in _EXPANSIONS_BY_FIRST.get(seq[i], ()):
            n = len(phrase)
            if tuple(seq[i : i + n]) == phrase:
                out.append(acronym)
                i += n
                break
        else:
            out.append(seq[i])
            i += 1
    return out


# Ranks, titles and roles in owner names: not part of who someone is.
RANKS = frozenset((
    "pc", "ps", "dc", "ds", "di", "dci", "dsu", "det", "detective", "insp", "inspector", "ch", "chief", "supt",
    "superintendent", "sgt", "sergeant", "acc", "dcc", "cc", "mr", "mrs", "ms", "miss", "dr", "constable",
    "police", "staff"
))  # fmt: skip
PARENS = re.compile(r"\([^)]*\)")


# ---- the one typo corrector --------------------------------------------------------------------


def correct(word: str, pool: Collection[str], known: Callable[[str], bool] = lambda _w: False) -> str:
    """``word`` with a slip fixed against ``pool`` (words sharing its first letter), else unchanged.

    One slip in a short word, two in a long one (8+ letters); only plain words of 5+ letters, since a
    slip in a shorter one cannot be told from another word; a word we know is never "corrected", and
    the first letter must agree: people slip inside words far more often than at the start.
    """
    if not correctable(word) or word in pool or known(word):
        return word
    hit = process.extractOne(word, pool, scorer=OSA.distance, score_cutoff=1 if len(word) < 8 else 2)
    return hit[0] if hit else word


def by_initial(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Words grouped by first letter (the corrector's pools), sorted for stable answers."""
    out: dict[str, set[str]] = {}
    for w in words:
        if w:
            out.setdefault(w[0], set()).add(w)
    return {c: tuple(sorted(ws)) for c, ws in out.items()}


# ---- politeness and markup -------------------------------------------------------------------------

MARKUP = re.compile(r"<at[^>]*>.*?</at>|<[^>]{1,200}>", re.IGNORECASE | re.DOTALL)
_POLITE_HEAD = re.compile(
    r"^(?:@[\w.-]+[ ,:]*|tracker[ ,:]+|(?:hi|hey|hello|ok|okay|so|right)\b[ ,!]+(?=\S)|(?:please|pls|plz|kindly|can you|could you|would you|will you|can i|could i|can we|could we|i'd like to|i want to|i need to|let's|lets)\b[ ,]*)+"
)
_POLITE_TAIL = re.compile(r"(?:^|[ ,]+)(?:please|pls|thanks|thank you|ta|cheers)[ !.]*$")
_POLITE_PASSES = 3  # "please, thanks, cheers": a few layers, never one pass per word of a long message
_TAIL_CHARS = 40
MENTION_HEAD = re.compile(r"^(?:@[\w.-]+[ ,:]*)+")


def clean(text: str) -> str:
    """Normalise and drop politeness, so the request itself is what is read."""
    t = normalise(MARKUP.sub(" ", text[:MAX_TEXT]))
    if not t.isprintable():  # the usual message is: skip the character-by-character pass
        t = "".join(ch if ch.isprintable() else " " for ch in t)
    t = t.strip(" ,.!")
    for _ in range(_POLITE_PASSES):
        prev = t
        t = _POLITE_HEAD.sub("", t, count=1).strip()
        # Only the end can be a polite tail: look at it alone, so a long message costs one pass.
        head, tail = t[:-_TAIL_CHARS], t[-_TAIL_CHARS:]
        t = (
            (head + _POLITE_TAIL.sub("", tail)).strip()
            if len(t) > _TAIL_CHARS
            else _POLITE_TAIL.sub("", t).strip()
        )
        if t == prev:
            break
    t = " ".join(t.split())
    # "due due due ...", "by the end by the end ...": a run of the same words says it once.
    return _REPEATS.sub(r"\1", t + " ").strip() if len(t) > _REPEAT_FLOOR else t


_REPEATS = re.compile(r"\b((?:\S+ ){1,3}?)\1+")
_REPEAT_FLOOR = 60  # short messages ("no no", "33 33") are read as typed


# ---- people ---------------------------------------------------------------------------------------

_NAME_PARTS = re.compile(r"[a-z]+")
_OWNER_TAIL = re.compile(r"\s*[(),].*$|\s+[-\u2013\u2014]\s+.*$")


def name_words(name: str) -> list[str]:
    """The words of a person's name without ranks, collar numbers or their department."""
    core = _OWNER_TAIL.sub("", fold(name)).lower()
    return [w for w in _NAME_PARTS.findall(core) if w not in RANKS]


def same_person(a: str | None, b: str | None) -> bool:
    """Do two ways of writing a name mean one person? "DI Naomi Clarke" = "Naomi Clarke (PPU)" =
    "N. Clarke": the surname must agree, and the first name or its initial too when both give one."""
    wa, wb = name_words(a or ""), name_words(b or "")
    if not wa or not wb or wa[-1] != wb[-1]:
        return False
    if len(wa) == 1 or len(wb) == 1:
        return True
    fa, fb = wa[0], wb[0]
    return fa == fb or (len(fa) == 1 and fb.startswith(fa)) or (len(fb) == 1 and fa.startswith(fb))


def first_name(name: str | None) -> str | None:
    """What to call someone: "DI Naomi Clarke" -> "Naomi", "Inspector 6828 Rachel Jones-Burns" -> "Rachel"."""
    if not name:
        return None
    for word in name.split():
        bare = word.strip(".,()")
        if bare and not bare.isdigit() and bare.lower().strip(".") not in RANKS and len(bare.strip(".")) > 1:
            return bare
    return None
