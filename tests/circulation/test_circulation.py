"""Circulating agendas and keeping members' calendars in step with the meeting (issue:
'changes and cancellations must update the event already in their calendar, not add a second
one'; seed 004: the agenda goes to every member before the meeting)."""

from datetime import date, time, timedelta

import icalendar
import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.circulation import events, services
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MeetingStatus, MemberRole


@pytest.fixture
def meeting(make_meeting, add_members):
    meeting = make_meeting(date(2027, 7, 13))
    add_members(
        meeting.forum, [("Zoë Brennan", "zoe@example.org"), ("Paul Dennis", "paul@example.org")]
    )
    return meeting


@pytest.fixture
def agenda(meeting, make_ready_case, coordinator):
    """Two new cases presented by two practitioners."""
    amy = make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE11 1AA")
    ben = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    first = agendas.add_to_agenda(
        meeting, amy, ItemKind.NEW_CASE, coordinator, "Dan K", "dan@example.org"
    )
    second = agendas.add_to_agenda(
        meeting, ben, ItemKind.NEW_CASE, coordinator, "Eve M", "eve@example.org"
    )
    return first, second


def _messages(after_id: int = 0) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
        )
    )


def _event(message: OutboxMessage):
    calendar = icalendar.Calendar.from_ical(message.calendar)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _last_id() -> int:
    return max((m.id for m in _messages()), default=0)


def test_first_circulation_sends_each_member_the_agenda_and_an_invitation(
    meeting, agenda, coordinator
):
    report = services.circulate(meeting, coordinator)
    assert meeting.status == MeetingStatus.AGENDA_CIRCULATED
    messages = {m.recipient_email: m for m in _messages()}
    members = {"zoe@example.org", "paul@example.org", meeting.forum.chair.email}
    assert members | {"dan@example.org", "eve@example.org"} == set(messages)
    assert (report.agendas, report.slot_invitations) == (3, 2)
    for email in members:
        message = messages[email]
        assert message.subject == "Agenda: Charnwood multi-agency forum, 13 July 2027"
        # No secure email domain is listed (the default): a link, never the document.
        assert message.attachments == [] and message.documents == "link"
        assert "2 new cases" in message.text_body
        calendar, event = _event(message)
        assert calendar["METHOD"] == "REQUEST" and message.calendar_method == "REQUEST"
        assert str(event["UID"]) == events.meeting_uid(meeting)
        assert event["SEQUENCE"] == 0
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == [f"mailto:{email}"], "one attendee: the recipient"
        assert str(event["ORGANIZER"]) == f"mailto:{coordinator.email}"
    # The chair signs in to read it; members without an account are told whom to ask.
    assert f"{events.agenda_link(meeting)}\n" in messages[meeting.forum.chair.email].text_body
    assert "no MAF account to read it online. Ask" in messages["zoe@example.org"].text_body
    _, slot = _event(messages["dan@example.org"])
    assert str(slot["RELATED-TO"]) == events.meeting_uid(meeting)
    assert slot["DTSTART"].dt.strftime("%H:%M") == "09:30"
    assert not messages["dan@example.org"].attachments


def test_no_childs_personal_data_outside_the_agenda_document(meeting, agenda, coordinator):
    services.circulate(meeting, coordinator)
    for message in _messages():
        visible = " ".join(
            (message.subject, message.text_body, message.html_body, message.calendar or "")
        )
        for personal in ("Amy", "Ben", "Lee", "Ward", "2013", "LE11", "LE12"):
            assert personal not in visible, (personal, message.subject)


def test_recirculating_with_no_change_sends_nothing(meeting, agenda, coordinator):
    services.circulate(meeting, coordinator)
    before = _last_id()
    report = services.circulate(meeting, coordinator)
    assert report.messages == 0 and _messages(before) == []
    assert not services.changes_not_circulated(meeting)


def test_a_time_change_updates_every_invitation_with_the_next_sequence(
    meeting, agenda, coordinator
):
    services.circulate(meeting, coordinator)
    forums.reschedule_meeting(
        meeting,
        day=meeting.date,
        start_time=time(13, 0),
        venue=meeting.venue,
        reason="",
        user=coordinator,
    )
    assert services.changes_not_circulated(meeting)
    before = _last_id()
    services.circulate(meeting, coordinator)
    sent = _messages(before)
    updates = [m for m in sent if m.subject.startswith("Changed")]
    assert len(updates) == 3
    for message in updates:
        _, event = _event(message)
        assert event["SEQUENCE"] == 1 and str(event["UID"]) == events.meeting_uid(meeting)
        assert event["DTSTART"].dt.strftime("%H:%M") == "13:00"
    slots = [m for m in sent if m.subject.startswith("Your slot")]
    assert {m.recipient_email for m in slots} == {"dan@example.org", "eve@example.org"}
    assert all(_event(m)[1]["SEQUENCE"] == 1 for m in slots)


def test_reordering_updates_only_the_moved_presenters_and_recirculates_the_agenda(
    meeting, agenda, coordinator
):
    first, second = agenda
    services.circulate(meeting, coordinator)
    agendas.move_item(second, -1, coordinator)
    before = _last_id()
    services.circulate(meeting, coordinator)
    sent = _messages(before)
    agendas_sent = [m for m in sent if m.subject.startswith("Updated agenda")]
    assert len(agendas_sent) == 3 and all(m.calendar is None for m in agendas_sent)
    slots = {m.recipient_email: _event(m)[1] for m in sent if m.calendar_method}
    assert set(slots) == {"dan@example.org", "eve@example.org"}  # both slots moved
    assert slots["eve@example.org"]["DTSTART"].dt.strftime("%H:%M") == "09:30"
    assert slots["eve@example.org"]["SEQUENCE"] == 1


