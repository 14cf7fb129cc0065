"""The Bot Framework adapter: inbound auth and tenant checks, turn pipeline, fast outbound path.

A small ``BotAdapter`` of our own rather than ``CloudAdapter``: inbound tokens are validated
without blocking the loop (``bot.auth``), bad tokens are 401 (never 500), other tenants are 403,
and replies go out through one shared aiohttp session (``bot.connector``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Any

from botbuilder.core import BotAdapter, InvokeResponse, TurnContext
from botbuilder.core.conversation_reference_extension import get_continuation_activity
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    DeliveryModes,
    Entity,
    ResourceResponse,
)
from botframework.connector import Channels
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

from bot.auth import AuthUnavailable, TokenValidator, Unauthorized
from bot.connector import Connector, ConnectorError, DeliveryUncertain
from bot.turn import DEADLINE, ReplyContext
from storage import effects

log = logging.getLogger(__name__)

Logic = Callable[[TurnContext], Awaitable[Any]]


class Forbidden(Exception):
    """Authenticated, but not from a tenant we serve (HTTP 403)."""


def tenant_of(body: dict[str, Any]) -> str | None:
    """The tenant an activity claims to come from (conversation first, then Teams channelData)."""
    conv = body.get("conversation") if isinstance(body.get("conversation"), dict) else {}
    tenant = conv.get("tenantId") if isinstance(conv, dict) else None
    if not tenant:
        cd = body.get("channelData") if isinstance(body.get("channelData"), dict) else {}
        t = cd.get("tenant") if isinstance(cd, dict) else None
        tenant = t.get("id") if isinstance(t, dict) else None
    return str(tenant).lower() if tenant else None


def tenants_disagree(body: dict[str, Any]) -> bool:
    """conversation.tenantId and channelData.tenant.id both given, and naming different tenants."""
    conv = body.get("conversation") if isinstance(body.get("conversation"), dict) else {}
    cd = body.get("channelData") if isinstance(body.get("channelData"), dict) else {}
    tenant = cd.get("tenant") if isinstance(cd, dict) else None
    a = conv.get("tenantId") if isinstance(conv, dict) else None
    b = tenant.get("id") if isinstance(tenant, dict) else None
    return bool(a and b) and str(a).lower() != str(b).lower()


def _account(a: Any) -> dict[str, Any] | None:
    if a is None:
        return None
    fields = (
        ("id", a.id),
        ("name", a.name),
        ("aadObjectId", getattr(a, "aad_object_id", None)),
        ("role", a.role),
    )
    return {k: v for k, v in fields if v is not None}


def _conversation(c: Any) -> dict[str, Any] | None:
    if c is None:
        return None
    fields = (("id", c.id), ("name", c.name), ("conversationType", c.conversation_type),
              ("tenantId", c.tenant_id), ("isGroup", c.is_group))  # fmt: skip
    return {k: v for k, v in fields if v is not None}


# What our replies carry; anything else set on an activity goes through msrest instead.
_PLAIN_FIELDS = (
    ("type", "type"), ("text", "text"), ("summary", "summary"), ("textFormat", "text_format"),
    ("replyToId", "reply_to_id"), ("serviceUrl", "service_url"), ("channelId", "channel_id"),
    ("locale", "locale"), ("inputHint", "input_hint"), ("id", "id"), ("attachmentLayout", "attachment_layout"),
)  # fmt: skip
_OTHER_FIELDS = ("entities", "channel_data", "suggested_actions", "value", "speak",
                 "relates_to", "name", "delivery_mode", "importance", "expiration", "label", "value_type")  # fmt: skip


def to_wire(activity: Activity) -> dict[str, Any]:
    """Serialise an outgoing activity.

    msrest walks every value of a model (~1 ms per reply, and cards even more); our replies use a
    handful of plain fields, written out directly here. Card content (already a JSON-ready dict)
    is copied as-is. An activity using anything else falls back to msrest for that part.
    """
    if any(getattr(activity, f, None) for f in _OTHER_FIELDS):
        attachments = activity.attachments
        activity.attachments = None
        try:
            body = activity.serialize()
        finally:
            activity.attachments = attachments
    else:
        body = {k: v for k, attr in _PLAIN_FIELDS if (v := getattr(activity, attr, None)) is not None}
        for key, value in (("from", _account(activity.from_property)), ("recipient", _account(activity.recipient)),
                           ("conversation", _conversation(activity.conversation))):  # fmt: skip
            if value is not None:
                body[key] = value
        attachments = activity.attachments
    if attachments:
        body["attachments"] = [
            {k: v for k, v in (("contentType", a.content_type), ("content", a.content), ("name", a.name)) if v is not None}
            for a in attachments
        ]  # fmt: skip
    return body


_TEAMS_OBJECTS = (
    "team",
    "channel",
    "tenant",
    "eventInfo",
    "notification",
    "meeting",
    "settings",
    "onBehalfOf",
)


def _teams_channel_data_ok(data: Any) -> bool:
    """The shape checks botbuilder's TeamsChannelData deserialisation would fail on, done cheaply."""
    if not isinstance(data, dict):
        return False
    if any(
        data.get(k) is not None and not isinstance(data[k], dict) for k in _TEAMS_OBJECTS if k != "onBehalfOf"
    ):
        return False
    return data.get("eventType") is None or isinstance(data["eventType"], str)


