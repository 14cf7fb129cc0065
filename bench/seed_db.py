"""Create and fill a benchmark database: ``python -m bench.seed_db URL --items N``.

Migrates with the real migrations, then bulk-inserts the synthetic corpus with SQLAlchemy Core
(the importer audits every row, which is right for real data and too slow for 100,000 fakes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, text, update

from bench import corpus
from storage.db import create_engine, upgrade_database
from storage.models import Evidence, Item, Meta, Report, ReportAlias


async def fill(url: str, n_items: int, today: dt.date) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if url.startswith("postgresql"):
                await conn.execute(
                    text("TRUNCATE report, report_alias, item, item_event, evidence RESTART IDENTITY CASCADE")
                )
            ids: dict[str, int] = {}
            for key, title, aliases in corpus.reports(n_items):
                rid = (await conn.execute(insert(Report).values(key=key, title=title, report_type="national_thematic",
                                                                 published=dt.date(2022, 11, 2)).returning(Report.id))).scalar_one()  # fmt: skip
                ids[key] = rid
                for alias in aliases:
                    await conn.execute(insert(ReportAlias).values(report_id=rid, alias=alias))
            rows = [
                {"report_id": ids[i.report_key], "kind": i.kind, "number": i.number,
                 "match_key": i.number or f"t:{n}", "text": i.text, "deadline_text": i.deadline, "due_date": i.due,
                 "owner_name": i.owner, "status": i.status, "for_force": i.status != "not_for_us", "themes": list(i.themes),
                 "changed_seq": 1, "version": 1}
                for n, i in enumerate(corpus.items(n_items, today))
            ]  # fmt: skip
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(Item), rows[start : start + 5000])
            evidence = evidence_rows(
                (await conn.execute(select(Item.id, Item.status).order_by(Item.id))).all()
            )
            for start in range(0, len(evidence), 5000):
                await conn.execute(insert(Evidence), evidence[start : start + 5000])
            await conn.execute(update(Meta).where(Meta.key == "data_seq").values(value=1))
    finally:
        await engine.dispose()


EVIDENCE_BY_STATUS = {
    "in_progress": ("update",),
    "evidenced": ("update", "evidence"),
    "signed_off": ("update", "evidence"),
}


def evidence_rows(items: Sequence[Any]) -> list[dict[str, object]]:
    """What leads record as work goes on: an update once started, evidence once evidenced, so
    "show rec N" reads and renders a real history for most items, as it would in a live tracker."""
    at = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
    rows = []
    for item_id, status in items:
        for n, kind in enumerate(EVIDENCE_BY_STATUS.get(status, ())):
            text_ = ("Working group set up; terms of reference agreed and first review scheduled."
                     if kind == "update" else
                     "Policy revised and published on the intranet; training delivered to all supervisors.")  # fmt: skip
            rows.append({"item_id": item_id, "kind": kind, "text": text_, "links": [], "author_name": "DI Bench Lead",
                         "author_aad_id": None, "created_at": at + dt.timedelta(days=14 * n + item_id % 30),
                         "source_conversation_id": "a:bench", "source_activity_id": f"seed-{item_id}-{n}"})  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--items", type=int, default=150)
    args = p.parse_args()
    upgrade_database(args.url)
    asyncio.run(fill(args.url, args.items, dt.date.today()))


if __name__ == "__main__":
    main()
