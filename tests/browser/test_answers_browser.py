"""A member answers a meeting's invitation from the link in their email, in Chromium with the
keyboard alone (issue 17 point 2): not signed in, the page asks them to confirm, a deputy's
name is asked for beside the field, and the answer shows as saved; axe finds nothing and the
Nu checker finds the pages valid; the coordinator then sees it on who is coming."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from maf.answers import services
from maf.answers.models import Response
from maf.extensions import db
from tests.answers.meeting import CHILD, circulated_meeting
from tests.browser.conftest import tab_to
from tests.conftest import missing

VNU_JAR = Path(__file__).resolve().parents[2] / "node_modules/vnu-jar/build/dist/vnu.jar"


def _nu_errors(pages: list[str]) -> list[str]:
    """The Nu HTML checker's errors on these pages, in one run of it (Java starts slowly)."""
    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    with tempfile.TemporaryDirectory(prefix="maf-vnu-") as folder:
        paths = []
        for number, html in enumerate(pages):
            paths.append(Path(folder) / f"page-{number}.html")
            paths[-1].write_text(html)
        result = subprocess.run(
            [
                "java",
                "-jar",
                str(VNU_JAR),
                "--format",
                "json",
                "--exit-zero-always",
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [f"{m['url']}: {m['message']}" for m in messages if m["type"] == "error"]


def test_a_member_sends_a_deputy_from_the_link_in_their_email(
    page,
    sign_in_as,
    axe_violations,
    coordinator,
    make_meeting,
    make_agency,
    make_ready_case,
):
    meeting = circulated_meeting(coordinator, make_meeting, make_agency, make_ready_case)
    (deputy_link,) = [
        link
        for link in services.answer_links(meeting, "tom.reid@example.org")
        if link.response == Response.DEPUTY
    ]
    path = "/" + deputy_link.url.split("://", 1)[1].split("/", 1)[1]

    page.goto(path)
    expect(page.get_by_role("heading", name="I am sending a deputy")).to_be_visible()
    assert axe_violations() == []
    pages = [page.content()]
    # The button first, with no name typed: the problem is said beside the field.
    tab_to(page, "button.govuk-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#deputy_name-error")).to_contain_text(
        "Enter the name of the person coming in your place"
    )
    assert axe_violations() == []
    pages.append(page.content())
    tab_to(page, "#deputy_name")
    page.keyboard.type("Sam Okoro")
    page.keyboard.press("Enter")

    expect(page.get_by_text("Your answer is saved. Thank you.")).to_be_visible()
    expect(page.get_by_text("Sam Okoro comes in your place")).to_be_visible()
    assert axe_violations() == []
    pages.append(page.content())
    assert CHILD[0] not in page.content() and CHILD[1] not in page.content()
    db.session.expire_all()
    answer = services.answer_for(meeting, "tom.reid@example.org")
    assert (answer.response, answer.deputy_name) == (Response.DEPUTY, "Sam Okoro")

    sign_in_as(coordinator)
    page.goto(f"/meetings/{meeting.id}/answers")
    expect(page.get_by_role("row", name="Tom Reid Sending a deputy Sam Okoro")).to_be_visible()
    assert axe_violations() == []
    pages.append(page.content())
    assert _nu_errors(pages) == []
