"""After the forum: the actions people owe, the cases a lead professional leads, a case's whole
story, and the time rules a coordinator must watch (seed 002 B3 and C1)."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import selectinload

from maf.agendas.models import AgendaItem, ItemStatus
from maf.audit import services as audit
from maf.audit.models import AuditEvent
from maf.auth.models import User
from maf.auth.permissions import manages_case, restrict_to_visible_districts
from maf.auth.services import normalise_email
from maf.cases import deadlines
from maf.cases.models import Case, CaseStatus, ConsentKind
from maf.cases.services import OPEN_STATUSES
from maf.corrections.models import ChildDetailsChange, ChildMerge
from maf.dbtypes import LONDON, london_today, utcnow  # noqa: F401 (london_today re-exported)
from maf.extensions import db
from maf.forums.models import Meeting, MeetingStatus
from maf.outcomes import late_reasons, progress
from maf.outcomes.models import (
    Action,
    ActionStatus,
    ItemRecord,
    LeadProfessional,
    Outcome,
    ProgressUpdate,
)
from maf.outcomes.services import HELD_STATUSES, discussed
from maf.rules.words import Worded, words
from maf.words import date_in_words

UPCOMING_STATUSES = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_CIRCULATED)


# --- actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionEntry:
    action: Action
    days_overdue: int  # calendar days past due_on; 0 when not yet due or due today

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def _entry(action: Action, today: date) -> ActionEntry:
    return ActionEntry(action, max((today - action.due_on).days, 0))


def owns_action(user: User, action: Action) -> bool:
    # Actions are allocated at the forum by email, often before the owner has an account, so
    # the email counts as much as the user id.
    return action.owner_user_id == user.id or (
        bool(action.owner_email) and action.owner_email == normalise_email(user.email)
    )


def may_complete(user: User, action: Action) -> bool:
    return owns_action(user, action) or manages_case(user, action.case)


def actions_for(user: User, today: date) -> list[ActionEntry]:
    """The user's open actions across every case, soonest due first."""
    actions = db.session.scalars(
        select(Action)
        .where(
            Action.status == ActionStatus.OPEN,
            or_(
                Action.owner_user_id == user.id,
                Action.owner_email == normalise_email(user.email),
            ),
        )
        .options(selectinload(Action.case).selectinload(Case.child))
        .order_by(Action.due_on, Action.id)
    )
    return [_entry(action, today) for action in actions]


def mark_done(action: Action, user: User) -> bool:
    """The caller has checked `may_complete`; this records who finished it and when.

    Idempotent: a second click, a retry, or someone else marking it at the same moment changes
    nothing and returns False, so the first person's name and time stand. The UPDATE claims
    the action only while it is still open (and moves its version, as any edit does)."""
    now = utcnow()
    claimed = db.session.execute(
        sql_update(Action)
        .where(Action.id == action.id, Action.status == ActionStatus.OPEN)
        .values(
            status=ActionStatus.DONE,
            done_at=now,
            done_by_id=user.id,
            version=Action.version + 1,
            updated_by_id=user.id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(action)
        return False
    audit.record("action_done", action.case, user=user, detail=f"action {action.id}")
    db.session.commit()
    db.session.refresh(action)
    return True


# --- the lead professional's cases -------------------------------------------------------


@dataclass(frozen=True)
class LedCase:
    case: Case
    lead: LeadProfessional
    actions: list[ActionEntry]
    # The oldest request still waiting, since that is the one the forum is waiting for.
    update_requested: ProgressUpdate | None


def cases_led_by(user: User, today: date) -> list[LedCase]:
    """Open cases the user leads now, soonest review first (cases without a date last)."""
    leads = list(
        db.session.scalars(
            select(LeadProfessional)
            .join(Case, Case.id == LeadProfessional.case_id)
            .where(
                LeadProfessional.ends_on.is_(None),
                Case.status.in_(sorted(OPEN_STATUSES)),
                or_(
                    LeadProfessional.user_id == user.id,
                    # An LP agreed before they had an account is found by email, as actions are.
                    and_(
                        LeadProfessional.user_id.is_(None),
                        LeadProfessional.email == normalise_email(user.email),
                    ),
                ),
            )
            .order_by(Case.next_review_on.is_(None), Case.next_review_on, Case.id)
        )
    )
    if not leads:
        return []
    case_ids = [lead.case_id for lead in leads]
    cases = {
        case.id: case
        for case in db.session.scalars(
            select(Case).where(Case.id.in_(case_ids)).options(selectinload(Case.child))
        )
    }
    actions: dict[int, list[ActionEntry]] = {case_id: [] for case_id in case_ids}
    for action in db.session.scalars(
        select(Action)
        .where(Action.case_id.in_(case_ids), Action.status == ActionStatus.OPEN)
        .order_by(Action.due_on, Action.id)
    ):
        actions[action.case_id].append(_entry(action, today))
    requested: dict[int, ProgressUpdate] = {}
    for update in db.session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.case_id.in_(case_ids), ProgressUpdate.submitted_at.is_(None))
        .options(selectinload(ProgressUpdate.meeting))
        .order_by(ProgressUpdate.requested_at, ProgressUpdate.id)
    ):
        requested.setdefault(update.case_id, update)
    return [
        LedCase(cases[lead.case_id], lead, actions[lead.case_id], requested.get(lead.case_id))
        for lead in leads
    ]


