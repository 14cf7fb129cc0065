"""The summary's counts, kept current across writes, equal the counts of a fresh scan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from dialogs.summary import summary_outcome
from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView, Snapshot

TODAY = dt.date(2026, 12, 2)
STATUSES = ("open", "in_progress", "evidenced", "signed_off", "not_for_us")
KINDS = ("recommendation", "afi", "cause_of_concern")
REPORTS = tuple(ReportView(r, f"r{r}", f"Report {r} on something", "other", None, None) for r in (1, 2, 3))


def _item(n: int, rng: random.Random) -> ItemView:
    due = TODAY + dt.timedelta(days=rng.randint(-60, 60)) if rng.random() < 0.8 else None
    status = rng.choice(STATUSES)
    return ItemView(n, rng.randint(1, 3), rng.choice(KINDS), str(n), f"text {n}", None, status != "not_for_us",
                    None, due, None, None, (), status, None, None, None, None, 1, None, None, None)  # fmt: skip


def _said(model: ReadModel, report: str | None, kind: str | None) -> str:
    return summary_outcome(model, TODAY, report, kind).replies[0].text


def test_summary_after_changes_equals_a_fresh_count() -> None:
    rng = random.Random(21)
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only
    model._install(Snapshot(seq=1, reports=REPORTS, items=tuple(_item(n, rng) for n in range(1, 151))))
    asks = [(None, None), ("r2", None), (None, "afi"), ("r1", "recommendation")]
    for report, kind in asks:
        _said(model, report, kind)  # counted once here, then only patched
    for step in range(120):  # bounded: 120 changes, every question checked after each
        current = model.items[rng.randint(1, 150)]
        status = rng.choice(STATUSES)
        model.apply(dataclasses.replace(
            current, version=current.version + 1, status=status, kind=rng.choice(KINDS),
            for_force=status != "not_for_us", report_id=rng.randint(1, 3),
            due_date=TODAY + dt.timedelta(days=rng.randint(-60, 60)),
        ))  # fmt: skip
        fresh = ReadModel(None)  # type: ignore[arg-type]
        fresh._install(Snapshot(seq=1, reports=REPORTS, items=tuple(model.items.values())))
        for report, kind in asks:
            assert _said(model, report, kind) == _said(fresh, report, kind), (step, report, kind)
    overall = _said(model, None, None)
    live = sum(1 for i in model.items.values() if i.status in ("open", "in_progress", "evidenced"))
    assert overall.startswith(f"{live} live items, ")
