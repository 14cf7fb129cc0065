"""Tracker end to end through the Microsoft 365 Agents Playground, the local stand-in for a Teams client.

What runs: the real ``tracker serve`` as a subprocess (the same entry point as ``make run``: settings
from the environment, JSON logs, no MicrosoftAppId so local mode) on a free loopback port, against a
temporary SQLite database made with ``tracker db upgrade`` and ``tracker seed-demo``; then the pinned
playground (``tests/kit/playground_driver.py``) pointed at it. Every test talks to Tracker only the way a
Teams user would (messages, @mentions, installation, card buttons) and checks the replies as the
playground received them; the confirmed write is also checked in the database, and the digest is sent
by a separate ``tracker digest send --now`` process, exactly as an operator or cron job would.

A subprocess rather than ``create_app`` in-process: it exercises the console script, the settings
read from the environment and the logging set-up too, and the ``digest send`` process must reach the
same database from outside anyway; in-process would not be more robust, only less real.

One database, one server and one playground serve the whole module (their start-up is most of the
cost, about 4 s). The tests stay independent, and each can run alone: they use their own threads,
personal-chat turns and items, and wait for replies by position in the playground's log rather than
assuming what came before. The module takes about 10-15 s (more on a loaded machine).

Skips (with the reason shown) only when node or npm are missing; the pinned playground is installed
by ``ensure_installed`` on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from storage.store import ItemChange, Store
from storage.subscriptions import Subscriptions
from storage.views import Actor, ItemDetail, Source
from tests.kit.botkit import cards_of, text_of
from tests.kit.cardschema import assert_valid_card
from tests.kit.playground_driver import REPO_ROOT, Playground, PlaygroundUnavailable, ensure_installed

# One server and one playground for the module (their start-up is most of the cost): the tests share
# one loop, and stay independent by using their own conversations, threads and items.
pytestmark = [pytest.mark.playground, pytest.mark.asyncio(loop_scope="module")]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TRACKER = Path(sys.executable).with_name("tracker")
SERVER_START_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 60.0
# Variables of the developer's shell that would change what the bot does (roles, auth, schedule).
_INHERITED_PREFIXES = ("Microsoft", "TRACKER_", "MICROSOFT")
_PROXIES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")

# From the demo data (storage/demo.py, storage/demo/README.md; texts quoted from the sample CSV):
# the fraud recommendation is in progress and overdue, with one update; the VAWG one is open, unowned.
FRAUD_TEXT = (
    "following the guidance issued by the National Police Chiefs' Council Coordinator for Economic Crime"
)
VAWG_TEXT = "There should be an immediate and unequivocal commitment that the response to VAWG offences"
CHILD_PROTECTION_TITLE = "Outstanding items from Child Protection (2014)"


# --------------------------------------------------------------------------------------------------
# The Tracker server and CLI as subprocesses
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    """A loopback port that was free a moment ago (the server reports clearly if it was taken since)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tracker_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a ``tracker`` process: local mode, this database, nothing from the shell's config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES) and k not in _PROXIES}
    # The bot posts its replies to the playground on localhost: no proxy may be involved.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env.update(DATABASE_URL=database_url, TRACKER_SCHEDULER="off", LOG_LEVEL="INFO", **extra)
    return env


def _run_cli(args: list[str], env: Mapping[str, str]) -> str:
    """Run ``tracker ARGS`` to completion (sync: only used while preparing the database)."""
    completed = subprocess.run(
        [str(TRACKER), *args],
        env=dict(env),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"tracker {' '.join(args)} failed ({completed.returncode}):\n{output}"
    return output


@dataclass(frozen=True)
class TrackerServer:
    """A running ``tracker serve``: where it listens, its database and its log file."""

    port: int
    database_url: str
    log_path: Path

    @property
    def endpoint(self) -> str:
        """The messaging endpoint the playground posts to."""
        return f"http://127.0.0.1:{self.port}/api/messages"

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for failure messages."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


@contextlib.asynccontextmanager
async def tracker_server(database_url: str, log_path: Path) -> AsyncIterator[TrackerServer]:
    """Start ``tracker serve`` on a free loopback port; yield once /healthz answers; always stop it."""
    port = _free_port()
    env = _tracker_env(database_url, HOST="127.0.0.1", PORT=str(port))
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(TRACKER),
            "serve",
            env=env,
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own process group, so the stop below signals exactly what we started.
            start_new_session=True,
        )
    server = TrackerServer(port=port, database_url=database_url, log_path=log_path)
    try:
        await _wait_healthy(process, server)
        yield server
    finally:
        await _stop(process)


