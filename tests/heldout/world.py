"""The world the held-out set is scored against: the demo data the bot ships with (``tracker seed-demo``).

Built exactly as the app builds it: the demo loaded through the real importer into a fresh SQLite
database (migrated with Alembic), read into a :class:`ReadModel`, then ``Resolver(Index(model))``,
as ``tracker parse`` does (``bot/cli.py``). ``NOW`` is fixed so that the demo's force-set target
dates and back-dated changes, and every relative date in the set, are the same on every run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dialogs.language import Index, Resolver
from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView

TODAY = dt.date(2026, 12, 2)  # a Wednesday; the demo's "now" is this morning
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    """The demo tracker: its read model, the resolver the bot uses, and look-ups for the scorer."""

    model: ReadModel
    resolver: Resolver
    reports: dict[str, ReportView]
    items: tuple[ItemView, ...]

    def report_of(self, item: ItemView) -> ReportView:
        return next(r for r in self.reports.values() if r.id == item.report_id)

    def find(self, ref: str) -> ItemView:
        """``key/35`` (by number), ``key/#12`` (by id) or ``key/~words`` (the one item of the report whose
        text holds those words; for unnumbered items). Raises if the reference does not name one item."""
        key, _, what = ref.partition("/")
        report = self.reports[key]
        mine = [i for i in self.items if i.report_id == report.id]
        if what.startswith("#"):
            hits = [i for i in mine if i.id == int(what[1:])]
        elif what.startswith("~"):
            hits = [i for i in mine if what[1:].lower() in i.text.lower()]
        else:
            hits = [i for i in mine if i.number == what]
        if len(hits) != 1:
            raise LookupError(f"{ref!r} names {len(hits)} items")
        return hits[0]


async def _load(path: Path) -> ReadModel:
    from storage.demo import seed_demo
    from storage.store import Store

    url = f"sqlite+aiosqlite:///{path}"
    store = await Store.open(url)
    try:
        await seed_demo(store, now=NOW)
        model = ReadModel(store)
        await model.load()
    finally:
        await store.close()
    return model


def build_world() -> World:
    """Seed the demo into a throw-away SQLite database and build the resolver over it."""
    from storage.db import upgrade_database

    with tempfile.TemporaryDirectory(prefix="tracker-heldout-") as tmp:
        path = Path(tmp) / "demo.db"
        upgrade_database(f"sqlite+aiosqlite:///{path}")
        model = asyncio.run(_load(path))
    items = tuple(sorted(model.items.values(), key=lambda i: i.id))
    return World(
        model=model, resolver=Resolver(Index(model)), reports=dict(model.reports_by_key), items=items
    )
