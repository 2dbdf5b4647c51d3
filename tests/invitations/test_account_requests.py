"""A practitioner asks for an account (issue 15, point 2): only an address in a known agency's
domain makes a request, the page answers the same whatever happened, and the district's
coordinator approves (an invitation) or refuses (with a reason, emailed)."""

import pytest
from sqlalchemy import select

from maf.auth.models import Role
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.invitations.models import AccountInvitation, AccountRequest, RequestStatus
from tests.auth.test_sign_in import _comparable
from tests.conftest import PASSWORD, csrf_token_from, submit


def _ask(client, email, name="Rowan Requester", organisation="Woodgate, pastoral team"):
    return submit(
        client, "/request-account", {"name": name, "email": email, "organisation": organisation}
    )


def _mails_to(email):
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_email == email))
    )


def _comparable_without(html: str, email: str) -> str:
    return _comparable(html).replace(email, "EMAIL")


@pytest.fixture
def woodgate(make_agency, coordinator):
    return make_agency(
        name="Woodgate Academy",
        district=coordinator.districts[0],
        email_domains=["woodgate.example.sch.uk"],
    )


def _signed_in(app, user):
    browser = app.test_client()
    assert submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD}).status_code
    return browser


def test_only_a_known_agencys_address_makes_a_request_and_the_page_is_the_same(
    client, woodgate, coordinator
):
    known = _ask(client, "Rowan@Woodgate.example.sch.uk")
    unknown = _ask(client, "rowan@gmail.example.com")
    assert known.status_code == unknown.status_code == 200
    assert "Your request has been sent" in known.text
    assert _comparable_without(known.text, "Rowan@Woodgate.example.sch.uk") == _comparable_without(
        unknown.text, "rowan@gmail.example.com"
    )
    [account_request] = db.session.scalars(select(AccountRequest)).all()
    assert account_request.email == "rowan@woodgate.example.sch.uk"
    assert account_request.agency == woodgate and account_request.districts == woodgate.districts
    [mail] = _mails_to(coordinator.email)
    assert "Rowan Requester (rowan@woodgate.example.sch.uk) asks for an account" in mail.text_body
    assert "/invitations" in mail.text_body
    assert _mails_to("rowan@gmail.example.com") == []
    # Asked again: still one request, one email to the coordinator.
    assert _ask(client, "rowan@woodgate.example.sch.uk").status_code == 200
    assert len(db.session.scalars(select(AccountRequest)).all()) == 1
    assert len(_mails_to(coordinator.email)) == 1


def test_an_address_with_an_account_asks_in_vain_with_the_same_answer(client, woodgate, make_user):
    make_user(email="kim@woodgate.example.sch.uk")
    response = _ask(client, "kim@woodgate.example.sch.uk")
    assert "Your request has been sent" in response.text
    assert db.session.scalar(select(AccountRequest)) is None


def test_the_request_form_keeps_what_was_typed_and_says_what_is_missing(client):
    response = _ask(client, "not an address", name="", organisation="A school")
    assert response.status_code == 200
    assert "Enter your full name" in response.text
    assert "Enter an email address in the correct format" in response.text
    assert 'value="not an address"' in response.text and 'value="A school"' in response.text


