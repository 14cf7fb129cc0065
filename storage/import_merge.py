"""Deciding what an import row may change on a stored item. Pure: no database.

Two kinds of file come in:

- The tracker's own export carries each item's ``version``. A row whose version is the item's
  own was taken from what is stored now: every cell that differs is an edit made in the file and
  is applied. A row from an older (or another) version whose cells differ would undo changes made
  since the export: the item is left as it is and the row is a *conflict*.
- The force's own spreadsheet has no version column. Each item remembers what the last import set
  for every field (``Item.import_base``), so each field is merged three ways: only the file moved
  -> applied; only the tracker moved (a change made in Teams since) -> *kept*, the file is behind;
  both moved to different values -> a *conflict*, left as it is. An item imported before the
  tracker kept that record has its Teams-changed fields (from the audit trail) kept.

``overwrite`` applies the file regardless; the importer audits that as an overwrite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.import_rows import ParsedRow, show
from storage.models import Item, ItemStatus

EXTRA = "column "  # prefix of a kept column's field name in diffs, the base and the audit trail
# Fields a row may change, as stored on the item (``owner`` is ``owner_name``).
FIELDS = (
    "number", "text", "addressee", "for_force", "deadline_text", "due_date", "revised_due_date", "retarget_count",
    "owner_name", "status", "signed_off_on", "added_on", "rag_override", "themes", "register_status",
    "register_id", "register_url", "source_url",
)  # fmt: skip

Diff = tuple[str, Any, Any]  # (field, stored, new)


def to_json(value: object) -> object:
    """A field value as kept in ``import_base`` (and compared): dates as ISO text, lists as lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def stored(item: Item, name: str) -> Any:
    """The item's current value of a diff field (a kept column by its header)."""
    if name.startswith(EXTRA):
        return (item.extra_columns or {}).get(name[len(EXTRA) :])
    if name == "themes":
        return list(item.themes or [])
    return getattr(item, name)


def diff(item: Item, row: ParsedRow) -> list[Diff]:
    """(field, stored, new) for each field the row changes: given values replace, derived ones fill blanks."""
    out: list[Diff] = [("number", item.number, row.number)] if item.number != row.number else []
    derived_for_force = row.fill.get("for_force")
    new_addressee = row.given.get("addressee")
    if (
        "for_force" not in row.given
        and derived_for_force is not None
        and new_addressee is not None
        and new_addressee != item.addressee
        and derived_for_force != item.for_force
    ):
        out.append(("for_force", item.for_force, derived_for_force))  # the addressee changed: re-derive
    for name, new in row.given.items():
        old = stored(item, name)
        if old != new:
            out.append((name, old, new))
    for name, new in row.fill.items():
        if name != "for_force" and name not in row.given and new is not None and getattr(item, name) is None:
            out.append((name, None, new))
    for name, new in row.extra.items():
        if new and stored(item, EXTRA + name) != new:
            out.append((EXTRA + name, stored(item, EXTRA + name), new))
    changed = {name for name, _, _ in out}
    if "signed_off_on" in changed and "status" not in row.given and item.status != ItemStatus.SIGNED_OFF:
        # HMICFRS signed it off on that day: the date of record moves the status with it.
        out.append(("status", item.status, ItemStatus.SIGNED_OFF.value))
    if "revised_due_date" in changed and "retarget_count" not in changed:
        out.append(("retarget_count", item.retarget_count or 0, (item.retarget_count or 0) + 1))
    return out


def base_of(row: ParsedRow) -> dict[str, object]:
    """What this row states, as import-base values: given fields and kept columns."""
    base: dict[str, object] = {name: to_json(value) for name, value in row.given.items()}
    base["number"] = row.number
    base.update({EXTRA + name: value for name, value in row.extra.items() if value})
    return base


def state_of(item: Item) -> dict[str, object]:
    """Every field an import can set, as the item has it now (the base after creating it)."""
    state = {name: to_json(stored(item, name)) for name in FIELDS}
    state.update({EXTRA + name: value for name, value in (item.extra_columns or {}).items()})
    return state


