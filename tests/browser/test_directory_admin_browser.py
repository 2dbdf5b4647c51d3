"""An administrator sets up districts and agencies in Chromium (issue 15 point 1): adds a
district, adds an agency working in two districts with an email domain, edits it with the
keyboard alone, and merges a duplicate into it; axe finds nothing on any of these pages."""

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.directory import services
from maf.directory.models import AgencyType
from maf.extensions import db

MAX_TABS = 60


def _tab_to(page, selector: str) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through a form."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_admin_adds_a_district_and_an_agency_edits_it_and_merges_a_duplicate(
    page, sign_in_as, axe_violations, make_user, make_agency, coordinator
):
    charnwood = coordinator.districts[0]
    admin = make_user(Role.ADMIN, name="Amira Khan")
    duplicate = make_agency(name="Blaby School Nurses", type=AgencyType.HEALTH)
    make_user(Role.PRACTITIONER, name="Nell Nurse", agency=duplicate)
    db.session.commit()

    sign_in_as(admin)
    page.get_by_role("link", name="Set-up").click()
    expect(page.get_by_role("heading", name="Agencies", exact=True)).to_be_visible()
    assert axe_violations() == []

    # A district, from the districts page.
    page.get_by_role("link", name="Districts", exact=True).click()
    page.get_by_role("button", name="Add a district").click()
    expect(page.get_by_role("heading", name="Add a district")).to_be_visible()
    assert axe_violations() == []
    page.get_by_label("District name").fill("Blaby")
    page.get_by_role("button", name="Save district").click()
    expect(page.get_by_role("heading", name="Blaby")).to_be_visible()
    expect(page.get_by_text("Blaby saved.")).to_be_visible()

    # An agency in two districts with an email domain; a bad domain first, shown beside it.
    page.goto("/agencies")
    page.get_by_role("button", name="Add an agency").click()
    expect(page.get_by_role("heading", name="Add an agency")).to_be_visible()
    page.get_by_label("Agency name").fill("Blaby and Charnwood School Nursing")
    page.get_by_label("Type of agency").select_option(label="Health")
    page.get_by_label("Universal").check()
    page.get_by_label("Blaby").check()
    page.get_by_label("Charnwood").check()
    page.get_by_label("Email domains").fill("school nursing")
    page.get_by_role("button", name="Save agency").click()
    expect(page.locator("#email_domains-error")).to_contain_text("school, nursing are not domains")
    expect(page.get_by_label("Agency name")).to_have_value("Blaby and Charnwood School Nursing")
    expect(page.get_by_label("Charnwood")).to_be_checked()
    assert axe_violations() == []
    page.get_by_label("Email domains").fill("SchoolNursing.example.org")
    page.get_by_role("button", name="Save agency").click()
    expect(page.get_by_role("heading", name="Blaby and Charnwood School Nursing")).to_be_visible()
    works_in = page.locator(".govuk-summary-list__row", has_text="Works in")
    expect(works_in).to_contain_text("Blaby, Charnwood")
    expect(page.locator(".govuk-summary-list__row", has_text="Email domains")).to_contain_text(
        "schoolnursing.example.org"
    )
    assert axe_violations() == []

    # Edited with the keyboard alone: Charnwood unticked.
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(
        page.get_by_role("heading", name="Edit Blaby and Charnwood School Nursing")
    ).to_be_visible()
    assert axe_violations() == []
    page.locator("body").focus()
    _tab_to(page, f'input[name="districts"][value="{charnwood.id}"]')
    page.keyboard.press("Space")
    _tab_to(page, 'button[type="submit"], input[type="submit"]')
    page.keyboard.press("Enter")
    expect(page.get_by_text("Blaby and Charnwood School Nursing saved.")).to_be_visible()
    expect(works_in).to_have_text("Works in Blaby")
    kept = services.agency_for_email("nurse@schoolnursing.example.org")
    assert kept is not None and [d.name for d in kept.districts] == ["Blaby"]

    # The duplicate merged into it: the page says what moves before anything does.
    page.goto(f"/agencies/{duplicate.id}")
    page.get_by_role("button", name="Merge into another agency").click()
    expect(page.get_by_role("heading", name="Merge a duplicate agency")).to_be_visible()
    assert axe_violations() == []
    page.get_by_label("Agency to keep").select_option(label="Blaby and Charnwood School Nursing")
    page.get_by_role("button", name="See what moves").click()
    expect(page.locator("#uses")).to_contain_text("1 user accounts")
    assert axe_violations() == []
    page.get_by_role(
        "button", name="Merge Blaby School Nurses into Blaby and Charnwood School Nursing"
    ).click()
    expect(page.get_by_text("Blaby School Nurses merged into")).to_be_visible()
    expect(page.locator("#uses")).to_contain_text("1 user accounts")
    db.session.expire_all()
    assert duplicate.merged_into == kept and duplicate.retired
