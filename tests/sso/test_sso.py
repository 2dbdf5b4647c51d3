"""Single sign-on with OpenID Connect (issue 15 point 3), end to end against a real provider:
npm `oidc-provider` run with Node (tests/sso/provider.mjs), its login form filled as a browser
would, its ID tokens checked by Authlib in MAF."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from maf.audit.models import AuditEvent
from maf.auth.models import Role, User
from maf.circulation.models import OutboxMessage
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.invitations import services as invitations
from maf.sso.models import SsoIdentity
from tests.conftest import PASSWORD, csrf_token_from, submit
from tests.sso.oidc import OTHER_TENANT, sso_sign_in, through_provider

EMAIL = "amira.khan@charnwood-school.example"


def audit_details(action: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _csrf(client) -> str:
    return csrf_token_from(client.get("/account").text)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def users_called(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


# --- switched off, and a provider that is down ------------------------------------------


def test_without_configuration_there_is_no_button_and_no_route(client):
    assert "Sign in with" not in client.get("/sign-in").text
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_a_provider_that_is_down_gives_a_clear_page_and_passwords_still_work(
    client, use_sso, make_user, sign_in
):
    use_sso(OIDC_DISCOVERY_URL="http://127.0.0.1:9/.well-known/openid-configuration")
    # Nothing is fetched for the sign-in page: it shows the button and the password form.
    page = client.get("/sign-in")
    assert page.status_code == 200 and "Sign in with Microsoft" in page.text
    answer = client.get("/sign-in/oidc")
    assert answer.status_code == 503
    assert "Sign in with Microsoft is not working just now" in answer.text
    user = make_user(Role.PRACTITIONER)
    assert sign_in(user).status_code == 302 and signed_in(client)


# --- the journey that works --------------------------------------------------------------


def test_a_known_person_signs_in_and_is_linked_to_their_account(
    client, use_sso, oidc_provider, make_user
):
    use_sso()
    user = make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL.upper())  # addresses compare case-insensitively
    page = client.get("/sign-in")
    assert "Sign in with Microsoft" in page.text and 'href="/sign-in/oidc"' in page.text

    answer = sso_sign_in(client, "amira")

    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert signed_in(client)
    identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert (identity.issuer, identity.subject) == (oidc_provider.issuer, "amira")
    assert identity.email == EMAIL and identity.last_used_at is not None
    db.session.refresh(user)
    assert user.last_signed_in_at is not None
    assert audit_details("sign_in")[-1] == "single sign-on (Microsoft)"
    assert audit_details("sso_linked") == [f"issuer {oidc_provider.issuer}"]


def test_the_request_uses_pkce_state_and_nonce(client, use_sso):
    client_id = use_sso()
    location = client.get("/sign-in/oidc").headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [client_id]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_a_linked_person_is_found_by_subject_after_their_email_changes(
    client, app, use_sso, oidc_provider, make_user
):
    use_sso()
    user = make_user(Role.CHAIR, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    assert sso_sign_in(client, "amira").status_code == 302
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    # Married, new address, which the provider does not (yet) mark verified.
    oidc_provider.person("amira", email="amira.patel@charnwood-school.example", email_verified=None)

    assert sso_sign_in(client, "amira").status_code == 302
    assert client.get("/account").text.count(EMAIL) >= 1  # the same MAF account
    identities = db.session.scalars(select(SsoIdentity)).all()
    assert [identity.user_id for identity in identities] == [user.id]


def test_next_page_is_kept_across_the_round_trip_and_only_on_this_site(
    client, use_sso, oidc_provider, make_user
):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    answer = sso_sign_in(client, "amira", start="/sign-in/oidc?next=/account")
    assert answer.headers["Location"] == "/account"
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    answer = sso_sign_in(client, "amira", start="/sign-in/oidc?next=//evil.example/")
    assert answer.headers["Location"] == "/"


# --- accounts made only where MAF expects the person ------------------------------------


def test_an_invited_person_gets_the_invitations_account(
    client, use_sso, oidc_provider, make_user, make_district, make_agency
):
    use_sso()
    admin = make_user(Role.ADMIN)
    district = make_district("Melton")
    agency = make_agency("Melton Family Hub")
    invitations.invite(
        email=EMAIL,
        name="Amira Khan",
        roles=[Role.COORDINATOR],
        districts=[district],
        agency=agency,
        invited_by=admin,
    )
    db.session.commit()
    oidc_provider.person("amira", email=EMAIL)

    assert sso_sign_in(client, "amira").status_code == 302 and signed_in(client)
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.roles == {Role.COORDINATOR} and user.districts == [district]
    assert user.agency == agency and user.name == "Amira Khan"
    assert invitations.pending_invitation_for(EMAIL) is None, "the invitation is spent"
    assert db.session.scalar(select(SsoIdentity.user_id)) == user.id


def test_a_person_from_a_known_agencys_domain_gets_a_practitioner_account(
    client, use_sso, oidc_provider, make_agency
):
    use_sso()
    school = make_agency("Charnwood School")
    school.email_domains = ["charnwood-school.example"]
    db.session.commit()
    oidc_provider.person("amira", email=EMAIL, name="Amira Khan")

    assert sso_sign_in(client, "amira").status_code == 302 and signed_in(client)
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.roles == {Role.PRACTITIONER} and user.districts == []
    assert user.agency == school and user.name == "Amira Khan"
    assert audit_details("user_saved")[-1].startswith("made at first single sign-on")


# --- people turned away -----------------------------------------------------------------


def _refused(answer, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text[:500]
    assert "You have not been signed in" in answer.text and words in answer.text


def test_an_unknown_person_is_refused_and_no_account_is_made(client, use_sso, oidc_provider):
    use_sso()
    oidc_provider.person("stranger", email="someone@unknown.example")
    _refused(sso_sign_in(client, "stranger"), 403, "There is no account for you")
    assert not signed_in(client)
    assert users_called("someone@unknown.example") == 0
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    assert "no account, invitation or agency" in audit_details("sso_refused")[-1]


def test_a_deactivated_person_is_refused_even_when_linked(
    client, use_sso, oidc_provider, make_user
):
    use_sso()
    user = make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    assert sso_sign_in(client, "amira").status_code == 302
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    user.active = False
    db.session.commit()

    _refused(sso_sign_in(client, "amira"), 403, "Your account has been deactivated")
    assert not signed_in(client)
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sso_refused")).one()
    assert (refusal.user_id, refusal.detail) == (user.id, "account deactivated")


def test_an_unverified_email_does_not_open_an_account(client, use_sso, oidc_provider, make_user):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL, email_verified=False)
    _refused(sso_sign_in(client, "amira"), 403, "did not confirm your email address")
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0


def test_entra_domain_verified_claim_counts_as_a_verified_email(
    client, use_sso, oidc_provider, make_user
):
    """Entra ID's optional claim xms_edov: the email's domain is verified by the tenant."""
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL, email_verified=None, xms_edov=True)
    assert sso_sign_in(client, "amira").status_code == 302 and signed_in(client)


def test_another_tenant_is_refused(client, use_sso, oidc_provider, make_user):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL, tid=OTHER_TENANT)
    _refused(sso_sign_in(client, "amira"), 403, "not one of the organisations")
    assert OTHER_TENANT in audit_details("sso_refused")[-1]


def test_an_email_domain_not_allowed_is_refused(client, use_sso, oidc_provider, make_user):
    use_sso(OIDC_ALLOWED_TENANTS=(), OIDC_ALLOWED_EMAIL_DOMAINS=("leics.gov.example",))
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL, tid=None)
    _refused(sso_sign_in(client, "amira"), 403, "not one this service accepts")
    oidc_provider.person("lee", email="lee.ward@leics.gov.example", tid=None)
    make_user(Role.PRACTITIONER, email="lee.ward@leics.gov.example")
    assert sso_sign_in(client, "lee").status_code == 302 and signed_in(client)


def test_a_second_provider_account_claiming_a_linked_address_is_refused(
    client, use_sso, oidc_provider, make_user
):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    assert sso_sign_in(client, "amira").status_code == 302
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    oidc_provider.person("impostor", email=EMAIL)
    _refused(sso_sign_in(client, "impostor"), 403, "linked to a different sign-in")


# --- tokens that must not be trusted ----------------------------------------------------


@pytest.mark.parametrize(
    "mode, why",
    [
        ("bad-signature", "BadSignatureError"),
        ("other-key", "BadSignatureError"),
        # Minted for another service, with MAF as its `azp`: Authlib alone would accept it.
        ("wrong-audience", "Invalid claim: 'aud'"),
        ("wrong-issuer", "Invalid claim: 'iss'"),
        ("expired", "ExpiredTokenError"),
        ("wrong-nonce", "Invalid claim: 'nonce'"),
    ],
)
def test_an_id_token_that_fails_its_checks_signs_nobody_in(
    client, use_sso, oidc_provider, make_user, mode, why
):
    use_sso()
    user = make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL, mode=mode)
    _refused(sso_sign_in(client, "amira"), 403, "could not be trusted")
    assert not signed_in(client)
    reason = audit_details("sso_refused")[-1]
    assert reason.startswith("ID token refused") and why in reason, reason
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    db.session.refresh(user)
    assert user.last_signed_in_at is None


def test_a_forged_state_is_refused(client, use_sso, oidc_provider, make_user):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    back = urlsplit(through_provider(client, "amira"))
    query = parse_qs(back.query)
    forged = f"{back.path}?code={query['code'][0]}&state=forged-by-someone-else"
    _refused(client.get(forged), 400, "was not started from this browser")
    assert not signed_in(client)
    assert "forged or replayed" in audit_details("sso_refused")[-1]


def test_a_replayed_callback_is_refused_in_another_browser_and_in_the_same(
    app, client, use_sso, oidc_provider, make_user
):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    back = urlsplit(through_provider(client, "amira"))
    callback = f"{back.path}?{back.query}"
    assert client.get(callback).status_code == 302
    # Someone who copied the address (a proxy log, a shared screen) gets nothing from it.
    _refused(app.test_client().get(callback), 400, "was not started from this browser")
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    _refused(client.get(callback), 400, "has been used already")


def test_a_person_who_cancels_at_the_provider_is_told_so(client, use_sso):
    use_sso()
    client.get("/sign-in/oidc")
    answer = client.get("/sign-in/oidc/callback?error=access_denied&error_description=cancelled")
    _refused(answer, 403, "Microsoft did not sign you in")
    assert audit_details("sso_refused")[-1].startswith("provider answered access_denied")


# --- second factor and password sign-in per role ----------------------------------------


def _with_mfa(user):
    user.totp_secret, user.mfa_enabled_at = "JBSWY3DPEHPK3PXP", utcnow()
    db.session.commit()
    return user


def test_maf_asks_its_own_second_factor_unless_the_providers_mfa_is_trusted(
    client, use_sso, oidc_provider, make_user
):
    use_sso(OIDC_TRUST_IDP_MFA=False)
    _with_mfa(make_user(Role.COORDINATOR, email=EMAIL))
    oidc_provider.person("amira", email=EMAIL)
    answer = sso_sign_in(client, "amira")
    assert answer.headers["Location"].startswith("/sign-in/code")
    assert not signed_in(client), "half signed in until the code is given"

    use_sso(OIDC_TRUST_IDP_MFA=True)
    assert sso_sign_in(client, "amira").headers["Location"] == "/"
    assert signed_in(client)


def test_a_role_that_needs_a_second_factor_sets_one_up_after_single_sign_on(
    app, client, use_sso, oidc_provider, make_user, monkeypatch
):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ("coordinator",))
    use_sso()
    make_user(Role.COORDINATOR, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    assert sso_sign_in(client, "amira").headers["Location"] == "/account/security"


def test_password_sign_in_switched_off_for_a_role_points_to_single_sign_on(
    client, use_sso, make_user, sign_in
):
    use_sso(PASSWORD_SIGN_IN_ROLES=("practitioner", "chair"))
    coordinator = make_user(Role.COORDINATOR, email="priya.shah@leics.gov.example")

    refused = sign_in(coordinator)
    assert refused.status_code == 200 and not signed_in(client)
    assert "Your account signs in with Microsoft, not with a password" in refused.text
    assert "“Sign in with Microsoft” button" in refused.text
    assert 'id="email-error"' in refused.text
    assert audit_details("sign_in_refused") == ["password sign-in off for role"]
    db.session.refresh(coordinator)
    assert coordinator.last_signed_in_at is None
    # A wrong password still gets the one answer for every failure: nothing is revealed.
    wrong = sign_in(coordinator, password="not the password at all")
    assert "Enter a correct email address and password" in wrong.text
    assert "signs in with Microsoft" not in wrong.text
    # Someone with a role left on, and a role off, is held to the stricter.
    both = make_user(Role.PRACTITIONER, Role.COORDINATOR)
    assert "signs in with Microsoft" in sign_in(both).text
    practitioner = make_user(Role.PRACTITIONER)
    assert sign_in(practitioner).status_code == 302 and signed_in(client)


def test_the_role_switch_does_nothing_while_single_sign_on_is_off(
    app, client, make_user, sign_in, monkeypatch
):
    """Otherwise nobody in that role could sign in at all."""
    monkeypatch.setitem(app.config, "PASSWORD_SIGN_IN_ROLES", ("practitioner",))
    coordinator = make_user(Role.COORDINATOR)
    assert sign_in(coordinator).status_code == 302 and signed_in(client)


def test_the_provider_issues_nothing_without_pkce(use_sso, oidc_provider):
    """The provider itself insists on PKCE, so the round trips above prove MAF sends it."""
    client_id = use_sso()
    answer = requests.get(
        f"{oidc_provider.issuer}/auth",
        params={
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": "http://localhost/sign-in/oidc/callback",
            "state": "s",
            "nonce": "n",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert (
        "requires PKCE"
        in parse_qs(urlsplit(answer.headers["Location"]).query)["error_description"][0]
    )


def test_password_sign_in_still_works_beside_single_sign_on(client, use_sso, make_user, sign_in):
    use_sso()
    user = make_user(Role.ADMIN)
    answer = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert answer.status_code == 302 and signed_in(client)


def test_a_reset_asked_by_someone_who_must_use_single_sign_on_says_so_and_sends_no_link(
    client, use_sso, make_user
):
    """Emails never promise a sign-in the person does not have: a password link would make a
    password that lets them in nowhere."""
    use_sso(PASSWORD_SIGN_IN_ROLES=("practitioner",))
    coordinator = make_user(Role.COORDINATOR, email="priya.shah@leics.gov.example")
    practitioner = make_user(Role.PRACTITIONER, email="lee.ward@school.example")
    for person in (coordinator, practitioner):
        answer = submit(client, "/sign-in/forgotten", {"email": person.email})
        assert "Check your email" in answer.text  # the same page for everyone

    def message_to(person):
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_email == person.email)
        ).one()

    told = message_to(coordinator)
    assert told.subject == "Sign in with Microsoft"
    assert "/sign-in/reset/" not in told.text_body + told.html_body
    assert 'choose "Sign in with Microsoft"' in told.text_body
    assert "http://127.0.0.1:5000/sign-in" in told.text_body
    assert "/sign-in/reset/" in message_to(practitioner).text_body
    assert "single sign-on only" in audit_details("password_reset_requested")


def test_single_sign_on_starts_a_fresh_session(client, use_sso, oidc_provider, make_user):
    """As password sign-in does (start_session): anything planted in the session before is
    dropped, with the provider's state and verifier."""
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    assert sso_sign_in(client, "amira").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert not [key for key in session if key.startswith("_state_")]
        assert session["signed_in_at"] == session["seen_at"]


def test_a_provider_that_goes_down_mid_sign_in_gives_the_clear_page(
    client, use_sso, oidc_provider, make_user, monkeypatch, app
):
    use_sso()
    make_user(Role.PRACTITIONER, email=EMAIL)
    oidc_provider.person("amira", email=EMAIL)
    back = urlsplit(through_provider(client, "amira"))
    # The provider is unreachable by the time the browser comes back with the code.
    monkeypatch.setitem(
        app.config, "OIDC_DISCOVERY_URL", "http://127.0.0.1:9/.well-known/openid-configuration"
    )
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == 503 and "is not working just now" in answer.text
    assert not signed_in(client)
