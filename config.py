"""Configuration, read from environment variables prefixed MAF_.

The embedded default is a SQLite file under instance/; production sets MAF_DATABASE_URL to
PostgreSQL (postgresql+psycopg://user:password@host/db) and MAF_ENV=production.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("MAF_INSTANCE_PATH", BASE_DIR / "instance"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> tuple[str, ...]:
    """A comma-separated setting, e.g. MAF_OIDC_ALLOWED_TENANTS="id-1,id-2"."""
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


def _development_secret_key() -> str:
    """A random key kept in instance/ so sessions survive a restart of `make run`."""
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "MAF_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'maf.sqlite'}"
    )
    # pool_pre_ping replaces a connection the database dropped (a restart, a failover) before a
    # request uses it. hide_parameters keeps the values of a failed statement, which may be a
    # child's details, out of the exception's message and so out of every log.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    SERVICE_NAME = os.environ.get("MAF_SERVICE_NAME", "Multi-agency forums")
    ORGANISATION_NAME = os.environ.get("MAF_ORGANISATION_NAME", "Leicestershire County Council")

    # Cookies: HttpOnly always; SameSite=Lax keeps links from emails working while
    # stopping cross-site form posts; Secure is on in production.
    SESSION_COOKIE_NAME = "maf_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("MAF_SECURE_COOKIES", False)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    # Enforced on the server from times kept in the signed session, not only by cookie expiry.
    SESSION_IDLE_SECONDS = 60 * _int("MAF_SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_SECONDS = 3600 * _int("MAF_SESSION_ABSOLUTE_HOURS", 12)
    PERMANENT_SESSION_LIFETIME = timedelta(seconds=SESSION_IDLE_SECONDS)

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which expires on its own

    # Sign-in lockout: after this many wrong passwords in a row the account is locked.
    # Roles that must use a second factor. Production requires it of admins and coordinators;
    # `make run` does not, so the demo can be tried without an authenticator app.
    MFA_REQUIRED_ROLES = tuple(
        role for role in os.environ.get("MAF_MFA_REQUIRED_ROLES", "").split(",") if role
    )
    LOCKOUT_THRESHOLD = _int("MAF_LOCKOUT_THRESHOLD", 5)

    # Single sign-on with OpenID Connect (maf/sso; README "Single sign-on with Microsoft Entra
    # ID"). On when a discovery URL and a client id are set; nothing is fetched from the provider
    # until someone clicks "Sign in with <OIDC_PROVIDER_NAME>".
    OIDC_DISCOVERY_URL = os.environ.get("MAF_OIDC_DISCOVERY_URL", "")
    OIDC_CLIENT_ID = os.environ.get("MAF_OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("MAF_OIDC_CLIENT_SECRET", "")
    OIDC_PROVIDER_NAME = os.environ.get("MAF_OIDC_PROVIDER_NAME", "Microsoft")
    # The redirect URI registered with the provider; empty: this site's /sign-in/oidc/callback
    # as the request reached it (set it when a proxy in front changes the host or scheme).
    OIDC_REDIRECT_URI = os.environ.get("MAF_OIDC_REDIRECT_URI", "")
    # Who may come in: Entra ID tenant ids (the `tid` claim) and/or email domains; empty: any.
    OIDC_ALLOWED_TENANTS = _list("MAF_OIDC_ALLOWED_TENANTS")
    OIDC_ALLOWED_EMAIL_DOMAINS = tuple(
        domain.lower() for domain in _list("MAF_OIDC_ALLOWED_EMAIL_DOMAINS")
    )
    # true: the provider's MFA counts and MAF asks no code of its own after single sign-on;
    # false: roles in MFA_REQUIRED_ROLES still use MAF's second factor.
    OIDC_TRUST_IDP_MFA = _bool("MAF_OIDC_TRUST_IDP_MFA", False)
    OIDC_TIMEOUT_SECONDS = _int("MAF_OIDC_TIMEOUT_SECONDS", 10)
    # Roles that may still sign in with a password once single sign-on is on (default: all).
    # A person with any role left out must use single sign-on.
    PASSWORD_SIGN_IN_ROLES = _list(
        "MAF_PASSWORD_SIGN_IN_ROLES", "admin,coordinator,chair,practitioner"
    )
    LOCKOUT_MINUTES = _int("MAF_LOCKOUT_MINUTES", 15)
    # Sign-in attempts a client address may make; with several web processes, point the
    # limiter at shared storage (e.g. redis://...) so they count together.
    SIGN_IN_THROTTLE = True
    SIGN_IN_RATE_LIMIT = os.environ.get("MAF_SIGN_IN_RATE_LIMIT", "10 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("MAF_RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False

    # argon2id cost; the defaults follow argon2-cffi's RFC 9106 "low memory" profile.
    ARGON2_TIME_COST = _int("MAF_ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("MAF_ARGON2_MEMORY_COST", 65536)

    HSTS = False

    # No request body larger than the biggest upload (a 20 MB register export) plus the rest of
    # its form; anything bigger is refused before it is read, with a "file too big" page.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024

    # Links in emails and calendar events point here; invitations' UIDs use its host name.
    BASE_URL = os.environ.get("MAF_BASE_URL", "http://127.0.0.1:5000")
    # Coordinators are reminded when an agenda is not circulated this many working days before.
    AGENDA_REMINDER_WORKING_DAYS = _int("MAF_AGENDA_REMINDER_WORKING_DAYS", 5)
    # Run the scheduled jobs inside the web app (`make run` sets it); production runs
    # `flask maf scheduler` as its own process instead.
    SCHEDULER_IN_APP = _bool("MAF_SCHEDULER_IN_APP", False)
    # How often the sender looks for due emails, and how long the active scheduler's lease lasts
    # without renewal: a scheduler that dies is replaced by a waiting one this long after.
    OUTBOX_INTERVAL_SECONDS = _int("MAF_OUTBOX_INTERVAL_SECONDS", 30)
    SCHEDULER_LEASE_SECONDS = _int("MAF_SCHEDULER_LEASE_SECONDS", 90)

    # What the safeguarding screen tells a coordinator to do instead of a CAF (seed 002 A1).
    SAFEGUARDING_ADVICE = os.environ.get(
        "MAF_SAFEGUARDING_ADVICE",
        "Follow the local safeguarding children procedures now: contact the children's social "
        "care duty team, or call 999 if a child is in immediate danger.",
    )

    # Outgoing mail (maf.circulation.outbox). "smtp" hands each message to the server below;
    # "file" writes it to <instance>/outbox/<timestamp>-<id>.eml instead of sending it, so
    # `make run` shows what would have gone (the development and test default).
    MAIL_TRANSPORT = os.environ.get("MAF_MAIL_TRANSPORT", "smtp")
    MAIL_FROM = os.environ.get("MAF_MAIL_FROM", "MAF <maf-no-reply@localhost>")
    # The bare address of MAIL_FROM, e.g. an invitation's organiser when a forum has none.
    MAIL_FROM_ADDRESS = MAIL_FROM.rpartition("<")[2].rstrip(">").strip()
    SMTP_HOST = os.environ.get("MAF_SMTP_HOST", "localhost")
    SMTP_PORT = _int("MAF_SMTP_PORT", 25)
    # none (plain, e.g. a relay on localhost), starttls (upgrade on the port) or ssl (TLS from
    # the first byte, usually port 465). starttls and ssl verify the server's certificate.
    SMTP_SECURITY = os.environ.get("MAF_SMTP_SECURITY", "none")
    SMTP_USERNAME = os.environ.get("MAF_SMTP_USERNAME", "")  # empty: no AUTH
    SMTP_PASSWORD = os.environ.get("MAF_SMTP_PASSWORD", "")
    SMTP_TIMEOUT_SECONDS = _int("MAF_SMTP_TIMEOUT_SECONDS", 30)
    # A message that keeps failing temporarily (tried again 1, 2, 4, 8... minutes later, at most
    # 6 hours apart) is marked failed after this many attempts; a coordinator can retry it.
    MAIL_MAX_ATTEMPTS = _int("MAF_MAIL_MAX_ATTEMPTS", 8)
    # A message still "being sent" this long after a sender claimed it was left by a sender
    # that died mid-send: it becomes "not known whether it was sent" and is never resent by itself.
    MAIL_LEASE_MINUTES = _int("MAF_MAIL_LEASE_MINUTES", 15)

    # The forums' organiser mailbox, where calendar programs send members' answers to their
    # invitations (maf.answers.mailbox reads it): imaps://user:password@host:993/INBOX, or
    # imap:// for a server on this machine; empty: not read. A user name holding "@" is
    # written %40. The test suite starts its own (tests/imap_server.py).
    ORGANISER_MAILBOX_URL = os.environ.get("MAF_ORGANISER_MAILBOX_URL", "")
    ORGANISER_MAILBOX_INTERVAL_SECONDS = _int("MAF_ORGANISER_MAILBOX_INTERVAL_SECONDS", 300)
    ORGANISER_MAILBOX_TIMEOUT_SECONDS = _int("MAF_ORGANISER_MAILBOX_TIMEOUT_SECONDS", 30)


class DevelopmentConfig(Config):
    SECRET_KEY = os.environ.get("MAF_SECRET_KEY") or _development_secret_key()
    MAIL_TRANSPORT = os.environ.get("MAF_MAIL_TRANSPORT", "file")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "MAF_TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'maf-test.sqlite'}"
    )
    # The suite signs in hundreds of times from one address; the throttle's own test turns it on.
    SIGN_IN_THROTTLE = False
    # Cheap hashing keeps the suite fast; production cost is set above.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192
    # Never mail anyone from a test run; the outbox tests point "smtp" at their own server.
    MAIL_TRANSPORT = "file"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    HSTS = True
    MFA_REQUIRED_ROLES = tuple(
        role
        for role in os.environ.get("MAF_MFA_REQUIRED_ROLES", "admin,coordinator").split(",")
        if role
    )

    def __init__(self) -> None:
        # Refuse to start without a real key rather than sign sessions with a guessable one.
        self.SECRET_KEY = os.environ["MAF_SECRET_KEY"]


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> Config:
    return CONFIGS[name or os.environ.get("MAF_ENV", "development")]()
