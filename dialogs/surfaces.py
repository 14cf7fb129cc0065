"""Cards for the Teams surfaces beyond chat (issue 15): search results, link previews, cards that
stay current (Universal Actions ``refresh``), and the buttons that open the evidence dialog. Pure.

A card the bot posts, or a person inserts from the compose box, carries a ``refresh`` action: Teams
runs it when someone opens the card, and the bot answers with the card as it is now, so nobody reads
a status that changed since. Refresh verbs are answered at the edge (``bot.invokes``).
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
from typing import Any

from dialogs.cards import (
    STATUS_LABEL,
    card,
    clip,
    due_label,
    escape_md,
    execute,
    item_label,
    text,
)
from dialogs.frozen import FrozenCard
from dialogs.language.index import split_owner
from dialogs.types import Verb
from storage.views import ItemView, ReportView

MAX_REFRESH_USERS = 60  # Teams refreshes automatically for at most 60 listed users
PREVIEW_TEXT_CHARS = 160
CARD_TEXT_CHARS = 600
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"
SHORT_STATUS = {"open": "Open", "in_progress": "In progress", "evidenced": "Awaiting sign-off",
                "signed_off": "Signed off", "not_for_us": "Not for us", "superseded": "Superseded"}  # fmt: skip


class SurfaceVerb(enum.StrEnum):
    """Verbs of the issue-15 surfaces (kept apart from the conversation's :class:`Verb`)."""

    REFRESH_ITEM = "refresh_item"
    REFRESH_LIST = "refresh_list"
    REFRESH_DIGEST = "refresh_digest"
    DIGEST_MINE = "digest_mine"
    EVIDENCE_FORM = "evidence_form"  # opens the dialog (task/fetch)
    EVIDENCE_REVIEW = "evidence_review"  # the dialog's first page was submitted
    EVIDENCE_CONFIRM = "evidence_confirm"  # the person confirmed (or went back)


SURFACE_VERBS = frozenset(v.value for v in SurfaceVerb)


def refresh_block(
    verb: SurfaceVerb, data: dict[str, Any], user_ids: list[str] | None = None
) -> dict[str, Any]:
    """The card's ``refresh``: an Action.Execute with ``verb``; ``user_ids`` (at most 60) get it automatically."""
    block: dict[str, Any] = {
        "action": {"type": "Action.Execute", "title": "Refresh", "verb": verb.value,
                   "data": {"verb": verb.value, **data}},
    }  # fmt: skip
    if user_ids:
        block["userIds"] = list(user_ids)[:MAX_REFRESH_USERS]
    return block


def with_refresh(
    payload: dict[str, Any], verb: SurfaceVerb, data: dict[str, Any], user_ids: list[str] | None = None
) -> dict[str, Any]:
    """A copy of the card ``payload`` that refreshes itself with ``verb`` and ``data``."""
    out = dict(payload)
    out["refresh"] = refresh_block(verb, data, user_ids)
    return out


def surface_execute(title: str, verb: SurfaceVerb, **data: Any) -> dict[str, Any]:
    """An Action.Execute button with one of the surface verbs."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb.value,
        "data": {"verb": verb.value, **data},
    }


def form_button(title: str, item_id: int | None = None, intent: str = "mark_evidenced") -> dict[str, Any]:
    """A button that opens the evidence dialog (Action.Submit with ``msteams.type`` task/fetch)."""
    data: dict[str, Any] = {"msteams": {"type": "task/fetch"}, "verb": SurfaceVerb.EVIDENCE_FORM.value,
                            "intent": intent}  # fmt: skip
    if item_id is not None:
        data["item_id"] = item_id
    return {"type": "Action.Submit", "title": title, "data": data}


def item_card(item: ItemView, report: ReportView | None, today: dt.date) -> tuple[dict[str, Any], str]:
    """One item as a card to insert anywhere: status, owner, due, latest evidence, and buttons.
    It refreshes itself, so whoever opens it later sees it as it is then."""
    label = item_label(item, report)
    status = STATUS_LABEL.get(item.status, item.status)
    facts = [
        ("Status", status),
        ("Owner", item.owner_name or "not assigned"),
        ("Due", due_label(item, today)),
        ("Latest", clip(item.latest_evidence, 300) or "no evidence or updates yet"),
    ]
    body: list[dict[str, Any]] = [
        text(f"**{escape_md(label)}**", size="Medium"),
        text(escape_md(clip(item.text, CARD_TEXT_CHARS))),
        {"type": "FactSet", "facts": [{"title": t, "value": escape_md(v)} for t, v in facts]},
        text(f"As of {today.day} {today:%b %Y}", isSubtle=True, size="Small"),
    ]
    actions = [execute("Show", Verb.SHOW, item_id=item.id)]
    if item.status not in ("signed_off", "superseded"):
        actions.append(form_button("Add evidence", item.id))
    payload = with_refresh(
        card(body, actions), SurfaceVerb.REFRESH_ITEM, {"item_id": item.id, "view": "compact"}
    )
    fallback = "\n".join([label, clip(item.text, CARD_TEXT_CHARS), *(f"{t}: {v}" for t, v in facts)])
    payload["fallbackText"] = fallback[:4000]
    return payload, fallback


def preview(item: ItemView, report: ReportView | None, today: dt.date) -> dict[str, Any]:
    """The result's line in the search list (a thumbnail card: title, one line of facts, the text)."""
    # One short line each: the list in the compose box gives a subtitle one line and the text two.
    person = split_owner(item.owner_name)[0] if item.owner_name else "no owner"
    subtitle = clip(f"{SHORT_STATUS.get(item.status, item.status)} · {person}", 40)
    return {"contentType": THUMBNAIL, "content": {
        "title": item_label(item, report), "subtitle": subtitle,
        "text": clip(f"{_upper_first(due_label(item, today))}. {item.text}", PREVIEW_TEXT_CHARS),
    }}  # fmt: skip


def result_attachment(item: ItemView, report: ReportView | None, today: dt.date) -> dict[str, Any]:
    """A search result: the preview shown in the list, and the card inserted when it is chosen."""
    payload, _ = item_card(item, report, today)
    return {"contentType": ADAPTIVE, "content": payload, "preview": preview(item, report, today)}


class KeptResults:
    """Search results built once for an item as it stands on a day, and shared after: a page of
    the compose box is up to 25 of them (~0.9 ms to build and ~0.5 ms to encode a page each time).
    Kept as :class:`FrozenCard` s, so the edge splices their JSON in; the oldest are forgotten
    beyond ``size``. The key is the item's and report's views themselves, so any change to what
    a card shows (a new version, a report renamed) is a new entry."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._kept: dict[tuple[ItemView, ReportView | None, dt.date], FrozenCard] = {}

    def attachment(self, item: ItemView, report: ReportView | None, today: dt.date) -> FrozenCard:
        """:func:`result_attachment`, built the first time it is asked for."""
        key = (item, report, today)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = FrozenCard(result_attachment(item, report, today))
            if len(self._kept) > self._size:
                del self._kept[next(iter(self._kept))]
        return found


def compose_result(attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """The body answering ``composeExtension/query`` and ``queryLink``."""
    return {"composeExtension": {"type": "result", "attachmentLayout": "list", "attachments": attachments}}


def compose_message(message: str) -> dict[str, Any]:
    """A plain message in the compose box's results area (nothing found, a problem)."""
    return {"composeExtension": {"type": "message", "text": message}}


def card_attachment(payload: dict[str, Any], title: str, subtitle: str = "") -> dict[str, Any]:
    """Any card as a compose-box result, with a simple preview."""
    return {"contentType": ADAPTIVE, "content": payload,
            "preview": {"contentType": THUMBNAIL, "content": {"title": title, "subtitle": subtitle}}}  # fmt: skip


def refreshed(payload: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a (possibly shared, frozen) card, safe to change."""
    return copy.deepcopy(dict(payload))


def detail_surfaces(payload: dict[str, Any], item_id: int, can_add: bool) -> dict[str, Any]:
    """The "show" card made to stay current, with the button that opens the evidence dialog."""
    out = with_refresh(payload, SurfaceVerb.REFRESH_ITEM, {"item_id": item_id, "view": "detail"})
    if can_add:
        out["actions"] = [*out.get("actions", []), form_button("Add evidence…", item_id)]
    return out


def _upper_first(value: str) -> str:
    return value[:1].upper() + value[1:]