async def _wait_healthy(process: asyncio.subprocess.Process, server: TrackerServer) -> None:
    """Poll /healthz until it answers 200 (the app has loaded the read model by then)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    url = f"http://127.0.0.1:{server.port}/healthz"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    state = f"exited with {process.returncode}" if process.returncode is not None else "not healthy in time"
    raise AssertionError(f"tracker serve {state} on port {server.port}; its log:\n{server.log_tail()}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the server's process group (aiohttp shuts down cleanly), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=5)


async def _tracker_cli(args: list[str], database_url: str) -> tuple[int, str]:
    """Run ``tracker ARGS`` without blocking the loop (the driver keeps reading the playground's log)."""
    process = await asyncio.create_subprocess_exec(
        str(TRACKER),
        *args,
        env=_tracker_env(database_url),
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=CLI_TIMEOUT_S)
    finally:
        await _stop(process)
    return int(process.returncode or 0), output.decode(errors="replace")


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playground_bin() -> Path:
    """The installed playground bin; skip when node/npm are missing."""
    try:
        return ensure_installed(REPO_ROOT)
    except PlaygroundUnavailable as exc:
        pytest.skip(f"Agents Playground needs node and npm: {exc}")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file migrated and seeded by the real CLI, as ``make run`` does on first start."""
    assert TRACKER.exists(), f"{TRACKER} is missing: run 'make install'"
    path = tmp_path_factory.mktemp("playground-db") / "tracker.db"
    url = f"sqlite+aiosqlite:///{path}"
    env = _tracker_env(url)
    _run_cli(["db", "upgrade"], env)
    seeded = _run_cli(["seed-demo"], env)
    assert "Loaded the JAC paper's reports" in seeded, seeded
    return url


@dataclass
class Rig:
    """What a test talks to: the playground (as the user) and the server (for its database and log)."""

    pg: Playground
    server: TrackerServer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(
    playground_bin: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Rig]:
    """Tracker first (the playground stalls on a bot that is not listening yet), then the playground."""
    workdir = tmp_path_factory.mktemp("playground-run")
    async with (
        tracker_server(database_url, workdir / "tracker.log") as server,
        Playground(server.endpoint, bin_path=playground_bin, workdir=workdir / "playground") as pg,
    ):
        yield Rig(pg=pg, server=server)


@contextlib.asynccontextmanager
async def _store(database_url: str) -> AsyncIterator[Store]:
    """A Store on the server's database, to check what a conversation wrote."""
    async with await Store.open(database_url) as store:
        yield store


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _only_card(message: dict[str, Any]) -> dict[str, Any]:
    """The one Adaptive Card of a bot message, checked against the 1.5 schema."""
    cards = cards_of(message)
    assert len(cards) == 1, f"expected one card, got {message!r}"
    assert_valid_card(cards[0])
    return cards[0]


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of a card, including those inside ActionSets in the body (list rows)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str) and node["type"].startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


async def _ask(pg: Playground, conversation_id: str, text: str, *, mention: bool = False) -> tuple[str, dict]:
    """Send ``text`` and return (the conversation the answer is in, the bot's one answer)."""
    sent = await pg.send(conversation_id, text, mention_bot=mention)
    [answer] = await pg.wait_for_bot_messages(sent.conversation_id)
    assert answer["replyToId"] == sent.activity_id, "the answer should reply to the user's message"
    return sent.conversation_id, answer


def _log_position(pg: Playground) -> int:
    """The playground log's current end: pass it to ``_next_post`` to see only what comes after."""
    return len(pg.activities) - 1


def _posts_since(pg: Playground, conversation_id: str, mark: int) -> list[dict[str, Any]]:
    """Bot messages posted exactly in ``conversation_id`` (a channel's root, not its threads) since ``mark``."""
    return [
        dict(e.activity)
        for e in pg.activities[mark + 1 :]
        if e.is_bot_message and not e.is_update and e.conversation_id == conversation_id
    ]


