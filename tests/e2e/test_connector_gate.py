"""The connector's per-conversation gate: replies to one conversation queue behind each other up to
the turn's deadline, and a free gate lets a reply straight through (real HTTP to the mock connector)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.connector import Connector, ConnectorError
from tests.kit.botkit import MockConnector, Scripted


async def test_a_reply_waits_behind_one_in_flight_and_gives_up_at_its_deadline() -> None:
    teams = MockConnector()
    await teams.start()
    try:
        async with aiohttp.ClientSession() as http:
            connector = Connector(http, per_conversation=1)
            teams.scripts["c1"] = [Scripted(delay=1.0)]  # the first reply takes a second
            loop = asyncio.get_running_loop()
            first = asyncio.create_task(
                connector.send(teams.url, "c1", {"type": "message", "text": "one"}, deadline=loop.time() + 5)
            )
            await asyncio.sleep(0)  # the first send runs up to its HTTP request, holding the gate
            started = loop.time()
            with pytest.raises(ConnectorError, match="conversation busy"):
                await connector.send(
                    teams.url, "c1", {"type": "message", "text": "two"}, deadline=loop.time() + 0.2
                )
            assert 0.15 <= loop.time() - started < 0.9  # waited for its own deadline, not the first reply
            # Another conversation is not held up by c1's gate, and c1's first reply still lands.
            await connector.send(
                teams.url, "c2", {"type": "message", "text": "three"}, deadline=loop.time() + 5
            )
            assert await first
            assert [r["activity"]["text"] for r in teams.received] == ["three", "one"]
            # Once the gate is free again, c1 takes replies at once.
            await connector.send(
                teams.url, "c1", {"type": "message", "text": "four"}, deadline=loop.time() + 5
            )
            assert teams.received[-1]["activity"]["text"] == "four"
    finally:
        await teams.stop()
