"""One item: show it, say who owns it, propose a change to it, and ask which one when unclear."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from dialogs.cards import choice_card, detail_card, execute, item_label, message_card, report_name
from dialogs.deps import Deps
from dialogs.language import Intent, Parsed
from dialogs.language.intents import ITEM_WRITES
from dialogs.lists import run_list
from dialogs.queries import ListQuery
from dialogs.state import Pending, Stage
from dialogs.surfaces import detail_surfaces
from dialogs.types import Outcome, Reply, Turn, Verb
from dialogs.writes import WriteFields
from storage.readmodel import ReadModel
from storage.store import NotFound, Store
from storage.views import ItemDetail, ItemView


async def item_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Show, who owns, and the writes: resolve the item, ask when unclear, then act."""
    fields = _fields(parsed, turn)
    if parsed.items and not parsed.needs_clarification and not parsed.not_found:
        if parsed.intent in ITEM_WRITES:
            try:
                items = [await current(deps, i.id) for i in parsed.items]
            except NotFound:
                return Outcome.say("One of those items no longer exists: nothing was changed.")
            return await deps.writes.propose_many(parsed.intent, items, turn, fields)
        return await show_several(deps, parsed.items, turn)
    if parsed.needs_clarification:
        base = Pending(
            stage=Stage.CHOOSE, intent=parsed.intent, user=turn.user_key, expires=turn.expiry,
            origin_activity=turn.activity_id, evidence=fields.evidence, links=fields.links, owner=fields.owner,
            owner_aad_id=fields.owner_aad_id,
        )  # fmt: skip
        return ask_which(parsed, deps.model, base)
    if parsed.item is None:
        if parsed.intent in (Intent.SHOW, Intent.OWNER) and parsed.report and not parsed.number:
            # "show the vetting report", "who owns the child protection ones?": its list, owners and all
            return run_list(ListQuery(query="outstanding", report=parsed.report.key), deps.model, turn.today)
        return not_found(parsed, deps.model)
    return await act(deps, parsed.intent, parsed.item.id, turn, fields)


async def act(deps: Deps, intent: Intent, item_id: int, turn: Turn, fields: WriteFields) -> Outcome:
    """Do ``intent`` to a known item (resolved, chosen, or clicked)."""
    item = deps.model.items.get(item_id)
    if item is None:
        try:
            item = await deps.store.get_item(item_id)
        except NotFound:
            return Outcome.say("That item no longer exists.")
    if intent is Intent.SHOW:
        return await show_item(deps.store, deps.model, item_id, turn)
    if intent is Intent.OWNER:
        return owner_outcome(item, deps.model)
    try:
        item = await current(deps, item_id)
    except NotFound:
        return Outcome.say("That item no longer exists.")
    out = await deps.writes.propose(intent, item, turn, fields)
    report = deps.model.reports.get(item.report_id)
    return out.also(last_report=report.key) if report else out


async def current(deps: Deps, item_id: int) -> ItemView:
    """The item as it stands, for a write to propose on: the read model's copy when the database
    has the same version (one statement), else the row itself (another instance changed it and
    this one has not heard yet). Raises NotFound."""
    item = deps.model.items.get(item_id)
    if item is not None and await deps.store.item_version(item_id) == item.version:
        return item
    return await deps.store.get_item(item_id)


def _fields(parsed: Parsed, turn: Turn) -> WriteFields:
    """What a write carries; "assign rec 35 to me" means the person speaking."""
    owner: str | None = parsed.owner
    owner_aad_id: str | None = None
    if parsed.mine and parsed.intent is Intent.ASSIGN:
        owner, owner_aad_id = turn.user.name, turn.user.aad_id
    return WriteFields(evidence=parsed.evidence, links=parsed.links, owner=owner, owner_aad_id=owner_aad_id,
                       target=parsed.target_date)  # fmt: skip


async def show_several(deps: Deps, items: tuple[ItemView, ...], turn: Turn) -> Outcome:
    """ "show 33 and 34": each in full, in the order named."""
    out = Outcome()
    for item in items[:5]:
        one = await show_item(deps.store, deps.model, item.id, turn)
        out.replies.extend(one.replies)
    return out.also(last_shown=tuple(i.id for i in items), last_item=items[-1].id)


def describe_ref(parsed: Parsed) -> str:
    what = {"afi": "AFI", "cause_of_concern": "cause of concern"}.get(parsed.kind or "", "recommendation")
    where = f" in {report_name(parsed.report)}" if parsed.report else ""
    if parsed.number:
        return f"{what} {parsed.number}{where}"
    if parsed.item_words:
        return f'an item about "{parsed.item_words}"{where}'
    return f"that item{where}"


def ask_which(parsed: Parsed, model: ReadModel, base: Pending) -> Outcome:
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
        question = f"Which {describe_ref(parsed)} do you mean?"
    else:
        question = f'Which item about "{parsed.item_words or "that"}" do you mean?'
    card, fallback = choice_card(question, options)
    pending = dataclasses.replace(base, stage=Stage.CHOOSE, token=token, options=tuple(ids), prompt=question)
    return Outcome(replies=[Reply(fallback, card)]).also(pending=pending, last_shown=tuple(ids))


def not_found(parsed: Parsed, model: ReadModel) -> Outcome:
    """Say so, and offer the nearest items (as Show buttons, never as a write)."""
    lines = []
    actions = []
    for cand in parsed.candidates[:3]:
        if cand.item:
            label = item_label(cand.item, model.reports.get(cand.item.report_id))
            lines.append(f"{label}: {cand.item.text[:120]}")
            actions.append(execute(f"Show {label}"[:40], Verb.SHOW, item_id=cand.item.id))
    if parsed.number and parsed.report:
        nums = sorted({i.number for i in model.items_of_report(parsed.report.id) if i.number})
        if nums:
            lines.append(
                f"{report_name(parsed.report)} has numbers: {', '.join(nums[:30])}{'…' if len(nums) > 30 else ''}."
            )
    title = f"I can't find {describe_ref(parsed)}."
    if lines and actions:
        title += " Did you mean one of these?"
    elif not lines:
        lines.append('Try the report\'s name and the number as printed, e.g. "show vetting rec 34".')
    card, fallback = message_card(title, lines, actions or None)
    return Outcome(replies=[Reply(fallback, card)])


async def show_item(
    store: Store, model: ReadModel, item_id: int, turn: Turn, *, can_write: bool = True
) -> Outcome:
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
    card = detail_surfaces(
        card, item_id, can_write and detail.item.status not in ("signed_off", "superseded")
    )
    return Outcome(replies=[Reply(fallback, card)]).also(last_report=detail.report.key, last_item=item_id)


def owner_outcome(item: ItemView, model: ReadModel) -> Outcome:
    label = item_label(item, model.reports.get(item.report_id))
    who = item.owner_name or "nobody yet"
    text_ = (
        f"{label} is owned by {who}."
        if item.owner_name
        else f'{label} has no owner yet. An admin can say "assign {item.number or "it"} to NAME".'
    )
    card, fallback = message_card(text_, [item.text[:300]], [execute("Show", Verb.SHOW, item_id=item.id)])
    out = Outcome(replies=[Reply(fallback, card)])
    report = model.reports.get(item.report_id)
    return out.also(last_report=report.key) if report else out
