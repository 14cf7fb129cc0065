"""Pure builders of Adaptive Cards 1.5 and their plain-text fallbacks.

Every card the bot sends is built here (or in ``dialogs.digest``) and validated against the
official 1.5 schema in the tests. Buttons are ``Action.Execute`` with a ``verb`` and ``data``
the conversation understands whether they arrive as an invoke or as an ``Action.Submit`` message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dialogs.labels import KIND_LABEL, KIND_LONG, item_label, report_name
from dialogs.types import Verb

__all__ = ["KIND_LABEL", "KIND_LONG", "item_label", "report_name"]  # re-exported: cards label things
from storage.views import EventView, EvidenceView, ItemDetail, ItemView, ReportView

LIST_TEXT_CHARS = 220
DETAIL_TEXT_CHARS = 3000
EVIDENCE_CHARS = 600

STATUS_LABEL = {
    "open": "Open",
    "in_progress": "In progress",
    "evidenced": "Evidenced, awaiting sign-off",
    "signed_off": "Signed off",
    "not_for_us": "Not for us",
    "superseded": "Superseded",
}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An Adaptive Card 1.5 envelope."""
    c: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        c["actions"] = actions
    return c


def text(value: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": value, "wrap": True, **props}


def execute(title: str, verb: Verb, **data: Any) -> dict[str, Any]:
    """A button: Action.Execute carries ``verb``; ``data`` repeats it for Action.Submit clients."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb.value,
        "data": {"verb": verb.value, **data},
    }


def clip(value: str | None, limit: int) -> str:
    value = (value or "").strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def escape_md(value: str) -> str:
    """Adaptive Card TextBlocks render a markdown subset: keep user text literal."""
    for ch in ("\\", "*", "_", "[", "]", "`", "#", ">"):
        value = value.replace(ch, "\\" + ch)
    return value


def due_label(item: ItemView, today: dt.date) -> str:
    if item.due_date is None:
        return item.deadline_text or "no deadline"
    days = (item.due_date - today).days
    when = item.due_date.strftime("%-d %b %Y")
    if item.status in ("signed_off", "not_for_us", "superseded"):
        return f"due {when}"
    if days < 0:
        return f"overdue since {when}"
    if days == 0:
        return "due today"
    return f"due {when} ({days} day{'s' if days != 1 else ''})"


def item_row(item: ItemView, report: ReportView | None, today: dt.date) -> dict[str, Any]:
    """One item in a list: label, status, owner, due, a clipped text, and a Show button."""
    status = STATUS_LABEL.get(item.status, item.status)
    meta = f"{status} · {item.owner_name or 'no owner'} · {due_label(item, today)}"
    return {
        "type": "Container",
        "separator": True,
        "items": [
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [
                        text(f"**{escape_md(item_label(item, report))}**"),
                        text(escape_md(meta), isSubtle=True, size="Small", spacing="None"),
                    ]},
                    {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                        {"type": "ActionSet", "actions": [execute("Show", Verb.SHOW, item_id=item.id)]},
                    ]},
                ],
            },
            text(escape_md(clip(item.text, LIST_TEXT_CHARS)), size="Small", spacing="Small"),
        ],
    }  # fmt: skip


def list_card(
    title: str,
    items: Sequence[ItemView],
    reports: dict[int, ReportView],
    today: dt.date,
    *,
    total: int,
    page: int,
    page_size: int,
    more: dict[str, Any] | None,
    empty: str,
) -> tuple[dict[str, Any], str]:
    """A paginated list of items, and its text fallback."""
    start = page * page_size
    shown = f"{start + 1}–{start + len(items)} of {total}" if total else "none"
    body: list[dict[str, Any]] = [
        text(escape_md(title), weight="Bolder", size="Medium"),
        text(shown, isSubtle=True, spacing="None"),
    ]
    if not items:
        body.append(text(escape_md(empty)))
    body.extend(item_row(i, reports.get(i.report_id), today) for i in items)
    actions = [execute("Show more", Verb.MORE, **more)] if more else None
    lines = [f"{title} ({shown})"] + [
        f"- {item_label(i, reports.get(i.report_id))}: {STATUS_LABEL.get(i.status, i.status)}, "
        f"{i.owner_name or 'no owner'}, {due_label(i, today)}"
        for i in items
    ]
    if not items:
        lines.append(empty)
    if more:
        lines.append("Say 'more' for the next page.")
    return card(body, actions), "\n".join(lines)


def detail_card(d: ItemDetail, today: dt.date, *, can_write: bool = True) -> tuple[dict[str, Any], str]:
    """One item in full: text, facts, evidence and update history, and what can be done next."""
    i, r = d.item, d.report
    facts = [
        {"title": "Report", "value": clip(r.title, 200)},
        {"title": "Kind", "value": KIND_LONG.get(i.kind, i.kind).capitalize()},
        {"title": "Status", "value": STATUS_LABEL.get(i.status, i.status)},
        {"title": "Owner", "value": i.owner_name or "not assigned"},
        {
            "title": "Deadline",
            "value": (i.deadline_text or "—") + (f" ({due_label(i, today)})" if i.due_date else ""),
        },
        {"title": "Addressed to", "value": clip(i.addressee, 200) or "—"},
    ]
    if i.themes:
        facts.append({"title": "Themes", "value": ", ".join(i.themes)})
    if i.register_status:
        facts.append(
            {
                "title": "HMICFRS register",
                "value": i.register_status + (f" ({i.register_id})" if i.register_id else ""),
            }
        )
    for name, value in i.extra_columns:  # the force's own tracker columns, under their own names
        facts.append({"title": clip(name, 60), "value": clip(value, EVIDENCE_CHARS)})
    body: list[dict[str, Any]] = [
        text(f"**{escape_md(item_label(i, r, short=False))}**", size="Medium"),
        text(escape_md(clip(i.text, DETAIL_TEXT_CHARS))),
        {"type": "FactSet", "facts": [{"title": f["title"], "value": escape_md(f["value"])} for f in facts]},
    ]
    history = [e for e in d.evidence][-15:]
    if history:
        body.append(text("Evidence and updates", weight="Bolder", separator=True))
        body.extend(evidence_block(e) for e in reversed(history))
    actions: list[dict[str, Any]] = []
    if can_write and i.status not in ("signed_off", "superseded"):
        actions.append(execute("Mark evidenced", Verb.START_EVIDENCE, item_id=i.id))
    if can_write:
        actions.append(execute("Add update", Verb.START_UPDATE, item_id=i.id))
    if i.source_url or r.url:
        actions.append({"type": "Action.OpenUrl", "title": "Report", "url": i.source_url or r.url})
    fallback = [
        item_label(i, r, short=False),
        clip(i.text, DETAIL_TEXT_CHARS),
        *(f"{f['title']}: {f['value']}" for f in facts),
    ]
    if history:
        fallback.append("Evidence and updates:")
        fallback.extend(
            f"- {e.created_at:%d %b %Y} {e.author_name or '?'}: {clip(e.text, EVIDENCE_CHARS)}"
            for e in reversed(history)
            if e.created_at
        )
    return card(body, actions or None), "\n".join(fallback)


def evidence_block(e: EvidenceView) -> dict[str, Any]:
    when = e.created_at.strftime("%-d %b %Y") if e.created_at else ""
    label = "Evidence" if e.kind == "evidence" else "Update"
    items: list[dict[str, Any]] = [
        text(f"{label} · {escape_md(e.author_name or 'unknown')} · {when}", isSubtle=True, size="Small"),
        text(escape_md(clip(e.text, EVIDENCE_CHARS)), spacing="None"),
    ]
    items.extend(
        text(f"[{escape_md(clip(link, 80))}]({link})", size="Small", spacing="None")
        for link in e.links[:5]
        if link.startswith(("https://", "http://"))
    )
    return {"type": "Container", "items": items}


def confirm_card(question: str, token: str, detail: str | None = None) -> tuple[dict[str, Any], str]:
    """A yes/no question about a write; the token ties the answer to this exact proposal."""
    body = [text(escape_md(question), weight="Bolder")]
    if detail:
        body.append(text(escape_md(clip(detail, 1500)), isSubtle=True))
    actions = [
        execute("Yes", Verb.CONFIRM, token=token, answer="yes"),
        execute("No", Verb.CONFIRM, token=token, answer="no"),
    ]
    return card(body, actions), f"{question}\n{detail or ''}\nReply yes or no.".replace("\n\n", "\n")


def choice_card(question: str, options: Sequence[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], str]:
    """Which one did you mean? One button per option (at most 6)."""
    body: list[dict[str, Any]] = [text(escape_md(question), weight="Bolder")]
    lines = [question]
    for n, (label, data) in enumerate(options[:6], start=1):
        body.append({
            "type": "ColumnSet",
            "separator": True,
            "columns": [
                {"type": "Column", "width": "stretch", "items": [text(f"{n}. {escape_md(clip(label, 300))}", size="Small")]},
                {"type": "Column", "width": "auto", "items": [
                    {"type": "ActionSet", "actions": [execute("Choose", Verb.CHOOSE, choice=n, **data)]},
                ]},
            ],
        })  # fmt: skip
        lines.append(f"{n}. {label}")
    lines.append("Reply with the number, or say 'cancel'.")
    return card(body), "\n".join(lines)


def message_card(
    title: str, lines: Sequence[str] = (), actions: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], str]:
    """A short titled message (results, errors, help)."""
    body = [text(escape_md(title), weight="Bolder")] + [text(escape_md(line)) for line in lines]
    return card(body, actions), "\n".join([title, *lines])


def summary_card(
    by_status: dict[str, int], per_report: list[tuple[str, dict[str, int]]], overdue: int, due_soon: int
) -> tuple[dict[str, Any], str]:
    """Counts by status and by report."""
    live = sum(by_status.get(s, 0) for s in ("open", "in_progress", "evidenced"))
    facts = [{"title": STATUS_LABEL[s], "value": str(by_status.get(s, 0))} for s in STATUS_LABEL]
    body: list[dict[str, Any]] = [
        text(
            f"**{live} live items** · {overdue} overdue · {due_soon} due in the next 30 days", size="Medium"
        ),
        {"type": "FactSet", "facts": facts},
    ]
    if per_report:
        body.append(report_table(per_report))
    lines = [f"{live} live items, {overdue} overdue, {due_soon} due in the next 30 days."]
    lines += [f"{f['title']}: {f['value']}" for f in facts]
    lines += [
        f"{name}: {c.get('live', 0)} live, {c.get('signed_off', 0)} signed off, {c.get('overdue', 0)} overdue"
        for name, c in per_report
    ]
    return card(body, [execute("What's overdue?", Verb.LIST, query="overdue")]), "\n".join(lines)


def report_table(per_report: list[tuple[str, dict[str, int]]]) -> dict[str, Any]:
    """A per-report table (Table is Adaptive Cards 1.5)."""

    def row(cells: list[str], header: bool = False) -> dict[str, Any]:
        return {"type": "TableRow", "cells": [
            {"type": "TableCell", "items": [text(escape_md(c), size="Small", weight="Bolder" if header else "Default")]}
            for c in cells
        ]}  # fmt: skip

    rows = [row(["Report", "Live", "Overdue", "Signed off"], header=True)]
    rows += [
        row([clip(name, 60), str(c.get("live", 0)), str(c.get("overdue", 0)), str(c.get("signed_off", 0))])
        for name, c in per_report
    ]
    return {
        "type": "Table",
        "columns": [{"width": 4}, {"width": 1}, {"width": 1}, {"width": 1}],
        "rows": rows,
        "firstRowAsHeader": True,
        "showGridLines": False,
    }


def events_text(events: Sequence[EventView]) -> list[str]:
    """The audit trail as lines (``tracker history``)."""
    out = []
    for e in events:
        when = e.at.strftime("%Y-%m-%d %H:%M") if e.at else "?"
        change = (
            f"{e.field}: {e.old_value} → {e.new_value}"
            if e.field and e.action != "refused"
            else (e.new_value or "")
        )
        if e.action == "refused":
            change = f"{e.field}: {e.note}"  # the action column already says "refused"
        src = f" [{e.source}{' ' + e.source_activity_id if e.source_activity_id else ''}]"
        out.append(f"{when} {e.actor_name or '?'} {e.action} {clip(change, 200)}{src}")
    return out
