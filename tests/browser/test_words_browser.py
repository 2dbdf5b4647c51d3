"""An admin changes the words the service uses, in the browser, and the coordinator's dashboard,
a case page and the agenda then use them (issue 15 point 4): the Families First Partnership's
"early help assessment" (EHA), "lead practitioner" and "team around the family" (TAF)."""

import io
import re

import docx
from playwright.sync_api import expect

from tests.auth.test_authorisation_matrix import world  # noqa: F401
from tests.browser.conftest import axe_violations_on, signed_in_context
from tests.rules.test_words_everywhere import FAMILIES_FIRST

# The name each rule's "Change" link carries for a screen reader, and its new value.
CHANGES = [
    ("name of the assessment", FAMILIES_FIRST["word_assessment"]),
    ("short name of the assessment", FAMILIES_FIRST["word_assessment_short"]),
    ("name of the forum", FAMILIES_FIRST["word_forum"]),
    ("short name of the forum", FAMILIES_FIRST["word_forum_short"]),
    ("name of the lead professional", FAMILIES_FIRST["word_lead_professional"]),
]


def test_admin_changes_the_words_and_the_pages_use_them(
    browser,
    live_server,
    page,
    sign_in_as,
    axe_source,
    world,  # noqa: F811
):
    sign_in_as(world.users["admin"])
    for name, value in CHANGES:
        page.goto("/rules")
        # A summary card's link may add the card's title: "Change name of the forum (Name...)".
        page.get_by_role("link", name=re.compile(rf"^Change {name}( \(|$)")).click()
        field = page.get_by_label(f"New {name}", exact=True)
        field.fill(value)
        page.get_by_role("button", name="Save rule").click()
        page.wait_for_url(re.compile(r"/rules(#.*)?$"))
    expect(page.locator("main")).to_contain_text("lead practitioner")

    context, coordinator = signed_in_context(browser, live_server, world.users["coord"])
    try:
        coordinator.goto("/")
        main = coordinator.locator("main")
        expect(main.get_by_role("heading", name="As EHA coordinator")).to_be_visible()
        expect(main).to_contain_text("EHAs waiting for checks")
        expect(coordinator.get_by_role("link", name="EHA queue")).to_be_visible()
        assert axe_violations_on(coordinator, axe_source) == []

        coordinator.goto(f"/cases/{world.case.id}")
        expect(main.get_by_role("heading", name="Lead practitioner", exact=True)).to_be_visible()
        expect(
            main.get_by_role("heading", name="Check 1: is there already an EHA for this child?")
        ).to_be_visible()
        expect(main).to_contain_text("Where the EHA came from")
        expect(main).not_to_contain_text(re.compile("lead professional", re.IGNORECASE))
        # What was recorded before the change keeps the words it was recorded in.
        expect(main.get_by_role("cell", name="CAF received")).to_be_visible()

        coordinator.goto(f"/meetings/{world.planned.id}/agenda/build")
        ask = main.get_by_role("button", name="Ask lead practitioners for progress updates")
        expect(ask).to_be_visible()
        expect(main).not_to_contain_text(re.compile(r"\bCAF|lead professional", re.IGNORECASE))
        # The agenda document, as the coordinator's browser downloads it.
        agenda = coordinator.request.get(f"/meetings/{world.planned.id}/agenda.docx")
        table = docx.Document(io.BytesIO(agenda.body())).tables[-1]
        assert table.rows[0].cells[-1].text == "Lead practitioner"
        assert "Zoë Brennan" in table.rows[1].cells[-1].text
    finally:
        context.close()
