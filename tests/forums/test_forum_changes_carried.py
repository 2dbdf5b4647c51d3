"""A forum's usual start time, length, venue or breaks changed (issue 14 point 3): offered to
its meetings not yet circulated, which say so in their history and calendars; meetings whose
agenda went out keep theirs until rescheduled explicitly; past, held and cancelled meetings
never change. Each meeting keeps its own breaks, so a forum's new breaks cannot retime an
agenda already circulated."""

import re
from datetime import date, time

import icalendar
import pytest
from sqlalchemy import func, select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.auth.models import Role
from maf.circulation import services as circulation
from maf.extensions import db
from maf.forums import services
from maf.forums.models import MeetingChange, MeetingStatus, MemberRole
from tests.app.test_lost_updates import forum_form_data
from tests.conftest import csrf_token_from, submit, version_from

FEBRUARY = date(2027, 2, 15)


@pytest.fixture
def year(app_clock, coordinator, make_forum, make_meeting, make_ready_case, make_agency, make_user):
    """January's meeting is past; April's agenda has been circulated; July's is being built.
    Each agenda has two new cases (20 minutes each)."""
    app_clock.london(FEBRUARY, 10, 0)
    forum = make_forum(breaks=[(time(11, 0), 15)])
    zoe = make_user(Role.PRACTITIONER, name="Zoë Brennan", email="zoe@example.org")
    services.add_member(
        forum,
        name="Zoë Brennan",
        email=zoe.email,
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    meetings = {
        month: make_meeting(date(2027, month, 12 if month == 1 else 13), forum=forum)
        for month in (1, 4, 7)
    }
    people = iter(
        [
            ("Amy", "Lee", "LE11 1AA"),
            ("Ben", "Ward", "LE12 2BB"),
            ("Cara", "Fox", "LE11 4RT"),
            ("Dan", "Patel", "LE11 5XY"),
        ]
    )
    for month in (4, 7):
        for _ in range(2):
            given, family, postcode = next(people)
            case = make_ready_case(given, family, date(2014, 3, 2), postcode)
            agendas.add_to_agenda(meetings[month], case, ItemKind.NEW_CASE, coordinator)
    circulation.circulate(meetings[4], coordinator)
    return forum, meetings, zoe


def forum_form(forum, **changes) -> dict:
    """The forum's edit form as it stands, breaks included, with `changes`."""
    breaks = {}
    for number, forum_break in enumerate(forum.breaks, start=1):
        breaks[f"break_{number}_starts_at"] = f"{forum_break.starts_at:%H:%M}"
        breaks[f"break_{number}_minutes"] = str(forum_break.minutes)
    return forum_form_data(forum, **{**breaks, **changes})


def answered(question_html: str, answer: str) -> dict:
    """What the question page posts when `answer` is chosen: its own token and version."""
    return {
        "apply": answer,
        "csrf_token": csrf_token_from(question_html),
        "version": version_from(question_html),
    }


def slot_times(client, meeting) -> list[str]:
    page = client.get(f"/meetings/{meeting.id}/agenda").text
    return re.findall(r"\d\d:\d\d–\d\d:\d\d", page)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def changes_of(meeting) -> list[tuple[str, str, str, str]]:
    db.session.expire_all()
    return [
        (c.what, c.before, c.after, c.reason)
        for c in meeting.changes
        if c.what not in ("created", "status")
    ]


def feed_starts(client, zoe) -> dict[str, str]:
    feed = icalendar.Calendar.from_ical(client.get(f"/calendar/{zoe.calendar_token}.ics").data)
    return {
        f"{event['DTSTART'].dt:%Y-%m-%d}": f"{event['DTSTART'].dt:%H:%M}"
        for event in feed.walk("VEVENT")
        if str(event["UID"]).startswith("meeting-")
    }


def test_a_new_start_time_moves_the_planned_meeting_only_when_asked(
    client, sign_in, coordinator, year
):
    forum, meetings, zoe = year
    sign_in(coordinator)
    assert slot_times(client, meetings[7])[:2] == ["09:30–09:50", "09:50–10:10"]
    sequence = meetings[7].calendar_sequence

    saved = submit(
        client,
        f"/forums/{forum.id}/edit",
        forum_form(forum, start_time="13:00", break_1_starts_at="14:30"),
    )
    assert saved.status_code == 302
    question = client.get(saved.headers["Location"])
    page = text_of(question.text)
    assert "Apply the new start time and breaks to the 1 meeting not yet circulated?" in page
    assert "Tuesday 13 July 2027 Start time 09:30 13:00" in page
    # April's agenda went out: listed with the way to change it, not changed here.
    assert "Meetings whose agenda has been circulated" in page
    assert "Tuesday 13 April 2027 Start time 09:30 13:00" in page
    assert f'href="/meetings/{meetings[4].id}/edit">Reschedule' in question.text
    assert "January 2027" not in page, "a past meeting is not offered"

    done = submit(client, saved.headers["Location"], {"apply": "yes"}, follow_redirects=True)
    assert "1 meeting changed: Tuesday 13 July 2027." in text_of(done.text)

    assert slot_times(client, meetings[7])[:2] == ["13:00–13:20", "13:20–13:40"]
    assert slot_times(client, meetings[4])[:2] == ["09:30–09:50", "09:50–10:10"]
    assert changes_of(meetings[7]) == [
        ("start time", "09:30", "13:00", "The forum's usual start time and breaks changed"),
        (
            "breaks",
            "11:00 for 15 minutes",
            "14:30 for 15 minutes",
            "The forum's usual start time and breaks changed",
        ),
    ]
    assert meetings[7].calendar_sequence == sequence + 1
    assert changes_of(meetings[4]) == changes_of(meetings[1]) == []
    assert (meetings[1].start_time, meetings[4].start_time) == (time(9, 30), time(9, 30))

    # Zoë's calendar: April as it was sent; July, once its agenda goes out, at 13:00.
    circulation.circulate(meetings[7], coordinator)
    assert feed_starts(client, zoe) == {"2027-04-13": "09:30", "2027-07-13": "13:00"}


def test_new_breaks_retime_only_the_agenda_not_yet_circulated(client, sign_in, coordinator, year):
    """Breaks were the forum's: changing them retimed April's circulated agenda unseen."""
    forum, meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(client, f"/forums/{forum.id}/edit", forum_form(forum, break_1_starts_at="10:00"))
    assert saved.headers["Location"].endswith("/meetings/follow?changed=breaks")
    # Saved, not yet applied: no agenda has moved.
    assert slot_times(client, meetings[4])[:2] == ["09:30–09:50", "09:50–10:10"]
    assert slot_times(client, meetings[7])[:2] == ["09:30–09:50", "09:50–10:10"]

    submit(client, saved.headers["Location"], {"apply": "yes"})

    # The second case would run past 10:00: the break is taken before it.
    assert slot_times(client, meetings[7]) == ["09:30–09:50", "09:50–10:05", "10:05–10:25"]
    assert slot_times(client, meetings[4]) == ["09:30–09:50", "09:50–10:10"]
    assert meetings[7].calendar_sequence == meetings[4].calendar_sequence, "breaks are not sent"


def test_no_keeps_every_meeting_as_it_was(client, sign_in, coordinator, year):
    forum, meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(
        client, f"/forums/{forum.id}/edit", forum_form(forum, venue="Loughborough Town Hall")
    )
    done = submit(client, saved.headers["Location"], {"apply": "no"}, follow_redirects=True)
    assert "future meetings keep their times, venue and breaks" in text_of(done.text)
    db.session.expire_all()
    assert forum.venue == "Loughborough Town Hall"
    assert {m.venue for m in meetings.values()} == {"Loughborough Council Offices, Room 2"}
    assert all(changes_of(m) == [] for m in meetings.values())


def test_an_unanswered_question_says_what_to_choose(client, sign_in, coordinator, year):
    forum, _meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(client, f"/forums/{forum.id}/edit", forum_form(forum, length_minutes="180"))
    refused = submit(client, saved.headers["Location"], {})
    assert refused.status_code == 400
    assert "Select yes to change these meetings, or no" in refused.text


def test_applying_twice_records_one_change_per_meeting(client, sign_in, coordinator, year):
    """A double click, or Back and submit again: the second finds nothing left to change."""
    forum, meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(
        client,
        f"/forums/{forum.id}/edit",
        forum_form(forum, venue="Loughborough Town Hall", length_minutes="180"),
    )
    question = client.get(saved.headers["Location"]).text
    sent = answered(question, "yes")
    first = client.post(saved.headers["Location"], data=sent, follow_redirects=True)
    again = client.post(saved.headers["Location"], data=sent, follow_redirects=True)

    assert "1 meeting changed: Tuesday 13 July 2027." in text_of(first.text)
    assert "No meeting needed changing" in text_of(again.text)
    reason = "The forum's usual length and venue changed"
    assert changes_of(meetings[7]) == [
        ("length", "240 minutes", "180 minutes", reason),
        ("venue", "Loughborough Council Offices, Room 2", "Loughborough Town Hall", reason),
    ]
    moved = select(func.count()).where(MeetingChange.what.in_(["length", "venue"]))
    assert db.session.scalar(moved) == 2, "July's two changes, once; no other meeting's"


def test_a_forum_changed_again_since_the_question_is_not_applied_unseen(
    client, sign_in, coordinator, year, make_user
):
    forum, meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(client, f"/forums/{forum.id}/edit", forum_form(forum, start_time="10:00"))
    question = client.get(saved.headers["Location"]).text
    # Someone else makes it 10:30 after this page was drawn.
    other = make_user(Role.COORDINATOR, name="Priya Shah", districts=[forum.district])
    details = services.details_of(forum)
    details.start_time = time(10, 30)
    services.save_forum(forum, details, other)

    refused = client.post(
        saved.headers["Location"],
        data=answered(question, "yes"),
    )
    assert refused.status_code == 409
    assert "Priya Shah saved changes" in text_of(refused.text)
    assert "Tuesday 13 July 2027 Start time 09:30 10:30" in text_of(refused.text)
    assert changes_of(meetings[7]) == []


def test_held_cancelled_and_started_meetings_never_change(
    app_clock, coordinator, make_forum, make_meeting
):
    forum = make_forum()
    today = make_meeting(date(2027, 7, 13), forum=forum)
    held = make_meeting(date(2027, 7, 14), forum=forum, status=MeetingStatus.HELD)
    cancelled = make_meeting(date(2027, 7, 15), forum=forum, status=MeetingStatus.CANCELLED)
    details = services.details_of(forum)
    details.venue = "Loughborough Town Hall"
    services.save_forum(forum, details, coordinator)

    app_clock.london(date(2027, 7, 13), 9, 30)  # today's meeting has just started
    assert services.carry_plan(forum, ["venue"]).to_change == []
    app_clock.london(date(2027, 7, 13), 9, 29)  # a minute before, it is still to come
    plan = services.carry_plan(forum, ["venue"])
    assert [following.meeting for following in plan.to_change] == [today]

    assert services.carry_to_meetings(forum, ["venue"], coordinator) == [today]
    assert (held.venue, cancelled.venue) == ("Loughborough Council Offices, Room 2",) * 2
    assert today.venue == "Loughborough Town Hall"


def test_every_way_of_making_a_meeting_copies_the_forums_breaks(make_forum, coordinator):
    forum = make_forum(breaks=[(time(11, 0), 15), (time(12, 30), 30)])
    (meeting,) = services.generate_schedule(forum, 2027, coordinator)[:1]
    assert [(b.starts_at, b.minutes) for b in meeting.breaks] == [
        (time(11, 0), 15),
        (time(12, 30), 30),
    ]


def test_a_circulated_meeting_is_rescheduled_from_its_own_page_breaks_included(
    client, sign_in, coordinator, year
):
    """The question's Reschedule link: the meeting's page changes its time, length and
    breaks too, and the builder then says the circulated agenda is out of date."""
    forum, meetings, _zoe = year
    april = meetings[4]
    sign_in(coordinator)
    page = client.get(f"/meetings/{april.id}/edit").text
    assert 'name="break_1_starts_at" type="text" value="11:00"' in page
    assert 'name="length_minutes" type="text" value="240"' in page

    moved = submit(
        client,
        f"/meetings/{april.id}/edit",
        {
            "date": ["13", "4", "2027"],
            "start_time": "09:30",
            "length_minutes": "180",
            "venue": april.venue,
            "break_1_starts_at": "10:00",
            "break_1_minutes": "15",
            "reason": "The forum's new break",
        },
    )
    assert moved.status_code == 302
    assert slot_times(client, april) == ["09:30–09:50", "09:50–10:05", "10:05–10:25"]
    assert changes_of(april) == [
        ("length", "240 minutes", "180 minutes", "The forum's new break"),
        ("breaks", "11:00 for 15 minutes", "10:00 for 15 minutes", "The forum's new break"),
    ]
    assert circulation.changes_not_circulated(april)
    builder = client.get(f"/meetings/{april.id}/agenda/build").text
    assert "has changed since it was circulated" in builder


def test_a_break_before_the_meeting_starts_is_refused_beside_the_field(
    client, sign_in, coordinator, make_meeting
):
    meeting = make_meeting(date(2027, 7, 13))
    sign_in(coordinator)
    refused = submit(
        client,
        f"/meetings/{meeting.id}/edit",
        {
            "date": ["13", "7", "2027"],
            "start_time": "13:00",
            "venue": meeting.venue,
            "break_1_starts_at": "11:00",
            "break_1_minutes": "15",
        },
    )
    assert "A break must start after the meeting starts" in refused.text
    assert changes_of(meeting) == []


def test_after_no_the_forum_page_offers_the_question_again(client, sign_in, coordinator, year):
    forum, meetings, _zoe = year
    sign_in(coordinator)
    saved = submit(client, f"/forums/{forum.id}/edit", forum_form(forum, venue="Town Hall"))
    assert saved.headers["Location"].endswith("/meetings/follow?changed=venue")
    forum_page = submit(client, saved.headers["Location"], {"apply": "no"}, follow_redirects=True)
    assert (
        "1 meeting not yet circulated has a start time, length, venue or breaks other than the "
        "forum's usual ones. Check it and apply the forum's usual ones"
    ) in text_of(forum_page.text)

    question = client.get(f"/forums/{forum.id}/meetings/follow").text
    assert "Tuesday 13 July 2027 Venue Loughborough Council Offices, Room 2 Town Hall" in (
        text_of(question)
    )
    submit(client, f"/forums/{forum.id}/meetings/follow", {"apply": "yes"})
    assert "not yet circulated has a start time" not in client.get(f"/forums/{forum.id}").text
    db.session.expire_all()
    assert meetings[7].venue == "Town Hall"
