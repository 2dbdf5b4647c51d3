"""Time respected (issue 13; DESIGN §4 "Nothing false"): a meeting is not recorded as held, nor
its minutes approved, before it starts. Found: a meeting dated 12 January 2027 was completed on
2 December 2026, a case was closed and another stepped up, the board report counted the closure,
and the minutes were "approved" before the meeting took place."""

import re
from datetime import date

import pytest

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.cases import services as case_services
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.forums.models import MeetingStatus
from maf.outcomes import minutes as minutes_service
from maf.outcomes import services
from maf.outcomes.models import ClosureReason, MinutesStatus, Outcome
from maf.reports.figures import Period, monthly_counts, totals

JANUARY_12 = date(2027, 1, 12)  # the forum's meeting, 09:30 (the forum's start time)
NOT_YET = (
    "This meeting is on 12 January 2027 at 09:30: it can be recorded as held once it has started"
)


@pytest.fixture
def january(make_meeting, app_clock):
    app_clock.london(date(2026, 12, 2), 10, 0)
    return make_meeting(JANUARY_12)


@pytest.fixture
def recorded(january, make_ready_case, coordinator):
    """A sign-off recorded as closing and a new case recorded as stepping up, all saved."""
    closing = make_ready_case("Dan", "Ng", date(2011, 5, 4), "LE14 4DD")
    closing.status = CaseStatus.OPEN
    db.session.commit()
    stepping = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    services.save_item_record(
        agendas.add_to_agenda(january, closing, ItemKind.SIGN_OFF, coordinator),
        services.ItemDetails(outcome=Outcome.CLOSE, closure_reason=ClosureReason.NEEDS_MET),
        coordinator,
    )
    services.save_item_record(
        agendas.add_to_agenda(january, stepping, ItemKind.NEW_CASE, coordinator),
        services.ItemDetails(outcome=Outcome.STEP_UP, outcome_notes="Disclosure of harm"),
        coordinator,
    )
    return closing, stepping


def _closures_in_january(district_id):
    (month,) = monthly_counts(Period(JANUARY_12.replace(day=1), date(2027, 1, 31)), district_id)
    return month.closed


def test_a_meeting_next_month_cannot_be_recorded_as_held_today(january, recorded, coordinator):
    closing, stepping = recorded
    district_id = closing.district_id

    with pytest.raises(services.OutcomeError) as refused:
        services.complete_meeting(january, coordinator)
    db.session.rollback()

    assert str(refused.value) == NOT_YET
    assert january.status == MeetingStatus.PLANNED
    assert closing.status == CaseStatus.OPEN and closing.closed_on is None, "not closed"
    assert stepping.status == CaseStatus.ON_AGENDA, "not stepped up"
    assert minutes_service.current_minutes(january) is None
    assert _closures_in_january(district_id) == 0, "the board report counts no closure"


@pytest.mark.parametrize(
    ("day", "hour", "minute", "held"),
    [
        (date(2027, 1, 11), 17, 0, False),  # the day before
        (JANUARY_12, 9, 29, False),  # the same day, a minute before it starts
        (JANUARY_12, 9, 30, True),  # as it starts
        (date(2027, 1, 13), 8, 0, True),  # the day after
    ],
)
def test_it_can_be_recorded_as_held_once_it_has_started(
    january, recorded, coordinator, app_clock, day, hour, minute, held
):
    closing, _ = recorded
    app_clock.london(day, hour, minute)
    if not held:
        with pytest.raises(services.OutcomeError, match="once it has started"):
            services.complete_meeting(january, coordinator)
        db.session.rollback()
        assert january.status == MeetingStatus.PLANNED
        return
    services.complete_meeting(january, coordinator)
    assert january.status == MeetingStatus.HELD
    # Closed at the sign-off meeting (seed 002 D1), whichever day the record was completed.
    assert closing.status == CaseStatus.CLOSED and closing.closed_on == JANUARY_12
    assert _closures_in_january(closing.district_id) == 1


