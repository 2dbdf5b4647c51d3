"""The districts and agencies pages an administrator uses (issue 15 point 1): errors beside
the field with nothing typed lost, versioned edits, confirm pages, and nobody else allowed."""

import html as html_module
import re

import pytest
from sqlalchemy import select

from maf.auth.models import Role
from maf.dbtypes import utcnow
from maf.directory.models import Agency, AgencyType, District
from maf.extensions import db
from tests.conftest import csrf_token_from, submit


@pytest.fixture
def admin(make_user, sign_in):
    user = make_user(Role.ADMIN, name="Ada Admin", email="ada.admin@example.org")
    sign_in(user)
    return user


def _error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    assert match, f"no error beside {field}"
    return html_module.unescape(re.sub(r"<[^>]+>|\s+", " ", match.group(1))).strip()


def test_an_admin_adds_a_district_and_its_slug_follows_the_name(client, admin, make_district):
    response = submit(client, "/districts/new", {"name": "  Hinckley &  Bosworth "})
    assert response.status_code == 302
    district = db.session.scalar(select(District).where(District.name == "Hinckley & Bosworth"))
    assert district.slug == "hinckley-bosworth"
    assert response.headers["Location"] == f"/districts/{district.id}"

    make_district("Melton")
    again = submit(client, "/districts/new", {"name": "melton"})
    assert again.status_code == 200
    assert "A district called Melton already exists" in _error_beside(again.text, "name")
    assert 'value="melton"' in again.text, "what was typed is kept"

    renamed = submit(client, f"/districts/{district.id}/edit", {"name": "Hinckley and Bosworth"})
    assert renamed.status_code == 302
    db.session.refresh(district)
    assert (district.name, district.slug) == ("Hinckley and Bosworth", "hinckley-and-bosworth")


def test_a_district_renamed_from_a_page_opened_before_someone_else_s_save_is_refused(
    client, admin, make_district
):
    district = make_district("Charnwood")
    page = client.get(f"/districts/{district.id}/edit")
    token = csrf_token_from(page.text)
    first = client.post(
        f"/districts/{district.id}/edit",
        data={"name": "Charnwood Borough", "version": district.version, "csrf_token": token},
    )
    assert first.status_code == 302
    second = client.post(
        f"/districts/{district.id}/edit",
        data={"name": "Charnwood District", "version": "1", "csrf_token": token},
    )
    assert second.status_code == 409
    assert "Someone else saved this after you opened it" in second.text
    assert 'value="Charnwood District"' in second.text
    db.session.refresh(district)
    assert district.name == "Charnwood Borough"


def test_an_admin_adds_an_agency_in_two_districts_with_a_domain(client, admin, make_district):
    charnwood, melton = make_district("Charnwood"), make_district("Melton")
    response = submit(
        client,
        "/agencies/new",
        {
            "name": "Leicestershire Partnership NHS Trust",
            "type": AgencyType.HEALTH.value,
            "tier": "universal",
            "districts": [str(charnwood.id), str(melton.id)],
            "email_domains": "LPT.nhs.uk\r\n",
        },
    )
    assert response.status_code == 302
    agency = db.session.scalar(select(Agency).where(Agency.name.startswith("Leicestershire")))
    assert agency.districts == [charnwood, melton] and agency.email_domains == ["lpt.nhs.uk"]
    shown = client.get(response.headers["Location"]).text
    assert "Charnwood, Melton" in shown and "lpt.nhs.uk" in shown


def test_a_bad_or_taken_domain_is_refused_beside_the_field_keeping_what_was_typed(
    client, admin, make_agency
):
    make_agency(name="Rawlins Academy", email_domains=["rawlins.leics.sch.uk"])
    typed = {"name": "Rawlins Sixth Form", "type": "college", "tier": "universal"}
    bad = submit(client, "/agencies/new", {**typed, "email_domains": "rawlins\nsixth.org.uk"})
    assert bad.status_code == 200
    assert "rawlins is not a domain" in _error_beside(bad.text, "email_domains")
    assert "rawlins\nsixth.org.uk" in bad.text and 'value="Rawlins Sixth Form"' in bad.text
    taken = submit(client, "/agencies/new", {**typed, "email_domains": "rawlins.leics.sch.uk"})
    assert "already a domain of Rawlins Academy" in _error_beside(taken.text, "email_domains")
    assert db.session.scalar(select(Agency).where(Agency.name == "Rawlins Sixth Form")) is None


def test_the_list_filters_by_type_district_and_status_and_ignores_nonsense(
    client, admin, make_agency, make_district
):
    charnwood = make_district("Charnwood")
    make_agency(name="Rawlins Academy", district=charnwood)
    make_agency(name="Melton Vale", type=AgencyType.COLLEGE, district=make_district("Melton"))
    make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    gone = make_agency(name="Limehurst Academy", district=charnwood)
    gone.retired_at = utcnow()
    db.session.commit()

    def names(query):
        html = client.get(f"/agencies?{query}").text
        return re.findall(r'href="/agencies/\d+">([^<]+)</a>', html)

    assert names("") == ["Leicestershire Police", "Melton Vale", "Rawlins Academy"]
    assert names(f"district={charnwood.id}") == ["Leicestershire Police", "Rawlins Academy"]
    assert names("type=college") == ["Melton Vale"]
    assert names("status=retired") == ["Limehurst Academy"]
    assert "Limehurst Academy" in names("status=all")
    response = client.get("/agencies?type=%00&district=99999999999999&status=<script>")
    assert response.status_code == 200


