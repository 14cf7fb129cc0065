"""Import from CSV/XLSX: matching, idempotence, auditing, rejection and dry runs, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from storage.import_rows import addressed_to_force, guess_report_type
from storage.importer import ImportRejected, import_file, terminal_progress
from storage.models import Evidence, ItemEvent
from storage.store import ItemChange, NewEvidence, Store
from storage.views import Actor, ItemView, Source
from tests.conftest import SAMPLE_CSV

SAMPLE = SAMPLE_CSV
ADMIN = Actor("Rachel Admin", "aad-admin")
HEADER = [
    "report_title",
    "report_short",
    "published",
    "kind",
    "number",
    "addressee",
    "due_date",
    "text",
    "status",
    "owner",
]
VETTING = [
    "An inspection of vetting, misconduct, and misogyny in the police service",
    "vetting-misconduct-misogyny",
    "2022-11-02",
]
REC_34 = "By 30 April 2023, chief constables should make sure that their counter-corruption units actively seek corruption-related intelligence as a matter of routine."  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


async def count(store: Store, model: type) -> int:
    async with store.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def items_by_number(store: Store) -> dict[str, ItemView]:
    return {i.number: i for i in (await store.snapshot()).items}


async def test_sample_csv_imports_cleanly(store: Store) -> None:
    result = await import_file(store, SAMPLE, actor=ADMIN)
    assert (result.reports_created, result.items_created, result.items_updated, result.items_unchanged) == (
        6,
        11,
        0,
        0,
    )
    assert result.warnings == [] and result.seq == 1
    snap = await store.snapshot()
    assert snap.seq == 1 and len(snap.items) == 11

    def starting(prefix: str) -> ItemView:
        (found,) = [i for i in snap.items if i.text.startswith(prefix)]
        return found

    partners = starting("Structures and funding")  # addressed to Government / partner agencies
    assert partners.status == "not_for_us" and not partners.for_force
    legit = starting("To address this cause of concern, we recommend")
    assert (legit.deadline_text, legit.due_date) == (
        "Within six months (of December 2016)",
        dt.date(2017, 6, 30),
    )
    fraud = starting("By 30 September 2021")
    assert (fraud.number, fraud.due_date, fraud.deadline_text) == (
        "1",
        dt.date(2021, 9, 30),
        "By 30 September 2021",
    )
    events = await store.history(fraud.id)
    assert [(e.action, e.source, e.actor_aad_id) for e in events] == [("created", "import", "aad-admin")]
    assert "line 8" in (events[0].note or "")
    types = {r.key: r.report_type for r in snap.reports}
    assert types["peel-legitimacy-2016"] == "peel" and types["vawg-interim"] == "national_thematic"


async def test_header_variants_case_and_kinds(store: Store, tmp_path: Path) -> None:
    header = [
        " Report ",
        "REPORT_SHORT",
        "Published",
        "Kind",
        "No.",
        "Addressed to",
        "Deadline",
        "Text",
        "Status",
        "Owner",
    ]
    rows = [
        [
            *VETTING,
            "Recommendation",
            "34",
            "Chief constables",
            "",
            REC_34,
            "Awaiting sign-off",
            "DCI Sarah Khan (PSD)",
        ],
        [
            *VETTING,
            "Area for Improvement",
            "",
            "the force",
            "Within six months",
            "Improve vetting file quality.",
            "In progress",
            "",
        ],
        [*VETTING, "Cause of concern", "", "NPCC", "", "The NPCC should review guidance.", "", ""],
        [*VETTING, "afi", "7.1", "IOPC and College of Policing", "", "An AFI for others.", "signed off", ""],
    ]
    result = await import_file(store, write_csv(tmp_path / "t.csv", rows, header, bom=True))
    assert result.items_created == 4 and result.warnings == []
    items = {i.text: i for i in (await store.snapshot()).items}
    rec = items[REC_34]
    assert (rec.kind, rec.status, rec.owner_name, rec.deadline_text, rec.due_date) == (
        "recommendation",
        "evidenced",
        "DCI Sarah Khan (PSD)",
        "By 30 April 2023",
        dt.date(2023, 4, 30),
    )
    afi = items["Improve vetting file quality."]
    assert (afi.kind, afi.status, afi.due_date) == ("afi", "in_progress", dt.date(2023, 5, 2))  # 6 months on
    coc = items["The NPCC should review guidance."]
    assert (coc.kind, coc.for_force, coc.status) == ("cause_of_concern", False, "not_for_us")
    assert items["An AFI for others."].status == "signed_off"  # the file's status wins over not_for_us


async def test_xlsx_import(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(
        [
            VETTING[0],
            VETTING[1],
            dt.datetime(2022, 11, 2),
            "recommendation",
            34,
            "Chief constables",
            None,
            REC_34,
            "open",
            None,
        ]
    )
    ws.append(
        [
            VETTING[0],
            VETTING[1],
            dt.datetime(2022, 11, 2),
            "afi",
            7.1,
            "the force",
            dt.datetime(2023, 3, 31),
            "AFI text",
            None,
            None,
        ]
    )
    wb.create_sheet("Ignored").append(["not", "read"])
    wb.save(tmp_path / "t.xlsx")
    result = await import_file(store, tmp_path / "t.xlsx")
    assert result.items_created == 2
    items = await items_by_number(store)
    assert items["34"].due_date == dt.date(2023, 4, 30) and items["7.1"].due_date == dt.date(2023, 3, 31)
    assert (await store.reports())[0].published == dt.date(2022, 11, 2)
    again = await import_file(store, tmp_path / "t.xlsx")
    assert again.items_unchanged == 2 and not again.changed


async def test_reimport_is_idempotent(store: Store) -> None:
    await import_file(store, SAMPLE)
    seq, events = await store.current_seq(), await count(store, ItemEvent)
    versions = {i.id: i.version for i in (await store.snapshot()).items}
    again = await import_file(store, SAMPLE)
    assert (again.items_created, again.items_updated, again.items_unchanged) == (0, 0, 11)
    assert again.changes == [] and again.seq is None and "Nothing changed." in again.render()
    assert await store.current_seq() == seq and await count(store, ItemEvent) == events
    assert {i.id: i.version for i in (await store.snapshot()).items} == versions


async def test_changed_cell_is_one_audited_change(store: Store, tmp_path: Path) -> None:
    rows = [[*VETTING, "recommendation", "34", "Chief constables", "", REC_34, "open", ""]]
    await import_file(store, write_csv(tmp_path / "a.csv", rows))
    before = (await items_by_number(store))["34"]
    seq = await store.current_seq()
    rows[0][8] = "evidenced"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows), actor=ADMIN)
    assert result.changes == ["vetting-misconduct-misogyny rec 34: status open → evidenced"]
    assert (result.items_updated, result.seq) == (1, seq + 1)
    after = (await items_by_number(store))["34"]
    assert after.status == "evidenced" and after.version == before.version + 1 and after.status_changed_at
    events = (await store.history(after.id))[1:]
    assert [(e.action, e.field, e.old_value, e.new_value, e.source, e.actor_aad_id) for e in events] == [
        ("status_changed", "status", "open", "evidenced", "import", "aad-admin")
    ]
    delta = await store.snapshot(since_seq=seq)
    assert [i.id for i in delta.items] == [after.id]


async def test_empty_cells_never_blank_and_evidence_survives(store: Store, tmp_path: Path) -> None:
    rows = [
        [
            *VETTING,
            "recommendation",
            "34",
            "Chief constables",
            "",
            REC_34,
            "in progress",
            "DCI Sarah Khan (PSD)",
        ]
    ]
    await import_file(store, write_csv(tmp_path / "a.csv", rows))
    item = (await items_by_number(store))["34"]
    await store.change_item(item.id, None, ItemChange(status="evidenced", evidence=NewEvidence("evidence", "CCU tasking log")),
                            ADMIN, Source("teams", "c", "a1"))  # fmt: skip
    history = await store.history(item.id)
    blank = [[*VETTING, "recommendation", "34", "", "", REC_34, "", ""]]
    result = await import_file(store, write_csv(tmp_path / "b.csv", blank))
    assert result.items_unchanged == 1 and not result.changed
    detail = await store.item_detail(item.id)
    assert (detail.item.status, detail.item.owner_name, detail.item.addressee) == (
        "evidenced",
        "DCI Sarah Khan (PSD)",
        "Chief constables",
    )
    assert [e.text for e in detail.evidence] == ["CCU tasking log"]
    assert await store.history(item.id) == history
    # A changed owner replaces the name and drops the old owner's Teams id, audited as owner_changed.
    rows[0][8:] = ["", "DI Owen Hughes (CCU)"]
    await import_file(store, write_csv(tmp_path / "c.csv", rows))
    last = (await store.history(item.id))[-1]
    assert (last.action, last.field, last.old_value, last.new_value) == (
        "owner_changed",
        "owner",
        "DCI Sarah Khan (PSD)",
        "DI Owen Hughes (CCU)",
    )
    assert await count(store, Evidence) == 1


async def test_blank_number_matches_on_text(store: Store, tmp_path: Path) -> None:
    text = "Within six months, all forces should have started to implement a plan."
    rows = [[*VETTING, "recommendation", "", "All forces", "", text, "", ""]]
    await import_file(store, write_csv(tmp_path / "a.csv", rows))
    rows[0][5] = "All police forces"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows))
    assert (result.items_created, result.items_updated) == (0, 1)
    assert result.changes == [
        f'vetting-misconduct-misogyny rec "{text[:39]}…": addressee All forces → All police forces'
    ]
    rows.append([*VETTING, "recommendation", "", "All forces", "", text + " Another one.", "", ""])
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows))
    assert (result.items_created, result.items_unchanged) == (1, 1)
    assert len((await store.snapshot()).items) == 2
    # Numbering an unnumbered item later updates it (audited) instead of adding a duplicate.
    rows[0][4] = "12"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows))
    assert (result.items_created, result.items_updated) == (0, 1)
    assert result.changes == ["vetting-misconduct-misogyny rec 12: number (blank) → 12"]
    item = (await items_by_number(store))["12"]
    assert (await store.history(item.id))[-1].field == "number"
    assert not (await import_file(store, write_csv(tmp_path / "a.csv", rows))).changed


async def test_bad_rows_are_all_reported_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    rows = [
        [*VETTING, "recommendation", "1", "", "", "Line two,\nspanning two lines.", "", ""],  # lines 2-3
        [*VETTING, "recommendation", "2", "", "", "", "", ""],  # line 4: no text
        [*VETTING, "suggestion", "3", "", "", "Some text", "", ""],  # line 5: unknown kind
        [*VETTING, "recommendation", "4", "", "2023-02-30", "Some text", "", ""],  # line 6: impossible date
        [VETTING[0], VETTING[1], "last spring", "recommendation", "5", "", "", "Some text", "", ""],  # line 7
        [*VETTING, "recommendation", "6", "", "", "Some text", "done-ish", ""],  # line 8: unknown status
        [*VETTING, "recommendation", "1", "", "", "Duplicate number", "", ""],  # line 9
    ]
    with pytest.raises(ImportRejected) as err:
        await import_file(store, write_csv(tmp_path / "bad.csv", rows))
    errors = err.value.errors
    assert errors[0] == "line 4 (spreadsheet row 3): no text"
    assert errors[1].startswith("line 5 (spreadsheet row 4): unknown kind 'suggestion'")
    assert errors[2].startswith("line 6 (spreadsheet row 5): due_date '2023-02-30' is not a real date")
    assert errors[3].startswith("line 7 (spreadsheet row 6): published 'last spring' is not a date")
    assert errors[4].startswith("line 8 (spreadsheet row 7): unknown status 'done-ish'")
    assert errors[5] == "line 9 (spreadsheet row 8): same report, kind and number as line 2"
    assert len(errors) == 6 and "nothing was written" in err.value.render()
    assert await store.current_seq() == 0 and await store.reports() == ()


async def test_dry_run_reports_the_same_changes_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    dry = await import_file(store, SAMPLE, dry_run=True)
    assert (
        await store.current_seq() == 0 and await store.reports() == () and await count(store, ItemEvent) == 0
    )
    real = await import_file(store, SAMPLE)
    assert (dry.items_created, dry.reports_created, dry.changes) == (
        real.items_created,
        real.reports_created,
        real.changes,
    )
    assert dry.seq is None and "Dry run: nothing was written." in dry.render()
    rows = [[*VETTING, "recommendation", "34", "", "", REC_34, "", ""]]
    await import_file(store, write_csv(tmp_path / "a.csv", rows))
    seq, events = await store.current_seq(), await count(store, ItemEvent)
    rows[0][8] = "evidenced"
    dry = await import_file(store, write_csv(tmp_path / "a.csv", rows), dry_run=True)
    assert dry.changes == ["vetting-misconduct-misogyny rec 34: status open → evidenced"]
    assert await store.current_seq() == seq and await count(store, ItemEvent) == events
    assert (await items_by_number(store))["34"].status == "open"


async def test_unknown_columns_are_kept_and_latest_evidence_is_warned(store: Store, tmp_path: Path) -> None:
    header = [*HEADER, "Notes", "latest_evidence", ""]
    rows = [[*VETTING, "recommendation", "34", "", "", REC_34, "", "", "our notes", "", ""]]
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    assert result.warnings == [] and "'Notes' → kept as its own column" in result.unusual_columns
    (item,) = (await store.snapshot()).items
    assert item.extra_columns == (("Notes", "our notes"),)
    rows[0][-2] = "Evidence typed into the sheet"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    assert not result.changed and len(result.warnings) == 1
    assert result.warnings[0].startswith(
        "line 2: latest_evidence differs from the stored evidence and is not imported"
    )


async def test_report_only_rows_and_aliases(store: Store, tmp_path: Path) -> None:
    header = ["report_title", "report_short", "report_type", "aliases", "text"]
    rows = [["JTAI Walsall – joint targeted area inspection", "jtai-walsall", "", "JTAI; Walsall JTAI", ""]]
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    assert (result.reports_created, result.items_created) == (1, 0)
    (report,) = await store.reports()
    assert report.report_type == "joint" and sorted(report.aliases) == ["JTAI", "Walsall JTAI"]
    rows[0][3] = "jtai; the Walsall one"
    result = await import_file(store, write_csv(tmp_path / "a.csv", rows, header))
    assert result.changes == ["report jtai-walsall: alias 'the Walsall one' added"]
    assert len((await store.reports())[0].aliases) == 3


async def test_progress_and_unreadable_files(store: Store, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    await import_file(store, SAMPLE, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 11) for n in range(1, 12)]
    quiet = io.StringIO()
    terminal_progress(quiet)(5, 10)
    assert quiet.getvalue() == ""
    (tmp_path / "latin1.csv").write_bytes("report_title,text\nCaf\xe9,x\n".encode("latin-1"))
    with pytest.raises(ImportRejected, match="rejected"):
        await import_file(store, tmp_path / "latin1.csv")
    with pytest.raises(ImportRejected):
        await import_file(store, write_csv(tmp_path / "notext.csv", [["a"]], ["report_title"]))


def test_addressee_and_report_type_rules() -> None:
    for ours in ("Chief constables", "All forces", "Police forces; regional organised crime units", "the force",
                 "West Mercia Police", "Chief constables and the College of Policing", None, ""):  # fmt: skip
        assert addressed_to_force(ours), ours
    for theirs in ("NPCC", "IOPC", "College of Policing", "Home Office", "Government / partner agencies",
                   "National Police Chiefs’ Council", "Police and crime commissioners"):  # fmt: skip
        assert not addressed_to_force(theirs), theirs
    assert guess_report_type("PEEL Spotlight report 2019 – Shining a light on betrayal") == "spotlight"
    assert guess_report_type("JTAI Walsall") == "joint"
    assert guess_report_type("A super-complaint investigation") == "super_complaint"
    assert guess_report_type("PEEL 2021/22 – An inspection of West Midlands Police") == "peel"
    assert guess_report_type("Roads policing: an inspection in England and Wales") == "national_thematic"
    assert guess_report_type("Crime data integrity – Devon and Cornwall Police") == "other"
