"""The evidence dialog (issue 15): a Teams dialog (task module) to add evidence or an update.

Page 1 (``task/fetch``): the item (fixed, or picked with a typeahead answered by the resolver),
the text (several lines), links, and whether it is evidence that the item is done or only an
update. Page 2 (first ``task/submit``): the same proposal a typed write gets from
:class:`~dialogs.writes.Writes` (policy, rate limit, preconditions, audited refusals), asked as a
yes/no question with a one-time token. Yes (second ``task/submit``) commits through the same
confirmation path as a typed "yes", version check and audit included. Nothing writes on page 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dialogs.cards import card, clip, escape_md, item_label, text
from dialogs.language import URL, Intent
from dialogs.search import search_items
from dialogs.surfaces import SurfaceVerb
from dialogs.types import Outcome, Turn
from dialogs.writes import MAX_EVIDENCE_CHARS, WriteFields, Writes
from storage.readmodel import ReadModel
from storage.store import NotFound, Store
from storage.views import ItemView

DATASET = "items"  # the typeahead's Data.Query dataset
TITLE = "Add evidence"
MAX_LINKS = 10
INTENTS = {"mark_evidenced": Intent.MARK_EVIDENCED, "add_update": Intent.ADD_UPDATE}


@dataclass(frozen=True)
class DialogAnswer:
    """What a dialog step answers: another page (a card) or a closing message; and what to remember."""

    card: dict[str, Any] | None = None
    message: str | None = None
    outcome: Outcome | None = None  # carries the state change (the pending question) to remember

    def body(self) -> dict[str, Any]:
        """The ``task/fetch`` / ``task/submit`` invoke response body."""
        if self.card is not None:
            return {"task": {"type": "continue", "value": {
                "title": TITLE, "height": "medium", "width": "medium",
                "card": {"contentType": "application/vnd.microsoft.card.adaptive", "content": self.card},
            }}}  # fmt: skip
        return {"task": {"type": "message", "value": self.message or "Done."}}


def form_card(item: ItemView | None, model: ReadModel, *, intent: str = "mark_evidenced",
              evidence: str = "", links: str = "", problem: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Page 1. With no item, the item is chosen by typeahead (``Input.ChoiceSet`` with ``Data.Query``)."""
    body: list[dict[str, Any]] = []
    if problem:
        body.append(text(escape_md(problem), color="Attention", weight="Bolder"))
    if item is not None:
        label = item_label(item, model.reports.get(item.report_id))
        body += [
            text(f"**{escape_md(label)}**"),
            text(escape_md(clip(item.text, 400)), isSubtle=True, size="Small"),
        ]
    else:
        body.append({
            "type": "Input.ChoiceSet", "id": "item_id", "label": "Item", "isRequired": True, "style": "filtered",
            "placeholder": 'Type to search, e.g. "vetting 34" or "CCU"', "errorMessage": "Choose the item",
            "choices": [], "choices.data": {"type": "Data.Query", "dataset": DATASET},
        })  # fmt: skip
    body += [
        {"type": "Input.ChoiceSet", "id": "intent", "label": "What is it?", "style": "expanded",
         "value": intent if intent in INTENTS else "mark_evidenced", "choices": [
             {"title": "Evidence that it is done (status becomes evidenced, awaiting sign-off)", "value": "mark_evidenced"},
             {"title": "A progress update (status unchanged)", "value": "add_update"},
         ]},
        {"type": "Input.Text", "id": "evidence", "label": "What was done", "isMultiline": True, "isRequired": True,
         "maxLength": MAX_EVIDENCE_CHARS, "value": evidence, "errorMessage": "Say what was done",
         "placeholder": "What shows it is done, or what has happened since the last update"},
        {"type": "Input.Text", "id": "links", "label": "Links (one per line)", "isMultiline": True, "value": links,
         "placeholder": "https://…"},
    ]  # fmt: skip
    data: dict[str, Any] = {"verb": SurfaceVerb.EVIDENCE_REVIEW.value}
    if item is not None:
        data["item_id"] = item.id
    return card(body, [{"type": "Action.Submit", "title": "Review", "data": data}])