def test_the_record_page_says_when_it_can_be_completed(
    client, sign_in, january, recorded, coordinator, app_clock
):
    sign_in(coordinator)
    page = client.get(f"/meetings/{january.id}/record").text
    assert "it can be recorded as held once it has started" in page
    assert "Complete the meeting record" not in page
    # A post from a page opened earlier (or crafted) is refused and says why.
    refused = client.post(f"/meetings/{january.id}/complete", data={"csrf_token": _token(page)})
    assert refused.status_code == 409 and NOT_YET in refused.text
    assert recorded[0].status == CaseStatus.OPEN

    app_clock.london(JANUARY_12, 9, 30)
    _sign_in_again(client, sign_in, coordinator)  # six weeks on, the session has idled out
    page = client.get(f"/meetings/{january.id}/record").text
    assert "Complete the meeting record" in page
    assert "once it has started" not in page


def _sign_in_again(client, sign_in, user):
    client.get("/")  # ends the idle session
    sign_in(user)


def _token(page):
    from tests.conftest import csrf_token_from

    return csrf_token_from(page)


def test_minutes_cannot_be_approved_before_the_meeting_took_place(
    client, sign_in, january, recorded, coordinator, app_clock
):
    """Draft minutes of a meeting not yet started (as the old code made them) are not approved."""
    app_clock.london(JANUARY_12, 9, 30)
    draft = services.complete_meeting(january, coordinator)
    app_clock.london(date(2026, 12, 2), 10, 0)

    with pytest.raises(minutes_service.MinutesError, match="once it has taken place"):
        minutes_service.approve(draft, january.forum.chair)
    db.session.rollback()
    assert draft.status == MinutesStatus.DRAFT

    sign_in(coordinator)
    page = client.get(f"/meetings/{january.id}/minutes").text
    assert (
        "The meeting is on 12 January 2027 at 09:30: its minutes can be approved once it has "
        "taken place" in page
    )
    assert "Approve version 1" not in page
    answer = client.post(
        f"/minutes/{draft.id}/approve", data={"csrf_token": _token(page)}, follow_redirects=True
    )
    assert "its minutes can be approved once it has taken place" in answer.text
    db.session.refresh(draft)
    assert draft.status == MinutesStatus.DRAFT

    app_clock.london(JANUARY_12, 11, 0)
    _sign_in_again(client, sign_in, coordinator)
    assert "Approve version 1" in client.get(f"/meetings/{january.id}/minutes").text
    minutes_service.approve(draft, january.forum.chair)
    assert draft.status == MinutesStatus.APPROVED


def test_a_case_closed_just_after_midnight_in_summer_closes_on_englands_date(
    make_ready_case, coordinator, app_clock
):
    """00:30 on 1 April 2027 in England is 23:30 on 31 March in UTC: the closure belongs to
    April (and to the board report's April), not to March."""
    case = make_ready_case()
    case.status = CaseStatus.OPEN
    db.session.commit()
    app_clock.london(date(2027, 4, 1), 0, 30)
    case_services.change_status(case, CaseStatus.CLOSED, coordinator, "Needs met")
    db.session.commit()
    assert case.closed_on == date(2027, 4, 1)
    april = totals(Period(date(2027, 4, 1), date(2027, 4, 30)), case.district_id)
    assert april.closed == 1


def test_a_consent_given_today_just_after_midnight_in_summer_is_not_in_the_future(
    client, sign_in, make_case, coordinator, app_clock
):
    """At 00:30 on 1 June 2027 in England it is still 31 May in UTC: a consent given that day
    was refused as "in the future" when forms took today from UTC."""
    case = make_case()
    app_clock.london(date(2027, 6, 1), 0, 30)
    sign_in(coordinator)
    url = f"/cases/{case.id}/consents/new"
    page = client.get(url).text
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="once" value="([^"]+)"', page
    )
    answer = client.post(
        url,
        data={
            "csrf_token": _token(page),
            "once": once.group(1) if once else "",
            "kind": "record",
            "given": "given",
            "given_by": "parent_carer",
            "given_by_name": "Karen Thompson",
            "given_on": ["1", "6", "2027"],
            "method": "written",
        },
        follow_redirects=True,
    )

    assert "must be today or in the past" not in answer.text
    assert "1 June 2027" in client.get(f"/cases/{case.id}").text
