"""Issue 15 end to end: compose-box search and link previews, cards that stay current, the evidence
dialog and its typeahead; real invokes POSTed to the running app, answers read from its responses."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match

from bot.settings import Settings
from storage.store import Store
from tests.conftest import SCHEMAS
from tests.kit.botkit import MockConnector, RunningBot, cards_of, running_bot
from tests.kit.cardschema import assert_valid_card


def invoke(bot: RunningBot, name: str, value: dict[str, Any], *, aad: str = "aad-alice", user: str = "Alice Ames",
           conversation: str = "a:personal-alice", conversation_type: str = "personal") -> dict[str, Any]:  # fmt: skip
    act = bot.acts.base(conversation=conversation, conversation_type=conversation_type, user=user, aad=aad)
    act.update({"type": "invoke", "name": name, "value": value})
    return act


def query(text: str | None, *, skip: int = 0, count: int = 25) -> dict[str, Any]:
    params = [{"name": "initialRun", "value": "true"}] if text is None else [{"name": "query", "value": text}]
    return {"commandId": "searchItems", "parameters": params, "queryOptions": {"skip": skip, "count": count}}


def titles(body: dict[str, Any]) -> list[str]:
    return [a["preview"]["content"]["title"] for a in body["composeExtension"]["attachments"]]


@functools.cache
def _teams_card_validator() -> Draft6Validator:
    """Adaptive Cards 1.5 plus what Teams documents on top for typeahead: ``choices.data`` (Data.Query)."""
    schema = json.loads((SCHEMAS / "adaptive-card-1.5.json").read_text())
    schema = copy.deepcopy(schema)
    schema["definitions"]["Input.ChoiceSet"]["properties"]["choices.data"] = {
        "type": "object", "required": ["type", "dataset"], "additionalProperties": False,
        "properties": {"type": {"enum": ["Data.Query"]}, "dataset": {"type": "string"}},
    }  # fmt: skip
    return Draft6Validator(schema)


def assert_valid_teams_card(card: dict[str, Any]) -> None:
    error = best_match(_teams_card_validator().iter_errors(card))
    assert error is None, f"{error.message} at {list(error.absolute_path)}"


# ---- 1. search from the compose box -------------------------------------------------------------


async def test_search_ranks_by_the_resolver_with_preview_and_card(bot: RunningBot) -> None:
    status, body = await bot.post(invoke(bot, "composeExtension/query", query("CCU")))
    assert status == 200
    assert body["composeExtension"]["type"] == "result"
    assert titles(body)[:2] == [
        "Vetting, misconduct and misogyny (2022) rec 34",
        "Vetting, misconduct and misogyny (2022) rec 33",
    ]  # live items first on a tie
    for att in body["composeExtension"]["attachments"]:
        assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert att["preview"]["contentType"] == "application/vnd.microsoft.card.thumbnail"
        assert_valid_card(att["content"])
        assert (
            att["content"]["refresh"]["action"]["verb"] == "refresh_item"
        )  # the inserted card stays current
    for typed, first in (("vetting 34", "Vetting, misconduct and misogyny (2022) rec 34"), ("vetitng 34", "Vetting, misconduct and misogyny (2022) rec 34"),
                         ("stop and search", None), ("fraud", "Fraud: Time to choose (2021) rec 1")):  # fmt: skip
        _, body = await bot.post(invoke(bot, "composeExtension/query", query(typed)))
        found = titles(body)
        assert found, typed
        if first:
            assert found[0] == first, (typed, found)


async def test_empty_query_lists_my_live_items_and_paging_is_bounded(bot: RunningBot) -> None:
    _, body = await bot.post(
        invoke(bot, "composeExtension/query", query(None), aad="aad-sarah", user="Sarah Khan")
    )
    assert titles(body) == [
        "Vetting, misconduct and misogyny (2022) rec 34",
        "Vetting, misconduct and misogyny (2022) rec 39",
    ]  # rec 33 is signed off
    _, body = await bot.post(invoke(bot, "composeExtension/query", query("", skip=1, count=1), aad="aad-sarah",
                                    user="Sarah Khan"))  # fmt: skip
    assert titles(body) == ["Vetting, misconduct and misogyny (2022) rec 39"]
    _, body = await bot.post(invoke(bot, "composeExtension/query", query("chief constables", count=500)))
    assert 0 < len(titles(body)) <= 25
    _, body = await bot.post(invoke(bot, "composeExtension/query", query("xyzzy plugh")))
    assert (
        body["composeExtension"]["type"] == "message" and "No items match" in body["composeExtension"]["text"]
    )


async def test_search_answers_from_the_items_as_they_are_after_a_write(bot: RunningBot) -> None:
    """Results are ranked once per question until the next change: a write in between shows at once."""
    rec33, rec34 = (
        "Vetting, misconduct and misogyny (2022) rec 33",
        "Vetting, misconduct and misogyny (2022) rec 34",
    )
    for _ in range(2):  # asked twice, the same answer (the second from the kept ranking)
        _, body = await bot.post(invoke(bot, "composeExtension/query", query("CCU")))
        assert titles(body)[:2] == [rec34, rec33]  # live first on a tie
    await bot.say("mark 34 as signed off")
    await bot.say("yes")
    _, body = await bot.post(invoke(bot, "composeExtension/query", query("CCU")))
    assert titles(body)[:2] == [rec33, rec34]  # both signed off now: printed order


# ---- 2. link unfurling ---------------------------------------------------------------------------


async def test_query_link_previews_our_item_links_and_ignores_others(
    bot: RunningBot, seeded: dict[str, int]
) -> None:
    item_id = seeded["vetting recommendation 35"]
    _, body = await bot.post(invoke(bot, "composeExtension/queryLink",
                                    {"url": f"https://tracker.example.com/items/{item_id}"}))  # fmt: skip
    assert titles(body) == ["Vetting, misconduct and misogyny (2022) rec 35"]
    assert_valid_card(body["composeExtension"]["attachments"][0]["content"])
    status, body = await bot.post(invoke(bot, "composeExtension/queryLink", {"url": "https://example.org/x"}))
    assert status == 200 and body == {}


# ---- 3. cards that stay current ------------------------------------------------------------------


async def test_item_and_list_cards_refresh_to_the_current_state(
    bot: RunningBot, db_url: str, seeded: dict[str, int]
) -> None:
    (shown,) = await bot.say("show rec 35")
    card = shown["attachments"][0]["content"]
    assert card["refresh"]["action"] == {"type": "Action.Execute", "title": "Refresh", "verb": "refresh_item",
                                         "data": {"verb": "refresh_item", "item_id": seeded["vetting recommendation 35"],
                                                  "view": "detail"}}  # fmt: skip
    # Someone else records evidence meanwhile (another instance, the CLI): the card's next refresh shows it.
    await bot.say("mark 35 as evidenced: monitoring live since May", aad="aad-mark", user="Mark Owen")
    await bot.say("yes", aad="aad-mark", user="Mark Owen")
    status, body = await bot.post(bot.acts.execute("refresh_item", card["refresh"]["action"]["data"]))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    text = json.dumps(body["value"])
    assert "Evidenced, awaiting sign-off" in text and "monitoring live since May" in text
    assert_valid_card(body["value"])
    (listed,) = await bot.say("what's overdue?")
    refresh = listed["attachments"][0]["content"]["refresh"]["action"]
    assert refresh["verb"] == "refresh_list"
    _, body = await bot.post(bot.acts.execute("refresh_list", refresh["data"]))
    assert (
        "Overdue" in json.dumps(body["value"])
        and body["value"]["refresh"]["action"]["verb"] == "refresh_list"
    )


async def test_digest_refresh_shows_each_reader_their_own_section(bot: RunningBot) -> None:
    act = bot.acts.execute("refresh_digest", {}, aad="aad-sarah", user="Sarah Khan")
    act["value"]["trigger"] = "automatic"
    status, body = await bot.post(act)
    assert status == 200
    card = body["value"]
    assert_valid_card(card)
    assert "Yours: 0 overdue" not in json.dumps(card)
    assert "Yours:" in json.dumps(card) and "Vetting, misconduct and misogyny (2022) rec 34" in json.dumps(
        card
    )
    assert card["refresh"]["userIds"] == ["29:aad-sarah"]


def test_digest_for_members_uses_user_ids_up_to_60_else_show_mine() -> None:
    from dialogs.digest.mine import for_members

    base = {"type": "AdaptiveCard", "version": "1.5", "body": [], "actions": []}
    small = for_members(base, [f"29:u{n}" for n in range(60)])
    assert len(small["refresh"]["userIds"]) == 60 and small["refresh"]["action"]["verb"] == "refresh_digest"
    big = for_members(base, None)
    assert "refresh" not in big and big["actions"][-1]["verb"] == "digest_mine"


# ---- 4. the evidence dialog ----------------------------------------------------------------------


async def test_evidence_dialog_confirms_then_writes_once_with_audit(bot: RunningBot, db_url: str,
                                                                     seeded: dict[str, int]) -> None:  # fmt: skip
    item_id = seeded["vetting recommendation 39"]
    status, body = await bot.post(invoke(bot, "task/fetch", {"data": {"verb": "evidence_form", "item_id": item_id,
                                                                      "msteams": {"type": "task/fetch"}}}))  # fmt: skip
    assert status == 200 and body["task"]["type"] == "continue"
    form = body["task"]["value"]["card"]["content"]
    assert_valid_card(form)
    ids = {b.get("id") for b in form["body"]}
    assert {"evidence", "links", "intent"} <= ids
    # Nothing typed: the form comes back with a clear problem, nothing written.
    submit = {
        "verb": "evidence_review",
        "item_id": item_id,
        "intent": "mark_evidenced",
        "evidence": " ",
        "links": "",
    }
    _, body = await bot.post(invoke(bot, "task/submit", {"data": submit}))
    assert "the text is needed" in json.dumps(body["task"]["value"]["card"]["content"])
    submit["evidence"] = "Threat assessment approved by the CCU board.\nSee the minutes."
    submit["links"] = "https://intranet.example/ccu/sta-2023"
    _, body = await bot.post(invoke(bot, "task/submit", {"data": submit}))
    page = body["task"]["value"]["card"]["content"]
    assert "Mark Vetting, misconduct and misogyny (2022) rec 39 as evidenced" in json.dumps(page)
    yes = next(a for a in page["actions"] if a["data"].get("answer") == "yes")
    async with Store_(db_url) as store:
        assert (await store.get_item(item_id)).status == "open"  # asked, not yet written
    _, body = await bot.post(invoke(bot, "task/submit", {"data": yes["data"]}))
    assert body["task"]["type"] == "message" and "now evidenced" in body["task"]["value"]
    _, again = await bot.post(invoke(bot, "task/submit", {"data": yes["data"]}))  # a double click
    assert "now evidenced" not in again["task"]["value"]
    async with Store_(db_url) as store:
        item = await store.get_item(item_id)
        assert item.status == "evidenced"
        evidence = await store.evidence(item_id)
        assert [e.text for e in evidence] == [
            "Threat assessment approved by the CCU board.\nSee the minutes."
        ]
        assert evidence[0].links == ("https://intranet.example/ccu/sta-2023",)
        events = await store.history(item_id)
        assert any(e.actor_name == "Alice Ames" and e.source == "teams" for e in events)


async def test_add_evidence_command_offers_the_dialog(bot: RunningBot) -> None:
    (reply,) = await bot.say("add evidence")
    card = reply["attachments"][0]["content"]
    assert_valid_card(card)
    (button,) = card["actions"]
    assert button["type"] == "Action.Submit" and button["data"]["msteams"] == {"type": "task/fetch"}
    _, body = await bot.post(invoke(bot, "task/fetch", {"data": button["data"]}))
    assert any(
        b.get("id") == "item_id" for b in body["task"]["value"]["card"]["content"]["body"]
    )  # typeahead
    (detail,) = await bot.say("show rec 35")
    titles = [a["title"] for a in detail["attachments"][0]["content"]["actions"]]
    assert "Add evidence…" in titles


async def test_evidence_dialog_typeahead_and_roles(db_url: str, seeded: dict[str, int]) -> None:
    settings = Settings(database_url=db_url, editors=frozenset({"aad-editor"}))
    async with running_bot(settings) as bot:
        _, body = await bot.post(invoke(bot, "task/fetch", {"data": {"verb": "evidence_form"}}))
        form = body["task"]["value"]["card"]["content"]
        assert_valid_teams_card(form)
        picker = next(b for b in form["body"] if b.get("id") == "item_id")
        assert picker["choices.data"] == {"type": "Data.Query", "dataset": "items"}
        _, body = await bot.post(invoke(bot, "application/search", {"queryText": "vetting 35", "dataset": "items",
                                                                    "queryOptions": {"skip": 0, "top": 15}}))  # fmt: skip
        assert body["type"] == "application/vnd.microsoft.search.searchResponse"
        results = body["value"]["results"]
        assert results[0]["value"] == str(seeded["vetting recommendation 35"])
        # Alice is neither an editor nor the owner: refused, audited, nothing written.
        submit = {"verb": "evidence_review", "item_id": results[0]["value"], "intent": "mark_evidenced",
                  "evidence": "done", "links": ""}  # fmt: skip
        _, body = await bot.post(invoke(bot, "task/submit", {"data": submit}))
        assert body["task"]["type"] == "message" and "Sorry, I can't do that" in body["task"]["value"]
        async with Store_(db_url) as store:
            item_id = seeded["vetting recommendation 35"]
            assert (await store.get_item(item_id)).status == "open"
            assert any(e.action == "refused" for e in await store.history(item_id))


class Store_:
    """A store on the test database, opened and closed around a check."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def __aenter__(self) -> Store:
        self._store = await Store.open(self._url)
        return self._store

    async def __aexit__(self, *exc: object) -> None:
        await self._store.close()


