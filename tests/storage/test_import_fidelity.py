"""Real trackers in, nothing lost (issue 13), with real CSV and XLSX files, on SQLite and PostgreSQL.

The files are what a force's SD&A team keeps: their own headers and values, a cover sheet, title
rows, merged header cells, Excel date cells, columns the tracker has never heard of; and the
tracker's own export, taken before some Teams writes and imported again.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font
from sqlalchemy import func, select

from dialogs.cards import detail_card
from storage.exporter import export_file
from storage.importer import ImportRejected, import_file
from storage.models import Evidence, ItemEvent
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, ItemView, Source

TEAMS = Source("teams", "conv-1", "act-1")
SARAH = Actor("DCI Sarah Khan", "aad-sarah")
TODAY = dt.date(2023, 3, 1)

VETTING = "An inspection of vetting, misconduct, and misogyny in the police service"
VKEY = "an-inspection-of-vetting-misconduct-and-misogyny-in-the-police-service"  # the key made from the title
PEEL = "PEEL 2018/19 – An inspection of West Midlands Police"
SPOT = "PEEL spotlight report 2019 – Shining a light on betrayal"
REC_34 = "By 30 April 2023, chief constables should make sure that their counter-corruption units actively seek corruption-related intelligence as a matter of routine."  # fmt: skip
REC_38 = "By 30 April 2023, chief constables should make sure that all corruption-related intelligence is categorised in accordance with the NPCC counter-corruption categories."  # fmt: skip
AFI_1 = "The force should review how it manages sex offenders to make sure it has the capacity and capability to manage the risk they pose."  # fmt: skip
SPOT_1 = "Within six months, forces should have started to implement a plan to seek intelligence on abuse of position for a sexual purpose."  # fmt: skip
SPOT_2 = (
    "Immediately, forces should make sure that their counter-corruption units have the capacity they need."
)

# The force's own tracker, as they keep it: their headers, their values, and columns of their own.
FORCE_HEADER = ["Report name", "Date of report", "Type", "Rec No", "Recommendation", "Lead", "Status", "Target date",
                "Revised target date", "Date closed", "RAG", "Comments", "SD&A Lead", "Last reviewed"]  # fmt: skip
FORCE_ROWS = [
    [VETTING, "02/11/2022", "Rec", "34", REC_34, "DCI Sarah Khan (PSD)", "With HMICFRS", "30/04/2023", "", "", "",
     "Tasking log sent", "Insp Dan Morris", "Jan-23"],
    [VETTING, "02/11/2022", "Rec", "38", REC_38, "DI Owen Hughes", "Awaiting sign-off", "", "", "", "Amber",
     "", "Insp Dan Morris", ""],
    [PEEL, "2018/19", "AFI", "1", AFI_1, "DCI Tom Reid", "Closed", "TBC", "", "15/12/2022", "", "PEEL AFI", "", ""],
    [SPOT, "2019", "Area for improvement", "", SPOT_1, "", "Not for West Midlands Police", "", "", "", "", "", "", ""],
    [SPOT, "2019", "CoC", "2", SPOT_2, "", "N/A - other body", "N/A", "", "", "", "", "", ""],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header or FORCE_HEADER, *rows])
    return path


async def items(store: Store) -> dict[str, ItemView]:
    """Items by number, or by the start of the text when unnumbered."""
    return {i.number or i.text[:20]: i for i in (await store.snapshot()).items}


async def count(store: Store, model: type) -> int:
    async with store.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


# ---- 1 and 2: the force's own CSV: its headers, dates and values ------------------------------------------


async def test_force_csv_imports_with_its_headers_values_and_dates(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "force.csv", FORCE_ROWS)
    dry = await import_file(store, path, dry_run=True)
    text = dry.render()
    for line in ("'Rec No' → number", "'Recommendation' → text", "'Lead' → owner", "'Date closed' → signed_off_on",
                 "'Target date' → due_date", "'Report name' → report_title", "'Date of report' → published",
                 "'Comments' → kept as its own column", "'SD&A Lead' → kept as its own column"):  # fmt: skip
        assert line in text, text
    for line in ("status 'With HMICFRS' → evidenced", "status 'Closed' → signed_off", "kind 'Rec' → recommendation",
                 "status 'Not for West Midlands Police' → not_for_us", "status 'N/A - other body' → not_for_us",
                 "kind 'CoC' → cause_of_concern", "kind 'Area for improvement' → afi"):  # fmt: skip
        assert line in text, text
    assert "2019-01-01" not in text and "1 January" not in text  # a year-only date is shown as a year
    assert f"new ({SPOT}; published 2019)" in text and f"new ({PEEL}; published 2018/19)" in text
    assert await store.reports() == ()

    result = await import_file(store, path)
    assert (result.items_created, result.reports_created, result.conflicts) == (5, 3, [])
    reports = {r.title: r for r in await store.reports()}
    assert (reports[SPOT].published_precision, reports[SPOT].published_label) == ("year", "2019")
    assert (reports[PEEL].published_precision, reports[PEEL].published_label) == ("financial_year", "2018/19")
    assert reports[VETTING].published_label == "2 November 2022"
    got = await items(store)
    rec34 = got["34"]
    assert (rec34.status, rec34.owner_name, rec34.due_date, rec34.kind) == (
        "evidenced",
        "DCI Sarah Khan (PSD)",
        dt.date(2023, 4, 30),
        "recommendation",
    )
    assert rec34.extra_columns == (
        ("Comments", "Tasking log sent"),
        ("SD&A Lead", "Insp Dan Morris"),
        ("Last reviewed", "Jan-23"),
    )
    assert (got["38"].rag_override, got["38"].rag(TODAY)) == ("amber", "amber")
    afi = got["1"]
    assert (afi.kind, afi.status, afi.signed_off_on, afi.due_date) == (
        "afi",
        "signed_off",
        dt.date(2022, 12, 15),
        None,
    )
    # Relative deadlines anchor to the end of the year-only publication date; the text is kept.
    spot1 = got[SPOT_1[:20]]
    assert (spot1.kind, spot1.status, spot1.deadline_text, spot1.due_date) == (
        "afi",
        "not_for_us",
        "Within six months",
        dt.date(2020, 6, 30),
    )
    spot2 = got["2"]
    assert (spot2.kind, spot2.deadline_text, spot2.due_date) == (
        "cause_of_concern",
        "Immediately",
        dt.date(2019, 12, 31),
    )
    # added_on: the report's publication date; for a year-only one, the year's last day (never 1 January).
    assert (rec34.added_on, spot1.added_on, afi.added_on) == (
        dt.date(2022, 11, 2),
        dt.date(2019, 12, 31),
        dt.date(2019, 3, 31),
    )
    assert (await import_file(store, path)).changed is False  # the same file again: nothing


async def test_year_only_dates_are_never_shown_as_1_january(store: Store, tmp_path: Path) -> None:
    await import_file(store, write_csv(tmp_path / "force.csv", FORCE_ROWS))
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"out{suffix}"
        await export_file(store, path, today=TODAY)
        if suffix == ".csv":
            rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
            published = {r["report_title"]: r["published"] for r in rows}
        else:
            ws = openpyxl.load_workbook(path).worksheets[0]
            header = [c.value for c in ws[1]]
            published = {
                r[header.index("report_title")]: r[header.index("published")]
                for r in ws.iter_rows(min_row=2, values_only=True)
            }
        assert (published[SPOT], published[PEEL]) == ("2019", "2018/19"), suffix
        if suffix == ".csv":
            assert "2019-01-01" not in path.read_text(encoding="utf-8-sig")
        else:
            assert dt.datetime(2019, 1, 1) not in {c for row in ws.iter_rows(values_only=True) for c in row}
    # A coarser date for a report stored to the day changes nothing; a finer one for a year fills it in.
    rows = [r[:] for r in FORCE_ROWS]
    rows[0][1], rows[3][1] = "November 2022", "2nd December 2019"
    result = await import_file(store, write_csv(tmp_path / "finer.csv", rows))
    assert [c for c in result.changes if c.startswith("report")] == [
        "report peel-spotlight-report-2019-shining-a-light-on-betrayal: published 2019 → 2 December 2019"
    ]


# ---- 2: a workbook as forces keep it -------------------------------------------------------------------


def force_workbook(path: Path) -> Path:
    """Cover and notes sheets first; the tracker on the third sheet under two title rows, with a
    header merged over two rows, a report name merged down over its items, Excel date cells (one
    shown as mmm-yy, one a serial number), a section heading across the sheet, and extra columns."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "West Midlands Police – HMICFRS recommendations tracker"
    cover["A3"] = "Owner: Strategy, Delivery & Assurance"
    notes = wb.create_sheet("Notes")
    notes.append(["How to use this tracker"])
    notes.append(["Status", "Open, In progress, With HMICFRS, Closed"])
    ws = wb.create_sheet("Tracker 2022-23")
    ws["A1"] = "HMICFRS recommendations – live tracker"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:H1")
    ws["A2"] = "Last updated by SD&A"
    # Header rows 3-4: "Dates" spans two columns over "Date of report" and "Target date"; the rest
    # are merged down over both rows.
    for col, label in zip(
        "ABCDEH",
        ["Report name", "Rec No", "Recommendation", "Action owner", "Status", "Comments"],
        strict=True,
    ):
        ws[f"{col}3"] = label
        ws.merge_cells(f"{col}3:{col}4")
    ws["F3"] = "Dates"
    ws.merge_cells("F3:G3")
    ws["F4"], ws["G4"] = "Date of report", "Target date"
    ws["A5"] = VETTING
    ws.merge_cells("A5:A6")  # the report name merged down over its two items
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = 34, REC_34, "DCI Sarah Khan (PSD)", "In progress"
    ws["F5"], ws["G5"], ws["H5"] = dt.datetime(2022, 11, 2), dt.datetime(2023, 4, 30), "Tasking log sent"
    ws["B6"], ws["C6"], ws["D6"], ws["E6"] = 38, REC_38, "DI Owen Hughes", "With HMICFRS"
    ws["F6"], ws["G6"] = 44867, dt.datetime(2023, 7, 1)  # a serial number; a date shown as Jul-23
    ws["G6"].number_format = "mmm-yy"
    ws["A7"] = "Section 2: PEEL"
    ws.merge_cells("A7:H7")  # a heading across the sheet, not an item
    ws["A8"], ws["B8"], ws["C8"], ws["E8"], ws["F8"] = PEEL, 1, AFI_1, "Complete", "2018/19"
    wb.save(path)
    return path