# --- a case's timeline -------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    when: datetime | date
    what: str
    detail: str = ""

    @property
    def day(self) -> date:
        """The day in England the event happened on."""
        if isinstance(self.when, datetime):
            return self.when.astimezone(LONDON).date()
        return self.when

    @property
    def has_time(self) -> bool:
        return isinstance(self.when, datetime)

    def sort_key(self) -> tuple:
        # Events known only by their date (a consent, a meeting's decision) come before
        # timed events of the same day: the day's paperwork usually follows the meeting.
        if isinstance(self.when, datetime):
            return (self.day, 1, self.when.timestamp())
        return (self.day, 0, 0.0)


STATUS_WORDS = {
    CaseStatus.CLOSED: Worded("{w.assessment_short} closed"),
    CaseStatus.WITHDRAWN: Worded("{w.assessment_short} withdrawn"),
    CaseStatus.STEPPED_UP: "Stepped up to statutory services",
    CaseStatus.MERGED: Worded("Added to an existing {w.assessment_short}"),
}
CONSENT_WORDS = {
    ConsentKind.UNDERTAKE: "to undertake the assessment",
    ConsentKind.RECORD: "to record the assessment",
    ConsentKind.SHARE: "to share the assessment",
}


def _join(*parts: str) -> str:
    return ". ".join(part.strip().rstrip(".") for part in parts if part and part.strip())


def _status_events(case: Case) -> list[TimelineEvent]:
    events = []
    received = f"{words().assessment_short} received"
    for index, change in enumerate(case.history):
        if index == 0:
            what, detail = received, f"Recorded by {change.changed_by.name}"
        else:
            what = STATUS_WORDS.get(change.to_status, f"Status changed: {change.to_status.label}")
            detail = change.reason
        events.append(TimelineEvent(change.changed_at, what, detail))
    if not case.history:
        events.append(TimelineEvent(case.created_at, received))
    return events


def _consent_events(case: Case) -> list[TimelineEvent]:
    events = []
    for consent in case.consents:
        verb = "given" if consent.given else "refused"
        scope = " with the district forum" if consent.covers_forum else ""
        by = f"By {consent.given_by_name} ({consent.given_by.label.lower()})"
        events.append(
            TimelineEvent(
                consent.given_on,
                f"Consent {verb} {CONSENT_WORDS[consent.kind]}{scope}",
                _join(by, consent.method.label),
            )
        )
        if consent.withdrawn_on is not None:
            events.append(
                TimelineEvent(
                    consent.withdrawn_on,
                    f"Consent withdrawn {CONSENT_WORDS[consent.kind]}",
                    consent.withdrawal_note,
                )
            )
    for decision in case.sharing_without_consent:
        events.append(
            TimelineEvent(
                decision.decided_on,
                "Shared without consent",
                _join(f"Decided by {decision.decided_by_name}", decision.ground.label),
            )
        )
    return events


