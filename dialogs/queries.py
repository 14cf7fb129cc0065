"""A list request as data: what "Show more" buttons carry and what the conversation remembers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

LIST_QUERIES = ("outstanding", "overdue", "due")


@dataclass(frozen=True)
class ListQuery:
    """A list request, serialisable into a "Show more" button and the conversation state."""

    query: str  # outstanding | overdue | due
    report: str | None = None
    kind: str | None = None
    owner: str | None = None
    owner_aad_id: str | None = None
    theme: str | None = None
    before: str | None = None
    after: str | None = None
    label: str | None = None
    status: str | None = None  # statuses, comma-separated ("evidenced", "open,in_progress")
    department: str | None = None  # owners' department, as written on them
    addressee: str | None = None  # "force", "other", or one body ("IOPC")
    peel: str | None = None  # PEEL question 1-9
    mine_name: str | None = None  # the asker's display name, for items whose owner has only a name
    page: int = 0

    def to_data(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every value, and this runs several times a list.
        return {k: v for k in self.__dataclass_fields__ if (v := getattr(self, k)) is not None}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ListQuery:
        """Rebuild from button data or state. Button data comes back from the client, so anything
        of the wrong type or shape is dropped rather than trusted."""
        fields = cls.__dataclass_fields__
        clean: dict[str, Any] = {k: v[:200] for k, v in data.items() if k in fields and isinstance(v, str)}
        try:
            clean["page"] = max(0, min(int(data.get("page", 0) or 0), 10_000))
        except (TypeError, ValueError, OverflowError):
            clean["page"] = 0
        for bound in ("before", "after"):
            try:
                dt.date.fromisoformat(clean.get(bound) or "")
            except ValueError:
                clean.pop(bound, None)
        clean["query"] = clean.get("query") if clean.get("query") in LIST_QUERIES else "outstanding"
        return cls(**clean)

    @property
    def statuses(self) -> frozenset[str]:
        return frozenset(s for s in (self.status or "").split(",") if s)
