"""Each local rule where it is used, asked at its own moment, so that changing a rule never
rewrites history (issue 15 point 4; DESIGN §4 "Local rules are data")."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases import deadlines
from maf.extensions import db
from maf.outcomes import late_reasons
from maf.outcomes import services as outcomes
from maf.reports import quality, retention
from maf.rules import services as rules
from maf.rules.services import Interval
from tests.conftest import csrf_token_from
from tests.reports import test_quality, test_retention

# Their fixtures: closed cases for the sample, and cases closed and archived for retention.
make_closed = test_quality.make_closed
closed_case = test_retention.closed_case


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- the first-meeting deadline (seed 002 B3: 20 working days) ---------------------------------


def test_a_deadline_given_before_a_change_stays_and_a_new_case_gets_the_new_rule(
    make_case, admin, app_clock
):
    app_clock.london(date(2027, 2, 1), 9)
    before = make_case("Amira", assessment_completed_on=date(2027, 1, 25))
    # 20 working days after Monday 25 January 2027.
    assert deadlines.first_meeting_deadline(
        before.assessment_completed_on, before.created_at
    ) == date(2027, 2, 22)

    app_clock.london(date(2027, 2, 2), 12)
    rules.change("first_meeting_working_days", 30, by=admin)
    db.session.commit()

    app_clock.london(date(2027, 2, 4), 9)
    after = make_case("Bilal", "Hussain", assessment_completed_on=date(2027, 2, 3))
    late_entry = make_case("Chidi", "Okoro", assessment_completed_on=date(2027, 1, 28))

    # The case given its deadline before the change keeps it, and says so.
    assert deadlines.first_meeting_deadline(
        before.assessment_completed_on, before.created_at
    ) == date(2027, 2, 22)
    kept = late_reasons.deadline_for(before, late_reasons.FIRST_MEETING)
    assert kept.due_on == date(2027, 2, 22)
    assert kept.hint.startswith("20 working days after the assessment was completed")
    # Assessed after the change: 30 working days after Wednesday 3 February 2027.
    new = late_reasons.deadline_for(after, late_reasons.FIRST_MEETING)
    assert new.due_on == date(2027, 3, 17)
    assert new.hint.startswith("30 working days after")
    # Assessed before the change though received after it: the rule of its assessment.
    assert late_reasons.deadline_for(late_entry, late_reasons.FIRST_MEETING).due_on == (
        deadlines.add_working_days(date(2027, 1, 28), 20)
    )


def test_the_queue_shows_each_case_its_own_rules_deadline(
    client, sign_in, coordinator, make_case, admin, app_clock
):
    app_clock.london(date(2027, 2, 1), 9)
    make_case("Amira", assessment_completed_on=date(2027, 1, 25))
    rules.change("first_meeting_working_days", 10, by=admin)
    db.session.commit()
    app_clock.london(date(2027, 2, 1), 10)
    make_case("Bilal", "Hussain", assessment_completed_on=date(2027, 2, 1))
    sign_in(coordinator)
    text = _text(client.get("/cases/").text)
    assert "22 February 2027" in text  # Amira: 20 working days, as given
    assert "15 February 2027" in text  # Bilal: 10 working days after 1 February


# --- the review interval (seed 002 C1: 3 months) ----------------------------------------------


def test_the_review_interval_applies_to_meetings_after_the_change(make_meeting, admin, app_clock):
    january = make_meeting(date(2027, 1, 12))
    app_clock.london(date(2027, 2, 1), 9)
    rules.change("review_interval", 6, by=admin)
    db.session.commit()
    april = make_meeting(date(2027, 4, 13), forum=january.forum)

    assert outcomes.review_interval(january) == Interval(3, "months")
    assert outcomes.propose_next_review(january) == date(2027, 4, 12)
    assert outcomes.review_interval(april) == Interval(6, "months")
    assert outcomes.propose_next_review(april) == date(2027, 10, 13)


def test_a_council_that_reviews_every_six_weeks_sets_it_in_weeks(make_meeting, admin, app_clock):
    """Issue 15: some councils review every 6 or 12 weeks, not every 3 months (seed 002 C1)."""
    app_clock.london(date(2027, 1, 4), 9)
    assert rules.change("review_interval", "6 weeks", by=admin).value == "6 weeks"
    db.session.commit()
    january = make_meeting(date(2027, 1, 12))
    # No meeting of the forum within six weeks: the day the six weeks end (a Tuesday).
    assert outcomes.propose_next_review(january) == date(2027, 2, 23)
    make_meeting(date(2027, 2, 16), forum=january.forum)
    db.session.expire_all()
    assert outcomes.propose_next_review(january) == date(2027, 2, 16)


# --- capacities (seed 004: 10 new cases, 30 reviews) ------------------------------------------


def test_a_new_forum_starts_with_the_capacities_in_force_and_old_forums_keep_theirs(
    make_forum, make_district, admin
):
    before = make_forum()
    rules.change("new_case_capacity", 6, by=admin)
    rules.change("review_capacity", 20, by=admin)
    db.session.commit()
    after = make_forum(make_district("Melton"))
    assert (before.new_case_capacity, before.review_capacity) == (10, 30)
    assert (after.new_case_capacity, after.review_capacity) == (6, 20)
    # A forum's own capacity, chosen on its form, still wins.
    own = make_forum(make_district("Hinckley and Bosworth"), new_case_capacity=12)
    assert own.new_case_capacity == 12


# --- retention (seed 002 D3: 1 year accessible, 6 archived) -------------------------------------

TODAY = date(2034, 6, 15)


def test_the_retention_job_uses_the_rule_in_force_when_it_runs(closed_case, admin):
    two_years_ago = closed_case("Amelia", date(2032, 6, 1))
    rules.change("retention_years_accessible", 3, by=admin)
    db.session.commit()
    assert retention.apply_retention(TODAY).archived == []

    rules.change("retention_years_accessible", 1, by=admin)
    db.session.commit()
    assert retention.apply_retention(TODAY).archived == [two_years_ago.id]
    details = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "retention_applied")
        .order_by(AuditEvent.id)
    ).all()
    assert details[0].endswith("(rules: 3 years accessible, then 6 years archived)")
    assert details[1].endswith("(rules: 1 year accessible, then 6 years archived)")


def test_only_a_dry_run_may_try_other_periods(database):
    with pytest.raises(ValueError):
        retention.apply_retention(TODAY, periods=retention.RetentionPeriods(1, 1))


def test_a_shorter_retention_shows_what_it_would_destroy_before_it_is_saved(
    client,
    sign_in,
    closed_case,
    admin,
    app_clock,
):
    # Archived on 1 January 2029: destroyed after 6 years in 2035, after 4 years at once.
    closed_case("Bethany", date(2027, 12, 1), archived_on=date(2029, 1, 1))
    app_clock.london(TODAY, 10)
    sign_in(admin)
    page = client.get("/rules/retention_years_archived")
    assert "takes effect at the next nightly retention run" in _text(page.text)
    response = client.post(
        "/rules/retention_years_archived",
        data={"csrf_token": csrf_token_from(page.text), "value": "4", "version": "0"},
    )
    assert response.status_code == 200
    text = _text(response.text)
    assert (
        "At the next nightly retention run, with 4 years: 0 closed cases archived and "
        "1 child's identifying data destroyed." in text
    )
    assert "Without the change that run would archive 0 cases and destroy 0 children's data." in (
        text
    )
    assert "cannot be brought back" in text
    assert rules.current("retention_years_archived") == 6  # not saved yet

    confirmed = client.post(
        "/rules/retention_years_archived",
        data={
            "csrf_token": csrf_token_from(response.text),
            "value": "4",
            "version": "0",
            "confirmed": "4",
        },
    )
    assert confirmed.status_code == 302
    assert rules.current("retention_years_archived") == 4


def test_a_retention_value_changed_after_the_preview_is_previewed_again(
    client, sign_in, admin, app_clock
):
    app_clock.london(TODAY, 10)
    sign_in(admin)
    page = client.get("/rules/retention_years_accessible")
    response = client.post(
        "/rules/retention_years_accessible",
        data={"csrf_token": csrf_token_from(page.text), "value": "2", "confirmed": "3"},
    )
    assert "What this change would do" in response.text
    assert rules.current("retention_years_accessible") == 1


# --- the audit sample (seed 002 E: 1 in 10) ---------------------------------------------------


def test_a_sample_drawn_before_a_change_stays_and_a_new_one_uses_the_new_fraction(
    make_closed,
    coordinator,
    admin,
    app_clock,
):
    for day in range(1, 21):
        make_closed(date(2026, 5, day))
        make_closed(date(2026, 8, day))
    app_clock(datetime(2026, 11, 22, 9, tzinfo=UTC))
    q2 = quality.draw_sample(date(2026, 4, 1), coordinator, "q2")
    assert len(q2.cases) == 2  # 1 in 10 of 20

    app_clock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    rules.change("audit_sample_one_in", 5, by=admin)
    db.session.commit()
    q3 = quality.draw_sample(date(2026, 7, 1), coordinator, "q3")
    assert len(q3.cases) == 4  # 1 in 5 of 20

    db.session.expire_all()
    assert len(db.session.get(type(q2), q2.id).cases) == 2
    # Anyone checking the Q2 draw again uses the fraction in force when it was drawn.
    assert quality.sample_one_in(q2.drawn_at) == 10
    again = quality.choose(
        quality.closed_in_quarter(date(2026, 4, 1)), "q2", quality.sample_one_in(q2.drawn_at)
    )
    assert sorted(c.id for c in again) == sorted(s.case_id for s in q2.cases)
    assert quality.sample_one_in(q2.drawn_at + timedelta(days=1)) == 5


def test_pages_that_state_a_rule_state_the_one_in_force(client, sign_in, coordinator, admin):
    sign_in(coordinator)
    assert "Reviews every 3 months" in _text(client.get("/cases/breaches").text)
    rules.change("review_interval", "12 weeks", by=admin)
    rules.change("first_meeting_working_days", 30, by=admin)
    rules.change("audit_sample_one_in", 5, by=admin)
    db.session.commit()
    breaches = _text(client.get("/cases/breaches").text)
    assert "First meeting within 30 working days" in breaches
    assert "Reviews every 12 weeks" in breaches and "3 months" not in breaches
    queue = _text(client.get("/cases/").text)
    assert "(30 working days to a first meeting, reviews every 12 weeks)" in queue
    assert "1 in 5 of the" in _text(client.get("/audits").text)


def test_a_retention_change_from_a_later_day_shows_that_days_run(
    client, sign_in, closed_case, admin, app_clock
):
    # Archived on 20 June 2029: after 5 years, destroyed by the run of 1 July 2034, not sooner.
    closed_case("Bethany", date(2028, 1, 10), archived_on=date(2029, 6, 20))
    app_clock.london(TODAY, 10)
    sign_in(admin)

    def preview(**data):
        page = client.get("/rules/retention_years_archived")
        sent = {"csrf_token": csrf_token_from(page.text), "value": "5", **data}
        return _text(client.post("/rules/retention_years_archived", data=sent).text)

    assert "with 5 years: 0 closed cases archived and 0 children's" in preview()
    later = preview(effective_from=["1", "7", "2034"])
    assert "At the first nightly retention run after it starts, with 5 years" in later
    assert "1 child's identifying data destroyed" in later
    assert rules.current("retention_years_archived") == 6
