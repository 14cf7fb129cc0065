"""Language understanding: text (+ conversation context) -> a :class:`Parsed` request. Pure.

No I/O, no botbuilder, nothing from storage but the read-only views it resolves against. By job:

- :mod:`~dialogs.language.text`: normalisation, stop words, the glossary, the one typo corrector;
- :mod:`~dialogs.language.intents` and :mod:`~dialogs.language.cues`: what people ask for, and
  how each request is recognised;
- :mod:`~dialogs.language.index`: inverted indexes over the read model (the narrowing step);
- :mod:`~dialogs.language.rank`: scoring candidates and deciding, or asking;
- :mod:`~dialogs.language.dates` (with :mod:`~dialogs.language.numbers`): date phrases;
- :mod:`~dialogs.language.understand`: the whole message.
"""

from dialogs.language.dates import Period, parse_period
from dialogs.language.index import Index
from dialogs.language.intents import Intent
from dialogs.language.rank import Resolver, Scored
from dialogs.language.text import clean
from dialogs.language.understand import URL, Context, Parsed, understand

__all__ = [
    "URL", "Context", "Index", "Intent", "Parsed", "Period", "Resolver", "Scored", "clean", "parse_period",
    "understand",
]  # fmt: skip