async def test_workbook_with_cover_sheet_title_rows_and_merged_cells(store: Store, tmp_path: Path) -> None:
    path = force_workbook(tmp_path / "tracker.xlsx")
    dry = await import_file(store, path, dry_run=True)
    assert dry.header == "sheet 'Tracker 2022-23' row 4", dry.render()
    assert (
        "read sheet 'Tracker 2022-23' (the sheet whose headers fit; sheets: 'Cover', 'Notes', 'Tracker 2022-23')"
        in dry.warnings
    )
    assert (
        "sheet 'Tracker 2022-23' row 7: a heading across the sheet ('Section 2: PEEL'): skipped"
        in dry.warnings
    )
    result = await import_file(store, path)
    assert (result.items_created, result.reports_created) == (3, 2), result.render()
    got = await items(store)
    assert (got["34"].status, got["34"].due_date, got["34"].extra_columns) == (
        "in_progress",
        dt.date(2023, 4, 30),
        (("Comments", "Tasking log sent"),),
    )
    # The merged report name reached row 6; the mmm-yy date cell is a month: due at its end, text kept.
    assert (got["38"].status, got["38"].due_date, got["38"].deadline_text) == (
        "evidenced",
        dt.date(2023, 7, 31),
        "2023-07",
    )
    assert got["1"].status == "signed_off"
    reports = {r.title: r for r in await store.reports()}
    assert (
        reports[VETTING].published_label == "2 November 2022" and reports[PEEL].published_label == "2018/19"
    )
    assert not (await import_file(store, path)).changed


