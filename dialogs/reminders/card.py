"""What a reminder says to one owner: their items due within N days or overdue (or, in a nudge,
due exactly N days from today), each with one-click "Add update". Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialogs.cards import card, clip, due_label, escape_md, item_label, text
from dialogs.language.text import first_name
from dialogs.lists import find
from dialogs.queries import ListQuery
from dialogs.surfaces import form_button
from dialogs.types import Reply
from storage.readmodel import ReadModel
from storage.views import ItemView

SHOWN = 15
_WORKING = ("open", "in_progress")  # evidenced items wait on HMICFRS, not on their owner


def reminder_items(aad_id: str, name: str, model: ReadModel, today: dt.date, days: int, *,
                   nudge: bool = False) -> list[ItemView]:  # fmt: skip
    """The person's items a reminder is about, most urgent first."""
    mine = find(ListQuery(query="outstanding", owner_aad_id=aad_id, mine_name=name or None), model, today)
    horizon = today + dt.timedelta(days=days)
    if nudge:
        picked = [i for i in mine if i.status in _WORKING and i.for_force and i.target_date == horizon]
    else:
        picked = [
            i
            for i in mine
            if i.status in _WORKING and i.for_force and i.target_date and i.target_date <= horizon
        ]
    return sorted(picked, key=lambda i: (i.target_date or horizon, i.id))


def reminder_reply(name: str, items: list[ItemView], model: ReadModel, today: dt.date, days: int, *,
                   nudge: bool = False) -> Reply | None:  # fmt: skip
    """The 1:1 message, or None when there is nothing to remind about."""
    if not items:
        return None
    overdue = [i for i in items if i.overdue(today)]
    first = first_name(name) or "there"  # "DCI Sarah Khan" is Sarah, never "DCI"
    if nudge:
        title = f"Hello {first}: {len(items)} of your items {'is' if len(items) == 1 else 'are'} due in {days} days."
    else:
        title = (f"Hello {first}: {len(overdue)} of your items {'is' if len(overdue) == 1 else 'are'} overdue and "
                 f"{len(items) - len(overdue)} due within {days} days.")  # fmt: skip
    body: list[dict[str, Any]] = [text(escape_md(title), weight="Bolder", size="Medium"),
                                  text("Add an update so the SD&A team knows where each stands.", isSubtle=True)]  # fmt: skip
    lines = [title]
    for i in items[:SHOWN]:
        label = item_label(i, model.reports.get(i.report_id))
        due = due_label(i, today)
        body.append({"type": "ColumnSet", "separator": True, "columns": [
            {"type": "Column", "width": "stretch", "items": [
                text(f"**{escape_md(label)}** · {escape_md(due)}", size="Small",
                     color="Attention" if i.overdue(today) else "Default"),
                text(escape_md(clip(i.text, 120)), size="Small", isSubtle=True, spacing="None"),
            ]},
            {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                {"type": "ActionSet", "actions": [form_button("Add update", i.id, intent="add_update")]}]},
        ]})  # fmt: skip
        lines.append(f"- {label}: {due}")
    if len(items) > SHOWN:
        body.append(text(f'…and {len(items) - SHOWN} more: say "my items".', isSubtle=True))
        lines.append(f"…and {len(items) - SHOWN} more.")
    body.append(text('Say "stop reminding me" to stop these.', isSubtle=True, size="Small"))
    lines.append('Say "stop reminding me" to stop these.')
    return Reply("\n".join(lines), card(body), summary=title[:200])
