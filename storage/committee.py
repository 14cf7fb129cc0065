"""Committee figures as of a day, from the tracker's history (issue 14). Queries only: no wording.

Load the history once (:func:`load_history`: items, reports and the dated audit events), then ask
about any day (:meth:`TrackerHistory.as_of`, :func:`figures`). The definitions, which the paper's
footnote and the README repeat:

- total: items on the tracker (any status, any addressee) whose ``added_on`` <= as-of;
- live: open, in progress or evidenced as of as-of;
- signed off since: items whose ``signed_off_on`` is in (since, as-of];
- added since: items whose ``added_on`` is in (since, as-of];
- for the force: addressed to chief constables, forces or the force itself (the item's
  ``for_force``, derived from its addressee); other bodies: NPCC, IOPC, College of Policing,
  Home Office and the like.

"As of" a past day means what the tracker now records as true on that day, not today's state:
sign-offs count from their date of record (``signed_off_on``, followed through reopenings and
corrections in the audit trail); other status changes, target moves and hand-set RAG count from
the day (in the force's time zone) they were recorded. An item with no history keeps its stored
values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select

from storage.models import ItemEvent, ItemKind, ItemStatus
from storage.store import Store
from storage.views import InspectionView, ItemView, MeetingView, ReportView, as_utc

SIGNED_OFF = ItemStatus.SIGNED_OFF.value
# What a signed-off item with no recorded history was before HMICFRS signed it off.
BEFORE_SIGN_OFF = ItemStatus.EVIDENCED.value
HISTORY_FIELDS = ("status", "signed_off_on", "revised_due_date", "retarget_count", "rag_override")
FORCES = "Police forces"
OTHER_BODIES = "Other bodies"
_BODIES = (
    ("NPCC", re.compile(r"\bnpcc\b|national\s+police\s+chiefs", re.I)),
    ("IOPC", re.compile(r"\biopc\b|independent\s+office\s+for\s+police\s+conduct", re.I)),
    ("College of Policing", re.compile(r"college\s+of\s+policing", re.I)),
    ("Home Office", re.compile(r"home\s+office", re.I)),
    ("Police and crime commissioners", re.compile(r"\bpccs?\b|police\s+and\s+crime\s+commissioner", re.I)),
    ("Government", re.compile(r"\bgovernment\b", re.I)),
)


class Change(NamedTuple):
    """One audit event that bears on an item's dated state (status, sign-off date, target, RAG)."""

    item_id: int
    at: dt.datetime | None
    action: str
    field: str | None
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """A field's value changed from ``old`` to ``new`` on day ``on``."""

    on: dt.date
    old: str | None
    new: str | None


def _value_at(steps: Sequence[Step], current: Any, day: dt.date) -> Any:
    """A field's value (as text) at the end of ``day``: ``current`` when nothing was ever recorded."""
    if not steps:
        return current
    value = steps[0].old
    for s in steps:
        if s.on > day:
            break
        value = s.new
    return value


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ItemHistory:
    """One item and the dated facts needed to say what it was on any day."""

    item: ItemView
    added_on: dt.date | None  # effective: stored, else the report's publication, else the day created
    # Spells signed off: [start, end), start None when the sign-off has no date (older data).
    signoffs: tuple[tuple[dt.date | None, dt.date | None], ...] = ()
    initial_status: str = ItemStatus.OPEN.value  # the working status before the first recorded change
    statuses: tuple[tuple[dt.date, str], ...] = ()  # (day, working status from then), sign-offs aside
    targets: tuple[Step, ...] = ()
    retargets: tuple[Step, ...] = ()
    rags: tuple[Step, ...] = ()

    def on_tracker(self, day: dt.date) -> bool:
        return self.added_on is None or self.added_on <= day

    def signed_off_at(self, day: dt.date) -> tuple[bool, dt.date | None]:
        """(signed off at the end of ``day``, its date of record: None when undated)."""
        for start, end in reversed(self.signoffs):
            if (start is None or start <= day) and (end is None or day < end):
                return True, start
        return False, None

    def at(self, day: dt.date) -> ItemView | None:
        """The item as it stood at the end of ``day`` (None: not yet on the tracker)."""
        if not self.on_tracker(day):
            return None
        signed, when = self.signed_off_at(day)
        status = self.initial_status
        for on, value in self.statuses:
            if on > day:
                break
            status = value
        i = self.item
        count = _value_at(self.retargets, i.retarget_count, day)
        return dataclasses.replace(
            i,
            status=SIGNED_OFF if signed else status,
            signed_off_on=when if signed else None,
            revised_due_date=_date(
                _value_at(self.targets, i.revised_due_date and i.revised_due_date.isoformat(), day)
            ),
            retarget_count=int(count) if str(count or "0").isdigit() else 0,
            rag_override=_value_at(self.rags, i.rag_override, day),
            added_on=self.added_on,
        )


