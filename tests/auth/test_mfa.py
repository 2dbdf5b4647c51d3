"""Two-step sign-in with an authenticator app (issue 8: TOTP with enrolment by QR code and
one-time recovery codes, required for admins and coordinators)."""

import re
import time

import pyotp
import pytest

from maf.auth.models import Role
from maf.extensions import db
from tests.conftest import PASSWORD, csrf_token_from, submit


def _enrol(client, user) -> tuple[str, list[str]]:
    page = client.get("/account/security")
    assert "data:image/svg+xml" in page.text, "a QR code to scan"
    with client.session_transaction() as session:
        secret = session["mfa_secret"]
    wrong = client.post(
        "/account/security", data={"code": "000000", "csrf_token": csrf_token_from(page.text)}
    )
    assert 'id="code-error"' in wrong.text
    done = client.post(
        "/account/security",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token_from(page.text)},
    )
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.text)
    return secret, codes


def test_enrolment_turns_two_step_sign_in_on_and_shows_recovery_codes_once(
    client, sign_in, coordinator
):
    sign_in(coordinator)
    secret, codes = _enrol(client, coordinator)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(coordinator)
    assert coordinator.mfa_enabled_at is not None and coordinator.totp_secret == secret
    assert "Two-step sign-in is on" in client.get("/account/security").text
    assert not re.search(r"[0-9a-f]{6}-[0-9a-f]{6}", client.get("/account/security").text)


def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(app, client, sign_in, coordinator):
    sign_in(coordinator)
    secret, codes = _enrol(client, coordinator)
    browser = app.test_client()
    first = submit(browser, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    assert first.headers["Location"].startswith("/sign-in/code")
    assert browser.get("/").headers["Location"].startswith("/sign-in"), "not in yet"
    wrong = submit(browser, "/sign-in/code", {"code": "123456"})
    assert "That code is not right" in wrong.text
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: not used at enrolment
    assert submit(browser, "/sign-in/code", {"code": code}).headers["Location"] == "/"
    assert browser.get("/").status_code == 200
    again = app.test_client()
    submit(again, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    assert "That code is not right" in submit(again, "/sign-in/code", {"code": code}).text
    assert submit(again, "/sign-in/code", {"code": codes[0].upper()}).status_code == 302
    reused = app.test_client()
    submit(reused, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    assert "That code is not right" in submit(reused, "/sign-in/code", {"code": codes[0]}).text


def test_the_half_signed_in_state_expires(app, client, sign_in, coordinator):
    sign_in(coordinator)
    secret, _ = _enrol(client, coordinator)
    browser = app.test_client()
    submit(browser, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    with browser.session_transaction() as session:
        session["mfa_since"] = time.time() - 301
    page = browser.get("/sign-in/code")
    assert page.headers["Location"] == "/sign-in"


@pytest.fixture
def mfa_required(app):
    previous = app.config["MFA_REQUIRED_ROLES"]
    app.config["MFA_REQUIRED_ROLES"] = ("admin", "coordinator")
    yield
    app.config["MFA_REQUIRED_ROLES"] = previous


def test_admins_and_coordinators_must_set_it_up_before_anything_else(
    app, mfa_required, coordinator, make_user
):
    browser = app.test_client()
    response = submit(browser, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account/security"
    for path in ("/", "/cases/", "/forums"):
        assert browser.get(path).headers["Location"] == "/account/security", path
    assert "must use two-step sign-in" in browser.get("/account/security").text
    _enrol(browser, coordinator)
    assert browser.get("/cases/").status_code == 200
    practitioner = app.test_client()
    submit(
        practitioner,
        "/sign-in",
        {"email": make_user(Role.PRACTITIONER).email, "password": PASSWORD},
    )
    assert practitioner.get("/").status_code == 200, "not required of practitioners"


@pytest.mark.parametrize("typed", ["１２３４５６", "12345é", "٣٤٥٦٧٨", "\u200b123456"])
def test_a_code_typed_in_another_script_is_refused_beside_the_field(
    client, sign_in, coordinator, typed
):
    """Found by the every-form fuzzer: a non-ASCII code made the comparison raise (a 500)."""
    sign_in(coordinator)
    page = client.get("/account/security")
    response = client.post(
        "/account/security", data={"code": typed, "csrf_token": csrf_token_from(page.text)}
    )
    assert response.status_code == 200
    assert 'id="code-error"' in response.text
