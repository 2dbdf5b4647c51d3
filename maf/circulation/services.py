"""Circulating a meeting's agenda and invitations, keeping calendars up to date, reminders,
and the personal calendar feed.

Nothing here puts a child's personal data into an email subject or body, an invitation or a
feed: those travel to personal calendars and phones. Only the attached agenda document and
the pages behind sign-in name children.
"""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from maf.agendas import services as agendas
from maf.agendas.document import agenda_document
from maf.agendas.models import AgendaItem, ItemStatus
from maf.agendas.services import Slot, timed_agenda
from maf.audit import services as audit
from maf.auth.models import User, new_session_token
from maf.cases import services as case_services
from maf.cases.deadlines import add_working_days, working_days_between
from maf.cases.models import Case
from maf.circulation import calendar, events, outbox
from maf.circulation.models import Invitation, InvitationKind, OutboxMessage
from maf.downloads import DOCX_MIMETYPE
from maf.errors import DomainError
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Meeting, MeetingStatus, MemberRole
from maf.invitations.services import can_sign_in, who_to_ask
from maf.outcomes.progress import request_updates
from maf.rules.words import words
from maf.versioning import UNCHECKED


class CirculationError(DomainError):
    """A rule about circulation refused the action."""


# --- recipients --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    role: str
    user_id: int | None = None


def recipients(meeting: Meeting) -> list[Recipient]:
    """The forum's members and its chair: everyone who receives the agenda."""
    forum = meeting.forum
    people = {
        member.email: Recipient(
            member.email,
            member.name,
            "OPT-PARTICIPANT" if member.role == MemberRole.OBSERVER else "REQ-PARTICIPANT",
            member.user_id,
        )
        for member in forum_services.active_members(forum)
    }
    if forum.chair is not None:
        people[forum.chair.email] = Recipient(
            forum.chair.email, forum.chair.name, "CHAIR", forum.chair_id
        )
    return sorted(people.values(), key=lambda person: person.name)


# --- emails --------------------------------------------------------------------------------


def _when(meeting: Meeting) -> str:
    return f"{meeting.date:%A %-d %B %Y} at {meeting.start_time:%H:%M}"


def _email(template: str, **context) -> tuple[str, str]:
    return (
        render_template(f"circulation/email/{template}.txt", **context),
        render_template(f"circulation/email/{template}.html", **context),
    )


def _queue(
    meeting,
    person,
    key,
    subject,
    template,
    *,
    method=None,
    event=None,
    attachments=(),
    concerning=(),
    **context,
):
    text, html = _email(
        template,
        meeting=meeting,
        person=person,
        agenda_link=events.agenda_link(meeting),
        when=_when(meeting),
        # Only a person with an account is told to sign in; the others whom to ask.
        signs_in=can_sign_in(person.email),
        contact=who_to_ask(meeting.forum),
        **context,
    )
    return outbox.enqueue(
        dedupe_key=key,
        recipient_email=person.email,
        recipient_name=person.name,
        subject=subject,
        text_body=text,
        html_body=html,
        calendar=calendar.invitation(event, method) if event is not None else None,
        calendar_method=method,
        attachments=attachments,
        meeting_id=meeting.id,
        concerning=concerning,
    )


def _already_queued(dedupe_key: str) -> bool:
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        is not None
    )


def _invitation(uid: str, email: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(Invitation.uid == uid, Invitation.email == email)
    )


@dataclass
class CirculationReport:
    agendas: int = 0
    meeting_updates: int = 0
    slot_invitations: int = 0
    cancellations: int = 0
    progress_requests: int = 0
    recipients: set[str] = field(default_factory=set)

    @property
    def messages(self) -> int:
        return self.agendas + self.meeting_updates + self.slot_invitations + self.cancellations


NOTHING_TO_CIRCULATE = (
    "There is nothing on this agenda to circulate: add cases to it first, or cancel the meeting"
)


def require_circulable(meeting: Meeting) -> None:
    """Refuse to circulate what must not go: a meeting past planning, an item whose case may
    not be shown to the members, or an empty agenda (the view shows why beside the button)."""
    if meeting.status not in forum_services.EDITABLE_STATUSES:
        raise CirculationError(
            f"The agenda of a meeting that is {meeting.status.label.lower()} cannot be circulated"
        )
    # Belt and braces: withdrawing consent takes the case off, but no item without consent in
    # force at this moment may travel to the members however it got here (seed 003 §4.12).
    unshareable = agendas.items_without_consent(meeting)
    if unshareable:
        cases = ", ".join(f"case {item.case_id}" for item in unshareable)
        raise CirculationError(
            f"The agenda cannot be circulated: there is no consent in force to share {cases} "
            "with the forum members. Take it off the agenda first"
        )
    if not agendas.scheduled_items(meeting):
        raise CirculationError(NOTHING_TO_CIRCULATE)


