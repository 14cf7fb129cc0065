"""Fuzzing the running app: thousands of generated activities, never a 5xx, never a write.

Hypothesis generates messages, card clicks and free-form activities and POSTs them to the real
app on a real port. Every answer must be a 2xx or 4xx (the one exception: 501, the Bot
Framework's "not implemented" answer to an invoke the bot does not offer). Writes need a typed
or clicked "yes" to a question, and the fuzzer never says yes, so afterwards the tracker itself
(reports, items, evidence, audit trail) must be exactly as it was.

Hypothesis drives the requests from a worker thread while the app runs on the test's event loop;
examples are bounded (``EXAMPLES``), so the run takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import pytest
from botbuilder.schema import Activity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import clean_strings
from bot.handler import message_text
from bot.settings import Settings
from dialogs.conversation import YES
from dialogs.language import clean
from tests.kit.authbot import fingerprint, no_external_network, seed  # noqa: F401
from tests.kit.botkit import RunningBot, running_bot, text_of

T = TypeVar("T")

# Examples per strategy, per database (both run): 2 x (300 + 200 + 250) = 1500 in all.
EXAMPLES = {"messages": 300, "cards": 200, "activities": 250}
TRACKER_TABLES = ("report", "report_alias", "item", "evidence", "item_event", "meta")
APOLOGY = "Sorry, something went wrong on my side"

VOCABULARY = [
    "show", "rec", "recommendation", "afi", "34", "35", "38", "39", "1", "2", "99", "#3", "mark", "as", "evidenced",
    "evidence", "add update to", "update", "sign off", "signed off", "reopen", "assign", "to Bob Brown", "owner",
    "who owns", "what's overdue?", "outstanding", "due this month", "vetting", "fraud", "PEEL 2021/22", "the misogyny one",
    "disproportionality", "more", "next", "first", "the second one", "cancel", "no", "nope", "help", "hi", "thanks",
    "summary", "digest", "post the weekly digest here", "stop sending the digest here", ":", "-", "?", "!",
    "https://intranet.example/evidence?id=1&x=<y>", "by 31 March 2027", "mine", "my items", "counter corruption",
    "'; DROP TABLE item; --", "\" OR 1=1", "<at>Tracker</at>", "<script>alert(1)</script>", "&nbsp;", "&amp;",
    "{{7*7}}", "${jndi:ldap://x}", "\u202e", "\u200b", "\ufeff", "👮‍♀️", "🇬🇧", "Z\u0351\u0364", "\t", "\n", "\x00", "\x1b[31m",
]  # fmt: skip
USERS = [
    ("Alice Ames", "aad-alice"),
    ("DCI Sarah Khan", "aad-sarah"),
    ("Sam Stranger", "aad-stranger"),
    ("No Id", ""),
]
CONVERSATIONS = [("a:fuzz-1", "personal", None), ("a:fuzz-2", "personal", None),
                 ("19:fuzz@thread.tacv2;messageid=1", "channel", "19:team-fuzz@thread.tacv2"),
                 ("19:group-fuzz@thread.v2", "groupChat", None)]  # fmt: skip
RAW_CONVERSATIONS = [(f"a:raw-{n}", ctype, team) for n, (_, ctype, team) in enumerate(CONVERSATIONS)]
VERBS = [
    "show",
    "start_evidence",
    "start_update",
    "more",
    "list",
    "choose",
    "confirm",
    "frobnicate",
    "",
    None,
]
ACTIVITY_TYPES = ["message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing",
                  "endOfConversation", "messageUpdate", "messageDelete", "somethingNew"]  # fmt: skip

# Any character at all, lone surrogates included (they travel as JSON escapes).
chars = st.one_of(
    st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00\x07\u202e\u200b\ufffd")
)
noise = st.text(chars, max_size=24)
words = st.lists(st.one_of(st.sampled_from(VOCABULARY), noise), max_size=14).map(" ".join)
long_text = st.integers(1000, 10_000).map(lambda n: ("show rec 34 " + "lorem ipsum " * 900)[:n])
# Write requests, so the fuzzer often stands one "yes" away from a write (and never says it).
requests = st.builds("{} rec {}{}".format, st.sampled_from(["mark", "add update to", "sign off", "reopen", "assign"]),
                     st.sampled_from(["33", "34", "35", "38", "39", "1"]),
                     st.one_of(st.just(": done"), noise.map(": x".__add__), st.just(" as evidenced: done")))  # fmt: skip
texts = st.one_of(words, requests, requests, noise, long_text)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    noise,
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(noise, st.sampled_from(["verb", "item_id", "token", "answer"])), inner, max_size=4)
), max_leaves=6)  # fmt: skip


def effective_text(text: str) -> str:
    """The message as the conversation will read it (cleaned, mention and markup stripped)."""
    return clean(message_text(Activity(text=clean_strings(text))))


def says_yes(text: str) -> bool:
    return bool(YES.match(effective_text(text)))


class Fuzzer:
    """Posts generated activities to the running bot from Hypothesis's (worker) thread."""

    def __init__(self, bot: RunningBot, loop: asyncio.AbstractEventLoop) -> None:
        self.bot = bot
        self.loop = loop
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def post(self, activity: dict[str, Any] | str) -> int:
        # json.dumps escapes lone surrogates as \udXXX: valid JSON the server must cope with.
        body = activity if isinstance(activity, str) else json.dumps(activity, allow_nan=False)
        status, answer = self.run(self.bot.post(body))
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        is_other_invoke = (
            isinstance(activity, dict)
            and activity.get("type") == "invoke"
            and activity.get("name") != "adaptiveCard/action"
        )
        assert status < 500 or (status == 501 and is_other_invoke), (status, answer, activity)
        if status == 200 and isinstance(answer, dict) and "value" in answer:
            assert "Traceback" not in json.dumps(answer)
        return status

    def base(self, user: tuple[str, str], conv: tuple[str, str, str | None]) -> dict[str, Any]:
        conversation, ctype, team = conv
        return self.bot.acts.base(
            conversation=conversation, conversation_type=ctype, user=user[0], aad=user[1], team=team
        )


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])  # fmt: skip


