"""A reply (``dialogs.types.Reply``) as a Bot Framework message: one conversion for every path.

Turn replies and proactive posts (the digest) go through :func:`reply_activity`, so a card
carries its text fallback the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from dialogs.frozen import FrozenCard
from dialogs.types import Reply

FALLBACK_CHARS = 4000
SUMMARY_CHARS = 200


def reply_activity(reply: Reply) -> Activity:
    """The message for ``reply``: its card with the text as fallback, or the text alone."""
    if reply.card is None:
        return MessageFactory.text(reply.text)
    # Teams shows `text` above a card, so the text fallback travels in the card's own fallbackText
    # (clients that cannot render the card show it) and in the summary (the notification line).
    content: dict[str, Any] = reply.card
    fallback = reply.text[:FALLBACK_CHARS]
    if fallback and isinstance(content, FrozenCard):
        content = content.with_fallback(fallback)
    elif fallback:
        content = {**content, "fallbackText": fallback}
    msg = MessageFactory.attachment(CardFactory.adaptive_card(content))
    msg.summary = (reply.summary or reply.text[:SUMMARY_CHARS]) or None
    return msg
