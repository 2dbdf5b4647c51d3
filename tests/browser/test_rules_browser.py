"""Local rules and the public pages in Chromium (issue 15 points 4 and 5): an admin changes the
review interval and, with the keyboard alone, the first-meeting deadline, and reads their
history; edits the privacy notice; a signed-out visitor reads both pages from the footer. Axe
finds nothing on any of these pages."""

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.rules import services as rules
from tests.browser.conftest import axe_violations_on, tab_to


def test_an_admin_changes_rules_and_the_privacy_notice_and_a_visitor_reads_them(
    page, browser, live_server, sign_in_as, axe_violations, axe_source, make_user
):
    admin = make_user(Role.ADMIN, name="Amira Khan")
    sign_in_as(admin)
    page.get_by_role("link", name="Local rules").click()
    expect(page.get_by_role("heading", name="Local rules", exact=True)).to_be_visible()
    assert axe_violations() == []

    # The review interval: seed 002 C1's 3 months becomes 6.
    page.get_by_role("link", name="Change review interval").click()
    expect(page.get_by_role("heading", name="Change the review interval")).to_be_visible()
    assert axe_violations() == []
    page.get_by_label("New review interval").fill("6")
    page.get_by_label("Why it is changing (optional)").fill("Reviews every six months locally")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Review interval saved.")).to_be_visible()
    interval = page.locator(".govuk-summary-list", has=page.locator("dd", has_text="6 months"))
    expect(interval).to_contain_text("Last changed")
    expect(interval).to_contain_text("Amira Khan")
    page.get_by_text("History of review interval").click()
    history = page.get_by_role("table", name="Changes, newest first")
    expect(history).to_contain_text("Reviews every six months locally")
    expect(history).to_contain_text("3 months")
    assert axe_violations() == []

    # The first-meeting deadline with the keyboard alone: a wrong value first, shown beside it.
    page.goto("/rules/first_meeting_working_days")
    expect(page.get_by_role("heading", name="Change the first meeting deadline")).to_be_visible()
    page.locator("body").focus()
    tab_to(page, 'input[name="value"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    expect(page.locator("#value-error")).to_contain_text("between 1 and 120")
    expect(page.get_by_label("New first meeting deadline")).to_have_value("0")
    assert axe_violations() == []
    page.locator("body").focus()
    tab_to(page, 'input[name="value"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    tab_to(page, 'button[type="submit"], input[type="submit"]')
    page.keyboard.press("Enter")
    expect(page.get_by_text("First meeting deadline saved.")).to_be_visible()
    expect(page.locator("dd", has_text="30 working days").first).to_be_visible()
    assert rules.current("first_meeting_working_days") == 30

    # The privacy notice, from the footer.
    page.get_by_role("contentinfo").get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", name="Privacy notice", exact=True)).to_be_visible()
    page.get_by_role("link", name="Edit the privacy notice").click()
    expect(page.get_by_role("heading", name="Edit the privacy notice")).to_be_visible()
    assert axe_violations() == []
    text = page.get_by_label("Text of the privacy notice")
    body = text.input_value().replace(
        "## Who we are", "## Who we are\n\nCharnwood Borough's early help service, run for it."
    )
    text.fill(body)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Privacy notice published.")).to_be_visible()
    expect(page.get_by_text("Charnwood Borough's early help service, run for it.")).to_be_visible()

    # A visitor who is not signed in reads both pages from the footer.
    context = browser.new_context(base_url=live_server)
    visitor = context.new_page()
    visitor.goto("/sign-in")
    visitor.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement").click()
    expect(
        visitor.get_by_role("heading", name="Accessibility statement", exact=True)
    ).to_be_visible()
    expect(visitor.get_by_role("heading", name="Enforcement procedure")).to_be_visible()
    expect(visitor.get_by_text("Last updated 2 December 2026")).to_be_visible()
    visitor.get_by_role("contentinfo").get_by_role("link", name="Privacy notice").click()
    expect(visitor.get_by_role("heading", name="Privacy notice", exact=True)).to_be_visible()
    expect(visitor.get_by_text("Charnwood Borough's early help service")).to_be_visible()
    # Seed 002 D3's retention, from the rules.
    expect(visitor.locator("#retention")).to_contain_text("for 1 year. It is then archived")
    expect(visitor.get_by_role("link", name="Edit the privacy notice")).to_have_count(0)
    assert axe_violations_on(visitor, axe_source) == []
    context.close()
