"""Following cases up between meetings: my actions, the cases I lead, a case's timeline, and
the two time rules a coordinator watches.

Seed 002 B3: the first Team-Around-the-Child meeting takes place within 20 working days of the
CAF assessment being completed (weekends and England bank holidays do not count).
Seed 002 C1: the plan is reviewed within three months, then every three months.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.deadlines import first_meeting_deadline
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.outcomes import followup, progress
from maf.outcomes import services as outcomes
from maf.outcomes.models import (
    Action,
    ActionStatus,
    ClosureReason,
    LeadKind,
    LeadProfessional,
    Outcome,
    ProgressUpdate,
)
from tests.conftest import at_the_meeting, csrf_token_from


def _at(year, month, day, hour=9, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def forum(make_forum):
    return make_forum()


@pytest.fixture
def lead_user(make_user):
    return make_user(Role.PRACTITIONER, name="Sam Patel", email="sam.patel@example.org")


def _discuss(
    case, meeting, coordinator, *, lead_email="", lead_name="Sam Patel", actions=(), review=None
):
    """Put a new case on the agenda, record a "continue" outcome and complete the meeting."""
    item = agendas.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Agreed a plan",
            next_review_on=review or meeting.date + timedelta(days=60),
            lead=outcomes.LeadDetails(
                kind=LeadKind.PRACTITIONER,
                name=lead_name,
                agreed=True,
                email=lead_email or "someone.else@example.org",
            ),
            actions=list(actions),
        ),
        coordinator,
    )
    at_the_meeting(meeting)
    outcomes.complete_meeting(meeting, coordinator)
    return item


def _action(case, due_on, *, user=None, email="", description="Refer to the school nurse"):
    action = Action(
        case_id=case.id,
        description=description,
        owner_name=user.name if user else "Someone",
        owner_email=email or (user.email if user else ""),
        owner_user_id=user.id if user else None,
        due_on=due_on,
    )
    db.session.add(action)
    db.session.commit()
    return action


# --- actions -----------------------------------------------------------------------------


def test_my_actions_are_soonest_due_first_with_overdue_ones_counted_in_days(
    make_case, make_user, lead_user
):
    case = make_case()
    later = _action(case, date(2027, 2, 1), user=lead_user, description="Later")
    overdue = _action(case, date(2027, 1, 20), user=lead_user, description="Overdue")
    # Allocated by email before the owner had an account: still theirs.
    by_email = _action(case, date(2027, 1, 25), email="sam.patel@example.org", description="Mail")
    _action(case, date(2027, 1, 1), user=make_user(), description="Someone else's")
    finished = _action(case, date(2027, 1, 2), user=lead_user, description="Done already")
    finished.status = ActionStatus.DONE
    db.session.commit()

    entries = followup.actions_for(lead_user, date(2027, 1, 25))

    assert [e.action for e in entries] == [overdue, by_email, later]
    assert [(e.overdue, e.days_overdue) for e in entries] == [(True, 5), (False, 0), (False, 0)]


def test_the_actions_page_tags_overdue_actions_and_says_what_appears_when_empty(
    client, sign_in, make_case, lead_user
):
    sign_in(lead_user)
    empty = client.get("/actions")
    assert empty.status_code == 200
    assert "You have no open actions" in empty.text

    today = followup.london_today()
    case = make_case()
    _action(case, today - timedelta(days=3), user=lead_user, description="Book a GP visit")
    _action(case, today + timedelta(days=10), user=lead_user, description="Call the family")
    page = client.get("/actions")
    assert page.status_code == 200
    assert page.text.index("Book a GP visit") < page.text.index("Call the family")
    assert page.text.count("Overdue by") == 1
    assert "Overdue by 3 days" in page.text
    assert "govuk-tag--red" in page.text
    assert "Jessica Thompson" in page.text


def test_the_actions_page_links_to_the_case_for_those_who_may_open_it(
    client, sign_in, make_case, coordinator
):
    case = make_case()
    _action(case, date(2030, 1, 1), user=coordinator)
    sign_in(coordinator)
    assert f'href="/cases/{case.id}"' in client.get("/actions").text


def _post_done(client, action, page="/actions"):
    token = csrf_token_from(client.get(page).text)
    return client.post(f"/actions/{action.id}/done", data={"csrf_token": token})


def test_the_owner_marks_an_action_done_and_who_and_when_are_recorded(
    client, sign_in, make_case, lead_user
):
    action = _action(make_case(), date(2030, 1, 1), user=lead_user)
    sign_in(lead_user)
    before = datetime.now(UTC)

    response = _post_done(client, action)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/actions")
    db.session.expire_all()
    assert action.status == ActionStatus.DONE
    assert action.done_by_id == lead_user.id
    assert before - timedelta(seconds=1) <= action.done_at <= datetime.now(UTC)
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "action_done", AuditEvent.detail == f"action {action.id}"
        )
    )
    assert "no open actions" in client.get("/actions").text


def test_a_stranger_gets_404_and_the_action_stays_open(client, sign_in, make_case, make_user):
    action = _action(make_case(), date(2030, 1, 1), email="owner@example.org")
    sign_in(make_user(Role.PRACTITIONER))

    assert _post_done(client, action).status_code == 404
    token = csrf_token_from(client.get("/actions").text)
    assert client.post("/actions/999999/done", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert action.status == ActionStatus.OPEN
    assert action.done_by_id is None


def test_the_districts_coordinator_may_mark_any_action_of_the_case_done(
    client, sign_in, make_case, coordinator
):
    action = _action(make_case(), date(2030, 1, 1), email="owner@example.org")
    sign_in(coordinator)

    assert _post_done(client, action).status_code == 302
    db.session.expire_all()
    assert (action.status, action.done_by_id) == (ActionStatus.DONE, coordinator.id)


def test_another_districts_coordinator_may_not(
    client, sign_in, make_case, make_user, make_district
):
    action = _action(make_case(), date(2030, 1, 1), email="owner@example.org")
    sign_in(make_user(Role.COORDINATOR, districts=[make_district("Melton")]))

    assert _post_done(client, action).status_code == 404
    db.session.expire_all()
    assert action.status == ActionStatus.OPEN


def test_an_action_cannot_be_done_twice(make_case, lead_user, coordinator):
    action = _action(make_case(), date(2030, 1, 1), user=lead_user)
    assert followup.mark_done(action, lead_user) is True
    first = action.done_at
    # A second click, or someone else at the same moment: nothing changes, nothing fails.
    assert followup.mark_done(action, coordinator) is False
    assert (action.done_by_id, action.done_at) == (lead_user.id, first)


# --- my cases ----------------------------------------------------------------------------


def test_my_cases_lists_the_cases_i_lead_with_review_actions_and_update_requested(
    make_ready_case, make_meeting, forum, coordinator, lead_user
):
    case = make_ready_case()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    follow_up = make_meeting(date(2027, 3, 9), forum=forum)
    _discuss(
        case,
        meeting,
        coordinator,
        lead_email=lead_user.email,
        review=date(2027, 3, 9),
        actions=[
            outcomes.ActionDetails("Refer to CAMHS", "Sam Patel", date(2027, 2, 1), "x@example.org")
        ],
    )
    lead = outcomes.current_lead(case)
    assert lead.user_id == lead_user.id
    update = ProgressUpdate(case_id=case.id, meeting_id=follow_up.id, lead_professional_id=lead.id)
    db.session.add(update)
    # A case this user used to lead is not theirs any more.
    old = make_ready_case("Tom", "Barker", date(2013, 3, 3), "LE11 2AA")
    old.status = CaseStatus.OPEN
    db.session.add(
        LeadProfessional(
            case_id=old.id,
            kind=LeadKind.PRACTITIONER,
            name="Sam Patel",
            email=lead_user.email,
            user_id=lead_user.id,
            starts_on=date(2026, 6, 1),
            ends_on=date(2026, 9, 1),
        )
    )
    db.session.commit()

    led = followup.cases_led_by(lead_user, date(2027, 2, 3))

    assert [entry.case for entry in led] == [case]
    entry = led[0]
    assert entry.case.next_review_on == date(2027, 3, 9)
    assert [(a.action.description, a.days_overdue) for a in entry.actions] == [
        ("Refer to CAMHS", 2)
    ]
    assert entry.update_requested == update


def test_the_my_cases_page_links_to_the_progress_form(
    client, sign_in, make_ready_case, make_meeting, forum, coordinator, lead_user
):
    sign_in(lead_user)
    assert "not the lead professional for any open case" in client.get("/my-cases").text

    case = make_ready_case()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    follow_up = make_meeting(date(2027, 3, 9), forum=forum)
    _discuss(case, meeting, coordinator, lead_email=lead_user.email, review=date(2027, 3, 9))
    update = ProgressUpdate(
        case_id=case.id,
        meeting_id=follow_up.id,
        lead_professional_id=outcomes.current_lead(case).id,
    )
    db.session.add(update)
    db.session.commit()
    client.get("/")  # the clock moved on to the meeting: the idle session ended
    sign_in(lead_user)

    page = client.get("/my-cases")
    assert page.status_code == 200
    assert "Jessica Thompson" in page.text
    assert "9 March 2027" in page.text
    assert f'href="/progress/{update.id}"' in page.text


# --- timeline ----------------------------------------------------------------------------


def test_the_timeline_tells_the_case_in_order(
    make_ready_case, make_meeting, forum, coordinator, lead_user
):
    case = make_ready_case(assessment_completed_on=date(2026, 11, 2))
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    follow_up = make_meeting(date(2027, 3, 9), forum=forum)
    item = _discuss(
        case,
        meeting,
        coordinator,
        lead_email=lead_user.email,
        actions=[
            outcomes.ActionDetails("Refer to CAMHS", "Sam Patel", date(2027, 2, 1), lead_user.email)
        ],
    )
    action = db.session.scalar(select(Action).where(Action.case_id == case.id))
    followup.mark_done(action, lead_user)
    # The lead is asked by email (the stored request the timeline reports), and answers.
    review = agendas.add_to_agenda(follow_up, case, ItemKind.REVIEW, coordinator)
    progress.request_updates(follow_up, coordinator)
    update = progress.update_for(case, follow_up)
    update.submitted_at, update.submitted_by_id = _at(2027, 2, 10), lead_user.id
    progress.request_of(update).created_at = _at(2027, 2, 1)
    review.added_at = _at(2027, 1, 25, 9, 0)
    # The services stamp the real clock; pin each stamp to when it would have happened.
    received, checked, ready, on_agenda, opened = case.history
    for change, when in (
        (received, _at(2026, 11, 3, 9, 0)),
        (checked, _at(2026, 11, 3, 9, 5)),
        (ready, _at(2026, 11, 3, 9, 10)),
        (on_agenda, _at(2026, 11, 20, 10, 1)),
        (opened, _at(2027, 1, 12, 13, 0)),
    ):
        change.changed_at = when
    case.existing_caf_checked_at = _at(2026, 11, 3, 9, 1)
    case.tier_checked_at = _at(2026, 11, 3, 9, 2)
    item.added_at = _at(2026, 11, 20, 10, 0)
    action.created_at = _at(2027, 1, 12, 12, 30)
    action.done_at = _at(2027, 1, 20, 11, 0)
    db.session.commit()

    events = [
        e for e in followup.case_timeline(case) if not e.what.startswith("Existing-CAF check: a")
    ]

    assert [e.what for e in events] == [
        "Consent given to undertake the assessment",
        "Consent given to record the assessment",
        "Consent given to share the assessment with the district forum",
        "CAF received",
        "Existing-CAF check done",
        "Tier 3/4 check: No tier 3/4 involvement found",
        "Status changed: Checked",
        "Status changed: Ready for a forum",
        "Added to the agenda of the meeting on 12 January 2027",
        "Status changed: On a forum agenda",
        # The meeting's date-only events come before the day's timed ones.
        "Forum decision: Continue, with a review",
        "Lead professional: Sam Patel",
        "Action agreed: Refer to CAMHS",
        "Status changed: Open",
        "Action done: Refer to CAMHS",
        "Added to the agenda of the meeting on 9 March 2027",
        "Progress update requested",
        "Progress update sent",
    ]
    by_what = {e.what: e for e in events}
    assert by_what["Consent given to undertake the assessment"].when == date(2026, 11, 2)
    assert "Karen Thompson" in by_what["Consent given to undertake the assessment"].detail
    assert by_what["Forum decision: Continue, with a review"].when == date(2027, 1, 12)
    assert by_what["Action done: Refer to CAMHS"].detail == "Marked done by Sam Patel"


def test_the_timeline_records_a_change_of_lead_closure_and_withdrawal(
    make_ready_case, make_meeting, forum, coordinator, lead_user
):
    case = make_ready_case()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    sign_off = make_meeting(date(2027, 3, 9), forum=forum)
    _discuss(case, meeting, coordinator, lead_name="Alex Reid")
    item = agendas.add_to_agenda(sign_off, case, ItemKind.SIGN_OFF, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CLOSE,
            closure_reason=ClosureReason.NEEDS_MET,
            lead=outcomes.LeadDetails(LeadKind.PRACTITIONER, "Sam Patel", True, lead_user.email),
        ),
        coordinator,
    )
    at_the_meeting(sign_off)
    outcomes.complete_meeting(sign_off, coordinator)
    share = next(c for c in case.consents if c.covers_forum)
    share.withdrawn_on, share.withdrawal_note = date(2027, 3, 10), "Family moved away"
    db.session.commit()

    events = followup.case_timeline(case)

    # Timed events carry the real clock here, so only the dated ones have a known place.
    from_sign_off = [
        (e.day, e.what) for e in events if not e.has_time and e.day >= date(2027, 3, 9)
    ]
    assert from_sign_off == [
        (date(2027, 3, 9), "Forum decision: Close at sign-off"),
        # The outgoing lead's end comes before the incoming lead's start on the same day.
        (date(2027, 3, 9), "Alex Reid stopped leading the case"),
        (date(2027, 3, 9), "Lead professional: Sam Patel"),
        (date(2027, 3, 9), "Sam Patel stopped leading the case"),
        (date(2027, 3, 10), "Consent withdrawn to share the assessment"),
    ]
    closed = next(e for e in events if e.what == "CAF closed")
    assert closed.detail.startswith("Closed at sign-off. Needs met")
    withdrawn = next(e for e in events if e.what.startswith("Consent withdrawn"))
    assert withdrawn.detail == "Family moved away"


def test_the_timeline_page_is_for_those_who_may_see_the_case(
    client, sign_in, make_case, coordinator
):
    case = make_case()
    sign_in(coordinator)
    page = client.get(f"/cases/{case.id}/timeline")
    assert page.status_code == 200
    assert "CAF received" in page.text
    assert "Consent given to share the assessment with the district forum" in page.text


def test_another_districts_coordinator_gets_404_for_the_timeline(
    client, sign_in, make_case, make_user, make_district
):
    case = make_case()
    sign_in(make_user(Role.COORDINATOR, districts=[make_district("Melton")]))
    assert client.get(f"/cases/{case.id}/timeline").status_code == 404


# --- rule breaches -----------------------------------------------------------------------


def test_first_meeting_deadline_counts_working_days_across_christmas(database):
    # 25, 28 December (Boxing Day's substitute) and 1 January are not working days.
    assert first_meeting_deadline(date(2026, 12, 14)) == date(2027, 1, 14)


@pytest.fixture
def breach_cases(make_ready_case, make_case, make_meeting, forum, coordinator):
    """One case of each kind, by name; discussed at the meetings of 12 and 19 January 2027."""
    on_time = make_meeting(date(2027, 1, 12), forum=forum)
    late_meeting = make_meeting(date(2027, 1, 19), forum=forum)
    cases = {
        # Deadline 14 January 2027; discussed on the 19th: 15, 18, 19 January are over.
        "late": make_ready_case("Amy", "Late", assessment_completed_on=date(2026, 12, 14)),
        # Deadline 14 January 2027; discussed on the 12th.
        "on_time": make_ready_case("Ben", "Ontime", assessment_completed_on=date(2026, 12, 14)),
        # Deadline 18 December 2026; not discussed by 21 January 2027.
        "waiting": make_case("Cara", "Waiting", assessment_completed_on=date(2026, 11, 20)),
        # Deadline early February 2027: not late yet.
        "recent": make_case("Dan", "Recent", assessment_completed_on=date(2027, 1, 11)),
        # Never went to a forum: withdrawn, so no meeting is owed.
        "withdrawn": make_case("Eve", "Gone", assessment_completed_on=date(2026, 11, 20)),
    }
    _discuss(cases["late"], late_meeting, coordinator, review=date(2027, 4, 13))
    _discuss(cases["on_time"], on_time, coordinator, review=date(2027, 1, 20))
    cases["withdrawn"].status = CaseStatus.WITHDRAWN
    db.session.commit()
    return cases


def test_first_meeting_breaches_count_working_days_over(breach_cases, coordinator):
    breaches = followup.rule_breaches(coordinator, date(2027, 1, 21))

    found = {b.case.id: b for b in breaches.first_meeting}
    late, waiting = found[breach_cases["late"].id], found[breach_cases["waiting"].id]
    assert (late.deadline, late.discussed_on, late.working_days_over) == (
        date(2027, 1, 14),
        date(2027, 1, 19),
        3,
    )
    # 21-24 Dec (4), 29-31 Dec (3), 4-8 Jan (5), 11-15 Jan (5), 18-21 Jan (4).
    assert (waiting.deadline, waiting.discussed_on, waiting.working_days_over) == (
        date(2026, 12, 18),
        None,
        21,
    )
    for name in ("on_time", "recent", "withdrawn"):
        assert breach_cases[name].id not in found, name
    # Those still waiting come before those discussed late.
    ids = [b.case.id for b in breaches.first_meeting]
    assert ids.index(waiting.case.id) < ids.index(late.case.id)


def test_review_breaches_list_open_cases_past_their_review_or_without_one(
    breach_cases, make_ready_case, coordinator
):
    no_date = make_ready_case("Finn", "Nodate")
    no_date.status = CaseStatus.OPEN
    closed = make_ready_case("Gus", "Closed")
    closed.status, closed.next_review_on = CaseStatus.CLOSED, date(2027, 1, 1)
    db.session.commit()

    breaches = followup.rule_breaches(coordinator, date(2027, 1, 31))

    found = {b.case.id: b for b in breaches.reviews}
    # "on_time" was due a review by 20 January 2027.
    on_time = found[breach_cases["on_time"].id]
    assert (on_time.next_review_on, on_time.days_over) == (date(2027, 1, 20), 11)
    assert (found[no_date.id].next_review_on, found[no_date.id].days_over) == (None, None)
    assert breach_cases["late"].id not in found  # next review 13 April 2027
    assert closed.id not in found
    assert [b.case.id for b in breaches.reviews][-1] == no_date.id


def test_breaches_are_scoped_to_the_coordinators_districts(
    breach_cases, make_case, make_user, make_district, coordinator
):
    melton = make_district("Melton")
    elsewhere = make_user(Role.COORDINATOR, districts=[melton])
    theirs = make_case("Hal", "Melton", assessment_completed_on=date(2026, 11, 20), district=melton)

    mine = followup.rule_breaches(coordinator, date(2027, 1, 31))
    other = followup.rule_breaches(elsewhere, date(2027, 1, 31))

    mine_ids = {b.case.id for b in mine.first_meeting + mine.reviews}
    other_ids = {b.case.id for b in other.first_meeting + other.reviews}
    assert other_ids == {theirs.id}
    assert theirs.id not in mine_ids
    assert breach_cases["waiting"].id in mine_ids


def test_the_breaches_page_is_for_coordinators(client, sign_in, make_case, coordinator, make_user):
    today = followup.london_today()
    make_case("Cara", "Waiting", assessment_completed_on=today - timedelta(days=60))
    sign_in(coordinator)
    page = client.get("/cases/breaches")
    assert page.status_code == 200
    assert "Cara Waiting" in page.text
    assert "Overdue by" in page.text
    assert "Every open case has a review date" in page.text


def test_the_breaches_page_refuses_practitioners(client, sign_in, make_user):
    sign_in(make_user(Role.PRACTITIONER))
    assert client.get("/cases/breaches").status_code == 403
