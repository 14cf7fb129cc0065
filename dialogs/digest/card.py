"""The weekly status digest: one Adaptive Card 1.5 and its plain-text fallback (pure).

What the SD&A team reads on a Monday: the headline counts, what changed in the last seven days
and who did it, what is overdue, what falls due in the next 30 days, what waits on HMICFRS, and
one row per report. Every section is capped ("and N more") and the card shrinks its caps until it
fits the byte budget, so a tracker of 10,000 items still makes a card Teams will take.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dialogs.cards import (
    STATUS_LABEL,
    card,
    clip,
    due_label,
    escape_md,
    execute,
    item_label,
    report_name,
    report_table,
    text,
)
from dialogs.summary import counts_by_report
from dialogs.types import Verb
from storage.views import EventView, ItemView, ReportView

WINDOW = dt.timedelta(days=7)
SOON_DAYS = 30
# Teams takes ~100 KB per message and the house limit is 80 KB for the whole activity; the card
# also travels with up to 4,000 characters of fallbackText, so the card itself stays well under.
CARD_BUDGET_BYTES = 70_000
ROW_TEXT_CHARS = 90
DETAIL_CHARS = 120
TITLE = "Weekly status digest"

# What changed, in the order the digest shows it: (key, heading).
CHANGE_KINDS = (
    ("signed_off", "Signed off by HMICFRS"),
    ("evidenced", "Evidenced"),
    ("reopened", "Reopened"),
    ("new", "New"),
    ("owner", "Owner changes"),
)
SHORT_STATUS = {"open": "open", "in_progress": "in progress", "evidenced": "awaiting sign-off"}
_CLOSED_OR_WAITING = frozenset({"evidenced", "signed_off", "not_for_us", "superseded"})


@dataclass(frozen=True, slots=True)
class Caps:
    """How many rows each section shows before saying "and N more"."""

    per_change: int = 5
    overdue: int = 10
    due_soon: int = 8
    awaiting: int = 8
    reports: int = 20

    def halved(self) -> Caps:
        """Half of every cap (for a card that came out too big)."""
        return Caps(*(n // 2 for n in dataclasses.astuple(self)))


@dataclass(frozen=True, slots=True)
class Change:
    """One item's change this week: which kind, by whom, when, and a short detail."""

    item: ItemView
    actor: str | None
    at: dt.datetime | None
    detail: str = ""


@dataclass
class DigestFacts:
    """Everything the digest says, computed once; rendering only formats and caps it."""

    now: dt.datetime
    tz: dt.tzinfo
    today: dt.date
    since: dt.datetime
    live_by_status: Counter[str]
    overdue: list[ItemView]
    due_soon: list[ItemView]
    awaiting: list[ItemView]
    changes: dict[str, list[Change]]
    updates: int
    other_edits: int
    actors: Counter[str]
    per_report: list[tuple[str, dict[str, int]]]
    reports: Mapping[int, ReportView] = field(default_factory=dict)

    @property
    def live(self) -> int:
        """Items that still need work from the force."""
        return sum(self.live_by_status.values())

    @property
    def signed_off(self) -> int:
        """Items signed off in the last seven days."""
        return len(self.changes["signed_off"])

    @property
    def added(self) -> int:
        """Items added in the last seven days."""
        return len(self.changes["new"])

    def headline(self) -> str:
        """One sentence: also the notification summary."""
        by = ", ".join(f"{self.live_by_status.get(s, 0)} {label}" for s, label in SHORT_STATUS.items())
        return (
            f"{self.live} live items ({by}); this week {self.signed_off} signed off and {self.added} added; "
            f"{len(self.overdue)} overdue, {len(self.due_soon)} due in the next {SOON_DAYS} days."
        )