async def _next_post(pg: Playground, conversation_id: str, mark: int, within: float = 10.0) -> dict[str, Any]:
    """The first bot message posted exactly in ``conversation_id`` after log position ``mark``."""
    entry = await pg.wait_for_entry(
        lambda e: e.is_bot_message and not e.is_update and e.conversation_id == conversation_id,
        within,
        after=mark,
        what=f"a bot message in {conversation_id}",
    )
    return dict(entry.activity)


async def _item_with_text(store: Store, fragment: str) -> int:
    """The id of the one item whose text contains ``fragment`` (tests never hard-code row ids)."""
    [item_id] = [item.id for item in (await store.snapshot()).items if fragment in item.text]
    return item_id


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


async def test_installation_in_a_channel_welcomes_and_subscribes_it(rig: Rig) -> None:
    """(a) Installing Tracker in a team: one welcome in the channel, and the channel gets the digest."""
    pg = rig.pg
    channel = pg.config.general_channel_id
    mark = _log_position(pg)
    await pg.install(pg.config.team_id)

    welcome = await _next_post(pg, channel, mark)
    text = text_of(welcome)
    assert text.startswith("Hello, I'm Tracker")
    assert "weekly status digest here (Mondays at 09:00" in text
    assert "mark 34 as evidenced" in text
    # installationUpdate and conversationUpdate arrive together: still one welcome, not two. The log
    # shows a POST to the bot once the bot has answered it, and the bot posts a turn's replies before
    # answering: once both installation turns are logged, every welcome they sent is in the log too.
    for kind in ("installationUpdate", "conversationUpdate"):
        await pg.wait_for_entry(lambda e, kind=kind: e.direction == "to_bot" and e.activity_name == kind,
                                10.0, after=mark, what=f"the {kind} turn")  # fmt: skip
    assert len(_posts_since(pg, channel, mark)) == 1

    async with _store(rig.server.database_url) as store:
        [subscription] = await Subscriptions(store).active()
    assert subscription.conversation_id == channel
    assert subscription.team_id == pg.config.team_id
    # Proactive posts go back through the serviceUrl Tracker was given: this playground's connector.
    assert subscription.service_url == f"http://localhost:{pg.port}/_connector"


async def test_channel_mention_gets_the_list_in_the_thread(rig: Rig) -> None:
    """(b) An @mention in the channel: the list answer goes into the thread the post started."""
    pg = rig.pg
    channel = pg.config.general_channel_id
    unmentioned = await pg.send(channel, "what's outstanding from child protection?")
    thread, answer = await _ask(pg, channel, "what's outstanding from child protection?", mention=True)

    assert thread.startswith(f"{channel};messageid=")
    assert answer["conversation"]["id"] == thread
    card = _only_card(answer)
    assert card["body"][0]["text"] == CHILD_PROTECTION_TITLE
    text = text_of(answer)
    assert text.startswith(f"{CHILD_PROTECTION_TITLE} (1–6 of 6)")
    # Six rows, the overdue one first, each with its own Show button.
    # Six rows that can be told apart: none of the items has a number or text, so each shows its reference.
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("- Child Protection (2014) rec (unnumbered, ref ")
    ]
    assert len(rows) == 6 and len({row.split(")")[1] for row in rows}) == 6
    assert "DI Naomi Clarke (Child Protection), overdue since" in text.splitlines()[1]
    shows = [a for a in _actions(card) if a.get("verb") == "show"]
    assert len(shows) == 6 and all(isinstance(a["data"]["item_id"], int) for a in shows)
    # The same question without the @mention was not for Tracker: it never reached it, nor was answered.
    assert unmentioned.conversation_id != thread
    assert not [e for e in pg.activities if e.conversation_id == unmentioned.conversation_id]


async def test_personal_chat_question_gets_the_item_card(rig: Rig) -> None:
    """(c) "show ..." in personal chat: the item's card with its text, facts, history and write buttons."""
    pg = rig.pg
    chat = pg.config.personal_chat_id
    _, answer = await _ask(pg, chat, "show the fraud rec 1")

    assert answer["conversation"]["id"] == chat
    card = _only_card(answer)
    assert card["body"][0]["text"].startswith("**Fraud: Time to choose (2021) ")
    assert card["body"][0]["text"].endswith("recommendation 1**")
    assert FRAUD_TEXT in card["body"][1]["text"]
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Status"] == "In progress"
    assert facts["Owner"] == "DI Tom Reid (Economic Crime Unit)"
    assert facts["Deadline"].startswith("By 30 September 2021 (overdue since 30 Sep 2021)")
    assert "Force note: checking our call handling" in text_of(answer)
    verbs = {a.get("verb") for a in card["actions"]}
    assert {"start_evidence", "start_update"} <= verbs


