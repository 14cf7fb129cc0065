"""Tracker as benchmark targets: SQLite and PostgreSQL, 10,000 and 100,000 items, mixed traffic.

Each size is seeded once per run (``bench.seed_db``: the real migrations, then the synthetic
corpus, two in three items with an update or evidence) into the run's cache: a SQLite file that
every round copies, or a PostgreSQL template database that every round clones with
``CREATE DATABASE ... TEMPLATE``. So each round starts from the same data (the writes of the
previous round are gone) without paying for seeding again. Databases are dropped afterwards.

Targets:

* ``tracker-{sqlite,postgres}-{10k,100k}``: one ``tracker serve``, c=1 and c=16.
* ``tracker-postgres-10k-x2``: two ``tracker serve`` processes on one PostgreSQL database, turns
  spread over both (consecutive turns of a conversation on different instances), c=16: the
  combined throughput and where the CPU goes (each instance, PostgreSQL, the load generator).
* ``tracker-postgres-10k-faults``: c=16 normally, then c=16 again while 60 other conversations
  hang at the connector (same serviceUrl): healthy conversations' p99 against the normal run's.
* ``tracker-sqlite-10k-baseline``, only when ``TRACKER_BENCH_BASELINE`` names another checkout
  (``git worktree add /tmp/base HEAD~1``): the same target with that checkout's code first on the
  path, for a before/after in the same interleaved rounds (machine speed drifts by more than
  most single changes gain, so runs minutes apart cannot tell them apart).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.loadgen import HangConfig
from bench.target import Hook, Target, TargetContext, http_ready
from bench.traffic import TrackerMix

log = logging.getLogger(__name__)

PG_ADMIN_ENV = "TRACKER_BENCH_POSTGRES_URL"
BASELINE_ENV = "TRACKER_BENCH_BASELINE"
PG_ADMIN_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SIZES = {"10k": 10_000, "100k": 100_000}
FAULT_CONVERSATIONS = 60


def pg_admin_url() -> str:
    """Where to create benchmark databases (the server the tests use, by default)."""
    return os.environ.get(PG_ADMIN_ENV) or os.environ.get("TRACKER_TEST_POSTGRES_URL") or PG_ADMIN_DEFAULT


async def _admin(*statements: str) -> None:
    engine = create_async_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def pg_server_version() -> str | None:
    """The PostgreSQL server's version string, or None when it cannot be reached."""
    engine = create_async_engine(pg_admin_url())
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SHOW server_version"))).scalar_one())
    except Exception:  # the machine description must not fail the run
        return None
    finally:
        await engine.dispose()


def _pg_url(database: str) -> str:
    return make_url(pg_admin_url()).set(database=database).render_as_string(hide_password=False)


def _seed(url: str, items: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.seed_db", url, "--items", str(items)], check=True, timeout=900
    )


def _sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of a SQLite database (the backup API, so a WAL file is folded in)."""
    with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
        src.backup(dst)


def _template_marker(cache: Path, items: int) -> Path:
    return cache / f"pg-template-{items}.name"


def seeded(backend: str, items: int) -> Hook:
    """A prepare hook: this round's own database with ``items`` synthetic items."""

    def prepare(ctx: TargetContext) -> None:
        if backend == "sqlite":
            template = ctx.cache / f"sqlite-{items}.db"
            if not template.exists():
                log.info("seeding %d items into %s (once per run)", items, template)
                partial = template.with_suffix(".partial")
                partial.unlink(missing_ok=True)
                _seed(f"sqlite+aiosqlite:///{partial}", items)
                _sqlite_copy(partial, template)
                partial.unlink()
            database = ctx.workdir / "tracker.db"
            _sqlite_copy(template, database)
            ctx.env["DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
            return
        marker = _template_marker(ctx.cache, items)
        template_name = f"bench_template_{items}"
        if not marker.exists():
            log.info("seeding %d items into PostgreSQL %s (once per run)", items, template_name)
            asyncio.run(
                _admin(
                    f'DROP DATABASE IF EXISTS "{template_name}" WITH (FORCE)',
                    f'CREATE DATABASE "{template_name}"',
                )
            )
            _seed(_pg_url(template_name), items)
            marker.write_text(template_name)
        name = "bench_" + ctx.name.replace("-", "_")
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                           f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))  # fmt: skip
        ctx.env["DATABASE_URL"] = _pg_url(name)

    return prepare


def drop_database(ctx: TargetContext) -> None:
    """A cleanup hook: drop this round's PostgreSQL database (100,000 items is ~100 MB)."""
    url = ctx.env.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        name = make_url(url).database
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_templates(cache: Path) -> None:
    """At the end of a run: drop the PostgreSQL templates it seeded."""
    names = [marker.read_text().strip() for marker in cache.glob("pg-template-*.name")]
    if names:
        asyncio.run(_admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names)))


def tracker_targets() -> list[Target]:
    """Every Tracker target, in run order."""
    mixes = {items: TrackerMix(items) for items in SIZES.values()}  # scripts are drawn on first use
    env = {
        "DATABASE_URL": "(set by prepare)",
        "TRACKER_SCHEDULER": "off",
        "LOG_LEVEL": "WARNING",
        "TRACKER_REFRESH_SECONDS": "2",
    }

    def tracker(
        name: str, backend: str, items: int, description: str, code: str | None = None, **extra: object
    ) -> Target:
        # code: another checkout whose packages come first on the path (the baseline target)
        own_env = env if code is None else {**env, "PYTHONPATH": str(Path(code).resolve())}
        return Target(
            name=name, argv=("{repo}/.venv/bin/tracker", "serve"), env=own_env, prepare=seeded(backend, items),
            cleanup=drop_database, ready=http_ready("/healthz"), traffic=mixes[items], description=description,
            ready_timeout_s=180.0 if items > 10_000 else 60.0, **extra,  # type: ignore[arg-type]
        )  # fmt: skip

    out = []
    for backend, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        for size, items in SIZES.items():
            out.append(
                tracker(f"tracker-{backend}-{size}", backend, items, f"Tracker, {label}, {items:,} items")
            )
    baseline = os.environ.get(BASELINE_ENV)
    if baseline:
        out.append(
            tracker("tracker-sqlite-10k-baseline", "sqlite", 10_000,
                    f"Tracker, SQLite, 10,000 items, the code of {baseline}", code=baseline)
        )  # fmt: skip
    out.append(
        tracker(
            "tracker-postgres-10k-x2",
            "postgres",
            10_000,
            "two Tracker instances on one PostgreSQL, 10,000 items",
            instances=2,
            concurrencies=(16,),
        )
    )
    out.append(
        tracker(
            "tracker-postgres-10k-faults",
            "postgres",
            10_000,
            f"Tracker, PostgreSQL, 10,000 items, then {FAULT_CONVERSATIONS} conversations hung at the connector",
            concurrencies=(16,),
            hang=HangConfig(conversations=FAULT_CONVERSATIONS),
        )
    )
    return out