async def test_search_invoke_answers_within_100_ms_at_10000_items(db_url: str) -> None:
    """The whole invoke over HTTP (auth-free local mode), at 10,000 items: the issue's budget."""
    import statistics
    import time

    from bench.seed_db import fill

    if not db_url.startswith("sqlite"):
        pytest.skip("one backend is enough for a timing; search reads only the in-memory model")
    await fill(db_url, 10_000, dt.date(2026, 11, 25))
    async with running_bot(Settings(database_url=db_url)) as bot:
        terms = ["CCU", "vetting 12", "roads", "vettting", "counter corruption", "body worn video", "victims",
                 "corruption intelligence", "fraud 3", None]  # fmt: skip
        samples = []
        for n in range(60):
            act = invoke(bot, "composeExtension/query", query(terms[n % len(terms)], skip=25 * (n % 3 == 2)))
            started = time.perf_counter()
            status, body = await bot.post(act)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200 and "composeExtension" in body
        samples = sorted(samples[5:])  # the first few warm caches up
        p50, p90 = statistics.median(samples), samples[int(len(samples) * 0.9)]
        print(f"search invoke at 10,000 items: p50 {p50:.1f} ms, p90 {p90:.1f} ms, max {samples[-1]:.1f} ms")
        assert p90 <= 100.0, samples


