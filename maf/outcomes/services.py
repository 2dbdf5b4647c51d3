"""The meeting record: attendance, what was decided for each item, and what follows from it
for each case (status, review date, lead professional, actions)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import selectinload

from maf.agendas import services as agendas
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.services import normalise_email
from maf.cases import services as cases
from maf.cases.deadlines import is_working_day
from maf.cases.models import Case, CaseStatus
from maf.directory.models import Agency
from maf.errors import DomainError
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import Meeting, MeetingStatus
from maf.outcomes.models import (
    Action,
    ActionStatus,
    AgreedService,
    Attendance,
    AttendanceStatus,
    ClosureReason,
    ItemRecord,
    LeadKind,
    LeadProfessional,
    LeadProposal,
    Minutes,
    Outcome,
)

RECORDING_STATUSES = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_CIRCULATED)
HELD_STATUSES = (MeetingStatus.HELD, MeetingStatus.MINUTES_CIRCULATED)
REVIEW_MONTHS = 3


class OutcomeError(DomainError):
    """A rule about the meeting record refused the change."""


# --- review dates ------------------------------------------------------------------------


def propose_next_review(meeting: Meeting) -> date:
    """Seed 002 C1: the plan is reviewed within three months, then every three months.

    Proposes the forum's last meeting within the three months (the LP reports there); with
    none scheduled, the three-month date itself, brought back to a working day.
    """
    due = meeting.date + relativedelta(months=REVIEW_MONTHS)
    within = [
        m.date
        for m in meeting.forum.meetings
        if meeting.date < m.date <= due and m.status != MeetingStatus.CANCELLED
    ]
    if within:
        return max(within)
    while not is_working_day(due):
        due -= timedelta(days=1)
    return due


# --- attendance --------------------------------------------------------------------------


@dataclass(frozen=True)
class Guest:
    name: str
    agency_name: str = ""


def attendance_of(meeting: Meeting) -> list[Attendance]:
    return list(
        db.session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id)
            .options(selectinload(Attendance.member))
            .order_by(Attendance.member_id.is_(None), Attendance.name)
        )
    )


def save_attendance(
    meeting: Meeting,
    statuses: dict[int, AttendanceStatus],
    guests: list[Guest],
    user: User,
) -> None:
    """Members' attendance by member id, and the guests present (replacing earlier guests)."""
    _require_recording(meeting)
    recorded = {a.member_id: a for a in attendance_of(meeting) if a.member_id is not None}
    for member in forums.active_members(meeting.forum):
        if member.id not in statuses:
            continue
        row = recorded.get(member.id) or Attendance(meeting_id=meeting.id, member_id=member.id)
        row.name, row.agency_name, row.status = member.name, member.agency.name, statuses[member.id]
        db.session.add(row)
    db.session.execute(
        delete(Attendance).where(
            Attendance.meeting_id == meeting.id, Attendance.member_id.is_(None)
        )
    )
    for guest in guests:
        if guest.name.strip():
            db.session.add(
                Attendance(
                    meeting_id=meeting.id,
                    name=guest.name.strip(),
                    agency_name=guest.agency_name.strip(),
                    status=AttendanceStatus.PRESENT,
                )
            )
    audit.record("attendance_saved", meeting, user=user)
    db.session.commit()


# --- one item ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDetails:
    description: str
    owner_name: str
    due_on: date
    owner_email: str = ""
    owner_agency: Agency | None = None


@dataclass(frozen=True)
class LeadDetails:
    kind: LeadKind
    name: str
    agreed: bool
    email: str = ""
    agency: Agency | None = None


@dataclass
class ItemDetails:
    outcome: Outcome | None
    discussion: str = ""
    services: list[tuple[Agency, str]] = field(default_factory=list)
    actions: list[ActionDetails] = field(default_factory=list)
    lead: LeadDetails | None = None
    next_review_on: date | None = None
    closure_reason: ClosureReason | None = None
    outcome_notes: str = ""


def _require_recording(meeting: Meeting) -> None:
    if meeting.status not in RECORDING_STATUSES:
        raise OutcomeError(
            f"The record of a meeting that is {meeting.status.label.lower()} cannot be changed"
        )


def _check(item: AgendaItem, details: ItemDetails) -> None:
    outcome = details.outcome
    if outcome == Outcome.CLOSE:
        if item.kind == ItemKind.NEW_CASE:
            raise OutcomeError(
                "A new case is not closed at its first discussion: close it at a sign-off",
                field="outcome",
            )
        if details.closure_reason is None:
            raise OutcomeError("Select why the CAF is closing", field="closure_reason")
    if outcome == Outcome.STEP_UP and not details.outcome_notes.strip():
        raise OutcomeError(
            "Enter why the case is stepping up to statutory services", field="outcome_notes"
        )
    if outcome == Outcome.CONTINUE:
        if details.next_review_on is None:
            raise OutcomeError("Enter the date of the next review", field="next_review_on")
        if details.next_review_on <= item.meeting.date:
            raise OutcomeError("The next review must be after this meeting", field="next_review_on")
        if details.next_review_on > item.meeting.date + relativedelta(months=REVIEW_MONTHS):
            raise OutcomeError(
                "The next review must be within 3 months of this meeting (seed 002 C1)",
                field="next_review_on",
            )
        if (
            item.kind == ItemKind.NEW_CASE
            and details.lead is None
            and current_lead(item.case) is None
        ):
            raise OutcomeError("Record the lead professional the forum agreed", field="lead_name")
    if outcome == Outcome.DEFER and forums.next_meeting(item.meeting) is None:
        raise OutcomeError(
            "There is no later meeting of this forum to defer to: add the next meeting first",
            field="outcome",
        )
    for number, action in enumerate(details.actions, start=1):
        if action.due_on < item.meeting.date:
            raise OutcomeError(
                "An action's due date must be after the meeting", field=f"action_{number}_due"
            )


