"""Shared fixtures: a real, migrated database on SQLite and (when configured) on PostgreSQL.

Each pytest process gets its own PostgreSQL database (created from TRACKER_TEST_POSTGRES_URL and
dropped at the end), so several runs on one server never see each other's rows. Every test starts
from empty tables.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import create_engine, upgrade_database
from storage.models import Base
from storage.store import Store

REPO = Path(__file__).resolve().parents[1]
# What the tests read that the project itself does not ship in a package: official schemas (with
# their licences) and the domain paper. All inside the repository, so a bare clone passes.
SCHEMAS = REPO / "tests" / "schemas"
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_CSV = REPO / "storage" / "demo" / "hmicfrs-sample-recommendations.csv"
PG_ENV = "TRACKER_TEST_POSTGRES_URL"
PG_SKIP = f"PostgreSQL runs need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every async test runs on the loop ``tracker serve`` runs on (uvloop, bot.app.new_event_loop);
    tests marked ``both_loops`` also on asyncio's own (TRACKER_EVENT_LOOP=asyncio)."""
    factories: dict[str, Any] = {"uvloop": uvloop.new_event_loop}
    if item.get_closest_marker("both_loops") is not None:
        factories["asyncio"] = asyncio.new_event_loop
    return factories


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the root logger for its process; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; tests copy it (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    """A private, migrated PostgreSQL database for this test process (None when not configured)."""
    admin = _pg_admin_url()
    if not admin:
        yield None
        return
    name = f"tracker_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def _admin(sql: str) -> None:
        eng = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with eng.connect() as c:
                await c.execute(text(sql))
        finally:
            await eng.dispose()

    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_pg(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as c:
        await c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A URL of an empty, migrated database: every test using it runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database_url")
    if url is None:
        pytest.skip(PG_SKIP)

    async def _clean() -> None:
        eng = create_engine(url)
        try:
            await _truncate_pg(eng)
        finally:
            await eng.dispose()

    asyncio.run(_clean())
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """The Store on that database, opened as the bot opens it."""
    async with await Store.open(db_url) as s:
        yield s