async def test_sheet_option_and_workbooks_with_no_tracker(store: Store, tmp_path: Path) -> None:
    path = force_workbook(tmp_path / "tracker.xlsx")
    result = await import_file(store, path, sheet="tracker 2022-23", dry_run=True)
    assert result.items_created == 3
    with pytest.raises(ImportRejected) as err:
        await import_file(store, path, sheet="Cover")
    assert err.value.errors[0].startswith("sheet 'Cover' (sheets: 'Cover', 'Notes', 'Tracker 2022-23')")
    with pytest.raises(ImportRejected) as err:
        await import_file(store, path, sheet="Summary")
    assert err.value.errors == [
        "tracker.xlsx has no sheet named 'Summary' (its sheets: 'Cover', 'Notes', 'Tracker 2022-23')"
    ]
    wb = openpyxl.load_workbook(path)
    del wb["Tracker 2022-23"]
    wb.save(tmp_path / "none.xlsx")
    with pytest.raises(ImportRejected) as err:
        await import_file(store, tmp_path / "none.xlsx")
    assert err.value.errors[0] == (
        "none.xlsx has no sheet with a tracker header row (sheets: 'Cover', 'Notes'); in the first 30 rows:"
    )
    assert err.value.errors[1].startswith("sheet 'Cover': ") and "no item text column" in err.value.errors[1]
    assert await store.reports() == ()


