"""Circulating a meeting's agenda and invitations, keeping calendars up to date, reminders,
and the personal calendar feed.

Nothing here puts a child's personal data into an email subject or body, an invitation or a
feed: those travel to personal calendars and phones. Only the pages behind sign-in name
children, and the agenda document, which is attached only for addresses on a secure email
domain an admin has listed; everyone else is sent a link to the page.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, render_template
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.agendas import services as agendas
from maf.agendas.document import agenda_document
from maf.agendas.models import AgendaItem, ItemStatus
from maf.agendas.services import Slot, timed_agenda
from maf.answers import services as answers
from maf.audit import services as audit
from maf.auth.models import Role, User, new_session_token
from maf.cases import services as case_services
from maf.cases.deadlines import add_working_days, working_days_between
from maf.cases.models import Case
from maf.circulation import calendar, events, outbox
from maf.circulation.models import (
    DocumentsBy,
    Invitation,
    InvitationKind,
    OutboxMessage,
    SecureEmailDomain,
)
from maf.dbtypes import utcnow
from maf.directory.services import DirectoryError, parse_domains
from maf.downloads import DOCX_MIMETYPE
from maf.errors import DomainError
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Forum, Meeting, MeetingChange, MeetingStatus, MemberRole
from maf.invitations.services import can_sign_in, who_to_ask
from maf.notifications import services as notifications
from maf.outcomes.progress import request_updates
from maf.rules.words import words
from maf.versioning import UNCHECKED
from maf.words import plural


class CirculationError(DomainError):
    """A rule about circulation refused the action."""


# --- secure email domains: who may be sent documents attached --------------------------------


class SecureDomainError(DomainError):
    """A domain that cannot be added to the list."""


def secure_domains() -> list[SecureEmailDomain]:
    return list(db.session.scalars(select(SecureEmailDomain).order_by(SecureEmailDomain.domain)))


def secure_domain_names() -> frozenset[str]:
    return frozenset(db.session.scalars(select(SecureEmailDomain.domain)))


def documents_by_attachment(email: str, domains: frozenset[str] | None = None) -> bool:
    """Whether an agenda or minutes may go to this address attached: its domain is a listed
    secure domain or a subdomain of one ("x.pnn.police.uk" under "pnn.police.uk"; "gov.uk"
    covers "leics.gov.uk" but not "notgov.uk"). An empty list, the default, attaches nothing.
    `domains` is the list already read, for a circulation asking about many addresses."""
    if domains is None:
        domains = secure_domain_names()
    host = email.rpartition("@")[2].strip().lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def add_secure_domain(text: str, user: User, once: str | None = None) -> SecureEmailDomain:
    """Add a domain typed by an admin; `once` is the form's one-time token (maf.submissions)."""
    try:
        typed = parse_domains(text)
    except DirectoryError:
        typed = None
    if not typed or len(typed) > 1:
        raise SecureDomainError("Enter one email domain, like nhs.net", field="domain")
    domain = typed[0]
    submission = submissions.claim(once, "secure_email_domain", user)
    if db.session.scalar(select(SecureEmailDomain.id).where(SecureEmailDomain.domain == domain)):
        raise SecureDomainError(f"{domain} is already on the list", field="domain")
    added = SecureEmailDomain(domain=domain, added_by_id=user.id)
    db.session.add(added)
    submissions.created(submission, added)
    audit.record("secure_domain_added", added, user=user, detail=domain)
    db.session.commit()
    return added


def remove_secure_domain(domain: SecureEmailDomain, user: User) -> None:
    audit.record("secure_domain_removed", domain, user=user, detail=domain.domain)
    db.session.delete(domain)
    db.session.commit()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def document_filename(forum: Forum, kind: str, day: date, version: int) -> str:
    """The name of an agenda or minutes file, the same attached and downloaded, different for
    each forum, date and version: a member's folder never holds two files of one name."""
    return f"{_slug(forum.name)}-{kind}-{day:%Y-%m-%d}-v{version}.docx"


