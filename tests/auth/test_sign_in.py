"""Sign-in, lockout, sign-out and sessions."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.dbtypes import utcnow
from maf.extensions import db
from tests.conftest import PASSWORD, submit


def _comparable(html: str) -> str:
    """A page with its per-request tokens blanked, to compare two answers."""
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)


def test_signing_in_lands_on_the_dashboard(client, make_user, sign_in):
    user = make_user(Role.COORDINATOR, name="Priya Shah")
    response = sign_in(user, follow_redirects=True)
    assert response.request.path == "/"
    assert "Hello, Priya Shah" in response.text
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in"))


def test_email_is_matched_whatever_its_case_or_spacing(client, make_user):
    make_user(email="priya.shah@example.org")
    response = submit(
        client, "/sign-in", {"email": "  Priya.Shah@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_shows_error_beside_the_field_and_keeps_the_email(client, make_user):
    user = make_user()
    response = submit(client, "/sign-in", {"email": user.email, "password": "not the password"})
    assert response.status_code == 200
    assert "govuk-error-summary" in response.text
    assert 'href="#email"' in response.text
    assert 'id="email-error"' in response.text
    assert f'value="{user.email}"' in response.text
    assert "not the password" not in response.text, "a typed password is never sent back"
    assert "<title>Error: Sign in" in response.text


def test_empty_fields_are_each_reported(client):
    response = submit(client, "/sign-in", {"email": "", "password": ""})
    assert "Enter your email address" in response.text
    assert "Enter your password" in response.text


def test_unknown_account_gets_exactly_the_same_answer_as_a_wrong_password(client, make_user):
    user = make_user(email="known@example.org")
    wrong = submit(client, "/sign-in", {"email": user.email, "password": "wrong password!"})
    unknown = submit(
        client, "/sign-in", {"email": "nobody@example.org", "password": "wrong password!"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert _comparable(wrong.text) == _comparable(unknown.text).replace(
        "nobody@example.org", "known@example.org"
    )


def test_account_locks_after_repeated_failures_with_the_same_answer(app, client, make_user):
    user = make_user()
    threshold = app.config["LOCKOUT_THRESHOLD"]
    for _ in range(threshold):
        submit(client, "/sign-in", {"email": user.email, "password": "wrong password!"})
    db.session.refresh(user)
    assert user.locked_until is not None

    locked = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 200, "the right password does not open a locked account"
    unknown = submit(client, "/sign-in", {"email": "nobody@example.org", "password": PASSWORD})
    assert _comparable(locked.text) == _comparable(unknown.text).replace(
        "nobody@example.org", user.email
    )
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
    ).all()
    assert "account_locked" in actions


def test_lock_expires(client, make_user):
    user = make_user()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_account_cannot_sign_in(client, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    response = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.text


def test_sign_in_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.text


def test_next_is_followed_only_within_the_site(client, make_user):
    user = make_user(Role.ADMIN)
    data = {"email": user.email, "password": PASSWORD}
    inside = submit(client, "/sign-in?next=/agencies", data, action="/sign-in?next=/agencies")
    assert inside.headers["Location"] == "/agencies"
    client.post("/sign-out", data={"csrf_token": _token(client)})
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        url = f"/sign-in?next={target}"
        response = submit(client, url, data, action=url)
        assert response.headers["Location"] == "/", target
        client.post("/sign-out", data={"csrf_token": _token(client)})


def _token(client):
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/").text)


def test_sign_out_is_post_only_and_ends_every_session_of_the_user(app, client, make_user, sign_in):
    user = make_user()
    sign_in(user)
    first_browser = client
    other_browser = app.test_client()
    submit(other_browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert other_browser.get("/").status_code == 200

    assert first_browser.get("/sign-out").status_code == 405
    response = first_browser.post("/sign-out", data={"csrf_token": _token(first_browser)})
    assert response.headers["Location"].startswith("/sign-in")
    assert first_browser.get("/").headers["Location"].startswith("/sign-in")
    assert other_browser.get("/").headers["Location"].startswith("/sign-in")


def test_sign_in_starts_a_fresh_session(client, make_user, sign_in):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(make_user())
    with client.session_transaction() as session:
        assert "planted" not in session


def test_idle_session_is_ended_by_the_server(app, client, make_user, sign_in):
    sign_in(make_user())
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - app.config["SESSION_IDLE_SECONDS"] - 1
    response = client.get("/")
    assert response.headers["Location"].startswith("/sign-in")
    page = client.get("/sign-in")
    assert "signed out because you had not used the service" in page.text


def test_a_timed_out_session_can_sign_in_again_straight_from_the_sign_in_page(
    client, make_user, sign_in, app_clock
):
    """Back at the desk after lunch, the person opens the sign-in page: it offers its form (it
    sent them to a dashboard that sent them back), and signing in works."""
    user = make_user(name="Priya Shah")
    app_clock(utcnow())
    sign_in(user)
    app_clock(utcnow() + timedelta(minutes=31))
    page = client.get("/sign-in")
    assert page.status_code == 200 and 'name="password"' in page.text
    signed_in = sign_in(user, follow_redirects=True)
    assert "Priya Shah" in signed_in.text and 'name="password"' not in signed_in.text


def test_session_ends_after_the_absolute_limit_even_when_busy(app, client, make_user, sign_in):
    sign_in(make_user())
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - app.config["SESSION_ABSOLUTE_SECONDS"] - 1
    assert client.get("/").headers["Location"].startswith("/sign-in")


def test_password_hashes_are_argon2id(make_user):
    assert make_user().password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short", "12 characters or more"),
        ("qwerty123456", "most commonly used"),
        ("1qaz2wsx3edc", "most commonly used"),
        ("aaaaaaaaaaaaaa", "too few characters"),
        ("correct horse battery staple", None),
    ],
)
def test_passwords_are_long_and_not_common(app, password, problem):
    from maf.auth.services import password_problem

    with app.app_context():
        result = password_problem(password)
    assert (result is None) if problem is None else (problem in result)


def test_sign_in_is_throttled_with_the_same_answer_for_any_account(make_scratch_app):
    from maf.auth.models import Role
    from maf.auth.services import save_user

    throttled = make_scratch_app("throttle", SIGN_IN_THROTTLE=True, SIGN_IN_RATE_LIMIT="3/minute")
    with throttled.app_context():
        save_user(email="known@example.org", name="Known", password=PASSWORD, roles=[Role.CHAIR])
        db.session.commit()
    browser = throttled.test_client()
    answers = [
        submit(browser, "/sign-in", {"email": email, "password": "wrong password!"}).status_code
        for email in ("nobody@example.org", "known@example.org", "nobody@example.org")
    ]
    assert answers == [200, 200, 200]
    for email in ("known@example.org", "nobody@example.org"):
        page = submit(browser, "/sign-in", {"email": email, "password": PASSWORD})
        assert page.status_code == 429 and "Too many attempts" in page.text
