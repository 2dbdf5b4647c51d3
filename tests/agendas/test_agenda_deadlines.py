"""Issue 14 point 2: the builder shows each case's time rule where the decision is made, and
warns when the meeting being built is after it (seed 002 B3: the first meeting within 20
working days of the completed assessment, England bank holidays excluded; C1: reviews every 3
months), offering the earliest meeting of the district still in time, or a new one."""

import re
from datetime import date

import lxml.html
import pytest

from maf.agendas.deadlines import deadline_notes
from maf.agendas.models import ItemKind
from maf.cases.deadlines import first_meeting_deadline
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.forums.models import MeetingStatus
from maf.outcomes import late_reasons

NEW, REVIEW = ItemKind.NEW_CASE, ItemKind.REVIEW


def test_the_deadline_of_an_assessment_completed_on_1_december_2026_is_new_years_eve(database):
    """Seed 002 B3: 20 working days from Tuesday 1 December 2026 skip Christmas Day, the
    Boxing Day substitute (Monday 28 December), and the weekends."""
    assert first_meeting_deadline(date(2026, 12, 1)) == date(2026, 12, 31)


@pytest.fixture
def december_case(app_clock, make_ready_case):
    app_clock.london(date(2026, 12, 2), 9, 0)
    return make_ready_case(assessment_completed_on=date(2026, 12, 1))


@pytest.mark.parametrize(
    ("meeting_day", "warning"),
    [
        (date(2026, 12, 30), ""),  # the day before the deadline
        (date(2026, 12, 31), ""),  # on it
        # New Year's Day is a bank holiday and 2-3 January a weekend: one working day late.
        (
            date(2027, 1, 4),
            "This meeting is 1 working day after the first-meeting deadline (31 December 2026)",
        ),
        (
            date(2027, 1, 12),
            "This meeting is 7 working days after the first-meeting deadline (31 December 2026)",
        ),
    ],
)
def test_a_new_case_is_warned_only_when_the_meeting_is_after_its_first_meeting_deadline(
    december_case, make_meeting, meeting_day, warning
):
    meeting = make_meeting(meeting_day)
    note = deadline_notes(meeting, [(december_case, NEW)])[december_case.id]
    assert note.deadline_text == "First meeting by 31 December 2026"
    assert note.late == bool(warning)
    assert note.warning == warning


@pytest.mark.parametrize(
    ("meeting_day", "warning"),
    [
        (date(2027, 1, 4), ""),
        (date(2027, 1, 5), ""),
        (date(2027, 1, 6), "This meeting is 1 day after the review date (5 January 2027)"),
        (date(2027, 1, 12), "This meeting is 7 days after the review date (5 January 2027)"),
    ],
)
def test_a_review_is_warned_when_the_meeting_is_after_its_review_date(
    app_clock, make_ready_case, make_meeting, meeting_day, warning
):
    """Seed 002 C1: the review date the forum set (within 3 months of the last meeting)."""
    app_clock.london(date(2026, 12, 2), 9, 0)
    case = make_ready_case()
    case.status, case.next_review_on = CaseStatus.OPEN, date(2027, 1, 5)
    db.session.commit()
    note = deadline_notes(make_meeting(meeting_day), [(case, REVIEW)])[case.id]
    assert note.deadline_text == "Review due by 5 January 2027"
    assert note.warning == warning


def test_the_earliest_meeting_of_the_district_still_in_time_is_offered(
    december_case, make_forum, make_meeting, make_district, make_user
):
    """Any forum of the district counts (a targeted discussion is such an extra meeting);
    a meeting already past, cancelled, held, after the deadline or in another district
    does not."""
    from maf.auth.models import Role

    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    targeted = make_forum(name="Charnwood targeted discussions")
    make_meeting(date(2026, 12, 1), forum=targeted)  # before today
    make_meeting(date(2026, 12, 10), forum=targeted, status=MeetingStatus.CANCELLED)
    make_meeting(date(2026, 12, 11), forum=targeted, status=MeetingStatus.HELD)
    make_meeting(date(2027, 1, 5), forum=targeted)  # after the deadline
    melton = make_district("Melton")
    make_user(Role.COORDINATOR, email="melton@example.org", districts=[melton])
    make_meeting(date(2026, 12, 9), forum=make_forum(district=melton))
    in_time = make_meeting(date(2026, 12, 17), forum=targeted)
    make_meeting(date(2026, 12, 18), forum=forum)
    note = deadline_notes(meeting, [(december_case, NEW)])[december_case.id]
    assert note.in_time == in_time
    assert deadline_notes(in_time, [(december_case, NEW)])[december_case.id].late is False


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", lxml.html.fromstring(html).text_content()).strip()