def digest_facts(
    items: Iterable[ItemView],
    reports: Mapping[int, ReportView],
    events: Sequence[EventView],
    now: dt.datetime,
    tz: dt.tzinfo,
) -> DigestFacts:
    """Work out the digest's content from the items, their reports and the audit trail."""
    items = list(items)
    today = now.astimezone(tz).date()
    since = now - WINDOW
    by_id = {i.id: i for i in items}
    changes, updates, other, actors = _changes(by_id, events, since)
    force_live = [i for i in items if i.live and i.for_force]
    soon_end = today + dt.timedelta(days=SOON_DAYS)
    overdue = sorted((i for i in items if i.overdue(today)), key=lambda i: (i.due_date, i.id))
    due_soon = sorted(
        (i for i in force_live if i.due_date and today <= i.due_date <= soon_end),
        key=lambda i: (i.due_date, i.id),
    )
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    awaiting = sorted(
        (i for i in force_live if i.status == "evidenced"),
        key=lambda i: (i.status_changed_at or oldest, i.id),
    )
    return DigestFacts(
        now=now, tz=tz, today=today, since=since, live_by_status=Counter(i.status for i in force_live), overdue=overdue,
        due_soon=due_soon, awaiting=awaiting, changes=changes, updates=updates, other_edits=other, actors=actors,
        per_report=_per_report(items, reports, changes, today), reports=reports,
    )  # fmt: skip


def _changes(
    by_id: Mapping[int, ItemView], events: Sequence[EventView], since: dt.datetime
) -> tuple[dict[str, list[Change]], int, int, Counter[str]]:
    """Sort the week's events into kinds; one row per item per kind (its latest such change)."""
    latest: dict[str, dict[int, Change]] = {kind: {} for kind, _ in CHANGE_KINDS}
    updates = other = 0
    actors: Counter[str] = Counter()
    for e in sorted(events, key=lambda e: e.id):
        item = by_id.get(e.item_id)
        if item is None or e.action == "refused" or (e.at is not None and e.at < since):
            continue
        actors[e.actor_name or "unknown"] += 1
        kind, detail = _kind_of(e)
        if kind is None:
            updates += e.action == "update_added"
            other += e.action != "update_added"
            continue
        earlier = latest[kind].get(item.id)
        # Evidence is written as evidence_added then status_changed: keep the evidence text.
        latest[kind][item.id] = Change(
            item, e.actor_name, e.at, detail or (earlier.detail if earlier else "")
        )
    for item in by_id.values():  # items added without a "created" event (older imports) are new too
        if item.created_at is not None and item.created_at >= since and item.id not in latest["new"]:
            latest["new"][item.id] = Change(item, None, item.created_at)
    newest_first = dt.datetime.min.replace(tzinfo=dt.UTC)
    out = {
        k: sorted(v.values(), key=lambda c: (c.at or newest_first, c.item.id), reverse=True)
        for k, v in latest.items()
    }
    return out, updates, other, actors


def _kind_of(e: EventView) -> tuple[str | None, str]:
    if e.action == "created":
        return "new", ""
    if e.action == "evidence_added":
        return "evidenced", clip(e.new_value, DETAIL_CHARS)
    if e.action == "owner_changed":
        return "owner", f"{e.old_value or 'no owner'} → {e.new_value or 'no owner'}"
    if e.action == "status_changed":
        if e.new_value == "signed_off":
            return "signed_off", clip(e.note, DETAIL_CHARS)
        if e.new_value == "evidenced":
            return "evidenced", ""
        if e.new_value in ("open", "in_progress") and e.old_value in _CLOSED_OR_WAITING:
            return "reopened", clip(
                e.note, DETAIL_CHARS
            ) or f"was {STATUS_LABEL.get(e.old_value or '', e.old_value)}"
    return None, ""


def _per_report(
    items: Sequence[ItemView],
    reports: Mapping[int, ReportView],
    changes: Mapping[str, list[Change]],
    today: dt.date,
) -> list[tuple[str, dict[str, int]]]:
    table = counts_by_report(items, today)
    changed = {c.item.report_id for rows in changes.values() for c in rows}
    # A report whose work is all done and untouched this week is noise in a weekly digest.
    rows = [(report_name(reports[rid]), dict(c)) for rid, c in table.items()
            if rid in reports and (c["live"] or rid in changed)]  # fmt: skip
    rows.sort(key=lambda r: (-r[1].get("overdue", 0), -r[1].get("live", 0), r[0]))
    return rows


# ---- rendering ---------------------------------------------------------------------------------


