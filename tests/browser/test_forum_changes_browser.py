"""The question after a forum's usual start time changes (issue 14 point 3), in Chromium:
asked and answered without JavaScript, by keyboard; axe and the Nu HTML checker find nothing
on it, with a meeting to change, a circulated one to reschedule, and its error."""

import shutil
import tempfile
from pathlib import Path

from maf.extensions import db
from tests.browser.conftest import axe_violations_on
from tests.browser.test_valid_html import Pages, _report
from tests.conftest import PASSWORD, missing
from tests.forums.test_forum_changes_carried import year  # noqa: F401


def _question(browser, live_server, coordinator, forum, javascript=True):
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("/")
    page.goto(f"/forums/{forum.id}/edit")
    page.get_by_label("Usual start time").fill("13:00")
    page.get_by_label("First break starts at (optional)").fill("14:30")
    page.get_by_role("button", name="Save forum").click()
    page.get_by_role("heading", level=1).filter(has_text="Apply the new").wait_for()
    return context, page


def test_the_question_reads_right_and_is_answered_by_keyboard(
    browser,
    live_server,
    coordinator,
    year,  # noqa: F811
    axe_source,
):
    forum, meetings, _zoe = year
    context, page = _question(browser, live_server, coordinator, forum)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Apply the new start time and breaks to the 1 meeting not yet circulated?"
    )
    reschedule = page.get_by_role("link", name="Reschedule the meeting on Tuesday 13 April 2027")
    assert reschedule.get_attribute("href") == f"/meetings/{meetings[4].id}/edit"
    assert axe_violations_on(page, axe_source) == []
    shown = page.content()

    page.get_by_role("button", name="Continue").click()  # nothing chosen
    page.get_by_text("Select yes to change these meetings, or no").first.wait_for()
    assert axe_violations_on(page, axe_source) == []
    with_error = page.content()

    # By keyboard: the first radio, then Continue.
    page.get_by_label("Yes, change these meetings").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("1 meeting changed: Tuesday 13 July 2027.").wait_for()
    context.close()
    db.session.expire_all()
    assert f"{meetings[7].start_time:%H:%M}" == "13:00"

    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    with tempfile.TemporaryDirectory(prefix="maf-vnu-") as folder:
        pages = Pages(Path(folder))
        pages.add("coord", "/forums/follow", shown)
        pages.add("coord", "/forums/follow", with_error, "sent empty")
        errors = pages.errors()
    assert errors == {}, _report(errors, 2)


def test_the_question_works_without_javascript(
    browser,
    live_server,
    coordinator,
    year,  # noqa: F811
):
    forum, meetings, _zoe = year
    context, page = _question(browser, live_server, coordinator, forum, javascript=False)
    page.get_by_label("No, they keep their times, venue and breaks").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("future meetings keep their times, venue and breaks").wait_for()
    context.close()
    db.session.expire_all()
    assert f"{meetings[7].start_time:%H:%M}" == "09:30"
