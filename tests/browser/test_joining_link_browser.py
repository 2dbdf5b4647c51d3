"""A hybrid meeting's joining link typed in Chromium (issue 17 point 5): a plain http:// link is
refused beside the field, what was typed kept; an https:// one is saved and shown on the agenda
page as a link. axe and the Nu HTML checker find nothing on the form, with or without its error,
nor on the agenda page."""

import shutil
import tempfile
from datetime import date
from pathlib import Path

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.extensions import db
from tests.browser.conftest import axe_violations_on
from tests.browser.test_valid_html import Pages, _report
from tests.conftest import missing

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Charnwood%40thread.v2/0"


def test_a_bad_joining_link_is_refused_beside_the_field_and_a_good_one_shown(
    page, sign_in_as, coordinator, make_meeting, make_ready_case, axe_source
):
    meeting = make_meeting(date(2027, 7, 13))
    agendas.add_to_agenda(meeting, make_ready_case("Amy", "Lee"), ItemKind.NEW_CASE, coordinator)
    sign_in_as(coordinator)
    page.goto(f"/meetings/{meeting.id}/edit")
    field = page.get_by_label("Online joining link (optional)")
    assert "Microsoft Teams link" in page.locator("#joining_link-hint").inner_text()
    assert axe_violations_on(page, axe_source) == []
    form = page.content()

    field.fill("http://teams.example.org/j/1")
    page.get_by_role("button", name="Save changes").click()
    error = page.locator("#joining_link-error")
    error.wait_for()
    assert "starting https://" in error.inner_text()
    field = page.get_by_label("Online joining link (optional)")
    assert field.input_value() == "http://teams.example.org/j/1", "what was typed is kept"
    assert "joining_link-error" in field.get_attribute("aria-describedby")
    summary = page.locator(".govuk-error-summary")
    summary.get_by_role("link", name="Enter the joining link").click()
    assert page.evaluate("document.activeElement.id") == "joining_link"
    assert axe_violations_on(page, axe_source) == []
    with_error = page.content()

    field.fill(TEAMS)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Meeting changed.").wait_for()
    db.session.expire_all()
    assert meeting.joining_link == TEAMS

    page.goto(f"/meetings/{meeting.id}/agenda")
    link = page.get_by_role("link", name=TEAMS)
    assert link.get_attribute("href") == TEAMS
    assert axe_violations_on(page, axe_source) == []
    agenda = page.content()

    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    with tempfile.TemporaryDirectory(prefix="maf-vnu-") as folder:
        pages = Pages(Path(folder))
        pages.add("coord", "/meetings/edit", form)
        pages.add("coord", "/meetings/edit", with_error, "an http link")
        pages.add("coord", "/meetings/agenda", agenda, "hybrid")
        errors = pages.errors()
    assert errors == {}, _report(errors, 3)
