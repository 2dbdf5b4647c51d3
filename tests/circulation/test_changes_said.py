"""Changes said plainly (issue 17, point 4): a reschedule email says what changed, before and
after, and why, and that an updated agenda is waiting when its times moved; a cancelled slot
states its time; a cancelled meeting's pages say so; the personal calendar feed holds the
meetings a person organises or chairs as well as those they are invited to."""

from datetime import date, time, timedelta

import icalendar
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.auth.models import Role
from maf.circulation import events, services
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.notifications.models import EmailPreference
from tests.circulation import test_circulation, test_secure_circulation
from tests.circulation.test_secure_circulation import AGENDA_CHILDREN

meeting, agenda = test_circulation.meeting, test_circulation.agenda
admin, secure = test_secure_circulation.admin, test_secure_circulation.secure
mixed = test_secure_circulation.mixed


def _messages(after_id: int = 0) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
        )
    )


def _last_id() -> int:
    return max((m.id for m in _messages()), default=0)


def _to(messages, email) -> OutboxMessage:
    (message,) = [m for m in messages if m.recipient_email == email]
    return message


def _names_no_child(messages) -> None:
    for message in messages:
        text = " ".join((message.subject, message.text_body, message.html_body))
        assert not [word for word in AGENDA_CHILDREN if word in text], message.subject


def test_a_reschedule_email_says_what_changed_before_and_after_and_why(
    meeting, agenda, coordinator
):
    services.circulate(meeting, coordinator)
    before = _last_id()
    forums.reschedule_meeting(
        meeting,
        day=date(2027, 7, 20),
        start_time=time(10, 0),
        venue="Loughborough Town Hall",
        reason="The council offices are closed for the election count",
        user=coordinator,
    )

    report = services.circulate(meeting, coordinator)

    sent = _messages(before)
    zoe = _to(sent, "zoe@example.org")
    assert zoe.subject == "Changed: Charnwood multi-agency forum, 20 July 2027"
    assert zoe.calendar_method == "REQUEST"
    for line in (
        "- Date: 13 July 2027 -> 20 July 2027",
        "- Start time: 09:30 -> 10:00",
        "- Venue: Loughborough Council Offices, Room 2 -> Loughborough Town Hall",
        "Why: The council offices are closed for the election count",
    ):
        assert line in zoe.text_body
    assert "20 July 2027 &rarr; " not in zoe.html_body
    assert "13 July 2027 &rarr; <strong>20 July 2027</strong>" in zoe.html_body
    # The slots' times moved with the start: an updated agenda is waiting, by link.
    assert "an updated agenda is waiting, 2 new cases" in zoe.text_body
    assert zoe.documents == "link" and zoe.attachments == []
    assert report.meeting_updates == 3
    _names_no_child(sent)

    # Circulated again with nothing changed since: nothing is sent, nor said twice.
    before = _last_id()
    assert services.circulate(meeting, coordinator).messages == 0
    forums.reschedule_meeting(
        meeting,
        day=meeting.date,
        start_time=meeting.start_time,
        venue="Loughborough Library",
        reason="The hall is double-booked",
        user=coordinator,
    )
    services.circulate(meeting, coordinator)
    again = _to(_messages(before), "zoe@example.org")
    assert "- Venue: Loughborough Town Hall -> Loughborough Library" in again.text_body
    assert "Date:" not in again.text_body and "election" not in again.text_body
    # Only the venue moved: the agenda's times did not, so no updated agenda is announced.
    assert "updated agenda" not in again.text_body and again.documents == ""


def test_a_moved_meeting_sends_secure_domains_the_updated_agenda_attached(
    mixed, agenda, coordinator, secure
):
    services.circulate(mixed, coordinator)
    before = _last_id()
    forums.reschedule_meeting(
        mixed,
        day=date(2027, 7, 20),
        start_time=mixed.start_time,
        venue=mixed.venue,
        reason="The chair is on leave",
        user=coordinator,
    )

    report = services.circulate(mixed, coordinator)

    sent = _messages(before)
    sam = _to(sent, "sam.patel@mft.nhs.net")
    assert sam.subject == "OFFICIAL-SENSITIVE: Changed: Charnwood multi-agency forum, 20 July 2027"
    (attachment,) = sam.attachments
    assert attachment.filename.startswith("charnwood-multi-agency-forum-agenda-2027-07-20-v")
    assert sam.documents == "attachment" and "The document is attached" in sam.text_body
    zoe = _to(sent, "zoe@example.org")
    assert zoe.subject == "Changed: Charnwood multi-agency forum, 20 July 2027"
    assert zoe.documents == "link" and zoe.attachments == []
    assert (report.by_link, report.attached) == (3, 2)
    _names_no_child(sent)


