"""Who is coming, for the chair and the coordinators; the meeting record's attendance starts
from the answers (issue 17 point 2)."""

import re
from datetime import date

import pytest

from maf.answers import services
from maf.answers.models import AnswerSource, Response
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.services import active_members
from maf.outcomes import services as outcomes
from maf.outcomes.models import AttendanceStatus
from tests.answers.meeting import CHILD
from tests.conftest import PASSWORD, at_the_meeting, csrf_token_from, submit

MAYA, PRIYA, TOM = "maya.member@example.org", "priya.patel@example.org", "tom.reid@example.org"


@pytest.fixture
def answered(circulated):
    """Maya comes, Priya cannot, Tom sends Sam Okoro; the chair has not answered."""
    meeting = circulated.meeting
    for email, response, source, deputy in (
        (MAYA, Response.ATTENDING, AnswerSource.LINK, ""),
        (PRIYA, Response.NOT_ATTENDING, AnswerSource.CALENDAR, ""),
        (TOM, Response.DEPUTY, AnswerSource.LINK, "Sam Okoro"),
    ):
        invitation = services.invitation_for(meeting, email)
        services.record_answer(meeting, invitation, response, source, deputy_name=deputy)
    db.session.commit()
    return meeting


def _rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[re.sub(r"\s+", " ", cell).strip() for cell in row] for row in cells if row]


def test_the_coordinator_sees_who_is_coming(client, sign_in, coordinator, answered):
    sign_in(coordinator)
    page = client.get(f"/meetings/{answered.id}/answers")
    assert page.status_code == 200
    rows = {row[0]: row[1:4] for row in _rows(page.text)}
    assert rows == {
        "Maya Member": ["Attending", "", "Link in the email"],
        "Priya Patel": ["Not attending", "", "Calendar program"],
        "Tom Reid": ["Sending a deputy", "Sam Okoro", "Link in the email"],
    }  # not the chair, Margaret Okafor, who runs the meeting
    counts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Attending 1" in counts and "Not answered 0" in counts
    assert CHILD[0] not in page.text and CHILD[1] not in page.text


def test_the_chair_sees_who_is_coming_and_a_member_does_not(client, sign_in, answered, make_user):
    sign_in(answered.forum.chair)
    assert client.get(f"/meetings/{answered.id}/answers").status_code == 200
    member = make_user(email=MAYA, name="Maya Member")
    as_member = client.application.test_client()
    submit(as_member, "/sign-in", {"email": member.email, "password": PASSWORD})
    assert as_member.get(f"/meetings/{answered.id}/answers").status_code == 404


def _checked(html: str) -> dict[str, str]:
    """Each member's chosen attendance, by the radio button checked."""
    return dict(re.findall(r'name="member-(\d+)" type="radio" value="(\w+)" checked', html))


def test_the_attendance_starts_from_the_answers_until_it_is_saved(
    client, sign_in, coordinator, answered
):
    at_the_meeting(answered)
    sign_in(coordinator)
    members = {m.email: str(m.id) for m in active_members(answered.forum)}

    page = client.get(f"/meetings/{answered.id}/record/attendance")

    assert _checked(page.text) == {
        members[MAYA]: "present",
        members[PRIYA]: "apologies",
        members[TOM]: "apologies",  # sent a deputy
    }
    assert "Sam Okoro, Charnwood Housing" in page.text  # the deputy, a guest
    assert "Filled in from the members" in page.text
    assert outcomes.attendance_of(answered) == []  # nothing saved until the chair saves

    response = submit(
        client,
        f"/meetings/{answered.id}/record/attendance",
        {
            f"member-{members[MAYA]}": "absent",
            f"member-{members[PRIYA]}": "apologies",
            f"member-{members[TOM]}": "apologies",
            "guests": "Sam Okoro, Charnwood Housing",
        },
    )
    assert response.status_code == 302
    saved = client.get(f"/meetings/{answered.id}/record/attendance")
    assert _checked(saved.text)[members[MAYA]] == "absent"  # what was saved, not the answer
    assert "Filled in from the members" not in saved.text
    statuses = {a.name: a.status for a in outcomes.attendance_of(answered)}
    assert statuses["Sam Okoro"] == AttendanceStatus.PRESENT


def test_the_coordinator_records_an_answer_phoned_in(client, sign_in, coordinator, circulated):
    meeting = circulated.meeting
    sign_in(coordinator)
    page_url = f"/meetings/{meeting.id}/answers"
    tom = services.invitation_for(meeting, TOM)

    nobody = submit(client, page_url, {"invitation": "", "response": "attending"})
    assert nobody.status_code == 400
    assert (
        'id="invitation-error"' in nobody.text and "Select the member who answered" in nobody.text
    )
    unnamed = submit(client, page_url, {"invitation": str(tom.id), "response": "deputy"})
    assert unnamed.status_code == 400
    assert "Enter the name of the person coming in the member" in unnamed.text
    assert services.answers_by_email(meeting) == {}

    saved = submit(
        client,
        page_url,
        {"invitation": str(tom.id), "response": "deputy", "deputy_name": "Sam Okoro"},
        follow_redirects=True,
    )
    assert "The answer of Tom Reid is saved" in saved.text
    rows = {row[0]: row[1:4] for row in _rows(saved.text)}
    assert rows["Tom Reid"] == ["Sending a deputy", "Sam Okoro", "Recorded by the coordinator"]
    db.session.expire_all()
    answer = services.answer_for(meeting, TOM)
    assert answer.recorded_by_id == coordinator.id


def test_no_answer_is_recorded_once_the_meeting_is_over(
    client, sign_in, coordinator, circulated, app_clock
):
    meeting = circulated.meeting
    app_clock(services.meeting_ends_at(meeting))
    sign_in(coordinator)
    page_url = f"/meetings/{meeting.id}/answers"
    page = client.get(page_url)
    assert "Answers can no longer be recorded" in page.text
    tom = services.invitation_for(meeting, TOM)
    late = client.post(
        page_url,
        data={
            "csrf_token": csrf_token_from(page.text),
            "invitation": str(tom.id),
            "response": "attending",
        },
    )
    assert late.status_code == 409
    assert "Answers can no longer be recorded: the meeting is over" in late.text
    assert services.answers_by_email(meeting) == {}


def test_an_answer_given_before_the_meeting_moved_says_so(
    client, sign_in, coordinator, answered, app_clock
):
    app_clock.london(date(2026, 12, 10), 10)
    forums.reschedule_meeting(
        answered,
        day=date(2027, 4, 13),
        start_time=answered.start_time,
        venue=answered.venue,
        reason="The venue is closed for repairs",
        user=coordinator,
    )
    app_clock.london(date(2026, 12, 11), 10)
    services.record_answer(
        answered, services.invitation_for(answered, PRIYA), Response.ATTENDING, AnswerSource.LINK
    )
    db.session.commit()
    sign_in(coordinator)
    rows = {row[0]: row[4] for row in _rows(client.get(f"/meetings/{answered.id}/answers").text)}
    assert rows["Maya Member"].endswith(", before the meeting moved")
    assert rows["Priya Patel"] == "11 December 2026, 10:00"  # answered again since