def build_digest(
    items: Iterable[ItemView],
    reports: Mapping[int, ReportView],
    events: Sequence[EventView],
    now: dt.datetime,
    tz: dt.tzinfo,
) -> tuple[dict[str, Any], str]:
    """The digest card and its text fallback, with each section capped so the card fits the budget."""
    facts = digest_facts(items, reports, events, now, tz)
    caps = Caps()
    for _ in range(6):  # bounded: each pass halves every cap; the last pass shows counts only
        body, lines = render(facts, caps)
        digest_card = card(
            body,
            [
                execute("What's overdue?", Verb.LIST, query="overdue"),
                execute("Due soon", Verb.LIST, query="due"),
            ],
        )
        if card_bytes(digest_card) <= CARD_BUDGET_BYTES:
            break
        caps = caps.halved()
    return digest_card, "\n".join(lines)


def card_bytes(payload: dict[str, Any]) -> int:
    """Size on the wire, counting non-ASCII as escaped (the larger of the two encodings)."""
    return len(json.dumps(payload).encode())


def render(facts: DigestFacts, caps: Caps) -> tuple[list[dict[str, Any]], list[str]]:
    """Card body elements and text lines for ``facts`` under ``caps``."""
    when = f"{facts.today:%A} {facts.today.day} {facts.today:%B %Y}"
    since = facts.since.astimezone(facts.tz)
    body: list[dict[str, Any]] = [
        text(TITLE, size="Large", weight="Bolder"),
        text(f"{when} · changes since {since.day} {since:%b}", isSubtle=True, spacing="None"),
        _tiles(facts),
        {"type": "FactSet", "facts": [
            {"title": STATUS_LABEL[s], "value": str(facts.live_by_status.get(s, 0))} for s in ("open", "in_progress", "evidenced")
        ]},
    ]  # fmt: skip
    lines = [f"{TITLE} — {when}", facts.headline()]
    _changes_section(facts, caps, body, lines)
    today = facts.today
    _item_section("Overdue", facts.overdue, caps.overdue, facts, body, lines,
                  lambda i: f"{due_label(i, today)} · {i.owner_name or 'no owner'}")  # fmt: skip
    _item_section(f"Due in the next {SOON_DAYS} days", facts.due_soon, caps.due_soon, facts, body, lines,
                  lambda i: f"{due_label(i, today)} · {i.owner_name or 'no owner'}")  # fmt: skip
    _item_section("Awaiting HMICFRS sign-off", facts.awaiting, caps.awaiting, facts, body, lines,
                  lambda i: f"{_evidenced_when(i, today, facts.tz)} · {i.owner_name or 'no owner'}")  # fmt: skip
    _report_section(facts, caps, body, lines)
    return body, lines


def _tiles(facts: DigestFacts) -> dict[str, Any]:
    tiles = [
        (facts.live, "live"), (len(facts.overdue), "overdue"), (len(facts.due_soon), f"due in {SOON_DAYS} days"),
        (facts.signed_off, "signed off this week"), (facts.added, "added this week"),
    ]  # fmt: skip
    return {"type": "ColumnSet", "spacing": "Medium", "columns": [
        {"type": "Column", "width": "stretch", "items": [
            text(str(n), size="ExtraLarge", weight="Bolder", horizontalAlignment="Center",
                 color="Attention" if label == "overdue" and n else "Default"),
            text(label, size="Small", isSubtle=True, spacing="None", horizontalAlignment="Center"),
        ]} for n, label in tiles
    ]}  # fmt: skip


def _heading(title: str, count: int) -> dict[str, Any]:
    return text(
        f"{escape_md(title)} ({count})", weight="Bolder", size="Medium", separator=True, spacing="Large"
    )


def _more(shown: int, total: int, noun: str = "more") -> str | None:
    return f"…and {total - shown} {noun}" if total > shown else None


def _row(item: ItemView, facts: DigestFacts, meta: str) -> dict[str, Any]:
    """One item: label and a glimpse of its text, one line of facts, and a Show button."""
    label = item_label(item, facts.reports.get(item.report_id))
    return {"type": "ColumnSet", "spacing": "Small", "columns": [
        {"type": "Column", "width": "stretch", "items": [
            text(f"**{escape_md(label)}** · {escape_md(clip(item.text, ROW_TEXT_CHARS))}", size="Small"),
            text(escape_md(meta), size="Small", isSubtle=True, spacing="None"),
        ]},
        {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
            {"type": "ActionSet", "actions": [execute("Show", Verb.SHOW, item_id=item.id)]},
        ]},
    ]}  # fmt: skip


