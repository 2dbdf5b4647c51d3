"""The meeting record: attendance, what was decided for each item, and what follows from it
for each case (status, review date, lead professional, actions)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from maf.agendas import services as agendas
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.answers.models import Response
from maf.answers.services import answers_by_email
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.services import normalise_email
from maf.cases import services as cases
from maf.cases.deadlines import is_working_day
from maf.cases.models import Case, CaseStatus
from maf.dbtypes import LabelledEnum
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
from maf.rules import services as rules
from maf.rules.words import words
from maf.versioning import require_version, touch

RECORDING_STATUSES = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_CIRCULATED)
HELD_STATUSES = (MeetingStatus.HELD, MeetingStatus.MINUTES_CIRCULATED)


class OutcomeError(DomainError):
    """A rule about the meeting record refused the change."""


# --- review dates ------------------------------------------------------------------------


def review_interval(meeting: Meeting) -> rules.Interval:
    """Seed 002 C1's interval as a local rule: the one in force when the meeting began, so a
    change applies to reviews set at meetings after it and review dates already set stay."""
    return rules.in_force_at("review_interval", meeting.starts_at)


def propose_next_review(meeting: Meeting) -> date:
    """Seed 002 C1: the plan is reviewed within three months, then every three months (the
    local rule's interval).

    Proposes the forum's last meeting within the interval (the LP reports there); with none
    scheduled, the date the interval ends, brought back to a working day.
    """
    due = review_interval(meeting).after(meeting.date)
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


def guests_of(meeting: Meeting) -> list[Guest]:
    """Everyone present who is not a member, with or without an agency."""
    return [Guest(a.name, a.agency_name) for a in attendance_of(meeting) if a.member_id is None]


@dataclass(frozen=True)
class AttendanceFromAnswers:
    """Where the attendance page starts before anything is saved: the members' answers to the
    invitation. Attending: present; not attending: apologies; a deputy: the member's apologies
    and the deputy a guest from the member's agency; no answer: nothing chosen, as before."""

    statuses: dict[int, AttendanceStatus]
    guests: list[Guest]


def attendance_from_answers(meeting: Meeting) -> AttendanceFromAnswers:
    answers = answers_by_email(meeting)
    statuses: dict[int, AttendanceStatus] = {}
    guests: list[Guest] = []
    for member in forums.active_members(meeting.forum):
        answer = answers.get(member.email.lower())
        if answer is None:
            continue
        if answer.response == Response.ATTENDING:
            statuses[member.id] = AttendanceStatus.PRESENT
        else:
            statuses[member.id] = AttendanceStatus.APOLOGIES
        if answer.response == Response.DEPUTY and answer.deputy_name:
            guests.append(Guest(answer.deputy_name, member.agency.name))
    return AttendanceFromAnswers(statuses, guests)


def _attendance_in_words(meeting: Meeting, statuses: dict[int, str], guests: list[Guest]):
    """Attendance as the stale-save notice lists it: each member's status, and the guests."""
    words = {
        f"{member.name} ({member.agency.name})": statuses.get(member.id, "")
        for member in forums.active_members(meeting.forum)
    }
    words["Guests"] = "\n".join(
        f"{g.name.strip()}, {g.agency_name.strip()}" if g.agency_name.strip() else g.name.strip()
        for g in guests
        if g.name.strip()
    )
    return words


def save_attendance(
    meeting: Meeting,
    statuses: dict[int, AttendanceStatus],
    guests: list[Guest],
    user: User,
    opened_at_version: int | None = None,
) -> None:
    """Members' attendance by member id, and the guests present (replacing earlier guests).

    `opened_at_version` is the meeting's version the form was opened at: a save from a page
    older than the last save of the attendance is refused (StaleEdit) rather than overwriting
    it. None is for callers that are not a form (the demo data, tests)."""
    _overtaken_is_stale(
        lambda: _save_attendance(meeting, statuses, guests, user, opened_at_version),
        lambda: _save_attendance(meeting, statuses, guests, user, -1),
    )


def _save_attendance(meeting, statuses, guests, user, opened_at_version) -> None:
    _require_recording(meeting)
    recorded = {a.member_id: a for a in attendance_of(meeting) if a.member_id is not None}
    if opened_at_version is not None:
        require_version(
            meeting,
            opened_at_version,
            yours=_attendance_in_words(meeting, {m: s.label for m, s in statuses.items()}, guests),
            theirs=_attendance_in_words(
                meeting, {m: a.status.label for m, a in recorded.items()}, guests_of(meeting)
            ),
        )
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
    # The meeting's version guards its attendance: this save moves it, so a page opened
    # before it cannot overwrite it.
    touch(meeting, user)
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
    # The saved action this row shows, so a save updates it rather than making a new one.
    id: int | None = None


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
    # The forum expects to close the case at that next review (only with Continue).
    sign_off_next: bool = False


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
            raise OutcomeError(
                f"Select why the {words().assessment_short} is closing", field="closure_reason"
            )
    if outcome == Outcome.STEP_UP and not details.outcome_notes.strip():
        raise OutcomeError(
            "Enter why the case is stepping up to statutory services", field="outcome_notes"
        )
    if outcome == Outcome.CONTINUE:
        if details.next_review_on is None:
            raise OutcomeError("Enter the date of the next review", field="next_review_on")
        if details.next_review_on <= item.meeting.date:
            raise OutcomeError("The next review must be after this meeting", field="next_review_on")
        interval = review_interval(item.meeting)
        if details.next_review_on > interval.after(item.meeting.date):
            raise OutcomeError(
                f"The next review must be within {interval} of this meeting",
                field="next_review_on",
            )
        if (
            item.kind == ItemKind.NEW_CASE
            and details.lead is None
            and current_lead(item.case) is None
        ):
            raise OutcomeError(
                f"Record the {words().lead_professional} the forum agreed", field="lead_name"
            )
    if outcome == Outcome.DEFER and forums.next_meeting(item.meeting) is None:
        raise OutcomeError(
            "There is no later meeting of this forum to defer to: add the next meeting first",
            field="outcome",
        )
    for number, action in enumerate(details.actions, start=1):
        if action.due_on < item.meeting.date:
            raise OutcomeError(
                f"Action {number}: due must be after the meeting",
                field=f"actions-{number - 1}-due",
            )


def record_for(item: AgendaItem) -> ItemRecord | None:
    return db.session.scalar(select(ItemRecord).where(ItemRecord.agenda_item_id == item.id))


class RecordState(LabelledEnum):
    """How far an item's record has got, as the meeting record's list of items shows it."""

    NOT_STARTED = "not_started", "Not started"
    NEEDS_ATTENTION = "needs_attention", "Needs attention: no outcome yet"
    SAVED = "saved", "Saved"


def record_states(items: list[AgendaItem]) -> dict[int, tuple[RecordState, ItemRecord | None]]:
    """Each item's state and record, by item id, in one query however many items."""
    records = {
        record.agenda_item_id: record
        for record in db.session.scalars(
            select(ItemRecord).where(ItemRecord.agenda_item_id.in_([i.id for i in items]))
        )
    }
    states = {}
    for item in items:
        record = records.get(item.id)
        if record is None:
            state = RecordState.NOT_STARTED
        elif record.outcome is None:
            state = RecordState.NEEDS_ATTENTION
        else:
            state = RecordState.SAVED
        states[item.id] = (state, record)
    return states


def open_actions_of(item: AgendaItem) -> list[Action]:
    """The item's actions still to do, in the order they were agreed."""
    return list(
        db.session.scalars(
            select(Action)
            .where(Action.agenda_item_id == item.id, Action.status == ActionStatus.OPEN)
            .options(selectinload(Action.owner_agency))
            .order_by(Action.id)
        )
    )


def done_actions_of(item: AgendaItem) -> list[Action]:
    """The item's actions already marked done: shown, never changed by the record."""
    return list(
        db.session.scalars(
            select(Action)
            .where(Action.agenda_item_id == item.id, Action.status == ActionStatus.DONE)
            .order_by(Action.id)
        )
    )


def stored_details(item: AgendaItem) -> ItemDetails | None:
    """What is saved for the item, in the shape a save takes; None before the first save."""
    record = record_for(item)
    if record is None:
        return None
    proposal = lead_proposal(record)
    return ItemDetails(
        outcome=record.outcome,
        discussion=record.discussion,
        services=[(service.agency, service.what) for service in record.services],
        actions=[
            ActionDetails(
                description=action.description,
                owner_name=action.owner_name,
                due_on=action.due_on,
                owner_email=action.owner_email,
                owner_agency=action.owner_agency,
                id=action.id,
            )
            for action in open_actions_of(item)
        ],
        lead=None
        if proposal is None
        else LeadDetails(
            kind=proposal.kind,
            name=proposal.name,
            agreed=proposal.agreed,
            email=proposal.email,
            agency=proposal.agency,
        ),
        next_review_on=record.next_review_on,
        closure_reason=record.closure_reason,
        outcome_notes=record.outcome_notes,
        sign_off_next=record.sign_off_next,
    )


def _in_words(details: ItemDetails | None) -> dict[str, str]:
    """An item's record as the stale-save notice compares it, field by field."""
    if details is None:
        return {}
    lead = details.lead
    agreed = " (agreed)" if lead is not None and lead.agreed else ""
    said = words()
    return {
        "Discussion": details.discussion.strip(),
        "Services agreed": "\n".join(
            f"{agency.name}: {what.strip()}" for agency, what in details.services
        ),
        "Actions": "\n".join(
            f"{a.description.strip()} ({a.owner_name.strip()}, due {a.due_on:%-d %B %Y})"
            for a in details.actions
        ),
        said.lead_professional_cap: ""
        if lead is None
        else f"{lead.name.strip()}, {lead.kind.label.lower()}{agreed}",
        "Outcome": details.outcome.label if details.outcome else "",
        "Next review": f"{details.next_review_on:%-d %B %Y}"
        if details.outcome == Outcome.CONTINUE and details.next_review_on
        else "",
        "Sign-off proposed at the next review": "Yes"
        if details.outcome == Outcome.CONTINUE and details.sign_off_next
        else "",
        f"Why the {said.assessment_short} is closing": details.closure_reason.label
        if details.outcome == Outcome.CLOSE and details.closure_reason
        else "",
        "Notes on the outcome": details.outcome_notes.strip(),
    }


def _overtaken_is_stale(save, explain):
    """Run `save`; if another save moved the row's version between this save's check and its
    UPDATE (SQLAlchemy's version_id_col refused it, at a flush or the commit), roll back and
    let `explain` (the check again, against what is stored now) raise the StaleEdit that says
    who changed what."""
    try:
        return save()
    except StaleDataError:
        db.session.rollback()
        explain()
        raise


def save_item_record(
    item: AgendaItem, details: ItemDetails, user: User, opened_at_version: int | None = None
) -> ItemRecord:
    """Save as you go: each save replaces what was recorded for the item; its open actions
    are updated in place (same id), those left out deleted, and done ones never touched.

    `opened_at_version` is the record's version the form was opened at (0 before the first
    save): a save from a page older than the last save is refused (StaleEdit) with what
    changed. None is for callers that are not a form (the demo data, tests)."""
    return _overtaken_is_stale(
        lambda: _save_item_record(item, details, user, opened_at_version),
        lambda: _require_item_version(item, record_for(item), -1, details),
    )


def _save_item_record(item, details, user, opened_at_version) -> ItemRecord:
    _require_recording(item.meeting)
    record = record_for(item)
    if opened_at_version is not None:
        _require_item_version(item, record, opened_at_version, details)
    _check(item, details)
    if record is None:
        record = ItemRecord(agenda_item_id=item.id, recorded_by_id=user.id)
        try:
            with db.session.begin_nested():
                db.session.add(record)
                db.session.flush()
        except IntegrityError:
            # Someone else saved the item's first record since this save looked: it is theirs
            # that stands, and this person is told, as for any later save.
            record = record_for(item)
            if record is None:
                raise
            _require_item_version(
                item, record, -1 if opened_at_version is None else opened_at_version, details
            )
    record.discussion = details.discussion.strip()
    record.outcome, record.next_review_on = details.outcome, details.next_review_on
    record.sign_off_next = details.outcome == Outcome.CONTINUE and details.sign_off_next
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
    _save_actions(item, details.actions, user)
    touch(record, user)  # moves the version even when only the actions changed
    audit.record("item_recorded", item.case, user=user, detail=f"meeting {item.meeting_id}")
    db.session.commit()
    return record


def _require_item_version(
    item: AgendaItem, record: ItemRecord | None, opened_at_version: int, details: ItemDetails
) -> None:
    if record is None:
        return
    require_version(
        record, opened_at_version, yours=_in_words(details), theirs=_in_words(stored_details(item))
    )


def _save_actions(item: AgendaItem, actions: list[ActionDetails], user: User) -> None:
    """Open actions keep their identity across saves (their owners may be following them up,
    or have marked progress on them); one left out of the form is deleted; an action marked
    done meanwhile is left as its owner marked it."""
    existing = {action.id: action for action in open_actions_of(item)}
    done = {action.id for action in done_actions_of(item)}
    kept = set()
    for details in actions:
        if details.id in done:
            continue
        email = normalise_email(details.owner_email)
        values = {
            "description": details.description.strip(),
            "owner_name": details.owner_name.strip(),
            "owner_email": email,
            "owner_user_id": _user_id(email),
            "owner_agency": details.owner_agency,
            "due_on": details.due_on,
        }
        action = existing.get(details.id) if details.id is not None else None
        if action is None:
            db.session.add(Action(case_id=item.case_id, agenda_item_id=item.id, **values))
            continue
        kept.add(action.id)
        for name, value in values.items():
            setattr(action, name, value)
        if db.session.is_modified(action):
            touch(action, user)
    for action_id, action in existing.items():
        if action_id not in kept:
            db.session.delete(action)


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
        case.ended_on = meeting.date  # stepped up at the meeting: retention starts then
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
