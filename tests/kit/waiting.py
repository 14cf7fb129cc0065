"""A check for work that must wait without holding the event loop up."""

from __future__ import annotations

import asyncio
from typing import Any


async def assert_waits_while_loop_runs(task: asyncio.Task[Any], ticks: int = 10) -> None:
    """``task`` is still waiting after ``ticks`` short sleeps, every one of which the loop ran."""
    ran = 0
    for _ in range(ticks):  # bounded: ticks x 10 ms
        await asyncio.sleep(0.01)
        ran += 1
    assert ran == ticks and not task.done()
