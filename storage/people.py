"""People the bot knows by their Teams identity (issue 15): where their 1:1 chat with the bot is,
and whether they want owner reminders. Linked when they install the app personally or talk to the
bot in personal chat; the reminder choice records who made it and when."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.fastpath import PersonLink
from storage.models import Person, utcnow
from storage.store import Store
from storage.views import as_utc


@dataclass(frozen=True, slots=True)
class PersonView:
    id: int
    aad_id: str
    name: str
    conversation_id: str | None
    service_url: str | None
    tenant_id: str | None
    channel_id: str
    reference: dict[str, Any] | None
    remind: bool | None  # None: the default the admins set
    remind_changed_at: dt.datetime | None

    @property
    def reachable(self) -> bool:
        """Do we know their personal chat (so a reminder can reach them)?"""
        return bool(self.conversation_id and self.service_url and self.reference)

    def wants(self, default: bool) -> bool:
        return default if self.remind is None else self.remind

    @classmethod
    def of(cls, p: Person) -> PersonView:
        return cls(p.id, p.aad_id, p.name, p.conversation_id, p.service_url, p.tenant_id, p.channel_id or "msteams",
                   dict(p.reference) if p.reference else None, p.remind, as_utc(p.remind_changed_at))  # fmt: skip


class People:
    """Link people to their personal chat and record their reminder choice."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sessions = store.sessions
        self._reads = store.read_sessions

    async def _upsert(self, aad_id: str, name: str, **values: Any) -> PersonView:
        await self._store.flush_links()  # "remind me" in a chat links it first: that link is in the row
        key = aad_id.strip().lower()
        for _attempt in range(2):  # a first link on two instances at once: the second updates
            try:
                async with self._sessions() as s, s.begin():
                    row = await s.scalar(select(Person).where(Person.aad_id == key))
                    if row is None:
                        row = Person(aad_id=key, name=name[:200], channel_id="msteams")
                        s.add(row)
                    row.name = (name or row.name)[:200]
                    for field, value in values.items():
                        setattr(row, field, value)
                    row.updated_at = utcnow()
                    await s.flush()
                    return PersonView.of(row)
            except IntegrityError:
                continue
        raise RuntimeError("could not store the person")

    async def link(self, aad_id: str, name: str, *, conversation_id: str, service_url: str,
                   reference: dict[str, Any], tenant_id: str | None, channel_id: str = "msteams") -> None:  # fmt: skip
        """Remember where ``aad_id``'s personal chat with the bot is (the reminder choice is kept)."""
        self._store.link_person_soon(PersonLink(
            aad_id.strip().lower(), name[:200], conversation_id, service_url,
            json.dumps(reference, separators=(",", ":")), tenant_id, channel_id or "msteams",
        ))  # fmt: skip

    async def set_remind(self, aad_id: str, name: str, remind: bool | None, *, by: str) -> PersonView:
        """Record the reminder choice (None: back to the default), and who made it."""
        return await self._upsert(
            aad_id, name, remind=remind, remind_changed_by=by[:200], remind_changed_at=utcnow()
        )

    async def get(self, aad_id: str) -> PersonView | None:
        await self._store.flush_links()  # links asked for a moment ago are part of the answer
        async with self._reads() as s:
            row = await s.scalar(select(Person).where(Person.aad_id == aad_id.strip().lower()))
            return PersonView.of(row) if row else None

    async def all(self) -> list[PersonView]:
        await self._store.flush_links()
        async with self._reads() as s:
            return [PersonView.of(r) for r in (await s.scalars(select(Person).order_by(Person.id))).all()]
