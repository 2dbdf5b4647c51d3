"""Withdrawn and stepped-up cases start their retention on the day they ended (seed 002 D3: "Once
a CAF is closed a central copy ... should remain accessible for one year and thereafter flagged
on the system and archived for a further six years"), and are archived and destroyed at the
same boundaries as closed ones. Before this, only closed cases had a date, so the others were
kept for ever.

Each boundary is walked a day before, on and after it, with the dry run first: it reports
exactly what the real run then does, and changes nothing itself."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import Case, CaseStatus, Child, ChildMatchKey
from maf.dbtypes import LONDON
from maf.extensions import db
from maf.outcomes import services as outcomes
from maf.outcomes.models import Outcome
from maf.reports import retention
from maf.rules import services as rules
from tests.conftest import PASSWORD, at_the_meeting, submit

ENDED_ON = date(2027, 3, 10)
DAY = timedelta(days=1)
SEED_PERIODS = retention.RetentionPeriods(accessible=1, archived=6)  # seed 002 D3


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _end(case: Case, status: CaseStatus, coordinator) -> None:
    if status == CaseStatus.WITHDRAWN:
        case_services.withdraw(case, "The family moved out of the county", coordinator)
    else:
        case.status = CaseStatus.OPEN
        case_services.change_status(case, status, coordinator, "Section 47 enquiry")
        db.session.commit()


@pytest.fixture
def ended_case(make_case, coordinator, app_clock):
    def make(status: CaseStatus, given_name="Amelia") -> Case:
        case = make_case(given_name, "Hartley")
        app_clock.london(ENDED_ON, 15)
        _end(case, status, coordinator)
        return case

    return make


def _state(case: Case) -> tuple:
    """Everything a run may change about the case and its child."""
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    child = db.session.get(Child, case.child_id)
    return (
        case.archived_at,
        case.strengths,
        child.given_name,
        child.date_of_birth,
        child.identity_destroyed_at,
        db.session.scalar(select(func.count(AuditEvent.id))),
        db.session.scalar(select(func.count()).where(ChildMatchKey.child_id == child.id)),
    )


def _walk(case: Case, boundary: date, app_clock) -> list[retention.RetentionReport]:
    """The nightly run a day before, on and a day after `boundary`: each a dry run that
    changes nothing, then the real run, which does what the dry run said."""
    reports = []
    for day in (
        boundary - DAY,
        boundary,
        boundary + DAY,
    ):
        app_clock.london(day, 2)  # the job runs in the night
        before = _state(case)
        dry = retention.apply_retention(day, dry_run=True)
        assert dry.dry_run and _state(case) == before, f"the dry run on {day} changed something"
        real = retention.apply_retention(day)
        assert (real.archived, real.removed_from_search, real.destroyed) == (
            dry.archived,
            dry.removed_from_search,
            dry.destroyed,
        ), f"the real run on {day} did not do what the dry run said"
        reports.append(real)
    return reports


def test_the_seed_keeps_an_ended_case_one_year_then_archives_it_six_more(database):
    assert retention.RetentionPeriods.in_force() == SEED_PERIODS


@pytest.mark.parametrize("status", [CaseStatus.WITHDRAWN, CaseStatus.STEPPED_UP])
def test_the_day_a_case_ended_starts_its_retention(ended_case, status):
    case = ended_case(status)
    assert case.status == status
    assert case.ended_on == ENDED_ON and case.closed_on is None  # not counted as closed
    assert retention.retention_starts_on(case) == ENDED_ON


def test_an_open_case_has_no_retention_start_and_a_closed_one_its_closing_day(make_case):
    case = make_case()
    assert retention.retention_starts_on(case) is None
    case.status, case.closed_on = CaseStatus.CLOSED, date(2027, 5, 1)
    assert retention.retention_starts_on(case) == date(2027, 5, 1)


def test_a_merged_case_follows_the_case_it_joined(ended_case, make_case):
    """A merged case's record lives on in the case it joined: it has no date of its own, and
    is archived with that case (as maf.reports.retention.cases_due_for_archive does)."""
    target = ended_case(CaseStatus.WITHDRAWN)
    merged = make_case("Amelia", "Hartley-Jones")
    merged.status, merged.merged_into_id = CaseStatus.MERGED, target.id
    db.session.commit()
    assert retention.retention_starts_on(merged) == ENDED_ON
    assert merged.ended_on is None

    report = retention.apply_retention(years_after(ENDED_ON, 1) + DAY)
    assert report.archived == sorted([target.id, merged.id])


def test_a_case_stepped_up_at_a_meeting_ends_on_the_meeting_day(
    make_ready_case, make_meeting, coordinator
):
    meeting = make_meeting(date(2027, 1, 12))
    case = make_ready_case()
    item = agendas.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(outcome=Outcome.STEP_UP, outcome_notes="Child protection plan"),
        coordinator,
    )
    at_the_meeting(meeting)
    outcomes.complete_meeting(meeting, coordinator)

    assert case.status == CaseStatus.STEPPED_UP
    assert retention.retention_starts_on(case) == meeting.date == case.ended_on


@pytest.mark.parametrize("status", [CaseStatus.WITHDRAWN, CaseStatus.STEPPED_UP])
@pytest.mark.parametrize(
    "periods", [SEED_PERIODS, retention.RetentionPeriods(2, 3)], ids=["seed", "local"]
)
def test_archived_after_the_accessible_years_and_destroyed_after_the_archived_years(
    ended_case, make_user, app_clock, status, periods
):
    if periods != SEED_PERIODS:  # an admin set other periods before the case ended
        app_clock.london(date(2027, 1, 4))
        admin = make_user(Role.ADMIN)
        rules.change("retention_years_accessible", periods.accessible, by=admin)
        rules.change("retention_years_archived", periods.archived, by=admin)
        db.session.commit()
    case = ended_case(status)
    assert retention.RetentionPeriods.in_force() == periods

    # Accessible for exactly the rule's years after the day it ended; archived the day after.
    archive_day = years_after(ENDED_ON, periods.accessible)
    before, on, after = _walk(case, archive_day, app_clock)
    assert (before.archived, on.archived, after.archived) == ([], [], [case.id])
    archived_at = db.session.get(Case, case.id).archived_at
    assert archived_at.astimezone(LONDON).date() == archive_day + DAY
    assert case.child_id in after.removed_from_search
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "case_archived", AuditEvent.object_id == str(case.id)
        )
    )
    ended = "withdrawn" if status == CaseStatus.WITHDRAWN else "stepped up"
    assert event.detail == f"retention: {ended} on {ENDED_ON}"

    # Archived for exactly the rule's years is kept; the day after, the identity goes.
    destroy_day = years_after(archived_at.astimezone(LONDON).date(), periods.archived)
    before, on, after = _walk(case, destroy_day, app_clock)
    assert (before.destroyed, on.destroyed, after.destroyed) == ([], [], [case.child_id])
    child = db.session.get(Child, case.child_id)
    assert child.given_name == retention.DESTROYED and child.date_of_birth is None
    assert db.session.get(Case, case.id).strengths == ""


def test_the_archive_shows_when_a_withdrawn_case_ended(app, ended_case, coordinator):
    case = ended_case(CaseStatus.WITHDRAWN)
    retention.apply_retention(years_after(ENDED_ON, 1) + DAY)
    client = app.test_client()
    submit(client, "/sign-in", {"email": coordinator.email, "password": PASSWORD})

    page = html.unescape(client.get("/archive", query_string={"q": str(case.id)}).text)

    assert f"Case {case.id}" in page and CaseStatus.WITHDRAWN.label in page
    assert re.search(r"Ended\s*</dt>\s*<dd[^>]*>\s*10 March 2027", page), "the day it ended"
    assert "Once a CAF has closed, or was withdrawn or stepped up" in page
