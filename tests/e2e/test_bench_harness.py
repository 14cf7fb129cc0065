"""The benchmark's own machinery works (not its timings: those are measured, never asserted).

The mixed traffic says things Tracker understands and builds well-formed invokes; the load
generator drives the real app through POST /api/messages, counts a message turn only when its
reply reaches the mock Bot Connector and an invoke by its HTTP answer, and a write it proposes is
committed by its "yes"; the connector's hang mode holds what it should and lets go when told.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bench import micro
from bench.loadgen import PhaseConfig, new_client_session, run_phase
from bench.mock_connector import MockConnector
from bench.seed_db import fill
from bench.traffic import REFRESH_INVOKE, SEARCH_INVOKE, Kind, TrackerMix, turn_shares
from bot.app import create_app
from bot.settings import Settings
from storage.db import create_engine
from storage.models import Evidence

ITEMS = 300
TODAY = micro.TODAY
LIST_INTENTS = {"outstanding", "overdue", "due", "summary"}


def test_mixed_traffic_is_understood_and_its_invokes_are_well_formed() -> None:
    mix = TrackerMix(ITEMS, today=TODAY)
    shares = turn_shares(mix.scripts)
    assert 0.08 <= shares["write"] + shares["confirm"] <= 0.12 and shares["write"] == shares["confirm"]
    assert shares["search"] > 0.05 and shares["refresh"] > 0.05 and shares["follow_up"] > 0.05
    understand, context, resolver_cls = micro.language()
    model = micro.synthetic_model(ITEMS)
    resolver = resolver_cls(model)
    for script in mix.scripts[:400]:
        last_report = None
        for step in script:
            if step.invoke == SEARCH_INVOKE:
                value = step.value or {}
                assert value["commandId"] == "searchItems" and value["parameters"][0]["name"] == "query"
                assert set(value["queryOptions"]) == {"skip", "count"}
            elif step.invoke == REFRESH_INVOKE:
                action = (step.value or {})["action"]
                assert (action["type"], action["verb"]) == ("Action.Execute", "refresh_item")
                assert action["data"]["item_id"] in model.items
            elif step.kind not in (Kind.CONFIRM,) and step.text != "more":
                parsed = understand(step.text, context(last_report_key=last_report), resolver, TODAY)
                assert not parsed.needs_clarification, step.text
                if step.kind in (Kind.SHOW, Kind.FOLLOW_UP, Kind.WRITE):
                    assert parsed.item is not None, step.text
                    assert parsed.intent == ("mark_evidenced" if step.kind is Kind.WRITE else "show"), (
                        step.text
                    )
                    last_report = model.reports[parsed.item.report_id].key
                else:
                    assert parsed.intent in LIST_INTENTS, step.text
                    last_report = parsed.report.key if parsed.report else last_report


async def test_load_generator_counts_real_replies_from_tracker(db_url: str) -> None:
    await fill(db_url, ITEMS, dt.date.today())
    mix = TrackerMix(ITEMS)
    first_write = next(n for n, s in enumerate(mix.scripts) if s[0].kind is Kind.WRITE)
    server = TestServer(
        create_app(Settings(database_url=db_url), typing_delay=3600), host="127.0.0.1", port=0
    )
    await server.start_server()
    try:
        async with MockConnector() as connector, new_client_session(4) as session:
            result = await run_phase(
                session=session, connector=connector, target_url=str(server.make_url("/api/messages")),
                config=PhaseConfig(concurrency=4, max_requests=60, max_seconds=60), traffic=mix, start_at=first_write,
            )  # fmt: skip
    finally:
        await server.close()
    assert result.errors == 0, result.error_kinds
    assert result.ok == result.issued >= 60 and result.conversations >= 30
    kinds = result.kinds
    messages = sum(k["ok"] for name, k in kinds.items() if name not in ("search", "refresh"))
    assert result.connector["matched"] == messages and result.connector["stale"] == 0
    for row in kinds.values():  # every answered turn has its HTTP status and what it said counted
        assert sum(row["statuses"].values()) == sum(row["outcomes"].values()) == row["ok"]
    assert kinds["write"]["outcomes"] == {"proposed": kinds["write"]["ok"]}
    assert kinds["confirm"]["outcomes"].get("committed", 0) >= 1
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            written = (
                await conn.execute(select(func.count()).where(Evidence.source_activity_id.not_like("seed-%")))
            ).scalar()
    finally:
        await engine.dispose()
    assert written == kinds["confirm"]["outcomes"]["committed"]


async def test_hang_mode_holds_chosen_conversations_until_released() -> None:
    async with MockConnector() as connector, aiohttp.ClientSession() as http:
        connector.hang({"a:hung"}, max_hold_s=30)
        activity = {"type": "message", "text": "hi"}
        hung = asyncio.ensure_future(
            http.post(connector.service_url + "v3/conversations/a%3Ahung/activities", json=activity)
        )
        async with http.post(
            connector.service_url + "v3/conversations/a%3Afine/activities", json=activity
        ) as ok:
            assert ok.status == 200
        for _ in range(100):  # bounded: the hung request reaches the connector
            if connector.held:
                break
            await asyncio.sleep(0.01)
        assert connector.held == 1 and not hung.done()
        connector.release()
        async with await asyncio.wait_for(hung, 5) as answer:
            assert answer.status == 503
        assert connector.held == 0 and connector.stats.hung == 1


def test_in_process_figures_come_out_whole() -> None:
    res = micro.understanding(n_items=2000, messages=60)
    assert res["items"] == 2000 and res["latency_ms"]["n"] == 60 + 150
    dig = micro.digest(n_items=500, n_events=100, repeats=2)
    assert dig["card_bytes"] > 1000 and dig["build_ms"]["n"] == 2
    for absent in ("bench.no_such_module:search_items", "bench.traffic:no_such_function"):
        try:
            micro.entry_point(absent)
        except micro.NotAvailable as why:
            assert str(why) == "not available yet"
        else:
            raise AssertionError(f"{absent} should not be available")

    def search_items(model: object, query: str, *, skip: int = 0, count: int = 25) -> list[object]:
        return [model, query, skip, count]

    call = micro.call_by_name(search_items, {"model": "M", "query": "", "skip": 0, "count": 25, "unused": 1})
    assert call({"query": "vetting 12", "skip": 25}) == ["M", "vetting 12", 25, 25]
    try:
        micro.call_by_name(lambda index, query: None, {"query": ""})
    except micro.NotAvailable as why:
        assert "index" in str(why)
    else:
        raise AssertionError("a parameter the pool cannot supply must be named")
