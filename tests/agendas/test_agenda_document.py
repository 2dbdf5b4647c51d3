"""The agenda document: the agenda is circulated before the meeting so agencies can check their
records (seed 004). It is read back with python-docx, and converted by LibreOffice when
LibreOffice is installed, to show that it opens in an office suite."""

import io
from datetime import date, time
from types import SimpleNamespace

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Twips

from maf.agendas.document import agenda_document
from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases.models import CaseStatus
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member, remove_member
from tests.conftest import converted_to_pdf


@pytest.fixture
def open_case(make_case):
    """A case the forum has already taken on, so it can be reviewed or signed off."""

    def make(*args, **kwargs):
        case = make_case(*args, **kwargs)
        case.status = CaseStatus.OPEN
        db.session.commit()
        return case

    return make


@pytest.fixture
def agenda(make_forum, make_meeting, make_ready_case, open_case, make_agency, coordinator):
    # A break at 10:00 falls inside the second new case, so it is taken before that case.
    forum = make_forum(breaks=[(time(10, 0), 15)])
    meeting = make_meeting(forum=forum)
    police = make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    health = make_agency(name="Leicestershire Partnership NHS Trust", type=AgencyType.HEALTH)
    add_member(
        forum,
        name="Anna Brown",
        email="anna.brown@example.org",
        agency=police,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    add_member(
        forum,
        name="Ben Carter",
        email="ben.carter@example.org",
        agency=health,
        role=MemberRole.OBSERVER,
        user=coordinator,
    )
    gone = add_member(
        forum,
        name="Cara Left",
        email="cara.left@example.org",
        agency=health,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    remove_member(gone, coordinator)

    primary = make_agency(name="Outwoods Edge Primary School", type=AgencyType.PRIMARY_SCHOOL)
    first = make_ready_case("Jessica", "Thompson", date(2016, 5, 17), school=primary)
    second = make_ready_case("Oliver", "Reid", date(2012, 9, 3))
    review = open_case("Amelia", "Patel", date(2014, 2, 28))
    sign_off = open_case("Noah", "Evans", date(2011, 11, 1))
    add_to_agenda(meeting, first, ItemKind.NEW_CASE, coordinator)
    add_to_agenda(meeting, second, ItemKind.NEW_CASE, coordinator, presenter_name="Sam Hughes")
    add_to_agenda(meeting, review, ItemKind.REVIEW, coordinator, presenter_name="Kwame Mensah")
    add_to_agenda(meeting, sign_off, ItemKind.SIGN_OFF, coordinator)
    return SimpleNamespace(
        meeting=meeting, cases=(first, second, review, sign_off), forum=forum, school=primary
    )


def read(data: bytes):
    return Document(io.BytesIO(data))


def paragraphs(document) -> list[str]:
    return [paragraph.text for paragraph in document.paragraphs]


def rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_meeting_details_members_and_confidentiality(agenda):
    document = read(agenda_document(agenda.meeting))
    text = paragraphs(document)

    assert text[0] == f"{agenda.forum.name}: agenda"
    assert "Date: Tuesday 12 January 2027" in text
    assert "Time: 09:30–13:30" in text
    assert "Venue: Loughborough Council Offices, Room 2" in text
    assert "Chair: Margaret Okafor" in text
    assert any("Do not forward" in line or "do not forward" in line for line in text)
    assert any("check your own agency's records" in line for line in text)

    members = rows(document.tables[0])
    assert members == [
        ["Name", "Agency", "Role"],
        ["Anna Brown", "Leicestershire Police", "Standing member"],
        ["Ben Carter", "Leicestershire Partnership NHS Trust", "Observer"],
    ]


def test_items_are_timed_in_agenda_order_with_the_break_in_place(agenda):
    document = read(agenda_document(agenda.meeting))
    first, second, review, sign_off = agenda.cases

    table = rows(document.tables[1])
    assert table[0] == [
        "Time",
        "Type",
        "Case",
        "Child",
        "Date of birth",
        "School or setting",
        "Referrer",
        "Presenter",
        "Lead professional",
    ]
    referrer = "Daniel Kowalski\nLoughborough Woodgate High School"
    assert table[1] == [
        "09:30–09:50",
        "New case",
        f"Case {first.id}",
        "Jessica Thompson",
        "17 May 2016",
        "Outwoods Edge Primary School",
        referrer,
        "Daniel Kowalski",
        "",
    ]
    # The second new case would run past 10:00, so the break comes first.
    assert table[2][0] == "09:50–10:05"
    assert set(table[2][1:]) == {"Break\n15 minutes"}
    assert table[3] == [
        "10:05–10:25",
        "New case",
        f"Case {second.id}",
        "Oliver Reid",
        "3 September 2012",
        "Not known",  # the referrer is a high school; the child's school is not recorded
        referrer,
        "Sam Hughes",
        "",
    ]
    assert table[4] == [
        "10:25–10:30",
        "Review",
        f"Case {review.id}",
        "Amelia Patel",
        "28 February 2014",
        "Not known",  # the referrer is a high school; the child's school is not recorded
        referrer,
        "Kwame Mensah",
        "Not yet allocated",
    ]
    assert table[5] == [
        "10:30–10:35",
        "Sign-off (closure)",
        f"Case {sign_off.id}",
        "Noah Evans",
        "1 November 2011",
        "Not known",  # the referrer is a high school; the child's school is not recorded
        referrer,
        "Not yet allocated",  # a review's presenter is its lead professional: none yet
        "Not yet allocated",
    ]
    assert len(table) == 6


def test_totals_and_no_warnings_when_the_agenda_fits(agenda):
    text = paragraphs(read(agenda_document(agenda.meeting)))

    assert "New cases: 2" in text
    assert "Reviews and sign-offs: 2" in text
    assert "Planned finish: 10:35 (the meeting is booked until 13:30)" in text
    assert "Timing warnings" not in text


def test_warnings_from_the_timed_agenda_are_shown(
    make_forum, make_meeting, make_ready_case, coordinator
):
    meeting = make_meeting(forum=make_forum(), length_minutes=30)
    add_to_agenda(meeting, make_ready_case("Ava", "Hill"), ItemKind.NEW_CASE, coordinator)
    add_to_agenda(meeting, make_ready_case("Leo", "Ward"), ItemKind.NEW_CASE, coordinator)

    text = paragraphs(read(agenda_document(meeting)))

    assert "Timing warnings" in text
    assert any(line.startswith("The agenda runs 10 minutes over") for line in text)
    assert "Planned finish: 10:10 (the meeting is booked until 10:00)" in text


def test_an_empty_agenda_still_makes_a_document(make_forum, make_meeting):
    meeting = make_meeting(forum=make_forum())

    document = read(agenda_document(meeting))

    assert "Nothing is on the agenda yet." in paragraphs(document)
    assert "No members have been added to this forum yet." in paragraphs(document)
    assert document.tables == []


def test_every_page_carries_the_marking_organisation_and_page_numbers(app, agenda):
    document = read(agenda_document(agenda.meeting))

    assert len(document.sections) == 1
    section = document.sections[0]
    assert not section.different_first_page_header_footer
    header = [paragraph.text for paragraph in section.header.paragraphs]
    assert header == ["OFFICIAL-SENSITIVE", app.config["ORGANISATION_NAME"]]
    footer = section.footer._element
    assert [p.text for p in section.footer.paragraphs][-1] == "OFFICIAL-SENSITIVE"
    instructions = [node.text.strip() for node in footer.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert len(list(footer.iter(qn("w:fldChar")))) == 6


def test_layout_a4_landscape_arial_and_a_repeating_table_header(agenda):
    document = read(agenda_document(agenda.meeting))

    section = document.sections[0]
    assert (section.page_width, section.page_height) == (Twips(16838), Twips(11906))
    assert section.orientation == WD_ORIENT.LANDSCAPE
    fonts = list(document.styles.element.iter(qn("w:rFonts")))
    assert fonts
    for element in fonts:
        assert dict(element.attrib) == {
            qn("w:ascii"): "Arial",
            qn("w:hAnsi"): "Arial",
            qn("w:eastAsia"): "Arial",
            qn("w:cs"): "Arial",
        }
    for table in document.tables:
        assert table.style.name == "Agenda Table"
        header = table.rows[0]._tr.trPr
        assert header.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:tblHeader")) is None for row in table.rows[1:])


def test_file_properties_name_the_meeting_not_the_children(agenda):
    data = agenda_document(agenda.meeting)
    properties = read(data).core_properties

    assert properties.category == "OFFICIAL-SENSITIVE"
    assert properties.title == f"{agenda.forum.name} agenda, Tuesday 12 January 2027"
    described = " ".join(
        str(value or "")
        for value in (
            properties.title,
            properties.subject,
            properties.author,
            properties.keywords,
            properties.comments,
            properties.last_modified_by,
        )
    )
    assert "Jessica" not in described
    assert "python-docx" not in described


UNUSUAL = [
    ("Zoë", "O'Neill-Łukasz", "Zoë O'Neill-Łukasz"),
    ("Thị Mai", "Nguyễn", "Thị Mai Nguyễn"),
    ("Aarav", "", "Aarav"),
    ("<script>alert(1)</script>", "Smith", "<script>alert(1)</script> Smith"),
]


def test_unusual_names_round_trip_as_literal_text(
    make_forum, make_meeting, make_ready_case, make_agency, coordinator
):
    forum = make_forum()
    meeting = make_meeting(forum=forum)
    for given, family, _ in UNUSUAL:
        case = make_ready_case(given, family)
        add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator, presenter_name=f"{given} X")
    add_member(
        forum,
        name="<b>Bold</b> & Co",
        email="bold@example.org",
        agency=make_agency(name="Ōtaki & Sons <Ltd>"),
        role=MemberRole.OBSERVER,
        user=coordinator,
    )

    data = agenda_document(meeting)
    document = read(data)

    items = rows(document.tables[1])[1:]
    assert [row[3] for row in items] == [full for _, _, full in UNUSUAL]
    assert [row[7] for row in items] == [f"{given} X" for given, _, _ in UNUSUAL]
    assert rows(document.tables[0])[1] == ["<b>Bold</b> & Co", "Ōtaki & Sons <Ltd>", "Observer"]
    # Escaped in the XML, never markup: the document holds no element called "script".
    body = document.element.body
    assert not list(body.iter("script"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body.xml


def test_characters_xml_cannot_hold_are_dropped_not_fatal(
    make_forum, make_meeting, make_ready_case, coordinator
):
    meeting = make_meeting(forum=make_forum())
    case = make_ready_case("Ella", "Grant")
    add_to_agenda(
        meeting, case, ItemKind.NEW_CASE, coordinator, presenter_name="Pasted\x0bName\x01"
    )

    document = read(agenda_document(meeting))

    assert rows(document.tables[0])[1][7] == "PastedName"


def test_libreoffice_converts_the_agenda_to_pdf(agenda, tmp_path):
    assert converted_to_pdf(agenda_document(agenda.meeting), tmp_path).startswith(b"%PDF")
