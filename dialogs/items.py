"""One item: show it, say who owns it, and ask which one when a reference is unclear."""

from __future__ import annotations

import uuid
from typing import Any

from bot.understand import Parsed
from dialogs.cards import choice_card, detail_card, execute, item_label, message_card, report_name
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.store import NotFound, Store
from storage.views import ItemDetail, ItemView


def describe_ref(parsed: Parsed, model: ReadModel) -> str:
    what = {"afi": "AFI", "cause_of_concern": "cause of concern"}.get(parsed.kind or "", "recommendation")
    where = f" in {report_name(parsed.report)}" if parsed.report else ""
    if parsed.number:
        return f"{what} {parsed.number}{where}"
    if parsed.item_words:
        return f"an item about \"{parsed.item_words}\"{where}"
    return f"that item{where}"


def ask_which(parsed: Parsed, model: ReadModel, pending: dict[str, Any]) -> Outcome:
    """Several items fit: offer them as choices and remember what we were going to do."""
    token = uuid.uuid4().hex
    options: list[tuple[str, dict[str, Any]]] = []
    ids: list[int] = []
    for cand in parsed.candidates[:6]:
        if cand.item is None:
            continue
        item = cand.item
        ids.append(item.id)
        label = f"{item_label(item, model.reports.get(item.report_id))}: {item.text}"
        options.append((label, {"token": token, "item_id": item.id}))
    if parsed.number:
        question = f"Which {describe_ref(parsed, model)} do you mean?"
    else:
        question = f"Which item about \"{parsed.item_words or 'that'}\" do you mean?"
    card, fallback = choice_card(question, options)
    state_pending = {**pending, "stage": "choose", "token": token, "options": ids}
    return Outcome(replies=[Reply(fallback, card)], state={"pending": state_pending})


def ask_which_report(parsed: Parsed, pending: dict[str, Any]) -> Outcome:
    """Several reports fit a list request: let the person pick one."""
    token = uuid.uuid4().hex
    options = [(r.title, {"token": token, "report": r.key}) for r in parsed.report_candidates[:6]]
    card, fallback = choice_card("Which report do you mean?", options)
    return Outcome(
        replies=[Reply(fallback, card)],
        state={"pending": {**pending, "stage": "choose", "token": token, "reports": [r.key for r in parsed.report_candidates[:6]]}},
    )


def not_found(parsed: Parsed, model: ReadModel) -> Outcome:
    """Say so, and offer the nearest items (as Show buttons, never as a write)."""
    lines = []
    actions = []
    for cand in parsed.candidates[:3]:
        if cand.item:
            label = item_label(cand.item, model.reports.get(cand.item.report_id))
            lines.append(f"{label}: {cand.item.text[:120]}")
            actions.append(execute(f"Show {label}"[:40], "show", item_id=cand.item.id))
    if parsed.number and parsed.report:
        nums = sorted({i.number for i in model.items_of_report(parsed.report.id) if i.number})
        if nums:
            lines.append(f"{report_name(parsed.report)} has numbers: {', '.join(nums[:30])}{'…' if len(nums) > 30 else ''}.")
    title = f"I can't find {describe_ref(parsed, model)}."
    if lines and actions:
        title += " Did you mean one of these?"
    elif not lines:
        lines.append("Try the report's name and the number as printed, e.g. \"show vetting rec 34\".")
    card, fallback = message_card(title, lines, actions or None)
    return Outcome(replies=[Reply(fallback, card)])


async def show_item(store: Store, model: ReadModel, item_id: int, turn: Turn, *, can_write: bool = True) -> Outcome:
    """An item in full. The item and its report come from the read model; only the evidence
    history is read from the store."""
    item = model.items.get(item_id)
    report = model.reports.get(item.report_id) if item else None
    if item is None or report is None:
        try:
            detail = await store.item_detail(item_id)
        except NotFound:
            return Outcome.say("That item no longer exists.")
    else:
        detail = ItemDetail(item=item, report=report, evidence=await store.evidence(item_id))
    card, fallback = detail_card(detail, turn.today, can_write=can_write)
    return Outcome(replies=[Reply(fallback, card)], state={"last_report": detail.report.key, "last_item": item_id})


def owner_outcome(item: ItemView, model: ReadModel) -> Outcome:
    label = item_label(item, model.reports.get(item.report_id))
    who = item.owner_name or "nobody yet"
    text_ = f"{label} is owned by {who}." if item.owner_name else f"{label} has no owner yet. An admin can say \"assign {item.number or 'it'} to NAME\"."
    card, fallback = message_card(text_, [item.text[:300]], [execute("Show", "show", item_id=item.id)])
    return Outcome(replies=[Reply(fallback, card)], state={"last_report": model.reports[item.report_id].key})
