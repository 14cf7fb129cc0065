"""The conversation reference we store is the JSON botbuilder's own serializer gives."""

from __future__ import annotations

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)

from bot.reference import reference_json

PERSONAL = Activity(
    type=ActivityTypes.message, id="1700000000001", channel_id="msteams", service_url="https://smba.trafficmanager.net/uk/",
    locale="en-GB", from_property=ChannelAccount(id="29:1abc", name="DCI Sarah Khan", aad_object_id="aad-s", role="user"),
    recipient=ChannelAccount(id="28:bot", name="Tracker"),
    conversation=ConversationAccount(id="a:1xyz", conversation_type="personal", tenant_id="tenant-1", is_group=False),
)  # fmt: skip
CHANNEL = Activity(
    type=ActivityTypes.conversation_update, id="f:1", channel_id="msteams", service_url="https://smba/emea/",
    from_property=ChannelAccount(id="29:2", name="Owen"), recipient=ChannelAccount(id="28:bot"),
    conversation=ConversationAccount(id="19:sdna@thread.tacv2;messageid=1", conversation_type="channel",
                                     is_group=True, name="SD&A", properties={"x": [1, "two"]}),
)  # fmt: skip
SPARSE = Activity(
    type=ActivityTypes.message, channel_id="msteams", conversation=ConversationAccount(id="a:2")
)


@pytest.mark.parametrize("activity", [PERSONAL, CHANNEL, SPARSE], ids=["personal", "channel", "sparse"])
def test_reference_json_is_what_msrest_gives(activity: Activity) -> None:
    expected = TurnContext.get_conversation_reference(activity).serialize()
    got = reference_json(activity)
    assert got == expected
    back = ConversationReference().deserialize(got)  # and it reads back for a proactive send
    assert back.conversation.id == activity.conversation.id and back.service_url == activity.service_url


@pytest.mark.parametrize("activity", [PERSONAL, CHANNEL], ids=["personal", "channel"])
def test_a_turns_reference_is_built_once_and_serialises_the_same(activity: Activity) -> None:
    from botbuilder.core.adapters import TestAdapter

    from bot.reference import turn_reference, turn_reference_json

    ctx = TurnContext(TestAdapter(), activity)
    first = turn_reference(ctx)
    assert turn_reference(ctx) is first  # the replies and the person link share one
    assert turn_reference_json(ctx) == TurnContext.get_conversation_reference(activity).serialize()
    other = TurnContext(TestAdapter(), SPARSE)
    assert turn_reference(other) is not first and turn_reference(other).conversation.id == "a:2"
