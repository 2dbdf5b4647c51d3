"""Recording why a deadline is missed, in Chromium (issue 14 point 2): from the Time rules page
to the form and back, by keyboard, with and without JavaScript; axe-core and the Nu HTML
checker find nothing on the pages it shows (the form, its error, a stale save, Time rules with a
reason, the reports' "Missed deadlines and why")."""

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maf.auth.models import Role
from maf.outcomes import late_reasons
from tests.browser.conftest import axe_violations_on, signed_in_context
from tests.browser.test_valid_html import VNU_JAR, Pages, _report
from tests.conftest import missing

REASON = "The December forum was cancelled: the chair was ill."


@pytest.fixture
def waiting(app_clock, make_ready_case):
    """Seed 002 B3: completed 2 November 2026, so the first meeting was due by 30 November; on
    12 January 2027 it is late."""
    app_clock.london(date(2027, 1, 12), 10)
    return make_ready_case("Cara", "Waiting", assessment_completed_on=date(2026, 11, 2))


def test_a_coordinator_records_why_by_keyboard_and_the_pages_are_clean(
    browser, live_server, coordinator, make_user, waiting, axe_source
):
    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    folder = tempfile.TemporaryDirectory(prefix="maf-vnu-")
    pages = Pages(Path(folder.name))
    context, page = signed_in_context(browser, live_server, coordinator)

    def clean(what):
        assert axe_violations_on(page, axe_source) == [], what
        pages.add("coord", page.url, page.content(), what)

    page.goto("/cases/breaches")
    clean("time rules, no reason")
    row = page.get_by_role("row").filter(has_text="Cara Waiting")
    expect(row).to_contain_text("No reason recorded")
    row.get_by_role("link", name="Record why the first-meeting deadline of Cara Waiting").press(
        "Enter"
    )
    expect(
        page.get_by_role("heading", name="First meeting due by 30 November 2026")
    ).to_be_visible()
    clean("the form")

    page.get_by_role("button", name="Save reason").press("Enter")
    expect(page.locator(".govuk-error-message")).to_contain_text("Enter why the deadline is missed")
    clean("the form with its error")

    page.get_by_label("Why is the deadline missed?").fill(REASON)
    page.get_by_role("button", name="Save reason").press("Enter")
    expect(page).to_have_url(f"{live_server}/cases/breaches#first-meeting")
    row = page.get_by_role("row").filter(has_text="Cara Waiting")
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text("Priya Shah, 12 January 2027")
    clean("time rules with a reason")

    # A colleague changes it while this page is open: the save is refused, the typing kept.
    row.get_by_role("link", name="Change the first-meeting deadline of Cara Waiting").press("Enter")
    colleague = make_user(Role.COORDINATOR, name="Tom Reed", districts=coordinator.districts)
    late_reasons.save_reason(
        waiting,
        late_reasons.deadline_for(waiting, "first_meeting"),
        "Chair ill; the venue was also closed.",
        colleague,
        version=1,
    )
    page.get_by_label("Why is the deadline missed?").fill("Mine, typed over.")
    page.get_by_role("button", name="Save reason").press("Enter")
    expect(page.locator("#stale-edit")).to_contain_text("Tom Reed saved changes")
    expect(page.get_by_label("Why is the deadline missed?")).to_have_value("Mine, typed over.")
    clean("a stale save")

    district = coordinator.districts[0]
    page.goto(f"/reports?district={district.id}&from=2027-01-01&to=2027-03-31")
    expect(page.get_by_role("heading", name="Missed deadlines and why")).to_be_visible()
    clean("the reports")
    context.close()

    assert VNU_JAR.exists(), "vnu-jar is missing: run `npm ci` (make test does)"
    errors = pages.errors()
    folder.cleanup()
    assert errors == {}, _report(errors, len(pages.origin))


def test_recording_why_works_without_javascript(browser, live_server, coordinator, waiting):
    context, page = signed_in_context(browser, live_server, coordinator, javascript=False)
    page.goto("/cases/breaches")
    page.get_by_role("link", name="Record why the first-meeting deadline of Cara Waiting").click()
    page.get_by_label("Why is the deadline missed?").fill(REASON)
    page.get_by_role("button", name="Save reason").click()
    expect(page.get_by_role("row").filter(has_text="Cara Waiting")).to_contain_text(REASON)
    context.close()