@dataclass(slots=True)
class Decision:
    """What happens to one matched item: the diffs to apply, and the ones kept back (and why)."""

    apply: list[Diff] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the file is behind a change made in the tracker
    conflicts: list[str] = field(default_factory=list)  # both moved, or a stale exported version
    overwrites: set[str] = field(default_factory=set)  # fields applied only because of --overwrite
    base: dict[str, object] | None = None  # the item's new import base (None: leave it)


# Fields that go with another: a re-derived for_force with its addressee, a new re-target count with
# the revised target it counts.
_FOLLOWS = {"for_force": "addressee", "retarget_count": "revised_due_date"}


def decide(
    item: Item, row: ParsedRow, diffs: list[Diff], *, overwrite: bool, protected: Collection[str] = ()
) -> Decision:
    """Merge one row into one item (see the module docstring); ``protected``: fields the audit trail
    shows changed outside imports, for items with no import base yet."""
    d = Decision()
    if row.version is not None and row.version != item.version and diffs and not overwrite:
        fields = ", ".join(_name(n) for n, _, _ in diffs)
        d.conflicts.append(
            f"{row.label} ({row.where}): the file has version {row.version}, the tracker has version {item.version} "
            f"(changed since the file was exported); left as it is, so it would not change {fields}"
        )
        return d  # the base stays too: nothing of this row is taken
    base: Mapping[str, object] | None = item.import_base
    held: set[str] = set()
    conflicted: set[str] = set()
    if row.version is not None:
        if row.version != item.version:
            d.overwrites = {n for n, _, _ in diffs}
    else:
        for name, old, new in diffs:
            if name in _FOLLOWS:
                continue
            current, wanted = to_json(old), to_json(new)
            if base is not None and name in base:
                if current == base[name]:
                    continue  # only the file changed it
                held.add(name)
                if wanted == base[name]:
                    d.kept.append(
                        f"{row.label} ({row.where}): {_name(name)} stays {_shown(old)} (changed in the tracker "
                        f"since the last import; the file still says {_shown(new)})"
                    )
                else:
                    conflicted.add(name)
                    d.conflicts.append(
                        f"{row.label} ({row.where}): {_name(name)}: the tracker has {_shown(old)}, the file has "
                        f"{_shown(new)}, and the last import set {_shown(base[name])}: both changed; left as it is"
                    )
            elif base is None and _audit_name(name) in protected:
                held.add(name)
                d.kept.append(
                    f"{row.label} ({row.where}): {_name(name)} stays {_shown(old)} (changed in the tracker since "
                    f"it was imported; the file says {_shown(new)})"
                )
        if overwrite:
            d.overwrites, d.kept, d.conflicts = held, [], []
            held, conflicted = set(), set()
    d.apply = [x for x in diffs if x[0] not in held and _FOLLOWS.get(x[0]) not in held]
    d.base = _next_base(item, row, d.apply, held, base or {})
    return d


def _next_base(
    item: Item, row: ParsedRow, applied: list[Diff], held: set[str], old: Mapping[str, object]
) -> dict[str, object]:
    """The item's import base after this row: what the import set or saw, field by field.

    A field kept back keeps its old base (or, with none, the file's value), so it is kept back again
    next time until the file or the tracker moves; a field the file does not give keeps its old base.
    """
    given = base_of(row)
    now = state_of(item)
    new = {name: to_json(value) for name, _, value in applied}
    out: dict[str, object] = {}
    for name in {*now, *given, *old}:
        if name in held:
            out[name] = old.get(name, given.get(name))
        elif name in new:
            out[name] = new[name]
        elif name in given:
            out[name] = given[name]
        else:
            out[name] = old.get(name, now.get(name))
    return out


def _name(name: str) -> str:
    return {"owner_name": "owner", "deadline_text": "deadline", "rag_override": "rag"}.get(name, name)


def _audit_name(name: str) -> str:
    """The field name audit events use for a diff field."""
    return {"owner_name": "owner"}.get(name, name)


def _shown(value: object) -> str:
    return f"'{show(value, limit=60)}'" if value not in (None, "", []) else "(blank)"
