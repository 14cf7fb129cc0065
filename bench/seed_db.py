"""Create and fill a benchmark database: ``python -m bench.seed_db URL --items N``.

Migrates with the real migrations, then bulk-inserts the synthetic corpus with SQLAlchemy Core
(the importer audits every row, which is right for real data and too slow for 100,000 fakes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from sqlalchemy import insert, text, update

from bench import corpus
from storage.db import create_engine, upgrade_database
from storage.models import Item, Meta, Report, ReportAlias


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
                 "owner_name": i.owner, "status": i.status, "for_force": i.status != "not_for_us", "themes": [],
                 "changed_seq": 1, "version": 1}
                for n, i in enumerate(corpus.items(n_items, today))
            ]  # fmt: skip
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(Item), rows[start : start + 5000])
            await conn.execute(update(Meta).where(Meta.key == "data_seq").values(value=1))
    finally:
        await engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--items", type=int, default=150)
    args = p.parse_args()
    upgrade_database(args.url)
    asyncio.run(fill(args.url, args.items, dt.date.today()))


if __name__ == "__main__":
    main()