def test_retire_and_merge_go_through_their_confirm_pages(client, admin, make_agency, make_user):
    duplicate = make_agency(name="Charnwood Family Hub")
    keep = make_agency(name="Charnwood Early Help Hub")
    make_user(Role.PRACTITIONER, name="Hana Hub", agency=duplicate)

    choose = client.get(f"/agencies/{duplicate.id}/merge")
    assert choose.status_code == 200 and "What moves" not in choose.text
    nothing = client.get(f"/agencies/{duplicate.id}/merge?keep=0")
    assert "Select the agency to keep" in _error_beside(nothing.text, "keep")
    page = f"/agencies/{duplicate.id}/merge?keep={keep.id}"
    shown = client.get(page).text
    assert "What moves to Charnwood Early Help Hub" in shown and "1 user accounts" in shown
    merged = submit(client, page, {})
    assert merged.status_code == 302
    assert merged.headers["Location"] == f"/agencies/{keep.id}"
    db.session.expire_all()
    assert duplicate.merged_into == keep and duplicate.retired
    assert "Merged into" in client.get(f"/agencies/{duplicate.id}").text

    retired = submit(client, f"/agencies/{keep.id}/retire", {})
    assert retired.status_code == 302
    db.session.expire_all()
    assert keep.retired
    assert "Retired" in client.get("/agencies?status=retired").text
    reinstated = submit(client, f"/agencies/{keep.id}/reinstate", {})
    assert reinstated.status_code == 302
    db.session.expire_all()
    assert not keep.retired


def test_nobody_but_an_admin_changes_an_agency_or_a_district(
    client, coordinator, sign_in, make_agency
):
    sign_in(coordinator)
    agency = make_agency(name="Charnwood Family Hub")
    district = coordinator.districts[0]
    token = csrf_token_from(client.get("/").text)
    for url, data in [
        ("/agencies/new", {"name": "Sneaky", "type": "health", "tier": "universal"}),
        (f"/agencies/{agency.id}/edit", {"name": "Sneaky", "type": "health", "tier": "universal"}),
        (f"/agencies/{agency.id}/retire", {}),
        (f"/agencies/{agency.id}/merge?keep={agency.id}", {}),
        ("/districts/new", {"name": "Sneaky"}),
        (f"/districts/{district.id}/edit", {"name": "Sneaky"}),
    ]:
        response = client.post(url, data={**data, "csrf_token": token, "version": "1"})
        assert response.status_code == 403, url
    db.session.expire_all()
    assert agency.name == "Charnwood Family Hub" and not agency.retired
    assert district.name == "Charnwood"
    assert "Add a district" not in client.get("/districts").text


def test_a_retired_agency_is_still_shown_where_it_was_named_marked_retired(
    client, admin, make_agency, make_forum, make_user
):
    from maf.forums import services as forum_services
    from maf.forums.models import MemberRole

    closing = make_agency(name="Limehurst Academy")
    forum = make_forum()
    forum_services.add_member(
        forum,
        name="Ted Teacher",
        email="ted@example.org",
        agency=closing,
        role=MemberRole.STANDING,
        user=admin,
    )
    person = make_user(Role.PRACTITIONER, name="Tia Teacher", agency=closing)
    assert submit(client, f"/agencies/{closing.id}/retire", {}).status_code == 302
    assert "Limehurst Academy (retired)" in client.get(f"/forums/{forum.id}").text
    assert "Limehurst Academy (retired)" in client.get(f"/people/{person.id}").text
    form = client.get(f"/forums/{forum.id}").text.split('id="members"')[1]
    assert f'value="{closing.id}"' not in form, "not offered to a new member"


def test_an_agency_form_sent_empty_says_what_is_missing_beside_each_field(client, admin):
    response = submit(client, "/agencies/new", {})
    assert response.status_code == 200
    assert "Enter the agency's name" in _error_beside(response.text, "name")
    assert "Select the type of agency" in _error_beside(response.text, "type")
    assert "Select the agency's tier" in _error_beside(response.text, "tier")


def test_a_persons_agency_form_offers_agencies_in_use_and_their_own_even_if_retired(
    client, admin, make_agency, make_user
):
    own = make_agency(name="Limehurst Academy")
    other = make_agency(name="Cobden Primary")
    person = make_user(Role.PRACTITIONER, name="Tia Teacher", agency=own)
    own.retired_at = other.retired_at = utcnow()
    db.session.commit()
    page = client.get(f"/people/{person.id}/access").text
    assert "Limehurst Academy (retired)" in page
    assert "Cobden Primary" not in page
