"""Test kit: a local mock Bot Connector, real Bot Framework activities, and a running bot.

The bot under test is the real aiohttp app on a real 127.0.0.1 port; its replies are captured by
``MockConnector``, whose address is the activities' ``serviceUrl`` (as Teams' would be).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.settings import Settings

BOT_ID = "28:tracker-bot"
BOT_NAME = "Tracker"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
FIXED_NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@dataclass
class Scripted:
    """A canned answer for the next matching request: status, headers, and an optional delay."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class MockConnector:
    """Plays the Bot Connector service on 127.0.0.1 and records what the bot posts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # {"method", "conversation", "reply_to", "activity"}
        self.scripts: dict[str, list[Scripted]] = {}  # conversation id -> answers to give first
        self.attempts: list[tuple[str, int]] = []
        self._ids = itertools.count(1)
        self._event = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations/{conv}/activities", self._handle)
        app.router.add_route("*", "/v3/conversations/{conv}/activities/{aid}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._answer(request)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def idle(self, within: float = 5.0) -> None:
        """Wait until no request from the bot is being answered. The bot posts a turn's replies before
        it answers Teams, so once a POST has returned and the connector is idle, nothing more from
        that turn is coming: a negative check waits on this instead of sleeping."""
        await asyncio.wait_for(self._idle.wait(), within)

    async def _answer(self, request: web.Request) -> web.Response:
        conv = request.match_info["conv"]
        script = self.scripts.get(conv) or []
        answer = script.pop(0) if script else Scripted()
        self.attempts.append((conv, answer.status))
        body = await request.json() if request.can_read_body else None
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.status >= 300:
            return web.json_response({"error": {"code": "scripted", "message": "scripted failure"}},
                                     status=answer.status, headers=answer.headers)  # fmt: skip
        self.received.append({
            "method": request.method, "conversation": conv, "reply_to": request.match_info.get("aid"),
            "activity": body, "authorization": request.headers.get("Authorization"),
        })  # fmt: skip
        self._event.set()
        return web.json_response({"id": f"reply-{next(self._ids)}"})

    def messages(self, conversation: str | None = None) -> list[dict[str, Any]]:
        """Message activities received (typing indicators left out)."""
        return [
            r["activity"] for r in self.received
            if r["activity"] and r["activity"].get("type") == "message"
            and (conversation is None or r["conversation"].split(";")[0] == conversation.split(";")[0])
        ]  # fmt: skip

    async def wait_for(
        self, count: int, conversation: str | None = None, within: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` messages arrived (in ``conversation``)."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.messages(conversation)) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), timeout=remaining)
            except TimeoutError:
                break
        return self.messages(conversation)

    def clear(self) -> None:
        self.received.clear()


def text_of(activity: dict[str, Any]) -> str:
    """What a person would read: the text, or the card's fallback text plus its TextBlocks."""
    parts = [activity.get("text") or ""]
    for att in activity.get("attachments") or []:
        content = att.get("content") or {}
        parts.append(content.get("fallbackText") or "")
    return "\n".join(p for p in parts if p)