def documents_in_words(by_link: int, attached: int) -> str:
    return f"{by_link} by link, {attached} attached"


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
    documents="",
    **context,
):
    text, html = _email(
        template,
        method=method,
        meeting=meeting,
        person=person,
        agenda_link=events.agenda_link(meeting),
        when=_when(meeting),
        # Only a person with an account is told to sign in; the others whom to ask.
        signs_in=can_sign_in(person.email),
        contact=who_to_ask(meeting.forum),
        **context,
    )
    message = outbox.enqueue(
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
    if message is not None:
        message.documents = documents
    return message


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
    # Of the emails carrying the agenda (new, or moved with the meeting): how many linked to
    # it, how many had it attached.
    by_link: int = 0
    attached: int = 0
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
    people = recipients(meeting)
    secure = secure_domain_names()
    document = None
    if any(documents_by_attachment(person.email, secure) for person in people):
        document = outbox.Attachment(
            document_filename(meeting.forum, "agenda", meeting.date, meeting.agenda_version),
            DOCX_MIMETYPE,
            agenda_document(meeting),
        )
    sending = _Sending(
        agenda=agenda,
        document=document,
        secure=secure,
        withdrawn=len(withdrawn),
        on_agenda=[slot.item.case for slot in agenda.slots if slot.item is not None],
        changes=_changes_to_tell(meeting),
        last_change_id=_last_change_id(meeting),
    )
    attendees = [calendar.Attendee(p.email, p.name, p.role) for p in people]
    for person in people:
        _circulate_to_member(meeting, person, attendees, sending, report)
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


@dataclass
class _Sending:
    """What one circulation sends every member."""

    agenda: object  # TimedAgenda
    document: outbox.Attachment | None  # made only when someone may have it attached
    secure: frozenset[str]
    withdrawn: int
    on_agenda: list[Case]
    changes: list[MeetingChange]
    last_change_id: int | None


def _last_change_id(meeting: Meeting) -> int | None:
    return db.session.scalar(
        select(func.max(MeetingChange.id)).where(MeetingChange.meeting_id == meeting.id)
    )


# MeetingChange rows that are not a change the members need told (the schedule made the
# meeting; a status change is told by its own email or page).
_NOT_TOLD = ("created", "status")
# Changes that move the times on the agenda document (forums.services names them so).
_MOVES_THE_AGENDA = ("date", "start time", "breaks")


def _changes_to_tell(meeting: Meeting) -> list[MeetingChange]:
    """Every change of date, time, length, venue, breaks or joining link, oldest first."""
    return list(
        db.session.scalars(
            select(MeetingChange)
            .where(MeetingChange.meeting_id == meeting.id, MeetingChange.what.not_in(_NOT_TOLD))
            .order_by(MeetingChange.id)
        )
    )


def changes_since(changes: list[MeetingChange], invitation: Invitation | None):
    """Of the meeting's `changes`, those made since this person's invitation last went out."""
    if invitation is None or invitation.cancelled:
        return []
    if invitation.last_change_id is not None:
        return [change for change in changes if change.id > invitation.last_change_id]
    # Sent before changes were counted: those after its sending.
    return [change for change in changes if change.changed_at > invitation.sent_at]


def agenda_counts(agenda) -> str:
    """How many items, never which: all an email may say of what the agenda holds."""
    parts = []
    if agenda.new_cases:
        parts.append(plural(agenda.new_cases, "new case"))
    if agenda.reviews:
        parts.append(plural(agenda.reviews, "review"))
    return " and ".join(parts) or "no cases"


def _subject(words_before: str, meeting: Meeting, attached: bool) -> str:
    """An email carrying the document is marked as what it carries; one with a link is not."""
    subject = f"{words_before}: {meeting.forum.name}, {meeting.date:%-d %B %Y}"
    return f"OFFICIAL-SENSITIVE: {subject}" if attached else subject


def _circulate_to_member(meeting, person, attendees, sending: _Sending, report) -> None:
    uid = events.meeting_uid(meeting)
    invitation = _invitation(uid, person.email)
    event = events.meeting_event(meeting, [a for a in attendees if a.email == person.email])
    calendar_due = (
        invitation is None
        or invitation.cancelled
        or (invitation.sequence < meeting.calendar_sequence)
    )
    changes = changes_since(sending.changes, invitation)
    agenda_key = f"agenda:{meeting.id}:v{meeting.agenda_version}:{person.email}"
    agenda_due = not _already_queued(agenda_key)
    if not agenda_due and not calendar_due:
        return
    # A new date or start moves every slot's time on the agenda already sent, though nothing
    # on it changed: the changed meeting's email then carries the agenda too.
    carries_agenda = agenda_due or any(change.what in _MOVES_THE_AGENDA for change in changes)
    attached = (
        carries_agenda
        and sending.document is not None
        and documents_by_attachment(person.email, sending.secure)
    )
    context = dict(
        method="REQUEST" if calendar_due else None,
        event=event if calendar_due else None,
        answer_links=answers.answer_links(meeting, person.email),
        counts=agenda_counts(sending.agenda),
        attached=attached,
        agenda_changed=carries_agenda,
        changes=changes,
        reasons=list(dict.fromkeys(change.reason for change in changes if change.reason)),
        # How many, never which: the members are not told whose consent was withdrawn.
        withdrawn=sending.withdrawn if agenda_due else 0,
    )
    if carries_agenda:
        context.update(
            attachments=[sending.document] if attached else [],
            # Linked or attached, the email sent this agenda: a child's subject access
            # export lists it either way.
            concerning=sending.on_agenda,
            documents=DocumentsBy.ATTACHMENT if attached else DocumentsBy.LINK,
        )
        report.attached += attached
        report.by_link += not attached
    if agenda_due:
        updated = invitation is not None and not invitation.cancelled
        # The meeting moved and its agenda with it: one email says both.
        template = "meeting_changed" if changes else "agenda"
        words_before = "Changed" if changes else "Updated agenda" if updated else "Agenda"
        key = agenda_key
        report.agendas += 1
    else:
        template, words_before = "meeting_changed", "Changed"
        key = f"meeting:{meeting.id}:seq{meeting.calendar_sequence}:{person.email}"
        report.meeting_updates += 1
    _queue(meeting, person, key, _subject(words_before, meeting, attached), template, **context)
    report.recipients.add(person.email)
    if invitation is None:
        invitation = Invitation(
            meeting_id=meeting.id, kind=InvitationKind.MEETING, uid=uid, email=person.email
        )
        db.session.add(invitation)
    invitation.name, invitation.user_id, invitation.cancelled = person.name, person.user_id, False
    invitation.sequence = meeting.calendar_sequence
    invitation.last_change_id = sending.last_change_id
    invitation.sent_at = utcnow()


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


def cancellation(meeting: Meeting) -> MeetingChange | None:
    """When and why the meeting was cancelled, for its pages to say so; None if it was not."""
    if meeting.status != MeetingStatus.CANCELLED:
        return None
    return db.session.scalar(
        select(MeetingChange)
        .where(
            MeetingChange.meeting_id == meeting.id,
            MeetingChange.what == "status",
            MeetingChange.after == MeetingStatus.CANCELLED.label,
        )
        .order_by(MeetingChange.id.desc())
        .limit(1)
    )


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
                # Optional: a member may have turned this reminder off (their email settings).
                if not notifications.wants(person.email, "meeting_reminder"):
                    continue
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
    """The meetings and slots this person was invited to, as they stand now, and the meetings
    they organise (a coordinator of the forum's district) or chair, invited or not."""
    invitations = list(
        db.session.scalars(
            select(Invitation).where(
                (Invitation.user_id == user.id) | (Invitation.email == user.email)
            )
        )
    )
    feed_events = []
    meetings_in_feed = set()
    for invitation in invitations:
        meeting = db.session.get(Meeting, invitation.meeting_id)
        if invitation.kind == InvitationKind.MEETING:
            if meeting.id in meetings_in_feed:
                continue
            meetings_in_feed.add(meeting.id)
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
    for meeting in _organised_or_chaired(user, meetings_in_feed):
        feed_events.append(
            events.meeting_event(meeting, cancelled=meeting.status == MeetingStatus.CANCELLED)
        )
    return calendar.feed(feed_events, f"{words().forum_short} meetings for {user.name}")


def _organised_or_chaired(user: User, already: set[int]) -> list[Meeting]:
    """The meetings of the forums this person chairs or coordinates, or whose district they
    coordinate, except those already in the feed by an invitation."""
    forums = (Forum.chair_id == user.id) | (Forum.coordinator_id == user.id)
    districts = [district.id for district in user.districts]
    if user.has_role(Role.COORDINATOR) and districts:
        forums = forums | Forum.district_id.in_(districts)
    query = select(Meeting).join(Forum).where(forums).options(selectinload(Meeting.forum))
    if already:
        query = query.where(Meeting.id.not_in(already))
    return list(db.session.scalars(query.order_by(Meeting.date)))
