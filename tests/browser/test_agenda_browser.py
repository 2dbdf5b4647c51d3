"""A coordinator builds a meeting's agenda from the ready queue, reorders it with the keyboard
and downloads the Word document."""

import re
from datetime import date

import docx
from playwright.sync_api import expect

from maf.forums.models import MemberRole
from maf.forums.services import add_member


def test_build_reorder_by_keyboard_and_download(
    page, coordinator, make_meeting, make_ready_case, make_agency, sign_in_as, axe_violations
):
    meeting = make_meeting(date(2027, 1, 12))
    add_member(
        meeting.forum,
        name="Zoë Brennan",
        email="zoe@example.org",
        agency=make_agency(name="School Nursing"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE11 1AA")
    make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    sign_in_as(coordinator)

    page.get_by_role("link", name="Forums", exact=True).click()
    page.get_by_role("link", name=meeting.forum.name).click()
    page.get_by_role("link", name="Build the agenda for 12 January 2027").click()
    expect(page.get_by_role("tab", name="Cases to add")).to_be_visible()
    assert axe_violations() == []

    page.get_by_role("tab", name="Cases to add").click()
    for name in ("Amy Lee", "Ben Ward"):
        page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name="Add selected to the agenda").click()
    expect(page.locator("main")).to_contain_text("Added 2 new cases.")

    agenda = page.locator("#agenda")
    assert agenda.inner_text().index("Amy Lee") < agenda.inner_text().index("Ben Ward")
    assert "09:30–09:50" in agenda.inner_text() and "09:50–10:10" in agenda.inner_text()

    # Reorder with the keyboard alone: focus "Move down" for Amy and press Enter.
    move_down = page.get_by_role("button", name="Move down Amy Lee")
    move_down.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    text = page.locator("#agenda").inner_text()
    assert text.index("Ben Ward") < text.index("Amy Lee")
    rows = page.locator("#agenda tbody tr")
    assert (
        rows.nth(0).inner_text().startswith("09:30–09:50")
        and "Ben Ward" in rows.nth(0).inner_text()
    )
    assert axe_violations() == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the agenda (Word)").click()
    download = download_info.value
    # Named by forum, date and agenda version, unique among forums meeting the same day.
    assert re.fullmatch(r"[a-z-]+-agenda-2027-01-12-v\d+\.docx", download.suggested_filename)
    document = docx.Document(str(download.path()))
    text = "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert text.index("Ben Ward") < text.index("Amy Lee")
    assert "Zoë Brennan" in text

    page.get_by_role("link", name="See the agenda as members will").click()
    expect(page.locator("main")).to_contain_text("OFFICIAL-SENSITIVE")
    assert axe_violations() == []