def record_for(item: AgendaItem) -> ItemRecord | None:
    return db.session.scalar(select(ItemRecord).where(ItemRecord.agenda_item_id == item.id))


def save_item_record(item: AgendaItem, details: ItemDetails, user: User) -> ItemRecord:
    """Save as you go: each save replaces what was recorded for the item."""
    _require_recording(item.meeting)
    _check(item, details)
    record = record_for(item) or ItemRecord(agenda_item_id=item.id, recorded_by_id=user.id)
    record.discussion = details.discussion.strip()
    record.outcome, record.next_review_on = details.outcome, details.next_review_on
    record.closure_reason = details.closure_reason if details.outcome == Outcome.CLOSE else None
    record.outcome_notes, record.recorded_by_id = details.outcome_notes.strip(), user.id
    record.services = [AgreedService(agency=a, what=what.strip()) for a, what in details.services]
    db.session.add(record)
    db.session.flush()
    db.session.execute(delete(LeadProposal).where(LeadProposal.item_record_id == record.id))
    if details.lead is not None:
        lead = details.lead
        db.session.add(
            LeadProposal(
                item_record_id=record.id,
                kind=lead.kind,
                name=lead.name.strip(),
                email=normalise_email(lead.email),
                agency=lead.agency,
                agreed=lead.agreed,
            )
        )
    db.session.execute(
        delete(Action).where(Action.agenda_item_id == item.id, Action.status == ActionStatus.OPEN)
    )
    for action in details.actions:
        email = normalise_email(action.owner_email)
        db.session.add(
            Action(
                case_id=item.case_id,
                agenda_item_id=item.id,
                description=action.description.strip(),
                owner_name=action.owner_name.strip(),
                owner_email=email,
                owner_agency=action.owner_agency,
                owner_user_id=_user_id(email),
                due_on=action.due_on,
            )
        )
    audit.record("item_recorded", item.case, user=user, detail=f"meeting {item.meeting_id}")
    db.session.commit()
    return record


def _user_id(email: str) -> int | None:
    return db.session.scalar(select(User.id).where(User.email == email)) if email else None


# --- the whole meeting -------------------------------------------------------------------


def when_it_starts(meeting: Meeting) -> str:
    return f"{meeting.date:%-d %B %Y} at {meeting.start_time:%H:%M}"


def complete_meeting(meeting: Meeting, user: User) -> Minutes:
    """Apply every item's outcome to its case, mark the meeting held and draft the minutes.
    All or nothing: an item without an outcome stops it."""
    _require_recording(meeting)
    if not meeting.has_started:  # a record says only what happened (DESIGN §4 "Nothing false")
        raise OutcomeError(
            f"This meeting is on {when_it_starts(meeting)}: it can be recorded as held once it "
            "has started",
            field="items",
        )
    items = agendas.scheduled_items(meeting)
    missing = [item for item in items if getattr(record_for(item), "outcome", None) is None]
    if missing:
        raise OutcomeError(
            f"Record an outcome for every item first: {len(missing)} still to do", field="items"
        )
    for item in items:
        try:
            _apply(item, record_for(item), user)
        except DomainError as error:  # e.g. the next meeting filled up before a deferral
            raise OutcomeError(f"{item.case.child.full_name}: {error}", field="items") from None
    forums.change_meeting_status(meeting, MeetingStatus.HELD, user)
    minutes = Minutes(meeting_id=meeting.id, version=1)
    db.session.add(minutes)
    audit.record("meeting_completed", meeting, user=user)
    db.session.commit()
    return minutes


def _apply(item: AgendaItem, record: ItemRecord, user: User) -> None:
    case = item.case
    meeting = item.meeting
    if record.outcome == Outcome.DEFER:
        agendas.move_to_next_meeting(item, user, commit=False)
        return
    if case.status == CaseStatus.ON_AGENDA:
        cases.change_status(
            case, CaseStatus.OPEN, user, f"Discussed at the forum, {meeting.date:%-d %B %Y}"
        )
    proposal = db.session.scalar(
        select(LeadProposal).where(LeadProposal.item_record_id == record.id)
    )
    if proposal is not None:
        _allocate_lead(case, proposal, item, meeting.date)
    if record.outcome == Outcome.CONTINUE:
        case.next_review_on = record.next_review_on
    elif record.outcome == Outcome.CLOSE:
        case.closed_on = meeting.date  # closed at the sign-off meeting (seed 002 D1)
        reason = record.closure_reason.label + (
            f": {record.outcome_notes}" if record.outcome_notes else ""
        )
        cases.change_status(case, CaseStatus.CLOSED, user, f"Closed at sign-off. {reason}")
        case.next_review_on = None
        _end_lead(case, meeting.date)
    elif record.outcome == Outcome.STEP_UP:
        cases.change_status(case, CaseStatus.STEPPED_UP, user, record.outcome_notes)
        case.next_review_on = None