def item_history(
    item: ItemView, report: ReportView | None, changes: Sequence[Change], tz: dt.tzinfo
) -> ItemHistory:
    """Fold one item's audit events (oldest first) into its dated facts."""

    def day(at: dt.datetime | None) -> dt.date:
        moment = as_utc(at) or dt.datetime.min.replace(tzinfo=dt.UTC)
        return moment.astimezone(tz).date() if moment.year > 1 else dt.date.min

    created = as_utc(item.created_at)
    added = (
        item.added_on
        or (report.published if report else None)
        or (created.astimezone(tz).date() if created else None)
    )
    # A sign-off written with its date records a status event and a signed_off_on event at the same
    # moment; the date event says when it counts. A status event on its own (older data) counts the
    # day it was recorded.
    dated = {c.at for c in changes if c.field == "signed_off_on"}
    facts: list[tuple[bool, dt.date | None]] = []  # (set, day): set -> signed off from day; else ended on day
    statuses: list[tuple[dt.date, str]] = []
    initial: str | None = None
    working: str | None = None
    steps: dict[str, list[Step]] = {"revised_due_date": [], "retarget_count": [], "rag_override": []}
    for c in changes:
        if c.action == "refused":
            continue
        if c.field == "signed_off_on":
            signed_on = _date(c.new)
            facts.append((True, signed_on) if signed_on else (False, day(c.at)))
        elif c.field == "status":
            old, new = c.old or "", c.new or ""
            if initial is None:
                initial = old if old and old != SIGNED_OFF else None
            if new == SIGNED_OFF:
                if c.at not in dated:
                    facts.append((True, day(c.at)))
                working = old if old and old != SIGNED_OFF else working
            else:
                if old == SIGNED_OFF and c.at not in dated:
                    facts.append((False, day(c.at)))
                working = new
            if working:
                statuses.append((day(c.at), working))
        elif c.field in steps:
            steps[c.field].append(Step(day(c.at), c.old, c.new))
    spells: list[tuple[dt.date | None, dt.date | None]] = []
    start: dt.date | None = None
    open_spell = False
    for is_set, when in facts:
        if is_set:
            start, open_spell = when, True
        elif open_spell:
            spells.append((start, when))
            open_spell = False
    # Today's row is the truth about today: an edit made without an audit event still counts.
    if item.status == SIGNED_OFF:
        stored_differs = item.signed_off_on is not None and start != item.signed_off_on
        spells.append((item.signed_off_on if not open_spell or stored_differs else start, None))
    if initial is None:
        initial = (
            statuses[0][1] if statuses else (item.status if item.status != SIGNED_OFF else BEFORE_SIGN_OFF)
        )
    return ItemHistory(
        item, added, tuple(spells), initial, tuple(statuses),
        tuple(steps["revised_due_date"]), tuple(steps["retarget_count"]), tuple(steps["rag_override"]),
    )  # fmt: skip


@dataclass(frozen=True)
class TrackerHistory:
    """Every item's dated facts, and the reports they belong to."""

    reports: Mapping[int, ReportView]
    items: tuple[ItemHistory, ...]

    @property
    def first_day(self) -> dt.date | None:
        """The day the first item joined the tracker (None: an empty tracker, or no dates at all)."""
        days = [h.added_on for h in self.items if h.added_on is not None]
        return min(days) if days else None

    def scoped(self, report_id: int | None) -> TrackerHistory:
        """Only one report's items (None: all)."""
        if report_id is None:
            return self
        return TrackerHistory(self.reports, tuple(h for h in self.items if h.item.report_id == report_id))

    def as_of(self, day: dt.date) -> list[ItemView]:
        """Every item on the tracker at the end of ``day``, as it stood then."""
        out = []
        for h in self.items:
            state = h.at(day)
            if state is not None:
                out.append(state)
        return out

    def signed_off_between(self, since: dt.date | None, until: dt.date) -> list[ItemView]:
        """Items signed off (by date of record) in (since, until] and still signed off at ``until``."""
        return [
            i for i in self.as_of(until)
            if i.signed_off_on is not None and (since is None or i.signed_off_on > since) and i.signed_off_on <= until
        ]  # fmt: skip

    def added_between(self, since: dt.date | None, until: dt.date) -> list[ItemView]:
        """Items whose ``added_on`` is in (since, until], as they stood at ``until``."""
        return [
            i for i in self.as_of(until) if since is None or (i.added_on is not None and i.added_on > since)
        ]


