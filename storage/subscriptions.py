"""Where the weekly digest goes: conversation references, kept in the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.models import Subscription, utcnow
from storage.store import Store
from storage.views import as_utc


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    conversation_id: str
    service_url: str
    tenant_id: str | None
    channel_id: str
    team_id: str | None
    conversation_type: str | None
    reference: dict[str, Any]
    active: bool
    created_by: str | None
    created_at: dt.datetime | None
    deactivated_reason: str | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionView:
        return cls(
            s.id, s.conversation_id, s.service_url, s.tenant_id, s.channel_id, s.team_id, s.conversation_type,
            dict(s.reference or {}), bool(s.active), s.created_by, as_utc(s.created_at), s.deactivated_reason,
        )  # fmt: skip


class Subscriptions:
    """Subscribe, unsubscribe and list digest destinations."""

    def __init__(self, store: Store) -> None:
        self._sessions = store.sessions
        self._reads = store.read_sessions

    async def subscribe(
        self, *, conversation_id: str, service_url: str, reference: dict[str, Any], tenant_id: str | None,
        channel_id: str = "msteams", team_id: str | None = None, conversation_type: str | None = None,
        created_by: str | None = None,
    ) -> tuple[SubscriptionView, bool]:  # fmt: skip
        """Store (or refresh and re-activate) a destination. Returns (subscription, was it new or inactive)."""
        for _attempt in range(2):  # a concurrent first subscribe on another instance: retry as update
            try:
                async with self._sessions() as s, s.begin():
                    row = await s.scalar(
                        select(Subscription).where(Subscription.conversation_id == conversation_id)
                    )
                    changed = row is None or not row.active
                    if row is None:
                        row = Subscription(conversation_id=conversation_id, created_by=created_by)
                        s.add(row)
                    row.service_url, row.reference, row.tenant_id = service_url, reference, tenant_id
                    row.channel_id, row.team_id, row.conversation_type = (
                        channel_id,
                        team_id,
                        conversation_type,
                    )
                    row.active, row.deactivated_reason, row.updated_at = True, None, utcnow()
                    await s.flush()
                    return SubscriptionView.of(row), changed
            except IntegrityError:
                continue
        raise RuntimeError("could not store the subscription")

    async def deactivate(self, conversation_id: str, reason: str) -> bool:
        """Stop the digest here. False if it was not active."""
        async with self._sessions() as s, s.begin():
            row = await s.scalar(select(Subscription).where(Subscription.conversation_id == conversation_id))
            if row is None or not row.active:
                return False
            row.active, row.deactivated_reason, row.updated_at = False, reason, utcnow()
            return True

    async def deactivate_team(self, team_id: str, reason: str) -> int:
        """The bot was removed from a team: every channel of it stops."""
        async with self._sessions() as s, s.begin():
            rows = (
                await s.scalars(
                    select(Subscription).where(Subscription.team_id == team_id, Subscription.active)
                )
            ).all()
            for row in rows:
                row.active, row.deactivated_reason, row.updated_at = False, reason, utcnow()
            return len(rows)

    async def get(self, conversation_id: str) -> SubscriptionView | None:
        async with self._reads() as s:
            row = await s.scalar(select(Subscription).where(Subscription.conversation_id == conversation_id))
            return SubscriptionView.of(row) if row else None

    async def active(self) -> list[SubscriptionView]:
        async with self._reads() as s:
            rows = (
                await s.scalars(select(Subscription).where(Subscription.active).order_by(Subscription.id))
            ).all()
            return [SubscriptionView.of(r) for r in rows]