def cards_of(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


class Activities:
    """Builds the activities Teams sends, pointed at the mock connector."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url

    def base(self, *, conversation: str, conversation_type: str, user: str = "Alice Ames", aad: str = "aad-alice",
             tenant: str | None = TENANT, team: str | None = None) -> dict[str, Any]:  # fmt: skip
        conv: dict[str, Any] = {"id": conversation, "conversationType": conversation_type}
        channel_data: dict[str, Any] = {}
        if tenant:
            conv["tenantId"] = tenant
            channel_data["tenant"] = {"id": tenant}
        if team:
            channel_data["team"] = {"id": team}
            channel_data["channel"] = {"id": conversation.split(";")[0]}
        return {
            "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": self.service_url,
            "timestamp": FIXED_NOW.isoformat(), "from": {"id": f"29:{aad}", "name": user, "aadObjectId": aad},
            "recipient": {"id": BOT_ID, "name": BOT_NAME}, "conversation": conv, "channelData": channel_data,
            "locale": "en-GB",
        }  # fmt: skip

    def message(self, text: str, *, conversation: str = "a:personal-alice", conversation_type: str = "personal",
                mention: bool = False, **kw: Any) -> dict[str, Any]:  # fmt: skip
        act = self.base(conversation=conversation, conversation_type=conversation_type, **kw)
        act["type"] = "message"
        if mention:
            tag = f"<at>{BOT_NAME}</at>"
            act["text"] = f"{tag} {text}"
            act["entities"] = [
                {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
            ]
        else:
            act["text"] = text
        act["textFormat"] = "plain"
        return act

    def channel(self, text: str, *, mention: bool = True, thread: str = "19:sdna@thread.tacv2;messageid=1700000000001",
                **kw: Any) -> dict[str, Any]:  # fmt: skip
        return self.message(text, conversation=thread, conversation_type="channel", mention=mention,
                            team=kw.pop("team", "19:team-sdna@thread.tacv2"), **kw)  # fmt: skip

    def execute(self, verb: str, data: dict[str, Any], *, conversation: str = "a:personal-alice",
                conversation_type: str = "personal", **kw: Any) -> dict[str, Any]:  # fmt: skip
        act = self.base(conversation=conversation, conversation_type=conversation_type, **kw)
        act.update({
            "type": "invoke", "name": "adaptiveCard/action", "replyToId": "card-1",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}, "trigger": "manual"},
        })  # fmt: skip
        return act

    def submit(self, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """An Action.Submit click: a message with ``value`` and no text."""
        act = self.message("", **kw)
        act.pop("text")
        act["value"] = data
        return act

    def install(self, *, conversation: str = "19:sdna@thread.tacv2", team: str = "19:team-sdna@thread.tacv2",
                conversation_type: str = "channel", user: str = "Alice Ames", aad: str = "aad-alice") -> dict[str, Any]:  # fmt: skip
        act = self.base(
            conversation=conversation, conversation_type=conversation_type, team=team, user=user, aad=aad
        )
        act.update({"type": "conversationUpdate", "membersAdded": [{"id": BOT_ID, "name": BOT_NAME}]})
        act["channelData"]["eventType"] = "teamMemberAdded"
        return act

    def uninstall(
        self, *, conversation: str = "19:sdna@thread.tacv2", team: str = "19:team-sdna@thread.tacv2"
    ) -> dict[str, Any]:
        act = self.base(conversation=conversation, conversation_type="channel", team=team)
        act.update({"type": "installationUpdate", "action": "remove"})
        return act


@dataclass
class RunningBot:
    """The app on a real port, its mock connector, and a client."""

    url: str
    connector: MockConnector
    acts: Activities
    http: aiohttp.ClientSession
    app: web.Application

    async def post(
        self, activity: dict[str, Any] | str | bytes, *, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST to /api/messages; returns (status, JSON body or text)."""
        data = activity if isinstance(activity, (str, bytes)) else json.dumps(activity)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        async with self.http.post(f"{self.url}/api/messages", data=data, headers=hdrs) as resp:
            raw = await resp.text()
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw

    async def say(self, text: str, **kw: Any) -> list[dict[str, Any]]:
        """Send a personal message and return the replies it produced."""
        before = len(self.connector.messages())
        act = self.acts.message(text, **kw)
        status, _ = await self.post(act)
        assert status == 200, status
        return self.connector.messages()[before:]

    @property
    def services(self):  # type: ignore[no-untyped-def]
        from bot.app import SERVICES

        return self.app[SERVICES]


@asynccontextmanager
async def running_bot(
    settings: Settings, *, clock: Any = None, background: tuple = ()
) -> AsyncIterator[RunningBot]:
    """Start the mock connector and the real app (typing shown immediately, fixed clock)."""
    connector = MockConnector()
    await connector.start()
    app = create_app(settings, clock=clock or (lambda: FIXED_NOW), background=background, typing_delay=0)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningBot(
                str(server.make_url("")).rstrip("/"), connector, Activities(connector.url), http, app
            )
    finally:
        await server.close()
        await connector.stop()