def build_history(
    items: Iterable[ItemView], reports: Iterable[ReportView], changes: Iterable[Change], tz: dt.tzinfo
) -> TrackerHistory:
    """The history from plain values (what :func:`load_history` reads; tests and benchmarks build it too)."""
    by_item: dict[int, list[Change]] = {}
    for c in changes:
        by_item.setdefault(c.item_id, []).append(c)
    report_map = {r.id: r for r in reports}
    hist = tuple(item_history(i, report_map.get(i.report_id), by_item.get(i.id, ()), tz) for i in items)
    return TrackerHistory(report_map, hist)


async def load_history(store: Store, tz: dt.tzinfo) -> TrackerHistory:
    """Read items, reports and the events that date their state (one snapshot, one event query)."""
    snap = await store.snapshot()
    q = (
        select(ItemEvent.item_id, ItemEvent.at, ItemEvent.action, ItemEvent.field, ItemEvent.old_value, ItemEvent.new_value)
        .where(ItemEvent.field.in_(HISTORY_FIELDS), ItemEvent.action != "refused")
        .order_by(ItemEvent.id)
    )  # fmt: skip
    async with store.read_sessions() as s:
        rows = (await s.execute(q)).all()
    return build_history(snap.items, snap.reports, (Change(*r) for r in rows), tz)


# ---- figures ------------------------------------------------------------------------------------


def addressee_group(item: ItemView) -> str:
    """Who an item is for, as the paper groups it: police forces, or the named other bodies."""
    if item.for_force:
        return FORCES
    names = [name for name, pattern in _BODIES if pattern.search(item.addressee or "")]
    return " and ".join(names) if names else OTHER_BODIES


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """One report's line in the figures."""

    report: ReportView
    signed_off_since: int
    added_since: int
    live: int


