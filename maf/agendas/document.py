"""The agenda as a Word document, circulated before a forum meeting so that agencies can check
their records for each child (seed 004).

It names children, so it is marked OFFICIAL-SENSITIVE on every page and says not to forward it.
"""

import io
import re
from datetime import date, datetime, time, timedelta

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor, Twips
from docx.table import Table
from docx.text.paragraph import Paragraph
from flask import current_app

from maf.agendas.models import AgendaItem, ItemKind
from maf.agendas.presenters import NOT_ALLOCATED, presenter
from maf.agendas.services import Slot, TimedAgenda, timed_agenda
from maf.dbtypes import utcnow
from maf.forums.models import Meeting, MeetingStatus
from maf.forums.services import active_members
from maf.rules.words import words
from maf.words import plural

PROTECTIVE_MARKING = "OFFICIAL-SENSITIVE"
NOT_KNOWN = "Not known"
CANCELLED = "CANCELLED: this meeting will not take place."
CONFIDENTIALITY_NOTE = (
    "This agenda names children and holds their personal data. It is for forum members only: "
    "do not forward, copy or share it. Before the meeting, check your own agency's records for "
    "each child listed and bring what you know. Destroy printed copies securely afterwards."
)
FONT = "Arial"
BLACK = RGBColor(0, 0, 0)
HEADER_SHADING = "D9D9D9"
BREAK_SHADING = "F2F2F2"
TABLE_STYLE = "Agenda Table"
TABLE_TEXT = "Table Text"
TABLE_TEXT_ID = "TableText"

ITEM_COLUMNS = (
    ("Time", 2.3),
    ("Type", 2.4),
    ("Case", 1.7),
    ("Child", 3.4),
    ("Date of birth", 2.9),
    ("School or setting", 3.8),
    ("Referrer", 4.0),
    ("Presenter", 3.2),
    ("Lead professional", 3.0),
)  # centimetres: 26.7, the width between A4 landscape's margins
MEMBER_COLUMNS = (("Name", 8.0), ("Agency", 12.5), ("Role", 5.0))


def _item_columns() -> tuple[tuple[str, float], ...]:
    """The items' columns, the last named in the words in force now ("Lead practitioner")."""
    lead = words().lead_professional_cap
    return tuple(
        (lead if title == "Lead professional" else title, width) for title, width in ITEM_COLUMNS
    )


# Characters XML 1.0 cannot hold; lxml refuses them, and one stray control character pasted
# into a name would otherwise stop the whole agenda being produced.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def agenda_document(meeting: Meeting) -> bytes:
    """The .docx agenda for `meeting`, as the coordinator circulates it to the members."""
    from maf.outcomes.services import current_leads  # outcomes build on agendas

    forum = meeting.forum
    agenda = timed_agenda(meeting)
    # All the items' lead professionals in one go: a query per item was a sixth of the time.
    leads = current_leads([slot.item.case for slot in agenda.slots if slot.item is not None])
    document = Document()
    _set_up_styles(document)
    _set_up_page(document, current_app.config["ORGANISATION_NAME"])
    _set_properties(document, meeting, current_app.config["ORGANISATION_NAME"])

    if meeting.status == MeetingStatus.CANCELLED:
        # First, before anything else, so nobody prepares for (or travels to) a meeting that is
        # not happening from a copy that was printed or forwarded earlier.
        cancelled = document.add_paragraph()
        run = cancelled.add_run(CANCELLED)
        run.bold, run.font.size = True, Pt(20)
    document.add_heading(_clean(f"{forum.name}: agenda"), level=1)
    _add_labelled(document, "Date", long_date(meeting.date))
    _add_labelled(document, "Time", f"{clock(meeting.start_time)}–{clock(_booked_until(meeting))}")
    _add_labelled(document, "Venue", meeting.venue)
    if meeting.joining_link:
        _add_link(_add_labelled(document, "Join online", ""), meeting.joining_link)
    _add_labelled(document, "Chair", forum.chair.name if forum.chair else "Not yet appointed")
    if forum.coordinator:
        _add_labelled(document, "Coordinator", forum.coordinator.name)
    _add_note(document, CONFIDENTIALITY_NOTE)

    document.add_heading("Members", level=2)
    members = active_members(forum)
    if members:
        table = _add_table(document, MEMBER_COLUMNS)
        for member in members:
            _add_row(table, (member.name, member.agency.name, member.role.label))
    else:
        document.add_paragraph("No members have been added to this forum yet.")

    document.add_heading("Agenda items", level=2)
    if agenda.slots:
        table = _add_table(document, _item_columns())
        for slot in agenda.slots:
            if slot.item is None:
                _add_break_row(table, slot)
            else:
                _add_row(table, _item_cells(slot, slot.item, leads.get(slot.item.case_id)))
    else:
        document.add_paragraph("Nothing is on the agenda yet.")

    _add_totals(document, meeting, agenda)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def lead_professional(item: AgendaItem, lead) -> str:
    """Who leads the work with the child (`lead`, the case's current lead professional). A new
    case's lead professional is agreed at the meeting itself, so its cell stays empty until
    then."""
    from maf.outcomes.services import describe_lead  # outcomes build on agendas

    if lead is None:
        return "" if item.kind == ItemKind.NEW_CASE else NOT_ALLOCATED
    return describe_lead(lead)


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def clock(at: time) -> str:
    return f"{at:%H:%M}"


