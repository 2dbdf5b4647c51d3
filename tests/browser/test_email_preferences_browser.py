"""A person chooses their reminders in Chromium with the keyboard alone (issue 17, point 3):
from Your account to Emails you get, the daily digest chosen with the arrow keys and saved with
Enter; axe finds nothing on the page, before or after."""

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.notifications import services
from tests.browser.conftest import tab_to


def test_a_practitioner_chooses_the_daily_digest_with_the_keyboard(
    page, sign_in_as, axe_violations, make_user
):
    user = make_user(Role.PRACTITIONER, name="Sam Jones")
    sign_in_as(user)
    page.goto("/account")
    tab_to(page, "a[href='/account/emails']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Emails you get", level=1)).to_be_visible()
    assert axe_violations() == []

    each = page.get_by_label("An email for each action as it falls due")
    expect(each).to_be_checked()
    tab_to(page, "input[name='action_reminder']:checked")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("One daily digest")).to_be_checked()
    page.keyboard.press("Enter")  # sends the form, as a keyboard user does

    expect(page.get_by_text("Your email choices are saved")).to_be_visible()
    expect(page.get_by_label("One daily digest")).to_be_checked()
    expect(page.get_by_text("You cannot turn these off")).to_be_visible()
    assert axe_violations() == []
    assert services.wants(user.email, "action_digest")
    assert not services.wants(user.email, "action_reminder")
