"""What a meeting or a presenter's slot is as a calendar event: its UID for life, its
organiser (the mailbox calendar programs answer to), its times, place and links. Circulation,
cancellations and the personal feed all build their events here, so an invitation and the feed
never describe the same meeting differently.

Nothing here may carry a child's personal data: events travel to personal calendars. So an
event never carries the agenda's contents, only links to it.

A hybrid meeting's joining link (e.g. a Teams link) goes where each client looks for it: in
LOCATION after the venue (LOCATION is text, RFC 5545 3.8.1.7, but Outlook, Google Calendar and
Thunderbird make a link of a URL in it), as the event's URL (Apple Calendar and Thunderbird show
it as the event's link; on the day, joining is what the link is for) and in the description, as
text and as HTML. The agenda link is always in the description.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from markupsafe import Markup, escape

from maf.agendas.models import AgendaItem
from maf.agendas.services import Slot
from maf.circulation import calendar
from maf.dbtypes import LONDON
from maf.forums.models import Forum, Meeting


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _uid(kind: str, number: int) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "maf"
    return f"{kind}-{number}@{host}"


def meeting_uid(meeting: Meeting) -> str:
    return _uid("meeting", meeting.id)


def slot_uid(item: AgendaItem) -> str:
    return _uid("slot", item.id)


def _organiser(forum: Forum) -> tuple[str, str]:
    if forum.organiser_email:
        return forum.organiser_email, f"{forum.name} coordinator"
    if forum.coordinator is not None:
        return forum.coordinator.email, forum.coordinator.name
    return current_app.config["MAIL_FROM_ADDRESS"], forum.name


def _meeting_times(meeting: Meeting) -> tuple[datetime, datetime]:
    starts = datetime.combine(meeting.date, meeting.start_time, LONDON)
    return starts, starts + timedelta(minutes=meeting.length_minutes)


def agenda_link(meeting: Meeting) -> str:
    return _link(f"/meetings/{meeting.id}/agenda")


def _location(meeting: Meeting) -> str:
    if not meeting.joining_link:
        return meeting.venue
    return f"{meeting.venue}; online: {meeting.joining_link}"


def _event_link(meeting: Meeting) -> str:
    return meeting.joining_link or agenda_link(meeting)


def _descriptions(meeting: Meeting, opening: str) -> tuple[str, str]:
    """The event's description as plain text and as HTML: `opening`, the joining link of a
    hybrid meeting, then where to read the agenda."""
    text = [opening]
    html = [Markup("<p>{}</p>").format(opening)]
    if meeting.joining_link:
        text.append(f"Join online: {meeting.joining_link}")
        html.append(
            Markup('<p>Join online: <a href="{0}">{0}</a></p>').format(meeting.joining_link)
        )
    text.append(f"Read the agenda after signing in: {agenda_link(meeting)}")
    html.append(
        Markup('<p>Read the agenda after signing in: <a href="{0}">{0}</a></p>').format(
            agenda_link(meeting)
        )
    )
    return "\n".join(text), str(escape("").join(html))


def _event(meeting: Meeting, opening: str, **fields) -> calendar.CalendarEvent:
    """What a meeting's event and a slot's share: the organiser, where, the links and the
    description that begins with `opening`."""
    organiser_email, organiser_name = _organiser(meeting.forum)
    description, html_description = _descriptions(meeting, opening)
    return calendar.CalendarEvent(
        description=description,
        html_description=html_description,
        location=_location(meeting),
        url=_event_link(meeting),
        organizer_email=organiser_email,
        organizer_name=organiser_name,
        **fields,
    )


def meeting_event(
    meeting: Meeting, attendees=(), cancelled: bool = False
) -> calendar.CalendarEvent:
    starts, ends = _meeting_times(meeting)
    return _event(
        meeting,
        f"Meeting of the {meeting.forum.name}.",
        uid=meeting_uid(meeting),
        sequence=meeting.calendar_sequence,
        summary=meeting.forum.name,
        starts=starts,
        ends=ends,
        cancelled=cancelled,
        attendees=tuple(attendees),
    )


def slot_event(
    item: AgendaItem, slot: Slot, sequence: int, cancelled=False
) -> calendar.CalendarEvent:
    meeting = item.meeting
    return _event(
        meeting,
        f"Your slot on the agenda, {slot.starts:%H:%M} to {slot.ends:%H:%M}.",
        uid=slot_uid(item),
        sequence=sequence,
        summary=f"Presenting at the {meeting.forum.name}",
        starts=datetime.combine(meeting.date, slot.starts, LONDON),
        ends=datetime.combine(meeting.date, slot.ends, LONDON),
        cancelled=cancelled,
        related_to=meeting_uid(meeting),
        attendees=(calendar.Attendee(item.presenter_email, item.presenter_name),),
    )