def case_reference(case_id: int) -> str:
    # The same wording as the case pages, so a member can find the case they are asked about.
    return f"Case {case_id}"


# --- content -----------------------------------------------------------------------------


def _booked_until(meeting: Meeting) -> time:
    start = datetime.combine(meeting.date, meeting.start_time)
    return (start + timedelta(minutes=meeting.length_minutes)).time()


def _item_cells(slot: Slot, item: AgendaItem, lead) -> tuple[str, ...]:
    case = item.case
    child = case.child
    return (
        f"{clock(slot.starts)}–{clock(slot.ends)}",
        item.kind.label,
        case_reference(case.id),
        child.full_name,
        short_date(child.date_of_birth),
        # The child's own school or setting; never the referrer's agency type, which says
        # where the CAF came from, not where the child goes.
        child.school_or_setting or NOT_KNOWN,
        f"{case.referrer_name}\n{case.referrer_agency.name}",
        presenter(item, lead),
        lead_professional(item, lead),
    )


def _add_totals(document: DocxDocument, meeting: Meeting, agenda: TimedAgenda) -> None:
    document.add_heading("Totals", level=2)
    _add_labelled(document, "New cases", str(agenda.new_cases))
    _add_labelled(document, "Reviews and sign-offs", str(agenda.reviews))
    _add_labelled(
        document,
        "Planned finish",
        f"{clock(agenda.ends)} (the meeting is booked until {clock(_booked_until(meeting))})",
    )
    if agenda.warnings:
        document.add_heading("Timing warnings", level=2)
        for warning in agenda.warnings:
            document.add_paragraph(_clean(warning), style="List Bullet")


def _add_labelled(document: DocxDocument, label: str, value: str) -> Paragraph:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(_clean(value))
    return paragraph


def _add_link(paragraph: Paragraph, url: str) -> None:
    """`url` as a link Word opens on a click (python-docx has no call for one): a w:hyperlink
    pointing at an external relationship, its text underlined in Word's link blue."""
    relationship = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), relationship)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    properties.extend((colour, underline))
    text = OxmlElement("w:t")
    text.text = _clean(url)
    run.extend((properties, text))
    hyperlink.append(run)
    paragraph._p.append(hyperlink)