def run_messages(f: Fuzzer) -> None:
    @fuzz_settings(EXAMPLES["messages"])
    @given(text=texts, user=st.sampled_from(USERS), conv=st.sampled_from(CONVERSATIONS), mention=st.booleans(),
           value=st.one_of(st.none(), st.none(), json_values))  # fmt: skip
    def check(
        text: str, user: tuple[str, str], conv: tuple[str, str, str | None], mention: bool, value: Any
    ) -> None:
        if says_yes(text):
            return  # the one thing the fuzzer never says
        act = f.bot.acts.message(text, conversation=conv[0], conversation_type=conv[1], mention=mention,
                                 user=user[0], aad=user[1], team=conv[2])  # fmt: skip
        if isinstance(value, dict) and str(value.get("answer")) != "yes":
            act["value"] = value
        assert f.post(act) == 200

    check()


def run_cards(f: Fuzzer) -> None:
    data = st.fixed_dictionaries({}, optional={
        "item_id": st.one_of(st.integers(-5, 12), noise, st.none()), "token": st.one_of(st.uuids().map(lambda u: u.hex), noise),
        "answer": st.sampled_from(["no", "maybe", "", "YES"]), "query": st.sampled_from(["outstanding", "overdue", "x"]),
        "report": st.one_of(noise, st.just("vetting-misconduct-misogyny")), "page": json_values, "extra": json_values,
    })  # fmt: skip

    @fuzz_settings(EXAMPLES["cards"])
    @given(verb=st.sampled_from(VERBS), data=data, invoke=st.booleans(), user=st.sampled_from(USERS),
           conv=st.sampled_from(CONVERSATIONS))  # fmt: skip
    def check(
        verb: str | None,
        data: dict[str, Any],
        invoke: bool,
        user: tuple[str, str],
        conv: tuple[str, str, str | None],
    ) -> None:
        kw = {
            "conversation": conv[0],
            "conversation_type": conv[1],
            "user": user[0],
            "aad": user[1],
            "team": conv[2],
        }
        payload = {"verb": verb, **data}
        act = f.bot.acts.execute(str(verb), payload, **kw) if invoke else f.bot.acts.submit(payload, **kw)
        # A "yes" for a token the bot never issued cannot confirm anything; "YES" is not "yes".
        assert f.post(act) == 200

    check()