# ---- 3: nothing dropped --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_extra_columns_are_shown_exported_and_round_trip(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    await import_file(store, write_csv(tmp_path / "force.csv", FORCE_ROWS))
    rec34 = (await items(store))["34"]
    detail = await store.item_detail(rec34.id)
    card, fallback = detail_card(detail, TODAY)
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert (facts["Comments"], facts["SD&A Lead"], facts["Last reviewed"]) == (
        "Tasking log sent",
        "Insp Dan Morris",
        "Jan-23",
    )
    assert "SD&A Lead: Insp Dan Morris" in fallback
    await store.change_item(
        rec34.id, None, ItemChange(evidence=NewEvidence("evidence", "CCU tasking log")), SARAH, TEAMS
    )
    before, events = await store.snapshot(), await count(store, ItemEvent)
    path = tmp_path / f"out{suffix}"
    await export_file(store, path, today=TODAY)
    if suffix == ".csv":
        header = next(csv.reader(path.open(encoding="utf-8-sig")))
    else:
        header = [c.value for c in openpyxl.load_workbook(path).worksheets[0][1]]
    assert header[-3:] == ["Comments", "SD&A Lead", "Last reviewed"]
    result = await import_file(store, path)
    assert (result.changes, result.conflicts, result.kept, result.warnings) == ([], [], [], []), (
        result.render()
    )
    assert await store.snapshot() == before and await count(store, ItemEvent) == events
    # An edited extra cell is one audited change; a blank one never blanks what is stored.
    rows = [r[:] for r in FORCE_ROWS]
    rows[0][11], rows[0][12] = "Tasking log reviewed", ""
    result = await import_file(store, write_csv(tmp_path / "edit.csv", rows))
    assert result.changes == [f"{VKEY} rec 34: column Comments Tasking log sent → Tasking log reviewed"]
    after = (await items(store))["34"]
    assert dict(after.extra_columns)["SD&A Lead"] == "Insp Dan Morris"
    last = (await store.history(after.id))[-1]
    assert (last.action, last.field, last.source) == ("field_changed", "column Comments", "import")


# ---- 4: a stale file never undoes a newer change ----------------------------------------------------------