def test_removing_an_item_cancels_that_presenters_slot_only(meeting, agenda, coordinator):
    first, second = agenda
    services.circulate(meeting, coordinator)
    agendas.remove_from_agenda(second, coordinator)
    before = _last_id()
    services.circulate(meeting, coordinator)
    sent = _messages(before)
    cancels = [m for m in sent if m.calendar_method == "CANCEL"]
    assert [m.recipient_email for m in cancels] == ["eve@example.org"]
    calendar, event = _event(cancels[0])
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == events.slot_uid(second) and event["SEQUENCE"] == 1
    assert "dan@example.org" not in {m.recipient_email for m in sent if m.calendar_method}


def test_a_member_added_after_circulation_gets_the_current_version(
    meeting, agenda, coordinator, make_agency
):
    services.circulate(meeting, coordinator)
    forums.reschedule_meeting(
        meeting,
        day=meeting.date,
        start_time=time(10, 0),
        venue=meeting.venue,
        reason="",
        user=coordinator,
    )
    services.circulate(meeting, coordinator)
    forums.add_member(
        meeting.forum,
        name="New Member",
        email="new@example.org",
        agency=make_agency(),
        role=MemberRole.OBSERVER,
        user=coordinator,
    )
    before = _last_id()
    services.circulate(meeting, coordinator)
    (message,) = _messages(before)
    assert message.recipient_email == "new@example.org" and message.documents == "link"
    _, event = _event(message)
    assert event["SEQUENCE"] == 1 and event["DTSTART"].dt.strftime("%H:%M") == "10:00"
    assert event["ATTENDEE"].params["ROLE"] == "OPT-PARTICIPANT"


def test_cancelling_the_meeting_cancels_every_invitation(meeting, agenda, coordinator):
    first, second = agenda
    services.circulate(meeting, coordinator)
    for item in (first, second):
        agendas.remove_from_agenda(item, coordinator)
    # An empty agenda is not circulated (issue 13), so the presenters' slots are cancelled
    # with the meeting.
    before = _last_id()
    sent = services.cancel_meeting(meeting, "Chair unwell", coordinator)
    messages = _messages(before)
    assert sent == len(messages) == 5
    slot_uids = {events.slot_uid(first), events.slot_uid(second)}
    for message in messages:
        calendar, event = _event(message)
        assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
        assert "Chair unwell" not in message.text_body
        if str(event["UID"]) in slot_uids:
            assert message.recipient_email in {"dan@example.org", "eve@example.org"}
        else:
            assert event["SEQUENCE"] == 1 and str(event["UID"]) == events.meeting_uid(meeting)
    assert sum(str(_event(m)[1]["UID"]) in slot_uids for m in messages) == 2


def test_reminders_are_queued_once(meeting, agenda, coordinator):
    a_week_before = meeting.date - timedelta(days=7)  # five working days before it
    assert services.queue_reminders(a_week_before - timedelta(days=1)) == 0, "six days before"
    assert services.queue_reminders(a_week_before) == 1
    assert services.queue_reminders(a_week_before) == 0
    (reminder,) = _messages()
    assert reminder.recipient_email == coordinator.email
    assert "not yet circulated" in reminder.subject
    services.circulate(meeting, coordinator)
    before = _last_id()
    assert services.queue_reminders(meeting.date - timedelta(days=1)) == 3
    assert {m.recipient_email for m in _messages(before)} == {
        "zoe@example.org",
        "paul@example.org",
        meeting.forum.chair.email,
    }


def test_calendar_feed_follows_the_token(app, client, meeting, agenda, coordinator, make_user):
    from maf.auth.models import Role

    zoe = make_user(Role.PRACTITIONER, email="zoe@example.org", name="Zoë Brennan")
    services.circulate(meeting, coordinator)
    response = client.get(f"/calendar/{zoe.calendar_token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    feed = icalendar.Calendar.from_ical(response.data)
    assert "METHOD" not in feed
    assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [events.meeting_uid(meeting)]
    old = zoe.calendar_token
    services.reset_calendar_token(zoe)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{zoe.calendar_token}.ics").status_code == 200


def test_real_invitations_read_right_in_icaljs_and_vobject_summer_and_winter(
    meeting, agenda, coordinator, make_meeting, make_ready_case
):
    """A 09:30 meeting on a July date is 08:30 UTC; on a January date, 09:30 UTC."""
    from datetime import UTC

    from tests.circulation.test_calendar import icaljs, vobject_read

    winter = make_meeting(date(2027, 1, 12), forum=meeting.forum)
    # An empty agenda is not circulated (issue 13).
    agendas.add_to_agenda(winter, make_ready_case("Cara", "Fox"), ItemKind.NEW_CASE, coordinator)
    services.circulate(meeting, coordinator)
    services.circulate(winter, coordinator)
    chair = meeting.forum.chair.email
    for each, expected in ((meeting, "2027-07-13T08:30:00"), (winter, "2027-01-12T09:30:00")):
        message = next(
            m for m in _messages() if m.meeting_id == each.id and m.recipient_email == chair
        )
        data = message.calendar.encode()
        parsed = icaljs(data)
        (event,) = parsed["events"]
        assert parsed["method"] == "REQUEST"
        assert event["start"].startswith(expected) and event["uid"] == events.meeting_uid(each)
        vevent = vobject_read(data).vevent
        assert vevent.dtstart.value.astimezone(UTC).isoformat().startswith(expected)
        assert int(vevent.sequence.value) == 0
