"""The HMICFRS update paper for the committee, as a Word document (python-docx), from the figures.

:func:`build_pack` is pure: figures in, DOCX bytes out. It follows the shape of the SD&A team's
own paper (tests/fixtures/jac-hmicfrs-update-2022-12.txt): purpose; what changed since the last
meeting (signed off by report, added by kind and by addressee, the total); the themes; the
completed recommendations quoted in full; open items by report with owner, target date and RAG;
overdue and re-targeted items; upcoming inspections where recorded; the definitions in a footnote.

Tables are written as WordprocessingML directly (one parse per table): python-docx's cell API
costs ~1 ms a cell, too slow for a tracker of 10,000 items.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from dialogs.cards import KIND_LABEL, KIND_LONG, report_name
from dialogs.committee.chart import live_by_report_png
from dialogs.committee.words import day_label, kinds, number_word, short_day
from storage.committee import FORCES, Figures
from storage.store import DEFAULT_COMMITTEE
from storage.views import ItemView

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RAG_FILL = {"red": "F4B6B0", "amber": "FFE59A", "green": "B7DFC2", "complete": "BDD7EE"}
SUMMARY_CHARS = 220
# Characters XML 1.0 cannot carry (control characters pasted from other systems).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

DEFINITIONS = (
    "Definitions. Total: items on the tracker (recommendations, areas for improvement and causes of concern; any "
    "status, any addressee) that had joined it by the as-of date. Live: open, in progress, or evidenced and "
    "awaiting HMICFRS sign-off, as of that date. Signed off since: items whose HMICFRS sign-off date falls after "
    "the last meeting and on or before the as-of date. Added since: items that joined the tracker in that period "
    "(the import's added-on date, else the report's publication date). For police forces: addressed to chief "
    "constables, forces or the force itself; other bodies: the NPCC, IOPC, College of Policing, Home Office and "
    "the like. RAG: red, past its target date; amber, due within 30 days or re-targeted twice or more; green, "
    "otherwise; complete, signed off; a RAG set by hand is shown as such.",
    "Figures for a past date come from the tracker's history, not from its state today: sign-offs count from "
    "the date HMICFRS signed them off; other changes from the day they were recorded.",
)


def clean(value: object) -> str:
    return _NOT_XML.sub("", str(value if value is not None else ""))


def build_pack(fig: Figures, *, committee: str | None = None, chart: bool = True) -> bytes:
    """The paper as DOCX bytes. ``committee``: the meeting's name (default: the last meeting's, else JAC)."""
    name = committee or (fig.meeting.name if fig.meeting else DEFAULT_COMMITTEE)
    doc = Document()
    _styles(doc)
    doc.core_properties.title = f"HMICFRS update – {name} {day_label(fig.as_of)}"
    doc.core_properties.subject = "HMICFRS inspection activity and recommendations"
    doc.core_properties.author = "Strategy, Delivery & Assurance (Tracker)"
    _title(doc, name, fig)
    notes = _Footnotes()
    _heading(doc, "1. Purpose of report", 1)
    doc.add_paragraph(
        "To provide members of the Committee with oversight of HMICFRS inspection activity and recommendations."
    )
    _heading(doc, f"2. Recommendations since the last {name}", 1)
    if not fig.total:
        p = doc.add_paragraph(
            "The recommendation action tracker holds no recommendations, areas for improvement or causes of "
            f"concern as of {day_label(fig.as_of)}, so there is nothing to report."
        )
        notes.mark(p, DEFINITIONS)
        notes.attach(doc)
        return _save(doc)
    _counts(doc, fig, name, notes)
    png = live_by_report_png(fig) if chart else None
    if png:
        doc.add_picture(io.BytesIO(png), width=Cm(16))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _themes(doc, fig)
    _completed(doc, fig)
    _open_items(doc, fig)
    _overdue(doc, fig)
    _retargeted(doc, fig)
    _inspections(doc, fig)
    notes.attach(doc)
    return _save(doc)


def _save(doc: DocxDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _styles(doc: DocxDocument) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    for level, size in ((1, 13), (2, 11)):
        h = doc.styles[f"Heading {level}"]
        h.font.name = "Arial"
        h.font.size = Pt(size)
        h.font.color.rgb = RGBColor(0x1F, 0x1F, 0x1F)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin = section.bottom_margin = Cm(2.0)


def _title(doc: DocxDocument, name: str, fig: Figures) -> None:
    full = "Joint Audit Committee" if name.upper() == "JAC" else name
    for text, size in ((full.upper(), 14), (day_label(fig.as_of), 12), ("HMICFRS UPDATE", 14)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold = True
        run.font.size = Pt(size)
    scope = f" for {fig.scope.title}" if fig.scope else ""
    since = f"after {day_label(fig.since)}" if fig.since else "since the tracker began"
    p = doc.add_paragraph(f"Figures{scope} as of {day_label(fig.as_of)}; changes counted {since}.")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.runs[0].italic = True


def _kinds_phrase(items: Iterable[ItemView], *, words: bool = False) -> str:
    counts: dict[str, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    order = ("recommendation", "afi", "cause_of_concern")
    parts = [kinds(counts[k], k) for k in order if counts.get(k)]
    if words:
        parts = [
            f"{number_word(counts[k])} {p.split(' ', 1)[1]}"
            for k, p in zip([k for k in order if counts.get(k)], parts, strict=True)
        ]
    if not parts:
        return "no items"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _counts(doc: DocxDocument, fig: Figures, name: str, notes: _Footnotes) -> None:
    since = f"Since the last {name} ({day_label(fig.since)})" if fig.since else "Since the tracker began"
    signed = fig.signed_off
    if signed:
        p = doc.add_paragraph(f"{since}, the force has had {_kinds_phrase(signed)} signed off as complete:")
        for report, items in fig.by_report_of(signed):
            _bullet(
                doc,
                f"{report.title} – {_kinds_phrase(items, words=True).replace('recommendation', 'completed recommendation', 1)}",
            )
    else:
        p = doc.add_paragraph(f"{since}, no recommendations have been signed off as complete.")
    notes.mark(p, DEFINITIONS)
    added = fig.added
    total = f"The tracker now holds a total of {fig.total} items ({_kinds_phrase(fig.items)})"
    if added:
        doc.add_paragraph(f"{total}; {_kinds_phrase(added)} have been added:")
        for report, items in fig.by_report_of(added):
            _bullet(doc, f"{report.title} – {_kinds_phrase(items, words=True)}")
    else:
        doc.add_paragraph(f"{total}; none have been added.")
    recs = fig.added_recommendations
    if recs:
        others = [(g, n) for g, n in _groups(i for i in added if i.kind == "recommendation") if g != FORCES]
        detail = f" ({', '.join(f'{g} {n}' for g, n in others)})" if others else ""
        doc.add_paragraph(
            f"Out of the {recs} recommendations, {fig.added_recommendations_for_force} have been recommended to police "
            f"forces, which leaves {fig.added_recommendations_other_bodies} that have been recommended to other "
            f"bodies{detail}."
        )
    done = fig.added_completed()
    if done:
        doc.add_paragraph(f"The force has already completed {number_word(len(done))} of the items added.")
    overdue = len(fig.overdue())
    rag = fig.rag_counts()
    doc.add_paragraph(
        f"There are {fig.live} live items (open, in progress, or evidenced and awaiting sign-off); {overdue} "
        f"{'is' if overdue == 1 else 'are'} overdue. RAG: {rag.get('red', 0)} red, {rag.get('amber', 0)} amber, "
        f"{rag.get('green', 0)} green."
    )
    rows = [
        [report_name(r.report), str(r.signed_off_since), str(r.added_since), str(r.live)]
        for r in fig.by_report
    ]
    _table(doc, ["Report", "Signed off since", "Added since", "Live"], rows, [9.0, 2.4, 2.4, 2.0])


def _groups(items: Iterable[ItemView]) -> list[tuple[str, int]]:
    from storage.committee import addressee_group

    counts: dict[str, int] = {}
    for i in items:
        g = addressee_group(i)
        counts[g] = counts.get(g, 0) + 1
    return sorted(counts.items(), key=lambda kv: (kv[0] != FORCES, -kv[1], kv[0]))


def _themes(doc: DocxDocument, fig: Figures) -> None:
    themes = fig.themes()
    if not themes:
        return
    where = "the items added" if fig.added else "the live items"
    doc.add_paragraph(f"The below themes have been highlighted from {where}:")
    for theme, n in themes:
        _bullet(doc, f"{theme} ({n} item{'s' if n != 1 else ''})")


def _completed(doc: DocxDocument, fig: Figures) -> None:
    _heading(doc, "3. Completed recommendations", 1)
    if not fig.signed_off:
        doc.add_paragraph("None in this period.")
        return
    for report, items in fig.by_report_of(fig.signed_off):
        _heading(doc, clean(report.title), 2)
        for i in items:
            head = doc.add_paragraph()
            head.add_run(
                clean(f"{KIND_LONG.get(i.kind, i.kind).capitalize()} {i.number}".strip())
            ).bold = True
            head.add_run(f" – signed off {day_label(i.signed_off_on)}").italic = True
            _quote(doc, i.text)


def _quote(doc: DocxDocument, body: str) -> None:
    """An item's text in full; its "- " lines as bullets, as HMICFRS prints them."""
    for line in clean(body).splitlines():
        line = line.strip()
        if not line:
            continue
        if line[:2] in ("- ", "• ", "* "):
            _bullet(doc, line[2:].strip())
        else:
            doc.add_paragraph(line)