@dataclass(frozen=True)
class Figures:
    """What the committee is told, as of ``as_of``, counting changes since ``since`` (exclusive)."""

    as_of: dt.date
    since: dt.date | None
    items: tuple[ItemView, ...]  # on the tracker at as_of, as they stood then
    signed_off: tuple[ItemView, ...]
    added: tuple[ItemView, ...]
    by_report: tuple[ReportFigures, ...]
    reports: Mapping[int, ReportView]
    meeting: MeetingView | None = None  # the meeting ``since`` is the date of, if any
    inspections: tuple[InspectionView, ...] = ()
    scope: ReportView | None = None  # one report only

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def live(self) -> int:
        return sum(1 for i in self.items if i.live)

    @property
    def signed_off_since(self) -> int:
        return len(self.signed_off)

    def added_of(self, kind: str, for_force: bool | None = None) -> int:
        return sum(
            1 for i in self.added if i.kind == kind and (for_force is None or i.for_force == for_force)
        )

    @property
    def added_recommendations(self) -> int:
        return self.added_of(ItemKind.RECOMMENDATION)

    @property
    def added_afis(self) -> int:
        return self.added_of(ItemKind.AFI)

    @property
    def added_recommendations_for_force(self) -> int:
        return self.added_of(ItemKind.RECOMMENDATION, True)

    @property
    def added_recommendations_other_bodies(self) -> int:
        return self.added_of(ItemKind.RECOMMENDATION, False)

    def added_by_kind(self) -> Counter[str]:
        return Counter(i.kind for i in self.added)

    def added_by_addressee(self) -> list[tuple[str, int]]:
        """(group, count), police forces first, then the other bodies by count."""
        counts = Counter(addressee_group(i) for i in self.added)
        return sorted(counts.items(), key=lambda kv: (kv[0] != FORCES, -kv[1], kv[0]))

    def added_completed(self) -> list[ItemView]:
        """Added in the period and already signed off by as-of ("WMP have already completed six")."""
        return [i for i in self.added if i.status == SIGNED_OFF]

    def open_items(self) -> list[ItemView]:
        """Live items by report, then number."""
        return sorted((i for i in self.items if i.live), key=self._order)

    def overdue(self) -> list[ItemView]:
        """Past their target date as of as-of, most overdue first."""
        late = [i for i in self.items if i.overdue(self.as_of)]
        return sorted(late, key=lambda i: (i.target_date or self.as_of, *self._order(i)))

    def retargeted(self, more_than: int = 1) -> list[ItemView]:
        """Live items whose target moved more than ``more_than`` times."""
        return sorted((i for i in self.items if i.retarget_count > more_than and i.live), key=self._order)

    def rag_counts(self) -> Counter[str]:
        return Counter(r for i in self.items if i.live and (r := i.rag(self.as_of)) is not None)

    def themes(self, limit: int = 12) -> list[tuple[str, int]]:
        """Themes of the items added in the period (else of the live items), most common first."""
        pool = self.added or tuple(i for i in self.items if i.live)
        counts = Counter(t for i in pool for t in i.themes)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def by_report_of(self, items: Iterable[ItemView]) -> list[tuple[ReportView, list[ItemView]]]:
        """``items`` grouped by report (reports in title order, items by number)."""
        groups: dict[int, list[ItemView]] = {}
        for i in sorted(items, key=self._order):
            groups.setdefault(i.report_id, []).append(i)
        return [(self.reports[rid], rows) for rid, rows in groups.items() if rid in self.reports]

    def _order(self, i: ItemView) -> tuple[str, str, int, str, int]:
        report = self.reports.get(i.report_id)
        number = i.number or ""
        lead = re.match(r"\d+", number)
        return (
            report.title.lower() if report else "",
            i.kind,
            int(lead.group()) if lead else 10**6,
            number,
            i.id,
        )

    def to_json(self) -> dict[str, Any]:
        """Exactly the keys the issue names (``report`` is the report's key)."""
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "total": self.total,
            "live": self.live,
            "signed_off_since": self.signed_off_since,
            "added_recommendations": self.added_recommendations,
            "added_afis": self.added_afis,
            "added_recommendations_for_force": self.added_recommendations_for_force,
            "added_recommendations_other_bodies": self.added_recommendations_other_bodies,
            "by_report": [
                {"report": r.report.key, "signed_off_since": r.signed_off_since, "added_since": r.added_since, "live": r.live}
                for r in self.by_report
            ],
        }  # fmt: skip


def figures(
    history: TrackerHistory,
    as_of: dt.date,
    since: dt.date | None,
    *,
    meeting: MeetingView | None = None,
    inspections: Sequence[InspectionView] = (),
    scope: ReportView | None = None,
) -> Figures:
    """The figures as of ``as_of``, counting sign-offs and additions in (since, as_of]."""
    hist = history.scoped(scope.id if scope else None)
    items = hist.as_of(as_of)
    signed = [i for i in items if i.signed_off_on is not None and (since is None or i.signed_off_on > since)]
    added = [i for i in items if since is None or (i.added_on is not None and i.added_on > since)]
    per: dict[int, Counter[str]] = {}
    for i in items:
        c = per.setdefault(i.report_id, Counter())
        c["live"] += i.live
    for i in signed:
        per[i.report_id]["signed"] += 1
    for i in added:
        per[i.report_id]["added"] += 1
    rows = [
        ReportFigures(history.reports[rid], c["signed"], c["added"], c["live"])
        for rid, c in per.items() if rid in history.reports
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r.signed_off_since, -r.added_since, -r.live, r.report.title.lower()))
    fig = Figures(
        as_of, since, tuple(items), (), (), tuple(rows), history.reports, meeting, tuple(inspections), scope
    )
    return dataclasses.replace(
        fig, signed_off=tuple(sorted(signed, key=fig._order)), added=tuple(sorted(added, key=fig._order))
    )


def closed_between(history: TrackerHistory, since: dt.date | None, until: dt.date) -> list[ItemView]:
    """Items closed in (since, until]: signed off then (by date of record), or superseded then (by the
    day it was recorded), and still closed at ``until``."""
    before = {i.id: i for i in history.as_of(since)} if since else {}
    out = []
    for i in history.as_of(until):
        if i.status == SIGNED_OFF:
            if i.signed_off_on is not None and (since is None or i.signed_off_on > since):
                out.append(i)
        elif i.status == ItemStatus.SUPERSEDED.value:
            was = before.get(i.id)
            if was is None or was.status != i.status:
                out.append(i)
    return out
