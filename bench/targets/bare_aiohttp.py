"""Ceiling target: the same echo turn with no framework, just aiohttp.

It reads the activity JSON, posts ``f"Echo: {text}"`` as a reply to
``{serviceUrl}/v3/conversations/{conversation.id}/activities/{id}`` through one shared
``aiohttp.ClientSession`` (pooled keep-alive connections), and answers 200 once the connector has
accepted the reply.  No authentication, no schema (de)serialisation, no middleware: it is the
cost of "HTTP in, HTTP out" on this machine, the floor any bot framework sits on.

Run: ``PORT=3978 .venv/bin/python -m bench.targets.bare_aiohttp``
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

SESSION = web.AppKey("session", aiohttp.ClientSession)


def build_reply(activity: dict[str, Any]) -> dict[str, Any]:
    """The reply botbuilder's ``TurnContext.send_activity`` would build, minus optional fields."""
    return {
        "type": "message",
        "text": f"Echo: {activity.get('text')}",
        "inputHint": "acceptingInput",
        "channelId": activity.get("channelId"),
        "serviceUrl": activity.get("serviceUrl"),
        "from": activity.get("recipient"),
        "recipient": activity.get("from"),
        "conversation": activity.get("conversation"),
        "replyToId": activity.get("id"),
        "locale": activity.get("locale"),
    }


def reply_url(activity: dict[str, Any]) -> str:
    """``{serviceUrl}/v3/conversations/{id}/activities/{replyToId}``, ids percent-encoded as
    botbuilder's connector client does (Teams ids contain ``:``, ``;``, ``@``)."""
    base = str(activity["serviceUrl"]).rstrip("/")
    conversation_id = quote(str(activity["conversation"]["id"]), safe="")
    activity_id = quote(str(activity["id"]), safe="")
    return f"{base}/v3/conversations/{conversation_id}/activities/{activity_id}"


async def messages(request: web.Request) -> web.Response:
    """Handle one inbound activity: reply through the connector, then acknowledge."""
    try:
        activity = await request.json()
        url = reply_url(activity)
    except (ValueError, KeyError, TypeError):
        return web.Response(status=400)
    if activity.get("type") != "message":
        return web.Response(status=200)
    async with request.app[SESSION].post(url, json=build_reply(activity)) as response:
        await response.read()
        if response.status >= 300:
            return web.Response(status=502)
    return web.Response(status=200)


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    # One pooled session for the process lifetime; limit=0 so 16 concurrent turns never queue
    # behind a connection limit that the other targets do not have.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        app[SESSION] = session
        yield


def create_app() -> web.Application:
    """Build the application (the session is created on start-up, inside the event loop)."""
    app = web.Application()
    app.cleanup_ctx.append(_client_session)
    app.router.add_post("/api/messages", messages)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description="Bare aiohttp echo (benchmark ceiling)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3978")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
