"""Only once, and never a crash: idempotency, bad input, failures, rate limits, logs.

Everything goes through the running app on a real port, with replies captured at the local mock
Bot Connector and the state read back from the real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.logs import json_formatter
from bot.services import utc_clock
from bot.settings import Settings
from storage.store import Store
from tests.kit.authbot import APP_PASSWORD, KID, authed_bot, fingerprint, no_external_network, seed  # noqa: F401
from tests.kit.authkit import KeyPair
from tests.kit.botkit import FIXED_NOW, RunningBot, cards_of, running_bot, text_of

APOLOGY = "Sorry, something went wrong on my side"


@pytest.fixture
async def bot(db_url: str) -> AsyncIterator[RunningBot]:
    """Local mode (no app id, no role lists): everyone may write."""
    await seed(db_url)
    async with running_bot(Settings(database_url=db_url, write_limit=100)) as running:
        yield running


def item(bot: RunningBot, number: str, report: str = "vetting") -> int:
    return next(
        i.id for i in bot.services.model.items.values()
        if i.number == number and bot.services.model.reports[i.report_id].key.startswith(report)
    )  # fmt: skip


async def changes(store: Store, item_id: int) -> list[tuple[str, str | None]]:
    """The item's audit trail as (action, new value) pairs."""
    return [(e.action, e.new_value) for e in await store.history(item_id)]


def yes_button(reply: dict[str, Any]) -> dict[str, Any]:
    (card,) = cards_of(reply)
    return next(a for a in card["actions"] if a["title"] == "Yes")["data"]


# ---- idempotency -----------------------------------------------------------------------------


async def test_a_redelivered_yes_writes_once_and_gets_the_same_reply_again(bot: RunningBot) -> None:
    await bot.say("add update to rec 39: STA drafted")
    yes = bot.acts.message("yes")
    assert (await bot.post(yes))[0] == 200
    assert (await bot.post(yes))[0] == 200  # Teams re-sends what it thinks timed out (issue 16: reply again)
    msgs = bot.connector.messages()
    assert [text_of(m) for m in msgs[1:]] == [
        "Update added to Vetting, misconduct and misogyny (2022) rec 39."
    ] * 2
    assert await changes(bot.services.store, item(bot, "39")) == [("update_added", "STA drafted")]


async def test_a_redelivered_request_asks_once(bot: RunningBot) -> None:
    ask = bot.acts.message("mark rec 35 as evidenced: IT monitoring live")
    await asyncio.gather(bot.post(ask), bot.post(ask))  # even when both arrive at once
    assert len(bot.connector.messages()) == 1


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-after-another", "at-once"])
async def test_submit_button_clicked_twice_writes_once_and_replies_once(
    bot: RunningBot, concurrent: bool
) -> None:
    (confirm,) = await bot.say("mark rec 35 as evidenced: IT monitoring live")
    clicks = [bot.acts.submit(yes_button(confirm)) for _ in range(2)]  # two clicks: two activities
    if concurrent:
        statuses = [s for s, _ in await asyncio.gather(*(bot.post(c) for c in clicks))]
    else:
        statuses = [(await bot.post(c))[0] for c in clicks]
    assert statuses == [200, 200]
    replies = bot.connector.messages()[1:]
    assert len(replies) == 1 and "now evidenced" in text_of(replies[0])
    assert all(APOLOGY not in text_of(m) for m in bot.connector.messages())
    trail = await changes(bot.services.store, item(bot, "35"))
    assert trail == [("evidence_added", "IT monitoring live"), ("status_changed", "evidenced")]


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-after-another", "at-once"])
async def test_execute_button_clicked_twice_writes_once(bot: RunningBot, concurrent: bool) -> None:
    (confirm,) = await bot.say("mark rec 35 as evidenced: IT monitoring live")
    clicks = [bot.acts.execute("confirm", yes_button(confirm)) for _ in range(2)]
    if concurrent:
        answers = await asyncio.gather(*(bot.post(c) for c in clicks))
    else:
        answers = [await bot.post(c) for c in clicks]
    texts = sorted(str(body["value"]["body"][0]["text"]) for _, body in answers)
    # The card is replaced in place: once with the result, once (the loser) with "Already done".
    assert (
        texts[0].startswith("Already done")
        and texts[1]
        == "Vetting, misconduct and misogyny (2022) rec 35 is now evidenced, awaiting HMICFRS sign-off."
    )
    assert len(bot.connector.messages()) == 1  # just the question: no extra messages
    trail = await changes(bot.services.store, item(bot, "35"))
    assert trail == [("evidence_added", "IT monitoring live"), ("status_changed", "evidenced")]


