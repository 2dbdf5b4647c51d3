"""The minutes: after the meeting the forum's decisions, lead professionals and actions go to
the people who attended (seed 004: the forum agrees service involvement and the lead
professional, who reports progress to the next meeting), with each closure's reason recorded
(seed 002 D1: closure at a sign-off, with the reasons recorded).

A realistic meeting is recorded through the services, the document is read back with
python-docx, and LibreOffice converts it when installed.
"""

import io
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.text.paragraph import Paragraph
from sqlalchemy import select, update

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.models import CaseStatus
from maf.circulation.models import OutboxMessage
from maf.dbtypes import LONDON
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MeetingStatus, MemberRole
from maf.forums.services import add_member, remove_member
from maf.outcomes import minutes as minutes_service
from maf.outcomes.minutes import MinutesError
from maf.outcomes.models import (
    AttendanceStatus,
    ClosureReason,
    LeadKind,
    LeadProfessional,
    Minutes,
    MinutesStatus,
    Outcome,
    ProgressAnswer,
    ProgressUpdate,
    QuestionnaireAnswer,
)
from maf.outcomes.services import (
    ActionDetails,
    Guest,
    ItemDetails,
    LeadDetails,
    complete_meeting,
    record_for,
    save_attendance,
    save_item_record,
)
from tests.conftest import at_the_meeting, converted_to_pdf

CHILDREN = ("Jessica", "Thompson", "Oliver", "Reid", "Amelia", "Patel")


@pytest.fixture
def held(make_forum, make_meeting, make_ready_case, make_case, make_agency, coordinator):
    """A meeting recorded and completed: a new case continuing, a new case deferred to the
    next meeting, and a review closed at its sign-off."""
    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    following = make_meeting(date(2027, 4, 13), forum=forum)
    police = make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    health = make_agency(name="Leicestershire Partnership NHS Trust", type=AgencyType.HEALTH)
    members = [
        add_member(forum, name=name, email=email, agency=agency, role=role, user=coordinator)
        for name, email, agency, role in (
            ("Anna Brown", "anna.brown@example.org", police, MemberRole.STANDING),
            ("Ben Carter", "ben.carter@example.org", health, MemberRole.STANDING),
            ("Cara Davies", "cara.davies@example.org", health, MemberRole.OBSERVER),
        )
    ]
    anna, ben, cara = members

    continuing = make_ready_case("Jessica", "Thompson", date(2016, 5, 17))
    deferred = make_ready_case("Oliver", "Reid", date(2012, 9, 3))
    closing = make_case("Amelia", "Patel", date(2014, 2, 28))
    closing.status = CaseStatus.OPEN
    lead = LeadProfessional(
        case_id=closing.id,
        kind=LeadKind.PARENT_CARER,
        name="Karen Patel",
        agreed=True,
        starts_on=date(2026, 10, 13),
    )
    db.session.add(lead)
    db.session.commit()
    items = [
        add_to_agenda(meeting, continuing, ItemKind.NEW_CASE, coordinator),
        add_to_agenda(meeting, deferred, ItemKind.NEW_CASE, coordinator),
        add_to_agenda(meeting, closing, ItemKind.REVIEW, coordinator),
    ]
    db.session.add(
        ProgressUpdate(
            case_id=closing.id,
            meeting_id=meeting.id,
            lead_professional_id=lead.id,
            submitted_at=datetime(2027, 1, 5, 10, 0, tzinfo=LONDON),
            summary="Attending every day; mum says mornings are calmer",
            answers=[
                QuestionnaireAnswer(question=1, answer=ProgressAnswer.GOOD, comment="Better"),
                QuestionnaireAnswer(question=7, answer=ProgressAnswer.GREAT),
            ],
        )
    )
    db.session.commit()

    save_attendance(
        meeting,
        {
            anna.id: AttendanceStatus.PRESENT,
            ben.id: AttendanceStatus.APOLOGIES,
            cara.id: AttendanceStatus.ABSENT,
        },
        [Guest("Dr Emma Lewis", "Charnwood GP Practice")],
        coordinator,
    )
    save_item_record(
        items[0],
        ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Low attendance since September; worries about friendships",
            services=[(police, "PCSO visits to the family"), (health, "School nurse drop-in")],
            actions=[
                ActionDetails("Arrange a home visit", "Anna Brown", date(2027, 2, 1), "", police),
                ActionDetails(
                    "Refer to the school nurse", "Ben Carter", date(2027, 1, 26), "", health
                ),
                ActionDetails("Keep an attendance diary", "Karen Thompson", date(2027, 3, 1)),
            ],
            lead=LeadDetails(LeadKind.PRACTITIONER, "Anna Brown", True, agency=police),
            next_review_on=date(2027, 4, 12),
        ),
        coordinator,
    )
    save_item_record(items[1], ItemDetails(outcome=Outcome.DEFER), coordinator)
    save_item_record(
        items[2],
        ItemDetails(
            outcome=Outcome.CLOSE,
            discussion="Attendance back to 96%",
            closure_reason=ClosureReason.NEEDS_MET,
            outcome_notes="School keeps an eye on mornings",
        ),
        coordinator,
    )
    chair = forum.chair
    at_the_meeting(meeting)
    minutes = complete_meeting(meeting, chair)
    return SimpleNamespace(
        forum=forum,
        meeting=meeting,
        following=following,
        minutes=minutes,
        chair=chair,
        cases=(continuing, deferred, closing),
        items=items,
        members=members,
    )