def test_the_builder_warns_beside_the_case_and_links_to_the_meeting_in_time(
    december_case, client, sign_in, coordinator, make_forum, make_meeting
):
    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    targeted = make_meeting(date(2026, 12, 17), forum=make_forum(name="Targeted discussions"))
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    warning = lxml.html.fromstring(page).get_element_by_id(f"deadline-{december_case.id}")
    assert _text(lxml.html.tostring(warning, encoding="unicode")).startswith(
        "Late This meeting is 7 working days after the first-meeting deadline "
        "(31 December 2026). Add it to the meeting on 17 December 2026 (Targeted discussions)"
    )
    (link,) = [a for a in warning.iter("a") if "the meeting on" in a.text_content()]
    assert link.get("href") == f"/meetings/{targeted.id}/agenda/build"
    # The ready case's row shows the deadline itself, and its tick box is described by it.
    tick = lxml.html.fromstring(page).get_element_by_id(f"case-{december_case.id}")
    assert tick.get("aria-describedby") == f"deadline-{december_case.id}"
    assert "31 December 2026" in _text(page)


def test_with_no_meeting_in_time_the_builder_links_to_the_forums_meetings_and_to_record_why(
    december_case, client, sign_in, coordinator, make_meeting
):
    meeting = make_meeting(date(2027, 1, 12))
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    warning = lxml.html.fromstring(page).get_element_by_id(f"deadline-{december_case.id}")
    text = _text(lxml.html.tostring(warning, encoding="unicode"))
    assert "No meeting of the district's forums is planned by then: see the forum's meetings" in (
        text
    )
    links = {a.text_content().split(" ")[0]: a.get("href") for a in warning.iter("a")}
    assert links["see"] == f"/forums/{meeting.forum_id}#meetings"
    assert links["Record"] == (
        f"/cases/{december_case.id}/late-reason?rule=first_meeting"
        f"&next=/meetings/{meeting.id}/agenda/build"
    )


def test_a_reason_recorded_for_the_miss_is_shown_beside_the_warning(
    december_case, client, sign_in, coordinator, make_meeting
):
    meeting = make_meeting(date(2027, 1, 12))
    deadline = late_reasons.deadline_for(december_case, late_reasons.FIRST_MEETING)
    late_reasons.save_reason(
        december_case, deadline, "The family asked to wait until after Christmas", coordinator
    )
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    warning = lxml.html.fromstring(page).get_element_by_id(f"deadline-{december_case.id}")
    text = _text(lxml.html.tostring(warning, encoding="unicode"))
    assert "Why: The family asked to wait until after Christmas" in text
    assert "Record why" not in text


def test_an_item_already_on_the_agenda_is_offered_the_meeting_in_time_to_move_to(
    december_case, client, sign_in, coordinator, make_forum, make_meeting
):
    from maf.agendas import services

    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    make_meeting(date(2026, 12, 17), forum=forum)
    item = services.add_to_agenda(meeting, december_case, NEW, coordinator)
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    row = lxml.html.fromstring(page).get_element_by_id(f"item-{item.id}")
    assert (
        "Late This meeting is 7 working days after the first-meeting deadline (31 December "
        "2026). It could be heard in time at the meeting on 17 December 2026, for Jessica "
        "Thompson: take it off this agenda and add it there."
    ) in _text(lxml.html.tostring(row, encoding="unicode"))
