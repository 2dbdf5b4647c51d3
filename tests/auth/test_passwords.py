"""Changing a password and resetting a forgotten one (issue 8: "sign-out and password change
end all of that user's sessions"; "throttling of sign-in and password reset with the same
response whether the account exists or not")."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.circulation.models import OutboxMessage
from maf.dbtypes import utcnow
from maf.extensions import db
from tests.auth.test_sign_in import _comparable
from tests.conftest import PASSWORD, csrf_token_from, submit

NEW_PASSWORD = "marmalade lighthouse orbit"


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return submit(
        client,
        "/account/password",
        {
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def _signs_in(app, user, password) -> bool:
    browser = app.test_client()
    response = submit(browser, "/sign-in", {"email": user.email, "password": password})
    return response.status_code == 302


def _actions(user) -> list[str]:
    return db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
    ).all()


def test_changing_the_password_ends_every_other_session(app, client, make_user, sign_in):
    user = make_user(Role.CHAIR)
    sign_in(user)
    other_browser = app.test_client()
    submit(other_browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert other_browser.get("/").status_code == 200

    response = _change(client)
    assert "Your new password is saved" in response.text
    assert client.get("/").status_code == 200, "this browser carries on"
    assert other_browser.get("/").headers["Location"].startswith("/sign-in")
    assert _signs_in(app, user, NEW_PASSWORD)
    assert not _signs_in(app, user, PASSWORD)
    assert "password_changed" in _actions(user)


def test_each_problem_is_shown_beside_its_field_and_nothing_changes(
    app, client, make_user, sign_in
):
    user = make_user()
    sign_in(user)
    cases = [
        ({"current": "not my password"}, "current_password", "current password is not right"),
        ({"new": "qwerty123456"}, "new_password", "most commonly used"),
        ({"new": "short"}, "new_password", "12 characters or more"),
        ({"confirm": "marmalade lighthouse orbiT"}, "confirm_password", "do not match"),
        ({"new": PASSWORD}, "new_password", "not been using"),
    ]
    for arguments, field, message in cases:
        response = _change(client, **arguments)
        assert response.status_code == 200
        assert f'id="{field}-error"' in response.text, field
        assert message in response.text
        assert "marmalade" not in response.text, "typed passwords are never sent back"
    assert _signs_in(app, user, PASSWORD)
    assert "password_change_refused" in _actions(user)


def _reset_link(user) -> str:
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_email == user.email)
    ).one()
    assert message.subject == "Reset your password"
    link = re.search(r"https?://\S+/sign-in/reset/\S+", message.text_body).group(0)
    assert link in message.html_body
    return urlsplit(link).path


def test_forgotten_password_gives_one_answer_and_mails_only_real_accounts(client, make_user):
    user = make_user(email="known@example.org")
    known = submit(client, "/sign-in/forgotten", {"email": "Known@Example.org "})
    unknown = submit(client, "/sign-in/forgotten", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert "Check your email" in known.text
    assert _comparable(known.text).replace("Known@Example.org", "nobody@example.org") == (
        _comparable(unknown.text)
    )
    recipients = db.session.scalars(select(OutboxMessage.recipient_email)).all()
    assert recipients == [user.email]


def test_a_reset_link_sets_a_new_password_once_and_unlocks_the_account(app, client, make_user):
    user = make_user(Role.COORDINATOR)
    signed_in_elsewhere = app.test_client()
    submit(signed_in_elsewhere, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert signed_in_elsewhere.get("/").status_code == 200
    user.locked_until = utcnow() + timedelta(hours=1)
    db.session.commit()
    submit(client, "/sign-in/forgotten", {"email": user.email})
    link = _reset_link(user)

    mismatch = submit(
        client, link, {"new_password": NEW_PASSWORD, "confirm_password": "something else"}
    )
    assert 'id="confirm_password-error"' in mismatch.text
    done = submit(client, link, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert "Your new password is saved" in done.text
    assert _signs_in(app, user, NEW_PASSWORD), "the lock is lifted by proving the mailbox"
    assert signed_in_elsewhere.get("/").headers["Location"].startswith("/sign-in")
    used = client.get(link)
    assert used.status_code == 404 and "This link does not work" in used.text
    assert "password_reset" in _actions(user)


def test_an_expired_forged_or_altered_link_changes_nothing(app, client, make_user, monkeypatch):
    from maf.auth.services import _password_fingerprint

    user = make_user()
    submit(client, "/sign-in/forgotten", {"email": user.email})
    token = _reset_link(user).rsplit("/", 1)[1]
    claims = {"user": user.id, "password": _password_fingerprint(user)}
    forged = URLSafeTimedSerializer("a guessed secret key", salt="maf-password-reset")
    expired = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="maf-password-reset")
    signed_at = time.time() - 3660  # an hour and a minute ago: a link lives one hour
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: signed_at)
        stale = expired.dumps(claims)
    csrf_token = csrf_token_from(client.get("/sign-in/forgotten").text)
    for bad in (token[:-3] + "abc", forged.dumps(claims), stale):
        assert client.get(f"/sign-in/reset/{bad}").status_code == 404
        response = client.post(
            f"/sign-in/reset/{bad}",
            data={
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
                "csrf_token": csrf_token,
            },
        )
        assert response.status_code == 404
    assert _signs_in(app, user, PASSWORD)


def test_password_reset_is_throttled_with_the_same_answer_for_any_account(make_scratch_app):
    from maf.auth.services import save_user

    throttled = make_scratch_app("reset", SIGN_IN_THROTTLE=True, SIGN_IN_RATE_LIMIT="2/minute")
    with throttled.app_context():
        save_user(email="known@example.org", name="Known", password=PASSWORD, roles=[Role.CHAIR])
        db.session.commit()
    browser = throttled.test_client()
    answers = [
        submit(browser, "/sign-in/forgotten", {"email": email}).status_code
        for email in ("known@example.org", "nobody@example.org")
    ]
    assert answers == [200, 200]
    for email in ("known@example.org", "nobody@example.org"):
        page = submit(browser, "/sign-in/forgotten", {"email": email})
        assert page.status_code == 429 and "Too many attempts" in page.text
    with throttled.app_context():
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 1
