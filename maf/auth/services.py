"""Accounts and sign-in: hashing, lockout, sessions."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from maf.audit import services as audit
from maf.auth.models import Role, User, new_session_token
from maf.circulation import outbox
from maf.dbtypes import utcnow
from maf.directory.models import Agency, District
from maf.errors import DomainError
from maf.extensions import db
from maf.sso import policy as sso_policy

# One answer for every failure, so the page never reveals whether an account exists,
# is locked or is deactivated.
SIGN_IN_FAILED = (
    "Enter a correct email address and password. After several wrong attempts an account "
    "is locked for a while: try again later or ask your administrator."
)
MIN_PASSWORD_LENGTH = 12


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("maf_password_hasher")
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=current_app.config["ARGON2_TIME_COST"],
            memory_cost=current_app.config["ARGON2_MEMORY_COST"],
        )
        current_app.extensions["maf_password_hasher"] = hasher
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _spend_verification_time(password: str) -> None:
    """Do the work of a real check so response times do not reveal unknown accounts."""
    dummy = current_app.extensions.get("maf_dummy_hash")
    if dummy is None:
        dummy = current_app.extensions["maf_dummy_hash"] = hash_password(new_session_token())
    _password_matches(dummy, password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most used passwords, shipped as data inside zxcvbn (no network needed)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    squeezed = "".join(password.lower().split())
    if password.lower() in _common_passwords() or squeezed in _common_passwords():
        return "That password is one of the most commonly used: choose another"
    if len(set(password)) < 4:
        return "That password repeats too few characters: choose another"
    return None


def authenticate(email: str, password: str) -> User | None:
    """Check a sign-in attempt, applying the lockout; every outcome is audited."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    stored_hash = user.password_hash if user is not None else None
    # The check below is slow by design: hold no transaction (on SQLite, the write lock of a
    # form post) while it runs, or sign-ins at a busy moment queue behind each other's hashing.
    db.session.commit()
    matches = _password_matches(stored_hash, password) if stored_hash else None
    now = utcnow()
    if user is None:
        _spend_verification_time(password)
        audit.record("sign_in_failed", detail="no such account")
    elif user.locked_until is not None and user.locked_until > now:
        audit.record("sign_in_failed", user, user=user, detail="account locked")
    elif not matches or not user.active:
        # Counted in SQL so two simultaneous wrong attempts both count.
        user.failed_login_count = User.failed_login_count + 1
        db.session.flush()
        db.session.refresh(user)
        audit.record("sign_in_failed", user, user=user, detail="wrong password or inactive")
        if user.failed_login_count >= current_app.config["LOCKOUT_THRESHOLD"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
            user.failed_login_count = 0
            audit.record("account_locked", user, user=user)
    elif not sso_policy.password_sign_in_allowed(user):
        # Asked only once the password is right, so the page tells no one else how this
        # account signs in (maf.sso, PASSWORD_SIGN_IN_ROLES).
        audit.record("sign_in_refused", user, user=user, detail="password sign-in off for role")
        db.session.commit()
        raise sso_policy.password_refusal()
    else:
        user.failed_login_count = 0
        user.locked_until = None
        user.last_signed_in_at = now
        if _hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record("sign_in", user, user=user)
        db.session.commit()
        return user
    db.session.commit()
    return None


def sign_out(user: User) -> None:
    """End every session of this user, not just the one in this browser."""
    user.session_token = new_session_token()
    audit.record("sign_out", user, user=user)
    db.session.commit()


def session_expired(signed_in_at: float | None, seen_at: float | None, now: float) -> bool:
    config = current_app.config
    if signed_in_at is None or seen_at is None:
        return True
    idle = now - seen_at > config["SESSION_IDLE_SECONDS"]
    return idle or now - signed_in_at > config["SESSION_ABSOLUTE_SECONDS"]


def user_by_session_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.session_token == token, User.active))


def save_user(
    *,
    email: str,
    name: str,
    password: str,
    roles: Iterable[Role],
    districts: Iterable[District] = (),
    agency: Agency | None = None,
) -> User:
    """Create the account, or bring an existing one with this email up to date."""
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.name = name
    user.password_hash = hash_password(password)
    user.roles = roles
    user.districts = list(districts)
    user.agency = agency
    user.active = True
    db.session.flush()
    audit.record("user_saved", user, detail="roles: " + ", ".join(sorted(user.roles)))
    return user


# --- changing and resetting a password ------------------------------------------------