def _check_events(case: Case) -> list[TimelineEvent]:
    events = []
    for candidate in case.match_candidates:
        if candidate.decided_at is not None and candidate.verdict is not None:
            # The other child is named on the case page for those who run the check; the
            # timeline is shown more widely, so it says only what was decided.
            verdict = candidate.verdict.label.lower()
            events.append(
                TimelineEvent(
                    candidate.decided_at,
                    f"Existing-{words().assessment_short} check: a possible match judged {verdict}",
                )
            )
    if case.existing_caf_checked_at is not None:
        done = f"Existing-{words().assessment_short} check done"
        events.append(TimelineEvent(case.existing_caf_checked_at, done))
    if case.tier_checked_at is not None and case.tier_outcome is not None:
        events.append(
            TimelineEvent(
                case.tier_checked_at,
                f"Tier 3/4 check: {case.tier_outcome.label}",
                case.tier_outcome_reason,
            )
        )
    return events


def _removed_at(item: AgendaItem) -> datetime | None:
    # Agenda items keep no removal time; the audit log does.
    return db.session.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == "agenda_item_removed",
            AuditEvent.object_type == "meeting",
            AuditEvent.object_id == str(item.meeting_id),
            AuditEvent.detail == f"case {item.case_id}",
        )
    )


def _agenda_events(case: Case) -> list[TimelineEvent]:
    items = db.session.scalars(
        select(AgendaItem)
        .where(AgendaItem.case_id == case.id)
        .options(selectinload(AgendaItem.meeting), selectinload(AgendaItem.moved_from))
        .order_by(AgendaItem.added_at, AgendaItem.id)
    )
    events = []
    for item in items:
        on = date_in_words(item.meeting.date)
        if item.moved_from is not None:
            what = f"Moved to the agenda of the meeting on {on}"
            detail = f"From the meeting on {date_in_words(item.moved_from.meeting.date)}"
        else:
            what, detail = f"Added to the agenda of the meeting on {on}", ""
        events.append(TimelineEvent(item.added_at, what, _join(item.kind.label, detail)))
        if item.status in (ItemStatus.REMOVED, ItemStatus.CONSENT_WITHDRAWN):
            removed = _removed_at(item)
            if removed is not None:
                events.append(
                    TimelineEvent(
                        removed, f"Taken off the agenda of the meeting on {on}", item.status_reason
                    )
                )
    return events


def _review_detail(record: ItemRecord) -> str:
    if record.outcome == Outcome.CONTINUE and record.next_review_on:
        return f"Next review by {date_in_words(record.next_review_on)}"
    if record.outcome == Outcome.CLOSE and record.closure_reason:
        return _join(record.closure_reason.label, record.outcome_notes)
    return record.outcome_notes


def _outcome_events(case: Case) -> list[TimelineEvent]:
    # Only meetings that were held: until then an outcome is a draft that may still change.
    rows = db.session.execute(
        select(ItemRecord, Meeting.date)
        .join(AgendaItem, AgendaItem.id == ItemRecord.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id == case.id,
            ItemRecord.outcome.is_not(None),
            Meeting.status.in_(HELD_STATUSES),
        )
        .order_by(Meeting.date, ItemRecord.id)
    )
    return [
        TimelineEvent(day, f"Forum decision: {record.outcome.label}", _review_detail(record))
        for record, day in rows
    ]


def _lead_events(case: Case) -> list[TimelineEvent]:
    events = []
    leads = db.session.scalars(
        select(LeadProfessional)
        .where(LeadProfessional.case_id == case.id)
        .order_by(LeadProfessional.starts_on, LeadProfessional.id)
    )
    for lead in leads:
        agency = f", {lead.agency.name}" if lead.agency else ""
        agreed = "" if lead.agreed else f"Not yet agreed by the {words().lead_professional}"
        events.append(
            TimelineEvent(
                lead.starts_on,
                f"{words().lead_professional_cap}: {lead.name}{agency}",
                _join(lead.kind.label, agreed),
            )
        )
        if lead.ends_on is not None:
            events.append(TimelineEvent(lead.ends_on, f"{lead.name} stopped leading the case"))
    return events


def _action_events(case: Case) -> list[TimelineEvent]:
    events = []
    actions = db.session.scalars(
        select(Action)
        .where(Action.case_id == case.id)
        .options(selectinload(Action.done_by))
        .order_by(Action.created_at, Action.id)
    )
    for action in actions:
        events.append(
            TimelineEvent(
                action.created_at,
                f"Action agreed: {action.description}",
                f"For {action.owner_name}, due by {date_in_words(action.due_on)}",
            )
        )
        if action.done_at is not None:
            by = f"Marked done by {action.done_by.name}" if action.done_by else ""
            events.append(TimelineEvent(action.done_at, f"Action done: {action.description}", by))
    return events


