"""The intake and case pages over HTTP: errors beside fields, nothing typed lost, scoping."""

from datetime import date

import pytest
from sqlalchemy import func, select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.models import Case, CaseStatus, Child
from maf.extensions import db
from tests.conftest import csrf_token_from, submit


@pytest.fixture
def signed_in_coordinator(client, coordinator, sign_in):
    sign_in(coordinator)
    return coordinator


def _screened(client):
    return submit(client, "/cases/new", {"concern": "no"})


def _intake_data(client, school, **overrides):
    page = client.get("/cases/new/details").text
    data = {
        "given_name": "Zoë",
        "family_name": "O'Neill-Łukasz",
        "date_of_birth": ["17", "5", "2012"],
        "gender": "female",
        "postcode": "le11 3tu",
        "school": "0",
        "district": _first_option(page, "district"),
        "referrer_name": "Daniel Kowalski",
        "referrer_email": "pastoral.lead@example.org",
        "referrer_agency": str(school.id),
        "setting_type": "high_school",
        "assessment_completed_on": ["2", "11", "2026"],
        "strengths": "Loves football\nGood friends at the club",
        "consent_given_by": "parent_carer",
        "consent_given_by_name": "Karen O'Neill",
        "consent_given_on": ["2", "11", "2026"],
        "consent_method": "written",
        "share_consent": "given",
        "share_with_forum": "y",
        "csrf_token": csrf_token_from(page),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _first_option(html, name):
    import re

    return re.search(rf'<select[^>]*name="{name}"[^>]*>\s*<option value="(\d+)"', html).group(1)


def test_safeguarding_concern_stops_the_caf_route_and_saves_nothing(client, signed_in_coordinator):
    """Seed 002 A1, seed 003 §3.5: child protection is not a CAF matter."""
    response = submit(client, "/cases/new", {"concern": "yes"})
    assert "follow the safeguarding procedure" in response.text
    assert "local safeguarding children procedures" in response.text
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert client.get("/cases/new/details").headers["Location"] == "/cases/new"
    stop = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "safeguarding_stop"))
    assert stop is not None


def test_intake_needs_the_safeguarding_question_answered(client, signed_in_coordinator):
    response = submit(client, "/cases/new", {})
    assert "Select yes if there is a child protection concern" in response.text


def test_intake_records_the_case_and_shows_both_checks(
    client, signed_in_coordinator, school, need_statements
):
    _screened(client)
    data = _intake_data(client, school, needs_development=[str(need_statements[0].id)])
    response = client.post("/cases/new/details", data=data)
    assert response.status_code == 302, response.text
    case = db.session.scalar(select(Case))
    assert response.headers["Location"] == f"/cases/{case.id}"
    assert case.child.full_name == "Zoë O'Neill-Łukasz"
    assert case.child.postcode == "LE11 3TU"
    page = client.get(f"/cases/{case.id}").text
    assert "Zoë O&#39;Neill-Łukasz" in page
    assert "Check 1: is there already a CAF for this child?" in page
    assert "No other child in the authority looks like this one" in page
    assert "Can be shared with the forum" in page
    assert need_statements[0].text in page


def test_bad_input_is_reported_beside_each_field_and_nothing_typed_is_lost(
    client, signed_in_coordinator, school
):
    _screened(client)
    data = _intake_data(
        client,
        school,
        date_of_birth=["17", "5", "2030"],
        postcode="NOT A POSTCODE",
        nhs_number="943 476 5918",
        strengths="Kept <b>as typed</b>",
    )
    response = client.post("/cases/new/details", data=data)
    assert response.status_code == 200
    html = response.text
    assert "govuk-error-summary" in html
    assert "Date of birth must be today or in the past" in html
    assert "Enter a real UK postcode" in html or "postcode" in html.lower()
    assert 'id="postcode-error"' in html and 'id="nhs_number-error"' in html
    assert 'value="NOT A POSTCODE"' in html, "what was typed is shown again"
    assert 'value="2030"' in html
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in html
    assert db.session.scalar(select(func.count()).select_from(Child)) == 0


