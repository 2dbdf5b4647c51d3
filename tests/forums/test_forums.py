"""Forum set-up, membership, the meeting schedule and who may see what (seed 004: five
district forums, about four meetings a year, 20-30 agency members)."""

import re
from datetime import date, time

import pytest

from maf.auth.models import Role
from maf.forums import services
from maf.forums.models import MeetingStatus, MemberRole
from tests.conftest import PASSWORD, submit


def test_a_year_of_meetings_from_the_pattern(make_forum, coordinator):
    forum = make_forum(weekday=1, week_of_month=2, months=[1, 4, 7, 10])
    created = services.generate_schedule(forum, 2027, coordinator)
    # The second Tuesdays of January, April, July and October 2027.
    assert [m.date for m in created] == [
        date(2027, 1, 12),
        date(2027, 4, 13),
        date(2027, 7, 13),
        date(2027, 10, 12),
    ]
    assert all(m.start_time == forum.start_time and m.venue == forum.venue for m in created)
    assert services.generate_schedule(forum, 2027, coordinator) == [], "idempotent"
    assert created[0].changes[0].what == "created"


def test_last_weekday_pattern(make_forum):
    forum = make_forum(weekday=3, week_of_month=-1, months=[3])
    assert services.meeting_dates(forum, 2027) == [date(2027, 3, 25)]


def test_a_moved_meeting_is_not_created_again(make_forum, coordinator):
    forum = make_forum(months=[1])
    (meeting,) = services.generate_schedule(forum, 2027, coordinator)
    services.reschedule_meeting(
        meeting,
        day=date(2027, 1, 19),
        start_time=time(13, 0),
        venue="Melton Library",
        reason="Room double-booked",
        user=coordinator,
    )
    assert services.generate_schedule(forum, 2027, coordinator) == []
    whats = [(c.what, c.before, c.after) for c in meeting.changes[1:]]
    assert whats == [
        ("date", "12 January 2027", "19 January 2027"),
        ("start time", "09:30", "13:00"),
        ("venue", "Loughborough Council Offices, Room 2", "Melton Library"),
    ]
    assert meeting.changes[1].reason == "Room double-booked"


def test_cancelling_keeps_the_meeting_and_needs_a_reason(make_meeting, coordinator):
    meeting = make_meeting()
    with pytest.raises(services.ForumError, match="Enter why"):
        services.cancel_meeting(meeting, " ", coordinator)
    services.cancel_meeting(meeting, "Chair unwell", coordinator)
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.changes[-1].reason == "Chair unwell"
    with pytest.raises(services.ForumError, match="cannot be changed"):
        services.reschedule_meeting(
            meeting,
            day=date(2027, 2, 1),
            start_time=time(9),
            venue="x",
            reason="",
            user=coordinator,
        )


def test_meeting_status_moves_forward_only(make_meeting, coordinator):
    meeting = make_meeting()
    for to in (
        MeetingStatus.AGENDA_CIRCULATED,
        MeetingStatus.HELD,
        MeetingStatus.MINUTES_CIRCULATED,
    ):
        services.change_meeting_status(meeting, to, coordinator)
    with pytest.raises(services.ForumError):
        services.change_meeting_status(meeting, MeetingStatus.PLANNED, coordinator)


def test_members_are_linked_to_accounts_and_removal_keeps_the_record(
    make_forum, make_user, make_agency, coordinator
):
    forum = make_forum()
    nurse = make_user(Role.PRACTITIONER, email="zoe.brennan@example.org")
    member = services.add_member(
        forum,
        name="Zoë Brennan",
        email="Zoe.Brennan@Example.org",
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    assert member.user == nurse and services.is_member(nurse, forum)
    with pytest.raises(services.ForumError, match="already a member"):
        services.add_member(
            forum,
            name="Zoë",
            email="zoe.brennan@example.org",
            agency=member.agency,
            role=MemberRole.OBSERVER,
            user=coordinator,
        )
    services.remove_member(member, coordinator)
    assert not services.is_member(nurse, forum)
    assert member in forum.members


def test_breaks_must_start_after_the_meeting(make_forum):
    with pytest.raises(services.ForumError, match="after the meeting starts"):
        make_forum(start_time=time(9, 30), breaks=[(time(9, 0), 15)])


def test_pattern_is_described_in_words(make_forum):
    forum = make_forum(months=[1, 4, 7, 10], length_minutes=210)
    assert services.pattern_text(forum) == (
        "Second Tuesday of January, April, July and October, 09:30 for 3 hours 30 minutes"
    )


def _signed_in(app, user):
    browser = app.test_client()
    submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    return browser


def test_members_see_the_agenda_and_non_members_get_404(
    app, make_meeting, make_user, make_agency, make_district, coordinator
):
    """The agenda names children: only the forum's members, chair and coordinators see it."""
    meeting = make_meeting()
    member = make_user(Role.PRACTITIONER, email="member@example.org")
    services.add_member(
        meeting.forum,
        name="Member",
        email="member@example.org",
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    outsider = make_user(Role.PRACTITIONER, districts=coordinator.districts)
    other_coordinator = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    admin = make_user(Role.ADMIN)
    chair = meeting.forum.chair
    urls = (f"/meetings/{meeting.id}/agenda", f"/meetings/{meeting.id}/agenda.docx")
    for user in (member, chair, coordinator):
        browser = _signed_in(app, user)
        assert [browser.get(url).status_code for url in urls] == [200, 200], user.email
    for user in (outsider, other_coordinator, admin):
        browser = _signed_in(app, user)
        assert [browser.get(url).status_code for url in urls] == [404, 404], user.email
    assert _signed_in(app, member).get(f"/meetings/{meeting.id}/agenda/build").status_code == 403


def test_forum_set_up_through_the_form(client, coordinator, make_user, sign_in):
    make_user(Role.CHAIR, name="Margaret Okafor")
    sign_in(coordinator)
    page = client.get("/forums/new").text
    assert "Set up a forum" in page
    from tests.conftest import csrf_token_from

    response = client.post(
        "/forums/new",
        data={
            "csrf_token": csrf_token_from(page),
            "district": str(coordinator.districts[0].id),
            "name": "Charnwood MAF",
            "venue": "Loughborough Town Hall",
            "chair": "0",
            "coordinator": str(coordinator.id),
            "week_of_month": "2",
            "weekday": "1",
            "months": ["1", "4", "7", "10"],
            "start_time": "9.30",
            "length_minutes": "240",
            "new_case_minutes": "20",
            "review_minutes": "5",
            "new_case_capacity": "10",
            "review_capacity": "30",
            "break_1_starts_at": "11:00",
            "break_1_minutes": "",
        },
    )
    assert response.status_code == 200
    assert "Enter both the start time and the length of the break" in response.text
    assert 'value="11:00"' in response.text, "nothing typed is lost"


def test_coordinators_cannot_set_up_forums_in_other_districts(
    client, coordinator, make_district, sign_in
):
    melton = make_district("Melton")
    sign_in(coordinator)
    page = client.get("/forums/new").text
    districts = re.search(r'<select[^>]*name="district"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert f'value="{melton.id}"' not in districts
    assert f'value="{coordinator.districts[0].id}"' in districts