async def test_a_redelivered_invoke_writes_once(bot: RunningBot) -> None:
    (confirm,) = await bot.say("reopen rec 38")
    click = bot.acts.execute("confirm", yes_button(confirm))
    first, again = await bot.post(click), await bot.post(click)  # the same activity id twice
    assert first[0] == again[0] == 200
    assert "open again" in json.dumps(first[1]) and "Already done" in json.dumps(again[1])
    assert [a for a, _ in await changes(bot.services.store, item(bot, "38"))] == ["status_changed"]


async def test_same_activity_to_two_instances_sharing_a_database(db_url: str) -> None:
    await seed(db_url)
    settings = Settings(database_url=db_url, write_limit=100, refresh_seconds=0.2)
    async with running_bot(settings) as one, running_bot(settings) as two:
        # Replies go to the activity's serviceUrl: both instances answer at one's connector.
        question = one.acts.message("how many are still open?")
        results = await asyncio.gather(one.post(question), two.post(question))
        assert [s for s, _ in results] == [200, 200]
        assert len(await one.connector.wait_for(1)) == 1
        # A conversation started on one instance, confirmed by a "yes" delivered to both.
        await one.post(one.acts.message("add update to rec 39: board paper drafted"))
        assert len(await one.connector.wait_for(2)) == 2
        yes = one.acts.message("yes")
        results = await asyncio.gather(one.post(yes), two.post(yes))
        assert [s for s, _ in results] == [200, 200]
        await one.connector.idle()
        await two.connector.idle()
        replies = one.connector.messages()
        # One instance commits and answers. The other either found the key claimed before that commit
        # (says nothing) or after it, and then treats the "yes" as a redelivery: it replays the same
        # committed answer, as it would for Teams re-sending a turn it thinks timed out.
        answers = [text_of(r) for r in replies[2:]]
        assert len(replies) in (3, 4) and all("Update added" in a for a in answers) and len(set(answers)) == 1
        assert two.connector.received == []
        trail = await changes(one.services.store, item(one, "39"))
        assert trail == [("update_added", "board paper drafted")]


# ---- bad input -------------------------------------------------------------------------------