def _current_leads_of(case_ids) -> Select:
    """Each case's open lead professional episodes, newest first."""
    return (
        select(LeadProfessional)
        .where(LeadProfessional.case_id.in_(case_ids), LeadProfessional.ends_on.is_(None))
        .order_by(LeadProfessional.id.desc())
    )


def current_lead(case: Case) -> LeadProfessional | None:
    return db.session.scalar(_current_leads_of([case.id]))


def current_leads(cases) -> dict[int, LeadProfessional]:
    """current_lead of many cases, by case id, in two queries (the leads and their agencies)
    however many cases a page lists."""
    leads: dict[int, LeadProfessional] = {}
    statement = _current_leads_of([case.id for case in cases])
    for lead in db.session.scalars(statement.options(selectinload(LeadProfessional.agency))):
        leads.setdefault(lead.case_id, lead)  # the newest, as current_lead
    return leads


def describe_lead(lead: LeadProfessional) -> str:
    """'Zoë Brennan, School Nursing', or 'Karen Lee (parent or carer)'."""
    if lead.kind != LeadKind.PRACTITIONER:
        return f"{lead.name} ({lead.kind.label.lower()})"
    return f"{lead.name}, {lead.agency.name}" if lead.agency else lead.name


def _end_lead(case: Case, on: date) -> None:
    lead = current_lead(case)
    if lead is not None:
        lead.ends_on = on


def _allocate_lead(case: Case, proposal: LeadProposal, item: AgendaItem, on: date) -> None:
    current = current_lead(case)
    if current is not None and (current.name, current.email) == (proposal.name, proposal.email):
        current.agreed = current.agreed or proposal.agreed
        return
    _end_lead(case, on)
    db.session.add(
        LeadProfessional(
            case_id=case.id,
            kind=proposal.kind,
            name=proposal.name,
            email=proposal.email,
            agency_id=proposal.agency_id,
            user_id=_user_id(proposal.email),
            agreed=proposal.agreed,
            starts_on=on,
            agenda_item_id=item.id,
        )
    )
    db.session.flush()


def lead_history(case: Case) -> list[LeadProfessional]:
    return list(
        db.session.scalars(
            select(LeadProfessional)
            .where(LeadProfessional.case_id == case.id)
            .options(selectinload(LeadProfessional.agency))
            .order_by(LeadProfessional.starts_on, LeadProfessional.id)
        )
    )


def outstanding_actions(case: Case) -> list[Action]:
    return outstanding_actions_of([case])[case.id]


def outstanding_actions_of(cases) -> dict[int, list[Action]]:
    """Each case's open actions, soonest due first, by case id, in one query."""
    actions: dict[int, list[Action]] = {case.id: [] for case in cases}
    for action in db.session.scalars(
        select(Action)
        .where(Action.case_id.in_(actions), Action.status == ActionStatus.OPEN)
        .order_by(Action.due_on, Action.id)
    ):
        actions[action.case_id].append(action)
    return actions


def last_outcome(case: Case) -> ItemRecord | None:
    """The most recent decision the forum made about this case."""
    return db.session.scalar(
        select(ItemRecord)
        .join(AgendaItem)
        .join(Meeting)
        .where(AgendaItem.case_id == case.id, ItemRecord.outcome.is_not(None))
        .order_by(Meeting.date.desc())
        .limit(1)
    )


def lead_proposal(record: ItemRecord) -> LeadProposal | None:
    return db.session.scalar(select(LeadProposal).where(LeadProposal.item_record_id == record.id))


@dataclass(frozen=True)
class ReviewContext:
    """What the forum needs in front of it for an item: the case's last decision, its lead
    professional and what is still to do."""

    last_outcome: ItemRecord | None
    lead: LeadProfessional | None
    outstanding: list[Action]


def review_context(item: AgendaItem) -> ReviewContext:
    case = item.case
    previous = last_outcome(case)
    if previous is not None and previous.agenda_item_id == item.id:
        previous = None  # this meeting's own decision is not "the last outcome"
    return ReviewContext(
        previous,
        current_lead(case),
        [a for a in outstanding_actions(case) if a.agenda_item_id != item.id],
    )


def discussed():
    """SQL conditions for an agenda item the forum actually discussed: at a meeting that was
    held, with an outcome other than deferral (a deferred case is discussed later). The query
    must join AgendaItem to ItemRecord and Meeting."""
    return (
        Meeting.status.in_(HELD_STATUSES),
        AgendaItem.status == ItemStatus.SCHEDULED,
        ItemRecord.outcome.is_not(None),
        ItemRecord.outcome != Outcome.DEFER,
    )