async def teams_writes(store: Store) -> dict[str, ItemView]:
    """What happens in Teams after an export: a sign-off, evidence, a new owner with a Teams id."""
    got = await items(store)
    await store.change_item(
        got["1"].id, None, ItemChange(status="open", note="reopened by HMICFRS"), SARAH, TEAMS
    )
    await store.change_item(got["34"].id, None, ItemChange(status="signed_off"), SARAH, TEAMS)
    await store.change_item(
        got["38"].id, None, ItemChange(evidence=NewEvidence("evidence", "Categorisation audit")), SARAH, TEAMS
    )
    await store.change_item(got["38"].id, None, ItemChange(set_owner=True, owner_name="DI Priya Shah", owner_aad_id="aad-priya"),
                            SARAH, TEAMS)  # fmt: skip
    return await items(store)


async def test_an_old_export_leaves_newer_changes_and_lists_conflicts(store: Store, tmp_path: Path) -> None:
    await import_file(store, write_csv(tmp_path / "force.csv", FORCE_ROWS))
    old = tmp_path / "old.xlsx"
    await export_file(store, old, today=TODAY)
    after_teams = await teams_writes(store)
    events, evidence = await count(store, ItemEvent), await count(store, Evidence)
    dry = await import_file(store, old, dry_run=True)
    real = await import_file(store, old)
    for result in (dry, real):
        assert len(result.conflicts) == 3 and result.changes == [], result.render()
        assert any(
            "rec 34" in c and "the file has version 1, the tracker has version 2" in c
            for c in result.conflicts
        )
        assert "3 conflicts left as they are" in result.render()
    assert await items(store) == after_teams
    assert (await count(store, ItemEvent), await count(store, Evidence)) == (events, evidence)
    # --overwrite takes the file's values, audited as an overwrite; evidence and history stay.
    over = await import_file(store, old, overwrite=True, actor=Actor("Rachel Admin", "aad-admin"))
    assert over.conflicts == [] and over.overwrites >= 3
    now = await items(store)
    assert (now["34"].status, now["38"].owner_name, now["38"].owner_aad_id) == (
        "evidenced",
        "DI Owen Hughes",
        None,
    )
    last = (await store.history(now["34"].id))[-1]
    assert (last.action, last.source, last.actor_aad_id) == ("status_changed", "import", "aad-admin")
    assert "overwrite" in (last.note or "") and "old.xlsx" in (last.note or "")
    assert await count(store, Evidence) == evidence and await count(store, ItemEvent) > events


async def test_the_forces_own_file_never_reverts_a_teams_change(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "force.csv", FORCE_ROWS)
    await import_file(store, path)
    after_teams = await teams_writes(store)
    history = {i.id: await store.history(i.id) for i in after_teams.values()}
    # The same spreadsheet again: it is behind on four fields (the reopening in Teams also cleared a
    # sign-off date); nothing is reverted, each is listed.
    result = await import_file(store, path)
    assert result.conflicts == [] and result.changes == [], result.render()
    assert (
        len(result.kept) == 4
        and any("rec 34" in k and "status stays 'signed_off'" in k for k in result.kept)
        and any("signed_off_on stays (blank)" in k for k in result.kept)
    )
    assert await items(store) == after_teams
    assert {i.id: await store.history(i.id) for i in after_teams.values()} == history
    # The spreadsheet's own edits still come in; an edit where Teams also moved is a conflict.
    rows = [r[:] for r in FORCE_ROWS]
    rows[1][5] = "DS Kim Patel"  # rec 38's owner: changed in Teams AND in the file
    rows[1][7] = "31/05/2023"  # rec 38's target date: changed in the file only
    result = await import_file(store, write_csv(tmp_path / "edited.csv", rows))
    assert result.changes == [f"{VKEY} rec 38: due_date 2023-04-30 → 2023-05-31"], result.render()
    assert (
        len(result.conflicts) == 1
        and "owner: the tracker has 'DI Priya Shah', the file has 'DS Kim Patel'" in result.conflicts[0]
    )
    got = await items(store)
    assert (got["38"].owner_name, got["38"].owner_aad_id) == ("DI Priya Shah", "aad-priya")
    # --overwrite: the file wins, audited as an overwrite.
    result = await import_file(store, write_csv(tmp_path / "edited.csv", rows), overwrite=True)
    assert result.conflicts == [] and result.overwrites == 4, result.render()  # with the sign-off date
    got = await items(store)
    assert (got["38"].owner_name, got["34"].status, got["1"].status) == (
        "DS Kim Patel",
        "evidenced",
        "signed_off",
    )
    owner = [e for e in await store.history(got["38"].id) if e.action == "owner_changed"][-1]
    assert owner.source == "import" and "overwrite" in (owner.note or "")
    assert [e.text for e in (await store.item_detail(got["38"].id)).evidence] == ["Categorisation audit"]


