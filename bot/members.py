"""Who is in a conversation, for the digest's per-reader refresh (issue 15): the Bot Connector's
paged members call, read once per post, at most 61 members (one more than Teams' refresh limit)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from bot.connector import Connector, ConnectorError, DeliveryUncertain
from dialogs.digest.mine import personalised_reply
from dialogs.surfaces import MAX_REFRESH_USERS
from dialogs.types import Reply
from storage.subscriptions import SubscriptionView

log = logging.getLogger(__name__)


class Members:
    """Reads a conversation's members through the connector."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    async def ids(self, service_url: str, conversation_id: str) -> list[str] | None:
        """Members' ids (MRIs), or None when there are more than 60 or they could not be read."""
        url = (f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/pagedmembers"
               f"?pageSize={MAX_REFRESH_USERS + 1}")  # fmt: skip
        try:
            body = await self._connector._request("GET", url, None, None)  # the connector's auth and retries
        except (ConnectorError, DeliveryUncertain) as err:
            log.info(
                "members of %s not read (%s): the digest offers 'Show mine'",
                conversation_id,
                err.__class__.__name__,
            )
            return None
        found = body.get("members")
        members: list[Any] = found if isinstance(found, list) else []
        ids = [str(m["id"]) for m in members if isinstance(m, dict) and m.get("id")]
        if body.get("continuationToken") or len(ids) > MAX_REFRESH_USERS or not ids:
            return None
        return ids

    async def personalise(self, sub: SubscriptionView, reply: Reply) -> Reply:
        """The digest for ``sub``'s conversation: per-reader refresh, or a "Show mine" button."""
        return personalised_reply(reply, await self.ids(sub.service_url, sub.conversation_id))
