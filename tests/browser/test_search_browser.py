"""Finding a case in Chromium (issue 16 points 1 and 2): a coordinator finds a child by a
misspelt name (the matcher's explanation shown), by NHS number and by date of birth; another
district's coordinator finds nothing; a practitioner sees only their referrals; the case list's
filter and sort work from the keyboard. axe-core and the Nu HTML checker find nothing on the
search, its results, the list and My referrals."""

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maf.auth.models import Role
from maf.cases.models import CaseStatus
from maf.extensions import db
from tests.browser.conftest import axe_violations_on, signed_in_context, tab_to
from tests.browser.test_valid_html import VNU_JAR, Pages, _report
from tests.conftest import missing

NHS_NUMBER = "9434765919"


@pytest.fixture
def children(make_case, make_user, make_district):
    jessica = make_case("Jessica", "Thompson", date(2012, 5, 17), "LE11 3TU", nhs_number=NHS_NUMBER)
    oliver = make_case("Oliver", "Patel", date(2013, 2, 3), "LE12 7AB")
    oliver.status = CaseStatus.OPEN
    # Another practitioner's referral, which the referrer below must not see.
    jake = make_case("Jake", "Thompson", date(2010, 9, 1), "LE11 3TU")
    jake.referrer_user = None
    db.session.commit()
    return jessica, oliver, jake


@pytest.fixture
def checked_pages():
    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    folder = tempfile.TemporaryDirectory(prefix="maf-vnu-")
    pages = Pages(Path(folder.name))
    yield pages
    assert VNU_JAR.exists(), "vnu-jar is missing: run `npm ci` (make test does)"
    errors = pages.errors()
    folder.cleanup()
    assert errors == {}, _report(errors, len(pages.origin))


def _checker(page, pages, axe_source, actor):
    def clean(what):
        assert axe_violations_on(page, axe_source) == [], what
        pages.add(actor, page.url, page.content(), what)

    return clean


def _search(page, **boxes):
    page.goto("/search")
    for label, value in boxes.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Search").press("Enter")
    expect(page.locator("#results")).to_be_visible()


def test_a_coordinator_finds_a_child_by_misspelt_name_nhs_number_and_date_of_birth(
    browser, live_server, coordinator, children, axe_source, checked_pages
):
    jessica = children[0]
    context, page = signed_in_context(browser, live_server, coordinator)
    clean = _checker(page, checked_pages, axe_source, "coord")
    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    page.get_by_role("link", name="search by name or number").click()
    expect(page.get_by_role("heading", name="Find a case")).to_be_visible()
    clean("the search")

    page.get_by_label("Name", exact=True).fill("Jesica Thomson")
    page.get_by_label("Day").fill("17")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("2012")
    page.get_by_role("button", name="Search").press("Enter")
    expect(page.locator("#results")).to_have_text("1 case found")
    row = page.get_by_role("row").filter(has_text="Jessica Thompson")
    expect(row).to_contain_text("Given name sounds alike (Jesica / Jessica)")
    expect(row).to_contain_text("Same date of birth")
    expect(row).to_contain_text("Charnwood")
    # What was typed stays in the boxes.
    expect(page.get_by_label("Name", exact=True)).to_have_value("Jesica Thomson")
    clean("results by a misspelt name")

    _search(page, **{"NHS number": "943 476 5919"})
    expect(page.locator("#results")).to_have_text("1 case found")
    expect(page.get_by_role("link", name="Jessica Thompson")).to_have_attribute(
        "href", f"/cases/{jessica.id}"
    )

    page.goto("/search")
    page.get_by_label("Day").fill("17")
    page.get_by_label("Month").fill("05")
    page.get_by_label("Year").fill("2012")
    page.get_by_role("button", name="Search").press("Enter")
    expect(page.locator("#results")).to_have_text("1 case found")
    expect(page.get_by_role("link", name="Jessica Thompson")).to_be_visible()

    # A malformed NHS number: the message beside the box, the error summary, what was typed kept.
    page.goto("/search")
    page.get_by_label("NHS number").fill("943 476 5918")
    page.get_by_role("button", name="Search").press("Enter")
    expect(page.locator("#nhs_number-error")).to_contain_text("Enter a valid NHS number")
    expect(page.get_by_label("NHS number")).to_have_value("943 476 5918")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    clean("the search with an error")
    context.close()


