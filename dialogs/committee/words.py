"""Small wording helpers shared by the committee card, text and paper (pure)."""

from __future__ import annotations

import datetime as dt
import re

from dialogs.cards import KIND_LONG

_SMALL = (
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip
KIND_ORDER = ("recommendation", "afi", "cause_of_concern")
KIND_PLURAL = {
    "recommendation": "recommendations",
    "afi": "areas for improvement",
    "cause_of_concern": "causes of concern",
}
_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%B %d %Y")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.I)


class BadDate(ValueError):
    """A date we cannot read; the message says what we can."""


def parse_day(text: str) -> dt.date:
    """A calendar day as people type it for a committee: 2022-09-22, 22 September 2022, 22 Sep 2022,
    22nd September 2022, 22/09/2022 (day first). Strict: anything else raises :class:`BadDate`.

    ``datetime.strptime`` over a fixed list rather than a lenient parser, because a meeting date read
    wrongly ("2022" alone read as today's month and day) would silently move every figure."""
    cleaned = " ".join(_ORDINAL.sub("", (text or "").replace(",", " ")).split())
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise BadDate(f"can't read {text!r} as a date: use e.g. 2022-09-22 or '22 September 2022'")


def day_label(day: dt.date | None) -> str:
    """22 September 2022."""
    return f"{day.day} {day:%B %Y}" if day else "—"


def short_day(day: dt.date | None) -> str:
    """22 Sep 2022."""
    return f"{day.day} {day:%b %Y}" if day else "—"


def number_word(n: int) -> str:
    """The paper's style: words up to twenty, figures after (0 -> "no")."""
    return _SMALL[n] if 0 <= n < len(_SMALL) else str(n)


def kinds(n: int, kind: str) -> str:
    """'1 recommendation', '5 areas for improvement'."""
    return f"{n} {KIND_LONG.get(kind, kind) if n == 1 else KIND_PLURAL.get(kind, kind + 's')}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def by_kind_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(kind, n) in the papers' order: recommendations, AFIs, causes of concern, then anything else."""
    rank = {k: n for n, k in enumerate(KIND_ORDER)}
    return sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (rank.get(kv[0], 99), kv[0]))
