"""Fixtures the end-to-end tests share: the small dataset in ``db_url``, and the real app on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from storage.db import create_engine
from tests.kit.botkit import RunningBot, running_bot
from tests.kit.data import seed_small


@pytest.fixture
async def seeded(db_url: str) -> dict[str, int]:
    """``tests.kit.data``'s reports and items in the test's database; item ids by name."""
    engine = create_engine(db_url)
    try:
        return await seed_small(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def bot(db_url: str, seeded: dict[str, int]) -> AsyncIterator[RunningBot]:
    """The real app on that database, with a write limit high enough for a test's writes."""
    async with running_bot(Settings(database_url=db_url, write_limit=100)) as running:
        yield running