def test_another_districts_coordinator_finds_nothing(
    browser, live_server, make_user, make_district, children
):
    melton = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    context, page = signed_in_context(browser, live_server, melton)
    _search(page, **{"NHS number": NHS_NUMBER})
    expect(page.locator("#results")).to_have_text("No cases found")
    page.goto("/search")
    page.get_by_label("Name", exact=True).fill("Jessica Thompson")
    page.get_by_role("button", name="Search").press("Enter")
    expect(page.locator("#results")).to_have_text("No cases found")
    page.goto("/case-list")
    expect(page.locator("#results")).to_have_text("No cases match")
    context.close()


def test_a_practitioner_sees_only_their_referrals(
    browser, live_server, make_user, children, axe_source, checked_pages
):
    jessica, oliver, jake = children
    # make_case records "pastoral.lead@example.org" as the referrer; matched at intake.
    referrer = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org", name="Dan K")
    for case in (jessica, oliver):
        case.referrer_user = referrer
    db.session.commit()
    context, page = signed_in_context(browser, live_server, referrer)
    clean = _checker(page, checked_pages, axe_source, "referrer")
    page.get_by_role("link", name="My referrals").click()
    expect(page.get_by_role("heading", name="My referrals")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two referrals
    expect(table).to_contain_text("Jessica Thompson")
    expect(table).to_contain_text("Oliver Patel")
    expect(table).not_to_contain_text("Jake")
    expect(page.get_by_role("link", name="Cases", exact=True)).to_have_count(0)
    clean("my referrals")
    context.close()


def test_the_case_list_filters_and_sorts_from_the_keyboard(
    browser, live_server, coordinator, children, axe_source, checked_pages
):
    jessica, oliver, jake = children
    context, page = signed_in_context(browser, live_server, coordinator)
    clean = _checker(page, checked_pages, axe_source, "coord")
    page.goto("/case-list")
    expect(page.locator("#results")).to_have_text("3 cases")
    clean("the case list")

    tab_to(page, "#status-5")  # Open
    expect(page.locator("#status-5")).to_have_attribute("value", "open")
    page.keyboard.press("Space")
    tab_to(page, "#apply-filters")
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_have_text("1 case")
    assert "status=open" in page.url
    expect(page.get_by_role("table")).to_contain_text("Oliver Patel")
    clean("the case list filtered")

    page.goto("/case-list")
    header = page.get_by_role("columnheader", name="Child")
    expect(header).to_have_attribute("aria-sort", "none")
    tab_to(page, "a.maf-sort-link[href*='sort=child']")
    page.keyboard.press("Enter")
    header = page.get_by_role("columnheader", name="Child")
    expect(header).to_have_attribute("aria-sort", "ascending")
    rows = page.get_by_role("table").get_by_role("row")
    # Family names A to Z: Patel, Thompson (Jake, Jessica by given name).
    expect(rows.nth(1)).to_contain_text("Oliver Patel")
    expect(rows.nth(2)).to_contain_text("Jake Thompson")
    expect(rows.nth(3)).to_contain_text("Jessica Thompson")
    tab_to(page, "a.maf-sort-link[href*='sort=child']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name="Child")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text("Jessica Thompson")
    clean("the case list sorted")
    context.close()


def test_the_list_filters_and_sorts_without_javascript(browser, live_server, coordinator, children):
    context, page = signed_in_context(browser, live_server, coordinator, javascript=False)
    page.goto("/case-list")
    page.get_by_label("Open", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results")).to_have_text("1 case")
    page.get_by_role("link", name="District").click()
    expect(page.get_by_role("columnheader", name="District")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.locator("#results")).to_have_text("1 case")  # the filter is kept
    context.close()
