"""Tracker as benchmark targets: SQLite and PostgreSQL, 150 and 10,000 items.

Each target gets a fresh database filled by ``bench.seed_db`` (migrations, then the synthetic
corpus) and is driven with realistic questions about reports and items that exist.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import corpus
from bench.loadgen import cycle_messages

PG_ADMIN_ENV = "TRACKER_BENCH_POSTGRES_URL"
PG_ADMIN_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    return os.environ.get(PG_ADMIN_ENV) or os.environ.get("TRACKER_TEST_POSTGRES_URL") or PG_ADMIN_DEFAULT


async def _recreate_pg(admin: str, name: str) -> str:
    eng = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with eng.connect() as c:
            await c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await c.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await eng.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def seeder(items: int) -> Callable[[object], None]:
    """A prepare hook: fill the target's DATABASE_URL with ``items`` synthetic items."""

    def prepare(ctx: object) -> None:
        env = ctx.env  # type: ignore[attr-defined]
        url = env["DATABASE_URL"]
        if url.startswith("__pg__:"):
            # A fresh PostgreSQL database per target; the runner starts the server with this same
            # environment mapping after prepare, so the real URL reaches it.
            url = env["DATABASE_URL"] = pg_database("bench_" + url.split(":", 1)[1])
        subprocess.run(
            [sys.executable, "-m", "bench.seed_db", url, "--items", str(items)], check=True, timeout=600
        )

    return prepare


def pg_database(name: str) -> str:
    """Create (or recreate) a benchmark database and return its URL."""
    return asyncio.run(_recreate_pg(pg_admin_url(), name))


def tracker_targets(target_cls: type, http_ready: Callable[[str], object]) -> list[object]:
    """The four Tracker targets (built with the runner's own Target class)."""
    out = []
    for backend in ("sqlite", "postgres"):
        for items in (150, 10_000):
            name = f"tracker-{backend}-{'10k' if items == 10_000 else items}"
            if backend == "sqlite":
                url = "sqlite+aiosqlite:///{workdir}/tracker.db"
            else:
                url = f"__pg__:{name.replace('-', '_')}"
            out.append(
                target_cls(
                    name=name,
                    argv=("{repo}/.venv/bin/tracker", "serve"),
                    env={
                        "DATABASE_URL": url,
                        "TRACKER_SCHEDULER": "off",
                        "LOG_LEVEL": "WARNING",
                        "TRACKER_REFRESH_SECONDS": "2",
                    },
                    prepare=seeder(items),
                    ready=http_ready("/healthz"),
                    messages=cycle_messages(corpus.messages(items)),
                    description=f"Tracker, {backend}, {items} items",
                )
            )
    return out