def _progress_events(case: Case) -> list[TimelineEvent]:
    events = []
    updates = db.session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.case_id == case.id)
        .options(selectinload(ProgressUpdate.meeting))
        .order_by(ProgressUpdate.requested_at, ProgressUpdate.id)
    )
    for update in updates:
        meeting = f"For the meeting on {date_in_words(update.meeting.date)}"
        request = progress.request_of(update)
        if request is not None:  # an update nobody was asked for is not "requested"
            asked = f"{meeting}, asked of {request.recipient_name}"
            events.append(TimelineEvent(request.created_at, "Progress update requested", asked))
        if update.submitted_at is not None:
            events.append(TimelineEvent(update.submitted_at, "Progress update sent", meeting))
    return events


def _merge_events(case: Case) -> list[TimelineEvent]:
    """Merges of records of the same child, from the audit entries written on both cases."""
    merges = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "child_merged",
            AuditEvent.object_type == Case.__tablename__,
            AuditEvent.object_id == str(case.id),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return [
        TimelineEvent(merge.occurred_at, "Same child: records joined", merge.detail or "")
        for merge in merges
    ]


def _correction_events(case: Case) -> list[TimelineEvent]:
    """Corrections of the child's details: every case of the child shows them."""
    corrections = db.session.scalars(
        select(ChildDetailsChange)
        .where(ChildDetailsChange.child_id == case.child_id)
        .options(selectinload(ChildDetailsChange.changed_by))
        .order_by(ChildDetailsChange.changed_at, ChildDetailsChange.id)
    )
    return [
        TimelineEvent(
            change.changed_at,
            f"{change.label} corrected from {change.old_value or '(blank)'} to "
            f"{change.new_value or '(blank)'} by {change.changed_by.name}",
            change.reason,
        )
        for change in corrections
    ]


def _unmerge_events(case: Case) -> list[TimelineEvent]:
    """Merges undone that this case, or its child's record, took part in."""
    undone = db.session.scalars(
        select(ChildMerge)
        .where(
            ChildMerge.undone_at.is_not(None),
            or_(
                ChildMerge.new_case_id == case.id,
                ChildMerge.existing_case_id == case.id,
                ChildMerge.kept_child_id == case.child_id,
                ChildMerge.duplicate_child_id == case.child_id,
            ),
        )
        .options(selectinload(ChildMerge.undone_by))
        .order_by(ChildMerge.undone_at, ChildMerge.id)
    )
    return [
        TimelineEvent(
            merge.undone_at,
            "Not the same child: records separated",
            _join(
                f"The records joined on {date_in_words(merge.merged_at)} from case "
                f"{merge.new_case_id} were separated again by {merge.undone_by.name}",
                merge.undo_reason,
            ),
        )
        for merge in undone
    ]


def case_timeline(case: Case) -> list[TimelineEvent]:
    """Everything that happened to a case, oldest first.

    Within a day, events known only by date come first, in the order gathered below (so an
    outgoing lead's end precedes the next lead's start), then timed events by time.
    """
    events = [
        *_status_events(case),
        *_consent_events(case),
        *_check_events(case),
        *_merge_events(case),
        *_unmerge_events(case),
        *_correction_events(case),
        *_agenda_events(case),
        *_outcome_events(case),
        *_lead_events(case),
        *_action_events(case),
        *_progress_events(case),
    ]
    return sorted(events, key=TimelineEvent.sort_key)


# --- rule breaches -----------------------------------------------------------------------


@dataclass(frozen=True)
class FirstMeetingBreach:
    """Seed 002 B3: the first meeting within 20 working days of the assessment."""

    case: Case
    deadline: date
    discussed_on: date | None  # None: not discussed yet
    working_days_over: int
    booked_for: date | None  # the next meeting the case is on the agenda of, if any
    reason: "late_reasons.DeadlineReason | None" = None  # why, as the coordinator recorded


@dataclass(frozen=True)
class ReviewBreach:
    """Seed 002 C1: a review within three months, then every three months."""

    case: Case
    next_review_on: date | None  # None: the forum never set one
    days_over: int | None
    booked_for: date | None
    reason: "late_reasons.DeadlineReason | None" = None  # why, as the coordinator recorded


@dataclass(frozen=True)
class Breaches:
    first_meeting: list[FirstMeetingBreach]
    reviews: list[ReviewBreach]


