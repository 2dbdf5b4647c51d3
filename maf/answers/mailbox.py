"""Reading members' answers from the forums' organiser mailbox.

Calendar programs send a member's answer to an invitation's ORGANIZER as an iTIP REPLY
(RFC 5546 §3.2.3): a text/calendar part with METHOD:REPLY, one VEVENT with the invitation's
UID and the attendee's PARTSTAT. Outlook sends it inline (multipart/alternative, the part's
content type carrying method=REPLY, MS-OXCICAL), Google Calendar inline and again as an
invite.ics attachment, Thunderbird inline. The mailbox is shared with the coordinators, so:

- only UNSEEN messages are read, and read with BODY.PEEK, so reading marks nothing;
- a reply applied to an invitation MAF sent is flagged \\Seen and $MAFApplied;
- everything else (an ordinary email, a reply to an unknown or cancelled invitation, a reply
  sent by someone other than the attendee, a "tentative", a malformed calendar) stays unseen
  for people, flagged $MAFLeft only so the next
  run does not read it again; nothing is ever deleted;
- a mailbox that cannot be reached, or a database that fails mid-way, changes nothing that is
  not committed, and the next run tries again; one bad message never stops the others.

Log lines name messages by their IMAP UID and invitations by id, never a person or a subject.
"""

import email
import email.policy
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from flask import current_app
from icalendar import Calendar
from sqlalchemy import func, select

from maf.answers import services
from maf.answers.models import AnswerSource, Response
from maf.circulation.models import Invitation, InvitationKind
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.forums.models import Meeting, MeetingStatus

log = logging.getLogger(__name__)

APPLIED_FLAGS = "(\\Seen $MAFApplied)"
LEFT_FLAG = "$MAFLeft"

PARTSTATS = {
    "ACCEPTED": Response.ATTENDING,
    "DECLINED": Response.NOT_ATTENDING,
    "DELEGATED": Response.DEPUTY,
}


class Outcome(StrEnum):
    APPLIED = "applied"
    NOT_A_REPLY = "not a calendar reply"
    NO_MATCH = "no open invitation matches"
    NOT_FROM_ATTENDEE = "sent by someone other than the attendee"
    UNDECIDED = "tentative or no answer"
    STALE = "older than the answer in force"
    MALFORMED = "malformed calendar"


# The order in which one message's outcomes win, when its events differ.
_PRECEDENCE = [
    Outcome.APPLIED,
    Outcome.MALFORMED,
    Outcome.STALE,
    Outcome.UNDECIDED,
    Outcome.NOT_FROM_ATTENDEE,
    Outcome.NO_MATCH,
    Outcome.NOT_A_REPLY,
]


@dataclass
class MailboxRun:
    """What one run did, by outcome; `reachable` is false when the mailbox could not be read."""

    reachable: bool = True
    outcomes: dict[Outcome, int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.get(outcome, 0)


class MalformedCalendar(Exception):
    pass


# --- one message -------------------------------------------------------------------------


def _calendar_parts(message) -> list[bytes]:
    """Every calendar in the message: text/calendar parts (inline or attached) and .ics files."""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = (part.get_filename() or "").lower()
        if part.get_content_type() in ("text/calendar", "application/ics") or filename.endswith(
            ".ics"
        ):
            payload = part.get_payload(decode=True)
            if payload:
                parts.append(payload)
    return parts


def _address(value) -> str:
    return re.sub(r"^mailto:", "", str(value).strip(), flags=re.IGNORECASE).lower()


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _stamp(event) -> datetime:
    stamp = event.get("DTSTAMP")
    moment = getattr(stamp, "dt", None)
    if not isinstance(moment, datetime):
        return utcnow()
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse(raw: bytes) -> Calendar:
    try:
        calendar = Calendar.from_ical(raw.decode("utf-8", errors="replace"))
    except (ValueError, IndexError, KeyError) as error:
        raise MalformedCalendar(type(error).__name__) from None
    if calendar.name != "VCALENDAR":
        raise MalformedCalendar("not a VCALENDAR")
    # icalendar reads on past a line it cannot parse and keeps the error with the component.
    if any(getattr(component, "errors", None) for component in calendar.walk()):
        raise MalformedCalendar("a line that cannot be read")
    return calendar


def _open_invitation(uid: str, address: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            Invitation.uid == uid,
            Invitation.kind == InvitationKind.MEETING,
            func.lower(Invitation.email) == address,
        )
    )