def test_new_breaks_send_the_updated_agenda_with_the_change(meeting, agenda, coordinator):
    services.circulate(meeting, coordinator)
    before = _last_id()
    forums.reschedule_meeting(
        meeting,
        day=meeting.date,
        start_time=meeting.start_time,
        venue=meeting.venue,
        reason="A break for the room change",
        user=coordinator,
        breaks=[(time(9, 50), 15)],
    )

    services.circulate(meeting, coordinator)

    paul = _to(
        [m for m in _messages(before) if m.dedupe_key.startswith("agenda:")], "paul@example.org"
    )
    assert paul.subject == "Changed: Charnwood multi-agency forum, 13 July 2027"
    assert "- Breaks: " in paul.text_body and "-> 09:50 for 15 minutes" in paul.text_body
    assert "Why: A break for the room change" in paul.text_body
    assert "an updated agenda is waiting" in paul.text_body
    assert paul.documents == "link"


def test_a_cancelled_slot_states_its_time(meeting, agenda, coordinator):
    _, second = agenda
    services.circulate(meeting, coordinator)
    before = _last_id()
    agendas.remove_from_agenda(second, coordinator)

    services.circulate(meeting, coordinator)

    eve = _to(_messages(before), "eve@example.org")
    assert eve.subject == "Slot cancelled: Charnwood multi-agency forum, 13 July 2027"
    assert (
        "Your slot from 09:50 to 10:10 at the Charnwood multi-agency forum "
        "on Tuesday 13 July 2027 is cancelled"
    ) in eve.text_body
    assert "09:50 to 10:10" in eve.html_body
    _names_no_child([eve])


def test_a_cancelled_meetings_pages_say_when_and_why(
    meeting, agenda, coordinator, app_clock, client, sign_in
):
    app_clock.london(date(2027, 7, 1), 9, 0)
    services.circulate(meeting, coordinator)
    for item in agenda:
        agendas.remove_from_agenda(item, coordinator)
    services.cancel_meeting(meeting, "The venue flooded", coordinator)

    sign_in(coordinator)
    for page in (f"/meetings/{meeting.id}/agenda", f"/meetings/{meeting.id}/agenda/build"):
        body = client.get(page).text
        body = body[body.index('id="main-content"') :]
        banner = body.index("This meeting was cancelled on 1 July 2027: The venue flooded")
        assert banner < body.index("<h1"), page
    # A meeting going ahead has no such banner.
    other = forums.new_meeting(meeting.forum, date(2027, 10, 12))
    db.session.add(other)
    db.session.commit()
    assert "This meeting was cancelled" not in client.get(f"/meetings/{other.id}/agenda").text


def test_the_feed_holds_meetings_chaired_or_organised_once(meeting, agenda, coordinator, make_user):
    chair = meeting.forum.chair
    outsider = make_user(Role.COORDINATOR, name="Oscar Other")
    uid = events.meeting_uid(meeting)

    def events_in(user) -> list[str]:
        calendar = icalendar.Calendar.from_ical(services.calendar_feed(user))
        return [str(event["UID"]) for event in calendar.walk("VEVENT")]

    # Not yet circulated: nobody holds an invitation, yet the chair and coordinator see it.
    assert events_in(chair).count(uid) == 1
    assert events_in(coordinator).count(uid) == 1
    assert uid not in events_in(outsider)

    services.circulate(meeting, coordinator)
    # The chair now holds an invitation too: still once.
    assert events_in(chair).count(uid) == 1
    assert events_in(coordinator).count(uid) == 1


def test_the_day_before_reminder_respects_a_member_who_turned_it_off(
    meeting, agenda, coordinator, make_user
):
    zoe = make_user(name="Zoë Brennan", email="zoe@example.org")
    db.session.add(EmailPreference(user_id=zoe.id, kind="meeting_reminder", choice="off"))
    db.session.commit()
    services.circulate(meeting, coordinator)
    before = _last_id()

    services.queue_reminders(meeting.date - timedelta(days=1))

    reminded = {m.recipient_email for m in _messages(before) if m.subject.startswith("Tomorrow")}
    assert reminded == {"paul@example.org", meeting.forum.chair.email}
    _names_no_child(_messages(before))
