"""The minutes of a forum meeting: the Word document, its versions, approval by the chair and
circulation to the people who attended.

A version's document is frozen when it is approved, so what the chair approved is what is
circulated and what can be read later; a correction after approval is a new version, and the
earlier versions keep their documents.

The document names children (like the agenda) and is OFFICIAL-SENSITIVE; the emails that
carry it never do.
"""

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.shared import Pt, Twips
from flask import current_app, render_template
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.agendas.document import (
    BLACK,
    _add_labelled,
    _add_note,
    _add_row,
    _add_table,
    _booked_until,
    _clean,
    _set_properties,
    _set_up_page,
    _set_up_styles,
    case_reference,
    clock,
    long_date,
    short_date,
)
from maf.agendas.models import AgendaItem, ItemStatus
from maf.agendas.services import withheld
from maf.audit import services as audit
from maf.auth.models import User
from maf.cases.models import Case
from maf.cases.services import may_share_with_forum
from maf.circulation import outbox
from maf.circulation.models import OutboxMessage
from maf.circulation.services import Recipient, _when
from maf.dbtypes import LONDON, utcnow
from maf.downloads import DOCX_MIMETYPE
from maf.errors import DomainError
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import Meeting, MeetingStatus
from maf.outcomes.models import (
    Action,
    Attendance,
    AttendanceStatus,
    ItemRecord,
    LeadKind,
    LeadProfessional,
    LeadProposal,
    Minutes,
    MinutesStatus,
    Outcome,
    ProgressUpdate,
)
from maf.outcomes.progress import answered_questions, request_of
from maf.outcomes.services import attendance_of, record_for, when_it_starts

MINUTES_NOTE = (
    "These minutes name children and hold their personal data. They are for forum members "
    "only: do not forward, copy or share them. Destroy printed copies securely."
)
NO_AGENCY = "No agency (family or other)"
WITHHELD = (
    "Withheld: there is no longer consent to share this case with the forum members, so its "
    "discussion, decisions and actions are not shown."
)
# Centimetres, adding up to 18.0: A4 portrait's width inside the margins the agenda sets.
ATTENDEE_COLUMNS = (("Name", 7.0), ("Agency", 11.0))
ACTION_COLUMNS = (("Case", 3.5), ("Action", 7.5), ("Owner", 4.0), ("Due", 3.0))
LEAD_KIND_WORDS = {LeadKind.PARENT_CARER: "parent/carer", LeadKind.YOUNG_PERSON: "young person"}


class MinutesError(DomainError):
    """A rule about minutes refused the change."""


# --- versions ----------------------------------------------------------------------------


def versions(meeting: Meeting) -> list[Minutes]:
    """Every version of the meeting's minutes, oldest first."""
    return list(
        db.session.scalars(
            select(Minutes).where(Minutes.meeting_id == meeting.id).order_by(Minutes.version)
        )
    )


def current_minutes(meeting: Meeting) -> Minutes | None:
    return db.session.scalar(
        select(Minutes)
        .where(Minutes.meeting_id == meeting.id)
        .order_by(Minutes.version.desc())
        .limit(1)
    )


def document_of(minutes: Minutes) -> bytes:
    """What the chair approved, once approved; until then, the record as it stands.

    Once a child's consent to share with the forum is withdrawn, documents going to members
    no longer name the child (seed 003 §4.12). The approved copy stays stored unchanged as the
    record of what was approved; what is read or circulated from then on is made again from
    the record, with that child's items withheld."""
    frozen = minutes.status != MinutesStatus.DRAFT and minutes.document is not None
    if frozen and not withheld(minuted_items(minutes.meeting)):
        return minutes.document
    return minutes_document(minutes.meeting, minutes)