def read(data: bytes):
    return Document(io.BytesIO(data))


def outline(data: bytes) -> list[str]:
    """The body in order: headings as "#", "##", "###"; table rows as "cell | cell"."""
    lines = []
    for block in read(data).iter_inner_content():
        if isinstance(block, Paragraph):
            style = block.style.name
            marker = "#" * int(style.split()[-1]) + " " if style.startswith("Heading") else ""
            lines.append(marker + block.text)
        else:
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
    return lines


def under(lines: list[str], heading: str) -> list[str]:
    """The lines below `heading` up to the next heading of the same or a higher level."""
    start = lines.index(heading) + 1
    level = len(heading.split(" ")[0])
    for end in range(start, len(lines)):
        marker = lines[end].split(" ")[0]
        if marker and set(marker) == {"#"} and len(marker) <= level:
            return lines[start:end]
    return lines[start:]


def test_the_draft_records_meeting_details_and_attendance(app, held):
    lines = outline(minutes_service.document_of(held.minutes))

    assert lines[0] == f"# {held.forum.name}: minutes"
    assert "Status: Version 1: draft, not yet approved" in lines
    assert "Date: Tuesday 12 January 2027" in lines
    assert "Time: 09:30–13:30" in lines
    assert "Chair: Margaret Okafor" in lines
    assert any(line.startswith("OFFICIAL-SENSITIVE. These minutes name children") for line in lines)
    assert under(lines, "### Present") == ["Name | Agency", "Anna Brown | Leicestershire Police"]
    assert under(lines, "### Apologies") == [
        "Name | Agency",
        "Ben Carter | Leicestershire Partnership NHS Trust",
    ]
    assert under(lines, "### Absent") == [
        "Name | Agency",
        "Cara Davies | Leicestershire Partnership NHS Trust",
    ]
    assert under(lines, "### Guests") == ["Name | Agency", "Dr Emma Lewis | Charnwood GP Practice"]

    section = read(minutes_service.document_of(held.minutes)).sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert [p.text for p in section.header.paragraphs] == [
        "OFFICIAL-SENSITIVE",
        app.config["ORGANISATION_NAME"],
    ]
    assert [p.text for p in section.footer.paragraphs][-1] == "OFFICIAL-SENSITIVE"


