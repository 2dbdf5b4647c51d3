"""The lead professional's progress update for a review (seed 004: the LP reports progress at the
next meeting), with the outcomes questionnaire for children and young people (seed 004
Appendix 3).

The request email names no child: it goes to inboxes and phones. The form behind sign-in does.
"""

from dataclasses import dataclass

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.agendas.services import scheduled_items
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import manages_case
from maf.auth.services import normalise_email
from maf.cases.models import Case
from maf.cases.services import may_share_with_forum
from maf.circulation import outbox
from maf.circulation.models import DeliveryStatus, OutboxMessage
from maf.dbtypes import utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import Meeting, MeetingStatus
from maf.forums.services import EDITABLE_STATUSES
from maf.invitations.services import can_sign_in, who_to_ask
from maf.outcomes.models import (
    Action,
    ActionProgress,
    ActionProgressStatus,
    ActionStatus,
    LeadKind,
    LeadProfessional,
    ProgressAnswer,
    ProgressUpdate,
    QuestionnaireAnswer,
)
from maf.outcomes.services import current_lead, outstanding_actions
from maf.versioning import UNCHECKED, require_version, touch

# Seed 004 Appendix 3, "How Have You Been Doing?": question n is QUESTIONS[n - 1].
QUESTIONS = (
    "Do you think you are getting on well?",
    "How are you getting on with your family?",
    "How are you getting on with your teachers and helpers?",
    "How do you get along with children and young people?",
    "Are you organised in school and at home? (such as coming to school with the right "
    "equipment and books)",
    "How do you feel about asking for help?",
    "How do you feel about your future?",
)

REVIEW_KINDS = (ItemKind.REVIEW, ItemKind.SIGN_OFF)


class ProgressError(DomainError):
    """A rule about progress updates refused the change."""


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _dedupe_key(case: Case, meeting: Meeting) -> str:
    return f"progress:{case.id}:{meeting.id}"


# --- asking for updates ------------------------------------------------------------------


def update_for(case: Case, meeting: Meeting) -> ProgressUpdate | None:
    return db.session.scalar(
        select(ProgressUpdate).where(
            ProgressUpdate.case_id == case.id, ProgressUpdate.meeting_id == meeting.id
        )
    )


def request_of(progress: ProgressUpdate) -> OutboxMessage | None:
    """The stored email that asked the lead professional for this update, unless it failed.

    Only this lets the minutes or a timeline say someone was asked: an update also exists,
    unasked, for a parent or carer leading the case (the coordinator enters theirs) or a lead
    with no email address."""
    return db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key == _dedupe_key(progress.case, progress.meeting),
            OutboxMessage.status != DeliveryStatus.FAILED,
        )
    )


def request_updates(meeting: Meeting, user: User) -> int:
    """Ask the LP of every case due a review or sign-off at this meeting for an update.

    Safe to call again (on every re-circulation): an update and its email are made once per
    case and meeting. Returns how many emails were queued now.
    """
    if meeting.status not in EDITABLE_STATUSES:
        raise ProgressError(
            f"Updates cannot be asked for a meeting that is {meeting.status.label.lower()}"
        )
    # Two people asking at once (a double click, or coordinator and circulation together)
    # are served one after the other: the meeting's row lock (PostgreSQL; SQLite's write
    # lock is already held) is taken before the updates are read, so the second finds the
    # first's instead of inserting them again into the (case, meeting) unique key.
    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id)
        .values(id=Meeting.id)
        .execution_options(synchronize_session=False)
    )
    queued = 0
    for item in scheduled_items(meeting):
        # Seed 003 §4.12: a case the forum may not be shown is not reported on to it.
        if item.kind not in REVIEW_KINDS or not may_share_with_forum(item.case):
            continue
        lead = current_lead(item.case)
        if lead is None:
            continue
        progress = update_for(item.case, meeting)
        if progress is None:
            progress = ProgressUpdate(
                case_id=item.case_id, meeting_id=meeting.id, lead_professional_id=lead.id
            )
            db.session.add(progress)
            db.session.flush()
        # A parent, carer or young person leading the case has no account to open the form
        # with: the coordinator takes their update and enters it.
        if lead.kind == LeadKind.PRACTITIONER and lead.email:
            queued += _queue_request(progress, item, lead) is not None
    audit.record("progress_requested", meeting, user=user, detail=f"{queued} emails")
    db.session.commit()
    return queued


def _queue_request(progress: ProgressUpdate, item: AgendaItem, lead: LeadProfessional):
    meeting = item.meeting
    context = dict(
        meeting=meeting,
        person=lead,
        case_id=item.case_id,
        kind=item.kind,
        when=f"{meeting.date:%A %-d %B %Y} at {meeting.start_time:%H:%M}",
        link=_link(f"/progress/{progress.id}"),
        signs_in=can_sign_in(lead.email),
        contact=who_to_ask(meeting.forum),
    )
    return outbox.enqueue(
        dedupe_key=_dedupe_key(item.case, meeting),
        recipient_email=lead.email,
        recipient_name=lead.name,
        subject=f"Progress update needed before the {meeting.forum.name}, {meeting.date:%-d %B %Y}",
        text_body=render_template("outcomes/email/progress_request.txt", **context),
        html_body=render_template("outcomes/email/progress_request.html", **context),
        meeting_id=meeting.id,
        concerning=[item.case],
    )