def confirm_page(question: str, token: str, detail: str | None) -> dict[str, Any]:
    """Page 2: yes or no, tied to the proposal by its token."""
    body = [text(escape_md(question), weight="Bolder")]
    if detail:
        body.append(text(escape_md(clip(detail, 1500)), isSubtle=True))

    def button(title: str, answer: str) -> dict[str, Any]:
        return {"type": "Action.Submit", "title": title,
                "data": {"verb": SurfaceVerb.EVIDENCE_CONFIRM.value, "token": token, "answer": answer}}  # fmt: skip

    return card(body, [button("Yes, record it", "yes"), button("No", "no")])


def typeahead(resolver: Any, query: str, turn: Turn, skip: int = 0, top: int = 15) -> dict[str, Any]:
    """The ``application/search`` answer: items for the typed text, ranked by the resolver."""
    page = search_items(resolver, query, turn.user, turn.today, skip=skip, count=top)
    model = resolver.model
    results = [
        {"title": f"{item_label(i, model.reports.get(i.report_id))}: {clip(i.text, 80)}", "value": str(i.id)}
        for i in page.items
    ]
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.search.searchResponse",
        "value": {"results": results},
    }


def links_of(raw: str) -> tuple[str, ...]:
    """The http(s) links in what was typed into the links box (and only those)."""
    return tuple(dict.fromkeys(m.group(0) for m in URL.finditer(raw or "")))[:MAX_LINKS]


def item_id_of(data: dict[str, Any]) -> int | None:
    """The chosen item's id from client data: a whole number a database column can hold, or None."""
    try:
        number = int(str(data.get("item_id", "")).strip())
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < 2**31 else None


async def open_form(store: Store, model: ReadModel, data: dict[str, Any]) -> DialogAnswer:
    """``task/fetch``: page 1, for the item the button named (or with the typeahead)."""
    item_id = item_id_of(data)
    item = None
    if item_id is not None:
        item = model.items.get(item_id)
        if item is None:
            try:
                item = await store.get_item(item_id)
            except NotFound:
                return DialogAnswer(message="That item no longer exists.")
    return DialogAnswer(card=form_card(item, model, intent=str(data.get("intent") or "mark_evidenced")))


async def review(
    store: Store, model: ReadModel, writes: Writes, data: dict[str, Any], turn: Turn
) -> DialogAnswer:
    """The first submit: check what was filled in, then propose the write exactly as a typed one is."""
    intent_key = str(data.get("intent") or "mark_evidenced")
    intent = INTENTS.get(intent_key, Intent.MARK_EVIDENCED)
    evidence = str(data.get("evidence") or "").strip()
    raw_links = str(data.get("links") or "")
    item_id = item_id_of(data)
    item: ItemView | None = None
    if item_id is not None:
        try:
            item = await store.get_item(item_id)  # the real version, as for a typed write
        except NotFound:
            item = None
    if item is None or not evidence:
        problem = "Choose the item." if item is None else "Say what was done: the text is needed."
        # Bad input loses nothing: the page comes back with what was typed.
        shown = model.items.get(item.id) if item is not None else None
        return DialogAnswer(card=form_card(shown or item, model, intent=intent_key, evidence=evidence,
                                           links=raw_links, problem=problem))  # fmt: skip
    fields = WriteFields(evidence=evidence[:MAX_EVIDENCE_CHARS], links=links_of(raw_links + " " + evidence))
    out = await writes.propose(intent, item, turn, fields)
    pending = out.state.pending if out.state is not None else None
    token = getattr(pending, "token", None)
    if not token:  # refused, rate limited or nothing to change: said (and audited) by Writes
        return DialogAnswer(message=" ".join(r.text for r in out.replies) or "Nothing changed.", outcome=out)
    detail = "Links: " + ", ".join(fields.links) if fields.links else None
    return DialogAnswer(
        card=confirm_page(getattr(pending, "prompt", "") or "Record this?", token, detail), outcome=out
    )


def closing_message(out: Outcome) -> str:
    """What the dialog says as it closes, from the outcome of the confirmed (or refused) write."""
    said = [r.text for r in out.replies]
    if out.card_update is not None:
        said += [
            str(b.get("text", "")) for b in out.card_update.get("body", []) if b.get("type") == "TextBlock"
        ]
    message = " ".join(s for s in said if s).replace("\\", "")
    return message or "Done."


def today_label(today: dt.date) -> str:
    return f"{today.day} {today:%B %Y}"
