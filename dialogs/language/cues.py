"""How each intent is recognised: anchored patterns first, in table order, then keyword scoring.

Patterns are matched against *normalised* text (lower case, straight quotes, single spaces, bot
mention and politeness removed: see :func:`dialogs.language.text.clean`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialogs.language.intents import Intent


@dataclass(frozen=True)
class Cue:
    """What a message says when it asks for ``intent``."""

    intent: Intent
    example: str  # what people say: help text, the manifest, and "did you mean"
    patterns: tuple[re.Pattern[str], ...]
    keywords: tuple[str, ...]
    matcher: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One search instead of one per pattern: an alternation matches somewhere exactly when one
        # of its alternatives does (the patterns use no groups that other code reads).
        joined = "|".join(f"(?:{p.pattern})" for p in self.patterns) or r"(?!)"
        object.__setattr__(self, "matcher", re.compile(joined))


def _p(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)

# Words that introduce an item reference ("rec 35", "afi 2", "#7").
ITEM_WORDS = r"(?:rec|recs|recommendation|recommendations|afi|afis|area for improvement|cause of concern|coc|item|no|number|#)"

# Words that make a message a list request even when it mentions an item-like number or "the X one".
_NOT_A_LIST = r"(?!.*\b(?:outstanding|still open|remaining|left to do|unfinished|overdue)\b)"

# Order matters: the first cue whose pattern matches wins. Writes come before reads so that
# "mark 34 as evidenced" is never mistaken for a question about rec 34.
CUES: tuple[Cue, ...] = (
    Cue(
        Intent.GREETING,
        example='hello',
        patterns=_p(
            r"^(?:hi|hello|hey|hiya|howdy|yo|morning|afternoon|evening|good (?:morning|afternoon|evening)|thanks|thank you|cheers|ta)(?: (?:there|all|team|everyone|tracker|bot|again|very much|a lot))*[ !.]*$",
        ),
        keywords=("hello", "hi", "hey", "thanks"),
    ),
    Cue(
        Intent.HELP,
        example='help',
        patterns=_p(
            r"^\?+$",
            r"^(?:help|commands|menu|usage|how does (?:this|it|the tracker) work|what can (?:you|i) do|what do you do|how do i use (?:you|this|the tracker))\b",
            # Questions about the tracker's words and how to do things are help, never the thing.
            r"^what (?:does|do) .{1,60}? (?:mean|stand for)\b",
            r"^what(?:'?s| is| are) (?:an? )?(?:afi|area for improvement|cause of concern|coc|recommendation|evidenced|signed off)s?[ ?!.]*$",
            r"^how (?:do|can|should|would) (?:i|we|you|people)\b",
        ),
        keywords=("help", "commands", "how"),
    ),
    Cue(
        Intent.UNSUBSCRIBE,
        example='stop sending the digest here',
        patterns=_p(
            r"^(?:stop|unsubscribe|cancel|end|turn off|disable|no more|don'?t (?:send|post))\b.*\b(?:digests?|summary|summaries|weekly|updates?|posts?)\b",
            r"^unsubscribe\b",
        ),
        keywords=("unsubscribe", "stop"),
    ),
    Cue(
        Intent.SUBSCRIBE,
        example='post the weekly digest here',
        patterns=_p(
            r"^(?:post|send|share|start|deliver|put)\b.*\b(?:digest|summary|status update|weekly update)s?\b.*\b(?:here|this (?:channel|chat|team|conversation))\b",
            r"^(?:subscribe|sign (?:us|me) up)\b",
            r"^(?:turn on|enable|start)\b.*\b(?:digest|weekly)\b",
        ),
        keywords=("subscribe", "here"),
    ),
    Cue(
        Intent.DIGEST_NOW,
        example='digest now',
        patterns=_p(
            r"^(?:(?:send|post|show|give|get|run|preview)(?: me| us)? )?(?:(?:the|a|this week'?s) )?(?:weekly )?(?:status )?digest(?: now| please| preview)?$",
            r"^(?:send|post|show|give|run) (?:me |us )?(?:the |a )?(?:weekly )?digest now\b",
        ),
        keywords=("digest",),
    ),
    Cue(
        Intent.SIGN_OFF,
        example='sign off vetting rec 33',
        patterns=_p(
            r"^(?:sign(?:ed)?[ -]?off|close|complete)\b(?! (?:list|lists|picture|overview|summary|breakdown|set)\b)",
            r"^(?:mark|set|flag|record|move)\b.*\b(?:as )?(?:signed[ -]?off|complete|completed|closed|discharged)\b",
            r"^(?:hmicfrs|hmic|the inspectorate) (?:have |has )?(?:signed[ -]?off|closed|discharged)\b",
        ),
        keywords=("sign", "signed", "off", "complete", "closed"),
    ),
    Cue(
        Intent.REOPEN,
        example='reopen rec 35',
        patterns=_p(
            r"^(?:re ?open|un ?sign|reactivate|revert)\b",
            r"^(?:mark|set|flag|move)\b.*\b(?:as |to |back to )?(?:open|re-?opened|in progress|not complete|not evidenced)\b",
        ),
        keywords=("reopen", "open"),
    ),
    Cue(
        Intent.MARK_EVIDENCED,
        example='mark 34 as evidenced: CCU now tasks intel routinely',
        patterns=_p(
            r"^(?:mark|set|flag|record|move)\b.*\b(?:as |to )?(?:evidenced|evidence|done|ready for sign[ -]?off|awaiting sign[ -]?off|for sign[ -]?off)\b",
            r"^(?:add |attach |submit |upload )?evidence (?:for|to|on|against|of)\b",
            r"^(?:evidenced?|done)\b",
        ),
        keywords=("evidenced", "evidence", "done"),
    ),
    Cue(
        Intent.ASSIGN,
        example='assign rec 35 to DCI Patel',
        patterns=_p(
            r"^(?:re-?assign|assign|allocate|give|hand(?: over)?|transfer)\b.*\bto\b",
            r"^(?:set|change|make|update)\b.*\b(?:owner|lead|ownership)\b.*\b(?:to|is|as)\b",
            r"^make\b.*\b(?:the )?(?:owner|lead)\b",
        ),
        keywords=("assign", "owner", "lead"),
    ),
    Cue(
        Intent.ADD_UPDATE,
        example='add update to rec 38: categories mapped, go-live in May',
        patterns=_p(
            r"^(?:add|post|log|record|leave|put)(?: an?| the| my)? (?:update|note|progress(?: note| update)?|comment)\b",
            r"^(?:update|note|progress|comment) (?:on|for|to|against)\b",
            r"^(?:update|note) (?:(?:" + ITEM_WORDS + r") ?#?\d|#?\d|the .+ one\b)",
            r"^(?:update|note)\b.*:",
        ),
        keywords=("update", "note", "progress", "comment"),
    ),
    Cue(
        Intent.OWNER,
        example='who owns the CCU one',
        patterns=_p(
            r"^who(?:'?s| is| are)? (?:the )?(?:owner|owners|lead|leads|leading|owning|responsible|in charge|accountable|looking after|handling|dealing with)\b",
            r"^who(?: owns| leads| has| holds| handles| looks after| is assigned| got)\b",
            r"^(?:owner|lead|owners|leads) (?:of|for)\b",
            r"^(?:what|which)(?: is|'s)? (?:the )?(?:owner|lead)\b",
        ),
        keywords=("who", "owner", "owns", "lead"),
    ),
    Cue(
        Intent.SUMMARY,
        example='how many are still open?',
        patterns=_p(
            r"^(?:status|summary|overview|stats|statistics|numbers|figures|totals?|dashboard|headlines?|progress|position|state of play)(?: (?:report|update|please|now|overall|so far|of the tracker|by report|by status))*[ ?!.]*$",
            r"^how many\b",
            r"^(?:give me |show me |what'?s |what is )?(?:the |a |an )?(?:overall )?(?:summary|overview|breakdown|count|counts|totals|position|picture|state of play)\b",
            r"^where (?:are|do) we (?:stand|at|up to)\b",
            r"^(?:status|summary|overview|position|progress|stats)(?: update| report)? (?:of|for|on|from)\b(?!.*(?:\b"
            + ITEM_WORDS
            + r" ?#?\d|\bthe .+ one\b|(?:^|\s)#?\d+(?:\.\d+)*[ ?!.]*$))",
            r"^(?:what|which|how many)\b.*\b(?:been |got |have |has )?(?:signed off|closed|discharged)\b",
        ),
        keywords=("status", "summary", "how", "many", "count", "overview"),
    ),
    Cue(
        Intent.OVERDUE,
        example="what's overdue?",
        patterns=_p(
            r"\b(?:overdue|over due|late|past (?:its |their |the )?(?:due date|deadline|due)|missed (?:its |their |the )?deadlines?|behind schedule|out of time)\b",
        ),
        keywords=("overdue", "late"),
    ),
    Cue(
        Intent.DUE,
        example='anything due before Christmas?',
        patterns=_p(
            r"\b(?:due|deadlines?|falls? due|expiring|coming up)\b.*\b(?:before|by|within|until|till|this|next|in|on|soon|end of|over|after|between|during)\b",
            r"^(?:anything|what'?s|what is|what are|which|items?|recs?|show|list)\b.*\bdue\b",
            r"\bdue\b.*\b(?:soon|\d{1,2}[/.-]\d{1,2}|\d{4}-\d{2}|christmas|easter|month|week|quarter|year|january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
        ),
        keywords=("due", "deadline", "soon"),
    ),
    Cue(
        Intent.SHOW,
        example='show rec 35',
        patterns=_p(
            r"^(?!open (?:\S+ ){0,3}(?:recs|recommendations|items|afis|areas|causes|actions)\b)"
            r"(?:show|open|display|view|details?|detail of|tell me(?: about| if| whether)?|what(?:'?s| is| was| does| did)|whats|describe|look ?up|find|get|read|explain|status of|what'?s the status of|where are we (?:on|with)|progress (?:on|of)|how(?:'?s| is) (?:rec|recommendation|afi|item|the))\b"
            # ... but "what's still open on the misogyny one" and "open CSE recs" are lists
            + _NOT_A_LIST
            + r".*(?:\b"
            + ITEM_WORDS
            + r"\b|#|\d|\bthe .+ (?:one|rec|recommendation|afi)\b)",
            # "is rec 34 done?", "has rec 33 been signed off?", "when is rec 35 due?": questions, not writes
            r"^(?:is|has|have|was|were|are|did|does|do|when|who)\b"
            + _NOT_A_LIST
            + r".*(?:\b"
            + ITEM_WORDS
            + r" ?#?\d|(?:^|\s)#?\d{1,3}(?:\.\d{1,2})*(?![\d/])\b|\bthe .+ one\b)",
            r"^the .+ one[ ?!.]*$",
            # A message that ends in a reference: "vetting rec 35", "and rec 2?", "what about 7.1"
            r"^"
            + _NOT_A_LIST
            + r"(?:and |what about |how about )?(?:[a-z&'/.-]+ ){0,4}?(?:"
            + ITEM_WORDS
            + r" ?)?#?\d{1,3}(?:\.\d{1,2})*[a-z]?[ ?!.]*$",
            r"^" + ITEM_WORDS + r" ?#?\d+(?:\.\d+)*\b",
            r"^#?\d+(?:\.\d+)*[ ?!.]*$",
            r"^(?:show|open|display|view|details?|tell me about|describe)\b.*\b(?:one|report|inspection|review)\b",
        ),
        keywords=("show", "rec", "recommendation", "afi", "details"),
    ),
    Cue(
        Intent.OUTSTANDING,
        example="what's outstanding from the vetting inspection?",
        patterns=_p(
            r"\b(?:outstanding|open|remaining|left|live|pending|unfinished|incomplete|unresolved|to do|todo|to-do|still to do|not (?:yet )?(?:done|complete|completed|signed off|closed))\b",
            r"^(?:list|show|what are|which are|give me|all)\b.*\b(?:recs?|recommendations|items|afis|areas for improvement|causes of concern|actions)\b",
            r"^(?:my|our) (?:recs|recommendations|items|actions|afis)\b",
            r"\b(?:owned by|assigned to|allocated to|led by)\b",
            r"'s (?:open |outstanding |live |overdue )?(?:items|recs|recommendations|actions|afis)\b",
            r"^what (?:do|have) (?:i|we) (?:own|lead|got)\b",
            r"^(?:show|list|give)(?: me| us)? (?:everything|all)\b",
            r"^(?:which|what)\b.*\b(?:recs?|recommendations|items|afis|actions)\b",
        ),
        keywords=("outstanding", "open", "list", "recommendations", "items", "left"),
    ),
    Cue(
        Intent.UNKNOWN,
        example='',
        patterns=(),
        keywords=(),
    ),
)

CUES_BY_INTENT: dict[Intent, Cue] = {c.intent: c for c in CUES}
