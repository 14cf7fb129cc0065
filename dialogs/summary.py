"""Counts by status and by report ("status", "how many are still open?")."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from dialogs.cards import report_name, summary_card
from dialogs.committee.chat import committee_handler
from dialogs.deps import Deps
from dialogs.frozen import FrozenCard
from dialogs.language import Parsed
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.views import ItemView


def counts(items: list[ItemView], today: dt.date) -> tuple[Counter[str], int, int]:
    by_status = Counter(i.status for i in items)
    overdue = sum(1 for i in items if i.overdue(today))
    soon = sum(
        1
        for i in items
        if i.live and i.for_force and i.due_date and today <= i.due_date <= today + dt.timedelta(days=30)
    )
    return by_status, overdue, soon


def counts_by_report(items: Iterable[ItemView], today: dt.date) -> dict[int, Counter[str]]:
    """Live, signed-off and overdue counts per report id (the per-report table's numbers)."""
    table: dict[int, Counter[str]] = {}
    for i in items:
        c = table.setdefault(i.report_id, Counter())
        c["live"] += i.live and i.for_force
        c["signed_off"] += i.status == "signed_off"
        c["overdue"] += i.overdue(today)
    return table


def per_report(model: ReadModel, items: list[ItemView], today: dt.date) -> list[tuple[str, dict[str, int]]]:
    table = counts_by_report(items, today)
    rows = [(report_name(model.reports[rid]), dict(c)) for rid, c in table.items() if rid in model.reports]
    rows.sort(key=lambda r: (-r[1].get("overdue", 0), -r[1].get("live", 0), r[0]))
    return rows


def summary_outcome(
    model: ReadModel, today: dt.date, report_key: str | None = None, kind: str | None = None
) -> Outcome:
    report = model.reports_by_key.get(report_key) if report_key else None

    def build() -> tuple[FrozenCard, str]:
        pool = model.items_of_report(report.id) if report else model.items.values()
        items = [i for i in pool if kind is None or i.kind == kind]
        by_status, overdue, soon = counts(items, today)
        c, fallback = summary_card(dict(by_status), per_report(model, items, today)[:25], overdue, soon)
        if report:
            fallback = f"{report_name(report)}: " + fallback
            c["body"].insert(0, {"type": "TextBlock", "text": report.title, "wrap": True, "weight": "Bolder"})
        return FrozenCard(c).with_fallback(fallback[:4000]), fallback

    # Same question, same items, same day: the same card (built and encoded once).
    card, fallback = model.memo(("summary", report_key, kind, today), build)
    out = Outcome(replies=[Reply(fallback, card)])
    return out.also(last_report=report.key) if report else out


async def summary_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Counts, overall or for the report named; the committee's counts (since, signed off, added,
    for whom, re-targeted) with the items behind them."""
    if parsed.measure or parsed.since:
        return await committee_handler(deps, parsed, turn)
    return summary_outcome(deps.model, turn.today, parsed.report.key if parsed.report else None, parsed.kind)