async def test_compose_box_add_evidence_command_is_the_same_dialog(
    bot: RunningBot, seeded: dict[str, int]
) -> None:
    """The manifest's action command (composeExtension/fetchTask + submitAction) runs the same dialog."""
    item_id = seeded["disproportionality recommendation 4"]
    _, body = await bot.post(
        invoke(bot, "composeExtension/fetchTask", {"commandId": "addEvidence", "data": {}})
    )
    form = body["task"]["value"]["card"]["content"]
    assert_valid_teams_card(form)
    submit = {"verb": "evidence_review", "item_id": str(item_id), "intent": "add_update",
              "evidence": "Quarterly S&S scrutiny panel stood up.", "links": ""}  # fmt: skip
    _, body = await bot.post(
        invoke(bot, "composeExtension/submitAction", {"commandId": "addEvidence", "data": submit})
    )
    page = body["task"]["value"]["card"]["content"]
    yes = next(a for a in page["actions"] if a["data"].get("answer") == "yes")
    _, body = await bot.post(
        invoke(bot, "composeExtension/submitAction", {"commandId": "addEvidence", "data": yes["data"]})
    )
    assert "Update added to Disproportionate use of police powers (2021) rec 4" in body["task"]["value"]


class MembersConnector(MockConnector):
    """The mock Bot Connector, also answering the paged members call (who is in a conversation)."""

    def __init__(self, members: dict[str, int]) -> None:
        super().__init__()
        self.members = members  # conversation id -> how many members

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations/{conv}/activities", self._handle)
        app.router.add_get("/v3/conversations/{conv}/pagedmembers", self._paged)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]

    async def _paged(self, request: web.Request) -> web.Response:
        n = self.members[request.match_info["conv"]]
        size = int(request.query.get("pageSize", "100"))
        page = [{"id": f"29:user-{i}", "name": f"User {i}"} for i in range(min(n, size))]
        return web.json_response({"members": page, **({"continuationToken": "more"} if n > size else {})})


