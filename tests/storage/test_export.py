"""Export to CSV/XLSX, and export → import changing nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from storage.exporter import EXPORT_COLUMNS, export_file
from storage.importer import import_file
from storage.models import ItemEvent
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, Source

ALICE = Actor("Alice Ames", "aad-alice")
HEADER = ["report_short", "report_title", "published", "aliases", "themes", "kind", "number", "addressee", "due_date",
          "text", "status", "owner", "register_status", "register_id", "source_url"]  # fmt: skip
VET = ["vetting-misconduct-misogyny", "An inspection of vetting, misconduct, and misogyny in the police service",
       "2022-11-02", "vetting; VMM; the misogyny one"]  # fmt: skip
ROWS = [
    [*VET, "counter-corruption", "recommendation", "34", "Chief constables", "", "By 30 April 2023, chief constables "
     "should make sure that their counter-corruption units actively seek corruption-related intelligence.", "", "",
     "being-progressed", "REC-1234", "https://example.org/r/34"],
    [*VET, "", "recommendation", "33", "Chief constables", "2023-03-31",
     "By 31 March 2023, chief constables should …\n- encourage the disclosure;\n- help the staff; and\n- make sure", "", "",
     "", "", ""],
    [*VET, "", "recommendation", "7.10", "the force", "", "Seven point ten: “smart quotes”, café, naïve, – dash", "", "",
     "", "", ""],
    [*VET, "", "recommendation", "7.2", "NPCC", "", "=SUM(A1) is not a formula", "", "", "", "", ""],
    [*VET, "", "afi", "", "", "Within six months", "An unnumbered area for improvement.", "in progress",
     "DCI Sarah Khan (PSD)", "", "", ""],
    [*VET, "", "cause_of_concern", "", "All forces", "", "An unnumbered cause of concern.", "", "", "", "", ""],
    ["jtai-walsall", "JTAI Walsall", "", "JTAI", "", "", "", "", "", "", "", "", "", "", ""],
]  # fmt: skip


async def build(store: Store, tmp_path: Path) -> None:
    """A store with evidence, owners (one with a Teams id), statuses, blank numbers, multiline and Unicode text."""
    with (tmp_path / "seed.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *ROWS])
    await import_file(store, tmp_path / "seed.csv")
    items = {i.number: i for i in (await store.snapshot()).items}
    src = Source("teams", "conv", "act")
    await store.change_item(items["34"].id, None, ItemChange(
        status="evidenced", owner_name="DI Owen Hughes", owner_aad_id="aad-owen", set_owner=True,
        evidence=NewEvidence("evidence", "CCU tasking log, Jan–Mar\nsecond line")), ALICE, src)  # fmt: skip
    await store.change_item(
        items["33"].id, None, ItemChange(evidence=NewEvidence("update", "Working on it")), ALICE, src
    )
    await store.change_item(items["7.10"].id, None, ItemChange(status="signed_off"), ALICE, src)


async def event_count(store: Store) -> int:
    async with store.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(ItemEvent)) or 0)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_then_import_changes_nothing(store: Store, tmp_path: Path, suffix: str) -> None:
    await build(store, tmp_path)
    before = await store.snapshot()
    events = await event_count(store)
    path = tmp_path / f"tracker{suffix}"
    assert await export_file(store, path) == 6
    result = await import_file(store, path)
    assert result.warnings == [] and result.changes == [], result.render()
    assert (result.items_unchanged, result.items_created, result.reports_created) == (6, 0, 0)
    after = await store.snapshot()
    assert after == before and await event_count(store) == events


async def test_export_columns_order_and_values(store: Store, tmp_path: Path) -> None:
    await build(store, tmp_path)
    await export_file(store, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0]
    rows = [["" if c is None else c for c in row] for row in ws.iter_rows(values_only=True)]
    assert tuple(rows[0]) == EXPORT_COLUMNS
    got = [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [(r["report_short"], r["kind"], r["number"]) for r in got] == [
        ("jtai-walsall", "", ""),  # a report with no items yet keeps one row of its own
        ("vetting-misconduct-misogyny", "recommendation", "7.2"),
        ("vetting-misconduct-misogyny", "recommendation", "7.10"),
        ("vetting-misconduct-misogyny", "recommendation", "33"),
        ("vetting-misconduct-misogyny", "recommendation", "34"),
        ("vetting-misconduct-misogyny", "afi", ""),
        ("vetting-misconduct-misogyny", "cause_of_concern", ""),
    ]
    rec34 = got[4]
    assert rec34["latest_evidence"] == "CCU tasking log, Jan–Mar\nsecond line"
    assert (rec34["status"], rec34["owner"], rec34["register_status"], rec34["themes"]) == (
        "Awaiting sign-off",
        "DI Owen Hughes",
        "being-progressed",
        "counter-corruption",
    )
    # Dates known to the day are date cells; counts are numbers; text is text.
    assert rec34["aliases"] == "the misogyny one; vetting; VMM" and rec34["published"] == dt.datetime(
        2022, 11, 2
    )
    assert (rec34["due_date"], rec34["deadline"]) == (dt.datetime(2023, 4, 30), "By 30 April 2023")
    assert (rec34["version"], rec34["retarget_count"], rec34["rag_override"]) == (2, 0, "")
    assert got[1]["text"] == "=SUM(A1) is not a formula" and got[1]["for_force"] == "no"
    assert ws["K3"].data_type == "s"  # stored as text, so Excel shows it rather than evaluating it
    await export_file(store, tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "naïve".encode() in raw
