"""Answers to the committee's questions: the figures, and the items behind them by report.

:func:`answer` reads the history and answers a :class:`CommitteeQuestion`; :func:`answer_from`
is the pure part (history in, :class:`Outcome` out). Card and text fallback are built from the
same facts and the same items, so they always carry the same figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.cards import KIND_LABEL, STATUS_LABEL, card, clip, escape_md, report_name, text
from dialogs.committee.questions import Ask, CommitteeQuestion
from dialogs.committee.words import by_kind_order, day_label, kinds, plural, short_day
from dialogs.types import Outcome, Reply
from storage.committee import (
    FORCES,
    Figures,
    TrackerHistory,
    addressee_group,
    closed_between,
    figures,
    load_history,
)
from storage.store import Store
from storage.views import ItemView, MeetingView, ReportView

ITEM_CAP = 30  # items listed on one card (and in its text): the figures always count them all
ITEM_TEXT_CHARS = 140
RAG_LABEL = {"red": "Red", "amber": "Amber", "green": "Green", "complete": "Complete"}


@dataclass(frozen=True)
class Window:
    """The period a question covers, resolved: (since, until], and how to say it."""

    since: dt.date | None
    until: dt.date
    label: str
    meeting: MeetingView | None = None


@dataclass(frozen=True)
class Answer:
    """What the card and the text both say."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    table: list[tuple[str, int]]  # (report, count) for the question's count
    table_heading: str
    items: list[tuple[ReportView, list[tuple[ItemView, str]]]]  # by report: (item, what to say about it)
    note: str | None = None


async def answer(store: Store, question: CommitteeQuestion, today: dt.date, tz: dt.tzinfo) -> Outcome:
    """Answer ``question`` from the database, "today" being ``today`` (the force's local date)."""
    until = min(question.until or today, today)
    meeting = None
    if question.since_last_meeting:
        meeting = await store.last_meeting_before(until, question.committee)
        if meeting is None:
            return Outcome.say(
                f"No {question.committee} meeting is recorded before {day_label(until)}, so I can't count "
                f"'since the last {question.committee}'. An admin can record one (\"the {question.committee} met on "
                f'22 September 2022", or `tracker committee add 2022-09-22`), or ask for a period instead.'
            )
    history = await load_history(store, tz)
    return answer_from(history, question, today, meeting)


def answer_from(
    history: TrackerHistory, question: CommitteeQuestion, today: dt.date, meeting: MeetingView | None = None
) -> Outcome:
    """The pure part of :func:`answer`: ``meeting`` is the one "since the last JAC" refers to."""
    window = resolve(question, today, meeting)
    scope = None
    if question.report_key:
        scope = next((r for r in history.reports.values() if r.key == question.report_key), None)
        if scope is None:
            return Outcome.say(f"I don't know a report called '{question.report_key}'.")
    if window.since is not None and window.since >= window.until:
        return Outcome.say(f"That period is empty: it starts after {day_label(window.until)}.")
    fig = figures(history, window.until, window.since, meeting=meeting, scope=scope)
    built = _BUILDERS[question.ask](fig, window, question, history)
    if scope is not None:
        built = dataclasses.replace(built, title=f"{report_name(scope)}: {built.title}")
    c, fallback = render(built)
    out = Outcome(replies=[Reply(fallback, c)])
    return out.also(last_report=scope.key) if scope else out


def resolve(question: CommitteeQuestion, today: dt.date, meeting: MeetingView | None) -> Window:
    until = min(question.until or today, today)
    as_of = "" if until == today else f" (as of {day_label(until)})"
    if question.since_last_meeting and meeting is not None:
        return Window(
            meeting.met_on, until, f"since the {meeting.name} on {day_label(meeting.met_on)}{as_of}", meeting
        )
    if question.since is not None:
        label = question.label or f"since {day_label(question.since)}"
        return Window(question.since, until, label + ("" if question.label else as_of))
    return Window(None, until, f"since the tracker began{as_of}")


# ---- one builder per question ---------------------------------------------------------------------


def _ref(item: ItemView) -> str:
    kind = KIND_LABEL.get(item.kind, item.kind)
    return f"{kind} {item.number or '(unnumbered)'}"


def _by_report(
    fig: Figures, rows: Sequence[tuple[ItemView, str]]
) -> list[tuple[ReportView, list[tuple[ItemView, str]]]]:
    said = {i.id: what for i, what in rows}
    return [(r, [(i, said[i.id]) for i in items]) for r, items in fig.by_report_of(i for i, _ in rows)]