def _apply_event(event, senders: set[str], message_uid: str) -> Outcome:
    uid = str(event.get("UID", "")).strip()
    attendees = _as_list(event.get("ATTENDEE"))
    if not uid or not attendees:
        raise MalformedCalendar("a REPLY without UID or ATTENDEE")
    named = {_address(a): str(a.params.get("CN", "")).strip() for a in attendees}
    for attendee in attendees:
        invitation = _open_invitation(uid, _address(attendee))
        if invitation is None:
            continue
        meeting = db.session.get(Meeting, invitation.meeting_id)
        if (
            invitation.cancelled
            or meeting.status == MeetingStatus.CANCELLED
            or utcnow() >= services.meeting_ends_at(meeting)
        ):
            log.info(
                "organiser mailbox: message %s answers invitation %s, which is closed",
                message_uid,
                invitation.id,
            )
            return Outcome.NO_MATCH
        # Anyone can email the organiser mailbox: only the attendee (or whoever sends on
        # their behalf, named in Sender) answers for them.
        if invitation.email.lower() not in senders:
            log.info(
                "organiser mailbox: message %s for invitation %s is not from the attendee",
                message_uid,
                invitation.id,
            )
            return Outcome.NOT_FROM_ATTENDEE
        response = PARTSTATS.get(str(attendee.params.get("PARTSTAT", "")).upper())
        if response is None:
            return Outcome.UNDECIDED
        deputy = ""
        if response == Response.DEPUTY:
            delegate = _address(attendee.params.get("DELEGATED-TO", ""))
            deputy = named.get(delegate) or delegate
            if not deputy:
                raise MalformedCalendar("DELEGATED without DELEGATED-TO")
        stamp = _stamp(event)
        current = services.answer_for(meeting, invitation.email)
        if current is not None:
            in_force = (
                current.calendar_stamp
                if current.source == AnswerSource.CALENDAR and current.calendar_stamp
                else current.answered_at
            )
            if stamp < in_force or (
                stamp == in_force and (current.response, current.deputy_name) != (response, deputy)
            ):
                log.info(
                    "organiser mailbox: message %s for invitation %s is older than its answer",
                    message_uid,
                    invitation.id,
                )
                return Outcome.STALE
        services.record_answer(
            meeting,
            invitation,
            response,
            AnswerSource.CALENDAR,
            deputy_name=deputy,
            calendar_stamp=stamp,
        )
        log.info(
            "organiser mailbox: message %s applied to invitation %s", message_uid, invitation.id
        )
        return Outcome.APPLIED
    log.info("organiser mailbox: message %s matches no invitation sent", message_uid)
    return Outcome.NO_MATCH


def apply_message(raw: bytes, message_uid: str = "?") -> Outcome:
    """Apply the iTIP REPLY in one email, in the caller's transaction (not committed)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    senders = {
        address.lower()
        for _, address in getaddresses(
            [str(value) for value in message.get_all("From", []) + message.get_all("Sender", [])]
        )
    }
    outcomes = []
    for part in _calendar_parts(message):
        try:
            calendar = _parse(part)
            if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
                outcomes.append(Outcome.NOT_A_REPLY)
                continue
            events = calendar.walk("VEVENT")
            if not events:
                raise MalformedCalendar("a REPLY without VEVENT")
            outcomes.extend(_apply_event(event, senders, message_uid) for event in events)
        except MalformedCalendar as error:
            log.warning(
                "organiser mailbox: message %s has a malformed calendar (%s)", message_uid, error
            )
            outcomes.append(Outcome.MALFORMED)
    if not outcomes:
        return Outcome.NOT_A_REPLY
    return min(outcomes, key=_PRECEDENCE.index)


# --- the mailbox ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxAddress:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> "MailboxAddress":
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ValueError("ORGANISER_MAILBOX_URL must be imaps://user:password@host/INBOX")
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )


def _connect(address: MailboxAddress) -> imaplib.IMAP4:
    timeout = current_app.config["ORGANISER_MAILBOX_TIMEOUT_SECONDS"]
    if address.secure:
        connection = imaplib.IMAP4_SSL(
            address.host, address.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        connection = imaplib.IMAP4(address.host, address.port, timeout=timeout)
    connection.login(address.user, address.password)
    status, _ = connection.select(_quoted(address.folder))
    if status != "OK":
        raise imaplib.IMAP4.error("the folder cannot be opened")
    return connection


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_organiser_mailbox() -> MailboxRun:
    """The scheduled job: apply every new calendar reply in the organiser mailbox."""
    url = current_app.config["ORGANISER_MAILBOX_URL"]
    run = MailboxRun()
    if not url:
        return run
    try:
        connection = _connect(MailboxAddress.parse(url))
    except (OSError, imaplib.IMAP4.error, ValueError) as error:
        # The class only: an IMAP error's text can quote the server's reply.
        log.warning("organiser mailbox cannot be read: %s", type(error).__name__)
        run.reachable = False
        return run
    try:
        status, found = connection.uid("SEARCH", None, "UNSEEN", "UNKEYWORD", LEFT_FLAG)
        if status != "OK":
            raise imaplib.IMAP4.error("search refused")
        for message_uid in found[0].split():
            outcome = _read_one(connection, message_uid.decode())
            if outcome is not None:
                run.outcomes[outcome] = run.outcomes.get(outcome, 0) + 1
    except (OSError, imaplib.IMAP4.error) as error:
        log.warning("organiser mailbox: reading stopped: %s", type(error).__name__)
        run.reachable = False
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            log.info("organiser mailbox: the connection closed before logging out")
    return run


def _read_one(connection: imaplib.IMAP4, message_uid: str) -> Outcome | None:
    """Apply one message and flag it; None when it must be read again next time."""
    status, data = connection.uid("FETCH", message_uid, "(BODY.PEEK[])")
    raw = next((part[1] for part in data or () if isinstance(part, tuple)), None)
    if status != "OK" or raw is None:
        log.warning("organiser mailbox: message %s could not be fetched", message_uid)
        return None
    try:
        outcome = apply_message(raw, message_uid)
        db.session.commit()
    except Exception as error:  # one bad message never stops the others
        db.session.rollback()
        log.error(
            "organiser mailbox: message %s not applied, tried again next run: %s",
            message_uid,
            type(error).__name__,
        )
        return None
    # Flagged after the commit: if flagging fails the reply is read again next time, and
    # applying the same reply twice changes nothing.
    flags = APPLIED_FLAGS if outcome == Outcome.APPLIED else f"({LEFT_FLAG})"
    status, _ = connection.uid("STORE", message_uid, "+FLAGS", flags)
    if status != "OK":
        log.warning("organiser mailbox: message %s could not be flagged", message_uid)
    return outcome
