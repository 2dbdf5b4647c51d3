"""The minutes of a forum meeting: the Word document, its versions, approval by the chair and
circulation to the people who attended.

A version's document is frozen when it is approved, so what the chair approved is what is
circulated and what can be read later; a correction after approval is a new version, and the
earlier versions keep their documents.

The document names children (like the agenda) and is OFFICIAL-SENSITIVE; the emails that
carry it never do.
"""

import io
import json
from dataclasses import asdict, dataclass, field

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.shared import Pt, Twips
from flask import current_app, render_template
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

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
from maf.circulation import services as circulation
from maf.circulation.models import DocumentsBy, OutboxMessage
from maf.circulation.services import Recipient, _when
from maf.dbtypes import LONDON, utcnow
from maf.downloads import DOCX_MIMETYPE
from maf.errors import DomainError
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import Meeting, MeetingStatus
from maf.invitations.services import can_sign_in, who_to_ask
from maf.notifications.followup import after_minutes_circulated
from maf.outcomes.models import (
    Action,
    AgreedService,
    Attendance,
    AttendanceStatus,
    ItemRecord,
    LeadKind,
    LeadProfessional,
    LeadProposal,
    Minutes,
    MinutesStatus,
    MinutesWording,
    MinutesWordingChange,
    Outcome,
    ProgressUpdate,
)
from maf.outcomes.progress import answered_questions, request_of
from maf.outcomes.services import attendance_of, record_for, when_it_starts
from maf.rules.words import words
from maf.versioning import UNCHECKED, last_changed_by, require_version, touch
from maf.words import plural

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
# The free-text parts of an item whose wording the chair or coordinator may correct in the
# draft minutes, with the label they have there.
WORDING_PARTS = {"discussion": "Discussion", "notes": "Notes"}


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
    if frozen and minutes.content:
        # The approved content, with whatever is withheld now left out.
        content = MinutesContent.from_json(minutes.content)
        hidden = _withheld_now(content)
        if not hidden:
            return minutes.document
        return write_document(minutes.meeting, minutes, content.blocks(hidden))
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
    content = minutes_content(minutes.meeting, minutes)
    minutes.content = content.to_json()
    minutes.document = write_document(minutes.meeting, minutes, content.blocks())
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
    db.session.flush()
    # The correction starts from the wording that was approved, not from the record.
    for wording in wordings_of(current).values():
        db.session.add(
            MinutesWording(
                minutes_id=corrected.id,
                agenda_item_id=wording.agenda_item_id,
                part=wording.part,
                text=wording.text,
                updated_by_id=wording.updated_by_id,
                updated_at=wording.updated_at,
            )
        )
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


# --- corrected wording -------------------------------------------------------------------


def wordings_of(minutes: Minutes) -> dict[tuple[int, str], MinutesWording]:
    """The version's corrected wording, by (agenda item id, part)."""
    rows = db.session.scalars(select(MinutesWording).where(MinutesWording.minutes_id == minutes.id))
    return {(row.agenda_item_id, row.part): row for row in rows}


def wording_for(minutes: Minutes, item: AgendaItem, part: str) -> MinutesWording | None:
    return wordings_of(minutes).get((item.id, part))


def recorded_wording(item: AgendaItem, part: str) -> str:
    """The part as the meeting record has it."""
    record = record_for(item)
    if record is None:
        return ""
    return record.discussion if part == "discussion" else record.outcome_notes


def editable_item(minutes: Minutes, item_id: int) -> AgendaItem | None:
    """An item of the version's meeting whose wording may be corrected: minuted and not
    withheld (a withheld item's discussion is not in the minutes to correct)."""
    items = minuted_items(minutes.meeting)
    shown = [item for item in items if item not in withheld(items)]
    return next((item for item in shown if item.id == item_id), None)


def change_wording(
    minutes: Minutes,
    item: AgendaItem,
    part: str,
    text: str,
    user: User,
    opened_at_version=UNCHECKED,
) -> MinutesWording:
    """Correct the draft minutes' wording of one part of one item. The record is not
    touched: what was recorded stays the record, and the minutes read this instead.

    Refused once the version is approved (its wording is frozen with it), and when someone
    else saved this wording after the form was opened (`StaleEdit`, version 0 meaning "not
    yet corrected when opened")."""
    text = text.replace("\r\n", "\n").strip()
    try:
        return _change_wording(minutes, item, part, text, user, opened_at_version)
    except (StaleDataError, IntegrityError):
        # Two saves in flight at once passed the version check together: the row's version
        # moved under this one's UPDATE, or the other made the first correction of this part
        # a moment before this one's INSERT. Say who saved, as a stale page would.
        db.session.rollback()
        theirs = wording_for(minutes, item, part)
        if theirs is None:
            raise
        require_version(
            theirs,
            None,
            yours={WORDING_PARTS[part]: text},
            theirs={WORDING_PARTS[part]: theirs.text},
        )
        raise


