"""Answers to meeting invitations: from a one-click link in the email, from the member's
calendar program (maf.answers.mailbox), or typed in by a coordinator; who is coming; the
reminder to those who have not answered.

A link carries no email address: only the meeting, a short hash of the invited address and
the answer, signed with the app's secret for this one purpose. Log lines name invitations
and meetings by id, never a person.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maf.answers.models import Answer, AnswerSource, Response
from maf.audit import services as audit
from maf.cases.deadlines import add_working_days
from maf.circulation import events, outbox
from maf.circulation.models import Invitation, InvitationKind
from maf.dbtypes import LONDON, utcnow
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Meeting, MeetingChange, MeetingStatus
from maf.invitations.services import who_to_ask
from maf.notifications import services as notifications
from maf.rules import services as rules

log = logging.getLogger(__name__)

LINK_PURPOSE = "meeting-answer"

LINK_LABELS = {
    Response.ATTENDING: "I will attend",
    Response.NOT_ATTENDING: "I cannot attend",
    Response.DEPUTY: "I am sending a deputy",
}


@dataclass(frozen=True)
class AnswerLink:
    response: Response
    label: str
    url: str


class LinkRefused(Exception):
    """A link that cannot be used; `reason` is for the page and the log, never personal."""

    def __init__(self, reason: str, status: int, meeting: Meeting | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.meeting = meeting  # when known, so the page can say whom to ask


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_PURPOSE)


def _address_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:20]


def meeting_ends_at(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.length_minutes)


def answer_token(meeting: Meeting, email: str, response: Response) -> str:
    return _serializer().dumps([meeting.id, _address_hash(email), response.value])


def open_for_answers(meeting: Meeting) -> bool:
    """Answers are taken until the meeting ends, unless it is cancelled."""
    return meeting.status != MeetingStatus.CANCELLED and utcnow() < meeting_ends_at(meeting)


def answer_links(meeting: Meeting, email: str) -> list[AnswerLink]:
    """The three one-click answers for one invited address (absolute links, for an email).
    None once the meeting has ended or been cancelled: there is nothing left to answer."""
    if not open_for_answers(meeting):
        return []
    base = current_app.config["BASE_URL"].rstrip("/")
    return [
        AnswerLink(response, label, f"{base}/answer/{answer_token(meeting, email, response)}")
        for response, label in LINK_LABELS.items()
    ]


@dataclass(frozen=True)
class LinkTarget:
    """What a valid link answers for: the invitation it was sent with, and its answer."""

    meeting: Meeting
    invitation: Invitation
    response: Response


def meeting_invitations(meeting: Meeting) -> list[Invitation]:
    """The open invitations to the meeting itself (members and chair), presenters' slots and
    those taken off since aside."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.meeting_id == meeting.id,
                Invitation.kind == InvitationKind.MEETING,
                Invitation.uid == events.meeting_uid(meeting),
                Invitation.cancelled.is_(False),
            )
            .order_by(Invitation.name, Invitation.id)
        )
    )


def read_link(token: str) -> LinkTarget:
    """The invitation and answer a link stands for, or LinkRefused saying why not: forged or
    mangled (400); the meeting unknown, cancelled or over, or the address no longer invited
    (410). Changes nothing."""
    try:
        meeting_id, address, value = _serializer().loads(token)
        response = Response(value)
    except (BadSignature, ValueError, TypeError):
        log.info("answer link refused: signature or content not valid")
        raise LinkRefused("not valid", 400) from None
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        log.info("answer link refused: meeting %s does not exist", meeting_id)
        raise LinkRefused("not valid", 400)
    if meeting.status == MeetingStatus.CANCELLED:
        log.info("answer link refused: meeting %s is cancelled", meeting.id)
        raise LinkRefused("cancelled", 410, meeting)
    if utcnow() >= meeting_ends_at(meeting):
        log.info("answer link refused: meeting %s has ended", meeting.id)
        raise LinkRefused("ended", 410, meeting)
    invitation = next(
        (i for i in meeting_invitations(meeting) if _address_hash(i.email) == address), None
    )
    if invitation is None:
        log.info("answer link refused: no open invitation to meeting %s for it", meeting.id)
        raise LinkRefused("not invited", 410, meeting)
    return LinkTarget(meeting, invitation, response)


# --- recording answers ---------------------------------------------------------------------


def answer_for(meeting: Meeting, email: str) -> Answer | None:
    return db.session.scalar(
        select(Answer).where(Answer.meeting_id == meeting.id, Answer.email == email.lower())
    )


