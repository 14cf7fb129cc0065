"""What a conversation remembers between turns, as typed data with a versioned JSON form.

:class:`Memory` is one conversation's state: the question each person has pending (per person, so
two people answering in one channel never overwrite each other), the report and item last talked
about, and the next page of the last list. Dialogs never change it: they return a
:class:`StateChange`, which the edge applies with :meth:`Memory.apply` and saves.

The JSON form carries a version (``"v"``). A row written by an older version of the bot is read
as well as it can be (fields it lacks take their defaults); one from a newer version, or one that
cannot be read, is not trusted: the conversation starts afresh rather than acting on a misread
question.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from dialogs.language.intents import Intent
from dialogs.queries import ListQuery

log = logging.getLogger(__name__)

VERSION: Final = 1
PENDING_TTL: Final = dt.timedelta(minutes=30)  # how long a question stays open


class Stage(enum.StrEnum):
    """What a pending question is waiting for."""

    CHOOSE = "choose"  # which item (or report) of several
    CONFIRM = "confirm"  # yes or no to a proposed write
    NEED_TEXT = "need_text"  # the evidence or update text
    NEED_OWNER = "need_owner"  # who should own the item


@dataclass(frozen=True)
class Pending:
    """A question the bot asked one person, and what it will do with the answer."""

    stage: Stage
    intent: Intent
    user: str  # the person asked (their user key)
    expires: dt.datetime
    token: str = ""  # ties a button press to this exact question
    item_id: int | None = None
    version: int | None = None  # the item version the proposal was made against
    origin_activity: str | None = None  # the message that asked for the write (audit)
    evidence: str | None = None
    links: tuple[str, ...] = ()
    owner: str | None = None
    owner_aad_id: str | None = None
    target: dt.date | None = None  # a re-target's new date
    met_on: dt.date | None = None  # a committee meeting being recorded, and its committee
    committee: str | None = None
    options: tuple[int, ...] = ()  # item ids offered (CHOOSE)
    reports: tuple[str, ...] = ()  # report keys offered (CHOOSE)
    query: ListQuery | None = None  # the list to run once a report is chosen
    more: tuple[tuple[int, int], ...] = ()  # further (item id, version) pairs of a write on several items
    prompt: str = ""  # the question as asked, to remind the person it is still open

    def expired(self, now: dt.datetime) -> bool:
        return self.expires < now

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stage": self.stage.value, "intent": self.intent.value, "user": self.user,
            "expires": self.expires.isoformat(),
        }  # fmt: skip
        for name in ("token", "item_id", "version", "origin_activity", "evidence", "owner", "owner_aad_id"):
            if (value := getattr(self, name)) not in (None, ""):
                out[name] = value
        for name in ("target", "met_on"):
            if (day := getattr(self, name)) is not None:
                out[name] = day.isoformat()
        if self.committee:
            out["committee"] = self.committee
        for name in ("links", "options", "reports"):
            if value := getattr(self, name):
                out[name] = list(value)
        if self.query is not None:
            out["query"] = self.query.to_data()
        if self.more:
            out["more"] = [list(pair) for pair in self.more]
        if self.prompt:
            out["prompt"] = self.prompt[:300]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pending:
        """Raises (KeyError, ValueError, TypeError) on a row that does not describe a question."""
        query = data.get("query")
        return cls(
            stage=Stage(data["stage"]), intent=Intent(data["intent"]), user=str(data["user"]),
            expires=_aware(dt.datetime.fromisoformat(data["expires"])), token=str(data.get("token") or ""),
            item_id=_opt_int(data.get("item_id")), version=_opt_int(data.get("version")),
            origin_activity=data.get("origin_activity"), evidence=data.get("evidence"),
            links=tuple(str(x) for x in data.get("links") or ()), owner=data.get("owner"),
            owner_aad_id=data.get("owner_aad_id"),
            target=dt.date.fromisoformat(data["target"]) if data.get("target") else None,
            met_on=dt.date.fromisoformat(data["met_on"]) if data.get("met_on") else None,
            committee=data.get("committee"),
            options=tuple(int(x) for x in data.get("options") or ()),
            reports=tuple(str(x) for x in data.get("reports") or ()),
            query=ListQuery.from_data(query) if isinstance(query, dict) else None,
            more=tuple((int(a), int(b)) for a, b in data.get("more") or ()), prompt=str(data.get("prompt") or ""),
        )  # fmt: skip


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""In a :class:`StateChange`: leave this part of the memory as it is (None means forget it)."""