def _set_password(user: User, password: str) -> None:
    """A new password ends every session of the account, everywhere, and lifts a lockout."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    user.failed_login_count = 0
    user.locked_until = None


def _check_new_password(password: str, confirmation: str) -> None:
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="new_password")
    if password != confirmation:
        raise DomainError("The passwords do not match", field="confirm_password")


def change_password(user: User, current: str, new: str, confirmation: str) -> None:
    if not _password_matches(user.password_hash, current):
        audit.record("password_change_refused", user, user=user, detail="wrong current password")
        db.session.commit()
        raise DomainError("Your current password is not right", field="current_password")
    _check_new_password(new, confirmation)
    if _password_matches(user.password_hash, new):
        raise DomainError("Choose a password you have not been using", field="new_password")
    _set_password(user, new)
    audit.record("password_changed", user, user=user)
    db.session.commit()


RESET_LINK_SECONDS = 3600


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="maf-password-reset")


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link works once and only until then."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str, once: str | None = None) -> None:
    """Mail a reset link to an active account. Says nothing of whether the account exists:
    the caller shows the same page either way.

    `once` is the form's token: the same form sent twice (a double click, a retry) queues
    one email, through the outbox's unique dedupe key, whatever the seconds between."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        if user is None:
            _tell_member_they_have_no_account(email, once)
        audit.record("password_reset_requested", detail="no such active account")
        db.session.commit()
        return
    if not sso_policy.password_sign_in_allowed(user):
        from maf.sso.services import tell_to_use_single_sign_on  # single sign-on builds on this

        tell_to_use_single_sign_on(user, once)
        audit.record("password_reset_requested", user, user=user, detail="single sign-on only")
        db.session.commit()
        return
    fingerprint = _password_fingerprint(user)
    token = _reset_serializer().dumps({"user": user.id, "password": fingerprint})
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
    context = {"user": user, "link": link, "minutes": RESET_LINK_SECONDS // 60}
    request_key = once or hashlib.sha256(token.encode()).hexdigest()[:24]
    outbox.enqueue(
        dedupe_key=f"password-reset:{user.id}:{request_key}",
        recipient_email=user.email,
        recipient_name=user.name,
        subject="Reset your password",
        text_body=render_template("auth/email/password_reset.txt", **context),
        html_body=render_template("auth/email/password_reset.html", **context),
        erase_once_sent=True,
    )
    audit.record("password_reset_requested", user, user=user)
    db.session.commit()


def _tell_member_they_have_no_account(email: str, once: str | None) -> None:
    """A forum member who receives the agendas but has no account asks for a password: an
    email says so and whom to ask for an invitation, instead of silence. Any other address
    gets nothing, and the page answers the same either way."""
    from maf.invitations.services import no_account_notice  # invitations build on accounts

    notice = no_account_notice(email)
    if notice is None:
        return
    address = normalise_email(email)
    request_key = once or hashlib.sha256(new_session_token().encode()).hexdigest()[:24]
    context = {"notice": notice}
    outbox.enqueue(
        dedupe_key=f"password-reset-no-account:{address}:{request_key}",
        recipient_email=address,
        recipient_name=notice.name,
        subject=f"You do not have a {current_app.config['SERVICE_NAME']} account",
        text_body=render_template("auth/email/no_account.txt", **context),
        html_body=render_template("auth/email/no_account.html", **context),
    )


def user_for_reset_token(token: str) -> User | None:
    """The account a reset link is for, or None when it is forged, expired or already used."""
    try:
        claims = _reset_serializer().loads(token, max_age=RESET_LINK_SECONDS)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(claims, dict):
        return None
    user = db.session.get(User, claims.get("user"))
    if user is None or not user.active or claims.get("password") != _password_fingerprint(user):
        return None
    return user


def reset_password(user: User, new: str, confirmation: str) -> None:
    _check_new_password(new, confirmation)
    _set_password(user, new)
    audit.record("password_reset", user, user=user)
    db.session.commit()


# --- the person's own account ------------------------------------------------------------


@dataclass(frozen=True)
class ForumPart:
    """A forum the person takes part in, and in which ways (chair, coordinator, member)."""

    forum_name: str
    district_name: str
    parts: tuple[str, ...]


def forums_of(user: User) -> list[ForumPart]:
    """The forums this person chairs, coordinates or belongs to as an active member (by
    account, or by email for a member added before their account existed), by name."""
    from maf.forums.models import Forum, ForumMember  # forums build on accounts

    members = select(ForumMember.forum_id, ForumMember.role).where(
        ForumMember.active,
        (ForumMember.user_id == user.id) | (func.lower(ForumMember.email) == user.email.lower()),
    )
    member_roles = {forum_id: role for forum_id, role in db.session.execute(members)}
    forums = db.session.scalars(
        select(Forum)
        .where(
            (Forum.chair_id == user.id)
            | (Forum.coordinator_id == user.id)
            | Forum.id.in_(list(member_roles))
        )
        .options(selectinload(Forum.district))
        .order_by(Forum.name)
    )
    found = []
    for forum in forums:
        parts = []
        if forum.chair_id == user.id:
            parts.append("Chair")
        if forum.coordinator_id == user.id:
            parts.append("Coordinator")
        if forum.id in member_roles:
            parts.append(member_roles[forum.id].label)
        found.append(ForumPart(forum.name, forum.district.name, tuple(parts)))
    return found
