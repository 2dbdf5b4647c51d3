"""The subject access export in Chromium (issue 16 point 3): a coordinator opens the child's
case, follows the link to the export, is asked for a reason, gives one and downloads the zip,
by keyboard; axe-core and the Nu HTML checker find nothing on the pages it shows."""

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations_on, signed_in_context
from tests.browser.test_valid_html import VNU_JAR, Pages, _report
from tests.conftest import missing
from tests.subject_access.conftest import REASON, parts, story  # noqa: F401  (a fixture)

LINK = "Export everything held about this child (subject access request)"
BUTTON = "Download the export (zip)"
REASON_LABEL = "Why are you making this export?"


def test_a_coordinator_downloads_the_childs_zip_by_keyboard(
    browser,
    live_server,
    story,  # noqa: F811
    axe_source,
    tmp_path,
):
    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    folder = tempfile.TemporaryDirectory(prefix="maf-vnu-")
    pages = Pages(Path(folder.name))
    context, page = signed_in_context(browser, live_server, story.coordinator)

    def clean(what):
        assert axe_violations_on(page, axe_source) == [], what
        pages.add("coord", page.url, page.content(), what)

    page.goto(f"/cases/{story.case.id}")
    page.get_by_role("link", name=LINK).press("Enter")
    expect(page.get_by_role("heading", name="Subject access export", exact=True)).to_be_visible()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Jessica Thompson")
    clean("the form")

    page.get_by_role("button", name=BUTTON).press("Enter")
    expect(page.locator("#reason-error")).to_contain_text("Enter why you are making this export")
    clean("the form with its error")

    page.get_by_label(REASON_LABEL).fill(REASON)
    with page.expect_download() as started:
        page.get_by_role("button", name=BUTTON).press("Enter")
    download = started.value
    # The app's clock stands on the day of the meeting the story was recorded at.
    assert download.suggested_filename == f"subject-access-{story.child.id}-2027-01-12.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    docx, data = parts(saved.read_bytes())
    assert docx.startswith(b"PK") and data["child"]["given_name"] == "Jessica"
    # The page stays as it was, with the reason, for a second download if one is needed.
    expect(page.get_by_label(REASON_LABEL)).to_have_value(REASON)
    context.close()

    assert VNU_JAR.exists(), "vnu-jar is missing: run `npm ci` (make test does)"
    errors = pages.errors()
    folder.cleanup()
    assert errors == {}, _report(errors, len(pages.origin))
