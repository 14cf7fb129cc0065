"""Lists kept current across changes equal a fresh scan, change after change (the read model is in
memory only here: the store is not involved in patching)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from storage.readmodel import ReadModel
from storage.views import ItemView, ReportView, Snapshot

TODAY = dt.date(2026, 12, 2)
STATUSES = ("open", "in_progress", "evidenced", "signed_off", "not_for_us")
OWNERS = ("DCI Sarah Khan (PSD)", "DI Naomi Clarke (Public Protection)", None)
THEMES = ((), ("fraud",), ("fraud", "victims"), ("victims",))


def _item(n: int, rng: random.Random) -> ItemView:
    due = TODAY + dt.timedelta(days=rng.randint(-60, 60)) if rng.random() < 0.8 else None
    return ItemView(n, rng.randint(1, 3), "recommendation", str(rng.randint(1, 40)), f"text {n}", None, True, None,
                    due, rng.choice(OWNERS), None, rng.choice(THEMES), rng.choice(STATUSES), None, None, None, None, 1,
                    None, None, None)  # fmt: skip


def _order(i: ItemView) -> tuple[dt.date, int, int]:
    return (i.due_date or dt.date.max, i.report_id, i.id)


def test_patched_lists_match_a_rescan_after_every_change() -> None:
    rng = random.Random(12)
    reports = tuple(ReportView(r, f"r{r}", f"Report {r}", "other", None, None) for r in (1, 2, 3))
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only
    model._install(Snapshot(seq=1, reports=reports, items=tuple(_item(n, rng) for n in range(1, 301))))
    selects = {
        "live": lambda i: i.status in ("open", "in_progress"),
        "sarah": lambda i: (i.owner_name or "").startswith("DCI Sarah"),
        "overdue": lambda i: i.due_date is not None and i.due_date < TODAY and i.status == "open",
    }
    for name, select in selects.items():
        model.kept_list(name, select, _order)
    for step in range(400):  # bounded: 400 changes, each checked
        current = model.items[rng.randint(1, 300)]
        changed = dataclasses.replace(
            current, version=current.version + 1, status=rng.choice(STATUSES), owner_name=rng.choice(OWNERS),
            due_date=TODAY + dt.timedelta(days=rng.randint(-60, 60)), report_id=rng.randint(1, 3),
            themes=rng.choice(THEMES),
        )  # fmt: skip
        if step % 3:
            model.apply(changed)
        else:  # another instance's write, folded in from a partial snapshot
            model._install(Snapshot(seq=2 + step, reports=reports, items=(changed,), full=False))
        for name, select in selects.items():
            kept = model.kept_list(name, select, _order)
            assert kept == sorted((i for i in model.items.values() if select(i)), key=_order), (step, name)
        for owner in OWNERS:
            by_owner = {i.id for i in model.items_owned_by([owner or ""])}
            assert by_owner == {i.id for i in model.items.values() if i.owner_name == owner}, (step, owner)
        for theme in ("fraud", "victims"):
            with_theme = {i.id for i in model.items_with_themes([theme])}
            assert with_theme == {i.id for i in model.items.values() if theme in i.themes}, (step, theme)
        for rid in (1, 2, 3):
            assert {i.id for i in model.items_of_report(rid)} == {
                i.id for i in model.items.values() if i.report_id == rid
            }


def test_an_older_view_arriving_late_changes_no_list() -> None:
    rng = random.Random(3)
    model = ReadModel(None)  # type: ignore[arg-type]
    first = _item(1, rng)
    model._install(Snapshot(seq=1, reports=(), items=(dataclasses.replace(first, status="open"),)))
    model.apply(dataclasses.replace(first, status="signed_off", version=3))
    live = model.kept_list("live", lambda i: i.status == "open", _order)
    model.apply(dataclasses.replace(first, status="open", version=2))  # late, older: ignored
    assert live == [] and model.items[1].status == "signed_off"


def _changes(model: ReadModel, reports: tuple[ReportView, ...], rng: random.Random, steps: int):  # type: ignore[no-untyped-def]
    """``steps`` random changes, some applied as our own writes, some folded in from a snapshot."""
    for step in range(steps):
        current = model.items[rng.randint(1, len(model.items))]
        changed = dataclasses.replace(
            current, version=current.version + 1, status=rng.choice(STATUSES), owner_name=rng.choice(OWNERS),
            due_date=TODAY + dt.timedelta(days=rng.randint(-60, 60)), report_id=rng.randint(1, 3),
        )  # fmt: skip
        if step % 3:
            model.apply(changed)
        else:
            model._install(Snapshot(seq=2 + step, reports=reports, items=(changed,), full=False))
        yield step


def test_kept_tallies_match_a_recount_after_every_change() -> None:
    rng = random.Random(5)
    reports = tuple(ReportView(r, f"r{r}", f"Report {r}", "other", None, None) for r in (1, 2, 3))
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only
    model._install(Snapshot(seq=1, reports=reports, items=tuple(_item(n, rng) for n in range(1, 201))))

    def count(i: ItemView) -> list[object]:
        return [i.status, ("report", i.report_id)] + (
            ["overdue"] if i.due_date and i.due_date < TODAY else []
        )

    model.kept_tally("t", count)
    for step in _changes(model, reports, rng, 300):  # bounded: 300 changes, each checked
        kept = model.kept_tally("t", count)
        fresh: dict[object, int] = {}
        for i in model.items.values():
            for k in count(i):
                fresh[k] = fresh.get(k, 0) + 1
        assert {k: n for k, n in kept.items() if n} == fresh, step


def test_kept_lists_stay_within_their_bounds_and_count_their_items(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import storage.readmodel as readmodel

    monkeypatch.setattr(readmodel, "KEPT_LISTS", 3)
    monkeypatch.setattr(readmodel, "KEPT_ENTRIES", 250)
    rng = random.Random(9)
    reports = tuple(ReportView(r, f"r{r}", f"Report {r}", "other", None, None) for r in (1, 2, 3))
    model = ReadModel(None)  # type: ignore[arg-type]
    model._install(Snapshot(seq=1, reports=reports, items=tuple(_item(n, rng) for n in range(1, 201))))
    for step in _changes(model, reports, rng, 60):
        wanted = STATUSES[(step * 3) % len(STATUSES)]
        key = ("status", wanted)
        got = model.kept_list(key, lambda i, s=wanted: i.status == s, _order)  # type: ignore[misc]
        assert got == sorted((i for i in model.items.values() if i.status == wanted), key=_order)
        lists = list(model._kept.values())
        assert model._kept_entries == sum(len(k.items) for k in lists), step
        assert len(lists) <= 3 and (len(lists) == 1 or model._kept_entries <= 250), step


def test_lists_and_tallies_scoped_to_a_report_stay_exact_and_skip_changes_elsewhere() -> None:
    rng = random.Random(21)
    reports = tuple(ReportView(r, f"r{r}", f"Report {r}", "other", None, None) for r in (1, 2, 3))
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only
    model._install(Snapshot(seq=1, reports=reports, items=tuple(_item(n, rng) for n in range(1, 301))))
    asked: dict[int | None, int] = {}

    def live_in(rid: int | None):  # type: ignore[no-untyped-def]
        def select(i: ItemView) -> bool:
            asked[rid] = asked.get(rid, 0) + 1
            return (rid is None or i.report_id == rid) and i.status in ("open", "in_progress")

        return select

    def count_in(rid: int):  # type: ignore[no-untyped-def]
        return lambda i: [i.status] if i.report_id == rid else []

    scopes: tuple[int | None, ...] = (1, 2, 3, None)
    for rid in scopes:
        model.kept_list(
            ("live", rid),
            live_in(rid),
            _order,
            lambda rid=rid: model.items_of_report(rid) if rid else None,
            scope=rid,
        )  # type: ignore[misc]
        if rid is not None:
            model.kept_tally(("tally", rid), count_in(rid), model.items_of_report(rid), scope=rid)
    for step in _changes(model, reports, rng, 300):  # bounded: 300 changes, report moves among them
        before = dict(asked)
        for rid in scopes:
            want = sorted((i for i in model.items.values() if (rid is None or i.report_id == rid)
                           and i.status in ("open", "in_progress")), key=_order)  # fmt: skip
            assert model.kept_list(("live", rid), live_in(rid), _order, scope=rid) == want, (step, rid)
            if rid is not None:
                fresh: dict[object, int] = {}
                for i in model.items.values():
                    if i.report_id == rid:
                        fresh[i.status] = fresh.get(i.status, 0) + 1
                tally = model.kept_tally(("tally", rid), count_in(rid), scope=rid)
                assert {k: n for k, n in tally.items() if n} == fresh, (step, rid)
        assert asked == before  # reading kept lists runs no predicate
    # A change in report 2 that stays there asks report 2's list and the unscoped one, not 1's or 3's.
    item = next(i for i in model.items.values() if i.report_id == 2)
    before = dict(asked)
    model.apply(dataclasses.replace(item, version=item.version + 1, status="open"))
    moved = {rid: asked.get(rid, 0) - before.get(rid, 0) for rid in scopes}
    assert moved[1] == moved[3] == 0 and moved[2] > 0 and moved[None] > 0, moved


def test_indexes_built_at_start_up_stay_exact_across_changes() -> None:
    rng = random.Random(8)
    reports = tuple(ReportView(r, f"r{r}", f"Report {r}", "other", None, None) for r in (1, 2, 3))
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only
    model._install(Snapshot(seq=1, reports=reports, items=tuple(_item(n, rng) for n in range(1, 201))))
    model.warm()
    aads = ("AAD-1", "aad-1", "aad-2", None)
    for step in range(150):  # bounded: 150 changes, every index checked after each
        current = model.items[rng.randint(1, 200)]
        model.apply(dataclasses.replace(current, version=current.version + 1, report_id=rng.randint(1, 3),
                                        owner_name=rng.choice(OWNERS), owner_aad_id=rng.choice(aads),
                                        themes=rng.choice(THEMES)))  # fmt: skip
        items = list(model.items.values())
        assert {i.id for i in model.items_linked_to("aad-1")} == {
            i.id for i in items if (i.owner_aad_id or "").lower() == "aad-1"
        }, step
        for rid in (1, 2, 3):
            assert {i.id for i in model.items_of_report(rid)} == {i.id for i in items if i.report_id == rid}
        for owner in OWNERS:
            assert {i.id for i in model.items_owned_by([owner or ""])} == {
                i.id for i in items if i.owner_name == owner
            }
        assert {i.id for i in model.items_with_themes(["fraud"])} == {
            i.id for i in items if "fraud" in i.themes
        }
