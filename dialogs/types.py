"""The small vocabulary shared by dialogs: a turn in, replies out.

Dialogs are errbot-style: they take a :class:`Turn` and return an :class:`Outcome` saying what
to answer and what to remember. Sending happens at the edge (``bot.handler``, ``tracker chat``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dialogs.state import PENDING_TTL, UNSET, StateChange
from storage.views import Actor, Source


class Verb(enum.StrEnum):
    """What a card button asks for (``Action.Execute`` verb, repeated in ``data`` for Action.Submit)."""

    SHOW = "show"
    START_EVIDENCE = "start_evidence"
    START_UPDATE = "start_update"
    MORE = "more"
    LIST = "list"
    CHOOSE = "choose"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class Reply:
    """One message: plain text (always: the fallback and what ``tracker chat`` prints) and a card."""

    text: str
    card: dict[str, Any] | None = None
    summary: str | None = None  # the notification line (default: the start of ``text``)


@dataclass(frozen=True)
class Turn:
    """One incoming message or card action, with who sent it and where."""

    text: str
    user: Actor
    conversation_id: str
    activity_id: str | None
    now: dt.datetime
    today: dt.date
    value: dict[str, Any] | None = None  # card action data (Action.Execute or Action.Submit)
    is_invoke: bool = False
    conversation_type: str = "personal"  # personal | groupChat | channel
    # The serialised conversation reference, made on demand: only subscribing needs it, and
    # serialising one costs ~0.6 ms that every other message would pay for nothing.
    make_reference: Callable[[], dict[str, Any]] | None = None
    tenant_id: str | None = None
    service_url: str | None = None
    team_id: str | None = None
    channel_id: str = "msteams"

    @property
    def reference(self) -> dict[str, Any] | None:
        return self.make_reference() if self.make_reference else None

    @property
    def source(self) -> Source:
        return Source("teams", self.conversation_id, self.activity_id)

    @property
    def user_key(self) -> str:
        return self.user.aad_id or self.user.name

    @property
    def expiry(self) -> dt.datetime:
        """When a question asked in this turn stops being answerable."""
        return self.now + PENDING_TTL


@dataclass
class Outcome:
    """What to answer, and what the conversation should remember afterwards.

    ``card_update`` answers an Action.Execute invoke by replacing the clicked card (confirmations),
    instead of posting a new message.
    """

    replies: list[Reply] = field(default_factory=list)
    card_update: dict[str, Any] | None = None
    state: StateChange | None = None  # what the conversation should remember (None: nothing new)

    def also(self, **changes: Any) -> Outcome:
        """The same outcome, also remembering ``changes`` (StateChange fields; None forgets one)."""
        self.state = dataclasses.replace(self.state or StateChange(), **changes)
        return self

    def sets_pending(self) -> bool:
        """Does this outcome ask (or settle) a question of its own?"""
        return self.state is not None and self.state.pending is not UNSET

    @classmethod
    def say(cls, text: str, card: dict[str, Any] | None = None) -> Outcome:
        return cls(replies=[Reply(text, card)])
