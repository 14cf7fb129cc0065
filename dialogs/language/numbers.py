"""Month names, counts in words and calendar arithmetic, as people write them in messages (pure).

The import reads deadline text with its own reader (``storage/deadlines.py``): storage may not
depend on the conversation layer, and the conversation's language must not reach into storage, so
the two keep their own small copies of these words.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

_MONTHS: Final = tuple(name.lower() for name in calendar.month_name[1:])

MONTH_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {name: i for i, name in enumerate(_MONTHS, 1)}
    | {name[:3]: i for i, name in enumerate(_MONTHS, 1)}
    | {"sept": 9}
)
"""Lower-case month names and abbreviations ("sept" included) to month numbers."""

_SMALL: Final = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_WORDS: Final[Mapping[str, int]] = MappingProxyType(
    {"a": 1, "an": 1, "twenty": 20}
    | {word: i for i, word in enumerate(_SMALL, 1)}
    | {f"twenty-{word}": 20 + i for i, word in enumerate(_SMALL[:4], 1)}
)

# Longest alternatives first, so "seventeen" is tried before "seven".
MONTH_PATTERN: Final = "(?:" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\b"
"""Regex source matching one month name or abbreviation (no groups)."""
NUMBER_PATTERN: Final = (
    r"(?:\d{1,4}|twenty(?:[\s-]+(?:one|two|three|four)\b)?|"
    + "|".join(sorted((*_SMALL, "an", "a"), key=len, reverse=True))
    + r")\b"
)
"""Regex source matching a count: digits, "a"/"an", or one..twenty-four in words (no groups)."""


def number_value(word: str) -> int | None:
    """The number a NUMBER_PATTERN match stands for ("six" -> 6, "twenty four" -> 24, "18" -> 18)."""
    key = "-".join(word.lower().replace("-", " ").split())
    return int(key) if key.isdecimal() else _WORDS.get(key)


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day (31 Aug + 6 -> 28/29 Feb)."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, index + 1, min(day.day, calendar.monthrange(year, index + 1)[1]))
