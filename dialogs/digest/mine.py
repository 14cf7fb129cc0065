"""The digest, read by one person (issue 15): their own section on top ("yours: 3 overdue").

Teams shows each reader their own view through the card's Universal Actions ``refresh``: the posted
digest lists the conversation's members in ``userIds`` when there are at most 60 of them (Teams'
limit), and otherwise carries a "Show mine" button; either way the bot answers with
:meth:`DigestViews.for_user`. Pure apart from building the digest itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialogs.cards import clip, due_label, escape_md, execute, item_label, text
from dialogs.digest.source import DigestSource
from dialogs.lists import find
from dialogs.queries import ListQuery
from dialogs.surfaces import MAX_REFRESH_USERS, SurfaceVerb, refreshed, surface_execute, with_refresh
from dialogs.types import Reply, Verb
from storage.readmodel import ReadModel
from storage.views import ItemView

SOON_DAYS = 30
SHOWN = 5


def personal_section(mine: list[ItemView], model: ReadModel, today: dt.date) -> list[dict[str, Any]]:
    """ "Yours: 3 overdue, 2 due in the next 30 days, 7 live", and the most pressing few."""
    overdue = [i for i in mine if i.overdue(today)]
    soon = [
        i
        for i in mine
        if not i.overdue(today) and i.target_date and 0 <= (i.target_date - today).days <= SOON_DAYS
    ]
    head = f"Yours: {len(overdue)} overdue, {len(soon)} due in the next {SOON_DAYS} days, {len(mine)} live"
    body: list[dict[str, Any]] = [
        text(f"**{escape_md(head)}**", size="Medium", color="Attention" if overdue else "Default")
    ]
    for i in (overdue + soon)[:SHOWN]:
        label = item_label(i, model.reports.get(i.report_id))
        body.append({"type": "ColumnSet", "columns": [
            {"type": "Column", "width": "stretch", "items": [
                text(f"**{escape_md(label)}** · {escape_md(due_label(i, today))}", size="Small"),
                text(escape_md(clip(i.text, 90)), size="Small", isSubtle=True, spacing="None"),
            ]},
            {"type": "Column", "width": "auto", "items": [
                {"type": "ActionSet", "actions": [execute("Show", Verb.SHOW, item_id=i.id)]}]},
        ]})  # fmt: skip
    if not mine:
        body = [text("Yours: you own no live items.", size="Medium")]
    return [{"type": "Container", "style": "emphasis", "items": body}]


def for_members(card: dict[str, Any], member_ids: list[str] | None) -> dict[str, Any]:
    """The posted digest: refreshed per reader for up to 60 members, else a "Show mine" button."""
    if member_ids and len(member_ids) <= MAX_REFRESH_USERS:
        return with_refresh(card, SurfaceVerb.REFRESH_DIGEST, {}, member_ids)
    out = refreshed(card)
    out["actions"] = [*out.get("actions", []), surface_execute("Show mine", SurfaceVerb.DIGEST_MINE)]
    return out


def personalised_reply(reply: Reply, member_ids: list[str] | None) -> Reply:
    """The digest message for one conversation, given its members (None: not known)."""
    if reply.card is None:
        return reply
    return Reply(reply.text, for_members(reply.card, member_ids), reply.summary)


class DigestViews:
    """Builds one reader's digest: the digest as of now with their own section first."""

    def __init__(self, source: DigestSource, model: ReadModel, tz: dt.tzinfo) -> None:
        self._source, self._model, self._tz = source, model, tz

    async def for_user(
        self, now: dt.datetime, aad_id: str | None, name: str, user_mri: str | None = None
    ) -> dict[str, Any]:
        card, _ = await self._source.build(now)
        today = now.astimezone(self._tz).date()
        q = ListQuery(query="outstanding", owner_aad_id=aad_id or f"name:{name}", mine_name=name or None)
        mine = find(q, self._model, today)
        out = refreshed(card)
        body = list(out.get("body", []))
        out["body"] = body[:2] + personal_section(mine, self._model, today) + body[2:]
        if user_mri:
            out["refresh"] = with_refresh({}, SurfaceVerb.REFRESH_DIGEST, {}, [user_mri])["refresh"]
        return out
