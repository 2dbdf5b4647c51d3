"""CAF quality assurance (seed 002 E): "All Children's Trusts will audit a proportion of closed
CAFs (suggested 1 in 10) for the quality of process and impact on outcomes", analysed every
three months; and the outcomes questionnaire's distance travelled (seed 004 Appendix 3)."""

import html
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.models import Case, CaseStatus, Child, Gender, SettingType
from maf.errors import DomainError
from maf.extensions import db
from maf.outcomes.models import (
    LeadKind,
    LeadProfessional,
    ProgressAnswer,
    ProgressUpdate,
    QuestionnaireAnswer,
)
from maf.reports import quality
from maf.reports.models import AuditSample, Rating
from tests.conftest import PASSWORD, submit

Q3 = date(2026, 7, 1)  # July to September 2026, over by the tests' "today"
TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The pages offer the quarters that have ended, so the tests fix the day."""
    monkeypatch.setattr("maf.reports.quality.london_today", lambda: TODAY)
    monkeypatch.setattr("maf.reports.quality_views.london_today", lambda: TODAY)


@pytest.fixture
def make_closed(coordinator, school):
    """A closed CAF made directly: the sample reads only status, closure date and district."""
    counter = iter(range(1, 10_000))

    def make(closed_on: date, district=None, status=CaseStatus.CLOSED) -> Case:
        number = next(counter)
        child = Child(
            given_name=f"Child{number}",
            family_name="Sample",
            date_of_birth=date(2014, 1, 1),
            gender=Gender.FEMALE,
        )
        case = Case(
            child=child,
            district=district or coordinator.districts[0],
            referrer_name="Daniel Kowalski",
            referrer_email="pastoral.lead@example.org",
            referrer_agency=school,
            setting_type=SettingType.HIGH_SCHOOL,
            assessment_completed_on=date(2026, 1, 5),
            age_at_assessment=12,
            status=status,
            closed_on=closed_on if status == CaseStatus.CLOSED else None,
            created_by_id=coordinator.id,
        )
        db.session.add(case)
        db.session.commit()
        return case

    return make


def _draw(user, seed=None, quarter=Q3):
    return quality.draw_sample(quarter, user, seed, today=TODAY)


def _ids(sample: AuditSample) -> list[int]:
    return [sampled.case_id for sampled in sample.cases]


# --- the sample --------------------------------------------------------------------------


def test_one_in_ten_of_the_quarters_closed_cafs_rounded_up(make_closed, coordinator):
    in_quarter = [make_closed(date(2026, 7, 1 + i)) for i in range(22)]
    in_quarter.append(make_closed(date(2026, 9, 30)))
    make_closed(date(2026, 6, 30))  # the quarter before
    make_closed(date(2026, 10, 1))  # the quarter after
    make_closed(None, status=CaseStatus.WITHDRAWN)

    sample = _draw(coordinator)

    assert sample.closed_in_quarter == 23
    assert len(sample.cases) == 3  # 23 / 10 = 2.3, rounded up
    assert set(_ids(sample)) <= {case.id for case in in_quarter}


def test_every_district_that_closed_a_caf_is_in_the_sample(make_closed, make_district, coordinator):
    other = make_district("Melton")
    for day in range(1, 24):
        make_closed(date(2026, 8, day))
    lone = make_closed(date(2026, 8, 24), district=other)

    sample = _draw(coordinator)

    assert sample.closed_in_quarter == 24
    assert len(sample.cases) == 3
    assert lone.id in _ids(sample)


def test_at_least_one_per_district_even_above_one_in_ten(make_closed, make_district, coordinator):
    other = make_district("Melton")
    for day in range(1, 6):
        make_closed(date(2026, 8, day))
    make_closed(date(2026, 8, 9), district=other)

    sample = _draw(coordinator)

    # 6 / 10 rounds up to 1, but two districts closed CAFs.
    assert len(sample.cases) == 2
    assert {sampled.case.district_id for sampled in sample.cases} == {
        coordinator.districts[0].id,
        other.id,
    }


def test_the_same_seed_chooses_the_same_cafs_and_another_seed_others(make_closed, coordinator):
    for day in range(1, 24):
        make_closed(date(2026, 8, day))
    closed = quality.closed_in_quarter(Q3)

    sample = _draw(coordinator, seed="board-2026-q3")

    assert sample.seed == "board-2026-q3"
    one_in = quality.sample_one_in(sample.drawn_at)
    again = [
        case.id for case in quality.choose(quality.closed_in_quarter(Q3), "board-2026-q3", one_in)
    ]
    assert again == _ids(sample)
    other = [case.id for case in quality.choose(closed, "another seed", one_in)]
    assert len(other) == 3 and other != _ids(sample)


def test_a_random_seed_is_recorded_and_reproduces_the_draw(make_closed, coordinator):
    for day in range(1, 15):
        make_closed(date(2026, 9, day))

    sample = _draw(coordinator)

    assert len(sample.seed) >= 16
    chosen = quality.choose(
        quality.closed_in_quarter(Q3), sample.seed, quality.sample_one_in(sample.drawn_at)
    )
    assert [case.id for case in chosen] == _ids(sample)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit_sample_drawn"))
    assert event.object_id == str(sample.id) and event.user_id == coordinator.id


def test_one_sample_per_quarter(make_closed, coordinator):
    make_closed(date(2026, 8, 1))
    _draw(coordinator)

    with pytest.raises(DomainError, match="already been drawn") as refused:
        _draw(coordinator, seed="another")
    assert refused.value.field == "quarter"
    assert db.session.query(AuditSample).count() == 1


def test_a_quarter_must_be_over_and_real(make_closed, coordinator):
    make_closed(date(2026, 10, 2))
    with pytest.raises(DomainError, match="once the quarter has ended"):
        _draw(coordinator, quarter=date(2026, 10, 1))
    with pytest.raises(DomainError, match="January, April, July or October"):
        _draw(coordinator, quarter=date(2026, 8, 1))
    with pytest.raises(DomainError, match="No CAFs were closed"):
        _draw(coordinator, quarter=date(2026, 4, 1))


# --- the audit -----------------------------------------------------------------------------


def test_recording_audits_and_the_quarter_summary(make_closed, coordinator):
    for day in range(1, 21):
        make_closed(date(2026, 7, day))
    sample = _draw(coordinator, seed="s")
    first, second = sample.cases

    quality.record_audit(
        first, Rating.GOOD, Rating.ADEQUATE, " Plan reviewed on time ", "Ann Lee",
        date(2026, 10, 20), coordinator, today=TODAY,
    )  # fmt: skip
    assert quality.quarter_summary(sample) == quality.QuarterSummary(
        sampled=2,
        audited=1,
        process_quality={Rating.GOOD: 1, Rating.ADEQUATE: 0, Rating.POOR: 0},
        outcome_impact={Rating.GOOD: 0, Rating.ADEQUATE: 1, Rating.POOR: 0},
    )
    quality.record_audit(
        second, Rating.POOR, Rating.ADEQUATE, "", "Ann Lee", date(2026, 10, 21), coordinator,
        today=TODAY,
    )  # fmt: skip
    summary = quality.quarter_summary(sample)
    assert summary.audited == 2
    assert summary.process_quality == {Rating.GOOD: 1, Rating.ADEQUATE: 0, Rating.POOR: 1}
    assert summary.outcome_impact[Rating.ADEQUATE] == 2
    assert first.notes == "Plan reviewed on time" and first.recorded_by_id == coordinator.id
    assert quality.quarter_summary(sample, district_ids=set()).sampled == 0
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(first.case_id))
    ).all()
    assert "case_audit_recorded" in actions


def test_an_audit_needs_both_ratings_an_auditor_and_a_sensible_date(make_closed, coordinator):
    make_closed(date(2026, 8, 10))
    sampled = _draw(coordinator).cases[0]

    def attempt(**changes):
        values = dict(
            process_quality=Rating.GOOD,
            outcome_impact=Rating.GOOD,
            notes="",
            auditor_name="Ann Lee",
            audited_on=date(2026, 10, 1),
            user=coordinator,
        )
        values.update(changes)
        with pytest.raises(DomainError) as refused:
            quality.record_audit(sampled, **values, today=TODAY)
        return refused.value.field

    assert attempt(process_quality=None) == "process_quality"
    assert attempt(outcome_impact=None) == "outcome_impact"
    assert attempt(auditor_name="  ") == "auditor_name"
    assert attempt(audited_on=None) == "audited_on"
    assert attempt(audited_on=date(2026, 11, 23)) == "audited_on"  # tomorrow
    assert attempt(audited_on=date(2026, 8, 9)) == "audited_on"  # before the closure


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def two_districts(make_closed, make_district, make_user, coordinator):
    """Charnwood (the coordinator's) closed 12 CAFs in the quarter and Melton 1."""
    melton = make_district("Melton")
    charnwood_cases = [make_closed(date(2026, 8, day)) for day in range(1, 13)]
    melton_case = make_closed(date(2026, 8, 20), district=melton)
    return melton, charnwood_cases, melton_case


def test_drawing_a_sample_from_the_page(client, sign_in, coordinator, two_districts):
    sign_in(coordinator)
    page = client.get("/audits")
    assert page.status_code == 200
    assert "July to September 2026" in page.text

    response = submit(client, "/audits", {"quarter": "2026-07-01", "seed": "page-seed"})

    assert response.status_code == 302
    sample = db.session.scalar(select(AuditSample))
    assert sample.seed == "page-seed" and len(sample.cases) == 2
    assert response.headers["Location"] == f"/audits/{sample.id}"

    again = submit(client, "/audits", {"quarter": "2026-07-01", "seed": ""})
    assert again.status_code == 200
    assert 'class="govuk-error-summary"' in again.text
    assert "A sample has already been drawn for July to September 2026" in html.unescape(again.text)
    assert 'id="quarter-error"' in again.text  # beside the field


def _client_for(app, user):
    client = app.test_client()
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    return client


def test_coordinators_see_their_districts_cases_with_names_admins_numbers_only(
    app, client, sign_in, make_user, coordinator, two_districts
):
    melton, _, melton_case = two_districts
    sample = _draw(coordinator, seed="x")
    own = next(s for s in sample.cases if s.case.district_id == coordinator.districts[0].id)

    sign_in(coordinator)
    page = client.get(f"/audits/{sample.id}").text
    assert own.case.child.full_name in page
    assert f"/audits/cases/{own.id}" in page
    assert f"Case {melton_case.id}" not in page and melton_case.child.full_name not in page

    admin = _client_for(app, make_user(Role.ADMIN))
    admin_page = admin.get(f"/audits/{sample.id}").text
    assert f"Case {melton_case.id}" in admin_page and f"Case {own.case_id}" in admin_page
    assert own.case.child.full_name not in admin_page
    assert melton_case.child.full_name not in admin_page
    assert "/audits/cases/" not in admin_page
    assert admin.get(f"/audits/cases/{own.id}").status_code == 403  # the coordinators' form

    melton_coordinator = _client_for(app, make_user(Role.COORDINATOR, districts=[melton]))
    assert melton_coordinator.get(f"/audits/cases/{own.id}").status_code == 404


def test_the_audit_form_saves_and_shows_errors_beside_fields(
    client, sign_in, coordinator, two_districts
):
    sample = _draw(coordinator, seed="x")
    own = next(s for s in sample.cases if s.case.district_id == coordinator.districts[0].id)
    sign_in(coordinator)
    url = f"/audits/cases/{own.id}"

    missing = submit(client, url, {"auditor_name": "Ann Lee", "audited_on": ["1", "10", "2026"]})
    assert missing.status_code == 200
    text = html.unescape(missing.text)
    assert 'id="process_quality-error"' in missing.text
    assert "Select how good the quality of the CAF process was" in text
    assert "Select how much impact the CAF had on outcomes" in text

    early = submit(
        client,
        url,
        {
            "process_quality": "good",
            "outcome_impact": "poor",
            "auditor_name": "Ann Lee",
            "audited_on": ["1", "7", "2026"],
        },
    )
    assert 'id="audited_on-error"' in early.text
    assert "on or after the date the CAF closed" in html.unescape(early.text)

    saved = submit(
        client,
        url,
        {
            "process_quality": "good",
            "outcome_impact": "poor",
            "notes": "Good plan; outcomes unclear",
            "auditor_name": "Ann Lee",
            "audited_on": ["2", "10", "2026"],
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    own = db.session.get(type(own), own.id)
    assert (own.process_quality, own.outcome_impact) == (Rating.GOOD, Rating.POOR)
    assert own.audited_on == date(2026, 10, 2) and own.auditor_name == "Ann Lee"
    sample_page = client.get(f"/audits/{sample.id}").text
    assert "1 of 1 sampled CAFs audited in your districts" in sample_page


def test_only_coordinators_and_admins_see_the_audit(client, sign_in, make_user):
    sign_in(make_user(Role.PRACTITIONER))
    assert client.get("/audits").status_code == 403
    assert client.get("/outcomes").status_code == 403


# --- distance travelled --------------------------------------------------------------------

# Scored Great 4, Good 3, OK 2, Not good 1.
GR, GD, OK, NG = (
    ProgressAnswer.GREAT,
    ProgressAnswer.GOOD,
    ProgressAnswer.OK,
    ProgressAnswer.NOT_GOOD,
)


@pytest.fixture
def questionnaire(make_meeting, make_forum):
    """Record a submitted (or only requested) update with these seven answers at a meeting on
    `day` of the case's district forum."""
    forums = {}
    meetings = {}

    def record(case, day, answers, submitted=True):
        forum = forums.get(case.district_id) or make_forum(district=case.district)
        forums[case.district_id] = forum
        meeting = meetings.get((forum.id, day)) or make_meeting(day, forum=forum)
        meetings[(forum.id, day)] = meeting
        lead = LeadProfessional(
            case_id=case.id, kind=LeadKind.PRACTITIONER, name="Zoë Brennan", starts_on=day
        )
        update = ProgressUpdate(
            case=case,
            meeting=meeting,
            lead_professional=lead,
            submitted_at=datetime(day.year, day.month, day.day, tzinfo=UTC) if submitted else None,
            answers=[
                QuestionnaireAnswer(question=number, answer=answer)
                for number, answer in enumerate(answers, 1)
            ],
        )
        db.session.add_all([lead, update])
        db.session.commit()
        return update

    return record


def test_distance_travelled_first_against_latest_by_meeting_date(make_closed, questionnaire):
    case = make_closed(date(2027, 9, 1))
    # Recorded out of order: meeting date decides which is first and latest, not the id.
    questionnaire(case, date(2027, 7, 13), [GR, GR, GD, OK, GD, NG, OK])  # 4 4 3 2 3 1 2 = 19
    questionnaire(case, date(2027, 1, 12), [GR, GD, OK, NG, GD, OK, NG])  # 4 3 2 1 3 2 1 = 16
    questionnaire(case, date(2027, 4, 6), [NG, NG, NG, NG, NG, NG, NG])
    questionnaire(case, date(2027, 10, 12), [NG] * 7, submitted=False)  # asked, never sent

    distance = quality.distance_travelled(case)

    assert distance.first_on == date(2027, 1, 12) and distance.latest_on == date(2027, 7, 13)
    assert distance.changes == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0, 6: -1, 7: 1}
    assert distance.total_change == 3


def test_no_distance_until_two_questionnaires(make_closed, questionnaire):
    case = make_closed(date(2027, 9, 1))
    assert quality.distance_travelled(case) is None
    questionnaire(case, date(2027, 1, 12), [GR] * 7)
    assert quality.distance_travelled(case) is None


@pytest.fixture
def three_cases(make_closed, make_district, questionnaire):
    """Improved by 3 (after falling by 9 in April), worse by 2 and the same, in Charnwood; one
    improved by 21 in Melton; one with a single questionnaire."""
    improved, worse, same, single = (make_closed(date(2027, 9, 1)) for _ in range(4))
    questionnaire(improved, date(2027, 1, 12), [GR, GD, OK, NG, GD, OK, NG])
    questionnaire(improved, date(2027, 4, 6), [NG] * 7)  # a bad spell in between
    questionnaire(improved, date(2027, 7, 13), [GR, GR, GD, OK, GD, NG, OK])
    questionnaire(worse, date(2027, 1, 12), [GR, GR, GR, GR, GR, GR, GR])
    questionnaire(worse, date(2027, 7, 13), [GR, GR, GR, GR, GR, GD, GD])
    questionnaire(same, date(2027, 4, 6), [OK, OK, OK, OK, OK, OK, OK])
    questionnaire(same, date(2027, 7, 13), [GD, NG, OK, OK, OK, OK, OK])
    questionnaire(single, date(2027, 7, 13), [GR] * 7)
    melton_case = make_closed(date(2027, 9, 1), district=make_district("Melton"))
    questionnaire(melton_case, date(2027, 1, 19), [NG] * 7)
    questionnaire(melton_case, date(2027, 7, 20), [GR] * 7)
    return improved, worse, same, melton_case


def test_distance_summary_for_a_district_and_period(three_cases, coordinator):
    charnwood = coordinator.districts[0].id
    summary = quality.distance_summary((date(2027, 7, 1), date(2027, 9, 30)), charnwood)

    assert (summary.cases, summary.improved, summary.same, summary.worse) == (3, 1, 1, 1)
    assert summary.mean_total_change == pytest.approx((3 - 2 + 0) / 3)
    assert summary.mean_change_by_question[6] == pytest.approx((-1 - 1 + 0) / 3)

    as_period = SimpleNamespace(starts_on=date(2027, 7, 1), ends_on=date(2027, 9, 30))
    assert quality.distance_summary(as_period, charnwood) == summary
    everywhere = quality.distance_summary((date(2027, 7, 1), date(2027, 9, 30)), None)
    assert everywhere.cases == 4 and everywhere.improved == 2
    assert everywhere.mean_total_change == pytest.approx((3 - 2 + 0 + 21) / 4)


def test_a_past_period_ignores_later_answers(three_cases, coordinator):
    improved = three_cases[0]
    charnwood = coordinator.districts[0].id
    # By the end of June, "improved" had fallen from 16 (January) to 7 (April); "same" had
    # only its April questionnaire, and the others only January's.
    summary = quality.distance_summary((date(2027, 4, 1), date(2027, 6, 30)), charnwood)
    assert (summary.cases, summary.worse, summary.mean_total_change) == (1, 1, -9)
    assert quality.distance_travelled(improved).total_change == 3  # all answers, to July
    nothing = quality.distance_summary((date(2026, 1, 1), date(2026, 12, 31)), charnwood)
    assert nothing == quality.DistanceSummary(0, None, 0, 0, 0, {})


def test_the_outcomes_page_is_scoped_to_the_coordinators_districts(
    client, sign_in, coordinator, three_cases, make_user
):
    sign_in(coordinator)
    page = client.get(
        "/outcomes", query_string={"starts_on": ["1", "7", "2027"], "ends_on": ["30", "9", "2027"]}
    )
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Charnwood" in text and "Melton" not in text and "All districts" not in text
    assert "+0.3" in text  # mean total change for Charnwood

    wrong = client.get(
        "/outcomes", query_string={"starts_on": ["1", "7", "2027"], "ends_on": ["1", "6", "2027"]}
    )
    assert "The last date must be on or after the first date" in html.unescape(wrong.text)
    assert client.get("/outcomes").status_code == 200  # defaults to the last quarter


def test_admins_see_every_district_on_the_outcomes_page(client, sign_in, make_user, three_cases):
    sign_in(make_user(Role.ADMIN))
    page = client.get(
        "/outcomes", query_string={"starts_on": ["1", "7", "2027"], "ends_on": ["30", "9", "2027"]}
    )
    text = html.unescape(page.text)
    assert "Charnwood" in text and "Melton" in text and "All districts" in text
    assert "+5.5" in text  # (3 - 2 + 0 + 21) / 4