def _bullet(doc: DocxDocument, text: str) -> Paragraph:
    return doc.add_paragraph(clean(text), style=_style(doc, "List Bullet"))


def _heading(doc: DocxDocument, text: str, level: int) -> Paragraph:
    return doc.add_paragraph(clean(text), style=_style(doc, f"Heading {level}"))


def _style(doc: DocxDocument, name: str) -> Any:
    """A style by name, looked up once per document (python-docx searches the styles part each time)."""
    cache: dict[str, Any] = doc.__dict__.setdefault("_tracker_styles", {})
    if name not in cache:
        cache[name] = doc.styles[name]
    return cache[name]


def _ref(i: ItemView) -> str:
    return f"{KIND_LABEL.get(i.kind, i.kind)} {i.number}".strip()


def _due(i: ItemView) -> str:
    if i.revised_due_date:
        return (
            f"{short_day(i.revised_due_date)} (was {short_day(i.due_date)})"
            if i.due_date
            else short_day(i.revised_due_date)
        )
    return short_day(i.due_date) if i.due_date else (i.deadline_text or "none")


def _rag(i: ItemView, fig: Figures) -> str:
    rag = i.rag(fig.as_of)
    return (rag.capitalize() if rag else "Not the force's") + (" (set by hand)" if i.rag_override else "")


