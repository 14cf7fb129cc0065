"""Counts by status and by report ("status", "how many are still open?")."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable, Iterable

from dialogs.cards import report_name, summary_card
from dialogs.committee.chat import committee_handler
from dialogs.deps import Deps
from dialogs.frozen import FrozenCard
from dialogs.language import Parsed
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.views import ItemView


def counts_by_report(items: Iterable[ItemView], today: dt.date) -> dict[int, Counter[str]]:
    """Live, signed-off and overdue counts per report id (the per-report table's numbers)."""
    table: dict[int, Counter[str]] = {}
    for i in items:
        c = table.setdefault(i.report_id, Counter())
        c["live"] += i.live and i.for_force
        c["signed_off"] += i.status == "signed_off"
        c["overdue"] += i.overdue(today)
    return table


def _counting(
    today: dt.date, kind: str | None, report_id: int | None
) -> Callable[[ItemView], list[Hashable]]:
    """What one item adds to the summary's counts (by status, overdue, due within 30 days, and per
    report the numbers :func:`counts_by_report` gives), so they can be kept current item by item."""
    soon_until = today + dt.timedelta(days=30)

    def count(i: ItemView) -> list[Hashable]:
        if (kind is not None and i.kind != kind) or (report_id is not None and i.report_id != report_id):
            return []  # the counts' own filter: a patch brings items from anywhere
        rid = i.report_id
        out: list[Hashable] = [("status", i.status), ("report", rid)]
        if i.overdue(today):
            out += ["overdue", ("overdue", rid)]
        if i.live and i.for_force:
            out.append(("live", rid))
            if i.due_date and today <= i.due_date <= soon_until:
                out.append("soon")
        if i.status == "signed_off":
            out.append(("signed_off", rid))
        return out

    return count


def _from_tally(
    model: ReadModel, tally: Counter[Hashable]
) -> tuple[dict[str, int], int, int, list[tuple[str, dict[str, int]]]]:
    by_status = {k[1]: n for k, n in tally.items() if isinstance(k, tuple) and k[0] == "status" and n > 0}
    rows = [
        (report_name(model.reports[rid]),
         {"live": tally[("live", rid)], "signed_off": tally[("signed_off", rid)], "overdue": tally[("overdue", rid)]})
        for (what, rid), n in ((k, n) for k, n in tally.items() if isinstance(k, tuple))
        if what == "report" and n > 0 and rid in model.reports
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r[1].get("overdue", 0), -r[1].get("live", 0), r[0]))
    return by_status, tally["overdue"], tally["soon"], rows


def summary_outcome(
    model: ReadModel, today: dt.date, report_key: str | None = None, kind: str | None = None
) -> Outcome:
    report = model.reports_by_key.get(report_key) if report_key else None

    def build() -> tuple[FrozenCard, str]:
        # The counts are kept current across writes (one item in, one out), not recounted after each.
        pool = model.items_of_report(report.id) if report else None
        rid = report.id if report else None
        tally = model.kept_tally(("summary", rid, kind, today), _counting(today, kind, rid), pool, scope=rid)
        by_status, overdue, soon, rows = _from_tally(model, tally)
        c, fallback = summary_card(by_status, rows[:25], overdue, soon)
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