def approve(minutes: Minutes, user: User) -> None:
    """Approve a draft and freeze its document. Who may approve is the view's business."""
    if minutes.status != MinutesStatus.DRAFT:
        raise MinutesError(
            f"Version {minutes.version} is already {minutes.status.label.lower()}: "
            "only a draft can be approved"
        )
    if not minutes.meeting.has_started:
        raise MinutesError(
            f"This meeting is on {when_it_starts(minutes.meeting)}: its minutes can be approved "
            "once it has taken place"
        )
    _claim(
        minutes,
        MinutesStatus.DRAFT,
        status=MinutesStatus.APPROVED,
        approved_by_id=user.id,
        approved_at=utcnow(),
    )
    minutes.document = minutes_document(minutes.meeting, minutes)
    audit.record("minutes_approved", minutes, user=user, detail=f"version {minutes.version}")
    db.session.commit()


def correct(meeting: Meeting, note: str, user: User, once: str | None = None) -> Minutes:
    """Start a new draft version after approval; the note says what it corrects. `once`
    is the form's token, claimed first: a repeat is answered as already saved, not with
    "still a draft"."""
    submission = submissions.claim(once, "minutes", user)
    current = current_minutes(meeting)
    if current is None:
        raise MinutesError("This meeting has no minutes yet: complete the meeting record first")
    if current.status == MinutesStatus.DRAFT:
        raise MinutesError(
            f"Version {current.version} is still a draft: approve it before correcting it"
        )
    if not note.strip():
        raise MinutesError("Enter what the correction changes", field="note")
    # The (meeting, version) unique constraint refuses a second correction made at the
    # same moment, so two drafts never share a version number.
    corrected = Minutes(
        meeting_id=meeting.id, version=current.version + 1, correction_note=note.strip()
    )
    db.session.add(corrected)
    submissions.created(submission, corrected)
    audit.record("minutes_corrected", corrected, user=user, detail=f"version {corrected.version}")
    db.session.commit()
    return corrected