def circulate(meeting: Meeting, user: User) -> CirculationReport:
    """Send each member the agenda and an invitation, each presenter an invitation for their
    slot; on a re-circulation, send only what changed since. One transaction: the outbox rows
    are saved with the meeting's new status or not at all."""
    # Circulate pressed twice at once (or by two coordinators): the meeting's row lock
    # (PostgreSQL; SQLite's write lock is already held) serves them one after the other, and
    # the second, reading the meeting afresh, finds nothing changed since the first.
    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id)
        .values(id=Meeting.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(meeting)
    require_circulable(meeting)
    report = CirculationReport()
    agenda = timed_agenda(meeting)
    withdrawn = _withdrawn_since_last_sent(meeting, agenda)
    document = outbox.Attachment(
        f"agenda-{meeting.date:%Y-%m-%d}.docx", DOCX_MIMETYPE, agenda_document(meeting)
    )
    on_agenda = [slot.item.case for slot in agenda.slots if slot.item is not None]
    people = recipients(meeting)
    attendees = [calendar.Attendee(p.email, p.name, p.role) for p in people]
    for person in people:
        _circulate_to_member(
            meeting, person, attendees, document, report, len(withdrawn), on_agenda
        )
    _cancel_for_former_members(meeting, {p.email for p in people}, report)
    _circulate_slots(meeting, agenda, report)
    if meeting.status == MeetingStatus.PLANNED:
        forum_services.change_meeting_status(meeting, MeetingStatus.AGENDA_CIRCULATED, user)
    audit.record("agenda_circulated", meeting, user=user, detail=f"{report.messages} messages")
    db.session.commit()
    # Lead professionals of the reviews are asked for their progress update (seed 004: the
    # LP reports at the next meeting); their own transaction, after the agenda has gone.
    report.progress_requests = request_updates(meeting, user)
    return report


def _withdrawn_since_last_sent(meeting: Meeting, agenda) -> list[AgendaItem]:
    """Items the members were last sent that are no longer on the agenda; from now on the
    members' agenda is the one being sent, so the flags move on with it."""
    withdrawn = list(
        db.session.scalars(
            select(AgendaItem).where(
                AgendaItem.meeting_id == meeting.id,
                AgendaItem.circulated.is_(True),
                AgendaItem.status != ItemStatus.SCHEDULED,
            )
        )
    )
    for item in withdrawn:
        item.circulated = False
    for slot in agenda.slots:
        if slot.item is not None:
            slot.item.circulated = True
    return withdrawn


def _circulate_to_member(
    meeting, person, attendees, document, report, withdrawn=0, on_agenda=()
) -> None:
    uid = events.meeting_uid(meeting)
    invitation = _invitation(uid, person.email)
    event = events.meeting_event(meeting, [a for a in attendees if a.email == person.email])
    calendar_due = (
        invitation is None
        or invitation.cancelled
        or (invitation.sequence < meeting.calendar_sequence)
    )
    agenda_key = f"agenda:{meeting.id}:v{meeting.agenda_version}:{person.email}"
    if not _already_queued(agenda_key):
        subject = f"Agenda: {meeting.forum.name}, {meeting.date:%-d %B %Y}"
        if invitation is not None and not invitation.cancelled:
            subject = f"Updated agenda: {meeting.forum.name}, {meeting.date:%-d %B %Y}"
        _queue(
            meeting,
            person,
            agenda_key,
            subject,
            "agenda",
            method="REQUEST" if calendar_due else None,
            event=event if calendar_due else None,
            attachments=[document],
            concerning=on_agenda,
            # How many, never which: the members are not told whose consent was withdrawn.
            withdrawn=withdrawn,
        )
        report.agendas += 1
    elif calendar_due:
        _queue(
            meeting,
            person,
            f"meeting:{meeting.id}:seq{meeting.calendar_sequence}:{person.email}",
            f"Changed: {meeting.forum.name}, {meeting.date:%-d %B %Y}",
            "meeting_changed",
            method="REQUEST",
            event=event,
        )
        report.meeting_updates += 1
    else:
        return
    report.recipients.add(person.email)
    if invitation is None:
        invitation = Invitation(
            meeting_id=meeting.id, kind=InvitationKind.MEETING, uid=uid, email=person.email
        )
        db.session.add(invitation)
    invitation.name, invitation.user_id, invitation.cancelled = person.name, person.user_id, False
    invitation.sequence = meeting.calendar_sequence


def _cancel_for_former_members(meeting: Meeting, current: set[str], report) -> None:
    for invitation in _open_invitations(meeting, InvitationKind.MEETING):
        if invitation.email not in current:
            person = Recipient(invitation.email, invitation.name, "REQ-PARTICIPANT")
            event = events.meeting_event(
                meeting, [calendar.Attendee(person.email, person.name)], cancelled=True
            )
            _queue(
                meeting,
                person,
                f"meeting-cancel:{meeting.id}:{person.email}:{invitation.sequence}",
                f"No longer invited: {meeting.forum.name}, {meeting.date:%-d %B %Y}",
                "removed",
                method="CANCEL",
                event=event,
            )
            invitation.cancelled = True
            report.cancellations += 1


def _open_invitations(meeting: Meeting, kind: InvitationKind) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation).where(
                Invitation.meeting_id == meeting.id,
                Invitation.kind == kind,
                Invitation.cancelled.is_(False),
            )
        )
    )


