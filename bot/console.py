"""``tracker chat``: the same bot, in a terminal. A tiny adapter collects replies instead of posting."""

from __future__ import annotations

import uuid
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, ResourceResponse

from bot.handler import TrackerBot


class ConsoleAdapter(BotAdapter):
    """Runs turns for typed messages; replies are kept for the caller to print."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        out = []
        for a in activities:
            if a.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = a
            elif a.type == ActivityTypes.message:
                self.replies.append(a)
            out.append(ResourceResponse(id=uuid.uuid4().hex))
        return out

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        self.replies.append(activity)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        return None

    async def say(
        self, bot: TrackerBot, text: str, *, user: str, conversation: str, value: dict | None = None
    ) -> list[Activity]:
        """One message from ``user`` in ``conversation``; returns the bot's replies."""
        self.replies = []
        activity = Activity(
            type=ActivityTypes.message, id=uuid.uuid4().hex, text=text, value=value, channel_id="console",
            service_url="console://local", from_property=ChannelAccount(id=f"console:{user}", name=user, aad_object_id=f"console:{user}"),
            recipient=ChannelAccount(id="tracker", name="Tracker"),
            conversation=ConversationAccount(id=conversation, conversation_type="personal"),
        )  # fmt: skip
        await self.run_pipeline(TurnContext(self, activity), bot.on_turn)
        return list(self.replies)


def reply_text(activity: Activity) -> str:
    """The text a terminal shows for a reply: the text, or the card's fallback text."""
    if activity.text:
        return activity.text
    for att in activity.attachments or []:
        content = att.content if isinstance(att.content, dict) else {}
        if content.get("fallbackText"):
            return str(content["fallbackText"])
    return ""
