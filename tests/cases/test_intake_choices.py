"""The intake form does not guess (issue 14 point 5): no referring agency or source is chosen
until the coordinator chooses one, and the child's school is one of the district's schools or
a name typed because it is not listed."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from maf.cases.models import Case, Child, MatchVerdict
from maf.cases.services import CaseError, decide_candidate
from maf.directory.models import AgencyType
from maf.extensions import db
from tests.cases.test_case_pages import _intake_data, _screened


@pytest.fixture
def signed_in_coordinator(client, coordinator, sign_in):
    sign_in(coordinator)
    return coordinator


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no {name} select on the page"
    return match.group(1)


def _options(html: str, name: str) -> list[str]:
    return [
        text.strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", _select(html, name))
    ]


def _selected(html: str, name: str) -> list[str]:
    return [
        text.strip()
        for text in re.findall(r"<option[^>]*selected[^>]*>(.*?)</option>", _select(html, name))
    ]


def _error_beside(html: str, name: str) -> str:
    match = re.search(
        rf'<p id="{name}-error" class="govuk-error-message">\s*'
        r'<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>',
        html,
        re.S,
    )
    assert match, f"no error beside {name}"
    return match.group(1)


def _post(client, agency, **overrides):
    _screened(client)
    data = _intake_data(client, agency)
    data.update(overrides)
    return client.post("/cases/new/details", data=data)


def test_the_intake_chooses_no_referring_agency_and_no_source_for_the_coordinator(
    client, signed_in_coordinator, school
):
    _screened(client)
    page = client.get("/cases/new/details").text
    # A browser shows a select's first option as chosen: that option is the blank prompt.
    assert _options(page, "referrer_agency")[0] == "Select the referring agency"
    assert school.name in _options(page, "referrer_agency")
    assert _selected(page, "referrer_agency") in ([], ["Select the referring agency"])
    assert _options(page, "setting_type")[0] == "Select where the CAF came from"
    assert _selected(page, "setting_type") in ([], ["Select where the CAF came from"])


def test_an_intake_sent_without_an_agency_or_source_says_so_beside_each_and_keeps_the_typing(
    client, signed_in_coordinator, school
):
    response = _post(client, school, referrer_agency="", setting_type="")
    html = response.text
    assert _error_beside(html, "referrer_agency") == "Select the referring agency"
    assert _error_beside(html, "setting_type") == "Select where the CAF came from"
    assert 'href="#referrer_agency"' in html, "the error summary links to the field"
    assert 'value="Daniel Kowalski"' in html, "what was typed is kept"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_agency_that_is_not_on_the_list_gets_the_same_plain_message(
    client, signed_in_coordinator, school
):
    """A value the list does not hold (a stale page, an agency since retired) is told as a
    choice still to make, not in words made from the label ("Select the their agency")."""
    response = _post(client, school, referrer_agency="999999", setting_type="nowhere")
    assert _error_beside(response.text, "referrer_agency") == "Select the referring agency"
    assert _error_beside(response.text, "setting_type") == "Select where the CAF came from"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_school_is_chosen_from_the_districts_schools_only(
    client, signed_in_coordinator, make_agency, make_district
):
    charnwood = signed_in_coordinator.districts[0]
    own = make_agency(name="Rawlins Academy", type=AgencyType.HIGH_SCHOOL, district=charnwood)
    nursery = make_agency(name="Little Acorns", type=AgencyType.EARLY_YEARS, district=charnwood)
    elsewhere = make_agency(
        name="Melton Vale Sixth Form", type=AgencyType.COLLEGE, district=make_district("Melton")
    )
    health = make_agency(
        name="Charnwood Health Visitors", type=AgencyType.HEALTH, district=charnwood
    )
    db.session.commit()
    _screened(client)
    options = _options(client.get("/cases/new/details").text, "school")
    assert options[:2] == ["Not known or not at a school", "Not listed (type its name below)"]
    assert own.name in options and nursery.name in options
    assert elsewhere.name not in options, "another district's school is not offered"
    assert health.name not in options, "an agency that is not a school or setting is not offered"

    response = _post(client, own, school=str(elsewhere.id))
    assert _error_beside(response.text, "school") == "Select the school or setting"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0

    response = _post(client, own, school=str(own.id), school_name="Typed but not used")
    assert response.status_code == 302, response.text
    child = db.session.scalar(select(Child))
    assert child.school == own and child.school_name is None
    assert "Rawlins Academy" in client.get(response.headers["Location"]).text


def test_a_school_not_listed_is_typed_and_shown_on_the_case(client, signed_in_coordinator, school):
    response = _post(client, school, school="not-listed", school_name="")
    assert (
        _error_beside(response.text, "school_name")
        == "Enter the name of the school or setting, as it is not listed"
    )
    response = _post(client, school, school="not-listed", school_name="  Oakfield Short Stay  ")
    assert response.status_code == 302, response.text
    child = db.session.scalar(select(Child))
    assert child.school is None
    assert child.school_or_setting == "Oakfield Short Stay"
    page = client.get(response.headers["Location"]).text
    assert re.search(r"School or setting\s*</dt>\s*<dd[^>]*>\s*Oakfield Short Stay", page)


def test_not_known_stores_no_school_and_the_case_says_not_known(
    client, signed_in_coordinator, school
):
    response = _post(client, school, school="0", school_name="Ignored unless Not listed")
    assert response.status_code == 302, response.text
    child = db.session.scalar(select(Child))
    assert child.school is None and child.school_name is None
    assert child.school_or_setting is None
    page = client.get(response.headers["Location"]).text
    assert re.search(r"School or setting\s*</dt>\s*<dd[^>]*>\s*Not known", page)


def test_the_name_box_is_revealed_by_not_listed_and_is_there_without_script(
    client, signed_in_coordinator
):
    _screened(client)
    page = client.get("/cases/new/details").text
    reveal = re.search(r'<div[^>]*id="school-name-reveal"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert reveal and 'name="school_name"' in reveal.group(1)
    assert 'data-maf-reveal-value="not-listed"' in page
    assert "hidden" not in reveal.group(0).split(">")[0], "shown until script hides it"
    assert "js/intake.mjs" in page


def test_a_newer_caf_with_a_school_not_listed_updates_the_childs_school(
    make_case, coordinator, make_agency
):
    """Seed 002 A4: the same child's newer CAF brings the school up to date."""
    listed = make_agency(name="Rawlins Academy", type=AgencyType.HIGH_SCHOOL)
    first = make_case(school=listed)
    second = make_case(school_name="Oakfield Short Stay", date_of_birth=date(2012, 5, 17))
    candidate = next(c for c in second.match_candidates if c.child_id == first.child_id)
    decide_candidate(second, candidate, MatchVerdict.SAME, coordinator)
    db.session.refresh(first)
    assert first.child.school_or_setting == "Oakfield Short Stay"
    assert first.child.school is None


def test_a_school_of_another_district_is_refused_by_the_service_beside_the_school(
    make_case, make_agency, make_district
):
    """A coordinator of two districts is offered both districts' schools: the school must be
    one of the district the case is referred to."""
    melton = make_agency(
        name="Melton Vale Sixth Form", type=AgencyType.COLLEGE, district=make_district("Melton")
    )
    with pytest.raises(CaseError) as refused:
        make_case(school=melton)
    assert refused.value.field == "school"
    assert str(refused.value).startswith("Melton Vale Sixth Form is not a school in Charnwood")
    health = make_agency(name="Charnwood Health Visitors", type=AgencyType.HEALTH)
    with pytest.raises(CaseError, match="not another kind of agency"):
        make_case(school=health)