def _circulate_slots(meeting: Meeting, agenda, report) -> None:
    """Presenters get their own event for their slot; a moved or removed slot is updated or
    cancelled in their calendar, and nobody else's."""
    current = {}
    for slot in agenda.slots:
        item = slot.item
        if item is None or not item.presenter_email:
            continue
        uid = events.slot_uid(item)
        current[(uid, item.presenter_email)] = True
        invitation = _invitation(uid, item.presenter_email)
        times = (slot.starts, slot.ends)
        if invitation is not None and not invitation.cancelled:
            unchanged = (invitation.starts_at, invitation.ends_at) == times and (
                invitation.sequence >= meeting.calendar_sequence
            )
            if unchanged:
                continue
            sequence = max(invitation.sequence + 1, meeting.calendar_sequence)
        else:
            sequence = meeting.calendar_sequence if invitation is None else invitation.sequence + 1
        person = Recipient(item.presenter_email, item.presenter_name, "REQ-PARTICIPANT")
        _queue(
            meeting,
            person,
            f"slot:{item.id}:seq{sequence}:{person.email}",
            f"Your slot: {meeting.forum.name}, {meeting.date:%-d %B %Y} at {slot.starts:%H:%M}",
            "slot",
            method="REQUEST",
            event=events.slot_event(item, slot, sequence),
            slot=slot,
            concerning=[item.case],
        )
        if invitation is None:
            invitation = Invitation(
                meeting_id=meeting.id,
                agenda_item_id=item.id,
                kind=InvitationKind.SLOT,
                uid=uid,
                email=person.email,
            )
            db.session.add(invitation)
        invitation.name, invitation.sequence, invitation.cancelled = person.name, sequence, False
        invitation.starts_at, invitation.ends_at = times
        report.slot_invitations += 1
        report.recipients.add(person.email)
    for invitation in _open_invitations(meeting, InvitationKind.SLOT):
        if (invitation.uid, invitation.email) not in current:
            _cancel_slot(meeting, invitation)
            report.cancellations += 1


def _cancel_slot(meeting: Meeting, invitation: Invitation) -> None:
    item = db.session.get(AgendaItem, invitation.agenda_item_id)
    sequence = invitation.sequence + 1
    slot = Slot(invitation.starts_at, invitation.ends_at, item)
    person = Recipient(invitation.email, invitation.name, "REQ-PARTICIPANT")
    _queue(
        meeting,
        person,
        f"slot-cancel:{item.id}:seq{sequence}:{person.email}",
        f"Slot cancelled: {meeting.forum.name}, {meeting.date:%-d %B %Y}",
        "slot_cancelled",
        method="CANCEL",
        event=events.slot_event(item, slot, sequence, cancelled=True),
        slot=slot,
        concerning=[item.case],
    )
    invitation.sequence, invitation.cancelled = sequence, True


def take_off_forum_agendas(case: Case, reason: str, user: User) -> list[AgendaItem]:
    """Consent to share with the forum has gone: take the case off every agenda not yet held
    and cancel its presenters' slots in their calendars, in the caller's transaction. The
    members hear at the next circulation that an item was withdrawn, not which."""
    try:
        items = agendas.take_off_for_withdrawn_consent(case, reason, user)
    except agendas.AgendaError as error:
        raise case_services.CaseError(str(error)) from None
    for item in items:
        for invitation in db.session.scalars(
            select(Invitation).where(
                Invitation.agenda_item_id == item.id,
                Invitation.kind == InvitationKind.SLOT,
                Invitation.cancelled.is_(False),
            )
        ):
            _cancel_slot(item.meeting, invitation)
    return items