# Inbound fields built directly; an activity with any other field goes through msrest instead.
_SIMPLE_IN = {
    "type": "type", "id": "id", "serviceUrl": "service_url", "channelId": "channel_id", "textFormat": "text_format",
    "locale": "locale", "text": "text", "replyToId": "reply_to_id", "name": "name", "action": "action",
    "localTimezone": "local_timezone", "summary": "summary", "inputHint": "input_hint",
}  # fmt: skip
_RAW_IN = {"channelData": "channel_data", "value": "value"}  # JSON kept as it came, as msrest does
_ACCOUNTS_IN = {"from": "from_property", "recipient": "recipient"}
_IGNORED_IN = {"timestamp", "localTimestamp", "callerId"}  # not used by Tracker; msrest would parse them


def _str_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError("expected a string")


def fast_activity(body: dict[str, Any]) -> Activity | None:
    """Build the Activity for a common message or card action without msrest (~1 ms saved).

    Returns None when the body has anything unusual, for the caller to use msrest instead."""
    known = _SIMPLE_IN.keys() | _RAW_IN.keys() | _ACCOUNTS_IN.keys() | _IGNORED_IN | {
        "conversation", "entities", "attachments", "membersAdded", "membersRemoved"}  # fmt: skip
    if not body.keys() <= known:
        return None
    try:
        kw: dict[str, Any] = {attr: _str_or_none(body.get(key)) for key, attr in _SIMPLE_IN.items()}
        kw.update({attr: body.get(key) for key, attr in _RAW_IN.items()})
        for key, attr in _ACCOUNTS_IN.items():
            kw[attr] = _channel_account(body.get(key))
        conv = body.get("conversation")
        if conv is not None:
            if not isinstance(conv, dict) or not conv.keys() <= {
                "id",
                "name",
                "conversationType",
                "tenantId",
                "isGroup",
            }:
                return None
            kw["conversation"] = ConversationAccount(
                id=_str_or_none(conv.get("id")), name=_str_or_none(conv.get("name")),
                conversation_type=_str_or_none(conv.get("conversationType")),
                tenant_id=_str_or_none(conv.get("tenantId")), is_group=conv.get("isGroup"),
            )  # fmt: skip
        if body.get("entities") is not None:
            kw["entities"] = [_entity(e) for e in body["entities"]]
        if body.get("attachments") is not None:
            kw["attachments"] = [_attachment(a) for a in body["attachments"]]
        for key, attr in (("membersAdded", "members_added"), ("membersRemoved", "members_removed")):
            if body.get(key) is not None:
                kw[attr] = [_channel_account(m) for m in body[key]]
    except (TypeError, ValueError, AttributeError):
        return None
    return Activity(**kw)


def _channel_account(value: Any) -> ChannelAccount | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value.keys() <= {"id", "name", "aadObjectId", "role"}:
        raise ValueError("unusual account")
    return ChannelAccount(id=_str_or_none(value.get("id")), name=_str_or_none(value.get("name")),
                          aad_object_id=_str_or_none(value.get("aadObjectId")), role=_str_or_none(value.get("role")))  # fmt: skip