def test_the_coordinator_approves_and_the_practitioner_is_invited(
    app, client, woodgate, coordinator
):
    _ask(client, "rowan@woodgate.example.sch.uk")
    account_request = db.session.scalar(select(AccountRequest))
    browser = _signed_in(app, coordinator)
    page = browser.get("/invitations")
    assert "Rowan Requester" in page.text and "Woodgate Academy" in page.text
    response = browser.post(
        f"/invitations/requests/{account_request.id}/approve",
        data={"csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 302
    invitation = db.session.scalar(select(AccountInvitation))
    assert invitation.email == "rowan@woodgate.example.sch.uk"
    assert invitation.roles == [Role.PRACTITIONER] and invitation.agency == woodgate
    assert invitation.districts == coordinator.districts
    assert invitation.invited_by_id == coordinator.id
    [mail] = _mails_to("rowan@woodgate.example.sch.uk")
    assert "/invitations/" in mail.text_body
    db.session.expire_all()
    assert account_request.status == RequestStatus.APPROVED
    assert account_request.invitation_id == invitation.id
    # Approving twice (Back, click again) sends nothing more.
    again = browser.post(
        f"/invitations/requests/{account_request.id}/approve",
        data={"csrf_token": csrf_token_from(page.text)},
    )
    assert again.status_code == 302
    assert len(_mails_to("rowan@woodgate.example.sch.uk")) == 1


def test_the_coordinator_refuses_with_a_reason_that_is_emailed(app, client, woodgate, coordinator):
    _ask(client, "rowan@woodgate.example.sch.uk")
    account_request = db.session.scalar(select(AccountRequest))
    browser = _signed_in(app, coordinator)
    url = f"/invitations/requests/{account_request.id}/refuse"
    empty = submit(browser, url, {"reason": "  "})
    assert empty.status_code == 400 and "Enter the reason, to tell the person" in empty.text
    response = submit(browser, url, {"reason": "You already receive the agendas as a member."})
    assert response.status_code == 302
    [mail] = _mails_to("rowan@woodgate.example.sch.uk")
    assert "You already receive the agendas as a member." in mail.text_body
    assert "Priya Shah" in mail.text_body
    db.session.expire_all()
    assert account_request.status == RequestStatus.REFUSED
    assert db.session.scalar(select(AccountInvitation)) is None
    assert "No requests are waiting" in browser.get("/invitations").text


def test_another_districts_coordinator_neither_sees_nor_decides_the_request(
    app, client, woodgate, make_user, make_district
):
    _ask(client, "rowan@woodgate.example.sch.uk")
    account_request = db.session.scalar(select(AccountRequest))
    melton = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    browser = _signed_in(app, melton)
    page = browser.get("/invitations")
    assert "Rowan" not in page.text
    csrf = csrf_token_from(page.text)
    approve = browser.post(
        f"/invitations/requests/{account_request.id}/approve", data={"csrf_token": csrf}
    )
    assert approve.status_code == 404
    assert browser.get(f"/invitations/requests/{account_request.id}/refuse").status_code == 404
    db.session.expire_all()
    assert account_request.status == RequestStatus.PENDING


def test_an_agency_serving_the_whole_authority_asks_the_administrators(
    client, make_agency, make_user, coordinator
):
    admin = make_user(Role.ADMIN, name="Alex Admin")
    make_agency(name="Leicestershire Police", email_domains=["police.example.uk"])
    _ask(client, "pc.jones@police.example.uk")
    assert len(_mails_to(admin.email)) == 1
    assert _mails_to(coordinator.email) == []


def test_request_account_is_throttled_like_sign_in(make_scratch_app):
    throttled = make_scratch_app("requests", SIGN_IN_THROTTLE=True, SIGN_IN_RATE_LIMIT="2/minute")
    browser = throttled.test_client()
    answers = [_ask(browser, f"person{n}@example.org").status_code for n in range(3)]
    assert answers == [200, 200, 429]


def test_the_demo_shows_an_invitation_and_a_request_to_charnwoods_coordinator(make_user):
    from maf import demo
    from maf.invitations import services as invitations

    districts = {slug: demo._district(slug, name) for slug, name in demo.DISTRICTS.items()}
    agencies = demo.demo_agencies(districts)
    coordinator = make_user(
        Role.COORDINATOR,
        email="coordinator.charnwood@example.org",
        districts=[districts["charnwood"]],
    )
    demo._load_demo_invitations(districts, agencies)
    demo._load_demo_invitations(districts, agencies)  # loading the demo again adds nothing
    assert [i.name for i in invitations.pending_invitations(coordinator)] == ["Hannah Price"]
    assert [r.name for r in invitations.pending_requests(coordinator)] == ["Owen Fletcher"]
