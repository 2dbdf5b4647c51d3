"""What a meeting or a presenter's slot is as a calendar event: its UID for life, its
organiser (the mailbox calendar programs answer to), its times, place and links. Circulation,
cancellations and the personal feed all build their events here, so an invitation and the feed
never describe the same meeting differently.

Nothing here may carry a child's personal data: events travel to personal calendars.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app

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


def meeting_event(
    meeting: Meeting, attendees=(), cancelled: bool = False
) -> calendar.CalendarEvent:
    starts, ends = _meeting_times(meeting)
    organiser_email, organiser_name = _organiser(meeting.forum)
    return calendar.CalendarEvent(
        uid=meeting_uid(meeting),
        sequence=meeting.calendar_sequence,
        summary=meeting.forum.name,
        description=(
            f"Meeting of the {meeting.forum.name}. The agenda comes by email; with an "
            f"account you can also read it at {agenda_link(meeting)}"
        ),
        location=meeting.venue,
        url=agenda_link(meeting),
        starts=starts,
        ends=ends,
        organizer_email=organiser_email,
        organizer_name=organiser_name,
        cancelled=cancelled,
        attendees=tuple(attendees),
    )


def slot_event(
    item: AgendaItem, slot: Slot, sequence: int, cancelled=False
) -> calendar.CalendarEvent:
    meeting = item.meeting
    organiser_email, organiser_name = _organiser(meeting.forum)
    starts = datetime.combine(meeting.date, slot.starts, LONDON)
    ends = datetime.combine(meeting.date, slot.ends, LONDON)
    return calendar.CalendarEvent(
        uid=slot_uid(item),
        sequence=sequence,
        summary=f"Presenting at the {meeting.forum.name}",
        description=(
            f"Your slot on the agenda, {slot.starts:%H:%M} to {slot.ends:%H:%M}. The agenda "
            f"comes by email; with an account you can also read it at {agenda_link(meeting)}"
        ),
        location=meeting.venue,
        url=agenda_link(meeting),
        starts=starts,
        ends=ends,
        organizer_email=organiser_email,
        organizer_name=organiser_name,
        cancelled=cancelled,
        related_to=meeting_uid(meeting),
        attendees=(calendar.Attendee(item.presenter_email, item.presenter_name),),
    )