def run_activities(f: Fuzzer) -> None:
    fields = st.fixed_dictionaries({}, optional={
        "id": st.one_of(noise, json_values), "text": st.one_of(texts, json_values), "name": st.one_of(noise, st.just("adaptiveCard/action")),
        "value": json_values, "from": json_values, "recipient": json_values, "conversation": json_values,
        "channelData": json_values, "entities": json_values, "attachments": json_values, "membersAdded": json_values,
        "timestamp": st.one_of(noise, st.just("2026-11-25T10:00:00Z")), "locale": noise, "replyToId": noise,
        "serviceUrl": st.sampled_from(["", "not a url", "ftp:/x", None]), "channelId": st.one_of(noise, st.just("msteams")),
        "action": st.sampled_from(["add", "remove", "x"]),
    })  # fmt: skip

    @fuzz_settings(EXAMPLES["activities"])
    @given(kind=st.one_of(st.sampled_from(ACTIVITY_TYPES), noise), fields=fields, keep=st.booleans(),
           user=st.sampled_from(USERS), conv=st.sampled_from(RAW_CONVERSATIONS))  # fmt: skip
    def check(
        kind: str,
        fields: dict[str, Any],
        keep: bool,
        user: tuple[str, str],
        conv: tuple[str, str, str | None],
    ) -> None:
        # Either a real activity with some fields replaced, or the generated fields alone.
        act = f.base(user, conv) if keep else {}
        act.update(fields)
        act["type"] = kind
        if isinstance(act.get("text"), str) and says_yes(act["text"]):
            return
        if isinstance(act.get("value"), dict) and "answer" in act["value"]:
            act["value"].pop("answer")
        if "serviceUrl" in act and act["serviceUrl"] is None:
            act["serviceUrl"] = f.bot.acts.service_url
        f.post(act)

    check()


@pytest.fixture
async def bot(db_url: str) -> AsyncIterator[RunningBot]:
    await seed(db_url)
    # Local mode: everyone may write, so a missing "yes" is the only thing between the fuzzer and a write.
    async with running_bot(Settings(database_url=db_url, write_limit=1000, refresh_seconds=0.5)) as running:
        yield running


async def test_fuzzed_activities_never_5xx_and_never_write(bot: RunningBot) -> None:
    store = bot.services.store
    before = await fingerprint(store)
    items_before = dict(bot.services.model.items)
    fuzzer = Fuzzer(bot, asyncio.get_running_loop())
    started = time.perf_counter()
    for run in (run_messages, run_cards, run_activities):
        await asyncio.to_thread(run, fuzzer)
    elapsed = time.perf_counter() - started
    # Still alive and well.
    async with bot.http.get(f"{bot.url}/healthz") as resp:
        assert resp.status == 200
    (reply,) = await bot.say("show rec 34", conversation="a:after-fuzz")
    assert "recommendation 34" in text_of(reply)
    # The tracker itself is exactly as it was (conversation state, dedupe keys and digest
    # subscriptions may have changed: the fuzzer is allowed to talk and to subscribe).
    after = await fingerprint(store)
    for table in TRACKER_TABLES:
        assert after[table] == before[table], table
    assert dict(bot.services.model.items) == items_before
    # Messages and clicks, however odd, were answered without an apology (no dialog failed).
    apologies = [m for c, _, _ in CONVERSATIONS for m in bot.connector.messages(c) if APOLOGY in text_of(m)]
    assert apologies == []
    questions = [m for m in bot.connector.messages() if "Reply yes or no" in text_of(m)]
    assert len(questions) >= 3  # writes were proposed, each one "yes" away (typically 10-30 of them)
    assert fuzzer.sent >= 700 and elapsed < 60, (fuzzer.sent, elapsed)
    print(
        f"fuzz: {fuzzer.sent} activities in {elapsed:.1f}s, statuses {fuzzer.statuses}, {len(questions)} questions"
    )