@dataclass(frozen=True)
class StateChange:
    """What a turn wants remembered. UNSET leaves a field alone; None forgets it."""

    pending: Pending | _Unset | None = UNSET  # the speaker's pending question
    last_report: str | _Unset | None = UNSET
    last_item: int | _Unset | None = UNSET
    last_list: ListQuery | _Unset | None = UNSET
    welcomed: bool | _Unset = UNSET
    last_shown: tuple[int, ...] | _Unset = UNSET
    last_query: str | _Unset | None = UNSET

    def merged(self, later: StateChange) -> StateChange:
        """This change, then ``later`` on top of it."""
        given = {f.name: v for f in dataclasses.fields(later) if (v := getattr(later, f.name)) is not UNSET}
        return dataclasses.replace(self, **given)

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is UNSET for f in dataclasses.fields(self))


@dataclass(frozen=True)
class Memory:
    """One conversation's state."""

    pending: Mapping[str, Pending] = field(default_factory=lambda: MappingProxyType({}))  # by user key
    last_report: str | None = None
    last_item: int | None = None
    last_list: ListQuery | None = None  # the next page of the last list ("more")
    welcomed: bool = False
    last_shown: tuple[int, ...] = ()  # the items of the last list or choice shown ("the second one")
    last_query: str | None = None  # the last list's question ("and for PEEL?" asks it again)

    def pending_for(self, user_key: str, now: dt.datetime) -> Pending | None:
        """The question this person has open (None if none, or it expired)."""
        p = self.pending.get(user_key)
        return p if p is not None and not p.expired(now) else None

    def apply(self, change: StateChange | None, user_key: str) -> Memory:
        """The memory after ``change``, made by ``user_key`` (whose pending question it sets)."""
        if change is None or change.empty:
            return self
        updates: dict[str, Any] = {}
        if change.pending is not UNSET:
            slots = dict(self.pending)
            if change.pending is None:
                slots.pop(user_key, None)
            else:
                slots[user_key] = change.pending
            updates["pending"] = MappingProxyType(slots)
        for name in ("last_report", "last_item", "last_list", "welcomed", "last_shown", "last_query"):
            value = getattr(change, name)
            if value is not UNSET:
                updates[name] = value
        return dataclasses.replace(self, **updates)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": VERSION}
        if self.pending:
            out["pending"] = {k: p.to_json() for k, p in self.pending.items()}
        if self.last_report is not None:
            out["last_report"] = self.last_report
        if self.last_item is not None:
            out["last_item"] = self.last_item
        if self.last_list is not None:
            out["last_list"] = self.last_list.to_data()
        if self.welcomed:
            out["welcomed"] = True
        if self.last_shown:
            out["last_shown"] = list(self.last_shown)
        if self.last_query:
            out["last_query"] = self.last_query
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Memory:
        """Read a stored state (any version this bot knows); anything unreadable is left out."""
        if not data:
            return cls()
        version = data.get("v", 0)  # rows from before versioning carried no "v"
        if not isinstance(version, int) or version > VERSION:
            log.warning("conversation state version %r is not one this bot reads: starting afresh", version)
            return cls()
        pending: dict[str, Pending] = {}
        raw = data.get("pending")
        for key, value in raw.items() if isinstance(raw, dict) else ():
            try:
                pending[str(key)] = Pending.from_json(value)
            except (KeyError, ValueError, TypeError, AttributeError):
                log.info("an unreadable pending question was dropped")
        last_list = data.get("last_list")
        return cls(
            pending=MappingProxyType(pending),
            last_report=data.get("last_report") if isinstance(data.get("last_report"), str) else None,
            last_item=_opt_int(data.get("last_item")),
            last_list=ListQuery.from_data(last_list) if isinstance(last_list, dict) else None,
            welcomed=bool(data.get("welcomed")),
            last_shown=tuple(i for x in data.get("last_shown") or () if (i := _opt_int(x)) is not None)[:20],
            last_query=data.get("last_query") if isinstance(data.get("last_query"), str) else None,
        )


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