def test_each_item_has_its_decision_lead_professional_and_outcome(held):
    continuing, deferred, closing = held.cases
    lines = outline(minutes_service.document_of(held.minutes))

    assert under(lines, f"### 1. Case {continuing.id}: Jessica Thompson") == [
        "Type: New case",
        "Discussion: Low attendance since September; worries about friendships",
        "Services agreed",
        "Leicestershire Police: PCSO visits to the family",
        "Leicestershire Partnership NHS Trust: School nurse drop-in",
        "Lead professional: Anna Brown, Leicestershire Police (agreed to take the role)",
        "Outcome: Continue, with a review",
        "Next review: Monday 12 April 2027",
    ]
    # Deferred at completion, so moved to the next meeting, but still minuted here.
    assert under(lines, f"### 2. Case {deferred.id}: Oliver Reid") == [
        "Type: New case",
        "Outcome: Deferred to Tuesday 13 April 2027",
    ]
    # Seed 002 D1: a closure's reason is recorded; the LP's report comes to the meeting.
    assert under(lines, f"### 3. Case {closing.id}: Amelia Patel") == [
        "Type: Review",
        "Discussion: Attendance back to 96%",
        "Progress update: From Karen Patel, received 5 January 2027: Attending every day; "
        "mum says mornings are calmer",
        "1. Do you think you are getting on well? Good. “Better”",
        # Questions with no stored answer were not asked, and the minutes say so.
        "2. How are you getting on with your family? Not asked.",
        "3. How are you getting on with your teachers and helpers? Not asked.",
        "4. How do you get along with children and young people? Not asked.",
        "5. Are you organised in school and at home? (such as coming to school with the right "
        "equipment and books) Not asked.",
        "6. How do you feel about asking for help? Not asked.",
        "7. How do you feel about your future? Great.",
        "Services agreed: None recorded",
        "Lead professional: Karen Patel, parent/carer (agreed to take the role)",
        "Outcome: Close at sign-off",
        "Reason for closing: Needs met: universal services continue",
        "Notes: School keeps an eye on mornings",
    ]


def test_actions_are_grouped_by_agency_with_no_agency_last(held):
    case = f"Case {held.cases[0].id}\nJessica Thompson"
    lines = under(outline(minutes_service.document_of(held.minutes)), "## Actions")

    assert lines == [
        "### Leicestershire Partnership NHS Trust",
        "Case | Action | Owner | Due",
        f"{case} | Refer to the school nurse | Ben Carter | 26 January 2027",
        "### Leicestershire Police",
        "Case | Action | Owner | Due",
        f"{case} | Arrange a home visit | Anna Brown | 1 February 2027",
        "### No agency (family or other)",
        "Case | Action | Owner | Due",
        f"{case} | Keep an attendance diary | Karen Thompson | 1 March 2027",
    ]


def test_approval_freezes_the_document(held):
    minutes = held.minutes
    minutes_service.approve(minutes, held.chair)

    assert minutes.status == MinutesStatus.APPROVED
    assert minutes.approved_by_id == held.chair.id
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "minutes_approved", AuditEvent.object_id == str(minutes.id)
        )
    )
    frozen = minutes.document
    approved_on = minutes.approved_at.astimezone(LONDON).date()
    expected = f"Status: Version 1, approved by Margaret Okafor on {approved_on.day} "
    assert any(line.startswith(expected) for line in outline(frozen))

    record = record_for(held.items[0])
    record.discussion = "Changed after approval"
    db.session.commit()

    assert minutes_service.document_of(minutes) == frozen
    assert "Discussion: Changed after approval" not in outline(frozen)
    # The record did change: a fresh document would show it, the frozen one never will.
    fresh = outline(minutes_service.minutes_document(held.meeting, minutes))
    assert "Discussion: Changed after approval" in fresh


def test_circulation_emails_attendees_and_the_chair_without_naming_children(held):
    minutes = held.minutes
    minutes_service.approve(minutes, held.chair)

    queued = minutes_service.circulate(minutes, held.chair)

    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.meeting_id == held.meeting.id)
            .order_by(OutboxMessage.recipient_email)
        )
    )
    # Present and apologies, and the chair; not the absent member, nor the guest.
    assert queued == 3
    assert sorted(m.recipient_email for m in messages) == sorted(
        ["anna.brown@example.org", "ben.carter@example.org", held.chair.email]
    )
    for message in messages:
        assert message.dedupe_key == f"minutes:{held.meeting.id}:v1:{message.recipient_email}"
        assert message.subject == f"Minutes: {held.forum.name}, 12 January 2027"
        # No secure email domain is listed (the default): they are told, not sent, the minutes.
        assert message.attachments == [] and message.documents == "link"
        assert "3 cases" in message.text_body
        assert f"Dear {message.recipient_name}" in message.html_body
        sent = " ".join((message.subject, message.text_body, message.html_body))
        assert not [name for name in CHILDREN if name in sent]
    assert minutes.status == MinutesStatus.CIRCULATED
    assert minutes.circulated_at is not None
    assert held.meeting.status == MeetingStatus.MINUTES_CIRCULATED