# --- who may report ----------------------------------------------------------------------


def _is_lead(user: User, lead: LeadProfessional | None) -> bool:
    if lead is None:
        return False
    # An LP recorded before their account existed is known only by email.
    return lead.user_id == user.id or (
        bool(lead.email) and normalise_email(lead.email) == normalise_email(user.email)
    )


def may_report(user: User, progress: ProgressUpdate) -> bool:
    """The LP asked (or the case's LP now, should it have changed since) and the coordinators
    of the case's district."""
    return (
        _is_lead(user, progress.lead_professional)
        or _is_lead(user, current_lead(progress.case))
        or manages_case(user, progress.case)
    )


def closed_because(progress: ProgressUpdate) -> str | None:
    """Why the update can no longer be sent or changed, or None while it can: until the
    meeting is held, and only while the case is still on its agenda (consent withdrawn, or the
    case moved or taken off, means the forum will not hear this update)."""
    meeting = progress.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        return "The meeting was cancelled, so the update can no longer be changed."
    if meeting.status not in EDITABLE_STATUSES:
        return "The meeting has been held, so the update can no longer be changed."
    on_agenda = db.session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id,
            AgendaItem.case_id == progress.case_id,
            AgendaItem.status == ItemStatus.SCHEDULED,
        )
    )
    if on_agenda is None:
        return (
            "This case is no longer on the agenda of that meeting, so the forum will not hear "
            "an update and it can no longer be changed."
        )
    return None


# --- the update --------------------------------------------------------------------------


def reportable_actions(progress: ProgressUpdate) -> list[Action]:
    """The case's open actions, and those this update already reported (so a "Done" can be
    taken back). Actions agreed at the meeting itself are for the next update."""
    this_meeting = set(
        db.session.scalars(
            select(AgendaItem.id).where(AgendaItem.meeting_id == progress.meeting_id)
        )
    )
    reported = [row.action for row in progress.action_progress]
    actions = {action.id: action for action in [*outstanding_actions(progress.case), *reported]}
    return sorted(
        (action for action in actions.values() if action.agenda_item_id not in this_meeting),
        key=lambda action: (action.due_on, action.id),
    )


@dataclass(frozen=True)
class ActionReport:
    action: Action
    status: ActionProgressStatus
    note: str = ""


# What a question the lead professional did not ask reads as: it is not an answer, so no
# QuestionnaireAnswer row is stored for it and no figure counts it.
NOT_ASKED = "Not asked"


@dataclass(frozen=True)
class Answer:
    answer: ProgressAnswer | None  # None: the question was not asked
    comment: str = ""


@dataclass
class ProgressDetails:
    actions: list[ActionReport]
    answers: dict[int, Answer]  # question number (1 to 7) to its answer
    summary: str
    further_comments: str = ""


def _check(progress: ProgressUpdate, details: ProgressDetails) -> None:
    closed = closed_because(progress)
    if closed:
        raise ProgressError(closed, field="summary")
    expected = [action.id for action in reportable_actions(progress)]
    reported = [report.action.id for report in details.actions]
    for action_id in expected:
        if action_id not in reported:
            raise ProgressError(
                "Select whether this action is done, in progress or not started",
                field=f"action_{action_id}",
            )
    if sorted(reported) != sorted(expected):
        raise ProgressError("Report each of this case's open actions once", field="summary")
    for number in range(1, len(QUESTIONS) + 1):
        if number not in details.answers:
            raise ProgressError(
                f"Select how the child or young person answered question {number}, or Not asked",
                field=f"question_{number}",
            )
        given = details.answers[number]
        if given.answer is None and given.comment.strip():
            raise ProgressError(
                f"Question {number} was not asked: select how they answered, or remove what "
                f"they said",
                field=f"question_{number}_comment",
            )
    if not details.summary.strip():
        raise ProgressError("Enter a summary of progress since the last meeting", field="summary")


def _lock(progress: ProgressUpdate) -> None:
    """Take the update's row lock, then read everything afresh, so the LP and a coordinator
    saving at the same moment are served one after the other."""
    try:
        db.session.execute(
            update(ProgressUpdate)
            .where(ProgressUpdate.id == progress.id)
            .values(submitted_by_id=ProgressUpdate.submitted_by_id)
            .execution_options(synchronize_session=False)
        )
    except OperationalError as error:
        # SQLite refuses a writer whose snapshot is stale instead of queueing it.
        if "locked" not in str(error.orig):
            raise
        raise ProgressError(
            "Someone else saved this update at the same moment: look at it again and retry",
            field="summary",
        ) from error
    db.session.expire_all()


