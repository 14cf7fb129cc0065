"""How each request is phrased: the cues that name an intent outright, in the order they are tried.

Understanding is entity-first (``dialogs.language.understand``): the report, item, people, statuses
and dates a message names are found whatever the phrasing, and a message with no cue at all still
gets the intent people expect (a report named alone lists its outstanding items). The cues here are
what tells one request from another when the words do say it: writes need one (never a guess).

Patterns are matched against the first :data:`CUE_WINDOW` characters of *normalised* text (lower
case, straight quotes, single spaces, bot mention and politeness removed, slips corrected: see
``dialogs.language.text.clean``). Every pattern is anchored at the start, or has bounded repeats
only, so its cost is linear in the text (``tests/unit/test_language_cost.py`` feeds each one
thousands of repeats of its own keywords).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialogs.language.intents import Intent

CUE_WINDOW = 400  # requests are short; a long message's request is at its start (the rest is a note)


@dataclass(frozen=True)
class Cue:
    """What a message says when it asks for ``intent``."""

    intent: Intent
    example: str  # what people say: help text, the manifest, and "did you mean"
    patterns: tuple[re.Pattern[str], ...]
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
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
# A bare number that is an item's, not a day of a date ("the 1st of October", "3/11", "2023").
_NUMBER = rf"(?<![\d/.:-])\d{{1,3}}(?:\.\d{{1,2}})*(?!\d|\s*(?:st|nd|rd|th)\b|[/:-]\d|\s+(?:of\s+)?{_MONTHS})"
# A reference to an item: "rec 35", "34", "7.1", "it", "the CCU one", "that one".
_REF = rf"(?:(?:{ITEM_WORDS}) ?#?\d|#?{_NUMBER}|\bit\b|\bthat one\b|\bthis one\b|\bthe [a-z0-9&' -]{{1,60}}? (?:one|rec|recommendation|afi|item)\b|\bboth\b|\bthem\b)"
# Lists, not one item ("what's still open on the misogyny one", "open CSE recs"); bounded look-ahead.
_NOT_A_LIST = r"(?!.{0,200}?\b(?:outstanding|still open|remaining|left to do|unfinished|overdue)\b)"
_QUESTION = r"(?:is|has|have|was|were|are|did|does|do|when|who|what|which|how|can|could)"
CUE_DATE = _DATE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTHS}(?: \d{{4}})?|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|(?:the )?end of {_MONTHS}(?: \d{{4}})?|{_MONTHS} \d{{4}})"
)

# The cues, in order: the first whose pattern matches wins. Writes come before reads so that "mark 34
# as evidenced" is never taken for a question about rec 34; questions come before writes where a
# question could look like one ("has rec 33 been signed off?").
CUES: tuple[Cue, ...] = (
    Cue(
        Intent.GREETING,
        "hello",
        _p(
            r"^(?:hi|hello|hey|hiya|howdy|yo|morning|afternoon|evening|good (?:morning|afternoon|evening)|thanks|thank you|thankyou|thx|ty|cheers|ta|many thanks|great thanks|brilliant thanks|lovely|perfect|great|brilliant|cool|nice one)(?: (?:there|all|team|everyone|tracker|bot|again|very much|so much|a lot|mate|for that|for your help))*[ !.]*$",
        ),
    ),
    Cue(
        Intent.HELP,
        "help",
        _p(
            r"^\?+$",
            r"^(?:help|commands|menu|usage|how does (?:this|it|the tracker) work|what can (?:you|i) do|what do you do|what can you help with|how do i use (?:you|this|the tracker))\b",
            # Questions about the tracker's words and how to do things are help, never the thing.
            r"^what (?:does|do) .{1,60}? (?:mean|stand for)\b",
            r"^what(?:'?s| is| are) (?:an? )?(?:afi|area for improvement|cause of concern|coc|recommendation|evidenced|signed off)s?[ ?!.]*$",
            r"^how (?:do|can|should|would) (?:i|we|you|people)\b",
            r"^what (?:can|could|should|do) (?:i|we) (?:ask|say|type|use)\b",
            r"^what (?:do|can) you (?:know|understand|answer)\b",
        ),
    ),
    # ---- owner reminders (issue 15): before the digest's, so "stop reminding me" is not about digests ----
    Cue(
        Intent.REMIND_OFF,
        "stop reminding me",
        _p(
            r"^(?:stop|don'?t|do not|no more|turn off|disable|cancel|pause|unsubscribe me from)\b.{0,40}?\bremind(?:ing|ers?)?\b",
        ),
    ),
    Cue(
        Intent.REMIND_ON,
        "remind me about my items",
        _p(
            # "remind me about my items", "remind me when things are due"; not "remind me what rec 33
            # says" (a question) or "remind me to chase Sarah" (a task the tracker does not keep)
            r"^(?:please )?remind me(?: (?:about|of) (?:my|our|the|all)\b(?! (?:"
            + ITEM_WORDS
            + r") ?#?\d)| when\b.{0,60}?\b(?:due|overdue|deadlines?)\b| (?:monthly|weekly|every)\b|[ .!]*$)",
            r"^(?:turn on|start|enable|send me|i(?:'d| would)? (?:want|like)|sign me up for|subscribe me to)\b.{0,40}?\breminders?\b",
        ),
    ),
    Cue(
        Intent.EVIDENCE_FORM,
        "add evidence",
        _p(r"^(?:add|record|submit|upload|log|enter)(?: (?:some|new|an?|my))? evidence(?: form)?[ .!]*$"),
    ),
    Cue(
        Intent.UNSUBSCRIBE,
        "stop sending the digest here",
        _p(
            r"^(?:stop|unsubscribe|cancel|end|turn off|disable|no more|don'?t (?:send|post))\b.{0,80}?\b(?:digests?|summary|summaries|weekly|updates?|posts?)\b",
            r"^unsubscribe\b",
        ),
    ),
    Cue(
        Intent.SUBSCRIBE,
        "post the weekly digest here",
        _p(
            r"^(?:post|send|share|start|deliver|put)\b.{0,80}?\b(?:digest|summary|status update|weekly update)s?\b.{0,80}?\b(?:here|this (?:channel|chat|team|conversation))\b",
            r"^(?:subscribe|sign (?:us|me) up)\b",
            r"^(?:turn on|enable|start)\b.{0,80}?\b(?:digest|weekly)\b",
        ),
    ),
    Cue(
        Intent.DIGEST_NOW,
        "digest now",
        _p(
            r"^(?:(?:send|post|show|give|get|run|preview)(?: me| us)? )?(?:(?:the|a|this week'?s) )?(?:weekly )?(?:status )?digest(?: now| please| preview)?$",
            r"^(?:send|post|show|give|run) (?:me |us )?(?:the |a )?(?:weekly )?digest now\b",
        ),
    ),
    # ---- committee meetings and the paper -------------------------------------------------------------
    Cue(
        Intent.RECORD_MEETING,
        "the JAC met on 22 September 2022",
        _p(
            rf"^(?:(?:please )?record (?:that )?)?(?:the )?(?:jac|joint audit committee|audit committee|committee)(?: meeting)? (?:met|sat|was held|took place|happened)(?: on)? {_DATE}",
            rf"^(?:record|add|log) (?:a |the )?(?:jac|joint audit committee|audit committee|committee) (?:meeting )?(?:on|of|for) {_DATE}",
            rf"^(?:we had|there was) (?:the |a )?(?:jac|joint audit committee|committee)(?: meeting)? on {_DATE}",
            r"^(?:(?:please )?record (?:that )?)?(?:the )?(?:jac|joint audit committee|audit committee)(?: meeting)? (?:met|sat|was held|took place|happened) (?:yesterday|today|this morning|this afternoon)\b",
            rf"^(?:the )?(?:jac|joint audit committee|audit committee)(?: meeting)? (?:meets|will meet|is meeting|sits|will sit)(?: on)? {_DATE}.{{0,40}}?\b(?:record|log|add|note)\b",
        ),
    ),
    Cue(
        Intent.COMMITTEE_PACK,
        "the JAC pack",
        _p(
            r"^(?:(?:send|give|get|make|write|produce|generate|draft|prepare|create|build) (?:me |us )?)?(?:the |a |this quarter'?s |our )?(?:jac|committee|audit committee|hmicfrs) (?:pack|paper|report|update paper)\b",
            r"^(?:write|draft|prepare|produce|generate) (?:the |a )?(?:paper|pack) for (?:the )?(?:jac|committee|audit committee)\b",
            r"\b(?:jac|committee|audit committee)(?: meeting)? (?:pack|paper|papers|figures|numbers)\b(?! (?:said|says|showed))",
            r"\b(?:pack|paper|figures|numbers) for (?:the )?(?:next |this |december'?s? |our )?(?:jac|audit committee|committee)\b",
        ),
    ),
    # ---- questions that look like writes are questions ----------------------------------------------
    Cue(
        Intent.SHOW,
        "show rec 35",
        _p(
            # "is rec 34 done?", "has rec 33 been signed off?", "when is rec 35 due?": about one item
            rf"^{_QUESTION}\b"
            + _NOT_A_LIST
            + rf".{{0,120}}?{_REF}.{{0,120}}?\b(?:done|evidenced|complete|completed|signed off|closed|finished|due|open|overdue)\b",
        ),
    ),
    # ---- writes ----------------------------------------------------------------------------------
    Cue(
        Intent.RETARGET,
        "move rec 35's target date to 30 June 2023: IT supplier delay",
        _p(
            r"^(?:move|change|push|push back|extend|revise|reset|amend|update|set|put back|slip|defer|re ?target)\b.{0,120}?\b(?:target|deadline|due date|due|completion date)s?\b.{0,40}?\b(?:to|until|till|for|back to|out to)\b",
            r"^(?:re ?target|re ?date|re ?schedule)\b",
            rf"^(?:extend|defer|push back|push|move|slip|shift|put back)\b.{{0,80}}?\b(?:to|until|till) {_DATE}",
            rf"^(?:extend|defer|push back|push|move|slip|shift)\b.{{0,80}}?\b(?:out|back) (?:to|until|till) {_DATE}",
        ),
    ),
    Cue(
        Intent.SIGN_OFF,
        "sign off vetting rec 33",
        _p(
            r"^(?:sign(?:ed)?[ -]?off|close|complete|discharge)\b(?! (?:list|lists|picture|overview|summary|breakdown|set|ones)\b)",
            r"^(?:mark|set|flag|record|move|put|change|update)\b.{0,120}?\b(?:as |to )?(?:signed[ -]?off|complete|completed|closed|discharged)\b",
            r"^(?:hmicfrs|hmic|the inspectorate|inspectorate|david roome|the flo|our flo)(?: have| has)? (?:now )?(?:signed[ -]?off|closed|discharged|accepted)\b",
            rf"^{_REF}.{{0,40}}?\b(?:has been|was|is now|is|got) signed[ -]?off\b",
            r"\bsign (?:it|this|that|them|this one|that one|both) off\b",
            # "tick off rec 5, the inspectorate are happy": done, and it is the inspectorate saying so
            r"^(?:tick(?:ed)?(?: off)?|mark|set|done|complete|close)\b.{0,120}?\b(?:hmicfrs|hmic|the inspectorate|inspectorate|inspectors?|the flo)\b.{0,24}?\b(?:happy|satisfied|content|accepted|agreed|signed|approved)\b",
        ),
    ),
    Cue(
        Intent.REOPEN,
        "reopen rec 35",
        _p(
            r"^(?:re ?open|un ?sign|reactivate|revert|un ?mark|undo)\b",
            r"^(?:mark|set|flag|move|put|change|update)\b.{0,120}?\b(?:as |to |back to |back as )?(?:open|re ?opened|in progress|not complete|not evidenced|not done|live again|open again)\b",
            r"^put\b.{0,120}?\bback\b",
            rf"^(?:[a-z&'/-]+ ){{0,4}}?{_REF}.{{0,40}}?\b(?:needs? to |should |must |has to |will )?(?:go|goes|going|be put|be moved|move) back to (?:open|in progress|live)\b",
        ),
    ),
    Cue(
        Intent.MARK_EVIDENCED,
        "mark 34 as evidenced: CCU now tasks intel routinely",
        _p(
            r"^(?:mark|set|flag|record|move|put|change|update)\b.{0,120}?\b(?:as |to )?(?:evidenced|evidence|done|finished|delivered|achieved|ready for sign[ -]?off|awaiting sign[ -]?off|for sign[ -]?off|with hmicfrs)\b",
            r"^(?:add |attach |submit |upload |send |here'?s |here is )?(?:the |some |our )?evidence (?:for|to|on|against|of)\b",
            r"^(?:evidenced?|done|tick off|tick|ticked off|finished|completed?)\b(?! (?:list|ones|items|recs)\b)",
            rf"^{_REF}.{{0,40}}?\b(?:is|has been|was|are|have been) (?:now )?(?:done|evidenced|finished|delivered|achieved|ready for sign[ -]?off)\b",
            rf"^(?:we'?ve|we have|i'?ve|i have) (?:now )?(?:done|evidenced|finished|delivered|completed)\b.{{0,40}}?{_REF}",
            r"^(?!(?:tell|is|are|has|have|was|were|did|does|do|can|could|when|who|what|which|how|if|whether|check|show|let|find)\b)(?:(?!(?:if|whether|when)\b)[a-z&'/-]+ ){0,4}?(?:(?:rec|afi|recommendation|item)s? )?#?\d{1,3}[a-z]?(?: of \d{1,2})?(?: (?:and|&) #?\d{1,3}[a-z]?)?(?: (?:is|are|has been|have been|now))?(?: (?:now|both|all))? (?:done|complete|completed|evidenced|finished|delivered|achieved)\b",
            r"^(?:that|this|it|both)(?: ones?)?(?:'?s| is| are| has been| have been)?(?: now| both)? (?:done|complete|completed|evidenced|finished|delivered)\b",
        ),
    ),
    Cue(
        Intent.ASSIGN,
        "assign rec 35 to DCI Patel",
        _p(
            r"^(?:re ?assign|assign|allocate|give|hand(?: over)?|transfer|pass)\b.{0,120}?\bto\b",
            r"^(?:set|change|make|update)\b.{0,120}?\b(?:owner|lead|ownership)\b.{0,60}?\b(?:to|is|as)\b",
            r"^make\b.{0,80}?\b(?:the )?(?:new )?(?:owner|lead)\b",
            rf"^(?!(?:who|what|which|is|are)\b)[a-z][a-z.' -]{{1,60}}? (?:is|will be|'s) (?:now )?(?:leading|the lead|the owner|owning|taking over|responsible|in charge)\b.{{0,40}}?(?:on|for|of)?.{{0,40}}?{_REF}",
            rf"^(?!(?:who|what|which)\b)[a-z][a-z.' -]{{1,60}}? (?:has taken|is taking|will take) over\b.{{0,40}}?{_REF}",
            rf"^(?!(?:who|what|which|is|are|i|we)\b)[a-z][a-z.' -]{{1,60}}? (?:will|'ll|is going to|is to) (?:now )?(?:lead|own|take on|pick up|look after)\b.{{0,40}}?{_REF}",
        ),
    ),
    Cue(
        Intent.ADD_UPDATE,
        "add update to rec 38: categories mapped, go-live in May",
        _p(
            r"^(?:add|post|log|record|leave|put|make|give|send)(?: an?| the| my| some| quick)? (?:update|note|progress(?: note| update)?|comment|entry)\b",
            r"^(?:update|note|progress|comment) (?:on|for|to|against)\b",
            r"^(?:update|note) (?:(?:" + ITEM_WORDS + r") ?#?\d|#?\d|the .{1,60}? one\b|it\b|that one\b)",
            r"^(?:update|note|progress)\b.{0,120}?:",
            rf"^{_REF}.{{0,40}}? (?:update|progress)\b",
        ),
    ),
    # ---- reads ------------------------------------------------------------------------------------
    Cue(
        Intent.OWNER,
        "who owns the CCU one",
        _p(
            r"^who(?:'?s| is| are)? (?:the )?(?:owner|owners|lead|leads|leading|owning|responsible|in charge|accountable|looking after|handling|dealing with|doing|on)\b",
            r"^who(?: owns| owned| led| leads| has| holds| handles| looks after| is assigned| got| 'got| has got| deals with| picks up)\b",
            r"^(?:owner|lead|owners|leads) (?:of|for|on)\b",
            r"^(?:what|which)(?: is|'s)? (?:the )?(?:owner|lead)\b",
            r"^whose\b",
            r"^who(?:'?s| is| has) (?:got|on|holding|running with)\b",
        ),
    ),
    Cue(
        Intent.CHANGES,
        "what changed this week?",
        _p(
            r"^(?:what|anything|what'?s|what has|what have)(?: has| have)? (?:been )?(?:changed|changes|happened|moved|new|been updated|been done|been happening|gone on|updated)\b",
            r"^what did [a-z][a-z.' -]{1,60}? (?:change|do|update|sign off|evidence|close|add|record|touch|move)\b",
            r"^(?:did|has|have) [a-z][a-z.' -]{1,60}? (?:changed|updated|done|touched|moved|recorded) (?:anything|much)\b",
            r"^(?:recent|latest|this week'?s|today'?s|last week'?s) (?:changes|updates|activity|movement)\b",
            r"^(?:changes|updates|activity|movement|audit trail|history)\b.{0,60}?\b(?:since|this|last|today|yesterday|recently|lately|past|by)\b",
            r"^(?:any|show|list|give me)(?: me)? (?:the )?(?:recent )?(?:changes|updates|activity|movement)\b(?! (?:on|to|for) (?:"
            + ITEM_WORDS
            + r") ?#?\d)",
            r"^who (?:changed|updated|did) (?:what|anything)\b",
            r"^(?:any|what) (?:progress|movement|changes|updates|activity) since\b",
            r"^what (?:has|have) [a-z][a-z.' -]{1,60}? (?:changed|updated|done|evidenced|signed off|closed|added|recorded)[ ?!.]*$",
        ),
    ),
    Cue(
        Intent.SUMMARY,
        "how many are still open?",
        _p(
            r"^(?:status|summary|overview|stats|statistics|numbers|figures|totals?|dashboard|headlines?|progress|position|state of play)(?: (?:report|update|please|now|overall|so far|of the tracker|by report|by status|check))*[ ?!.]*$",
            r"^how many\b",
            r"^(?:what'?s|what is) the (?:total|number|count)\b",
            r"^(?:give me |show me |what'?s |what is )?(?:the |a |an )?(?:overall )?(?:summary|overview|breakdown|count|counts|totals|position|picture|state of play|numbers|figures|headlines|stats|statistics)\b",
            r"^where (?:are|do) we (?:stand|at|up to)[ ?!.]*$",
            r"^how (?:are|'re) we (?:doing|getting on|looking|going)[ ?!.]*$",
            r"^(?:summary|overview|stats|breakdown|figures|numbers)(?: update| report)? (?:of|for|on|from)\b(?!.{0,200}?(?:\b"
            + ITEM_WORDS
            + r" ?#?\d|\bthe [a-z0-9&' -]{1,60}? one\b))",
            r"^(?:what|which|how many)\b.{0,120}?\b(?:been |got |have |has )?(?:signed off|closed|discharged|completed)\b.{0,60}?\b(?:since|in|during|this|last|over|between)\b",
            r"^(?:what|which)(?:'s| has| have)(?: we)? (?:been |got )?(?:signed off|closed|discharged|completed)[ ?!.]*$",
        ),
    ),
    Cue(
        Intent.OVERDUE,
        "what's overdue?",
        _p(
            r"\b(?:overdue|over due|late|past (?:its |their |the )?(?:due date|deadline|due|target|target date)|missed (?:its |their |the )?(?:deadlines?|target dates?|targets?)|behind schedule|out of time|running late|slipped|beyond (?:the |their )?(?:deadline|target date))\b",
            r"^(?:is|are)\b.{1,80}? behind(?: schedule| time)?[ ?!.]*$",
        ),
    ),
    Cue(
        Intent.DUE,
        "anything due before Christmas?",
        _p(
            r"\b(?:due|deadlines?|falls? due|expiring|coming up|target dates?)\b.{0,80}?\b(?:before|by|within|until|till|this|next|in|on|soon|end of|over|after|between|during)\b",
            r"^(?:anything|what'?s|what is|what are|which|items?|recs?|show|list)\b.{0,120}?\bdue\b",
            r"\bdue\b.{0,80}?\b(?:soon|\d{1,2}[/.-]\d{1,2}|\d{4}-\d{2}|christmas|easter|month|week|quarter|year|january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
        ),
    ),
    Cue(
        Intent.SHOW,
        "show rec 35",
        _p(
            r"^(?!open (?:\S+ ){0,3}(?:recs|recommendations|items|afis|areas|causes|actions)\b)"
            r"(?:show|open|display|view|pull up|bring up|details?|detail of|tell me(?: about| if| whether)?|what(?:'?s| is| was| does| did)|whats|describe|look ?up|find|get|read|explain|status of|what'?s the (?:status|position|latest|update) (?:of|on|with)|where are we (?:on|with)|where'?s|how(?:'?s| is) (?:rec|recommendation|afi|item|the|it)|progress (?:on|of)|update on|latest on|any (?:news|update|progress) on)\b"
            + _NOT_A_LIST
            + r".{0,160}?(?:\b"
            + ITEM_WORDS
            + r"\b|#|"
            + _NUMBER
            + r"|\bthe [a-z0-9&' -]{1,60}? (?:one|rec|recommendation|afi)\b|\bit\b|\bthat one\b)",
            rf"^{_QUESTION}\b"
            + _NOT_A_LIST
            + r".{0,120}?(?:\b"
            + ITEM_WORDS
            + r" ?#?\d|(?:^|\s)#?"
            + _NUMBER
            + r"|\bthe [a-z0-9&' -]{1,60}? one\b)",
            r"^the [a-z0-9&' -]{1,60}? one[ ?!.]*$",
            # A message that ends in a reference: "vetting rec 35", "and rec 2?", "what about 7.1"
            r"^"
            + _NOT_A_LIST
            + r"(?:and |what about |how about )?(?:[a-z&'/.-]+ ){0,4}?(?:"
            + ITEM_WORDS
            + r" ?)?#?\d{1,3}(?:\.\d{1,2})*[a-z]?[ ?!.]*$",
            r"^" + ITEM_WORDS + r" ?#?\d+(?:\.\d+)*\b",
            r"^#?\d+(?:\.\d+)*[ ?!.]*$",
            r"^(?:show|open|display|view|details?|tell me about|describe)\b.{0,160}?\b(?:one|report|inspection|review)\b",
        ),
    ),
    Cue(
        Intent.OUTSTANDING,
        "what's outstanding from the vetting inspection?",
        _p(
            r"\b(?:outstanding|open|remaining|left|live|pending|unfinished|incomplete|unresolved|to do|todo|to-do|still to do|not (?:yet )?(?:done|complete|completed|signed off|closed)|haven'?t (?:we )?(?:done|finished|completed|closed))\b",
            r"^(?:list|show|what are|which are|give me|all|any)\b.{0,120}?\b(?:recs?|recommendations|items|afis|areas for improvement|causes of concern|actions|ones)\b",
            r"^(?:my|our) (?:recs|recommendations|items|actions|afis|ones|stuff|work)\b",
            r"\b(?:owned by|assigned to|allocated to|led by|with)\s[a-z]",
            r"'s (?:open |outstanding |live |overdue )?(?:items|recs|recommendations|actions|afis|ones)\b",
            r"^what (?:do|have) (?:i|we) (?:own|lead|got)\b",
            r"^(?:what|which)(?:'s| is| does| do| has)? [a-z][a-z.'&-]*(?: [a-z][a-z.'&-]*){0,3}?(?:'s)? (?:still )?(?:own|owns|got|holding|accountable for|responsible for|leading on|looking after)\b",
            r"^(?:show|list|give)(?: me| us)? (?:everything|all)\b",
            r"^(?:which|what)\b.{0,120}?\b(?:recs?|recommendations|items|afis|actions|ones)\b",
            r"^(?:status|position|progress|update)(?: of| on| for| with)?\b",
            r"^(?:how are we doing|how are we getting on|how'?s it going|where are we) (?:on|with|for|against)\b",
        ),
    ),
    Cue(Intent.UNKNOWN, "", ()),
)

CUES_BY_INTENT: dict[Intent, Cue] = {}
for _cue in CUES:
    CUES_BY_INTENT.setdefault(_cue.intent, _cue)  # SHOW's first entry is the question guard
CUES_BY_INTENT[Intent.SHOW] = next(c for c in reversed(CUES) if c.intent is Intent.SHOW)
