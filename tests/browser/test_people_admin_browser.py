"""An administrator runs people in Chromium (issue 15 point 1): finds a person with the People
page's filters, changes their districts with the keyboard alone, deactivates them (their own
browser is signed out) and reactivates them; axe finds nothing on any of these pages."""

import re

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.extensions import db
from tests.browser.conftest import signed_in_context, tab_to


def test_an_admin_finds_a_person_changes_their_districts_deactivates_and_reactivates_them(
    page,
    browser,
    live_server,
    sign_in_as,
    axe_violations,
    make_user,
    make_district,
    make_agency,
    coordinator,
):
    charnwood = coordinator.districts[0]
    melton = make_district("Melton")
    hub = make_agency(name="Melton Family Hub")
    admin = make_user(Role.ADMIN, name="Amira Khan")
    nadia = make_user(Role.PRACTITIONER, name="Nadia Hussain", agency=hub, districts=[melton])
    make_user(Role.PRACTITIONER, name="Noah Hughes", districts=[charnwood])
    make_user(Role.CHAIR, name="Nadine Hall", districts=[melton])
    their_context, their_page = signed_in_context(browser, live_server, nadia)

    sign_in_as(admin)
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    assert axe_violations() == []

    # Practitioners in Melton: Nadia only (Noah is in Charnwood, Nadine chairs).
    page.get_by_label("Name or email address").fill("na")
    page.get_by_label("Practitioner").check()
    page.get_by_label("District").select_option(label="Melton")
    page.get_by_role("button", name="Find people").click()
    expect(page.get_by_role("heading", name="1 person")).to_be_visible()
    expect(page.get_by_label("District")).to_have_value(str(melton.id))  # the filter stays
    page.get_by_role("link", name="Nadia Hussain").click()
    expect(page.get_by_role("heading", name="Nadia Hussain")).to_be_visible()
    assert axe_violations() == []

    # Her districts, changed with the keyboard alone: Charnwood added, Melton kept.
    page.get_by_role("link", name="Change their roles, districts and agency").click()
    expect(page.get_by_role("heading", name="Change roles, districts and agency")).to_be_visible()
    assert axe_violations() == []
    tab_to(page, f'input[name="districts"][value="{charnwood.id}"]')
    page.keyboard.press("Space")
    tab_to(page, 'button[type="submit"], input[type="submit"]')
    page.keyboard.press("Enter")
    expect(page.get_by_text("Saved: Nadia Hussain's districts.")).to_be_visible()
    districts = page.locator(".govuk-summary-list__row", has_text="Districts")
    expect(districts).to_contain_text("Charnwood, Melton")
    db.session.expire_all()
    assert [district.name for district in nadia.districts] == ["Charnwood", "Melton"]

    # Deactivated: confirmed first, and her own browser is signed out at its next request.
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_role("heading", name="Deactivate their account?")).to_be_visible()
    assert axe_violations() == []
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_text("account is deactivated")).to_be_visible()
    expect(page.locator(".govuk-tag", has_text="Deactivated")).to_be_visible()
    assert axe_violations() == []
    their_page.goto("/")
    their_page.wait_for_url(re.compile(r"/sign-in"))

    page.get_by_role("button", name="Reactivate account").click()
    expect(page.get_by_text("account is active again")).to_be_visible()
    expect(page.get_by_role("button", name="Deactivate account")).to_be_visible()
    db.session.expire_all()
    assert nadia.active
    their_context.close()
