"""The committee's questions, typed: what is asked, over which days, in which scope.

The language layer (issue 12) turns "how many have been signed off since the last JAC?" into a
:class:`CommitteeQuestion`; :func:`dialogs.committee.answers.answer` answers it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass

from storage.deadlines import add_months
from storage.store import DEFAULT_COMMITTEE


class Ask(enum.StrEnum):
    """What the question wants."""

    SIGNED_OFF = "signed_off"  # "how many have been signed off since the last JAC?"
    ADDED = "added"  # "what's been added since the last JAC?"
    BY_ADDRESSEE = "by_addressee"  # "how many are for us and how many for the IOPC or NPCC?"
    RETARGETED = "retargeted"  # "how many re-targeted more than once?"
    CLOSED = "closed"  # "what did we close in November?"
    FIGURES = "figures"  # "the JAC figures": the paper's counts


@dataclass(frozen=True)
class CommitteeQuestion:
    """A committee question. The period is (since, until]: ``since`` exclusive, ``until`` inclusive.

    ``since_last_meeting``: ``since`` is the latest meeting of ``committee`` strictly before
    ``until``. Neither that nor ``since``: since the tracker began. ``until`` None: today.
    ``label`` says the period in the asker's words ("in the last 3 months") when the parser has them.
    """

    ask: Ask
    since: dt.date | None = None
    until: dt.date | None = None
    since_last_meeting: bool = False
    committee: str = DEFAULT_COMMITTEE
    report_key: str | None = None  # one report only
    more_than: int = 1  # RETARGETED: moved more than this many times
    label: str | None = None

    @classmethod
    def since_last(
        cls,
        ask: Ask,
        committee: str = DEFAULT_COMMITTEE,
        *,
        until: dt.date | None = None,
        report_key: str | None = None,
    ) -> CommitteeQuestion:
        """... since the last JAC."""
        return cls(ask, until=until, since_last_meeting=True, committee=committee, report_key=report_key)

    @classmethod
    def last_months(
        cls, ask: Ask, months: int, today: dt.date, *, report_key: str | None = None
    ) -> CommitteeQuestion:
        """... in the last N months: (today - N months, today]."""
        label = f"in the last {months} month{'s' if months != 1 else ''}"
        return cls(ask, since=add_months(today, -months), until=today, report_key=report_key, label=label)

    @classmethod
    def in_month(cls, ask: Ask, year: int, month: int, *, report_key: str | None = None) -> CommitteeQuestion:
        """... in November 2022: the whole calendar month."""
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        since = first - dt.timedelta(days=1)
        return cls(ask, since=since, until=last, report_key=report_key, label=f"in {first:%B %Y}")