def _in_words(action_rows, answers, summary: str, further_comments: str) -> dict[str, str]:
    """An update as a person reads it, to list what someone else changed since."""

    def said(choice, note: str) -> str:
        return (choice.label if choice else NOT_ASKED) + (
            f": {note.strip()}" if note.strip() else ""
        )

    words = {action.description: said(status, note) for action, status, note in action_rows}
    words |= {f"Question {number}": said(answer, comment) for number, answer, comment in answers}
    words["Summary of progress since the last meeting"] = summary.strip()
    words["Anything else"] = further_comments.strip()
    return words


def submit_update(
    progress: ProgressUpdate,
    details: ProgressDetails,
    user: User,
    version: int | None = UNCHECKED,
) -> None:
    """Save the update (again, if it was sent before); an action reported done is marked
    done, and one no longer reported done is opened again. `version` is the update's version
    when the form was opened: if the LP or a coordinator has sent it since, the save is
    refused (StaleEdit) rather than replacing what they sent."""
    _lock(progress)
    _check(progress, details)
    require_version(
        progress,
        version,
        yours=_in_words(
            [(report.action, report.status, report.note) for report in details.actions],
            [(number, given.answer, given.comment) for number, given in details.answers.items()],
            details.summary,
            details.further_comments,
        ),
        theirs=_in_words(
            [(row.action, row.status, row.note) for row in progress.action_progress],
            [
                (question.number, question.answer, question.comment)
                for question in answered_questions(progress)
            ],
            progress.summary,
            progress.further_comments,
        ),
    )
    now = utcnow()
    rows = {row.action_id: row for row in progress.action_progress}
    for report in details.actions:
        action = report.action
        row = rows.pop(action.id, None)
        was_done = row is not None and row.status == ActionProgressStatus.DONE
        if row is None:
            row = ActionProgress(action=action)
            progress.action_progress.append(row)
        row.status, row.note = report.status, report.note.strip()
        if report.status == ActionProgressStatus.DONE and action.status == ActionStatus.OPEN:
            action.status, action.done_at, action.done_by_id = ActionStatus.DONE, now, user.id
            audit.record("action_done", action, user=user, detail=f"progress {progress.id}")
        elif (
            report.status != ActionProgressStatus.DONE
            and was_done
            and action.status == ActionStatus.DONE
        ):
            action.status, action.done_at, action.done_by_id = ActionStatus.OPEN, None, None
            audit.record("action_reopened", action, user=user, detail=f"progress {progress.id}")
    for row in rows.values():
        progress.action_progress.remove(row)
    # Answers are changed in place: replacing them would insert before deleting and trip the
    # one-answer-per-question constraint.
    answers = {row.question: row for row in progress.answers}
    for number, given in details.answers.items():
        row = answers.get(number)
        if given.answer is None:  # not asked: no answer is stored, and one sent before goes
            if row is not None:
                progress.answers.remove(row)
            continue
        if row is None:
            row = QuestionnaireAnswer(question=number)
            progress.answers.append(row)
        row.answer, row.comment = given.answer, given.comment.strip()
    progress.summary = details.summary.strip()
    progress.further_comments = details.further_comments.strip()
    first = progress.submitted_at is None
    progress.submitted_at, progress.submitted_by_id = now, user.id
    touch(progress, user)
    audit.record(
        "progress_submitted" if first else "progress_changed",
        progress.case,
        user=user,
        detail=f"progress {progress.id}, meeting {progress.meeting_id}",
    )
    db.session.commit()


# --- showing updates ---------------------------------------------------------------------


@dataclass(frozen=True)
class AnsweredQuestion:
    number: int
    question: str
    answer: ProgressAnswer | None  # None: not asked
    comment: str

    @property
    def answer_text(self) -> str:
        return self.answer.label if self.answer is not None else NOT_ASKED


def answered_questions(progress: ProgressUpdate) -> list[AnsweredQuestion]:
    """Each of the seven questions of a sent update, "Not asked" where no answer is stored;
    none for an update not sent yet."""
    if progress.submitted_at is None:
        return []
    rows = {row.question: row for row in progress.answers}
    return [
        AnsweredQuestion(
            number,
            question,
            rows[number].answer if number in rows else None,
            rows[number].comment if number in rows else "",
        )
        for number, question in enumerate(QUESTIONS, 1)
    ]


def latest_update(case: Case) -> ProgressUpdate | None:
    """The case's most recent update that was sent, by meeting date."""
    return db.session.scalar(
        select(ProgressUpdate)
        .join(Meeting, ProgressUpdate.meeting_id == Meeting.id)
        .where(ProgressUpdate.case_id == case.id, ProgressUpdate.submitted_at.is_not(None))
        .order_by(Meeting.date.desc(), ProgressUpdate.id.desc())
        .limit(1)
    )


def latest_answers(case: Case) -> list[AnsweredQuestion]:
    """The questionnaire as last answered for the case; empty when it never was."""
    progress = latest_update(case)
    return answered_questions(progress) if progress is not None else []