def _change_wording(minutes, item, part, text, user, opened_at_version) -> MinutesWording:
    _require_draft(minutes)
    wording = wording_for(minutes, item, part)
    if wording is None:
        # Never corrected: there is nobody's correction to overwrite.
        wording = MinutesWording(
            minutes_id=minutes.id, agenda_item_id=item.id, part=part, text=text
        )
        db.session.add(wording)
    else:
        require_version(
            wording,
            opened_at_version,
            yours={WORDING_PARTS[part]: text},
            theirs={WORDING_PARTS[part]: wording.text},
        )
        wording.text = text
    touch(wording, user)
    wording.changes.append(MinutesWordingChange(text=text, changed_by_id=user.id))
    db.session.flush()
    # Written under the version's own row, so an approval at the same moment waits for this
    # save (and then freezes it) or refuses it (then this one is refused as approved).
    claimed = db.session.execute(
        update(Minutes)
        .where(Minutes.id == minutes.id, Minutes.status == MinutesStatus.DRAFT)
        .values(status=MinutesStatus.DRAFT)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(minutes)
        _require_draft(minutes)
        raise MinutesError("Someone else changed these minutes at the same moment", field="text")
    audit.record(
        "minutes_wording_changed",
        minutes,
        user=user,
        detail=f"version {minutes.version}: item {item.id} {part}",
    )
    db.session.commit()
    return wording


def _require_draft(minutes: Minutes) -> None:
    if minutes.status != MinutesStatus.DRAFT:
        raise MinutesError(
            f"Version {minutes.version} is {minutes.status.label.lower()}: its wording can no "
            "longer be changed. Start a corrected version to change it.",
            field="text",
        )


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
    """Tell each recipient the approved minutes are ready, with a link to read them after
    signing in, or with the document attached for an address on a secure email domain; in one
    transaction with the status change. Returns how many emails were queued."""
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
    people = minutes_recipients(meeting)
    secure = circulation.secure_domain_names()
    attachment = None
    if any(circulation.documents_by_attachment(person.email, secure) for person in people):
        attachment = outbox.Attachment(
            minutes_filename(minutes), DOCX_MIMETYPE, document_of(minutes)
        )
    # Every case minuted, withheld items too: the document numbers them by case reference.
    minuted = [item.case for item in minuted_items(meeting)]
    queued = 0
    for person in people:
        attached = attachment is not None and circulation.documents_by_attachment(
            person.email, secure
        )
        queued += (
            _queue_minutes(meeting, minutes, person, attachment if attached else None, minuted)
            is not None
        )
    if meeting.status == MeetingStatus.HELD:
        forums.change_meeting_status(meeting, MeetingStatus.MINUTES_CIRCULATED, user)
    after_minutes_circulated(minutes)  # action owners and lead professionals (issue 17)
    audit.record(
        "minutes_circulated", minutes, user=user, detail=f"version {minutes.version}: {queued}"
    )
    db.session.commit()
    return queued


def minutes_filename(minutes: Minutes) -> str:
    """The same name attached and downloaded, unique per forum, date and version."""
    meeting = minutes.meeting
    return circulation.document_filename(meeting.forum, "minutes", meeting.date, minutes.version)


def minutes_link(meeting: Meeting) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + f"/meetings/{meeting.id}/minutes/circulated"


def documents_sent(minutes: Minutes) -> tuple[int, int]:
    """How many of this version's emails linked to the minutes, and how many attached them."""
    sent = dict(
        db.session.execute(
            select(OutboxMessage.documents, func.count())
            .where(
                OutboxMessage.dedupe_key.startswith(
                    f"minutes:{minutes.meeting_id}:v{minutes.version}:", autoescape=True
                )
            )
            .group_by(OutboxMessage.documents)
        ).all()
    )
    return sent.get(DocumentsBy.LINK, 0), sent.get(DocumentsBy.ATTACHMENT, 0)


def _queue_minutes(
    meeting: Meeting,
    minutes: Minutes,
    person: Recipient,
    attachment: outbox.Attachment | None,
    minuted: list[Case],
) -> OutboxMessage | None:
    """`attachment` only for an address on a secure email domain; the others get a link."""
    attached = attachment is not None
    context = dict(
        meeting=meeting,
        minutes=minutes,
        person=person,
        when=_when(meeting),
        attached=attached,
        link=minutes_link(meeting),
        signs_in=can_sign_in(person.email),
        contact=who_to_ask(meeting.forum),
        # How many, never which.
        counts=plural(len(minuted), "case"),
        document_words="The minutes document",
    )
    day = f"{meeting.date:%-d %B %Y}"
    subject = f"Minutes: {meeting.forum.name}, {day}"
    if minutes.version > 1:
        subject = f"Corrected minutes (version {minutes.version}): {meeting.forum.name}, {day}"
    if attached:
        subject = f"OFFICIAL-SENSITIVE: {subject}"
    message = outbox.enqueue(
        dedupe_key=f"minutes:{meeting.id}:v{minutes.version}:{person.email}",
        recipient_email=person.email,
        recipient_name=person.name,
        subject=subject,
        text_body=render_template("outcomes/email/minutes.txt", **context),
        html_body=render_template("outcomes/email/minutes.html", **context),
        attachments=[attachment] if attached else [],
        meeting_id=meeting.id,
        concerning=minuted,
    )
    if message is not None:
        message.documents = DocumentsBy.ATTACHMENT if attached else DocumentsBy.LINK
    return message


# --- the content ----------------------------------------------------------------------
#
# The minutes are built once as a list of blocks (headings, labelled lines, tables...) that
# both the Word writer and the page render, so the page and the document never disagree. An
# approved version's content is stored as JSON beside its document, so its page never changes.


@dataclass
class Block:
    """One piece of the minutes, in reading order: a heading, a labelled line ("Outcome: ..."),
    a paragraph, a bullet, a bold line, the protective note, or a table."""

    kind: str  # heading | labelled | text | bullet | strong | note | table
    text: str = ""
    label: str = ""
    level: int = 0
    columns: list[tuple[str, float]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    # Set on the wording the chair or coordinator may correct (WORDING_PARTS): which part,
    # and who last changed it. The page shows these; the document never does.
    part: str = ""
    item_id: int | None = None
    about: str = ""  # whose item it is, for the link's words ("Case 12")
    changed: str = ""


@dataclass
class ItemSection:
    number: int
    case_id: int
    item_id: int
    blocks: list[Block]
    # Withheld when the content was made: nothing about the child was put in it.
    withheld: bool = False


@dataclass
class ActionRow:
    case_id: int
    agency: str
    cells: list[str]


@dataclass
class MinutesContent:
    head: list[Block]
    items: list[ItemSection]
    actions: list[ActionRow]

    def blocks(self, withheld_cases: set[int] = frozenset()) -> list[Block]:
        """The minutes in reading order, with the items of `withheld_cases` (and of any
        case withheld when the content was made) said to be withheld and their actions left
        out (seed 003 §4.12)."""
        hidden = {s.case_id for s in self.items if s.withheld} | set(withheld_cases)
        blocks = [*self.head, Block("heading", "Agenda items", level=2)]
        for section in self.items:
            if section.case_id in hidden:
                # The item keeps its number, so the minutes still match what was discussed,
                # but nothing that could identify the child goes to the members.
                title = f"{section.number}. {case_reference(section.case_id)}"
                blocks += [Block("heading", title, level=3), Block("text", WITHHELD)]
            else:
                blocks += section.blocks
        if not self.items:
            blocks.append(Block("text", "No cases were on the agenda."))
        blocks.append(Block("heading", "Actions", level=2))
        shown = [row for row in self.actions if row.case_id not in hidden]
        if not shown:
            blocks.append(Block("text", "No actions were agreed."))
        by_agency: dict[str, list[list[str]]] = {}
        for row in shown:
            by_agency.setdefault(row.agency, []).append(row.cells)
        # Alphabetical, so each agency finds its own; actions with no agency come last.
        for agency in sorted(by_agency, key=lambda name: (name == NO_AGENCY, name.casefold())):
            blocks.append(Block("heading", agency, level=3))
            blocks.append(Block("table", columns=list(ACTION_COLUMNS), rows=by_agency[agency]))
        return blocks

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "MinutesContent":
        data = json.loads(text)

        def blocks(items: list[dict]) -> list[Block]:
            return [Block(**{**b, "columns": [tuple(c) for c in b["columns"]]}) for b in items]

        return cls(
            head=blocks(data["head"]),
            items=[ItemSection(**{**s, "blocks": blocks(s["blocks"])}) for s in data["items"]],
            actions=[ActionRow(**row) for row in data["actions"]],
        )


def content_of(minutes: Minutes) -> MinutesContent:
    """What an approved version said when it was approved; a draft's, from the record as it
    stands with its corrected wording. (A version approved before the content was stored is
    made from the record too.)"""
    if minutes.status != MinutesStatus.DRAFT and minutes.content:
        return MinutesContent.from_json(minutes.content)
    return minutes_content(minutes.meeting, minutes)


def blocks_of(minutes: Minutes) -> list[Block]:
    """The minutes as a member may read them now: from `content_of`, with every item whose
    consent to share has since been withdrawn withheld."""
    content = content_of(minutes)
    return content.blocks(_withheld_now(content))


def _withheld_now(content: MinutesContent) -> set[int]:
    ids = [section.case_id for section in content.items if not section.withheld]
    if not ids:
        return set()
    cases = db.session.scalars(
        select(Case).where(Case.id.in_(ids)).options(selectinload(Case.consents))
    )
    return {case.id for case in cases if not may_share_with_forum(case)}


def minutes_content(meeting: Meeting, minutes: Minutes) -> MinutesContent:
    """The minutes of `meeting` as version `minutes`, from the record as it stands, read
    with the version's corrected wording."""
    forum = meeting.forum
    head = [
        Block("heading", f"{forum.name}: minutes", level=1),
        Block("labelled", _status_text(minutes), label="Status"),
    ]
    if minutes.correction_note:
        head.append(Block("labelled", minutes.correction_note, label="Correction"))
    head += [
        Block("labelled", long_date(meeting.date), label="Date"),
        Block(
            "labelled", f"{clock(meeting.start_time)}–{clock(_booked_until(meeting))}", label="Time"
        ),
        Block("labelled", meeting.venue, label="Venue"),
        Block("labelled", forum.chair.name if forum.chair else "Not appointed", label="Chair"),
        Block("note", MINUTES_NOTE),
        *_attendance_blocks(attendance_of(meeting)),
    ]
    items = minuted_items(meeting)
    hidden = withheld(items)
    wording = wordings_of(minutes)
    facts = _facts(meeting, [item for item in items if item not in hidden])
    sections = [
        ItemSection(number, item.case_id, item.id, [], withheld=True)
        if item in hidden
        else ItemSection(number, item.case_id, item.id, _item_blocks(number, item, wording, facts))
        for number, item in enumerate(items, start=1)
    ]
    return MinutesContent(
        head, sections, _action_rows([item for item in items if item not in hidden])
    )


def minutes_document(meeting: Meeting, minutes: Minutes) -> bytes:
    """The .docx minutes of `meeting` as version `minutes`, from the record as it stands."""
    return write_document(meeting, minutes, minutes_content(meeting, minutes).blocks())


def write_document(meeting: Meeting, minutes: Minutes, blocks: list[Block]) -> bytes:
    """The .docx of the minutes' `blocks`."""
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
    for block in blocks:
        _write_block(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _write_block(document: DocxDocument, block: Block) -> None:
    if block.kind == "heading":
        document.add_heading(_clean(block.text), level=block.level)
    elif block.kind == "labelled":
        _add_labelled(document, block.label, block.text)
    elif block.kind == "text":
        document.add_paragraph(_clean(block.text))
    elif block.kind == "bullet":
        document.add_paragraph(_clean(block.text), "List Bullet")
    elif block.kind == "strong":
        document.add_paragraph().add_run(_clean(block.text)).bold = True
    elif block.kind == "note":
        _add_note(document, block.text)
    elif block.kind == "table":
        table = _add_table(document, tuple(block.columns))
        for row in block.rows:
            _add_row(table, tuple(row))


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


def _attendance_blocks(rows: list[Attendance]) -> list[Block]:
    blocks = [Block("heading", "Attendance", level=2)]
    groups = (
        ("Present", [r for r in rows if r.member_id and r.status == AttendanceStatus.PRESENT]),
        ("Apologies", [r for r in rows if r.status == AttendanceStatus.APOLOGIES]),
        ("Absent", [r for r in rows if r.status == AttendanceStatus.ABSENT]),
        ("Guests", [r for r in rows if r.member_id is None]),
    )
    for title, people in groups:
        blocks.append(Block("heading", title, level=3))
        if not people:
            blocks.append(Block("text", "None recorded."))
            continue
        rows_ = [[person.name, person.agency_name] for person in people]
        blocks.append(Block("table", columns=list(ATTENDEE_COLUMNS), rows=rows_))
    return blocks


@dataclass
class _Facts:
    """What the items' minutes are made from, read for all the items at once (a query per
    item made a 40-item meeting's page many times slower than a short one's)."""

    records: dict[int, ItemRecord]  # by agenda item id
    proposals: dict[int, LeadProposal]  # by item record id
    leads: dict[int, LeadProfessional]  # by case id: leading on the day of the meeting
    updates: dict[int, ProgressUpdate]  # by case id: reporting to this meeting


def _facts(meeting: Meeting, items: list[AgendaItem]) -> _Facts:
    item_ids, case_ids, day = [i.id for i in items], [i.case_id for i in items], meeting.date
    records = db.session.scalars(
        select(ItemRecord)
        .where(ItemRecord.agenda_item_id.in_(item_ids))
        .options(selectinload(ItemRecord.services).selectinload(AgreedService.agency))
    ).all()
    proposals = db.session.scalars(
        select(LeadProposal)
        .where(LeadProposal.item_record_id.in_([r.id for r in records]))
        .options(selectinload(LeadProposal.agency))
    )
    leads: dict[int, LeadProfessional] = {}
    # Oldest first, so the latest to start (then the latest made) is kept for each case.
    for lead in db.session.scalars(
        select(LeadProfessional)
        .where(
            LeadProfessional.case_id.in_(case_ids),
            LeadProfessional.starts_on <= day,
            or_(LeadProfessional.ends_on.is_(None), LeadProfessional.ends_on >= day),
        )
        .options(selectinload(LeadProfessional.agency))
        .order_by(LeadProfessional.starts_on, LeadProfessional.id)
    ):
        leads[lead.case_id] = lead
    updates = db.session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.meeting_id == meeting.id, ProgressUpdate.case_id.in_(case_ids))
        .options(
            selectinload(ProgressUpdate.lead_professional),
            selectinload(ProgressUpdate.answers),
        )
    )
    return _Facts(
        records={record.agenda_item_id: record for record in records},
        proposals={proposal.item_record_id: proposal for proposal in proposals},
        leads=leads,
        updates={update.case_id: update for update in updates},
    )


def _item_blocks(
    number: int,
    item: AgendaItem,
    wording: dict[tuple[int, str], MinutesWording],
    facts: _Facts,
) -> list[Block]:
    case = item.case
    blocks = [
        Block("heading", f"{number}. {case_reference(case.id)}: {case.child.full_name}", level=3),
        Block("labelled", item.kind.label, label="Type"),
    ]
    record = facts.records.get(item.id)
    if record is None:
        return [*blocks, Block("labelled", "Not recorded", label="Outcome")]
    # A deferred item was not discussed, so it shows only what the forum did record.
    deferred = item.status == ItemStatus.MOVED
    discussion = _worded(item, "discussion", record.discussion, wording)
    if discussion.text or not deferred:
        discussion.text = discussion.text or "None recorded"
        blocks.append(discussion)
    blocks += _progress_blocks(facts.updates.get(item.case_id))
    if record.services:
        blocks.append(Block("strong", "Services agreed"))
        blocks += [Block("bullet", f"{s.agency.name}: {s.what}") for s in record.services]
    elif not deferred:
        blocks.append(Block("labelled", "None recorded", label="Services agreed"))
    lead = _lead_text(facts.proposals.get(record.id) or facts.leads.get(item.case_id))
    if lead or not deferred:
        label = words().lead_professional_cap  # frozen with the minutes when approved
        blocks.append(Block("labelled", lead or "Not yet agreed", label=label))
    return blocks + _outcome_blocks(item, record, wording)


def _worded(
    item: AgendaItem, part: str, recorded: str, wording: dict[tuple[int, str], MinutesWording]
) -> Block:
    """The labelled line of a part the chair or coordinator may correct: as they worded it
    for the minutes, or else as recorded."""
    block = Block(
        "labelled",
        recorded or "",
        label=WORDING_PARTS[part],
        part=part,
        item_id=item.id,
        about=case_reference(item.case_id),
    )
    corrected = wording.get((item.id, part))
    if corrected is not None:
        block.text = corrected.text
        block.changed = _changed_text(corrected)
    return block


def _changed_text(wording: MinutesWording) -> str:
    who = last_changed_by(wording) or "someone"
    when = (wording.updated_at or utcnow()).astimezone(LONDON)
    return f"Wording changed by {who} at {when:%H:%M} on {short_date(when.date())}"


def _lead_text(lead: LeadProposal | LeadProfessional | None) -> str | None:
    """The lead professional the forum agreed for this item or, with none agreed, whoever
    was leading the case on the day of the meeting (the caller chooses)."""
    if lead is None:
        return None
    who = LEAD_KIND_WORDS.get(lead.kind) or (lead.agency.name if lead.agency else "")
    agreed = "agreed to take the role" if lead.agreed else "has not yet agreed"
    return ", ".join(part for part in (lead.name, who) if part) + f" ({agreed})"


def _outcome_blocks(
    item: AgendaItem, record: ItemRecord, wording: dict[tuple[int, str], MinutesWording]
) -> list[Block]:
    outcome = record.outcome
    if item.status == ItemStatus.MOVED:
        target = item.moved_to.meeting.date if item.moved_to else None
        text = f"Deferred to {long_date(target)}" if target else "Deferred"
    else:
        text = outcome.label if outcome is not None else "Not recorded"
    blocks = [Block("labelled", text, label="Outcome")]
    if outcome == Outcome.CONTINUE and record.next_review_on:
        review = long_date(record.next_review_on)
        if record.sign_off_next:
            review += ", as a sign-off: the forum proposes closing the case then"
        blocks.append(Block("labelled", review, label="Next review"))
    if outcome == Outcome.CLOSE and record.closure_reason:
        blocks.append(Block("labelled", record.closure_reason.label, label="Reason for closing"))
    notes = _worded(item, "notes", record.outcome_notes, wording)
    if notes.text:
        if outcome == Outcome.STEP_UP:
            notes.label = "Reason for stepping up"
        blocks.append(notes)
    return blocks


def _progress_blocks(progress: ProgressUpdate | None) -> list[Block]:
    """Seed 004: the lead professional reports progress to the next meeting."""
    if progress is None:
        return []
    lead = progress.lead_professional.name
    if progress.submitted_at is None:
        # Nothing false (DESIGN §4): "asked of" only when a request was stored and sent.
        request = request_of(progress)
        if request is None:
            return []
        asked_on = short_date(request.created_at.astimezone(LONDON).date())
        text = f"Asked of {request.recipient_name} on {asked_on}; not received"
        return [Block("labelled", text, label="Progress update")]
    received = short_date(progress.submitted_at.astimezone(LONDON).date())
    summary = f": {progress.summary}" if progress.summary else ""
    blocks = [
        Block("labelled", f"From {lead}, received {received}{summary}", label="Progress update")
    ]
    for answer in answered_questions(progress):  # each of the seven, "Not asked" too
        comment = f" “{answer.comment}”" if answer.comment else ""
        text = f"{answer.number}. {answer.question} {answer.answer_text}.{comment}"
        blocks.append(Block("bullet", text))
    if progress.further_comments:
        blocks.append(Block("labelled", progress.further_comments, label="Further comments"))
    return blocks


def _action_rows(items: list[AgendaItem]) -> list[ActionRow]:
    actions = db.session.scalars(
        select(Action)
        .where(Action.agenda_item_id.in_([item.id for item in items]))
        .options(
            selectinload(Action.owner_agency),
            selectinload(Action.case).selectinload(Case.child),
        )
        .order_by(Action.case_id, Action.due_on, Action.id)
    )
    return [
        ActionRow(
            action.case_id,
            action.owner_agency.name if action.owner_agency else NO_AGENCY,
            [
                f"{case_reference(action.case_id)}\n{action.case.child.full_name}",
                action.description,
                action.owner_name,
                short_date(action.due_on),
            ],
        )
        for action in actions
    ]
