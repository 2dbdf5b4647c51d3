"""An administrator invites a practitioner in Chromium (issue 15 point 2): the invitation is
read from the outbox, its link opened in a browser of the person's own, the password set with
the keyboard alone, and they are signed in; axe finds nothing on the invite, pending and accept
pages; the link opened again makes no second account."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from maf.auth.models import Role, User
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from tests.browser.conftest import axe_violations_on

NEW_PASSWORD = "kettle orchard lantern pebble"
MAX_TABS = 40


def _tab_to(page, selector: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_admin_invites_a_practitioner_who_sets_a_password_and_is_signed_in(
    page,
    browser,
    live_server,
    sign_in_as,
    axe_violations,
    axe_source,
    make_user,
    make_agency,
    coordinator,
):
    charnwood = coordinator.districts[0]
    hub = make_agency(name="Charnwood Family Hub", district=charnwood)
    admin = make_user(Role.ADMIN, name="Amira Khan")

    sign_in_as(admin)
    page.get_by_role("link", name="People").click()
    page.get_by_role("button", name="Invite someone").click()
    expect(page.get_by_role("heading", name="Invite a person")).to_be_visible()
    assert axe_violations() == []
    # Nothing typed yet: each problem beside its field, then put right.
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert axe_violations() == []
    page.get_by_label("Full name").fill("Nadia Hussain")
    page.get_by_label("Email address").fill("nadia.hussain@hub.example.org")
    page.get_by_label("Practitioner").check()
    page.get_by_label("Charnwood").check()
    page.get_by_label("Agency").select_option(label="Charnwood Family Hub")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invitation sent to Nadia Hussain")).to_be_visible()
    expect(
        page.get_by_role("cell", name=re.compile("nadia.hussain@hub.example.org"))
    ).to_be_visible()
    assert axe_violations() == []

    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.recipient_email == "nadia.hussain@hub.example.org"
        )
    )
    link = re.search(r"https?://\S+/invitations/([A-Za-z0-9_-]+)", message.text_body)
    path = f"/invitations/{link.group(1)}"

    # Her own browser, which has never signed in.
    context = browser.new_context(base_url=live_server)
    try:
        theirs = context.new_page()
        theirs.set_default_timeout(10_000)
        theirs.goto(path)
        expect(theirs.get_by_role("heading", name="Set up your account")).to_be_visible()
        expect(theirs.get_by_text("Amira Khan has invited you")).to_be_visible()
        assert axe_violations_on(theirs, axe_source) == []
        # Keyboard only: Tab to each box, type, Enter on the button.
        _tab_to(theirs, "#new_password")
        theirs.keyboard.type(NEW_PASSWORD)
        _tab_to(theirs, "#confirm_password")
        theirs.keyboard.type(NEW_PASSWORD)
        _tab_to(theirs, 'button[type="submit"], input[type="submit"]')
        theirs.keyboard.press("Enter")
        expect(theirs.get_by_text("Your account is ready: you are signed in.")).to_be_visible()
        theirs.get_by_role("link", name="Your account").click()
        expect(theirs.get_by_text("nadia.hussain@hub.example.org")).to_be_visible()

        # The link again (Back, or the email clicked twice): no second account, a clear page.
        theirs.goto(path)
        expect(
            theirs.get_by_role("heading", name="This invitation link does not work")
        ).to_be_visible()
        assert axe_violations_on(theirs, axe_source) == []
    finally:
        context.close()
    db.session.expire_all()
    [user] = db.session.scalars(
        select(User).where(User.email == "nadia.hussain@hub.example.org")
    ).all()
    assert user.roles == {Role.PRACTITIONER} and user.agency_id == hub.id
    assert [d.name for d in user.districts] == ["Charnwood"]