def record_answer(
    meeting: Meeting,
    invitation: Invitation,
    response: Response,
    source: AnswerSource,
    *,
    deputy_name: str = "",
    calendar_stamp: datetime | None = None,
    by=None,
) -> Answer:
    """Save the person's answer in the caller's transaction: the latest wins, in place, so a
    repeated post (a double click, a retry) leaves one answer; a change is audited."""
    deputy_name = deputy_name.strip() if response == Response.DEPUTY else ""
    email = invitation.email.lower()
    answer = answer_for(meeting, email)
    if answer is None:
        answer = Answer(
            meeting_id=meeting.id,
            email=email,
            response=response,
            source=source,
            deputy_name=deputy_name,
            calendar_stamp=calendar_stamp,
            recorded_by_id=by.id if by is not None else None,
        )
        try:
            # Two posts of the same link at once on PostgreSQL: the second insert meets the
            # unique key and updates the first's row instead.
            with db.session.begin_nested():
                db.session.add(answer)
                db.session.flush()
        except IntegrityError:
            answer = answer_for(meeting, email)
        else:
            _audit(meeting, invitation, answer, by)
            return answer
    if (answer.response, answer.deputy_name) == (response, deputy_name):
        return answer  # the same answer again: nothing changes
    answer.response, answer.deputy_name, answer.source = response, deputy_name, source
    answer.answered_at = utcnow()
    answer.calendar_stamp = calendar_stamp
    answer.recorded_by_id = by.id if by is not None else None
    _audit(meeting, invitation, answer, by)
    return answer


def _audit(meeting: Meeting, invitation: Invitation, answer: Answer, by) -> None:
    audit.record(
        "meeting_answered",
        meeting,
        user=by,
        detail=f"invitation {invitation.id}: {answer.response.value} ({answer.source.value})",
    )


# --- who is coming -------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    invitation: Invitation
    answer: Answer | None
    # The answer was given before the meeting last moved to another day or time: it may not
    # hold for the new one (the "Changed" email asks again).
    before_move: bool = False

    @property
    def response(self) -> Response | None:
        return self.answer.response if self.answer else None


@dataclass(frozen=True)
class WhoIsComing:
    invitees: list[Invitee]

    def count(self, response: Response | None) -> int:
        return sum(1 for invitee in self.invitees if invitee.response == response)

    @property
    def not_answered(self) -> list[Invitee]:
        return [invitee for invitee in self.invitees if invitee.answer is None]


def who_is_coming(meeting: Meeting) -> WhoIsComing:
    """The forum's members invited to the meeting (not since taken off), each with their
    answer. Not the chair, who runs the meeting and is asked nothing."""
    answers = answers_by_email(meeting)
    members = {member.email.lower() for member in forum_services.active_members(meeting.forum)}
    moved = last_moved_at(meeting)
    invitees = []
    for invitation in meeting_invitations(meeting):
        if invitation.email.lower() not in members:
            continue
        answer = answers.get(invitation.email.lower())
        before_move = answer is not None and moved is not None and answer.answered_at < moved
        invitees.append(Invitee(invitation, answer, before_move))
    return WhoIsComing(invitees)


def last_moved_at(meeting: Meeting) -> datetime | None:
    """When the meeting last moved to another day or start time, if it ever did."""
    moves = ("date", forum_services.USUAL["start_time"])
    return db.session.scalar(
        select(func.max(MeetingChange.changed_at)).where(
            MeetingChange.meeting_id == meeting.id, MeetingChange.what.in_(moves)
        )
    )


def answers_by_email(meeting: Meeting) -> dict[str, Answer]:
    """Answers keyed by lower-cased address, for the meeting record's attendance."""
    return {
        answer.email: answer
        for answer in db.session.scalars(select(Answer).where(Answer.meeting_id == meeting.id))
    }


def invitation_for(meeting: Meeting, email: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            Invitation.meeting_id == meeting.id,
            Invitation.kind == InvitationKind.MEETING,
            Invitation.uid == events.meeting_uid(meeting),
            Invitation.cancelled.is_(False),
            func.lower(Invitation.email) == email.strip().lower(),
        )
    )


# --- the reminder to those who have not answered -----------------------------------------


def queue_answer_reminders(today: date) -> int:
    """One reminder to each member who has not answered a circulated meeting's invitation,
    `answer_reminder_working_days` working days before it (or, had that morning's run been
    missed, on a later day before the meeting; never earlier). Not to those invited only since
    yesterday, nor to those who turned the reminder off. Committed here; returns how many."""
    days = rules.current("answer_reminder_working_days")
    meetings = db.session.scalars(
        select(Meeting).where(
            Meeting.status == MeetingStatus.AGENDA_CIRCULATED,
            Meeting.date > today,
            Meeting.date <= add_working_days(today, days),
        )
    )
    queued = 0
    for meeting in meetings:
        for invitee in who_is_coming(meeting).not_answered:
            invitation = invitee.invitation
            if invitation.sent_at.astimezone(LONDON).date() >= today or not notifications.wants(
                invitation.email, "answer_reminder"
            ):
                continue
            queued += _queue_reminder(meeting, invitation) is not None
    db.session.commit()
    return queued


def _queue_reminder(meeting: Meeting, invitation: Invitation):
    context = {
        "meeting": meeting,
        "person": invitation,
        "when": f"{meeting.date:%A %-d %B %Y} at {meeting.start_time:%H:%M}",
        "answer_links": answer_links(meeting, invitation.email),
        "contact": who_to_ask(meeting.forum),
    }
    return outbox.enqueue(
        dedupe_key=f"answer-reminder:{meeting.id}:{invitation.email.lower()}",
        recipient_email=invitation.email,
        recipient_name=invitation.name,
        subject=f"Will you come? {meeting.forum.name}, {meeting.date:%-d %B %Y}",
        text_body=render_template("answers/email/reminder.txt", **context),
        html_body=render_template("answers/email/reminder.html", **context),
        meeting_id=meeting.id,
    )
