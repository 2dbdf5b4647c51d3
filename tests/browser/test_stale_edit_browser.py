"""Two people editing the board report figures at once, in two Chromium windows (issue 13:
"Saves silently overwrite each other … Same on the board report inputs").

The coordinator opens the period's figures; an admin opens them too and saves a target; the
coordinator then saves from the page they opened first. Their save is refused with the admin's
change listed beside their own, what they typed is still in the boxes, and a second,
deliberate save keeps both people's figures."""

from datetime import date

import pytest

from maf.auth.models import Role
from maf.extensions import db
from maf.reports import board
from maf.reports.models import BoardPeriod
from tests.conftest import PASSWORD


@pytest.fixture
def admin_page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _sign_in(page, user):
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_second_save_of_the_board_figures_shows_the_first_and_keeps_the_typing(
    page, admin_page, coordinator, make_user, sign_in_as, axe_violations
):
    charnwood = coordinator.districts[0]
    admin = make_user(Role.ADMIN, name="Amira Khan")
    period = board.board_period(charnwood, date(2026, 4, 1), date(2026, 6, 30), coordinator)
    url = f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30"

    sign_in_as(coordinator)
    page.goto(url)
    _sign_in(admin_page, admin)
    admin_page.goto(url)

    admin_page.get_by_label("Target for CAFs started", exact=True).fill("12")
    admin_page.get_by_role("button", name="Save the figures").click()
    admin_page.get_by_text("The figures for the period have been saved.").wait_for()

    page.get_by_label("Practitioners trained in the period").fill("30")
    page.get_by_role("button", name="Save the figures").click()

    notice = page.locator("#stale-edit")
    notice.wait_for()
    assert "Amira Khan saved changes at" in notice.inner_text()
    row = notice.get_by_role("row", name="Target for CAFs started")
    assert row.get_by_role("cell").all_inner_texts() == ["12", "0"]
    assert page.get_by_label("Practitioners trained in the period").input_value() == "30"
    assert axe_violations() == []

    # The coordinator takes the admin's target into their own figures and saves again.
    page.get_by_label("Target for CAFs started", exact=True).fill("12")
    page.get_by_role("button", name="Save the figures").click()
    page.get_by_text("The figures for the period have been saved.").wait_for()
    db.session.expire_all()
    stored = db.session.get(BoardPeriod, period.id)
    assert (stored.target_started, stored.practitioners_trained) == (12, 30)
