"""The chair reads the draft minutes as a page, corrects one item's wording with the keyboard
and approves them (issue 14 point 4): no Word download needed to read what will be approved."""

from playwright.sync_api import expect

from maf.outcomes.services import record_for
from tests.outcomes import test_minutes

# The meeting recorded and completed that the minutes document's own tests read.
held = test_minutes.held

RECORDED = "Low attendance since September; worries about friendships"
CORRECTED = "Attendance has been low since September; Jessica worries about friendships"


def _press(locator, key):
    locator.focus()
    locator.press(key)


def test_the_chair_reads_corrects_by_keyboard_and_approves_the_draft_minutes(
    page, sign_in_as, held, axe_violations
):
    continuing = held.cases[0]
    sign_in_as(held.chair)
    page.goto(f"/meetings/{held.meeting.id}/minutes")

    minutes = page.locator("#minutes-content")
    expect(minutes).to_contain_text(f"1. Case {continuing.id}: Jessica Thompson")
    expect(minutes).to_contain_text(f"Discussion: {RECORDED}")
    expect(minutes).to_contain_text("Reason for closing: Needs met: universal services continue")
    assert axe_violations() == []

    _press(
        page.get_by_role(
            "link", name=f"Change the wording of the discussion, Case {continuing.id}"
        ),
        "Enter",
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Change the wording of the discussion"
    )
    box = page.get_by_label("Discussion, as the minutes will say it")
    expect(box).to_have_value(RECORDED)
    assert axe_violations() == []
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(CORRECTED)
    _press(page.get_by_role("button", name="Save the wording"), "Enter")

    page.wait_for_url(f"**/minutes?version=1#item-{held.items[0].id}-discussion")
    expect(minutes).to_contain_text(f"Discussion: {CORRECTED}")
    expect(minutes).to_contain_text("Wording changed by Margaret Okafor at 09:30")
    assert axe_violations() == []

    _press(page.get_by_role("button", name="Approve version 1"), "Enter")
    expect(page.locator("#minutes-content")).to_contain_text(
        "Status: Version 1, approved by Margaret Okafor on 12 January 2027"
    )
    expect(page.locator("#minutes-content")).to_contain_text(f"Discussion: {CORRECTED}")
    expect(page.get_by_role("link", name="Change the wording")).to_have_count(0)
    assert axe_violations() == []
    # The meeting record keeps what was recorded.
    assert record_for(held.items[0]).discussion == RECORDED