def _claim(minutes: Minutes, expected: MinutesStatus, **values) -> None:
    """Change the version only if it is still `expected`: of two people approving or
    circulating at once, the second is refused instead of repeating the first's work."""
    claimed = db.session.execute(
        update(Minutes)
        .where(Minutes.id == minutes.id, Minutes.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise MinutesError(f"Someone else changed version {minutes.version} at the same moment")
    db.session.refresh(minutes)


# --- circulation -------------------------------------------------------------------------


def minutes_recipients(meeting: Meeting) -> list[Recipient]:
    """The forum's current members who were present or sent apologies, and the chair.

    Seed 004: the minutes go to the attendees. Those who sent apologies get them too: they
    missed the decisions and may own actions. Absent members are left out, as are guests (no email
    address is recorded for them) and anyone who has since left the forum, because the
    document names children.
    """
    people: dict[str, Recipient] = {}
    for row in attendance_of(meeting):
        member = row.member
        attended = row.status in (AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES)
        if member is not None and member.active and attended:
            people[member.email] = Recipient(member.email, member.name, "ATTENDEE", member.user_id)
    chair = meeting.forum.chair
    if chair is not None and chair.active:
        people[chair.email] = Recipient(chair.email, chair.name, "CHAIR", chair.id)
    return sorted(people.values(), key=lambda person: person.name)


def circulate(minutes: Minutes, user: User) -> int:
    """Email the approved document to each recipient, in one transaction with the status
    change; returns how many emails were queued."""
    if minutes.status != MinutesStatus.APPROVED:
        raise MinutesError(
            f"Version {minutes.version} is {minutes.status.label.lower()}: only approved "
            "minutes can be circulated"
        )
    latest = current_minutes(minutes.meeting)
    if latest is not None and latest.version > minutes.version:
        raise MinutesError(
            f"Version {minutes.version} has been replaced by version {latest.version}: "
            "circulate that one instead"
        )
    _claim(minutes, MinutesStatus.APPROVED, status=MinutesStatus.CIRCULATED, circulated_at=utcnow())
    meeting = minutes.meeting
    attachment = outbox.Attachment(
        f"minutes-{meeting.date:%Y-%m-%d}-v{minutes.version}.docx",
        DOCX_MIMETYPE,
        document_of(minutes),
    )
    queued = sum(
        _queue_minutes(meeting, minutes, person, attachment) is not None
        for person in minutes_recipients(meeting)
    )
    if meeting.status == MeetingStatus.HELD:
        forums.change_meeting_status(meeting, MeetingStatus.MINUTES_CIRCULATED, user)
    audit.record(
        "minutes_circulated", minutes, user=user, detail=f"version {minutes.version}: {queued}"
    )
    db.session.commit()
    return queued


def _queue_minutes(
    meeting: Meeting, minutes: Minutes, person: Recipient, attachment: outbox.Attachment
) -> OutboxMessage | None:
    context = dict(meeting=meeting, minutes=minutes, person=person, when=_when(meeting))
    day = f"{meeting.date:%-d %B %Y}"
    subject = f"Minutes: {meeting.forum.name}, {day}"
    if minutes.version > 1:
        subject = f"Corrected minutes (version {minutes.version}): {meeting.forum.name}, {day}"
    return outbox.enqueue(
        dedupe_key=f"minutes:{meeting.id}:v{minutes.version}:{person.email}",
        recipient_email=person.email,
        recipient_name=person.name,
        subject=subject,
        text_body=render_template("outcomes/email/minutes.txt", **context),
        html_body=render_template("outcomes/email/minutes.html", **context),
        attachments=[attachment],
        meeting_id=meeting.id,
    )


# --- the document ------------------------------------------------------------------------


def minutes_document(meeting: Meeting, minutes: Minutes) -> bytes:
    """The .docx minutes of `meeting` as version `minutes`, from the record as it stands."""
    forum = meeting.forum
    organisation = current_app.config["ORGANISATION_NAME"]
    document = Document()
    _set_up_styles(document)
    heading = document.styles["Heading 3"]
    heading.font.size, heading.font.color.rgb = Pt(11), BLACK
    _set_up_page(document, organisation)
    section = document.sections[0]
    # Unlike the agenda's wide item table, the minutes are prose and read best upright.
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Twips(11906), Twips(16838)
    _set_properties(document, meeting, organisation)
    properties = document.core_properties
    properties.title = _clean(
        f"{forum.name} minutes, {long_date(meeting.date)}, version {minutes.version}"
    )
    properties.subject = "Multi-agency forum minutes"

    document.add_heading(_clean(f"{forum.name}: minutes"), level=1)
    _add_labelled(document, "Status", _status_text(minutes))
    if minutes.correction_note:
        _add_labelled(document, "Correction", minutes.correction_note)
    _add_labelled(document, "Date", long_date(meeting.date))
    _add_labelled(document, "Time", f"{clock(meeting.start_time)}–{clock(_booked_until(meeting))}")
    _add_labelled(document, "Venue", meeting.venue)
    _add_labelled(document, "Chair", forum.chair.name if forum.chair else "Not appointed")
    _add_note(document, MINUTES_NOTE)

    _add_attendance(document, attendance_of(meeting))
    document.add_heading("Agenda items", level=2)
    items = minuted_items(meeting)
    for number, item in enumerate(items, start=1):
        _add_item(document, number, item)
    if not items:
        document.add_paragraph("No cases were on the agenda.")
    hidden = withheld(items)
    _add_actions(document, [item for item in items if item not in hidden])

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def minuted_items(meeting: Meeting) -> list[AgendaItem]:
    """The items the forum took at the meeting, in agenda order: those still scheduled and
    those it deferred (moved on at completion). An item moved on before the meeting was not
    discussed, so it has no record and is left out."""
    return list(
        db.session.scalars(
            select(AgendaItem)
            .outerjoin(ItemRecord, ItemRecord.agenda_item_id == AgendaItem.id)
            .where(
                AgendaItem.meeting_id == meeting.id,
                or_(
                    AgendaItem.status == ItemStatus.SCHEDULED,
                    and_(
                        AgendaItem.status == ItemStatus.MOVED, ItemRecord.outcome == Outcome.DEFER
                    ),
                ),
            )
            .options(
                selectinload(AgendaItem.case).selectinload(Case.child),
                selectinload(AgendaItem.case).selectinload(Case.consents),
                selectinload(AgendaItem.moved_to).selectinload(AgendaItem.meeting),
            )
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )


def _status_text(minutes: Minutes) -> str:
    if minutes.approved_at is None:
        return f"Version {minutes.version}: draft, not yet approved"
    approver = minutes.approved_by.name if minutes.approved_by else "the chair"
    approved_on = short_date(minutes.approved_at.astimezone(LONDON).date())
    return f"Version {minutes.version}, approved by {approver} on {approved_on}"


def _add_attendance(document: DocxDocument, rows: list[Attendance]) -> None:
    document.add_heading("Attendance", level=2)
    groups = (
        ("Present", [r for r in rows if r.member_id and r.status == AttendanceStatus.PRESENT]),
        ("Apologies", [r for r in rows if r.status == AttendanceStatus.APOLOGIES]),
        ("Absent", [r for r in rows if r.status == AttendanceStatus.ABSENT]),
        ("Guests", [r for r in rows if r.member_id is None]),
    )
    for title, people in groups:
        document.add_heading(title, level=3)
        if not people:
            document.add_paragraph("None recorded.")
            continue
        table = _add_table(document, ATTENDEE_COLUMNS)
        for person in people:
            _add_row(table, (person.name, person.agency_name))


def _add_item(document: DocxDocument, number: int, item: AgendaItem) -> None:
    case = item.case
    if not may_share_with_forum(case):
        # The item keeps its number, so the minutes still match what was discussed, but
        # nothing that could identify the child goes to the members.
        document.add_heading(_clean(f"{number}. {case_reference(case.id)}"), level=3)
        document.add_paragraph(WITHHELD)
        return
    document.add_heading(
        _clean(f"{number}. {case_reference(case.id)}: {case.child.full_name}"), level=3
    )
    _add_labelled(document, "Type", item.kind.label)
    record = record_for(item)
    if record is None:
        _add_labelled(document, "Outcome", "Not recorded")
        return
    # A deferred item was not discussed, so it shows only what the forum did record.
    deferred = item.status == ItemStatus.MOVED
    if record.discussion or not deferred:
        _add_labelled(document, "Discussion", record.discussion or "None recorded")
    _add_progress_update(document, item)
    if record.services:
        document.add_paragraph().add_run("Services agreed").bold = True
        for service in record.services:
            document.add_paragraph(_clean(f"{service.agency.name}: {service.what}"), "List Bullet")
    elif not deferred:
        _add_labelled(document, "Services agreed", "None recorded")
    lead = _lead_text(item, record)
    if lead or not deferred:
        _add_labelled(document, "Lead professional", lead or "Not yet agreed")
    for label, value in _outcome_lines(item, record):
        _add_labelled(document, label, value)


def _lead_text(item: AgendaItem, record: ItemRecord) -> str | None:
    """The lead professional the forum agreed for this item or, with none agreed, whoever
    was leading the case on the day of the meeting."""
    lead: LeadProposal | LeadProfessional | None = db.session.scalar(
        select(LeadProposal).where(LeadProposal.item_record_id == record.id)
    )
    day = item.meeting.date
    if lead is None:
        lead = db.session.scalar(
            select(LeadProfessional)
            .where(
                LeadProfessional.case_id == item.case_id,
                LeadProfessional.starts_on <= day,
                or_(LeadProfessional.ends_on.is_(None), LeadProfessional.ends_on >= day),
            )
            .order_by(LeadProfessional.starts_on.desc(), LeadProfessional.id.desc())
            .limit(1)
        )
    if lead is None:
        return None
    who = LEAD_KIND_WORDS.get(lead.kind) or (lead.agency.name if lead.agency else "")
    agreed = "agreed to take the role" if lead.agreed else "has not yet agreed"
    return ", ".join(part for part in (lead.name, who) if part) + f" ({agreed})"


def _outcome_lines(item: AgendaItem, record: ItemRecord) -> list[tuple[str, str]]:
    outcome = record.outcome
    if item.status == ItemStatus.MOVED:
        target = item.moved_to.meeting.date if item.moved_to else None
        lines = [("Outcome", f"Deferred to {long_date(target)}" if target else "Deferred")]
    elif outcome is None:
        lines = [("Outcome", "Not recorded")]
    else:
        lines = [("Outcome", outcome.label)]
    if outcome == Outcome.CONTINUE and record.next_review_on:
        lines.append(("Next review", long_date(record.next_review_on)))
    if outcome == Outcome.CLOSE and record.closure_reason:
        lines.append(("Reason for closing", record.closure_reason.label))
    if record.outcome_notes:
        label = "Reason for stepping up" if outcome == Outcome.STEP_UP else "Notes"
        lines.append((label, record.outcome_notes))
    return lines


def _add_progress_update(document: DocxDocument, item: AgendaItem) -> None:
    """Seed 004: the lead professional reports progress to the next meeting."""
    progress = db.session.scalar(
        select(ProgressUpdate).where(
            ProgressUpdate.case_id == item.case_id, ProgressUpdate.meeting_id == item.meeting_id
        )
    )
    if progress is None:
        return
    lead = progress.lead_professional.name
    if progress.submitted_at is None:
        # Nothing false (DESIGN §4): "asked of" only when a request was stored and sent.
        request = request_of(progress)
        if request is not None:
            asked_on = short_date(request.created_at.astimezone(LONDON).date())
            _add_labelled(
                document,
                "Progress update",
                f"Asked of {request.recipient_name} on {asked_on}; not received",
            )
        return
    received = short_date(progress.submitted_at.astimezone(LONDON).date())
    _add_labelled(
        document,
        "Progress update",
        f"From {lead}, received {received}" + (f": {progress.summary}" if progress.summary else ""),
    )
    for answer in answered_questions(progress):  # each of the seven, "Not asked" too
        comment = f" “{answer.comment}”" if answer.comment else ""
        text = f"{answer.number}. {answer.question} {answer.answer_text}.{comment}"
        document.add_paragraph(_clean(text), "List Bullet")
    if progress.further_comments:
        _add_labelled(document, "Further comments", progress.further_comments)


def _add_actions(document: DocxDocument, items: list[AgendaItem]) -> None:
    document.add_heading("Actions", level=2)
    actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.agenda_item_id.in_([item.id for item in items]))
            .options(selectinload(Action.owner_agency), selectinload(Action.case))
            .order_by(Action.case_id, Action.due_on, Action.id)
        )
    )
    if not actions:
        document.add_paragraph("No actions were agreed.")
        return
    by_agency: dict[str, list[Action]] = {}
    for action in actions:
        agency = action.owner_agency.name if action.owner_agency else NO_AGENCY
        by_agency.setdefault(agency, []).append(action)
    # Alphabetical, so each agency finds its own; actions with no agency come last.
    for agency in sorted(by_agency, key=lambda name: (name == NO_AGENCY, name.casefold())):
        document.add_heading(_clean(agency), level=3)
        table = _add_table(document, ACTION_COLUMNS)
        for action in by_agency[agency]:
            case = action.case
            _add_row(
                table,
                (
                    f"{case_reference(case.id)}\n{case.child.full_name}",
                    action.description,
                    action.owner_name,
                    short_date(action.due_on),
                ),
            )
