"""'typing…' after a delay: sent when the answer is slower than the delay, never once cancelled."""

from __future__ import annotations

import asyncio

from bot.handler import _Typing


async def test_typing_is_sent_after_the_delay_and_not_when_cancelled_first() -> None:
    sent: list[str] = []
    fired = asyncio.Event()

    async def send(label: str) -> None:
        sent.append(label)
        fired.set()

    quick = _Typing(0.05, lambda: send("quick"))
    quick.cancel()  # the answer came first
    slow = _Typing(0.01, lambda: send("slow"))
    await asyncio.wait_for(fired.wait(), 2.0)
    slow.cancel()  # cancelling after it fired is harmless
    await asyncio.sleep(0.1)  # past the cancelled timer's own delay: it must stay silent
    assert sent == ["slow"]


async def test_cancelling_while_typing_is_being_sent_stops_it() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def send() -> None:
        started.set()
        await asyncio.sleep(5)
        finished.set()

    typing = _Typing(0.0, send)
    await asyncio.wait_for(started.wait(), 2.0)
    typing.cancel()
    task = typing._task
    assert task is not None
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and not finished.is_set()
