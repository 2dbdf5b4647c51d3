"""Invitations to an account (issue 15, point 2): one use, 7 days, only the token's hash
stored, resend and revoke, who may invite whom, forum members, and the account that results."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from maf.auth import services as auth_services
from maf.auth.models import Role, User
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import ForumMember, MemberRole
from maf.invitations import services as invitations
from maf.invitations.models import AccountInvitation
from tests.auth.test_sign_in import _comparable
from tests.conftest import PASSWORD, csrf_token_from, submit

NEW_PASSWORD = "four unrelated words here"
LINK = re.compile(r"https?://[^/\s]+/invitations/([A-Za-z0-9_-]{40,})")


def _sign_in(app, user):
    client = app.test_client()
    response = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    return client, response


def _mails_to(email: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient_email == email)
            .order_by(OutboxMessage.id)
        )
    )


def _token_in(message: OutboxMessage) -> str:
    tokens = set(LINK.findall(message.text_body)) | set(LINK.findall(message.html_body))
    assert len(tokens) == 1, message.text_body
    return tokens.pop()


def _invite_form(client, **fields):
    data = {
        "name": "Nadia Newcomer",
        "email": "nadia.newcomer@example.org",
        "roles": [Role.PRACTITIONER.value],
        "agency": "0",
    } | fields
    return submit(client, "/people/invite", data)


def _accept(client, token, password=NEW_PASSWORD, confirmation=None):
    return submit(
        client,
        f"/invitations/{token}",
        {"new_password": password, "confirm_password": confirmation or password},
    )


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Alex Admin")


@pytest.fixture
def admin_client(app, admin, sign_in, client):
    assert sign_in(admin).status_code == 302
    return client


def test_an_admin_invites_and_the_person_sets_a_password_and_is_signed_in(
    app, admin_client, coordinator, school
):
    district = coordinator.districts[0]
    response = _invite_form(
        admin_client,
        roles=[Role.CHAIR.value, Role.PRACTITIONER.value],
        districts=[str(district.id)],
        agency=str(school.id),
    )
    assert response.status_code == 302
    [mail] = _mails_to("nadia.newcomer@example.org")
    assert "Alex Admin has invited you" in mail.text_body
    assert "within 7 days" in mail.text_body
    assert "Roles: Forum chair, Practitioner" in mail.text_body
    assert f"Districts: {district.name}" in mail.text_body and school.name in mail.text_body
    token = _token_in(mail)

    browser = app.test_client()  # the invited person's own browser
    page = browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert "Alex Admin has invited you" in page.text
    assert "Forum chair, Practitioner" in page.text and district.name in page.text
    response = _accept(browser, token)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert browser.get("/account").status_code == 200  # signed in
    user = db.session.scalar(select(User).where(User.email == "nadia.newcomer@example.org"))
    assert user.roles == {Role.CHAIR, Role.PRACTITIONER}
    assert [d.id for d in user.districts] == [district.id] and user.agency_id == school.id
    assert auth_services.authenticate(user.email, NEW_PASSWORD) is not None


def test_only_the_hash_of_the_token_is_stored(app, admin_client):
    _invite_form(admin_client)
    token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    invitation = db.session.scalar(select(AccountInvitation))
    assert invitation.token_hash == invitations.hash_token(token) != token
    # Grep every table but the outbox, which must carry the email until it is sent.
    for table in db.metadata.sorted_tables:
        if table.name == "outbox_message":
            continue
        for row in db.session.execute(select(table)):
            assert token not in " ".join(str(value) for value in row), table.name


def test_the_link_works_for_seven_days_and_not_after(app, admin, app_clock):
    app_clock(datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    _invite_form(_sign_in(app, admin)[0])
    token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    browser = app.test_client()
    app_clock(datetime(2027, 3, 7, 10, 0, tzinfo=UTC))  # the day before the 7 days are up
    page = browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    form = {
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "csrf_token": csrf_token_from(page.text),
    }
    app_clock(datetime(2027, 3, 8, 10, 0, tzinfo=UTC) + timedelta(seconds=1))  # the day after
    expired = browser.get(f"/invitations/{token}")
    assert expired.status_code == 404 and "has expired" in expired.text
    assert "ask the person who invited you" in expired.text.lower()
    assert browser.post(f"/invitations/{token}", data=form).status_code == 404
    assert db.session.scalar(select(User).where(User.email == "nadia.newcomer@example.org")) is None


def test_the_link_works_once_and_a_used_link_looks_like_an_unknown_one(app, admin_client):
    _invite_form(admin_client)
    token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    browser = app.test_client()
    page = browser.get(f"/invitations/{token}")
    csrf = csrf_token_from(page.text)
    form = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "csrf_token": csrf}
    assert browser.post(f"/invitations/{token}", data=form).status_code == 302
    # The same form sent again (Back and submit, a double click): no second account, no 500.
    # Back to the form and sent again: its CSRF token belonged to the session before the
    # account's, so it is refused (400), creating nothing; with a fresh token the link is spent.
    assert browser.post(f"/invitations/{token}", data=form).status_code == 400
    fresh = form | {"csrf_token": csrf_token_from(browser.get("/account").text)}
    assert browser.post(f"/invitations/{token}", data=fresh).status_code == 404
    used = app.test_client().get(f"/invitations/{token}")
    unknown = app.test_client().get("/invitations/" + "x" * 43)
    assert used.status_code == unknown.status_code == 404
    assert _comparable(used.text) == _comparable(unknown.text)
    users = db.session.scalars(select(User).where(User.email == "nadia.newcomer@example.org"))
    assert len(users.all()) == 1


def test_resending_makes_a_new_link_and_the_old_one_stops_working(app, admin, app_clock):
    app_clock(datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    _invite_form(_sign_in(app, admin)[0])
    old = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    invitation = db.session.scalar(select(AccountInvitation))
    app_clock(datetime(2027, 3, 6, 10, 0, tzinfo=UTC))
    admin_client, _ = _sign_in(app, admin)
    response = admin_client.post(
        f"/invitations/{invitation.id}/resend",
        data={"csrf_token": csrf_token_from(admin_client.get("/invitations").text)},
    )
    assert response.status_code == 302
    first, second = _mails_to("nadia.newcomer@example.org")
    new = _token_in(second)
    assert new != old
    browser = app.test_client()
    assert browser.get(f"/invitations/{old}").status_code == 404
    db.session.expire_all()
    assert invitation.sent_count == 2
    expected = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)
    assert expected <= invitation.expires_at < expected + timedelta(minutes=1)
    app_clock(datetime(2027, 3, 12, 10, 0, tzinfo=UTC))  # past the first link's 7 days
    assert browser.get(f"/invitations/{new}").status_code == 200


def test_a_revoked_link_stops_working_and_leaves_the_pending_list(app, admin_client):
    _invite_form(admin_client)
    token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    invitation = db.session.scalar(select(AccountInvitation))
    assert "nadia.newcomer@example.org" in admin_client.get("/invitations").text
    response = admin_client.post(
        f"/invitations/{invitation.id}/revoke",
        data={"csrf_token": csrf_token_from(admin_client.get("/invitations").text)},
    )
    assert response.status_code == 302
    revoked = app.test_client().get(f"/invitations/{token}")
    assert revoked.status_code == 404 and "withdrawn" in revoked.text
    assert "No invitations are waiting" in admin_client.get("/invitations").text
    # The address can be invited afresh.
    assert _invite_form(admin_client).status_code == 302


def test_the_same_form_twice_invites_once_and_a_second_invitation_resends(admin_client):
    page = admin_client.get("/people/invite")
    data = {
        "name": "Nadia Newcomer",
        "email": "nadia.newcomer@example.org",
        "roles": [Role.PRACTITIONER.value],
        "agency": "0",
        "csrf_token": csrf_token_from(page.text),
        "once": re.search(r'name="once" type="hidden" value="([^"]+)"', page.text).group(1),
    }
    assert admin_client.post("/people/invite", data=data).status_code == 302
    assert admin_client.post("/people/invite", data=data).status_code == 302
    assert len(_mails_to("nadia.newcomer@example.org")) == 1
    # A new form to the same address: the one invitation is sent again, the first link dies.
    assert _invite_form(admin_client, name="Nadia N. Newcomer").status_code == 302
    [invitation] = db.session.scalars(select(AccountInvitation)).all()
    first, second = _mails_to("nadia.newcomer@example.org")
    assert invitation.sent_count == 2 and invitation.name == "Nadia N. Newcomer"
    assert invitation.token_hash == invitations.hash_token(_token_in(second))


def test_an_address_with_an_account_is_refused_beside_the_field(admin_client, make_user):
    existing = make_user(name="Erin Existing", email="erin@example.org")
    response = _invite_form(admin_client, email="Erin@Example.org", name="Erin Again")
    assert response.status_code == 400
    assert "This person already has an account" in response.text
    assert 'href="#email"' in response.text  # in the summary, linked to the field
    assert "Erin@Example.org" in response.text and "Erin Again" in response.text  # kept
    assert f'/people/{existing.id}"' in response.text  # a link to who it is, for the admin
    assert db.session.scalar(select(AccountInvitation)) is None


def test_a_coordinator_invites_practitioners_to_their_own_districts_only(
    app, coordinator, make_user, make_district
):
    other = make_district("Melton")
    client, _ = _sign_in(app, coordinator)
    own = coordinator.districts[0]
    page = client.get("/people/invite")
    assert 'value="chair"' not in page.text and 'value="admin"' not in page.text
    assert f'value="{other.id}"' not in page.text
    refused = _invite_form(client, roles=[Role.CHAIR.value], districts=[str(own.id)])
    assert refused.status_code == 400
    refused = _invite_form(client, districts=[str(other.id)])
    assert refused.status_code == 400
    assert db.session.scalar(select(AccountInvitation)) is None
    # Posted around the form, the service still refuses.
    with pytest.raises(invitations.InvitationError):
        invitations.invite(
            email="x@example.org",
            name="X",
            roles=[Role.PRACTITIONER],
            districts=[other],
            agency=None,
            invited_by=coordinator,
        )
    db.session.rollback()
    assert _invite_form(client, districts=[str(own.id)]).status_code == 302


def test_another_districts_coordinator_cannot_see_resend_or_revoke(
    app, coordinator, make_user, make_district
):
    melton = make_user(Role.COORDINATOR, name="Oscar Other", districts=[make_district("Melton")])
    invitation = invitations.invite(
        email="nadia.newcomer@example.org",
        name="Nadia Newcomer",
        roles=[Role.PRACTITIONER],
        districts=coordinator.districts,
        agency=None,
        invited_by=coordinator,
    )
    db.session.commit()
    client, _ = _sign_in(app, melton)
    assert "nadia.newcomer" not in client.get("/invitations").text
    csrf = csrf_token_from(client.get("/invitations").text)
    for action in ("resend", "revoke"):
        response = client.post(f"/invitations/{invitation.id}/{action}", data={"csrf_token": csrf})
        assert response.status_code == 404, action
    db.session.expire_all()
    assert invitation.pending and invitation.sent_count == 1
    # Inviting the same address to Melton does not take over Charnwood's invitation.
    own = _invite_form(client, districts=[str(melton.districts[0].id)])
    assert own.status_code == 400 and "already been invited" in own.text
    own_client, _ = _sign_in(app, coordinator)
    assert "nadia.newcomer@example.org" in own_client.get("/invitations").text


def test_a_role_that_needs_a_second_factor_goes_straight_to_enrolment(
    app, admin_client, coordinator
):
    previous = app.config["MFA_REQUIRED_ROLES"]
    app.config["MFA_REQUIRED_ROLES"] = ("admin", "coordinator")
    try:
        _invite_form(
            admin_client,
            roles=[Role.COORDINATOR.value],
            districts=[str(coordinator.districts[0].id)],
        )
        token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
        browser = app.test_client()
        response = _accept(browser, token)
        assert response.headers["Location"] == "/account/security"
        assert browser.get("/").headers["Location"] == "/account/security"
    finally:
        app.config["MFA_REQUIRED_ROLES"] = previous


def test_a_weak_password_is_refused_beside_the_field_and_the_link_still_works(app, admin_client):
    _invite_form(admin_client)
    token = _token_in(_mails_to("nadia.newcomer@example.org")[0])
    browser = app.test_client()
    response = _accept(browser, token, password="password")
    assert response.status_code == 200
    assert "Password must be 12 characters or more" in response.text
    response = _accept(browser, token, NEW_PASSWORD, confirmation=NEW_PASSWORD + "!")
    assert "The passwords do not match" in response.text
    assert db.session.scalar(select(User).where(User.email == "nadia.newcomer@example.org")) is None
    assert _accept(browser, token).status_code == 302


def test_accepting_through_single_sign_on_needs_no_password(admin, school):
    invitation = invitations.invite(
        email="sso.person@example.org",
        name="Sam Single",
        roles=[Role.PRACTITIONER],
        districts=[],
        agency=school,
        invited_by=admin,
    )
    db.session.commit()
    assert invitations.pending_invitation_for("SSO.Person@example.org") == invitation
    user = invitations.accept(invitation)
    db.session.commit()
    assert user.roles == {Role.PRACTITIONER} and user.agency == school
    assert invitations.pending_invitation_for("sso.person@example.org") is None
    assert invitations.can_sign_in("sso.person@example.org")
    with pytest.raises(invitations.InvitationError):
        invitations.accept(invitation)


def test_a_forum_member_without_an_account_is_invited_and_linked_on_acceptance(
    app, coordinator, make_forum, school, make_user
):
    forum = make_forum()
    with_account = make_user(name="Has Account", email="has.account@example.org")
    for name, email in (
        ("Mo Member", "mo.member@example.org"),
        ("Has Account", with_account.email),
    ):
        forum_services.add_member(
            forum, name=name, email=email, agency=school, role=MemberRole.STANDING, user=coordinator
        )
    mo = db.session.scalar(select(ForumMember).where(ForumMember.email == "mo.member@example.org"))
    client, _ = _sign_in(app, coordinator)
    page = client.get(f"/forums/{forum.id}")
    assert page.text.count("Invite to MAF") == 1
    response = client.post(
        f"/forums/{forum.id}/members/{mo.id}/invite",
        data={"csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 302
    page = client.get(f"/forums/{forum.id}")
    assert "Invite to MAF" not in page.text and "Invited to" in page.text
    invitation = invitations.pending_invitation_for(mo.email)
    assert invitation.roles == [Role.PRACTITIONER] and invitation.agency_id == school.id
    assert invitation.districts == [forum.district]
    _accept(app.test_client(), _token_in(_mails_to(mo.email)[0]))
    db.session.expire_all()
    assert mo.user is not None and mo.user.email == mo.email


def test_a_forum_member_of_another_forum_cannot_be_invited_through_this_one(
    app, coordinator, make_forum, make_district, school
):
    forum = make_forum()
    other_forum = make_forum(district=make_district("Melton"), name="Melton forum")
    member = forum_services.add_member(
        other_forum,
        name="Mo",
        email="mo@example.org",
        agency=school,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    client, _ = _sign_in(app, coordinator)
    csrf = csrf_token_from(client.get(f"/forums/{forum.id}").text)
    response = client.post(
        f"/forums/{forum.id}/members/{member.id}/invite", data={"csrf_token": csrf}
    )
    assert response.status_code == 404
    response = client.post(
        f"/forums/{other_forum.id}/members/{member.id}/invite", data={"csrf_token": csrf}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(AccountInvitation)) is None


def test_the_token_column_holds_hex_only(admin_client):
    _invite_form(admin_client)
    hashes = db.session.execute(text("SELECT token_hash FROM account_invitation")).scalars().all()
    assert len(hashes) == 1 and re.fullmatch(r"[0-9a-f]{64}", hashes[0])