def _entity(value: Any) -> Entity:
    if not isinstance(value, dict):
        raise ValueError("entity is not an object")
    entity = Entity(type=_str_or_none(value.get("type")))
    entity.additional_properties = {k: v for k, v in value.items() if k != "type"}
    return entity


def _attachment(value: Any) -> Attachment:
    if not isinstance(value, dict) or not value.keys() <= {
        "contentType",
        "contentUrl",
        "content",
        "name",
        "thumbnailUrl",
    }:
        raise ValueError("unusual attachment")
    return Attachment(content_type=_str_or_none(value.get("contentType")), content_url=_str_or_none(value.get("contentUrl")),
                      content=value.get("content"), name=_str_or_none(value.get("name")),
                      thumbnail_url=_str_or_none(value.get("thumbnailUrl")))  # fmt: skip


def _readable(body: dict[str, Any]) -> Activity:
    """The activity, if it has what every channel sends; ValueError (HTTP 400) if not.

    Checked before the turn so a malformed activity is refused cleanly instead of failing deep
    inside botbuilder (state needs channelId and conversation.id, replies need serviceUrl, and
    the Teams handler reads channelData as Teams channel data).
    """
    activity = fast_activity(body) or Activity().deserialize(body)
    if not activity.channel_id or not activity.conversation or not activity.conversation.id:
        raise ValueError("activity without channelId or conversation.id")
    if not isinstance(activity.service_url, str) or not activity.service_url.startswith(
        ("https://", "http://")
    ):
        raise ValueError("activity without an http(s) serviceUrl")
    teams_data = activity.channel_data if activity.channel_id == Channels.ms_teams else None
    if teams_data is not None and not _teams_channel_data_ok(teams_data):
        raise ValueError("channelData is not Teams channel data")
    return activity