async def test_items_imported_before_the_base_was_kept_are_protected_by_the_audit_trail(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "force.csv", FORCE_ROWS)
    await import_file(store, path)
    await teams_writes(store)
    async with store.sessions() as s, s.begin():
        from sqlalchemy import update

        from storage.models import Item

        await s.execute(update(Item).values(import_base=None))  # as stored before migration 0002
    result = await import_file(store, path)
    assert result.changes == [] and len(result.kept) == 4, result.render()
    assert (await items(store))["34"].status == "signed_off"


# ---- 5: what goes out is safe ----------------------------------------------------------------------------


async def test_csv_export_neutralises_formulas_and_round_trips(store: Store, tmp_path: Path) -> None:
    nasty = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]
    header = ["report_title", "number", "text", "owner", "Notes"]
    rows = [[VETTING, str(n), f"{value} is text {n}" if n else value, "@owner" if n == 1 else "", value]
            for n, value in enumerate(nasty)]  # fmt: skip
    await import_file(store, write_csv(tmp_path / "nasty.csv", rows, header))
    got = await items(store)
    for number, text in (
        ("0", "=cmd|' /C calc'!A0"),
        ("4", "\tTabbed evidence"),
        ("5", "\rReturned evidence"),
    ):
        await store.change_item(
            got[number].id, None, ItemChange(evidence=NewEvidence("evidence", text)), SARAH, TEAMS
        )
    before = await store.snapshot()
    await export_file(store, tmp_path / "out.csv", today=TODAY)
    out = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8-sig", newline="")))
    for row in out[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    cells = {c for row in out for c in row}
    assert "'=cmd|' /C calc'!A0" in cells and "'@owner" in cells and "'-2+3 is text 2" in cells
    assert "'\tTabbed evidence" in cells and "'\rReturned evidence" in cells
    result = await import_file(store, tmp_path / "out.csv")
    assert result.changes == [] and result.warnings == [], result.render()
    assert await store.snapshot() == before
    await export_file(store, tmp_path / "out.xlsx", today=TODAY)
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    text_cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and c.value]
    assert text_cells and all(c.data_type == "s" for c in text_cells)
    assert "=cmd|' /C calc'!A0" in {c.value for c in text_cells}  # as text, not a formula


# ---- 6: bad input: a clear, line-numbered answer and nothing written --------------------------------------


async def test_bad_files_are_refused_clearly_and_write_nothing(store: Store, tmp_path: Path) -> None:
    rows = [r[:] for r in FORCE_ROWS]
    rows[0][5] = "O" * 300  # an owner longer than the tracker keeps
    rows[1][3] = "3" * 40  # a number longer than 32
    rows.append(FORCE_ROWS[2][:])  # a duplicate row
    with pytest.raises(ImportRejected) as err:
        await import_file(store, write_csv(tmp_path / "bad.csv", rows))
    assert err.value.errors == [
        "line 2: owner is 300 characters long; the tracker keeps at most 200",
        "line 3: number is 40 characters long; the tracker keeps at most 32",
        "line 7: same report, kind and number as line 4",
    ]
    assert await store.reports() == () and await store.current_seq() == 0
    with pytest.raises(ImportRejected) as err:
        await import_file(store, tmp_path / "missing.xlsx")
    assert err.value.errors == [f"{tmp_path / 'missing.xlsx'}: no such file"]
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0rest")
    force_workbook(tmp_path / "book.xlsx").rename(tmp_path / "book.csv")
    (tmp_path / "fake.xlsx").write_text("report_title,text\n")
    write_csv(tmp_path / "nohead.csv", [["a", "b"]], ["Colour", "Size"])
    for name, message in [
        ("notes.txt", "notes.txt: import reads .csv or .xlsx files, not '.txt'"),
        ("old.xls", "old.xls: import reads .csv or .xlsx files; save this .xls file as .xlsx first"),
        ("book.csv", "book.csv is an Excel workbook named .csv: save it as CSV UTF-8, or name it .xlsx"),
        (
            "fake.xlsx",
            "fake.xlsx is not an .xlsx workbook (its content is not one): save it from Excel as .xlsx",
        ),
        ("nohead.csv", "nohead.csv: no row in its first 30 lines is a tracker header row"),
    ]:
        with pytest.raises(ImportRejected) as err:
            await import_file(store, tmp_path / name)
        assert err.value.errors[0] == message
    assert await store.reports() == () and await store.current_seq() == 0
    header_only = await import_file(store, write_csv(tmp_path / "empty.csv", []))
    assert header_only.rows == 0 and not header_only.changed
    assert header_only.warnings == [
        "empty.csv has a header row (line 1) but no rows under it: 0 rows imported"
    ]