def test_date_of_birth_over_25_years_ago_is_refused_with_the_reason(
    client, signed_in_coordinator, school
):
    _screened(client)
    response = client.post(
        "/cases/new/details", data=_intake_data(client, school, date_of_birth=["1", "1", "1990"])
    )
    assert "within the last 25 years" in response.text


def test_under_12_consenting_alone_is_refused_beside_the_consent_question(
    client, signed_in_coordinator, school
):
    """Seed 002 A3."""
    _screened(client)
    data = _intake_data(
        client, school, date_of_birth=["1", "1", "2018"], consent_given_by="young_person"
    )
    response = client.post("/cases/new/details", data=data)
    assert response.status_code == 200
    assert 'id="consent_given_by-error"' in response.text
    assert "under 12" in response.text
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_coordinator_of_another_district_and_admins_get_404_on_a_case(
    app, make_case, make_user, make_district
):
    case = make_case()
    melton = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    admin = make_user(Role.ADMIN)
    for user in (melton, admin):
        other = app.test_client()
        submit(other, "/sign-in", {"email": user.email, "password": "correct horse battery staple"})
        assert other.get(f"/cases/{case.id}").status_code == 404
        assert other.get("/cases/").status_code in (200, 403)


def test_the_referrer_can_read_but_not_act(app, make_case, make_user, school):
    referrer = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org", agency=school)
    case = make_case()
    assert case.referrer_user_id == referrer.id
    browser = app.test_client()
    submit(
        browser, "/sign-in", {"email": referrer.email, "password": "correct horse battery staple"}
    )
    page = browser.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "Save the outcome" not in page.text
    token = csrf_token_from(page.text)
    refused = browser.post(f"/cases/{case.id}/ready", data={"csrf_token": token})
    assert refused.status_code == 403


def test_every_read_of_a_case_is_audited(client, signed_in_coordinator, make_case):
    case = make_case()
    client.get(f"/cases/{case.id}")
    client.get(f"/cases/{case.id}")
    reads = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "view",
            AuditEvent.object_type == "caf_case",
            AuditEvent.object_id == str(case.id),
        )
    )
    assert reads == 2


def test_mark_ready_without_forum_consent_shows_the_reason(
    client, signed_in_coordinator, make_case
):
    from maf.cases import services
    from maf.cases.models import TierOutcome

    case = make_case(share_with_forum=False)
    services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", signed_in_coordinator)
    page = client.get(f"/cases/{case.id}")
    response = client.post(
        f"/cases/{case.id}/ready", data={"csrf_token": csrf_token_from(page.text)}
    )
    assert response.status_code == 409
    assert "no consent in force to share" in response.text
    db.session.refresh(case)
    assert case.status == CaseStatus.CHECKED


def test_tier_outcome_needing_a_reason_is_reported_beside_the_reason(
    client, signed_in_coordinator, make_case
):
    case = make_case()
    page = client.get(f"/cases/{case.id}")
    response = client.post(
        f"/cases/{case.id}/tier-check",
        data={"outcome": "proceed", "reason": "", "csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 400
    assert 'id="reason-error"' in response.text
    assert "Enter why the forum should coordinate" in response.text


def test_queue_page_highlights_overdue_cases(client, signed_in_coordinator, make_case):
    case = make_case("Ben", "O'Ward", assessment_completed_on=date(2026, 9, 1))
    page = client.get("/cases/").text
    assert f'<a class="govuk-link" href="/cases/{case.id}">Ben O&#39;Ward</a>' in page
    assert "Overdue by" in page


def test_pasted_control_characters_are_dropped_not_fatal(client, signed_in_coordinator, school):
    """PostgreSQL cannot store NUL and XML documents cannot hold most control characters."""
    _screened(client)
    data = _intake_data(
        client, school, given_name="Amy\x00\x0b", strengths="Line one\nLine\ttwo\x07"
    )
    assert client.post("/cases/new/details", data=data).status_code == 302
    case = db.session.scalar(select(Case))
    assert case.child.given_name == "Amy"
    assert case.strengths == "Line one\nLine\ttwo"
