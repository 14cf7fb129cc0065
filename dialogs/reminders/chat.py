"""'remind me about my items' and 'stop reminding me': the owner's own choice, recorded with who
made it and when. Said in a personal chat, it also tells the bot where to send them. Also 'add
evidence' (no item named), which offers the evidence dialog."""

from __future__ import annotations

from dialogs.cards import message_card
from dialogs.deps import Deps
from dialogs.language import Parsed
from dialogs.surfaces import form_button
from dialogs.types import Outcome, Reply, Turn
from storage.people import People

WHEN = "every month, and again shortly before each item's due date"


async def remind_on_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Opt in; in personal chat, remember this chat as where reminders go."""
    if not turn.user.aad_id:
        return Outcome.say("I can't set up reminders: Teams did not tell me who you are.")
    people = People(deps.store)
    if turn.conversation_type == "personal" and turn.service_url and turn.reference:
        await people.link(turn.user.aad_id, turn.user.name, conversation_id=turn.conversation_id,
                          service_url=turn.service_url, reference=turn.reference, tenant_id=turn.tenant_id,
                          channel_id=turn.channel_id)  # fmt: skip
    person = await people.set_remind(turn.user.aad_id, turn.user.name, True, by=turn.user.name)
    where = "here" if turn.conversation_type == "personal" else "in our 1:1 chat"
    text = (f"OK: I'll message you {where} {WHEN}, listing your items that are overdue or due soon, "
            "each with an 'Add update' button. Say \"stop reminding me\" to stop.")  # fmt: skip
    if not person.reachable:
        text += ' Open a chat with me and say "remind me" there once, so I know where to send them.'
    return Outcome.say(text)


async def remind_off_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Opt out (recorded, so an admin's default of 'on' no longer applies to this person)."""
    if not turn.user.aad_id:
        return Outcome.say("I can't change reminders: Teams did not tell me who you are.")
    await People(deps.store).set_remind(turn.user.aad_id, turn.user.name, False, by=turn.user.name)
    return Outcome.say('OK: no more reminders. Say "remind me about my items" to start them again.')


async def evidence_form_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """ "add evidence" with no item: the button that opens the evidence dialog (a bot cannot open
    one unasked; the item is then picked in the dialog by typeahead)."""
    card, fallback = message_card(
        "Add evidence",
        ["Opens a form: pick the item, say what was done (several lines are fine), add links."],
        [form_button("Add evidence…")],
    )
    return Outcome(replies=[Reply(fallback + '\nOr type it: "mark 34 as evidenced: what was done".', card)])
