"""Calendar replies (iTIP REPLY) as Outlook, Google Calendar and Thunderbird write them, from
the templates in tests/answers/fixtures (see its README), for a given invitation.

    raw = reply_email("outlook", meeting, "maya.member@example.org", "Maya Member", "ACCEPTED")
    imap_server.append(raw)
"""

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template

from maf.circulation import events
from maf.dbtypes import utcnow

FIXTURES = Path(__file__).parent / "fixtures"
VERBS = {
    "ACCEPTED": "Accepted",
    "DECLINED": "Declined",
    "TENTATIVE": "Tentative",
    "DELEGATED": "Delegated",
}


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _ical(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def reply_email(
    program: str,
    meeting,
    attendee: str,
    attendee_name: str,
    partstat: str = "ACCEPTED",
    *,
    uid: str | None = None,
    stamp: datetime | None = None,
    delegate: tuple[str, str] | None = None,
    calendar_template: str | None = None,
    message_id: str = "reply-1",
) -> bytes:
    """One reply email. `program`: outlook, google or thunderbird (the envelope and calendar);
    `delegate`: (email, name) of the deputy a DELEGATED reply names (Thunderbird's template);
    `calendar_template`: another calendar file in fixtures/ inside the program's envelope."""
    starts = meeting.starts_at
    ends = starts + timedelta(minutes=meeting.length_minutes)
    stamp = stamp or utcnow()
    organiser = meeting.forum.organiser_email or "organiser@maf.test"
    attendee_lines = (
        f"ATTENDEE;RSVP=TRUE;CN={attendee_name};PARTSTAT={partstat};ROLE=REQ-PARTICIPANT:"
        f"mailto:{attendee}"
    )
    if delegate is not None:
        attendee_lines = (
            f'ATTENDEE;CN={attendee_name};PARTSTAT=DELEGATED;DELEGATED-TO="mailto:{delegate[0]}";'
            f"ROLE=REQ-PARTICIPANT:mailto:{attendee}\n"
            f'ATTENDEE;CN={delegate[1]};PARTSTAT=NEEDS-ACTION;DELEGATED-FROM="mailto:{attendee}";'
            f"ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{delegate[0]}"
        )
    values = {
        "uid": uid or events.meeting_uid(meeting),
        "attendee": attendee,
        "attendee_name": attendee_name,
        "attendee_lines": attendee_lines,
        "organiser": organiser,
        "organiser_name": f"{meeting.forum.name} coordinator",
        "partstat": partstat,
        "verb": VERBS.get(partstat, "Answered"),
        "verb_lower": VERBS.get(partstat, "answered").lower(),
        "summary": meeting.forum.name,
        "location": meeting.venue,
        "dtstamp": _ical(stamp),
        "dtstart_utc": _ical(starts),
        "dtend_utc": _ical(ends),
        "dtstart_local": starts.strftime("%Y%m%dT%H%M%S"),
        "dtend_local": ends.strftime("%Y%m%dT%H%M%S"),
        "google_when": f"{starts:%a %-d %b %Y %H:%M} - {ends:%H:%M} ({starts:%Z})",
        "sequence": str(meeting.calendar_sequence),
        "date": stamp.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "message_id": message_id,
    }
    calendar_name = calendar_template or f"{program}_reply.ics"
    calendar = _crlf(Template((FIXTURES / calendar_name).read_text()).substitute(values))
    values["calendar"] = calendar.rstrip("\r\n")
    values["calendar_base64"] = _base64_lines(calendar.encode())
    envelope = Template((FIXTURES / f"{program}_reply.eml").read_text()).substitute(values)
    return _crlf(envelope).encode()


def plain_email(meeting, sender: str, sender_name: str) -> bytes:
    """An ordinary email to the organiser mailbox, with no calendar in it."""
    values = {
        "attendee": sender,
        "attendee_name": sender_name,
        "organiser": meeting.forum.organiser_email or "organiser@maf.test",
        "organiser_name": f"{meeting.forum.name} coordinator",
        "date": utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "message_id": "plain-1",
    }
    return _crlf(Template((FIXTURES / "plain_email.eml").read_text()).substitute(values)).encode()
