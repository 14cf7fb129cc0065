"""The benchmark's own machinery works (not its timings: those are measured, never asserted).

The load generator drives the real app through POST /api/messages and counts a request as done
only when the reply reaches its mock Bot Connector; the in-process figures come out whole.
"""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from bench import micro
from bench.loadgen import PhaseConfig, cycle_messages, new_client_session, run_phase
from bench.mock_connector import MockConnector
from bot.app import create_app
from bot.settings import Settings
from storage.db import create_engine
from tests.kit.data import seed_small

MESSAGES = ["what's overdue?", "show vetting rec 35", "how many are still open?", "what's outstanding from vetting"]


async def test_load_generator_counts_real_replies_from_tracker(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await seed_small(engine)
    finally:
        await engine.dispose()
    server = TestServer(create_app(Settings(database_url=db_url), typing_delay=3600), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with MockConnector() as connector, new_client_session(4) as session:
            result = await run_phase(
                session=session, connector=connector, target_url=str(server.make_url("/api/messages")),
                config=PhaseConfig(concurrency=4, max_requests=40, max_seconds=60), messages=cycle_messages(MESSAGES),
            )  # fmt: skip
    finally:
        await server.close()
    assert (result.issued, result.ok, result.errors) == (40, 40, 0), result.error_kinds
    assert result.connector["replies"] == 40 and result.connector["unmatched"] == 0
    assert result.latency_ms.p50 is not None and result.latency_ms.p50 <= (result.latency_ms.p99 or 0)


def test_in_process_figures_come_out_whole() -> None:
    res = micro.resolution(n_items=2000, messages=60)
    assert res["items"] == 2000 and res["latency_ms"]["n"] == 60 + 150
    dig = micro.digest(n_items=500, n_events=100, repeats=2)
    assert dig["card_bytes"] > 1000 and dig["build_ms"]["n"] == 2