def first_discussions(case_ids=None) -> dict[int, date]:
    """Each case's first discussion: the earliest held meeting with a decision about it.

    A deferred item was not discussed, so it does not count.
    """
    statement = (
        select(AgendaItem.case_id, func.min(Meeting.date))
        .join(ItemRecord, ItemRecord.agenda_item_id == AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(*discussed())
        .group_by(AgendaItem.case_id)
    )
    if case_ids is not None:
        statement = statement.where(AgendaItem.case_id.in_(case_ids))
    return dict(db.session.execute(statement).all())


def _booked(case_ids, today: date) -> dict[int, date]:
    rows = db.session.execute(
        select(AgendaItem.case_id, func.min(Meeting.date))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id.in_(case_ids),
            AgendaItem.status == ItemStatus.SCHEDULED,
            Meeting.status.in_(UPCOMING_STATUSES),
            Meeting.date >= today,
        )
        .group_by(AgendaItem.case_id)
    )
    return dict(rows.all())


def _scoped_cases(user: User, *conditions):
    return list(
        db.session.scalars(
            restrict_to_visible_districts(
                select(Case)
                .where(*conditions)
                .options(selectinload(Case.child), selectinload(Case.district)),
                Case.district_id,
                user,
            )
        )
    )


def _first_meeting_breaches(user: User, today: date) -> list[FirstMeetingBreach]:
    discussed_ids = (
        select(AgendaItem.case_id)
        .join(ItemRecord, ItemRecord.agenda_item_id == AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.status.in_(HELD_STATUSES))
    )
    # Cases withdrawn or merged before any forum never had a first meeting to miss.
    cases = _scoped_cases(
        user, or_(Case.status.in_(sorted(OPEN_STATUSES)), Case.id.in_(discussed_ids))
    )
    discussed = first_discussions([case.id for case in cases])
    booked = _booked([case.id for case in cases], today)
    breaches = []
    for case in cases:
        deadline = deadlines.first_meeting_deadline(case.assessment_completed_on, case.created_at)
        on = discussed.get(case.id)
        if on is None and case.status not in OPEN_STATUSES:
            continue
        until = on if on is not None else today
        if until <= deadline:
            continue
        breaches.append(
            FirstMeetingBreach(
                case=case,
                deadline=deadline,
                discussed_on=on,
                working_days_over=deadlines.working_days_between(deadline, until),
                booked_for=booked.get(case.id) if on is None else None,
            )
        )
    # Still waiting first, longest wait first; then past breaches, most recent first.
    waiting = sorted(
        (b for b in breaches if b.discussed_on is None),
        key=lambda b: (-b.working_days_over, b.case.id),
    )
    late = sorted(
        (b for b in breaches if b.discussed_on is not None),
        key=lambda b: (b.discussed_on, b.case.id),
        reverse=True,
    )
    return waiting + late


def _review_breaches(user: User, today: date) -> list[ReviewBreach]:
    cases = _scoped_cases(
        user,
        Case.status == CaseStatus.OPEN,
        or_(Case.next_review_on.is_(None), Case.next_review_on < today),
    )
    booked = _booked([case.id for case in cases], today)
    breaches = [
        ReviewBreach(
            case=case,
            next_review_on=case.next_review_on,
            days_over=(today - case.next_review_on).days if case.next_review_on else None,
            booked_for=booked.get(case.id),
        )
        for case in cases
    ]
    # Most overdue first; cases with no review date at all after them.
    return sorted(
        breaches,
        key=lambda b: (b.days_over is None, -(b.days_over or 0), b.case.id),
    )


def rule_breaches(user: User, today: date) -> Breaches:
    """Cases in the user's districts that break the first-meeting or review time rules, each
    with the reason a coordinator recorded for missing that deadline, if any."""
    first = _first_meeting_breaches(user, today)
    reviews = _review_breaches(user, today)
    reasons = late_reasons.reasons_for(
        [(b.case.id, late_reasons.FIRST_MEETING, b.deadline) for b in first]
        + [(b.case.id, late_reasons.REVIEW, b.next_review_on) for b in reviews]
    )
    return Breaches(
        [
            replace(b, reason=reasons.get((b.case.id, late_reasons.FIRST_MEETING, b.deadline)))
            for b in first
        ],
        [
            replace(b, reason=reasons.get((b.case.id, late_reasons.REVIEW, b.next_review_on)))
            for b in reviews
        ],
    )