# ---- dates of record -------------------------------------------------------------------------------------


async def test_dates_of_record_sign_off_retarget_and_rag(store: Store, tmp_path: Path) -> None:
    header = ["report_title", "published", "number", "text", "status", "due_date", "revised target date",
              "date added", "signed off on", "rag"]  # fmt: skip
    rows = [[VETTING, "2022-11-02", "34", REC_34, "in progress", "2023-04-30", "", "2022-11-20", "", ""],
            [VETTING, "2022-11-02", "38", REC_38, "", "2023-04-30", "", "", "", "Red"]]  # fmt: skip
    await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    got = await items(store)
    assert (got["34"].added_on, got["38"].added_on) == (dt.date(2022, 11, 20), dt.date(2022, 11, 2))
    assert (
        got["38"].rag_override,
        got["38"].rag(TODAY),
        got["34"].rag(TODAY),
        got["34"].rag(dt.date(2023, 4, 10)),
    ) == ("red", "red", "green", "amber")
    # A revised target counts a re-target; HMICFRS's sign-off date moves the status, audited with the date.
    rows[0][6] = "31/07/2023"
    rows[1][8] = "01/03/2023"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows, header), actor=SARAH)
    got = await items(store)
    assert (got["34"].revised_due_date, got["34"].retarget_count, got["34"].target_date) == (
        dt.date(2023, 7, 31),
        1,
        dt.date(2023, 7, 31),
    )
    assert (got["38"].status, got["38"].signed_off_on) == ("signed_off", dt.date(2023, 3, 1))
    signed = [e for e in await store.history(got["38"].id) if e.action == "status_changed"]
    assert [(e.new_value, e.source, e.actor_aad_id) for e in signed] == [
        ("signed_off", "import", "aad-sarah")
    ]
    assert "signed off by HMICFRS on 2023-03-01" in (signed[0].note or "")
    assert f"{VKEY} rec 34: retarget_count 0 → 1" in result.changes
    rows[0][6] = "30/09/2023"
    await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    assert (await items(store))["34"].retarget_count == 2
    # Export carries them; exporting and importing again changes nothing.
    before = await store.snapshot()
    await export_file(store, tmp_path / "out.csv", today=TODAY)
    exported = {r["number"]: r for r in csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig"))}
    assert (exported["34"]["retarget_count"], exported["34"]["revised_due_date"], exported["34"]["rag"]) == (
        "2",
        "2023-09-30",
        "amber",
    )
    assert (
        exported["38"]["status"],
        exported["38"]["signed_off_on"],
        exported["38"]["rag"],
        exported["38"]["rag_override"],
    ) == ("Signed off", "2023-03-01", "red", "red")
    assert exported["34"]["status"] == "In progress" and exported["34"]["added_on"] == "2022-11-20"
    assert not (await import_file(store, tmp_path / "out.csv")).changed
    assert await store.snapshot() == before