async def test_show_button_on_a_list_row_answers_with_that_item(rig: Rig) -> None:
    """(d) Pressing a list row's Show (Action.Execute): the invoke is answered and the item card follows."""
    pg = rig.pg
    thread, listing = await _ask(
        pg, pg.config.general_channel_id, "what's outstanding from child protection?", mention=True
    )
    # The first row is the overdue one; its button carries the item's id.
    show = next(a for a in _actions(_only_card(listing)) if a.get("verb") == "show")

    answer = await pg.invoke_execute(thread, listing["id"], show["verb"], show["data"], title=show["title"])
    assert answer["statusCode"] == 200
    # A read leaves the list as it was: the invoke says "Done" and the item comes as a new message.
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert answer["value"] == "Done"

    [item_message] = await pg.wait_for_bot_messages(thread)
    assert item_message["conversation"]["id"] == thread
    card = _only_card(item_message)
    # An unnumbered item with no text of its own is told apart by its tracker reference.
    assert (
        card["body"][0]["text"]
        == f"**Child Protection (2014) recommendation (unnumbered, ref {show['data']['item_id']})**"
    )
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Report"] == "Child Protection report 2014"
    assert facts["Owner"] == "DI Naomi Clarke (Child Protection)"
    assert "overdue since" in facts["Deadline"]
    start = next(a for a in card["actions"] if a.get("verb") == "start_evidence")
    assert start["data"]["item_id"] == show["data"]["item_id"]


async def test_confirmed_write_marks_the_item_evidenced(rig: Rig) -> None:
    """(e) "mark ... as evidenced: ..." asks Yes/No; pressing Yes writes once, audited, and says so."""
    pg = rig.pg
    chat = pg.config.personal_chat_id
    async with _store(rig.server.database_url) as store:
        item_id = await _item_with_text(store, VAWG_TEXT)
        assert (await store.get_item(item_id)).status == "open"
    note = "VAWG is a standing priority in the force plan; chief officer sign-off minuted 3 Nov"

    _, question = await _ask(pg, chat, f"mark vawg rec 1 as evidenced: {note}")
    card = _only_card(question)
    asked = card["body"][0]["text"]
    assert asked.startswith("Mark VAWG interim (2021) rec 1 as evidenced")
    assert asked.endswith(f"rec 1 as evidenced with note '{note}'?")
    yes, no = card["actions"]
    assert (yes["title"], yes["verb"], yes["data"]["answer"]) == ("Yes", "confirm", "yes")
    assert (no["title"], no["data"]["answer"], no["data"]["token"]) == ("No", "no", yes["data"]["token"])
    async with _store(rig.server.database_url) as store:
        assert (await store.get_item(item_id)).status == "open", "nothing is written before Yes"

    answer = await pg.invoke_execute(chat, question["id"], yes["verb"], yes["data"], title="Yes")
    assert answer["statusCode"] == 200 and answer["type"] == ADAPTIVE_CARD
    # The Yes/No card is replaced in place by the result (so there is nothing left to press twice).
    assert_valid_card(answer["value"])
    assert answer["value"]["body"][0]["text"].endswith("rec 1 is now evidenced, awaiting HMICFRS sign-off.")
    assert [a["verb"] for a in answer["value"]["actions"]] == ["show"]
    assert pg.bot_messages(chat)[-1]["id"] == question["id"], "the result replaces the card: no new message"

    async with _store(rig.server.database_url) as store:
        detail: ItemDetail = await store.item_detail(item_id)
    assert detail.item.status == "evidenced"
    assert detail.item.latest_evidence == note
    [evidence] = detail.evidence
    assert (evidence.kind, evidence.text, evidence.author_name) == ("evidence", note, pg.config.user_name)
    [changed] = [e for e in detail.events if e.action == "status_changed"]
    assert (changed.old_value, changed.new_value) == ("open", "evidenced")
    # Audited as the playground's user, from the personal chat, pointing at the "mark" message.
    assert changed.actor_name == pg.config.user_name
    assert changed.actor_aad_id == pg.config.raw["config"]["currentUser"]["aadObjectId"]
    assert (changed.source, changed.source_conversation_id) == ("teams", chat)
    assert changed.source_activity_id == question["replyToId"]

    # Pressing Yes again (a double click) changes nothing and says so.
    again = await pg.invoke_execute(chat, question["id"], yes["verb"], yes["data"], title="Yes")
    assert "Already done" in str(again["value"])
    async with _store(rig.server.database_url) as store:
        assert len((await store.item_detail(item_id)).evidence) == 1