def _counts(groups: list[tuple[ReportView, list[tuple[ItemView, str]]]]) -> list[tuple[str, int]]:
    return sorted(((report_name(r), len(rows)) for r, rows in groups), key=lambda kv: (-kv[1], kv[0]))


def _signed_off(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    groups = _by_report(fig, [(i, f"signed off {short_day(i.signed_off_on)}") for i in fig.signed_off])
    n = fig.signed_off_since
    return Answer(
        f"{plural(n, 'item')} signed off as complete {w.label}", _period(w),
        [("Signed off", str(n)), ("Recommendations", str(sum(i.kind == "recommendation" for i in fig.signed_off))),
         ("Still live", str(fig.live)), ("On the tracker", str(fig.total))],
        _counts(groups), "Signed off", groups,
    )  # fmt: skip


def _added(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    rows = [(i, f"{addressee_group(i)} · {STATUS_LABEL.get(i.status, i.status)}") for i in fig.added]
    groups = _by_report(fig, rows)
    by_kind = fig.added_by_kind()
    facts = [("Added", str(len(fig.added)))]
    facts += [(kinds(2, k).split(" ", 1)[1].capitalize(), str(n)) for k, n in by_kind_order(by_kind)]
    facts += [
        (f"For {g.lower()}" if g == FORCES else f"For {g}", str(n)) for g, n in fig.added_by_addressee()
    ]
    facts.append(("Already signed off", str(len(fig.added_completed()))))
    what = " and ".join(kinds(n, k) for k, n in by_kind_order(by_kind)) or "nothing"
    return Answer(f"{plural(len(fig.added), 'item')} added {w.label}: {what}", _period(w), facts,
                  _counts(groups), "Added", groups)  # fmt: skip


def _by_addressee(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    pool = list(fig.added) if w.since is not None else list(fig.items)
    groups: dict[str, int] = {}
    for i in pool:
        groups[addressee_group(i)] = groups.get(addressee_group(i), 0) + 1
    recs = [i for i in pool if i.kind == "recommendation"]
    ours = sum(i.for_force for i in recs)
    scope = f"added {w.label}" if w.since is not None else f"on the tracker{_as_of(w)}"
    facts = [(g, str(n)) for g, n in sorted(groups.items(), key=lambda kv: (kv[0] != FORCES, -kv[1], kv[0]))]
    facts += [
        ("Recommendations for police forces", str(ours)),
        ("Recommendations for other bodies", str(len(recs) - ours)),
    ]
    rows = [(i, addressee_group(i) + (f" ({clip(i.addressee, 60)})" if i.addressee else "")) for i in pool]
    rows.sort(key=lambda r: r[0].for_force)  # the other bodies' items first: they are the fewer
    grouped = _by_report(fig, rows)
    theirs = len(pool) - groups.get(FORCES, 0)
    return Answer(f"Of {plural(len(pool), 'item')} {scope}, {groups.get(FORCES, 0)} are for police forces and "
                  f"{theirs} for other bodies", _period(w), facts, _counts(grouped), "Items", grouped)  # fmt: skip


def _retargeted(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    items = fig.retargeted(q.more_than)

    def said(i: ItemView) -> str:
        was = f", first due {short_day(i.due_date)}" if i.due_date else ""
        return f"moved {plural(i.retarget_count, 'time')} · now due {short_day(i.target_date)}{was}"

    groups = _by_report(fig, [(i, said(i)) for i in items])
    times = "once" if q.more_than == 1 else f"{q.more_than} times"
    return Answer(
        f"{plural(len(items), 'live item')} re-targeted more than {times}{_as_of(w)}", _period(w, counts=False),
        [(f"Re-targeted more than {times}", str(len(items))), ("Re-targeted at all", str(len(fig.retargeted(0)))),
         ("Live", str(fig.live))],
        _counts(groups), "Re-targeted", groups,
    )  # fmt: skip


def _closed(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    scoped = h.scoped(fig.scope.id if fig.scope else None)
    items = closed_between(scoped, w.since, w.until)
    rows = [(i, f"signed off {short_day(i.signed_off_on)}" if i.signed_off_on else STATUS_LABEL.get(i.status, i.status))
            for i in items]  # fmt: skip
    groups = _by_report(fig, rows)
    signed = sum(1 for i in items if i.signed_off_on)
    return Answer(
        f"{plural(len(items), 'item')} closed {w.label}", _period(w),
        [("Closed", str(len(items))), ("Signed off by HMICFRS", str(signed)), ("Superseded", str(len(items) - signed))],
        _counts(groups), "Closed", groups,
    )  # fmt: skip


def _figures(fig: Figures, w: Window, q: CommitteeQuestion, h: TrackerHistory) -> Answer:
    facts = [
        ("On the tracker", str(fig.total)), ("Live", str(fig.live)), ("Signed off", str(fig.signed_off_since)),
        ("Recommendations added", str(fig.added_recommendations)), ("AFIs added", str(fig.added_afis)),
        ("Added recommendations for police forces", str(fig.added_recommendations_for_force)),
        ("Added recommendations for other bodies", str(fig.added_recommendations_other_bodies)),
        ("Overdue", str(len(fig.overdue()))),
    ]  # fmt: skip
    groups = _by_report(fig, [(i, f"signed off {short_day(i.signed_off_on)}") for i in fig.signed_off])
    return Answer(f"The committee figures {w.label}", _period(w), facts, _counts(groups), "Signed off", groups,
                  note="Say \"what's been added since the last JAC?\" for the added items.")  # fmt: skip


_BUILDERS = {
    Ask.SIGNED_OFF: _signed_off, Ask.ADDED: _added, Ask.BY_ADDRESSEE: _by_addressee,
    Ask.RETARGETED: _retargeted, Ask.CLOSED: _closed, Ask.FIGURES: _figures,
}  # fmt: skip


def _as_of(w: Window) -> str:
    return f" as of {day_label(w.until)}"


def _period(w: Window, *, counts: bool = True) -> str:
    if not counts:
        return f"As of {day_label(w.until)}"
    start = f"after {day_label(w.since)}" if w.since else "since the tracker began"
    return f"Counted {start}, up to and including {day_label(w.until)}"


# ---- rendering -----------------------------------------------------------------------------------


def render(a: Answer) -> tuple[dict[str, Any], str]:
    """The card and its text fallback, listing the same (capped) items."""
    body: list[dict[str, Any]] = [
        text(escape_md(a.title), weight="Bolder", size="Medium"),
        text(escape_md(a.subtitle), isSubtle=True, spacing="None"),
        {"type": "FactSet", "facts": [{"title": escape_md(k), "value": v} for k, v in a.facts]},
    ]
    lines = [a.title, a.subtitle, *(f"{k}: {v}" for k, v in a.facts)]
    if a.table:
        body.append(_table(a.table, a.table_heading))
        lines.append(f"By report ({a.table_heading.lower()}):")
        lines += [f"- {name}: {n}" for name, n in a.table]
    shown = 0
    for report, rows in a.items:
        if shown >= ITEM_CAP:
            break
        rows = rows[: ITEM_CAP - shown]
        shown += len(rows)
        body.append(text(f"**{escape_md(report_name(report))}**", separator=True, spacing="Medium"))
        lines.append(f"{report_name(report)}:")
        for item, what in rows:
            body.append(
                text(f"**{escape_md(_ref(item))}** · {escape_md(what)}", size="Small", spacing="Small")
            )
            body.append(
                text(escape_md(clip(item.text, ITEM_TEXT_CHARS)), size="Small", isSubtle=True, spacing="None")
            )
            lines.append(f"- {_ref(item)}: {what}. {clip(item.text, ITEM_TEXT_CHARS)}")
    hidden = sum(len(rows) for _, rows in a.items) - shown
    if hidden > 0:
        more = f"…and {plural(hidden, 'more item')} (the figures above count them all; `tracker pack` lists every one)."
        body.append(text(escape_md(more), isSubtle=True))
        lines.append(more)
    if a.note:
        body.append(text(escape_md(a.note), isSubtle=True))
        lines.append(a.note)
    return card(body), "\n".join(lines)


def _table(rows: list[tuple[str, int]], heading: str) -> dict[str, Any]:
    def row(cells: list[str], header: bool = False) -> dict[str, Any]:
        return {"type": "TableRow", "cells": [
            {"type": "TableCell", "items": [text(escape_md(c), size="Small", weight="Bolder" if header else "Default")]}
            for c in cells
        ]}  # fmt: skip

    return {
        "type": "Table",
        "columns": [{"width": 4}, {"width": 1}],
        "rows": [row(["Report", heading], header=True)]
        + [row([clip(name, 60), str(n)]) for name, n in rows[:25]],
        "firstRowAsHeader": True,
        "showGridLines": False,
    }
