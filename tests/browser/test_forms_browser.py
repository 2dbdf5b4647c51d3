"""Forms that do not guess (issue 14 point 5), in Chromium, by keyboard where it matters and
without JavaScript where the page must still work: the intake's choices and its "Not listed"
school, the existing-CAF check's links, the progress update's "Not asked" and "Your account"."""

import re
from datetime import date

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.directory.models import AgencyType
from maf.extensions import db
from tests.browser.test_intake_browser import _choose, _fill_date
from tests.browser.test_valid_html import VNU_JAR, Pages, _report
from tests.conftest import PASSWORD, missing
from tests.outcomes.test_progress import (  # noqa: F401 (fixtures)
    case,
    first_meeting,
    forum,
    lead_user,
    requested,
    second_meeting,
)


def _intake_page(page):
    page.goto("/cases/new")
    _choose(page, "Is there a concern", "No")
    page.get_by_role("button", name="Continue").click()
    # Loaded, so the page's scripts (the reveal, the type-ahead) have run.
    page.wait_for_url("**/cases/new/details")
    page.wait_for_load_state()


def _fill_the_child_and_consent(page):
    page.get_by_label("Given name").fill("Liz")
    page.get_by_label("Family name").fill("Thompson")
    _fill_date(page, "date_of_birth", "17", "5", "2012")
    _choose(page, "Gender", "Female")
    page.get_by_label("Name of the practitioner who completed the CAF").fill("Daniel Kowalski")
    page.get_by_label("Their email address").fill("pastoral.lead@example.org")
    _fill_date(page, "assessment_completed_on", "2", "11", "2026")
    _choose(page, "Who gave consent", "A parent or carer")
    page.get_by_label("Their name").fill("Karen Thompson")
    _fill_date(page, "consent_given_on", "2", "11", "2026")
    _choose(page, "How was consent given?", "Written (signed)")
    _choose(page, "Consent to share the assessment", "Given")
    page.get_by_label("Members of the district multi-agency forum").check()


def test_the_intake_asks_for_agency_and_source_and_reveals_the_not_listed_school_box(
    page, coordinator, make_agency, sign_in_as, axe_violations
):
    charnwood = coordinator.districts[0]
    school = make_agency(name="Rawlins Academy", type=AgencyType.HIGH_SCHOOL, district=charnwood)
    db.session.commit()
    sign_in_as(coordinator)
    _intake_page(page)

    agency = page.get_by_label("Their agency")
    assert agency.evaluate("select => select.selectedOptions[0].text") == (
        "Select the referring agency"
    )
    source = page.get_by_label("Where the CAF came from")
    assert source.evaluate("select => select.selectedOptions[0].text") == (
        "Select where the CAF came from"
    )
    name_box = page.get_by_label("Name of school or setting")
    name_box.wait_for(state="hidden")  # until Not listed is chosen
    assert axe_violations() == []

    _fill_the_child_and_consent(page)
    page.get_by_role("button", name="Save and run the checks").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select the referring agency" in summary
    assert "Select where the CAF came from" in summary
    assert (
        page.locator("#referrer_agency-error").inner_text().endswith("Select the referring agency")
    )
    assert page.get_by_label("Given name").input_value() == "Liz", "typing kept"
    assert axe_violations() == []

    # By keyboard: focus the school select and choose Not listed with the arrow keys.
    page.get_by_label("School or setting", exact=True).focus()
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("School or setting", exact=True).input_value() == "not-listed"
    name_box.wait_for(state="visible")
    name_box.fill("Oakfield Short Stay School")
    agency.select_option(label=school.name)
    source.select_option(label="High school")
    page.get_by_role("button", name="Save and run the checks").click()

    expect(page.locator("main")).to_contain_text("CAF received as case")
    main = page.inner_text("main")
    assert re.search(r"School or setting\s+Oakfield Short Stay School", main)
    assert axe_violations() == []