async def test_digest_sent_from_the_cli_arrives_in_the_subscribed_channel(rig: Rig) -> None:
    """(f) The channel install subscribed the channel; ``tracker digest send --now`` posts the digest there."""
    pg = rig.pg
    channel = pg.config.general_channel_id
    # Idempotent: subscribes the channel if this test runs alone (and then welcomes, once).
    await pg.install(pg.config.team_id)
    mark = _log_position(pg)

    code, output = await _tracker_cli(["digest", "send", "--now"], rig.server.database_url)
    assert code == 0, f"tracker digest send --now failed ({code}):\n{output}"

    digest = await _next_post(pg, channel, mark, within=15)
    card = _only_card(digest)
    assert card["body"][0]["text"] == "Weekly status digest"
    text = text_of(digest)
    assert text.startswith("Weekly status digest — ")
    # The demo data's figures (seed-demo prints them too): 6 overdue, 3 due in the next 30 days.
    assert "Overdue (6):" in text
    assert "Due in the next 30 days (3):" in text
    assert "rec 1: overdue since 30 Sep 2021 · DI Tom Reid (Economic Crime Unit)" in text
    assert len(_posts_since(pg, channel, mark)) == 1


# --------------------------------------------------------------------------------------------------
# Issue 15: the compose box, link previews, cards that stay current, the evidence dialog, reminders
# --------------------------------------------------------------------------------------------------

VAWG_PAGE = ("https://www.justiceinspectorates.gov.uk/hmicfrs/our-work/article/"
             "inspection-into-how-effectively-the-police-engage-with-women-and-girls")  # fmt: skip


def _search(text: str, skip: int = 0) -> dict[str, Any]:
    return {"commandId": "searchItems", "parameters": [{"name": "query", "value": text}],
            "queryOptions": {"skip": skip, "count": 25}}  # fmt: skip


async def test_compose_box_search_returns_ranked_item_cards(rig: Rig) -> None:
    """(g) composeExtension/query from the compose box: item results, a preview and a card each."""
    pg = rig.pg
    answer = await pg.invoke(pg.config.personal_chat_id, "composeExtension/query", _search("vawg 2"))
    results = answer["composeExtension"]
    assert results["type"] == "result" and results["attachmentLayout"] == "list"
    titles = [a["preview"]["content"]["title"] for a in results["attachments"]]
    assert titles[0] == "VAWG interim (2021) rec 2"
    for attachment in results["attachments"]:
        assert_valid_card(attachment["content"])
        assert attachment["content"]["refresh"]["action"]["verb"] == "refresh_item"
    # A typo still finds it, and in a group chat too.
    answer = await pg.invoke(pg.config.group_chat_ids[0], "composeExtension/query", _search("fraudd"))
    assert "Fraud: Time to choose (2021) rec 1" in [
        a["preview"]["content"]["title"] for a in answer["composeExtension"]["attachments"]
    ]


async def test_pasted_hmicfrs_link_unfurls_to_the_report_card(rig: Rig) -> None:
    """(h) composeExtension/queryLink: a pasted HMICFRS page the tracker cites becomes its card."""
    pg = rig.pg
    answer = await pg.invoke(pg.config.personal_chat_id, "composeExtension/queryLink", {"url": VAWG_PAGE})
    [attachment] = answer["composeExtension"]["attachments"]
    card = attachment["content"]
    assert_valid_card(card)
    assert "VAWG interim" in json.dumps(card) and card["refresh"]["action"]["verb"] == "refresh_list"


