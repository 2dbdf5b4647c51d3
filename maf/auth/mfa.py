"""The second factor: TOTP (RFC 6238) with an authenticator app, and one-time recovery codes."""

import hashlib
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, select, update

from maf.audit import services as audit
from maf.auth.models import RecoveryCode, User
from maf.dbtypes import utcnow
from maf.errors import DomainError
from maf.extensions import db

RECOVERY_CODES = 10
STEP_SECONDS = 30


class MfaError(DomainError):
    """The code was not accepted."""


def required(user: User) -> bool:
    return user.has_role(*current_app.config["MFA_REQUIRED_ROLES"])


def enabled(user: User) -> bool:
    return user.mfa_enabled_at is not None


def new_secret() -> str:
    return pyotp.random_base32()


def qr_code(user: User, secret: str) -> str:
    """A data: URI of the QR code to scan (allowed by the CSP's img-src)."""
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SERVICE_NAME"]
    )
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step the code belongs to, allowing one step either side for clock drift."""
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    step = int(now // STEP_SECONDS)
    for candidate in (step - 1, step, step + 1):
        # As bytes: compare_digest refuses str holding anything but ASCII, and a code is typed.
        if secrets.compare_digest(totp.at(candidate * STEP_SECONDS).encode(), code.encode()):
            return candidate
    return None


def _hash(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def confirm_enrolment(user: User, secret: str, code: str, now: float | None = None) -> list[str]:
    """Turn the second factor on once the user shows their app makes the right codes.
    Returns the recovery codes, shown once and kept only as hashes."""
    step = _matching_step(secret, code, now or time.time())
    if step is None:
        raise MfaError("Enter the 6-digit code your authenticator app shows now", field="code")
    user.totp_secret, user.totp_last_step, user.mfa_enabled_at = secret, step, utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    audit.record("mfa_enabled", user, user=user)
    db.session.commit()
    return codes


def verify(user: User, code: str, now: float | None = None) -> bool:
    """A current TOTP code not used before, or an unused recovery code. Audited either way."""
    step = _matching_step(user.totp_secret or "", code, now or time.time())
    accepted = False
    if step is not None:
        # Claimed in SQL, so the same code sent twice at once is accepted once.
        accepted = bool(
            db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            ).rowcount
        )
    else:
        recovery = db.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_(None),
            )
        )
        if recovery is not None:
            recovery.used_at = utcnow()
            accepted = True
    audit.record("mfa_passed" if accepted else "mfa_failed", user, user=user)
    db.session.commit()
    return accepted