def cancel_meeting(
    meeting: Meeting, reason: str, user: User, version: int | None = UNCHECKED
) -> int:
    """Cancel the meeting and, in the same transaction, send METHOD:CANCEL to everyone who
    holds an invitation for it or for a slot in it. Returns how many were sent. `version` is
    the meeting's when the cancelling form was opened (maf.versioning)."""
    forum_services.cancel_meeting(meeting, reason, user, commit=False, version=version)
    sent = 0
    for invitation in _open_invitations(meeting, InvitationKind.MEETING):
        person = Recipient(invitation.email, invitation.name, "REQ-PARTICIPANT")
        event = events.meeting_event(
            meeting, [calendar.Attendee(person.email, person.name)], cancelled=True
        )
        _queue(
            meeting,
            person,
            f"meeting-cancel:{meeting.id}:{person.email}:{meeting.calendar_sequence}",
            f"Cancelled: {meeting.forum.name}, {meeting.date:%-d %B %Y}",
            "meeting_cancelled",
            method="CANCEL",
            event=event,
        )
        invitation.sequence, invitation.cancelled = meeting.calendar_sequence, True
        sent += 1
    for invitation in _open_invitations(meeting, InvitationKind.SLOT):
        _cancel_slot(meeting, invitation)
        sent += 1
    db.session.commit()
    return sent


def changes_not_circulated(meeting: Meeting) -> bool:
    """Whether the meeting or its agenda changed since invitations last went out."""
    invitations = _open_invitations(meeting, InvitationKind.MEETING)
    if not invitations or meeting.status != MeetingStatus.AGENDA_CIRCULATED:
        return False
    behind = any(i.sequence < meeting.calendar_sequence for i in invitations)
    agenda_sent = all(
        _already_queued(f"agenda:{meeting.id}:v{meeting.agenda_version}:{i.email}")
        for i in invitations
    )
    return behind or not agenda_sent


def delivery_log(meeting: Meeting) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.meeting_id == meeting.id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        )
    )


def retry_message(message: OutboxMessage, user: User) -> None:
    outbox.retry(message)
    audit.record("email_retried", message, user=user)
    db.session.commit()


# --- reminders -----------------------------------------------------------------------------


def queue_reminders(today: date) -> int:
    """Coordinators: an agenda not circulated N working days before its meeting. Members: the
    meeting is on the next working day. Each reminder is queued once (dedupe keys)."""
    queued = 0
    days = current_app.config["AGENDA_REMINDER_WORKING_DAYS"]
    upcoming = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.date >= today,
            Meeting.date <= add_working_days(today, days),
            Meeting.status.in_(forum_services.EDITABLE_STATUSES),
        )
        .options(selectinload(Meeting.forum))
    )
    tomorrow = add_working_days(today, 1)
    for meeting in upcoming:
        coordinator = meeting.forum.coordinator
        if meeting.status == MeetingStatus.PLANNED and coordinator is not None:
            person = Recipient(coordinator.email, coordinator.name, "REQ-PARTICIPANT")
            left = working_days_between(today, meeting.date)
            queued += (
                _queue(
                    meeting,
                    person,
                    f"reminder:circulate:{meeting.id}",
                    f"Agenda not yet circulated: {meeting.forum.name}, {meeting.date:%-d %B %Y}",
                    "reminder_coordinator",
                    working_days_left=left,
                )
                is not None
            )
        if meeting.status == MeetingStatus.AGENDA_CIRCULATED and meeting.date == tomorrow:
            for person in recipients(meeting):
                queued += (
                    _queue(
                        meeting,
                        person,
                        f"reminder:members:{meeting.id}:{person.email}",
                        f"Tomorrow: {meeting.forum.name}",
                        "reminder_member",
                    )
                    is not None
                )
    db.session.commit()
    return queued


# --- the personal calendar feed ------------------------------------------------------------


def user_by_calendar_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.calendar_token == token, User.active))


def reset_calendar_token(user: User) -> None:
    user.calendar_token = new_session_token()
    audit.record("calendar_token_reset", user, user=user)
    db.session.commit()


def calendar_feed(user: User) -> bytes:
    """The meetings and slots this person was invited to, as they stand now."""
    invitations = db.session.scalars(
        select(Invitation).where((Invitation.user_id == user.id) | (Invitation.email == user.email))
    )
    feed_events = []
    for invitation in invitations:
        meeting = db.session.get(Meeting, invitation.meeting_id)
        if invitation.kind == InvitationKind.MEETING:
            feed_events.append(
                events.meeting_event(
                    meeting,
                    cancelled=invitation.cancelled or meeting.status == MeetingStatus.CANCELLED,
                )
            )
        else:
            item = db.session.get(AgendaItem, invitation.agenda_item_id)
            slot = Slot(invitation.starts_at, invitation.ends_at, item)
            # A slot whose case may no longer go before the forum is not on, whatever was sent.
            gone = (
                invitation.cancelled
                or meeting.status == MeetingStatus.CANCELLED
                or not case_services.may_share_with_forum(item.case)
            )
            feed_events.append(events.slot_event(item, slot, invitation.sequence, cancelled=gone))
    return calendar.feed(feed_events, f"{words().forum_short} meetings for {user.name}")