def _add_note(document: DocxDocument, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{PROTECTIVE_MARKING}. ").bold = True
    paragraph.add_run(text)
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), "single")
        border.set(qn("w:sz"), "8")
        border.set(qn("w:space"), "4")
        border.set(qn("w:color"), "000000")
        borders.append(border)
    # Word rejects a pPr whose children are out of schema order.
    paragraph._p.get_or_add_pPr().insert_element_before(
        borders, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.space_after = Pt(12)


def _clean(value: str) -> str:
    # A CRLF (how browsers send a text area's line breaks) would be two line breaks in Word.
    return _NOT_XML.sub("", value.replace("\r\n", "\n"))


# --- tables ------------------------------------------------------------------------------


def _add_table(document: DocxDocument, columns: tuple[tuple[str, float], ...]) -> Table:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = document.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    # A fixed layout renders the same in Word and LibreOffice and saves a layout pass.
    table.autofit = False
    for column, (_, width) in zip(table.columns, columns, strict=True):
        column.width = Cm(width)
    header = table.rows[0]
    trPr = header._tr.get_or_add_trPr()
    # Repeated on every page so a long agenda can be read from any page.
    trPr.append(OxmlElement("w:tblHeader"))
    trPr.append(OxmlElement("w:cantSplit"))
    for cell, (title, width) in zip(header.cells, columns, strict=True):
        cell.width = Cm(width)
        _shade(cell._tc, HEADER_SHADING)
        paragraph = cell.paragraphs[0]
        _table_text(paragraph)
        paragraph.add_run(title).bold = True
    return table


def _add_row(table: Table, values: tuple[str, ...]) -> None:
    row = table.add_row()
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for cell, value in zip(row.cells, values, strict=True):
        paragraph = cell.paragraphs[0]
        _table_text(paragraph)
        if value:
            # A "\n" in run text becomes a line break, keeping the lines in one cell.
            paragraph.add_run(_clean(value))


def _add_break_row(table: Table, slot: Slot) -> None:
    row = table.add_row()
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    cells = row.cells
    merged = cells[1].merge(cells[-1])
    for cell, text in ((cells[0], f"{clock(slot.starts)}–{clock(slot.ends)}"), (merged, "Break")):
        _shade(cell._tc, BREAK_SHADING)
        paragraph = cell.paragraphs[0]
        _table_text(paragraph)
        paragraph.add_run(text).bold = cell is merged
    _table_text(merged.add_paragraph(plural(slot.minutes, "minute")))


def _table_text(paragraph: Paragraph) -> None:
    # By id: setting the style by name makes python-docx search every style, which was
    # most of the time taken by a long agenda.
    paragraph._p.get_or_add_pPr().style = TABLE_TEXT_ID


def _shade(tc, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tc.get_or_add_tcPr().append(shading)


# --- page and styles ---------------------------------------------------------------------


def _set_up_page(document: DocxDocument, organisation: str) -> None:
    section = document.sections[0]
    # Landscape A4, so the nine columns of the item table fit without wrapping every word.
    section.orientation = WD_ORIENT.LANDSCAPE
    # Word's own A4 size in twips; Cm(29.7) rounds to a size Word calls "Custom".
    section.page_width, section.page_height = Twips(16838), Twips(11906)
    section.left_margin = section.right_margin = Cm(1.5)
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.header_distance = section.footer_distance = Cm(0.8)

    # The marking goes at the top and bottom of every page (Government Security
    # Classifications), so it survives a page being printed or photocopied on its own.
    header = section.header
    marking = header.paragraphs[0]
    marking.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marking.add_run(PROTECTIVE_MARKING).bold = True
    header.add_paragraph(_clean(organisation)).alignment = WD_ALIGN_PARAGRAPH.CENTER

    footer = section.footer
    pages = footer.paragraphs[0]
    pages.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pages.add_run("Page ")
    _add_field(pages, "PAGE", "1")
    pages.add_run(" of ")
    _add_field(pages, "NUMPAGES", "1")
    bottom = footer.add_paragraph()
    bottom.alignment = WD_ALIGN_PARAGRAPH.CENTER
    bottom.add_run(PROTECTIVE_MARKING).bold = True


def _add_field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """A complex field; Word and LibreOffice replace the placeholder when they lay out pages."""

    def fld_char(kind: str) -> None:
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(char)

    fld_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    fld_char("separate")
    paragraph.add_run(placeholder)
    fld_char("end")


def _set_up_styles(document: DocxDocument) -> None:
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.0
    for name, size in (("Heading 1", 16), ("Heading 2", 13)):
        heading = styles[name]
        heading.font.name = FONT
        heading.font.size = Pt(size)
        heading.font.color.rgb = BLACK
        heading.paragraph_format.space_before = Pt(12)
        heading.paragraph_format.space_after = Pt(6)

    table_text = styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.style_id = TABLE_TEXT_ID
    table_text.base_style = normal
    table_text.font.size = Pt(9)
    table_text.paragraph_format.space_before = Pt(2)
    table_text.paragraph_format.space_after = Pt(2)

    table_style = styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    table_style.base_style = styles["Table Grid"]
    # Word applies the bold, shaded first row through the style; the cells also carry it
    # directly because LibreOffice applies table-style conditional formatting unreliably.
    header = OxmlElement("w:tblStylePr")
    header.set(qn("w:type"), "firstRow")
    run = OxmlElement("w:rPr")
    run.append(OxmlElement("w:b"))
    header.append(run)
    cell = OxmlElement("w:tcPr")
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), HEADER_SHADING)
    cell.append(shading)
    header.append(cell)
    table_style.element.append(header)

    # The template's styles name theme fonts (Calibri, Cambria), which win over a plain font
    # name; replacing every rFonts makes Arial hold throughout, headings included.
    for fonts in styles.element.iter(qn("w:rFonts")):
        for name in list(fonts.attrib):
            del fonts.attrib[name]
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)
    for lang in styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), "en-GB")


def _set_properties(document: DocxDocument, meeting: Meeting, organisation: str) -> None:
    # File properties travel with the file and show in search results and previews, so they
    # say what the document is and never whom it is about.
    properties = document.core_properties
    properties.title = _clean(f"{meeting.forum.name} agenda, {long_date(meeting.date)}")
    properties.subject = "Multi-agency forum agenda"
    properties.author = properties.last_modified_by = _clean(organisation)
    properties.category = PROTECTIVE_MARKING
    properties.keywords = PROTECTIVE_MARKING
    properties.comments = ""
    properties.language = "en-GB"
    now = utcnow().replace(microsecond=0)
    properties.created = properties.modified = now
    properties.revision = 1