def test_without_javascript_the_school_name_box_is_shown_and_read_only_for_not_listed(
    browser, live_server, coordinator, make_agency
):
    school = make_agency(name="Rawlins Academy", district=coordinator.districts[0])
    db.session.commit()
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(coordinator.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        _intake_page(page)
        name_box = page.get_by_label("Name of school or setting")
        assert name_box.is_visible()
        _fill_the_child_and_consent(page)
        page.get_by_label("School or setting", exact=True).select_option(label=school.name)
        name_box.fill("Typed, but a listed school was chosen")
        page.get_by_label("Their agency").select_option(label=school.name)
        page.get_by_label("Where the CAF came from").select_option(label="High school")
        page.get_by_role("button", name="Save and run the checks").click()
        expect(page.locator("main")).to_contain_text("CAF received as case")
        main = page.inner_text("main")
        assert re.search(r"School or setting\s+Rawlins Academy", main)
        assert "Typed, but" not in main
    finally:
        context.close()


def test_a_long_list_of_schools_is_searched_by_typing_and_not_listed_still_reveals_the_box(
    page, coordinator, make_agency, sign_in_as, axe_violations
):
    """A real district has dozens of schools: typing part of a name finds one (GOV.UK's
    accessible autocomplete, by keyboard)."""
    charnwood = coordinator.districts[0]
    for number in range(1, 21):
        make_agency(
            name=f"Charnwood Primary {number:02d}",
            type=AgencyType.PRIMARY_SCHOOL,
            district=charnwood,
        )
    make_agency(name="Rawlins Academy", type=AgencyType.HIGH_SCHOOL, district=charnwood)
    db.session.commit()
    sign_in_as(coordinator)
    _intake_page(page)
    box = page.get_by_role("combobox", name="School or setting")
    name_box = page.get_by_label("Name of school or setting")
    name_box.wait_for(state="hidden")
    box.fill("Rawl")
    page.locator(".autocomplete__option", has_text="Rawlins Academy").wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    assert (
        page.locator("select[name=school]").evaluate("select => select.selectedOptions[0].text")
        == "Rawlins Academy"
    )
    assert not name_box.is_visible()
    assert axe_violations() == []

    box.fill("Not list")
    page.locator(".autocomplete__option", has_text="Not listed").wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    name_box.wait_for(state="visible")
    name_box.fill("Oakfield Short Stay School")
    _fill_the_child_and_consent(page)
    page.get_by_label("Their agency").select_option(label="Rawlins Academy")
    page.get_by_label("Where the CAF came from").select_option(label="High school")
    page.get_by_role("button", name="Save and run the checks").click()
    expect(page.locator("main")).to_contain_text(
        re.compile(r"School or setting\s+Oakfield Short Stay School")
    )


def test_a_possible_match_opens_the_matched_childs_case(
    page, coordinator, make_case, sign_in_as, axe_violations
):
    earlier = make_case()
    newer = make_case(given_name="Jess")
    db.session.commit()
    sign_in_as(coordinator)
    page.goto(f"/cases/{newer.id}")
    assert axe_violations() == []
    page.get_by_role("link", name=f"Case {earlier.id} for Jessica Thompson").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jessica Thompson")
    expect(page).to_have_url(re.compile(rf"/cases/{earlier.id}$"))


def test_the_progress_update_offers_not_asked_and_shows_it_once_sent(
    page,
    requested,  # noqa: F811
    lead_user,  # noqa: F811
    case,  # noqa: F811
    sign_in_as,
    axe_violations,
):
    sign_in_as(lead_user)
    page.goto(f"/progress/{requested.id}")
    for group in page.get_by_role("group").all():
        legend = group.locator("legend").first.inner_text()
        if re.match(r"\d\. ", legend):
            choice = "Not asked" if legend.startswith("3.") else "Good"
        elif group.get_by_label("In progress", exact=True).count():
            choice = "In progress"
        else:
            continue
        group.get_by_label(choice, exact=True).check()
    assert axe_violations() == []
    page.get_by_label("Summary of progress since the last meeting").fill("Going well.")
    page.get_by_role("button", name="Send the update").click()
    expect(page.locator("main")).to_contain_text("Your progress update has been sent")
    expect(page.locator("main")).not_to_contain_text("There is a problem")
    page.goto(f"/progress/{requested.id}")
    assert (
        page.get_by_role("group", name=re.compile(r"^3\. "))
        .get_by_label("Not asked", exact=True)
        .is_checked()
    )


def test_your_account_shows_your_details_first_and_is_axe_clean(
    page, make_user, make_forum, sign_in_as, axe_violations
):
    chair = make_user(Role.CHAIR, name="Margaret Okafor", email="margaret.okafor@example.org")
    make_forum(chair=chair)
    sign_in_as(chair)
    page.get_by_role("link", name="Your account").click()
    # Waits for the account page to load: the headings read at once could be the last page's.
    expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(
        ["Your details", "Your forums", "Security"]
    )
    main = page.inner_text("main")
    assert "margaret.okafor@example.org" in main
    assert re.search(r"Charnwood multi-agency forum\s+Charnwood\s+Chair", main)
    assert axe_violations() == []


def test_the_changed_pages_are_valid_html_in_each_state(
    page,
    coordinator,
    make_case,
    make_user,
    make_district,
    make_agency,
    requested,  # noqa: F811
    lead_user,  # noqa: F811
    sign_in_as,
    tmp_path,
):
    """The Nu HTML checker on the states the site walk (test_valid_html) does not reach: the
    intake with its errors, a case with possible matches in and out of reach, the progress
    update as sent with a question not asked, and Your account."""
    if not VNU_JAR.exists():
        missing("vnu-jar (npm ci)")
    for number in range(1, 17):  # enough for the type-ahead
        make_agency(
            name=f"Charnwood Primary {number:02d}",
            type=AgencyType.PRIMARY_SCHOOL,
            district=coordinator.districts[0],
        )
    melton = make_district("Melton")
    sam = make_user(Role.COORDINATOR, name="Sam Okoro", districts=[melton])
    make_case(district=melton, user=sam)  # out of the coordinator's reach
    make_case(date_of_birth=date(2012, 5, 18))  # in reach
    newer = make_case(given_name="Jess")
    db.session.commit()
    assert len(newer.match_candidates) >= 2
    pages = Pages(tmp_path)

    sign_in_as(coordinator)
    _intake_page(page)
    page.get_by_role("combobox", name="School or setting").wait_for()
    pages.add("coord", "/cases/new/details", page.content(), "with its type-ahead")
    page.get_by_role("button", name="Save and run the checks").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    pages.add("coord", "/cases/new/details", page.content(), "every error")
    page.goto(f"/cases/{newer.id}")
    assert "Held by Melton" in page.inner_text("main")
    pages.add("coord", f"/cases/{newer.id}", page.content(), "matches in and out of reach")
    page.goto("/account")
    pages.add("coord", "/account", page.content())
    page.get_by_role("button", name="Sign out").click()

    sign_in_as(lead_user)
    page.goto(f"/progress/{requested.id}")
    page.get_by_role("button", name="Send the update").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    pages.add("lead", f"/progress/{requested.id}", page.content(), "every error")
    page.goto("/account")
    pages.add("lead", "/account", page.content())

    errors = pages.errors()
    assert errors == {}, _report(errors, len(pages.origin))
