"""What people type -> what the bot understands: a large table of realistic phrasings.

Each row is a message (optionally with the report the conversation was last about) and what
``understand`` must make of it, stated as fields of ``Parsed.to_json()`` (the ``tracker parse
--json`` shape). Fields a row does not mention still have defaults that are checked: a list
request names no report, owner or dates unless the row says so; a read never carries evidence;
nothing asks for clarification unless the row says ``ask=True``.

The data is ``tests.kit.corpus`` (20 reports, ~150 items); today is Wednesday 25 November 2026.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dialogs.language import Context, Index, Intent, Parsed, Resolver, understand
from dialogs.language.intents import ITEM_WRITES as WRITE_INTENTS
from dialogs.language.intents import OFFERED_ONLY
from tests.kit import corpus
from tests.kit.corpus import (
    ASB,
    BETRAYAL,
    CDI,
    CP,
    CSE,
    CUSTODY,
    DAPAN,
    DISP,
    EFFECT,
    FRAUD,
    INFO,
    JTAI,
    LEGIT,
    PEEL,
    PPDA,
    RAPE,
    ROADS,
    STALK,
    TODAY,
    VAWG,
    VET,
)  # fmt: skip

INTENTS = tuple(i.value for i in Intent if i not in OFFERED_ONLY)
LISTS = frozenset({"outstanding", "overdue", "due", "summary"})
ITEM_INTENTS = WRITE_INTENTS | {"show", "owner"}
A, B = "https://x.example/a", "https://x.example/b"


def rec(report: str, number: str) -> tuple[str, str, str]:
    return (report, "recommendation", number)


def afi(report: str, number: str = "") -> tuple[str, str, str]:
    return (report, "afi", number)


def coc(report: str, number: str = "") -> tuple[str, str, str]:
    return (report, "cause_of_concern", number)


def case(text: str, intent: str, *, ctx: str | None = None, **expect: Any) -> Any:
    """One row: ``expect`` keys are to_json fields, plus item=(report, kind, number), ask=True
    (needs clarification, no item), among={report keys the candidates come from}, before/after."""
    label = f"{intent}|{ctx or ''}|{text}"
    return pytest.param(text, intent, ctx, expect, id=label[:90])


CASES = [
    # ---- greeting -------------------------------------------------------------------------------
    case("hi", "greeting"),
    case("Hello", "greeting"),
    case("hello tracker", "greeting"),
    case("thanks!", "greeting"),
    case("Thank you very much", "greeting"),
    case("good morning", "greeting"),
    case("cheers", "greeting"),
    case("hiya team", "greeting"),
    case("@Tracker hello", "greeting"),
    # ---- help -----------------------------------------------------------------------------------
    case("help", "help"),
    case("HELP", "help"),
    case("?", "help"),
    case("what can you do?", "help"),
    case("how does this work", "help"),
    case("commands", "help"),
    case("help please", "help"),
    case("can you help", "help"),
    case("@Tracker help", "help"),
    case("what does evidenced mean?", "help"),  # a question about a word, not a write
    case("what does AFI stand for?", "help"),
    case("what is an AFI?", "help"),
    case("what's a cause of concern", "help"),
    case("how do I mark something as evidenced?", "help"),
    case("how can we add an update", "help"),
    # ---- subscribe / unsubscribe / digest ---------------------------------------------------------
    case("remind me about my items", "remind_on"),
    case("send me reminders when my items are due", "remind_on"),
    case("remind me what rec 35 says", "show", item=("vetting-misconduct-misogyny", "recommendation", "35")),
    case("stop reminding me", "remind_off"),
    case("add evidence", "evidence_form"),
    case("post the weekly digest here", "subscribe"),
    case("subscribe", "subscribe"),
    case("sign us up", "subscribe"),
    case("please send the weekly summary to this channel", "subscribe"),
    case("turn on the weekly digest", "subscribe"),
    case("start posting the digest in this channel", "subscribe"),
    case("share the status update here every week", "subscribe"),
    case("@Tracker subscribe this channel to the digest", "subscribe"),
    case("remind me about my items", "remind_on"),
    case("please remind me about my actions", "remind_on"),
    case("I'd like reminders about my items", "remind_on"),
    case("stop reminding me", "remind_off"),
    case("add evidence", "evidence_form"),
    case("record some evidence", "evidence_form"),
    case("no more reminders please", "remind_off"),
    case("don't remind me", "remind_off"),
    case("stop sending the digest here", "unsubscribe"),
    case("unsubscribe", "unsubscribe"),
    case("turn off the weekly digest", "unsubscribe"),
    case("no more digests please", "unsubscribe"),
    case("don't post the summary here any more", "unsubscribe"),
    case("cancel the weekly updates", "unsubscribe"),
    case("please unsubscribe this channel", "unsubscribe"),
    case("digest", "digest_now"),
    case("digest now", "digest_now"),
    case("send the digest now", "digest_now"),
    case("show me this week's digest", "digest_now"),
    case("preview the digest", "digest_now"),
    case("give me the weekly digest", "digest_now"),
    # ---- summary --------------------------------------------------------------------------------
    case("status", "summary"),
    case("summary", "summary"),
    case("how many are still open?", "summary"),
    case("give me an overview", "summary"),
    case("where are we at?", "summary"),
    case("how many AFIs are open?", "summary", kind="afi"),
    case("summary for the vetting report", "summary", report=VET),
    case("stats please", "summary"),
    case(
        "how many recommendations do we have from PEEL 2021/22", "summary", report=PEEL, kind="recommendation"
    ),
    case("what's the overall position?", "summary"),
    case("how many are overdue?", "summary"),
    case("what's been signed off?", "summary"),  # a question, never a sign-off
    case("status of the fraud review", "outstanding", report=FRAUD),  # a report with "status": its list
    case("Summary of the roads policing inspection please", "summary", report=ROADS),
    case("breakdown by report", "summary"),
    # ---- outstanding ------------------------------------------------------------------------------
    case("what's outstanding from the vetting inspection?", "outstanding", report=VET),
    case("what's outstanding?", "outstanding"),
    case("outstanding", "outstanding"),
    case("OUTSTANDING RECS FROM THE FRAUD REVIEW", "outstanding", report=FRAUD, kind="recommendation"),
    case("whats outstnading from the vettting report", "outstanding", report=VET),
    case("what's still open on the misogyny one", "outstanding", report=VET),
    case("what's outstanding from the misogny inspection", "outstanding", report=VET),
    case("what's outstanding on vetting", "outstanding", report=VET),  # an alias beats a theme
    case("what's outstanding on misogyny", "outstanding", theme="misogyny"),
    case("open items about counter-corruption", "outstanding", theme="counter-corruption"),
    case(
        "outstanding recommendations on stop and search",
        "outstanding",
        theme="stop and search",
        kind="recommendation",
    ),
    case(
        "list the open recommendations for roads policing", "outstanding", report=ROADS, kind="recommendation"
    ),
    case("outstanding recs owned by Sarah Khan", "outstanding", owner="Sarah Khan", kind="recommendation"),
    case("what's outstanding owned by June Smith", "outstanding", owner="June Smith"),  # not a date
    case("anything open owned by May Ellis?", "outstanding", owner="May Ellis"),
    case("items assigned to Mark Owen", "outstanding", owner="Mark Owen"),
    case("what's still open for Sarah Khan?", "outstanding", owner="Sarah Khan"),
    case("show me everything led by DCI Tom Reid", "outstanding", owner="DCI Tom Reid"),
    case("Sarah Khan's items", "outstanding", owner="Sarah Khan"),
    case("my items", "outstanding", mine=True),
    case("my recs", "outstanding", mine=True, kind="recommendation"),
    case("what's outstanding for me?", "outstanding", mine=True),
    case("what do I own?", "outstanding", mine=True),
    case("list all AFIs", "outstanding", kind="afi"),
    case("list all areas for improvement", "outstanding", kind="afi"),
    case("open causes of concern", "outstanding", kind="cause_of_concern"),
    case("what's outstanding from PEEL 2021/22", "outstanding", report=PEEL),
    case("what's outstanding from our PEEL", "outstanding", report=PEEL),
    case("what's left to do on the JTAI?", "outstanding", report=JTAI),
    case("what's outstanding from the child protection report", "outstanding", report=CP),
    case(
        "what's outstanding from the 2014 child protection report", "outstanding", report=CP
    ),  # 2014 is no date
    case("remaining VAWG recommendations", "outstanding", report=VAWG, kind="recommendation"),
    case("open CSE recs", "outstanding", report=CSE, kind="recommendation"),
    case("outstanding ASB recs", "outstanding", report=ASB, kind="recommendation"),
    case("open PPDA recommendations", "outstanding", report=PPDA, kind="recommendation"),
    case("what's outstanding from the betrayal report", "outstanding", report=BETRAYAL),
    case("what's outstanding from the S&S spotlight", "outstanding", report=DISP),
    case("outstanding from the disproportionality report", "outstanding", report=DISP),
    case("what's still outstanding from Not Optional", "outstanding", report=ROADS),
    case("what's outstanding from the rape inspection", "outstanding", report=RAPE),
    case("open custody AFIs", "outstanding", report=CUSTODY, kind="afi"),
    case(
        "please list the outstanding items from the information management inspection",
        "outstanding",
        report=INFO,
    ),
    case("@Tracker what's outstanding from the fraud review?", "outstanding", report=FRAUD),
    case(
        "what's outstanding from the domestic abuse during the pandemic review", "outstanding", report=DAPAN
    ),
    case("can you tell me what's outstanding in  the   vetting report?", "outstanding", report=VET),
    case("outstanding DA recs", "outstanding", kind="recommendation", ask=True, among={DAPAN, PPDA}),
    case(
        "what's outstanding from the PEEL report",
        "outstanding",
        ask=True,
        among={PEEL, LEGIT, EFFECT, BETRAYAL},
    ),
    case(
        "complete list of outstanding recs", "outstanding", kind="recommendation"
    ),  # "complete" is no sign-off
    case("which items are evidenced?", "outstanding"),  # a question, never a write
    case("What's Outstanding On Stalking?", "outstanding", report=STALK),
    case("what's outstanding in CP 2014", "outstanding", report=CP),
    case("do I have anything outstanding?", "outstanding", mine=True),
    case("is there anything outstanding from the CP 2014 report?", "outstanding", report=CP),
    # ---- overdue --------------------------------------------------------------------------------
    case("what's overdue?", "overdue"),
    case("overdue", "overdue"),
    case("OVERDUE", "overdue"),
    case("whats overdeu", "overdue"),
    case("anything late?", "overdue"),
    case("Is anything overdue?", "overdue"),
    case("what is over due", "overdue"),
    case("@Tracker what's overdue", "overdue"),
    case("what's overdue on vetting?", "overdue", report=VET),
    case("overdue recs owned by Sarah Khan", "overdue", owner="Sarah Khan", kind="recommendation"),
    case("what's overdue for DCI Sarah Khan?", "overdue", owner="DCI Sarah Khan"),
    case("my overdue items", "overdue", mine=True),
    case("overdue AFIs", "overdue", kind="afi"),
    case("overdue causes of concern", "overdue", kind="cause_of_concern"),
    case("which recommendations are past their due date?", "overdue", kind="recommendation"),
    case("what have we missed the deadline on?", "overdue"),
    case("anything behind schedule from roads policing?", "overdue", report=ROADS),
    case("overdue from the CP 2014 report", "overdue", report=CP),
    case("what's overdue from VAWG?", "overdue", report=VAWG),
    case("overdue items in the custody report", "overdue", report=CUSTODY),
    case("what's late on the PPDA super-complaint", "overdue", report=PPDA),
    case("can you tell me what is overdue from crime data integrity please", "overdue", report=CDI),
    case("overdue items owned by june smith", "overdue", owner="june smith"),
    case("what's outstanding owned by Mark Owens", "outstanding", owner="Mark Owens"),  # a name, not "owns"
    # ---- due --------------------------------------------------------------------------------------
    case("anything due before Christmas?", "due", before="2026-12-24"),
    case("DUE BEFORE CHRISTMAS", "due", before="2026-12-24"),
    case("whats due by xmas", "due", before="2026-12-25"),
    case("what's due this month", "due", after="2026-11-01", before="2026-11-30"),
    case("what's due by end of March", "due", before="2027-03-31"),
    case("due by 31/12/2024", "due", before="2024-12-31"),
    case("what's due next week", "due", after="2026-11-30", before="2026-12-06"),
    case("anything due in the next 30 days", "due", after="2026-11-25", before="2026-12-25"),
    case("what is due soon", "due", after="2026-11-25", before="2026-12-25"),
    case("what's due before Christmas from vetting", "due", report=VET, before="2026-12-24"),
    case(
        "what recs are due by end of march owned by June Smith",
        "due",
        owner="June Smith",
        kind="recommendation",
        before="2027-03-31",
    ),
    case("due before christmas owned by may ellis", "due", owner="may ellis", before="2026-12-24"),
    case("what's due in January?", "due", after="2027-01-01", before="2027-01-31"),
    case(
        "due dates coming up this month for roads policing",
        "due",
        report=ROADS,
        after="2026-11-01",
        before="2026-11-30",
    ),
    case("what falls due next month", "due", after="2026-12-01", before="2026-12-31"),
    case("anything due before 31/12/2026 on the custody report", "due", report=CUSTODY, before="2026-12-30"),
    case("what's due this quarter", "due", after="2026-10-01", before="2026-12-31"),
    case("deadlines in the next two weeks", "due", after="2026-11-25", before="2026-12-09"),
    case("what AFIs are due by Easter", "due", kind="afi", before="2027-03-28"),
    case("items due after Christmas", "due", after="2026-12-26"),
    case("what's due between 1 December and 31 January", "due", after="2026-12-01", before="2027-01-31"),
    case("what's outstanding by end of March?", "due", before="2027-03-31"),
    case(
        "what is due from the PEEL 2021/22 inspection by 28/02/2027", "due", report=PEEL, before="2027-02-28"
    ),
    case(
        "what's due in 2027 from the ASB inspection",
        "due",
        report=ASB,
        after="2027-01-01",
        before="2027-12-31",
    ),
    case("my items due this month", "due", mine=True, after="2026-11-01", before="2026-11-30"),
    case("anything due on 31/12/2026", "due", after="2026-12-31", before="2026-12-31"),
    case("due by the end of next month", "due", before="2026-12-31"),
    case("whats due by friday", "due", before="2026-11-27"),
    case("any deadlines coming up soon?", "due", after="2026-11-25", before="2026-12-25"),
    case("what's coming up in December?", "due", after="2026-12-01", before="2026-12-31"),
    case("Please can you tell me what's due before Christmas?", "due", before="2026-12-24"),
    # ---- show: by number ---------------------------------------------------------------------------
    case("show rec 35", "show", item=rec(VET, "35"), kind="recommendation"),
    case("@Tracker show rec 35", "show", item=rec(VET, "35")),
    case("<at>Tracker</at> show rec 35", "show", item=rec(VET, "35")),
    case("Show Rec 35", "show", item=rec(VET, "35")),
    case("SHOW REC 35", "show", item=rec(VET, "35")),
    case("show   rec    35", "show", item=rec(VET, "35")),
    case("rec 35", "show", item=rec(VET, "35")),
    case("35", "show", item=rec(VET, "35")),
    case("show 35?", "show", item=rec(VET, "35")),
    case("can you show me rec 35 please", "show", item=rec(VET, "35")),
    case("show reccomendation 35", "show", item=rec(VET, "35")),
    case("show recomendation 34 from the vetting inspection", "show", item=rec(VET, "34")),
    case("show vetting rec 35", "show", item=rec(VET, "35")),
    case("show vetting 35", "show", item=rec(VET, "35")),
    case("vetting rec 35", "show", item=rec(VET, "35")),
    case("show vettting rec 35", "show", item=rec(VET, "35")),
    case("display rec #34", "show", item=rec(VET, "34")),
    case("rec no. 34", "show", item=rec(VET, "34")),
    case("show item 35", "show", item=rec(VET, "35")),
    case("show r35", "show", item=rec(VET, "35")),
    case("what's rec 35 about?", "show", item=rec(VET, "35")),
    case("what is recommendation 34?", "show", item=rec(VET, "34")),
    case("tell me about rec 39", "show", item=rec(VET, "39")),
    case("what's the status of rec 38?", "show", item=rec(VET, "38")),
    case("where are we on rec 39?", "show", item=rec(VET, "39")),
    case("is rec 34 done?", "show", item=rec(VET, "34")),  # a question, never a write
    case("has rec 33 been signed off?", "show", item=rec(VET, "33")),
    case("did we evidence rec 38?", "show", item=rec(VET, "38")),
    case("can you tell me if rec 35 is complete?", "show", item=rec(VET, "35")),
    case("who signed off rec 33?", "show", item=rec(VET, "33")),
    case("when is rec 35 due?", "show", item=rec(VET, "35")),
    case("show recommendation 4 of the disproportionality report", "show", item=rec(DISP, "4")),
    case("recommendation 4 of the disproportionality report", "show", item=rec(DISP, "4")),
    case(
        "show me recommendation number 4 from the disproportionality spotlight", "show", item=rec(DISP, "4")
    ),
    case("rec 4 of the S&S spotlight", "show", item=rec(DISP, "4")),
    case("show rec 5 about stop and search complaints", "show", item=rec(DISP, "5")),
    case("show rec 4", "show", ask=True),
    case("show rec 4", "show", ctx=DISP, item=rec(DISP, "4")),
    case("show rec 35", "show", ctx=DISP, item=rec(VET, "35")),  # not in the context report: unique elsewhere
    case("show rec 4 of the VAWG report", "show", ctx=DISP, item=rec(VAWG, "4")),  # named beats context
    case("show rec 5", "show", ctx=VET, item=rec(VET, "5")),
    case("show 2", "show", ctx=PEEL, item=afi(PEEL, "2")),
    case("what about rec 1?", "show", ctx=FRAUD, item=rec(FRAUD, "1")),
    case("and rec 2?", "show", ctx=FRAUD, item=rec(FRAUD, "2")),
    case("show AFI 2", "show", item=afi(PEEL, "2"), kind="afi"),
    case("AFI 2", "show", item=afi(PEEL, "2")),
    case("afi2", "show", item=afi(PEEL, "2")),
    case("show area for improvement 3", "show", item=afi(PEEL, "3")),
    case("details of AFI 4", "show", item=afi(PEEL, "4")),
    case("show PEEL AFI 2", "show", item=afi(PEEL, "2")),
    case("show AFI 2 from PEEL 2021/22", "show", item=afi(PEEL, "2")),
    case("show 7.1", "show", item=rec(CSE, "7.1")),
    case("7.1", "show", item=rec(CSE, "7.1")),
    case("rec 7.1", "show", item=rec(CSE, "7.1")),
    case("show CSE rec 8.2", "show", item=rec(CSE, "8.2")),
    case("show vetting rec 99", "show", report=VET, not_found=True),
    case("show rec 99", "show", not_found=True),
    # ---- show: by words ----------------------------------------------------------------------------
    case("show the body worn video one", "show", item=afi(PEEL, "2")),
    case("the body worn video one", "show", item=afi(PEEL, "2")),
    case("tell me about the BWV one", "show", item=afi(PEEL, "2")),
    case("show me the body-worn video recommendation", "show", item=afi(PEEL, "2")),
    case("show the CCU one", "show", ask=True, among={VET, BETRAYAL}),
    case("the CCU one?", "show", ask=True, among={VET, BETRAYAL}),
    case("show the CCU one from the vetting report", "show", ask=True, among={VET}),
    case("show the misogyny one", "show", report=VET),
    case("show the misogny one", "show", report=VET),
    case("show the vetting report", "show", report=VET),
    case("show the organised crime one", "show", ask=True, among={EFFECT}),  # not crime data integrity
    case("show the IT systems one from vetting", "show", item=rec(VET, "35")),
    case("show the cannabis one", "show", item=rec(DISP, "7")),
    case("show the dashcam one", "show", item=rec(ROADS, "4")),
    case("show the whistleblowing one", "show", item=rec(VET, "22")),
    case("show the strip search one", "show", item=afi(CUSTODY)),
    case("show the romance fraud one", "show", item=rec(FRAUD, "7")),
    case("show the community trigger one", "show", item=rec(ASB, "3")),
    case("show the voice of the child one", "show", ask=True, among={DAPAN, JTAI}),
    case("show the voice of the child one from the JTAI", "show", item=afi(JTAI)),
    case("show the stop and search one", "show", ask=True, among={DISP, PEEL, LEGIT}),
    case(
        "show the cause of concern from crime data integrity", "show", item=coc(CDI), kind="cause_of_concern"
    ),
    case(
        "show the cause of concern from the custody report", "show", report=CUSTODY, kind="cause_of_concern"
    ),
    case("what's the sex offenders one?", "show", ask=True, among={PEEL, CP}),  # PEEL AFI 1 and CP rec 5
    case("show the missing children one", "show", item=rec(CP, "3")),
    case("show the helicopter one", "show", not_found=True),
    # ---- owner ----------------------------------------------------------------------------------
    case("who owns rec 35", "owner", item=rec(VET, "35")),
    case("who owns the CCU one", "owner", ask=True, among={VET, BETRAYAL}),
    case("who's the lead for AFI 3?", "owner", item=afi(PEEL, "3")),
    case("who is responsible for the body worn video one?", "owner", item=afi(PEEL, "2")),
    case("owner of rec 34", "owner", item=rec(VET, "34")),
    case("who leads on rec 4 of the disproportionality report", "owner", item=rec(DISP, "4")),
    case("who owns rec 4", "owner", ask=True),
    case("who owns rec 4", "owner", ctx=RAPE, item=rec(RAPE, "4")),
    case("who has 7.1", "owner", item=rec(CSE, "7.1")),
    case("whos the owner of the dashcam one", "owner", item=rec(ROADS, "4")),
    case("who is dealing with the cannabis one?", "owner", item=rec(DISP, "7")),
    case("@Tracker who owns 39?", "owner", item=rec(VET, "39")),
    case("WHO OWNS REC 38", "owner", item=rec(VET, "38")),
    case("who owns the vetting one", "owner", ask=True, among={VET}),
    case("who is the lead for the community trigger recommendation", "owner", item=rec(ASB, "3")),
    case("who looks after AFI 1", "owner", item=afi(PEEL, "1")),
    case("who's in charge of the romance fraud one", "owner", item=rec(FRAUD, "7")),
    # ---- assign ---------------------------------------------------------------------------------
    case("assign rec 35 to DCI Patel", "assign", item=rec(VET, "35"), owner="DCI Patel"),
    case("please assign rec 35 to DCI Patel", "assign", item=rec(VET, "35"), owner="DCI Patel"),
    case("asign rec 35 to DCI Patel", "assign", item=rec(VET, "35"), owner="DCI Patel"),
    case("assign rec 35 to Supt Dave Owens", "assign", item=rec(VET, "35"), owner="Supt Dave Owens"),
    case("reassign 34 to Supt Mark Owen", "assign", item=rec(VET, "34"), owner="Supt Mark Owen"),
    case("give AFI 3 to Insp Jo Bell", "assign", item=afi(PEEL, "3"), owner="Insp Jo Bell"),
    case("make DCI Patel the owner of rec 39", "assign", item=rec(VET, "39"), owner="DCI Patel"),
    case("change the owner of rec 38 to Sarah Khan", "assign", item=rec(VET, "38"), owner="Sarah Khan"),
    case(
        "set the lead for the dashcam one to June Smith", "assign", item=rec(ROADS, "4"), owner="June Smith"
    ),
    case(
        "hand rec 7.1 over to Det Supt Claire Hughes",
        "assign",
        item=rec(CSE, "7.1"),
        owner="Det Supt Claire Hughes",
    ),
    case("allocate rec 6 of not optional to June Smith", "assign", item=rec(ROADS, "6"), owner="June Smith"),
    case(
        "assign the item relating to IT systems in vetting to Mark Owen",
        "assign",
        item=rec(VET, "35"),
        owner="Mark Owen",
    ),
    case("assign the CCU one to DCI Patel", "assign", ask=True, among={VET, BETRAYAL}, owner="DCI Patel"),
    case("assign rec 4 to Ann Cole", "assign", ask=True, owner="Ann Cole"),
    case("assign rec 4 to Ann Cole", "assign", ctx=DISP, item=rec(DISP, "4"), owner="Ann Cole"),
    case("assign rec 35 to me", "assign", item=rec(VET, "35"), mine=True),
    # ---- mark evidenced -----------------------------------------------------------------------------
    case(
        "mark 34 as evidenced - CCU now tasks intel routinely",
        "mark_evidenced",
        item=rec(VET, "34"),
        evidence="CCU now tasks intel routinely",
    ),
    case(
        "mark 34 as evidenced: CCU now tasks intel routinely",
        "mark_evidenced",
        item=rec(VET, "34"),
        evidence="CCU now tasks intel routinely",
    ),
    case(
        f"mark rec 35 as evidenced: see {A} and {B}",
        "mark_evidenced",
        item=rec(VET, "35"),
        evidence=f"see {A} and {B}",
        links=[A, B],
    ),
    case("mark rec 39 as evidenced", "mark_evidenced", item=rec(VET, "39")),
    case("Mark Rec 39 As Evidenced", "mark_evidenced", item=rec(VET, "39")),
    case("@Tracker mark rec 39 as evidenced", "mark_evidenced", item=rec(VET, "39")),
    case(
        "mark rec 4 as evidenced: data published monthly",
        "mark_evidenced",
        ask=True,
        evidence="data published monthly",
    ),
    case(
        "mark rec 4 as evidenced: data published monthly",
        "mark_evidenced",
        ctx=DISP,
        item=rec(DISP, "4"),
        evidence="data published monthly",
    ),
    case(
        "mark the CCU one as evidenced: intel tasking in place",
        "mark_evidenced",
        ask=True,
        among={VET, BETRAYAL},
        evidence="intel tasking in place",
    ),
    case(
        "mark the body worn video one as evidenced - footage review process live",
        "mark_evidenced",
        item=afi(PEEL, "2"),
        evidence="footage review process live",
    ),
    case(
        "mark the stop and search one as done: panel meets monthly",
        "mark_evidenced",
        ask=True,
        evidence="panel meets monthly",
    ),
    case(
        "mark AFI 2 as done — BWV review process in place",
        "mark_evidenced",
        item=afi(PEEL, "2"),
        evidence="BWV review process in place",
    ),
    case(
        "evidence for rec 39: STA approved by the ACC on 3 Nov",
        "mark_evidenced",
        item=rec(VET, "39"),
        evidence="STA approved by the ACC on 3 Nov",
    ),
    case(
        "please mark 7.1 as evidenced: CSE now in the strategic assessment",
        "mark_evidenced",
        item=rec(CSE, "7.1"),
        evidence="CSE now in the strategic assessment",
    ),
    case(
        "mark rec 38 as ready for sign off: categories mapped to NPCC list",
        "mark_evidenced",
        item=rec(VET, "38"),
        evidence="categories mapped to NPCC list",
    ),
    case(
        "mark 34 as evidenced with note intel tasking live",
        "mark_evidenced",
        item=rec(VET, "34"),
        evidence="intel tasking live",
    ),
    case("mark vetting 34 as evidenced: done", "mark_evidenced", item=rec(VET, "34"), evidence="done"),
    case(
        "mark the vetting one as evidenced: all done",
        "mark_evidenced",
        ask=True,
        among={VET},
        evidence="all done",
    ),
    case(
        "mark rec 35 as evidneced: monitoring live",
        "mark_evidenced",
        item=rec(VET, "35"),
        evidence="monitoring live",
    ),
    case("mark rec 99 as evidenced: x", "mark_evidenced", not_found=True, evidence="x"),
    case("done rec 34: CCU tasks intel", "mark_evidenced", item=rec(VET, "34"), evidence="CCU tasks intel"),
    case(
        "mark 33 as evidenced: relationships in place with sex-worker support services",
        "mark_evidenced",
        item=rec(VET, "33"),
        evidence="relationships in place with sex-worker support services",
    ),
    # ---- add update ---------------------------------------------------------------------------------
    case(
        "add update to rec 38: categories mapped, go-live in May",
        "add_update",
        item=rec(VET, "38"),
        evidence="categories mapped, go-live in May",
    ),
    case(
        "add an update to rec 39: threat assessment drafted",
        "add_update",
        item=rec(VET, "39"),
        evidence="threat assessment drafted",
    ),
    case(
        "update on AFI 3: new call handling system live in February",
        "add_update",
        item=afi(PEEL, "3"),
        evidence="new call handling system live in February",
    ),
    case(
        "note for rec 4 of the disproportionality report: data now published monthly",
        "add_update",
        item=rec(DISP, "4"),
        evidence="data now published monthly",
    ),
    case(
        "add a note to the dashcam one: portal upgraded",
        "add_update",
        item=rec(ROADS, "4"),
        evidence="portal upgraded",
    ),
    case(
        "add update to the CCU one: meeting held",
        "add_update",
        ask=True,
        among={VET, BETRAYAL},
        evidence="meeting held",
    ),
    case(
        "log progress on rec 7.2: forensic kiosks installed",
        "add_update",
        item=rec(CSE, "7.2"),
        evidence="forensic kiosks installed",
    ),
    case("add update to rec 4: panel met", "add_update", ask=True, evidence="panel met"),
    case(
        "update rec 35: audit software procured",
        "add_update",
        item=rec(VET, "35"),
        evidence="audit software procured",
    ),
    case(
        "add comment to rec 2 of the fraud review - victims' hub launched",
        "add_update",
        item=rec(FRAUD, "2"),
        evidence="victims' hub launched",
    ),
    case(f"add update to rec 38: see {A}", "add_update", item=rec(VET, "38"), evidence=f"see {A}", links=[A]),
    case("ADD UPDATE TO REC 39: STA AT BOARD", "add_update", item=rec(VET, "39"), evidence="STA AT BOARD"),
    case(
        "post an update on rec 1 of the ASB report: incident recording audited",
        "add_update",
        item=rec(ASB, "1"),
        evidence="incident recording audited",
    ),
    case(
        "add update to the whistleblowing one: policy refreshed",
        "add_update",
        item=rec(VET, "22"),
        evidence="policy refreshed",
    ),
    # ---- reopen / sign off --------------------------------------------------------------------------
    case("reopen rec 38", "reopen", item=rec(VET, "38")),
    case("re-open rec 33", "reopen", item=rec(VET, "33")),
    case("reopen AFI 1", "reopen", item=afi(PEEL, "1")),
    case("mark rec 38 as in progress", "reopen", item=rec(VET, "38")),
    case("set rec 37 back to open", "reopen", item=rec(VET, "37")),
    case("reopen the CCU one", "reopen", ask=True, among={VET, BETRAYAL}),
    case("reopen rec 4", "reopen", ask=True),
    case("please reopen vetting 33", "reopen", item=rec(VET, "33")),
    case("sign off vetting rec 33", "sign_off", item=rec(VET, "33")),
    case("sign off rec 34", "sign_off", item=rec(VET, "34")),
    case("HMICFRS have signed off rec 34", "sign_off", item=rec(VET, "34")),
    case("mark rec 35 as signed off", "sign_off", item=rec(VET, "35")),
    case("close rec 39", "sign_off", item=rec(VET, "39")),
    case("mark AFI 1 as complete", "sign_off", item=afi(PEEL, "1")),
    case("sign off rec 4", "sign_off", ask=True),
    case("sign-off rec 7.3", "sign_off", item=rec(CSE, "7.3")),
    case("sign off the CCU one", "sign_off", ask=True, among={VET, BETRAYAL}),
    case("signoff rec 38", "sign_off", item=rec(VET, "38")),
    case("sign off the stalking one", "sign_off", ask=True, among={STALK}),
    # ---- entity-first defaults: what a message names says what it wants ---------------------------
    case("PEEL 2021/22 status", "outstanding", report=PEEL),
    case("how are we doing on the fraud review?", "outstanding", report=FRAUD),
    case("where are we with roads policing", "outstanding", report=ROADS),
    case("vetting recs", "outstanding", report=VET, kind="recommendation"),
    case("the stalking report", "outstanding", report=STALK),
    case("what haven't we done on custody?", "outstanding", report=CUSTODY),
    case("Sarah Khan", "outstanding", owner="Sarah Khan"),
    case("what's mine?", "outstanding", mine=True),
    case("anything for me?", "outstanding", mine=True),
    case("what's outstanding for Public Protection?", "outstanding", department="Public Protection"),
    case("open items in the ICT department", "outstanding", department="ICT"),
    case("which ones are not for us?", "outstanding", status=["not_for_us"]),
    case("list the signed off ones", "outstanding", status=["signed_off"]),
    case("is anything waiting for HMICFRS to sign off?", "outstanding", status=["evidenced"]),
    case("show everything that is evidenced and awaiting sign-off", "outstanding", status=["evidenced"]),
    case("what's in progress on vetting?", "outstanding", report=VET, status=["in_progress"]),
    case("items for the IOPC", "outstanding", addressee="IOPC"),
    case("which recs are for other bodies?", "outstanding", kind="recommendation", addressee="other"),
    case("PEEL question 6 items", "outstanding", peel_question=6),
    case("thanks", "greeting"),
    case("cheers, that's great", "greeting"),
    # ---- two slips ---------------------------------------------------------------------------------
    case("shwo rec 35 from the vettign report", "show", item=rec(VET, "35")),
    case(
        "mrak 39 as evidnced: threat assessment signed",
        "mark_evidenced",
        item=rec(VET, "39"),
        evidence="threat assessment signed",
    ),
    case("whats outstnading from the custdoy report", "outstanding", report=CUSTODY),
    case("waht's overdeu on vetting?", "overdue", report=VET),
    # ---- what changed ------------------------------------------------------------------------------
    case("what changed this week?", "changes", since="2026-11-23"),
    case("what's changed since Monday?", "changes", since="2026-11-23"),
    case("what did Mark Owen change this week?", "changes", actor="Mark Owen", since="2026-11-23"),
    case("any updates since the 1st of November?", "changes", since="2026-11-01"),
    case("what's happened recently", "changes", since="2026-11-18"),
    case("recent changes on vetting", "changes", report=VET, since="2026-11-18"),
    # ---- the committee's counts ------------------------------------------------------------------------
    case(
        "how many have been signed off in the last 3 months?",
        "summary",
        measure="signed_off",
        since="2026-08-25",
    ),
    case("what's been added since the 1st of October?", "summary", measure="added", since="2026-10-01"),
    case("how many are for us and how many for the IOPC or NPCC?", "summary", measure="addressee"),
    case(
        "what did we close in October?",
        "summary",
        measure="signed_off",
        since="2026-10-01",
        status=["signed_off"],
    ),
    case("how many re-targeted more than once?", "summary", measure="retargeted"),
    # ---- moving a target; the committee's own record --------------------------------------------------
    case(
        "move rec 35's target date to 30 June 2027: IT supplier delay",
        "retarget",
        item=rec(VET, "35"),
        evidence="IT supplier delay",
        target_date="2027-06-30",
    ),
    case(
        "extend the deadline for AFI 2 to 31 March 2027: new BWV system",
        "retarget",
        item=afi(PEEL, "2"),
        evidence="new BWV system",
        target_date="2027-03-31",
    ),
    case("the JAC met on 22 September 2026", "record_meeting", target_date="2026-09-22"),
    case(
        "record that the audit committee met on 3 November 2026", "record_meeting", target_date="2026-11-03"
    ),
    case("the JAC pack please", "committee_pack"),
    case("write the paper for the audit committee", "committee_pack"),
    # ---- writes in the words people use ---------------------------------------------------------------
    case("tick off rec 39: STA approved", "mark_evidenced", item=rec(VET, "39"), evidence="STA approved"),
    case("rec 39 is done: STA approved", "mark_evidenced", item=rec(VET, "39"), evidence="STA approved"),
    case("un-mark rec 38", "reopen", item=rec(VET, "38")),
    case("put rec 38 back to open", "reopen", item=rec(VET, "38")),
    case("June Smith is now leading on rec 35", "assign", item=rec(VET, "35"), owner="June Smith"),
    case("is rec 39 done yet?", "show", item=rec(VET, "39")),
    # ---- out of scope --------------------------------------------------------------------------------
    case("how many officers do we have on nights", "unknown", out_of_scope=True),
    case("book me a pool car for Tuesday", "unknown"),
    case("what's the canteen menu today", "unknown"),
    # ---- unknown ----------------------------------------------------------------------------------
    case("what's the weather like?", "unknown"),
    case("asdfgh", "unknown"),
    case("tell me a joke", "unknown"),
    case("order a pizza", "unknown"),
    case("bananas", "unknown"),
    case("who won the football", "unknown"),
    case("lorem ipsum dolor", "unknown"),
    case("the quick brown fox", "unknown"),
    case("ok", "unknown"),
    case("hmm", "unknown"),
]


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(Index(corpus.read_model()))


def expected(intent: str, expect: dict[str, Any]) -> dict[str, Any]:
    """The to_json fields a row pins down: its own, plus the defaults for its kind of intent."""
    exp: dict[str, Any] = {"intent": intent, "needs_clarification": bool(expect.get("ask"))}
    if intent in LISTS:
        exp |= {"report": None, "item": None, "kind": None, "owner": None, "mine": False,
                "due_before": None, "due_after": None, "theme": None, "evidence": None}  # fmt: skip
    elif intent in ITEM_INTENTS:
        exp |= {"evidence": None, "links": [], "due_before": None, "due_after": None, "theme": None}
        exp |= {"mine": False} | ({} if intent == "assign" else {"owner": None})
        exp |= {"not_found": False} if "not_found" not in expect else {}
        if "item" not in expect:
            exp["item"] = None
    else:
        exp |= {"report": None, "item": None, "evidence": None}
    for key, value in expect.items():
        if key == "item":
            exp["item"] = {"report": value[0], "kind": value[1], "number": value[2] or None}
            exp["report"] = value[0]
        elif key == "before":
            exp["due_before"] = value
        elif key == "after":
            exp["due_after"] = value
        elif key not in ("ask", "among"):
            exp[key] = value
    if expect.get("ask"):
        exp["item"] = None
    return exp


@pytest.mark.parametrize(("text", "intent", "ctx", "expect"), CASES)
def test_phrasing(
    resolver: Resolver, text: str, intent: str, ctx: str | None, expect: dict[str, Any]
) -> None:
    parsed = understand(text, Context(last_report_key=ctx), resolver, TODAY)
    got = parsed.to_json()
    want = expected(intent, expect)
    actual = {k: got.get(k) for k in want}
    if actual.get("item"):
        actual["item"] = {k: actual["item"].get(k) for k in ("report", "kind", "number")}
    if isinstance(actual.get("owner"), str) and isinstance(want.get("owner"), str):
        actual["owner"], want["owner"] = actual["owner"].casefold(), want["owner"].casefold()
    assert actual == want, f"{text!r} -> {json.dumps(got)}"
    if expect.get("ask"):
        reports = {c["report"] for c in got["candidates"]}
        assert len(got["candidates"]) >= 2, got
        if "among" in expect:
            assert reports <= expect["among"], f"candidates from {reports}, expected within {expect['among']}"
    if intent == "unknown":
        assert got["suggestions"], "an unknown phrasing must come with suggestions"


def test_the_table_is_large_and_covers_every_intent() -> None:
    assert len(CASES) >= 250
    covered = {p.values[1] for p in CASES}
    assert covered == set(INTENTS)


@pytest.mark.parametrize(
    ("text", "intent", "ctx", "expect"), [c for c in CASES if c.values[1] in WRITE_INTENTS]
)
def test_a_write_never_guesses(
    resolver: Resolver, text: str, intent: str, ctx: str | None, expect: dict[str, Any]
) -> None:
    """Ambiguous writes ask, with real choices; a chosen item is the only one that fits."""
    parsed = understand(text, Context(last_report_key=ctx), resolver, TODAY)
    if parsed.needs_clarification:
        assert parsed.item is None
        assert len({c.item.id for c in parsed.candidates if c.item}) >= 2
    if parsed.item is not None:
        assert not parsed.needs_clarification
        best = max((c.score for c in parsed.candidates if c.item == parsed.item), default=100.0)
        rivals = [c for c in parsed.candidates if c.item is not None and c.item != parsed.item]
        assert all(c.score <= best - 10 for c in rivals), "a close rival means the write should have asked"


def test_to_json_is_plain_json_with_candidates_when_asking(resolver: Resolver) -> None:
    parsed = understand("show rec 4", Context(), resolver, TODAY)
    data = json.loads(json.dumps(parsed.to_json()))
    assert data["needs_clarification"] is True and data["item"] is None
    numbers = {(c["report"], c["number"]) for c in data["candidates"]}
    assert (DISP, "4") in numbers and (VAWG, "4") in numbers
    assert all(set(c) >= {"report", "number", "score", "kind"} for c in data["candidates"])


def test_a_confident_answer_lists_no_candidates(resolver: Resolver) -> None:
    data = understand("show rec 35", Context(), resolver, TODAY).to_json()
    assert data["item"] == {"report": VET, "kind": "recommendation", "number": "35", "id": data["item"]["id"]}
    assert data["candidates"] == []


def test_context_fills_only_a_missing_report(resolver: Resolver) -> None:
    assert (
        understand("show rec 4", Context(last_report_key=RAPE), resolver, TODAY).item.report_id
        == resolver.report_by_key(RAPE).id
    )
    named = understand("show rec 4 of the fraud review", Context(last_report_key=RAPE), resolver, TODAY)
    assert named.report is not None and named.report.key == FRAUD


def test_evidence_is_kept_as_typed(resolver: Resolver) -> None:
    parsed = understand(
        "Mark 34 as evidenced:   CCU now tasks intel  routinely (see minutes) ", Context(), resolver, TODAY
    )
    assert parsed.evidence == "CCU now tasks intel routinely (see minutes)"


def test_long_messages_are_cut_not_refused(resolver: Resolver) -> None:
    parsed = understand("show rec 35 " + "x" * 10_000, Context(), resolver, TODAY)
    assert parsed.intent == "show"


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "<at>Tracker</at>"])
def test_empty_messages_get_help(resolver: Resolver, text: str) -> None:
    assert understand(text, Context(), resolver, TODAY).intent == "help"


def test_parsed_is_built_from_resolver_answers_only(resolver: Resolver) -> None:
    """to_json needs nothing but the Parsed itself (no reaching into the resolver)."""
    parsed = understand("who owns the CCU one", Context(), resolver, TODAY)
    assert isinstance(parsed, Parsed)
    assert all(c.report is not None for c in parsed.candidates)
