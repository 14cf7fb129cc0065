"""What changed: "what changed this week?", "since Monday", "since the last JAC", "what did Owen change?".

Read from the audit trail (every change is an event with who, when and where from), grouped by
report, one line per item with what happened to it and who did it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from dialogs.cards import STATUS_LABEL, card, clip, escape_md, execute, item_label, report_name, text
from dialogs.deps import Deps
from dialogs.language import Parsed
from dialogs.language.text import same_person
from dialogs.types import Outcome, Reply, Turn, Verb
from storage.readmodel import ReadModel
from storage.views import EventView

EVENTS_LIMIT = 20_000
ITEMS_SHOWN = 25


@dataclass(frozen=True)
class Changed:
    """One item's changes in the period."""

    item_id: int
    what: tuple[str, ...]  # "evidenced by DCI Sarah Khan (2 Dec)", ...


def describe(e: EventView) -> str | None:
    """An audit event in a few words, or None for one people do not count as a change."""
    who = e.actor_name or "someone"
    when = f" ({e.at:%-d %b})" if e.at else ""
    if e.action == "refused":
        return None
    if e.action == "created":
        return f"added by {who}{when}"
    if e.action == "evidence_added":
        return f"evidence from {who}{when}: {clip(e.new_value, 80)}"
    if e.action == "update_added":
        return f"update from {who}{when}: {clip(e.new_value, 80)}"
    if e.action == "status_changed":
        return f"{STATUS_LABEL.get(e.new_value or '', e.new_value or '?').lower()} by {who}{when}"
    if e.action == "owner_changed":
        return f"owner {e.old_value or 'none'} → {e.new_value or 'none'} by {who}{when}"
    if e.action == "target_moved":
        return f"target moved to {e.new_value} by {who}{when}"
    if e.field:
        return f"{e.field.replace('_', ' ')} changed by {who}{when}"
    return f"{e.action.replace('_', ' ')} by {who}{when}"


def changes_by_report(
    events: Sequence[EventView],
    model: ReadModel,
    *,
    actor: str | None,
    report_id: int | None,
    until: dt.datetime | None,
) -> dict[int, list[Changed]]:
    """The period's changes, report id -> items (in the order they first changed)."""
    lines: dict[int, list[str]] = {}
    for e in events:
        if until is not None and e.at is not None and e.at > until:
            continue
        if actor and not (same_person(e.actor_name, actor) or actor.lower() in (e.actor_name or "").lower()):
            continue
        item = model.items.get(e.item_id)
        if item is None or (report_id is not None and item.report_id != report_id):
            continue
        said = describe(e)
        if said:
            lines.setdefault(e.item_id, []).append(said)
    out: dict[int, list[Changed]] = {}
    for item_id, what in lines.items():
        report = model.items[item_id].report_id
        out.setdefault(report, []).append(Changed(item_id, tuple(dict.fromkeys(what))))
    return out


async def changes_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Answer "what changed ..." from the audit trail."""
    since = parsed.since
    start = since.start if since else turn.today - dt.timedelta(days=7)
    label = since.label if since else "in the last 7 days"
    if since is not None and since.committee:
        meeting = await deps.store.last_meeting_before(turn.today)
        if meeting is None:
            return Outcome.say("No JAC meeting is recorded yet, so I can't tell what changed since the last one. "
                               'An admin can record one: "the JAC met on 22 September 2022".')  # fmt: skip
        start, label = (
            meeting.met_on + dt.timedelta(days=1),
            f"since the {meeting.name} on {meeting.met_on:%-d %B %Y}",
        )
    tz = deps.tz
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    until = (dt.datetime.combine(since.end, dt.time(23, 59, 59), tzinfo=tz).astimezone(dt.UTC)
             if since is not None and since.end else None)  # fmt: skip
    events = await deps.store.events_since(begin, limit=EVENTS_LIMIT)
    grouped = changes_by_report(events, deps.model, actor=parsed.actor, report_id=parsed.report.id if parsed.report else None,
                                until=until)  # fmt: skip
    who = f" by {parsed.actor}" if parsed.actor else ""
    where = f" in {report_name(parsed.report)}" if parsed.report else ""
    count = sum(len(v) for v in grouped.values())
    title = f"What changed{where}{who} {label}: {count} item{'s' if count != 1 else ''}"
    if not count:
        return Outcome.say(f"Nothing changed{where}{who} {label}.").also(
            **({"last_report": parsed.report.key} if parsed.report else {})
        )
    body = [text(escape_md(title), weight="Bolder", size="Medium")]
    lines = [title]
    shown = 0
    for report_id, changed in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        report = deps.model.reports.get(report_id)
        heading = report_name(report) if report else "?"
        body.append(text(escape_md(f"{heading} ({len(changed)})"), weight="Bolder", separator=True))
        lines.append(f"{heading} ({len(changed)}):")
        for c in changed:
            if shown >= ITEMS_SHOWN:
                break
            item = deps.model.items[c.item_id]
            line = f"{item_label(item, report)}: {'; '.join(c.what[-3:])}"
            body.append({"type": "ColumnSet", "columns": [
                {"type": "Column", "width": "stretch", "items": [text(escape_md(line), size="Small")]},
                {"type": "Column", "width": "auto", "items": [
                    {"type": "ActionSet", "actions": [execute("Show", Verb.SHOW, item_id=item.id)]}]},
            ]})  # fmt: skip
            lines.append(f"- {line}")
            shown += 1
    if shown < count:
        body.append(text(f"… and {count - shown} more items changed.", isSubtle=True))
        lines.append(f"… and {count - shown} more items changed.")
    out = Outcome(replies=[Reply("\n".join(lines), card(body))])
    return out.also(last_report=parsed.report.key) if parsed.report else out