def _open_items(doc: DocxDocument, fig: Figures) -> None:
    _heading(doc, "4. Open items by report", 1)
    live = fig.open_items()
    if not live:
        doc.add_paragraph("No items are live.")
        return
    doc.add_paragraph(f"{len(live)} live items, by report, with their lead, target date and RAG rating.")
    for report, items in fig.by_report_of(live):
        _heading(doc, clean(report.title), 2)
        rows = [
            [_ref(i), _summary(i.text), i.owner_name or "not assigned", _due(i), _rag(i, fig)] for i in items
        ]
        fills = [RAG_FILL.get(i.rag(fig.as_of) or "", "") for i in items]
        _table(
            doc,
            ["Ref", "Summary", "Owner", "Target", "RAG"],
            rows,
            [1.8, 7.4, 3.4, 2.6, 1.6],
            fill_col=4,
            fills=fills,
        )


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1].rstrip() + "…"


def _overdue(doc: DocxDocument, fig: Figures) -> None:
    _heading(doc, "5. Overdue items", 1)
    late = fig.overdue()
    if not late:
        doc.add_paragraph(f"No items are past their target date as of {day_label(fig.as_of)}.")
        return
    rows = [
        [report_name(fig.reports[i.report_id]) if i.report_id in fig.reports else "?", _ref(i), i.owner_name or "not assigned",
         _due(i), str((fig.as_of - i.target_date).days) if i.target_date else ""]
        for i in late
    ]  # fmt: skip
    _table(doc, ["Report", "Ref", "Owner", "Target", "Days overdue"], rows, [5.0, 1.8, 4.2, 3.4, 2.4])