def _changes_section(facts: DigestFacts, caps: Caps, body: list[dict[str, Any]], lines: list[str]) -> None:
    total = sum(len(v) for v in facts.changes.values())
    body.append(
        text(
            f"What changed in the last 7 days ({total})",
            weight="Bolder",
            size="Medium",
            separator=True,
            spacing="Large",
        )
    )
    lines += ["", "What changed in the last 7 days:"]
    if not total and not facts.updates and not facts.other_edits:
        body.append(text("Nothing changed this week."))
        lines.append("Nothing changed this week.")
    for kind, heading in CHANGE_KINDS:
        rows = facts.changes[kind]
        if not rows:
            continue
        body.append(text(f"{heading} ({len(rows)})", weight="Bolder", spacing="Medium"))
        lines.append(f"{heading} ({len(rows)}):")
        for c in rows[: caps.per_change]:
            meta = _change_meta(c, facts.tz)
            body.append(_row(c.item, facts, meta))
            lines.append(f"- {item_label(c.item, facts.reports.get(c.item.report_id))}: {meta}")
        if more := _more(min(len(rows), caps.per_change), len(rows)):
            body.append(text(more, size="Small", isSubtle=True))
            lines.append(more)
    extra = [
        f"{n} {noun}"
        for n, noun in ((facts.updates, "progress updates"), (facts.other_edits, "other edits"))
        if n
    ]
    if extra:
        body.append(text("Also " + " and ".join(extra) + ".", size="Small", spacing="Medium"))
        lines.append("Also " + " and ".join(extra) + ".")
    if facts.actors:
        who = ", ".join(f"{name} ({n})" for name, n in facts.actors.most_common(5))
        who += f" and {len(facts.actors) - 5} others" if len(facts.actors) > 5 else ""
        body.append(text(f"Changes made by: {escape_md(who)}", size="Small", isSubtle=True))
        lines.append(f"Changes made by: {who}")


def _change_meta(c: Change, tz: dt.tzinfo) -> str:
    when = c.at.astimezone(tz).strftime("%a %-d %b") if c.at else "this week"
    by = f"by {c.actor}, {when}" if c.actor else when
    return f"{by} — {c.detail}" if c.detail else by


def _item_section(
    title: str,
    items: list[ItemView],
    cap: int,
    facts: DigestFacts,
    body: list[dict[str, Any]],
    lines: list[str],
    meta: Any,
) -> None:
    body.append(_heading(title, len(items)))
    lines += ["", f"{title} ({len(items)}):"]
    if not items:
        body.append(text("None.", isSubtle=True))
        lines.append("None.")
    for i in items[:cap]:
        body.append(_row(i, facts, meta(i)))
        lines.append(f"- {item_label(i, facts.reports.get(i.report_id))}: {meta(i)}")
    if more := _more(min(len(items), cap), len(items)):
        body.append(text(more, size="Small", isSubtle=True))
        lines.append(more)


def _evidenced_when(item: ItemView, today: dt.date, tz: dt.tzinfo) -> str:
    if item.status_changed_at is None:
        return "evidenced"
    days = (today - item.status_changed_at.astimezone(tz).date()).days
    return "evidenced today" if days <= 0 else f"evidenced {days} day{'s' if days != 1 else ''} ago"


def _report_section(facts: DigestFacts, caps: Caps, body: list[dict[str, Any]], lines: list[str]) -> None:
    rows = facts.per_report
    body.append(_heading("By report", len(rows)))
    lines += ["", "By report:"]
    shown = rows[: caps.reports]
    rest = rows[caps.reports :]
    if rest:  # one summary row stands for the reports that did not fit
        sums: Counter[str] = Counter()
        for _, c in rest:
            sums.update(c)
        shown = [*shown, (f"{len(rest)} more reports", dict(sums))]
    if shown:
        body.append(report_table(shown))
    for name, c in shown:
        lines.append(
            f"- {name}: {c.get('live', 0)} live, {c.get('overdue', 0)} overdue, {c.get('signed_off', 0)} signed off"
        )