async def test_posted_digest_refreshes_per_reader_up_to_60_members_else_show_mine(db_url: str) -> None:
    from bot.services import services
    from dialogs.digest import DigestConfig
    from storage.subscriptions import Subscriptions

    teams = MembersConnector({"19:small@thread.tacv2": 12, "19:big@thread.tacv2": 300})
    await teams.start()
    try:
        now = dt.datetime(2026, 11, 30, 9, 0, 5, tzinfo=dt.UTC)
        async with services(Settings(database_url=db_url), clock=lambda: now, typing_delay=0) as svc:
            for conv in teams.members:
                await Subscriptions(svc.store).subscribe(
                    conversation_id=conv, service_url=teams.url, tenant_id=None, conversation_type="channel",
                    reference={"conversation": {"id": conv}, "serviceUrl": teams.url, "channelId": "msteams",
                               "bot": {"id": "28:tracker-bot"}},
                )  # fmt: skip
            report = await svc.digest_sender(DigestConfig()).run("2026-W49")
        assert len(report.sent) == 2
        (small,) = cards_of(teams.messages("19:small@thread.tacv2")[0])
        assert small["refresh"]["userIds"] == [f"29:user-{i}" for i in range(12)]
        assert small["refresh"]["action"]["verb"] == "refresh_digest"
        assert_valid_card(small)
        (big,) = cards_of(teams.messages("19:big@thread.tacv2")[0])
        assert "refresh" not in big and big["actions"][-1]["verb"] == "digest_mine"
        assert_valid_card(big)
    finally:
        await teams.stop()