def _retargeted(doc: DocxDocument, fig: Figures) -> None:
    moved = fig.retargeted(1)
    if not moved:
        return
    _heading(doc, "6. Items re-targeted more than once", 1)
    rows = [
        [report_name(fig.reports[i.report_id]) if i.report_id in fig.reports else "?", _ref(i), str(i.retarget_count), _due(i)]
        for i in moved
    ]  # fmt: skip
    _table(doc, ["Report", "Ref", "Times moved", "Target"], rows, [7.0, 2.0, 2.4, 5.4])


def _inspections(doc: DocxDocument, fig: Figures) -> None:
    _heading(doc, "7. Upcoming inspections", 1)
    upcoming = [i for i in fig.inspections if i.starts_on >= fig.as_of]
    if not upcoming:
        doc.add_paragraph("No upcoming inspections are recorded on the tracker.")
        return
    for i in upcoming:
        _bullet(doc, f"{day_label(i.starts_on)}: {i.name}" + (f" – {i.note}" if i.note else ""))


# ---- tables and footnotes as WordprocessingML -------------------------------------------------------


def _table(
    doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float],
    *, fill_col: int | None = None, fills: Sequence[str] = (),
) -> None:  # fmt: skip
    """A grid table with a repeated header row, written as one piece of XML."""
    table = doc.add_table(rows=0, cols=len(header), style=_style(doc, "Table Grid"))
    twips = [int(w * 567) for w in widths_cm]
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(f"{{{W}}}gridCol"), twips, strict=True):
        col.set(f"{{{W}}}w", str(width))

    def cell(value: str, width: int, *, bold: bool = False, fill: str = "") -> str:
        shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
        b = "<w:b/>" if bold else ""
        return (
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr><w:p><w:pPr><w:spacing w:after="0"/></w:pPr>'
            f'<w:r><w:rPr>{b}<w:sz w:val="17"/></w:rPr><w:t xml:space="preserve">{escape(clean(value))}</w:t></w:r></w:p></w:tc>'
        )

    parts = [f'<w:tbl xmlns:w="{W}">', "<w:tr><w:trPr><w:tblHeader/></w:trPr>"]
    parts += [cell(h, w, bold=True, fill="D9D9D9") for h, w in zip(header, twips, strict=True)]
    parts.append("</w:tr>")
    for n, row in enumerate(rows):
        parts.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        for c, (value, width) in enumerate(zip(row, twips, strict=True)):
            parts.append(cell(value, width, fill=fills[n] if c == fill_col and n < len(fills) else ""))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    for tr in parse_xml("".join(parts)).findall(f"{{{W}}}tr"):
        table._tbl.append(tr)
    doc.add_paragraph()


class _Footnotes:
    """Real Word footnotes (python-docx has no API for them): a footnotes part and reference runs."""

    def __init__(self) -> None:
        self._notes: list[Sequence[str]] = []

    def mark(self, paragraph: Paragraph, texts: Sequence[str]) -> None:
        self._notes.append(texts)
        ref = parse_xml(
            f'<w:r xmlns:w="{W}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
            f'<w:footnoteReference w:id="{len(self._notes)}"/></w:r>'
        )
        paragraph._p.append(ref)

    def attach(self, doc: DocxDocument) -> None:
        if not self._notes:
            return
        sep = (
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
            'w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
            'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
        )
        body = []
        for n, texts in enumerate(self._notes, start=1):
            paras = []
            for k, t in enumerate(texts):
                mark = (
                    '<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
                    if k == 0
                    else ""
                )
                paras.append(
                    f'<w:p><w:pPr><w:spacing w:after="40"/></w:pPr>{mark}<w:r><w:rPr><w:sz w:val="16"/></w:rPr>'
                    f'<w:t xml:space="preserve">{" " if k == 0 else ""}{escape(clean(t))}</w:t></w:r></w:p>'
                )
            body.append(f'<w:footnote w:id="{n}">{"".join(paras)}</w:footnote>')
        xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W}">{sep}{"".join(body)}</w:footnotes>'
        part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, xml.encode("utf-8"), doc.part.package)
        doc.part.relate_to(part, RT.FOOTNOTES)
