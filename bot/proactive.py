"""Posting into a stored conversation through the adapter: the edge's side of ``dialogs.outbound``."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import ConversationAccount, ConversationReference

from bot.adapter import TrackerAdapter
from bot.connector import ConnectorError, DeliveryUncertain
from bot.messages import reply_activity
from dialogs.outbound import PostRefused, PostUncertain
from dialogs.types import Reply


class AdapterPoster:
    """A :class:`dialogs.outbound.Poster` on the bot's adapter (continue_conversation)."""

    def __init__(self, adapter: TrackerAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

    async def post(
        self, reference: dict[str, Any], *, service_url: str, conversation_id: str, tenant_id: str | None,
        channel_id: str, reply: Reply,
    ) -> str:  # fmt: skip
        ref = ConversationReference().deserialize(reference)
        ref.service_url = service_url
        ref.channel_id = ref.channel_id or channel_id
        conversation = ref.conversation or ConversationAccount()
        conversation.id = conversation_id
        conversation.tenant_id = conversation.tenant_id or tenant_id
        ref.conversation = conversation
        ids: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            # A continuation is not a message: without an id the post starts a new message rather
            # than replying to an activity that does not exist.
            turn_context.activity.id = None
            response = await turn_context.send_activity(reply_activity(reply))
            ids.append(response.id if response else "")

        try:
            await self._adapter.continue_conversation(ref, post, bot_app_id=self._app_id)
        except ConnectorError as err:
            raise PostRefused(err.status, str(err)) from err
        except DeliveryUncertain as err:
            raise PostUncertain(str(err)) from err
        return ids[0] if ids else ""
