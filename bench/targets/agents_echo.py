"""Peer target: a minimal echo agent on the Microsoft 365 Agents SDK 1.9 (botbuilder's successor).

Written as a newcomer would from the quickstart: an ``AgentApplication`` with a ``message``
handler, ``start_agent_process`` on aiohttp, anonymous auth for local use (1.9 answers 401 to
unsigned requests otherwise), ``MemoryStorage``. It is the peer Tracker must beat, so it keeps
every cost the quickstart has. Two deliberate choices, both stated in the benchmark's output:

* no ``gc.freeze()``: the quickstart has none (with it, its c=16 p99 roughly halves);
* its loggers are raised to ERROR: it logs an "App ID is not provided" warning on every turn,
  and a benchmark of that would measure logging, not the SDK.

This file runs under ``bench/.venv-agents/bin/python`` (``bench/agents-requirements.txt``), never
under the project's own virtualenv, and imports nothing from the project.

Run: ``PORT=3978 bench/.venv-agents/bin/python -m bench.targets.agents_echo``
"""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp.web import Application, Request, Response, run_app
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    MemoryStorage,
    TurnContext,
    TurnState,
)


def create_app() -> Application:
    """The quickstart's wiring, built in a factory rather than at module level (house style only)."""
    auth = AgentAuthConfiguration(anonymous_allowed=True)
    connections = ConnectionManager(
        lambda _cfg: AnonymousTokenProvider(), connections_configurations={"SERVICE_CONNECTION": auth}
    )
    adapter = CloudAdapter(connection_manager=connections)
    agent_app = AgentApplication[TurnState](storage=MemoryStorage(), connection_manager=connections)

    @agent_app.activity("message")
    async def on_message(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"echo: {(context.activity.text or '').strip()}")

    async def messages(req: Request) -> Response:
        return await start_agent_process(req, agent_app, adapter)

    app = Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", messages)
    app["agent_configuration"] = auth
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description="Agents SDK echo agent (benchmark peer)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3978")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("microsoft_agents").setLevel(logging.ERROR)  # one warning per turn otherwise
    run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
