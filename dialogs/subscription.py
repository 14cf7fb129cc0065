"""Subscribe and unsubscribe the weekly digest in this conversation."""

from __future__ import annotations

from dialogs.deps import Deps
from dialogs.language import Intent, Parsed
from dialogs.policy import Policy
from dialogs.types import Outcome, Turn
from storage.subscriptions import Subscriptions


async def subscribe_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    return await subscribe(deps.subscriptions, deps.policy, turn, deps.schedule_label)


async def unsubscribe_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    return await unsubscribe(deps.subscriptions, deps.policy, turn)


async def subscribe(subs: Subscriptions, policy: Policy, turn: Turn, schedule: str) -> Outcome:
    allowed, reason = policy.allowed(Intent.SUBSCRIBE, turn.user)
    if not allowed:
        return Outcome.say(f"Sorry, I can't do that: {reason}")
    if not turn.reference or not turn.service_url:
        return Outcome.say("I can only post the digest in a Teams conversation.")
    # In a channel thread, post to the channel itself, not into the thread.
    conversation_id = turn.conversation_id.split(";messageid=")[0]
    reference = dict(turn.reference)
    reference["conversation"] = {**(reference.get("conversation") or {}), "id": conversation_id}
    reference.pop("activityId", None)
    _, new = await subs.subscribe(
        conversation_id=conversation_id, service_url=turn.service_url, reference=reference,
        tenant_id=turn.tenant_id, channel_id=turn.channel_id, team_id=turn.team_id,
        conversation_type=turn.conversation_type, created_by=turn.user.name,
    )  # fmt: skip
    if new:
        return Outcome.say(
            f'Done: I\'ll post the weekly status digest here ({schedule}). Say "stop sending the digest here" to stop.'
        )
    return Outcome.say(f"The weekly digest already comes here ({schedule}).")


async def unsubscribe(subs: Subscriptions, policy: Policy, turn: Turn) -> Outcome:
    allowed, reason = policy.allowed(Intent.UNSUBSCRIBE, turn.user)
    if not allowed:
        return Outcome.say(f"Sorry, I can't do that: {reason}")
    if await subs.deactivate(
        turn.conversation_id.split(";messageid=")[0], f"unsubscribed by {turn.user.name}"
    ):
        return Outcome.say(
            'Done: no more weekly digests here. Say "post the weekly digest here" to start again.'
        )
    return Outcome.say("The weekly digest isn't posted here, so there's nothing to stop.")
