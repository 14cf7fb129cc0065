"""Baseline target: Microsoft's stock botbuilder-python echo bot (samples/python/02.echo-bot).

This is the reference point Tracker is measured against, so it deliberately keeps every cost the
sample has: ``CloudAdapter`` + ``ConfigurationBotFrameworkAuthentication`` (empty app id and
password, i.e. authentication disabled as when run against the Emulator), an ``ActivityHandler``
that replies ``f"Echo: {text}"`` with ``MessageFactory.text``, the sample's ``on_turn_error``
handler, and ``aiohttp_error_middleware``.  Do not optimise it.

The only departures from the sample are house style, and none touches the request path: the
objects are built in :func:`create_app` rather than at module level, the error handler logs
instead of printing, and the server binds 127.0.0.1 (not ``localhost``) on ``--port``/``$PORT``.

Run: ``PORT=3978 .venv/bin/python -m bench.targets.echo_bot``
"""

from __future__ import annotations

import argparse
import logging
import os
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.web import Request, Response
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

logger = logging.getLogger(__name__)


class DefaultConfig:
    """The sample's ``config.py``: credentials from the environment, empty by default."""

    def __init__(self) -> None:
        """Read the sample's environment variables."""
        # Mixed-case names are the ones Azure App Service and the sample use; keep them.
        self.PORT = int(os.environ.get("PORT", "3978"))
        self.APP_ID = os.environ.get("MicrosoftAppId", "")  # noqa: SIM112
        self.APP_PASSWORD = os.environ.get("MicrosoftAppPassword", "")  # noqa: SIM112
        self.APP_TYPE = os.environ.get("MicrosoftAppType", "MultiTenant")  # noqa: SIM112
        self.APP_TENANTID = os.environ.get("MicrosoftAppTenantId", "")  # noqa: SIM112


class EchoBot(ActivityHandler):
    """The sample's ``bots/echo_bot.py``."""

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Greet everyone added to the conversation except the bot itself."""
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                await turn_context.send_activity("Hello and welcome!")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Echo the text back."""
        return await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def create_app(config: DefaultConfig) -> web.Application:
    """Wire adapter, bot and route exactly as the sample's ``app.py`` does."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def on_error(context: TurnContext, error: Exception) -> None:
        # The sample prints the traceback, tells the user, and sends a trace to the Emulator.
        logger.error("[on_turn_error] unhandled error: %s", error, exc_info=error)
        await context.send_activity("The bot encountered an error or bug.")
        await context.send_activity("To continue to run this bot, please fix the bot source code.")
        if context.activity.channel_id == "emulator":
            trace_activity = Activity(
                label="TurnError",
                name="on_turn_error Trace",
                timestamp=datetime.now(UTC),
                type=ActivityTypes.trace,
                value=f"{error}",
                value_type="https://www.botframework.com/schemas/error",
            )
            await context.send_activity(trace_activity)

    adapter.on_turn_error = on_error
    bot = EchoBot()

    async def messages(req: Request) -> Response:
        return await adapter.process(req, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the echo bot until terminated."""
    config = DefaultConfig()
    parser = argparse.ArgumentParser(description="Stock botbuilder echo bot (benchmark baseline)")
    parser.add_argument("--port", type=int, default=config.PORT)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    web.run_app(create_app(config), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