class TrackerAdapter(BotAdapter):
    """Runs turns for inbound activities and proactive sends."""

    def __init__(
        self,
        connector: Connector,
        *,
        app_id: str = "",
        validator: TokenValidator | None = None,
        allowed_tenants: Iterable[str] = (),
        budget: float = 8.0,
    ) -> None:
        super().__init__(on_turn_error=self._on_error)
        self.connector = connector
        self.app_id = app_id
        self._validator = validator
        self._tenants = frozenset(t.lower() for t in allowed_tenants)
        self._budget = budget  # seconds a turn's replies may take: Teams re-sends after 15

    async def process(
        self, body: dict[str, Any], auth_header: str | None, logic: Logic
    ) -> InvokeResponse | None:
        """Authenticate, check the tenant, run the turn; returns the invoke response if any.

        Raises ``bot.auth.Unauthorized`` / ``AuthUnavailable`` / :class:`Forbidden` before any
        bot code runs, so a refused request changes nothing.
        """
        service_url = body.get("serviceUrl") if isinstance(body.get("serviceUrl"), str) else None
        claims: dict[str, Any] = {}
        if self._validator is not None:
            try:
                claims = await self._validator.validate(
                    auth_header, service_url, str(body.get("channelId") or "")
                )
            except (Unauthorized, AuthUnavailable):
                raise
            except Exception as err:
                # A token that trips something unforeseen is still a token we could not check:
                # refuse it (401, not 500), and keep the trace for us. The header is not logged.
                log.exception("token check failed unexpectedly: %s", err.__class__.__name__)
                raise Unauthorized("token could not be checked") from err
        if tenants_disagree(body):
            raise Forbidden("conversation.tenantId and channelData.tenant.id disagree")
        if self._tenants and tenant_of(body) not in self._tenants:
            raise Forbidden("tenant not allowed")
        activity = _readable(body)
        context = ReplyContext(self, activity)
        identity = ClaimsIdentity(claims or {AuthenticationConstants.APP_ID_CLAIM: self.app_id}, True)
        context.turn_state[self.BOT_IDENTITY_KEY] = identity
        context.turn_state[DEADLINE] = asyncio.get_running_loop().time() + self._budget
        with effects.recording():
            await self.run_pipeline(context, logic)
        if activity.type == ActivityTypes.invoke:
            sent = context.turn_state.get(self._INVOKE_RESPONSE_KEY)
            return sent.value if sent is not None else InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))
        if activity.delivery_mode == DeliveryModes.expect_replies:
            # The caller waits for the replies in this response instead of at the connector.
            replies = [to_wire(a) for a in context.buffered_reply_activities
                       if a.type not in (ActivityTypes.trace, ActivityTypes.invoke_response)]  # fmt: skip
            return InvokeResponse(status=200, body={"activities": replies})
        return None

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse(id=""))
                continue
            if activity.type == ActivityTypes.trace:
                responses.append(ResourceResponse(id=""))
                continue
            if activity.type == "delay":
                await asyncio.sleep(min(float(activity.value or 1000) / 1000, 5.0))
                responses.append(ResourceResponse(id=""))
                continue
            activity.id = None
            deadline = context.turn_state.get(DEADLINE)
            if deadline is not None and activity.type == ActivityTypes.typing:
                deadline = min(
                    deadline, asyncio.get_running_loop().time() + 2.0
                )  # cosmetic: never the budget
            new_id = await self.connector.send(
                activity.service_url,
                activity.conversation.id,
                to_wire(activity),
                activity.reply_to_id,
                deadline=deadline,
            )
            responses.append(ResourceResponse(id=new_id))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        await self.connector.update(
            activity.service_url, activity.conversation.id, activity.id, to_wire(activity)
        )
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        await self.connector.delete(reference.service_url, reference.conversation.id, reference.activity_id)

    async def continue_conversation(
        self,
        reference: ConversationReference,
        callback: Logic,
        bot_app_id: str | None = None,
        claims_identity: ClaimsIdentity | None = None,
        audience: str | None = None,
    ) -> None:
        """Proactive turn in a stored conversation (the weekly digest). Errors propagate to the caller."""
        if bot_app_id is None:
            raise TypeError("continue_conversation needs the bot's app id (use '' in local mode)")
        context = ReplyContext(self, get_continuation_activity(reference))
        context.turn_state[self.BOT_IDENTITY_KEY] = claims_identity or ClaimsIdentity(
            {
                AuthenticationConstants.APP_ID_CLAIM: bot_app_id,
                AuthenticationConstants.AUDIENCE_CLAIM: bot_app_id,
            },
            True,
        )
        # No pipeline, so no on_turn_error: a proactive send's failure reaches its caller.
        await callback(context)

    async def _on_error(self, context: TurnContext, error: Exception) -> None:
        """An exception in bot code: log it with a reference, tell the user briefly, answer 200."""
        ref = uuid.uuid4().hex[:8].upper()
        act = context.activity
        where = (ref, act.id, act.conversation.id if act.conversation else None)
        if isinstance(error, (ConnectorError, DeliveryUncertain)):
            # The Bot Connector refused the reply or could not be reached, after the connector's own
            # retries: its answer says all there is, and a trace per message would bury it.
            log.error(
                "turn failed ref=%s activity=%s conversation=%s: reply not delivered: %s", *where, error
            )
        else:
            log.exception(
                "turn failed ref=%s activity=%s conversation=%s: %s", *where, error.__class__.__name__
            )
        if act.type == ActivityTypes.invoke:
            context.turn_state[self._INVOKE_RESPONSE_KEY] = Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(status=200, body={
                    "statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                    "value": (f"Saved ({'; '.join(effects.current())}), but something went wrong afterwards (ref {ref})."
                              if effects.current() else f"Sorry, something went wrong on my side (ref {ref})."),
                }),
            )  # fmt: skip
            return
        if act.type != ActivityTypes.message:
            return
        saved = effects.current()
        try:
            if saved:  # never an apology that hides a committed write
                await context.send_activity(
                    f"Your change was saved ({'; '.join(saved)}), but something went wrong on my side "
                    f"afterwards. Please don't repeat it; the SD&A team can look up reference {ref}."
                )
                return
            await context.send_activity(
                f"Sorry, something went wrong on my side. If it keeps happening, "
                f"tell the SD&A team the reference {ref}."
            )
        except Exception:  # the apology is best effort: the original error is already logged
            log.warning("could not send the apology for ref=%s", ref)