async def test_item_card_refresh_shows_the_current_state(rig: Rig) -> None:
    """(i) The card's Universal Actions refresh (adaptiveCard/action, verb refresh_item) answers with the card now."""
    pg = rig.pg
    chat = pg.config.personal_chat_id
    _, shown = await _ask(pg, chat, "show vawg rec 2")
    refresh = _only_card(shown)["refresh"]["action"]
    assert refresh["verb"] == "refresh_item"
    answer = await pg.invoke_execute(chat, shown["id"], refresh["verb"], refresh["data"], title="Refresh")
    assert answer["statusCode"] == 200 and answer["type"] == ADAPTIVE_CARD
    assert_valid_card(answer["value"])
    assert "VAWG interim (2021) recommendation 2" in answer["value"]["body"][0]["text"]
    assert answer["value"]["refresh"]["action"]["verb"] == "refresh_item"


async def test_evidence_dialog_fetch_and_submit_writes_after_confirmation(rig: Rig) -> None:
    """(j) task/fetch opens the dialog; task/submit proposes, a second submit (Yes) writes, audited."""
    pg = rig.pg
    chat = pg.config.personal_chat_id
    async with _store(rig.server.database_url) as store:
        item_id = await _item_with_text(store, "The relentless pursuit and disruption of adult perpetrators")
        before = len(await store.evidence(item_id))
    opened = await pg.invoke(chat, "task/fetch", {"data": {"msteams": {"type": "task/fetch"}, "verb": "evidence_form",
                                                           "item_id": item_id, "intent": "add_update"}})  # fmt: skip
    form = opened["task"]["value"]["card"]["content"]
    assert_valid_card(form)
    note = "Perpetrator panel now meets fortnightly; first 40 nominals tasked."
    page = await pg.invoke(chat, "task/submit", {"data": {"verb": "evidence_review", "item_id": item_id,
                                                          "intent": "add_update", "evidence": note, "links": ""}})  # fmt: skip
    confirm = page["task"]["value"]["card"]["content"]
    assert "Add an update to VAWG interim (2021) rec 2" in json.dumps(confirm)
    async with _store(rig.server.database_url) as store:
        assert len(await store.evidence(item_id)) == before, "nothing is written before Yes"
    yes = next(a for a in confirm["actions"] if a["data"]["answer"] == "yes")
    done = await pg.invoke(chat, "task/submit", {"data": yes["data"]})
    assert (
        done["task"]["type"] == "message"
        and "Update added to VAWG interim (2021) rec 2" in done["task"]["value"]
    )
    async with _store(rig.server.database_url) as store:
        detail = await store.item_detail(item_id)
    assert detail.evidence[-1].text == note and detail.evidence[-1].author_name == pg.config.user_name
    [added] = [e for e in detail.events if e.action == "update_added" and e.new_value == note]
    assert (added.actor_name, added.source, added.source_conversation_id) == (
        pg.config.user_name,
        "teams",
        chat,
    )


async def test_owner_reminder_arrives_in_personal_chat(rig: Rig) -> None:
    """(k) "remind me about my items" in personal chat; ``tracker remind send --now`` posts the reminder there."""
    pg = rig.pg
    chat = pg.config.personal_chat_id
    me = Actor(pg.config.user_name, pg.config.raw["config"]["currentUser"]["aadObjectId"])
    async with _store(rig.server.database_url) as store:
        # The crime data integrity recommendation (open, due 2017, no owner): no other test reads it.
        [cdi] = [r.id for r in await store.reports() if r.key == "cdi-devon-cornwall"]
        [item] = [i for i in (await store.snapshot()).items if i.report_id == cdi and i.status == "open"]
        item_id = item.id
        await store.change_item(item_id, item.version, ItemChange(set_owner=True, owner_name=me.name, owner_aad_id=me.aad_id),
                                Actor("test"), Source("cli"))  # fmt: skip
    _, ok = await _ask(pg, chat, "remind me about my items")
    assert "I'll message you here" in text_of(ok)
    mark = _log_position(pg)
    code, output = await _tracker_cli(["remind", "send", "--now"], rig.server.database_url)
    assert code == 0, output
    reminder = await _next_post(pg, chat, mark, within=15)
    card = _only_card(reminder)
    text = text_of(reminder)
    assert "of your items" in text and "overdue since" in text
    adds = [a for a in _actions(card) if a.get("title") == "Add update"]
    assert (
        adds
        and adds[0]["data"]["item_id"] == item_id
        and adds[0]["data"]["msteams"] == {"type": "task/fetch"}
    )
    # Once per period: sending again posts nothing more.
    code, output = await _tracker_cli(["remind", "send", "--now"], rig.server.database_url)
    assert code == 0 and "already done 1" in output, output