def test_a_member_who_left_the_forum_is_not_sent_the_minutes(held, coordinator):
    anna = held.members[0]
    remove_member(anna, coordinator)

    emails = [person.email for person in minutes_service.minutes_recipients(held.meeting)]

    assert anna.email not in emails
    assert "ben.carter@example.org" in emails


def test_a_correction_is_a_new_version_and_the_old_one_is_kept(held, coordinator):
    first = held.minutes
    minutes_service.approve(first, held.chair)
    minutes_service.circulate(first, held.chair)
    frozen = first.document

    second = minutes_service.correct(
        held.meeting, "Item 1: the nurse referral is due on 26 January", coordinator
    )

    assert (second.version, second.status) == (2, MinutesStatus.DRAFT)
    assert minutes_service.versions(held.meeting) == [first, second]
    assert minutes_service.current_minutes(held.meeting) == second
    draft = outline(minutes_service.document_of(second))
    assert "Status: Version 2: draft, not yet approved" in draft
    assert "Correction: Item 1: the nurse referral is due on 26 January" in draft
    assert minutes_service.document_of(first) == frozen

    minutes_service.approve(second, held.chair)
    assert minutes_service.circulate(second, held.chair) == 3
    corrected = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"minutes:{held.meeting.id}:v2:anna.brown@example.org"
        )
    )
    assert corrected.subject.startswith("Corrected minutes (version 2): ")
    assert corrected.documents == "link" and not corrected.attachments
    assert "version 2" in corrected.text_body
    assert "nurse" not in corrected.text_body  # the note may name a child, so it stays out
    assert held.meeting.status == MeetingStatus.MINUTES_CIRCULATED
    assert minutes_service.document_of(first) == frozen


def test_the_order_of_approval_and_circulation_is_enforced(held, coordinator):
    minutes = held.minutes
    with pytest.raises(MinutesError, match="only approved minutes can be circulated"):
        minutes_service.circulate(minutes, held.chair)
    with pytest.raises(MinutesError, match="approve it before correcting"):
        minutes_service.correct(held.meeting, "A note", coordinator)

    minutes_service.approve(minutes, held.chair)
    with pytest.raises(MinutesError, match="only a draft can be approved"):
        minutes_service.approve(minutes, held.chair)
    with pytest.raises(MinutesError) as blank:
        minutes_service.correct(held.meeting, "   ", coordinator)
    assert blank.value.field == "note"

    minutes_service.circulate(minutes, held.chair)
    with pytest.raises(MinutesError, match="only approved minutes can be circulated"):
        minutes_service.circulate(minutes, held.chair)
    assert minutes_service.versions(held.meeting) == [minutes]


def test_libreoffice_converts_the_minutes_to_pdf(held, tmp_path):
    minutes_service.approve(held.minutes, held.chair)
    assert converted_to_pdf(held.minutes.document, tmp_path).startswith(b"%PDF")


def test_a_replaced_version_is_not_circulated(held, coordinator):
    first = held.minutes
    minutes_service.approve(first, held.chair)
    second = minutes_service.correct(held.meeting, "Item 3: the closure notes", coordinator)
    minutes_service.approve(second, held.chair)

    with pytest.raises(MinutesError, match="replaced by version 2"):
        minutes_service.circulate(first, held.chair)
    assert minutes_service.circulate(second, held.chair) == 3


def test_a_second_approver_at_the_same_moment_is_refused(held, make_user):
    minutes = held.minutes
    coordinator = make_user(Role.COORDINATOR)
    # Another session approved it after this one read it as a draft.
    db.session.execute(
        update(Minutes)
        .where(Minutes.id == minutes.id)
        .values(status=MinutesStatus.APPROVED)
        .execution_options(synchronize_session=False)
    )

    with pytest.raises(MinutesError, match="at the same moment"):
        minutes_service.approve(minutes, coordinator)
    db.session.rollback()
