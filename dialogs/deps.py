"""What every dialog handler gets: the stores, the read model, the resolver, policy and the writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dialogs.language import Parsed, Resolver
from dialogs.policy import Policy
from dialogs.types import Outcome, Turn
from dialogs.writes import Writes
from storage.readmodel import ReadModel
from storage.store import Store
from storage.subscriptions import Subscriptions

DigestFn = Callable[[dt.datetime], Awaitable[Outcome]]


@dataclass(frozen=True)
class Deps:
    """The dialogs' dependencies, built once by the app factory and handed to every handler."""

    store: Store
    model: ReadModel
    resolver: Resolver
    policy: Policy
    subscriptions: Subscriptions
    writes: Writes
    schedule_label: str = "Mondays at 09:00"
    digest: DigestFn | None = None
    tz: dt.tzinfo = dt.UTC  # the force's time zone: "today", "this week"


Handler = Callable[[Deps, Parsed, Turn], Awaitable[Outcome]]
"""An intent's handler: what was understood, who said it, where -> what to answer and remember."""
