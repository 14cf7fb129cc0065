"""Posting a message into a stored conversation: the contract between features and the edge.

Features that post on their own (the weekly digest; reminders) describe what to send as a
:class:`~dialogs.types.Reply` and hand it to a :class:`Poster`, which the edge implements with the
Bot Connector. A post either returns the new message's id, or raises :class:`PostRefused` (the
service answered no: nothing was posted) or :class:`PostUncertain` (the request went out and no
answer came back: it may have been posted, so it must never be re-sent blindly).
"""

from __future__ import annotations

from typing import Any, Protocol

from dialogs.types import Reply


class PostRefused(Exception):
    """The service refused the post (nothing was posted). ``status`` 403: removed or blocked."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PostUncertain(Exception):
    """The post went out but no answer came back: it may or may not have arrived."""


class Poster(Protocol):
    """Posts one reply as a new message in a conversation (never as a reply in a thread)."""

    async def post(
        self, reference: dict[str, Any], *, service_url: str, conversation_id: str, tenant_id: str | None,
        channel_id: str, reply: Reply,
    ) -> str:  # fmt: skip
        """Post ``reply``; the id the service gave the message."""
        ...
