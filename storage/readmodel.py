"""An in-memory read model of reports and items, kept in step with the store.

Every message reads report names, the item index and counts; holding them in memory makes that
cost microseconds instead of a database round trip. The store stays the single source of truth:
writes go to the database, then :meth:`ReadModel.apply` folds the changed item back in, and
:meth:`ReadModel.refresh` picks up other instances' writes through the store-wide change counter.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from storage.store import Store
from storage.views import ItemView, ReportView, Snapshot

log = logging.getLogger(__name__)

Listener = Callable[["ReadModel", Iterable[ItemView], bool], None]
T = TypeVar("T")
MEMO_SIZE = 256
KEPT_LISTS = 256  # sorted lists kept current across writes (each write patches every one)
KEPT_ENTRIES = 1_000_000  # and at most this many items in them all (8 bytes each)
KEPT_TALLIES = 64  # counts kept current the same way (the summary's, per report and day)
KEPT_VALUES = 64  # values keyed by all they are built from (list pages' cards, ~40 KB each)


class _KeptList:
    """A sorted list of the items a predicate selects, patched item by item as items change.

    Rebuilding a list means scanning every item (~10 ms at 10,000); a write changes one item, so
    moving that one item in or out (a bisection and a list insert) keeps the list current instead.
    ``order`` must be unique per item (it ends with the item's id). The sort keys are not kept:
    a bisection computes the few it needs, so a kept list costs one pointer per item."""

    __slots__ = ("items", "order", "scope", "select")

    def __init__(self, select: Callable[[ItemView], bool], order: Callable[[ItemView], Any],
                 pool: Iterable[ItemView], scope: int | None = None) -> None:  # fmt: skip
        self.select, self.order, self.scope = select, order, scope
        self.items = sorted((i for i in pool if select(i)), key=order)

    def patch(self, old: ItemView | None, new: ItemView) -> int:
        """Move ``old`` out and ``new`` in; how many items the list gained (-1, 0 or 1)."""
        gained = 0
        if old is not None and self.select(old):
            at = bisect.bisect_left(self.items, self.order(old), key=self.order)
            if at < len(self.items) and self.items[at].id == old.id:
                del self.items[at]
                gained -= 1
        if self.select(new):
            bisect.insort_left(self.items, new, key=self.order)
            gained += 1
        return gained


class _KeptTally:
    """Counts over the items, patched as items change: ``count(item)`` names what one item adds."""

    __slots__ = ("count", "counts", "scope")

    def __init__(
        self,
        count: Callable[[ItemView], Iterable[Hashable]],
        pool: Iterable[ItemView],
        scope: int | None = None,
    ) -> None:
        self.count, self.scope = count, scope
        self.counts: Counter[Hashable] = Counter()
        for item in pool:
            self.counts.update(count(item))

    def patch(self, old: ItemView | None, new: ItemView) -> None:
        if old is not None:
            self.counts.subtract(self.count(old))
        self.counts.update(self.count(new))


def _lru(cache: OrderedDict[Hashable, Any], key: Hashable, build: Callable[[], T], size: int) -> T:
    """``cache[key]``, built by ``build()`` when missing; beyond ``size`` the least recently used goes."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = build()
    if len(cache) > size:
        cache.popitem(last=False)
    return value


K = TypeVar("K", _KeptList, _KeptTally)


class _Scopes(dict[int | None, dict[Hashable, K]]):
    """Kept lists or tallies by the report their items all belong to (None: any report), so a
    change patches only those that can hold the item: 256 lists at ~4 µs a patch each made a
    confirmed write cost a millisecond, when the change was in one report of twenty."""

    def add(self, key: Hashable, kept: K) -> None:
        self.setdefault(kept.scope, {})[key] = kept

    def drop(self, key: Hashable, kept: K) -> None:
        self.get(kept.scope, {}).pop(key, None)

    def touching(self, old: ItemView | None, new: ItemView) -> list[K]:
        """Every kept thing ``old`` or ``new`` can be in."""
        scopes = {None, new.report_id} if old is None else {None, new.report_id, old.report_id}
        return [kept for scope in scopes for kept in self.get(scope, {}).values()]


class ReadModel:
    """Reports and items by id, with listeners told about every change (e.g. the search index)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.seq = -1
        self.reports: dict[int, ReportView] = {}
        self.reports_by_key: dict[str, ReportView] = {}
        self.items: dict[int, ItemView] = {}
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self.generation = 0  # bumps on every change, so derived caches know when to rebuild
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_generation = 0
        self._kept: OrderedDict[Hashable, _KeptList] = OrderedDict()
        self._kept_entries = 0  # items in the kept lists
        self._tallies: OrderedDict[Hashable, _KeptTally] = OrderedDict()
        self._kept_scopes: _Scopes[_KeptList] = _Scopes()
        self._tally_scopes: _Scopes[_KeptTally] = _Scopes()
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._by_report: dict[int, dict[int, ItemView]] | None = None
        self._by_owner: dict[str, dict[int, ItemView]] | None = None  # owner name as written
        self._by_theme: dict[str, dict[int, ItemView]] | None = None  # theme as written
        self._by_aad: dict[str, dict[int, ItemView]] | None = None  # owner's Entra id, lower case

    def subscribe(self, listener: Listener) -> None:
        """``listener(model, changed_items, full)`` runs after each load or change."""
        self._listeners.append(listener)

    async def load(self) -> None:
        """Load everything (start-up)."""
        async with self._lock:
            self._install(await self._store.snapshot())

    async def refresh(self) -> bool:
        """Fold in changes made elsewhere since our last look. True if anything changed."""
        seq = await self._store.current_seq()
        if seq == self.seq:
            return False
        async with self._lock:
            if seq == self.seq:
                return False
            self._install(await self._store.snapshot(since_seq=self.seq))
            return True

    def apply(self, item: ItemView, seq: int | None = None) -> None:
        """Fold in one item we just wrote ourselves (no round trip). ``seq``, the change counter
        our write took: when it is the next after ours, nothing was written between, so the next
        :meth:`refresh` need not read our own write back (nor rebuild what hangs on the reports)."""
        if seq is not None and seq == self.seq + 1:
            self.seq = seq
        current = self.items.get(item.id)
        if current is not None and current.version > item.version:
            return  # an older view arriving late must not undo a newer one
        self.items[item.id] = item
        self._patch(current, item)
        self.generation += 1
        for listener in self._listeners:
            listener(self, (item,), False)

    def _install(self, snap: Snapshot) -> None:
        # The same dicts while the reports stand: caches keyed by them (list cards, the language
        # index's report names) then outlive a refresh that brought only item changes.
        if snap.full or tuple(self.reports.values()) != snap.reports:
            self.reports = {r.id: r for r in snap.reports}
            self.reports_by_key = {r.key: r for r in snap.reports}
        if snap.full:
            self.items = {i.id: i for i in snap.items}
            self._kept.clear()
            self._kept_entries = 0
            self._tallies.clear()
            self._kept_scopes.clear()
            self._tally_scopes.clear()
            self._by_report = self._by_owner = self._by_theme = self._by_aad = None
        else:
            for i in snap.items:
                old = self.items.get(i.id)
                if old is not None and old.version > i.version:
                    continue  # read before a write of ours that has been applied since
                self.items[i.id] = i
                self._patch(old, i)
        self.seq = snap.seq if snap.full else max(self.seq, snap.seq)
        self.generation += 1
        for listener in self._listeners:
            listener(self, snap.items, snap.full)
        log.debug("read model at seq %s: %d reports, %d items", snap.seq, len(self.reports), len(self.items))

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value derived from the items (a sorted list, counts), built once per generation.

        Lists and counts scan every item; with 10,000 items that is ~10 ms a message. Items change
        only on writes, so each distinct question is answered from the scan once per change."""
        if self._memo_generation != self.generation:
            self._memo.clear()
            self._memo_generation = self.generation
        return _lru(self._memo, key, build, MEMO_SIZE)

    def keep(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value built from exactly what ``key`` names, kept across writes (least recently used
        first out). Unlike :meth:`memo`, a write elsewhere does not throw it away: a list page whose
        items did not change is the same card. ``key`` must name every input of ``build``; where it
        names objects by ``id()``, the value must hold those objects, so no id is reused meanwhile."""
        return _lru(self._values, key, build, KEPT_VALUES)

    def kept_list(
        self,
        key: Hashable,
        select: Callable[[ItemView], bool],
        order: Callable[[ItemView], Any],
        pool: Callable[[], Iterable[ItemView] | None] | None = None,
        scope: int | None = None,
    ) -> list[ItemView]:
        """The items ``select`` picks, sorted by ``order`` (unique per item), kept current across
        changes by patching rather than rebuilt (see :class:`_KeptList`). ``pool()``: where to look
        when building it (every item ``select`` can pick must be in it; None: every item), called
        only then. ``scope``: the report every item ``select`` can pick is in, when there is one
        (changes elsewhere then skip this list). Read the list, don't modify it."""
        kept = self._kept.get(key)
        if kept is None:
            where = pool() if pool is not None else None
            kept = _KeptList(select, order, self.items.values() if where is None else where, scope)
            self._kept[key] = kept
            self._kept_scopes.add(key, kept)
            self._kept_entries += len(kept.items)
            while len(self._kept) > 1 and (len(self._kept) > KEPT_LISTS or self._kept_entries > KEPT_ENTRIES):
                gone_key, gone = self._kept.popitem(last=False)
                self._kept_scopes.drop(gone_key, gone)
                self._kept_entries -= len(gone.items)
        else:
            self._kept.move_to_end(key)
        return kept.items

    def kept_tally(
        self,
        key: Hashable,
        count: Callable[[ItemView], Iterable[Hashable]],
        pool: Iterable[ItemView] | None = None,
        scope: int | None = None,
    ) -> Counter[Hashable]:
        """Counts over the items (``count(item)``: the keys one item adds one to), kept current across
        changes like :meth:`kept_list`. ``pool``: every item that counts must be in it (``count``
        must still give nothing for the others: patches pass it items from anywhere); ``scope``:
        the report they are all in, if one. Keys whose count went back to 0 stay, at 0. Read it,
        don't modify it."""
        tally = self._tallies.get(key)
        if tally is None:
            tally = _KeptTally(count, self.items.values() if pool is None else pool, scope)
            self._tallies[key] = tally
            self._tally_scopes.add(key, tally)
            if len(self._tallies) > KEPT_TALLIES:
                self._tally_scopes.drop(*self._tallies.popitem(last=False))
        else:
            self._tallies.move_to_end(key)
        return tally.counts

    def _patch(self, old: ItemView | None, new: ItemView) -> None:
        for tally in self._tally_scopes.touching(old, new):
            tally.patch(old, new)
        for kept in self._kept_scopes.touching(old, new):
            self._kept_entries += kept.patch(old, new)
        if self._by_report is not None:
            if old is not None and old.report_id != new.report_id:
                self._by_report.get(old.report_id, {}).pop(old.id, None)
            self._by_report.setdefault(new.report_id, {})[new.id] = new
        if self._by_owner is not None:
            if old is not None:
                self._by_owner.get(old.owner_name or "", {}).pop(old.id, None)
            self._by_owner.setdefault(new.owner_name or "", {})[new.id] = new
        if self._by_aad is not None:
            if old is not None and old.owner_aad_id:
                self._by_aad.get(old.owner_aad_id.lower(), {}).pop(old.id, None)
            if new.owner_aad_id:
                self._by_aad.setdefault(new.owner_aad_id.lower(), {})[new.id] = new
        if self._by_theme is not None:
            for theme in old.themes if old is not None else ():
                self._by_theme.get(theme, {}).pop(old.id, None)  # type: ignore[union-attr]
            for theme in new.themes:
                self._by_theme.setdefault(theme, {})[new.id] = new

    def owner_names(self) -> list[str]:
        """Every owner name as written on items ("" for none): few, next to the items."""
        return list(self._owners_index())

    def items_owned_by(self, names: Iterable[str]) -> list[ItemView]:
        """The items whose owner name (as written) is one of ``names``."""
        index = self._owners_index()
        return [item for name in names for item in index.get(name, {}).values()]

    def items_linked_to(self, aad_id: str) -> list[ItemView]:
        """The items whose owner is linked to this Entra id (any case)."""
        return list(self._aad_index().get(aad_id.lower(), {}).values())

    def themes(self) -> list[str]:
        """Every theme as written on items."""
        return list(self._themes_index())

    def items_with_themes(self, themes: Iterable[str]) -> list[ItemView]:
        """The items carrying any of ``themes`` (each once)."""
        index = self._themes_index()
        found: dict[int, ItemView] = {}
        for theme in themes:
            found.update(index.get(theme, {}))
        return list(found.values())

    def _owners_index(self) -> dict[str, dict[int, ItemView]]:
        if self._by_owner is None:
            index: dict[str, dict[int, ItemView]] = {}
            for item in self.items.values():
                index.setdefault(item.owner_name or "", {})[item.id] = item
            self._by_owner = index
        return self._by_owner

    def _themes_index(self) -> dict[str, dict[int, ItemView]]:
        if self._by_theme is None:
            index: dict[str, dict[int, ItemView]] = {}
            for item in self.items.values():
                for theme in item.themes:
                    index.setdefault(theme, {})[item.id] = item
            self._by_theme = index
        return self._by_theme

    def items_of_report(self, report_id: int) -> list[ItemView]:
        """The items of one report (from an index kept current across changes, not a scan)."""
        return list(self._reports_index().get(report_id, {}).values())

    def warm(self) -> None:
        """Build the indexes by report, owner, Entra id and theme now (start-up), not on the first
        question that needs each: at 100,000 items each is a scan of ~5-10 ms."""
        self._reports_index()
        self._owners_index()
        self._aad_index()
        self._themes_index()

    def _reports_index(self) -> dict[int, dict[int, ItemView]]:
        if self._by_report is None:
            index: dict[int, dict[int, ItemView]] = {}
            for item in self.items.values():
                index.setdefault(item.report_id, {})[item.id] = item
            self._by_report = index
        return self._by_report

    def _aad_index(self) -> dict[str, dict[int, ItemView]]:
        if self._by_aad is None:
            index: dict[str, dict[int, ItemView]] = {}
            for item in self.items.values():
                if item.owner_aad_id:
                    index.setdefault(item.owner_aad_id.lower(), {})[item.id] = item
            self._by_aad = index
        return self._by_aad
