"""What a person can ask for: the intents, and which of them change the tracker."""

from __future__ import annotations

import enum


class Intent(enum.StrEnum):
    """One kind of request. The values are what ``tracker parse --json`` prints."""

    GREETING = "greeting"
    HELP = "help"
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIBE = "subscribe"
    DIGEST_NOW = "digest_now"
    SIGN_OFF = "sign_off"
    REOPEN = "reopen"
    MARK_EVIDENCED = "mark_evidenced"
    ASSIGN = "assign"
    ADD_UPDATE = "add_update"
    OWNER = "owner"
    SUMMARY = "summary"
    OVERDUE = "overdue"
    DUE = "due"
    SHOW = "show"
    OUTSTANDING = "outstanding"
    CHANGES = "changes"
    RETARGET = "retarget"
    RECORD_MEETING = "record_meeting"
    COMMITTEE_PACK = "committee_pack"
    REMIND_ON = "remind_on"  # issue 15: owner reminders, opt-in
    REMIND_OFF = "remind_off"
    EVIDENCE_FORM = "evidence_form"  # "add evidence" alone: the evidence dialog's button
    LINK_OWNER = "link_owner"  # "these are mine": never said, offered (items owned under the asker's name)
    UNKNOWN = "unknown"


# Writes to one item: proposed back to the person, and written only on their Yes.
ITEM_WRITES = frozenset(
    {Intent.MARK_EVIDENCED, Intent.ADD_UPDATE, Intent.REOPEN, Intent.SIGN_OFF, Intent.ASSIGN, Intent.RETARGET}
)
# Writes that carry a note after ":" or " - " ("mark 34 as evidenced: CCU now tasks intel").
EVIDENCE_INTENTS = ITEM_WRITES - {Intent.ASSIGN}  # (a re-target's note is its reason)
# Anything that changes what the bot stores or where it posts.
WRITES = ITEM_WRITES | {
    Intent.SUBSCRIBE,
    Intent.UNSUBSCRIBE,
    Intent.RECORD_MEETING,
    Intent.REMIND_ON,
    Intent.REMIND_OFF,
}
ITEM_INTENTS = ITEM_WRITES | {Intent.SHOW, Intent.OWNER}
LIST_INTENTS = frozenset({Intent.OUTSTANDING, Intent.OVERDUE, Intent.DUE, Intent.SUMMARY})
PLAIN_INTENTS = frozenset(
    {
        Intent.GREETING,
        Intent.HELP,
        Intent.SUBSCRIBE,
        Intent.UNSUBSCRIBE,
        Intent.DIGEST_NOW,
        Intent.REMIND_ON,
        Intent.REMIND_OFF,
        Intent.EVIDENCE_FORM,
    }
)
# Intents no message asks for: the bot offers them and a Yes carries them out.
OFFERED_ONLY = frozenset({Intent.LINK_OWNER})
