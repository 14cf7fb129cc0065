"""The domain paper's figures come back out: through `tracker pack --json`, the DOCX, and the chat dialog."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document

from bot.cli import main
from dialogs.committee.answers import answer
from dialogs.committee.questions import Ask, CommitteeQuestion
from storage.store import Store
from tests.kit.cardschema import assert_valid_card
from tests.kit.committee_data import (
    AS_OF,
    COVID_DA,
    EXPECTED,
    EXPECTED_BY_REPORT,
    LAST_JAC,
    PPDA,
    ROADS,
    VETTING,
    VETTING_TEXT,
    PaperTracker,
    build_paper_tracker,
)

LONDON = ZoneInfo("Europe/London")
JSON_KEYS = {
    "as_of", "since", "total", "live", "signed_off_since", "added_recommendations", "added_afis",
    "added_recommendations_for_force", "added_recommendations_other_bodies", "by_report",
}  # fmt: skip


@pytest.fixture
def paper_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> PaperTracker:
    async def build() -> PaperTracker:
        async with await Store.open(db_url) as store:
            return await build_paper_tracker(store)

    built = asyncio.run(build())
    monkeypatch.setenv("DATABASE_URL", db_url)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "TRACKER_ALLOWED_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    return built


def _pack_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["pack", "--json", *args]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_pack_json_gives_every_figure_of_the_paper(
    paper_db: PaperTracker, capsys: pytest.CaptureFixture[str]
) -> None:
    got = _pack_json(capsys, "--as-of", "2022-12-15")  # since: the last JAC strictly before, 22 September
    assert set(got) == JSON_KEYS
    assert {k: got[k] for k in EXPECTED} == EXPECTED
    by_report = {r["report"]: r for r in got["by_report"]}
    assert all(set(r) == {"report", "signed_off_since", "added_since", "live"} for r in got["by_report"])
    for key, want in EXPECTED_BY_REPORT.items():
        assert {k: by_report[key][k] for k in want} == want, key
    assert sum(r["signed_off_since"] for r in got["by_report"]) == 14
    assert sum(r["added_since"] for r in got["by_report"]) == 48
    assert sum(r["live"] for r in got["by_report"]) == got["live"]
    # The same day written as people write it, and the same period given explicitly.
    assert _pack_json(capsys, "--as-of", "15 December 2022") == got
    assert _pack_json(capsys, "--as-of", "2022-12-15", "--since", "2022-09-22") == got


def test_figures_as_of_another_day_come_from_the_history(
    paper_db: PaperTracker, capsys: pytest.CaptureFixture[str]
) -> None:
    # Since the December JAC: the two January sign-offs and the five items added in February.
    later = _pack_json(capsys, "--as-of", "2023-02-01")
    assert later["since"] == AS_OF.isoformat()
    assert (later["signed_off_since"], later["added_recommendations"], later["total"]) == (2, 5, 151)
    # Before the vetting report was published: nothing from it, and the window's sign-offs not yet made.
    early = _pack_json(capsys, "--as-of", "2022-10-31", "--since", "2022-09-22")
    assert early["total"] == 98 and early["added_recommendations"] == 0
    by_report = {r["report"]: r for r in early["by_report"]}
    assert VETTING not in by_report
    assert (by_report[ROADS]["signed_off_since"], by_report[PPDA]["signed_off_since"]) == (2, 2)
    assert (
        early["signed_off_since"] == 2 + 1 + 2
    )  # roads (3 and 10 Oct), covid (20 Oct), ppda (23 Sep, 5 Oct)
    # Today: the roads recommendation reopened today is live again; the December figures did not move.
    today = _pack_json(capsys, "--as-of", dt.date.today().isoformat(), "--since", "2022-09-22")
    assert {r["report"]: r for r in today["by_report"]}[ROADS]["live"] == 7
    assert _pack_json(capsys, "--as-of", "2022-12-15")["live"] == EXPECTED["live"]


async def test_chat_dialog_gives_the_papers_figures(db_url: str) -> None:
    async with await Store.open(db_url) as store:
        await build_paper_tracker(store)
        figures = await answer(store, CommitteeQuestion.since_last(Ask.FIGURES), AS_OF, LONDON)
        [reply] = figures.replies
        assert reply.card is not None
        assert_valid_card(reply.card)
        facts = {f["title"]: f["value"] for f in reply.card["body"][2]["facts"]}
        assert (
            facts["On the tracker"] == "146"
            and facts["Signed off"] == "14"
            and facts["Live"] == str(EXPECTED["live"])
        )
        assert facts["Recommendations added"] == "43" and facts["AFIs added"] == "5"
        assert facts["Added recommendations for police forces"] == "26"
        assert facts["Added recommendations for other bodies"] == "17"
        for line in ("On the tracker: 146", "Signed off: 14", "Recommendations added: 43", "AFIs added: 5",
                     "Added recommendations for police forces: 26", "Added recommendations for other bodies: 17"):  # fmt: skip
            assert line in reply.text, line
        assert "since the JAC on 22 September 2022" in reply.text

        signed = (await answer(store, CommitteeQuestion.since_last(Ask.SIGNED_OFF), AS_OF, LONDON)).replies[0]
        assert_valid_card(signed.card or {})
        assert signed.text.startswith("14 items signed off as complete since the JAC on 22 September 2022")
        for name, n in (("Vetting, misconduct and misogyny (2022)", 6), ("Roads Policing – Not optional (2020)", 4),
                        ("PEEL Spotlight – Shining a light on betrayal (2019)", 3), ("COVID – policing domestic abuse during the pandemic (2021)", 1)):  # fmt: skip
            assert f"- {name}: {n}" in signed.text, (name, signed.text)
        assert "Rec 33: signed off 20 Nov 2022" in signed.text  # the items behind the figure, by report

        added = (await answer(store, CommitteeQuestion.since_last(Ask.ADDED), AS_OF, LONDON)).replies[0]
        assert_valid_card(added.card or {})
        assert added.text.startswith(
            "48 items added since the JAC on 22 September 2022: 43 recommendations and 5 areas for improvement"
        )
        assert "For police forces: 31" in added.text  # 26 recommendations and 5 AFIs
        assert "For NPCC: 10" in added.text and "For IOPC: 7" in added.text
        assert "Already signed off: 6" in added.text

        split = (await answer(store, CommitteeQuestion.since_last(Ask.BY_ADDRESSEE), AS_OF, LONDON)).replies[
            0
        ]
        assert_valid_card(split.card or {})
        assert "Recommendations for police forces: 26" in split.text
        assert "Recommendations for other bodies: 17" in split.text
        assert split.text.startswith(
            "Of 48 items added since the JAC on 22 September 2022, 31 are for police forces and 17 for other bodies"
        )


async def test_chat_questions_over_other_periods(db_url: str) -> None:
    async with await Store.open(db_url) as store:
        await build_paper_tracker(store)
        november = CommitteeQuestion.in_month(Ask.CLOSED, 2022, 11)
        closed = (await answer(store, november, dt.date(2023, 3, 1), LONDON)).replies[0]
        assert_valid_card(closed.card or {})
        # 1 and 30 Nov (roads), 20 and 25 Nov (vetting).
        assert closed.text.startswith("4 items closed in November 2022"), closed.text
        months = CommitteeQuestion.last_months(
            Ask.SIGNED_OFF, 3, AS_OF
        )  # (15 Sep, 15 Dec]: 14 + the one on 22 Sep
        assert (
            (await answer(store, months, AS_OF, LONDON))
            .replies[0]
            .text.startswith("15 items signed off as complete in the last 3 months")
        )
        scoped = CommitteeQuestion.since_last(Ask.SIGNED_OFF, report_key=COVID_DA)
        one = await answer(store, scoped, AS_OF, LONDON)
        assert one.replies[0].text.startswith(
            "COVID – policing domestic abuse during the pandemic (2021): 1 item signed off"
        )
        assert one.state is not None and one.state.last_report == COVID_DA
        # No JAC before the first one: said plainly, not guessed.
        none = await answer(store, CommitteeQuestion.since_last(Ask.SIGNED_OFF), dt.date(2022, 6, 30), LONDON)
        assert "No JAC meeting is recorded before 30 June 2022" in none.replies[0].text
        unknown = await answer(
            store, CommitteeQuestion(Ask.ADDED, report_key="no-such-report"), AS_OF, LONDON
        )
        assert "I don't know a report called 'no-such-report'" in unknown.replies[0].text


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    return "\n".join(parts)


def test_pack_writes_the_paper(
    paper_db: PaperTracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "jac-2022-12-15.docx"
    assert main(["pack", "--as-of", "2022-12-15", "--out", str(out)]) == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    body = _docx_text(out)
    assert (
        "Since the last JAC (22 September 2022), the force has had 14 recommendations signed off as complete:"
        in body
    )
    assert (
        "Roads Policing – Not optional – An inspection of roads policing in England and Wales – four completed recommendations"
        in body
    )
    assert (
        "COVID – Review of policing domestic abuse during the pandemic 2021 – one completed recommendation"
        in body
    )
    assert "The tracker now holds a total of 146 items" in body
    assert "43 recommendations and 5 areas for improvement have been added" in body
    assert "Out of the 43 recommendations, 26 have been recommended to police forces, which leaves 17" in body
    assert "(NPCC 10, IOPC 7)" in body
    assert "The force has already completed six of the items added." in body
    for line in VETTING_TEXT["33"].splitlines():  # quoted in full, bullets as bullets
        assert line.removeprefix("- ") in body
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        footnotes = z.read("word/footnotes.xml").decode()
    assert any(n.startswith("word/media/") and n.endswith(".png") for n in names)  # the chart
    assert "Total: items on the tracker" in footnotes and "Signed off since" in footnotes
    # An older paper still counts from its own last JAC.
    old = tmp_path / "jac-2022-09-22.docx"
    assert main(["pack", "--as-of", "2022-09-22", "--out", str(old)]) == 0
    assert "Since the last JAC (30 June 2022)" in _docx_text(old)


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm")),
                    reason="needs LibreOffice (soffice) and poppler (pdftoppm): apt-get install libreoffice-writer-nogui poppler-utils")  # fmt: skip
def test_pack_pdf_renders_to_pages(
    paper_db: PaperTracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "paper.docx"
    assert main(["pack", "--as-of", "2022-12-15", "--out", str(out), "--pdf"]) == 0, capsys.readouterr().err
    pdf = out.with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3, pages  # counts and chart, completed recommendations, open items by report...
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 2000 for p in pages)


def test_pack_without_libreoffice_says_so(paper_db: PaperTracker, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on this PATH
    out = tmp_path / "paper.docx"
    assert main(["pack", "--as-of", "2022-12-15", "--out", str(out), "--pdf"]) == 1
    err = capsys.readouterr().err
    assert "no PDF: LibreOffice is not installed here" in err and str(out) in err
    assert out.exists() and not out.with_suffix(".pdf").exists()
    assert len(err.strip().splitlines()) == 1


def test_empty_tracker_gives_a_paper_that_says_so(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "empty.docx"
    assert main(["pack", "--as-of", "2022-12-15", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    got = json.loads(captured.out)
    assert (got["total"], got["live"], got["signed_off_since"], got["by_report"]) == (0, 0, 0, [])
    assert got["since"] is None and "no JAC meeting is recorded" in captured.err
    assert "so there is nothing to report" in _docx_text(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "the fifteenth"], "--as-of: can't read 'the fifteenth' as a date"),
        (["--as-of", "2022-13-01"], "--as-of: can't read '2022-13-01' as a date"),
        (
            ["--as-of", "2022-12-15", "--since", "2023-01-01"],
            "--since 2023-01-01 must be before --as-of 2022-12-15",
        ),
        (
            ["--as-of", "2022-12-15", "--since", "2022-12-15"],
            "--since 2022-12-15 must be before --as-of 2022-12-15",
        ),
        (
            ["--as-of", "2010-01-01"],
            "--as-of 2010-01-01 is before anything on the tracker (the first item joined on 2014-10-01)",
        ),
        (["--as-of", "2022-12-15", "--since", "sometime"], "--since: can't read 'sometime' as a date"),
    ],
)
def test_pack_bad_input_is_one_line_and_writes_nothing(
    paper_db: PaperTracker, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["pack", *args, "--out", str(folder / "paper.docx")]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_pack_needs_somewhere_to_write(
    paper_db: PaperTracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "--as-of", "2022-12-15"]) == 2
    assert "pack needs --out FILE.docx, --json, or both" in capsys.readouterr().err
    assert main(["pack", "--as-of", "2022-12-15", "--out", str(tmp_path / "missing" / "p.docx")]) == 2
    assert "folder" in capsys.readouterr().err and not (tmp_path / "missing").exists()


def test_paper_builder_is_a_pure_function_of_the_figures() -> None:
    from dialogs.committee.pack import build_pack
    from storage.committee import build_history, figures

    empty = figures(build_history([], [], [], LONDON), AS_OF, LAST_JAC)
    data = build_pack(empty)
    assert data[:2] == b"PK" and "nothing to report" in "\n".join(
        p.text for p in Document(io.BytesIO(data)).paragraphs
    )