async def test_malformed_and_non_activity_bodies_are_400(bot: RunningBot) -> None:
    before = await fingerprint(bot.services.store)
    for body in ["{not json", "", "null", '"text"', "[1, 2]", '{"type": 5}', '{"type": ""}', "{}",
                 "[" * 5000 + "]" * 5000, b"\xff\xfe\x00garbage", '{"type": "message", "from": "x"}',
                 '{"type": "message", "timestamp": "yesterday"}', '{"type": "message", "entities": 7}',
                 '{"type": "message", "value": {"item_id": Infinity}}', '{"type": NaN}']:  # fmt: skip
        status, answer = await bot.post(body)
        assert status == 400, (body[:40], status, answer)
        assert set(answer) == {"error"}  # a short reason, no trace
    async with bot.http.post(
        f"{bot.url}/api/messages", data="hi", headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 415
    assert bot.connector.received == []
    assert await fingerprint(bot.services.store) == before


async def test_body_over_the_default_limit_is_413(bot: RunningBot) -> None:
    assert bot.services.settings.max_body_bytes == 256 * 1024
    big = bot.acts.message("show rec 34")
    big["channelData"]["padding"] = "x" * (256 * 1024)
    assert (await bot.post(big))[0] == 413
    fits = bot.acts.message("show rec 34")
    fits["channelData"]["padding"] = "x" * (200 * 1024)
    assert (await bot.post(fits))[0] == 200
    assert len(bot.connector.messages()) == 1


async def test_body_limit_is_configurable_and_holds_for_chunked_bodies(db_url: str) -> None:
    await seed(db_url)
    async with running_bot(Settings(database_url=db_url, max_body_bytes=4096)) as bot:
        act = bot.acts.message("show rec 34")
        act["channelData"]["padding"] = "x" * 5000
        assert (await bot.post(act))[0] == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the server must count
            data = json.dumps(act).encode()
            for i in range(0, len(data), 1000):
                yield data[i : i + 1000]

        async with bot.http.post(f"{bot.url}/api/messages", data=chunks(),
                                 headers={"Content-Type": "application/json"}) as resp:  # fmt: skip
            assert resp.status == 413
        assert (await bot.post(bot.acts.message("show rec 34")))[0] == 200
        assert len(bot.connector.messages()) == 1


async def test_unknown_activity_types_are_acknowledged_and_ignored(bot: RunningBot) -> None:
    before = await fingerprint(bot.services.store)
    for kind in ["somethingNew", "event", "typing", "messageReaction", "endOfConversation", "deleteUserData",
                 "handoff", "trace", "contactRelationUpdate", "suggestion", "x" * 500]:  # fmt: skip
        act = bot.acts.message("mark rec 35 as evidenced: sneaky")
        act["type"] = kind
        status, _ = await bot.post(act)
        assert status == 200, kind
    await bot.connector.idle()
    assert bot.connector.received == []
    assert await fingerprint(bot.services.store) == before


async def test_unsupported_invoke_is_not_implemented_not_a_failure(bot: RunningBot) -> None:
    # The Bot Framework's answer to an invoke a bot does not handle is 501 Not Implemented: Teams
    # then knows the feature is absent. It is a protocol answer, not an error: nothing ran.
    act = bot.acts.execute("confirm", {"answer": "yes"})
    act["name"] = "composeExtension/querySettingUrl"  # (composeExtension/query is answered since issue 15)
    status, _ = await bot.post(act)
    assert status == 501
    assert bot.connector.received == []


ODD_TEXTS = {
    "10k chars": "show rec 34 " + "very long message " * 555,
    "controls": "show rec 34\x00\x01\x07\x08\x0b\x1b[31m\x7f",
    "rtl": "\u202eshow rec 34\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "zero-width": "sh\u200bow\u200d rec\ufeff 3\u20604",
    "emoji": "show rec 34 👮‍♀️🚓🇬🇧 \U0001f9d1\u200d\U0001f4bb",
    "combining": "s\u0336h\u0336o\u0336w\u0336 r\u0301e\u0301c\u0301 34 Z\u0351\u0364\u0313",
    "sql": "show rec 34'; DROP TABLE item; -- \" OR 1=1 /* UNION SELECT * FROM bot_state */",
    "markup": "<script>alert(1)</script><at>Tracker</at><img src=x onerror=alert(1)> {{7*7}} ${jndi:ldap://x} **bold** [link](javascript:alert(1))",
    "only spaces": " \t\n\r  ",
    "json-ish": '{"type": "invoke", "value": {"verb": "confirm", "answer": "yes"}}',
}


async def test_odd_text_gets_a_normal_answer(bot: RunningBot) -> None:
    for n, (kind, text) in enumerate(ODD_TEXTS.items()):
        status, _ = await bot.post(bot.acts.message(text, conversation=f"a:odd-{n}"))
        assert status == 200, kind
        (reply,) = bot.connector.messages(f"a:odd-{n}")
        assert text_of(reply) and APOLOGY not in text_of(reply), kind
    # Valid JSON, but "\ud800" alone is not a character: it cannot be encoded for the reply or
    # stored in PostgreSQL, so it is replaced before any bot code runs.
    raw = json.dumps(bot.acts.message("TEXT")).replace("TEXT", "show rec 34 \\ud800 \\udfff\\ud83d x")
    assert (await bot.post(raw))[0] == 200
    (reply,) = bot.connector.messages("a:personal-alice")
    assert "recommendation 34" in text_of(reply)


async def test_odd_text_as_evidence_is_stored_cleanly(bot: RunningBot) -> None:
    evidence = "a\\u0000b \\ud800 c \\u202e rtl \\u200b zw 😀 '; DROP TABLE item; -- <b>x</b>"
    raw = json.dumps(bot.acts.message("TEXT"), ensure_ascii=False).replace(
        "TEXT", f"add update to rec 39: {evidence}"
    )
    assert (await bot.post(raw))[0] == 200
    assert (await bot.post(bot.acts.message("yes")))[0] == 200
    assert "Update added" in text_of(bot.connector.messages()[-1])
    detail = await bot.services.store.item_detail(item(bot, "39"))
    # NUL dropped, the lone surrogate replaced, the rest kept (markup tags are stripped from
    # every Teams message, as Teams sends HTML).
    assert detail.evidence[-1].text == "ab \ufffd c \u202e rtl \u200b zw 😀 '; DROP TABLE item; -- x"
    assert len(bot.services.model.items) == 10  # the item table is still there


# ---- a failure inside a turn -------------------------------------------------------------------


class BreakableClock:
    """The bot's clock, which a test can break: a dependency failing in the middle of a turn,
    injected through the object graph like the real one (create_app(clock=...))."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    def __call__(self) -> dt.datetime:
        if self.error is not None:
            raise self.error
        return FIXED_NOW


INTERNAL = "connection to postgresql://tracker:Hunter2Secret@db.internal:5432/tracker lost"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged (DEBUG and up), as the production JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_a_failure_in_a_turn_apologises_with_a_reference_and_logs_the_trace(
    db_url: str, log_lines: io.StringIO
) -> None:
    await seed(db_url)
    clock = BreakableClock()
    async with running_bot(Settings(database_url=db_url), clock=clock) as bot:
        clock.error = RuntimeError(INTERNAL)
        act = bot.acts.message("show rec 34")
        status, body = await bot.post(act)
        assert status == 200 and body is None
        (reply,) = bot.connector.messages()
        said = text_of(reply)
        ref = re.search(r"reference ([0-9A-F]{8})", said)
        assert said.startswith(APOLOGY) and ref, said
        for secret in ("postgresql", "Hunter2", "RuntimeError", "Traceback", ".py", "db.internal"):
            assert secret not in json.dumps(reply)
        # An Action.Execute click gets the apology in the invoke response, still HTTP 200.
        status, body = await bot.post(bot.acts.execute("show", {"item_id": 1}))
        assert status == 200 and "Sorry, something went wrong on my side (ref " in body["value"]
        assert "postgresql" not in json.dumps(body)
        # Once the dependency recovers, so does the bot.
        clock.error = None
        (ok,) = await bot.say("show rec 34")
        assert "recommendation 34" in text_of(ok)
    failed = [line for line in parsed(log_lines) if f"ref={ref.group(1)}" in line["msg"]]
    assert len(failed) == 1
    line = failed[0]
    assert line["level"] == "error" and "RuntimeError" in line["trace"] and "handler.py" in line["trace"]
    assert line["activity_id"] == act["id"] and line["conversation_id"] == act["conversation"]["id"]
    assert "Hunter2Secret" not in log_lines.getvalue()  # even the trace is scrubbed


# ---- per-user write rate limit --------------------------------------------------------------------


async def test_write_rate_limit_refuses_politely_and_audits(db_url: str) -> None:
    await seed(db_url)
    # A real clock: the limit counts the audit trail's real timestamps.
    async with running_bot(Settings(database_url=db_url, write_limit=2, write_window_minutes=10),
                           clock=utc_clock) as bot:  # fmt: skip
        store = bot.services.store
        for n in (1, 2):
            await bot.say(f"add update to rec 39: update {n}")
            (done,) = await bot.say("yes")
            assert "Update added" in text_of(done)
        before = await fingerprint(store)
        # Told at once, before typing anything more (and checked again at "yes").
        (refused,) = await bot.say("add update to rec 39: update 3")
        said = text_of(refused)
        assert "You've made 2 changes in the last 10 minutes" in said and "Nothing was written" in said
        after = await fingerprint(store)
        # The only new row anywhere is the audit of the refusal (and the conversation's state).
        assert after["evidence"] == before["evidence"] and after["item"] == before["item"]
        trail = await store.history(item(bot, "39"))
        assert [(e.action, e.note) for e in trail][-1] == ("refused", "rate limited")
        assert [e.new_value for e in trail if e.action == "update_added"] == ["update 1", "update 2"]
        # Someone else is not held back by Alice's limit.
        await bot.say(
            "add update to rec 39: from Bob", user="Bob Brown", aad="aad-bob", conversation="a:personal-bob"
        )
        (done,) = await bot.say("yes", user="Bob Brown", aad="aad-bob", conversation="a:personal-bob")
        assert "Update added" in text_of(done)


# ---- logs: structured, with the turn's ids, never a token or a secret ---------------------------------


async def test_logs_carry_turn_ids_and_never_tokens_or_secrets(db_url: str, log_lines: io.StringIO) -> None:
    signing = KeyPair.generate(KID)
    async with authed_bot(db_url, signing) as ab:
        inbound = ab.token()
        act = ab.bot.acts.message("show rec 34")
        assert (await ab.post(act, token=inbound))[0] == 200
        assert (await ab.post(act, token=inbound))[0] == 200  # the duplicate is logged
        forged = ab.bot.acts.message("show rec 35")
        assert (await ab.bot.post(forged, headers={"Authorization": f"Bearer {inbound[:-4]}AAAA"}))[0] == 401
        outbound = ab.auth.tokens_issued[0]
    text = log_lines.getvalue()
    lines = parsed(log_lines)
    assert lines, "nothing was logged"
    # Tokens and secrets: not whole, not in part (the signature alone is the secret part of a JWT).
    for secret in (inbound, inbound.split(".")[2], inbound.split(".")[1], outbound, APP_PASSWORD):
        assert secret not in text

    # The turn's lines carry its ids, whichever module logged them.
    def of(activity: dict[str, Any]) -> list[dict[str, Any]]:
        return [x for x in lines if x.get("activity_id") == activity["id"]]

    mine = of(act)
    loggers = {x["logger"] for x in mine}
    assert {"bot.auth", "bot.handler"} <= loggers, loggers  # key fetch, outbound token, duplicate
    assert all(x["conversation_id"] == "a:personal-alice" for x in mine)
    assert any("duplicate delivery ignored" in x["msg"] for x in mine)
    assert any(x["msg"] == "401 refused: bad signature" for x in of(forged))
    # Lines outside any turn (start-up) carry no turn ids.
    assert any("tracker ready" in x["msg"] and "activity_id" not in x for x in lines)
