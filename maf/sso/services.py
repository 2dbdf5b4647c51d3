"""Single sign-on with OpenID Connect: who may come in through the identity provider, as whom.

Authlib runs the protocol: the authorisation code flow with PKCE (S256), state and nonce, and
checks the ID token (signature against the provider's published keys, issuer, audience, expiry,
nonce). This module decides who the token's person is in MAF:

- a person signed in before is found by the provider's issuer and subject (SsoIdentity), which
  never change, so a changed email address still finds them;
- otherwise by a *verified* email address (`email_verified` true, or Entra ID's `xms_edov`:
  the email's domain is verified by the person's tenant) that an active account has; the
  identity is then linked to that account;
- with no account, one is made only where a pending invitation for the address exists (the
  invitation's roles and districts) or the address's domain belongs to a known agency (a
  practitioner of that agency, no districts: their coordinator adds what they need);
- anyone else, a deactivated person, a tenant or email domain the deployment does not allow,
  and any token Authlib refuses, is turned away with a page that says why, and an audit row.

Nothing here runs at start-up: the provider is first asked for its metadata when somebody
clicks "Sign in with ...", so MAF starts and serves passwords while the provider is down.
"""

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, render_template, url_for
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy import select

from maf.audit import services as audit
from maf.auth import services as auth_services
from maf.auth.models import Role, User, new_session_token
from maf.circulation import outbox
from maf.dbtypes import utcnow
from maf.directory.services import agency_for_email, email_domain
from maf.errors import DomainError
from maf.extensions import db
from maf.invitations import services as invitations
from maf.rules.words import words
from maf.sso.models import SsoIdentity
from maf.sso.policy import configured, provider_name

__all__ = ["configured", "provider_name"]

CLIENT_NAME = "maf_sso"  # Authlib's name for the client; no MAF_SSO_* config keys exist


class SsoRefused(DomainError):
    """The person cannot come in this way. The message is for them; `reason` for the audit."""

    def __init__(self, message: str, *, reason: str, status: int = 403):
        super().__init__(message)
        self.reason = reason
        self.status = status


class ProviderUnavailable(Exception):
    """The identity provider did not answer, or answered nonsense."""


def _client():
    """Authlib's client for the configured provider, made when first needed (never at start-up)
    and kept, so the provider's metadata and keys are fetched once, not at every sign-in."""
    config = current_app.config
    key = (config["OIDC_DISCOVERY_URL"], config["OIDC_CLIENT_ID"], config["OIDC_CLIENT_SECRET"])
    clients = current_app.extensions.setdefault("maf_sso_clients", {})
    if key not in clients:
        oauth = OAuth()
        oauth.init_app(current_app._get_current_object())
        clients[key] = oauth.register(
            CLIENT_NAME,
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config["OIDC_CLIENT_SECRET"],
            server_metadata_url=config["OIDC_DISCOVERY_URL"],
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                "default_timeout": config["OIDC_TIMEOUT_SECONDS"],
            },
        )
    return clients[key]


def authorisation_redirect(redirect_uri: str):
    """The redirect to the provider's sign-in page; state, nonce and the PKCE verifier are kept
    in this browser's session by Authlib."""
    try:
        return _client().authorize_redirect(redirect_uri)
    except (RequestException, ValueError, RuntimeError, KeyError) as error:
        current_app.logger.warning("identity provider unavailable: %s", type(error).__name__)
        raise ProviderUnavailable from error


def _refuse(message: str, *, reason: str, user: User | None = None, status: int = 403):
    """Nothing half-done is kept; the refusal itself is."""
    db.session.rollback()
    audit.record("sso_refused", user, user=user, detail=reason)
    db.session.commit()
    raise SsoRefused(message, reason=reason, status=status)


def _id_token_checks(client) -> dict:
    """Authlib checks the ID token's issuer by itself but not its audience: ask for both
    (OpenID Connect Core 3.1.3.7: `aud` must contain MAF's client id, whatever `azp` says)."""
    issuer = client.load_server_metadata()["issuer"]
    return {
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [client.client_id]},
    }


def _claims_from_callback() -> dict:
    """The checked ID token's claims, from the provider's answer to this browser."""
    try:
        client = _client()
        token = client.authorize_access_token(claims_options=_id_token_checks(client))
    except MismatchingStateError:
        _refuse(
            "This sign-in was not started from this browser, or has been used already. "
            "Go back to the sign-in page and start again.",
            reason="state missing or not this session's (forged or replayed)",
            status=400,
        )
    except OAuthError as error:
        # The provider sent the person back with an error (they cancelled, or it refused).
        _refuse(
            f"{provider_name()} did not sign you in. Try again, or sign in with your password.",
            reason=f"provider answered {error.error}: {error.description or ''}".strip(),
        )
    except (AuthlibBaseError, JoseError) as error:
        # Authlib refused the ID token: signature, issuer, audience, expiry or nonce.
        _refuse(
            f"The answer from {provider_name()} could not be trusted, so you have not been "
            "signed in. Try again; if it keeps happening, tell your administrator.",
            reason=f"ID token refused: {type(error).__name__}: {error}",
        )
    except (RequestException, ValueError, RuntimeError, KeyError) as error:
        current_app.logger.warning("identity provider unavailable: %s", type(error).__name__)
        raise ProviderUnavailable from error
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        _refuse(
            f"{provider_name()} did not say who you are, so you have not been signed in.",
            reason="no ID token in the provider's answer",
        )
    return dict(claims)


def verified_email(claims: dict) -> str | None:
    """The email address the provider vouches for: OpenID's `email_verified`, or Entra ID's
    optional claim `xms_edov` (the address's domain is verified by the person's tenant). Entra's
    `upn` and `preferred_username` are not used: they are names, not proven addresses."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    if claims.get("email_verified") is True or claims.get("xms_edov") in (True, "true", "1", 1):
        return auth_services.normalise_email(email)
    return None


def _check_tenant_and_domain(claims: dict, email: str | None) -> None:
    config = current_app.config
    tenants = config["OIDC_ALLOWED_TENANTS"]
    if tenants and claims.get("tid") not in tenants:
        _refuse(
            f"Your {provider_name()} account is not one of the organisations that use this "
            "service. Sign in with your work account, or ask your administrator.",
            reason=f"tenant {str(claims.get('tid'))[:60]!r} not allowed",
        )
    domains = config["OIDC_ALLOWED_EMAIL_DOMAINS"]
    if domains and (email is None or email_domain(email) not in domains):
        _refuse(
            "Your email address is not one this service accepts for single sign-on. Sign in "
            "with your work account, or ask your administrator.",
            reason=f"email domain {email_domain(email or '')!r} not allowed",
        )


def _new_account(email: str, claims: dict) -> User | None:
    """An account for someone MAF expects: invited, or from a known agency's domain."""
    invitation = invitations.pending_invitation_for(email)
    if invitation is not None:
        try:
            return invitations.accept(invitation, password=None)
        except DomainError as error:
            _refuse(str(error), reason=f"invitation could not be accepted: {error}")
    agency = agency_for_email(email)
    if agency is None:
        return None
    name = " ".join(str(claims.get("name") or "").split())[:200] or email.partition("@")[0]
    user = User(
        email=email,
        name=name,
        agency=agency,
        # A random password no one knows: single sign-on or a password reset opens it.
        password_hash=auth_services.hash_password(new_session_token()),
    )
    user.roles = {Role.PRACTITIONER}
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_saved",
        user,
        user=user,
        detail=f"made at first single sign-on: practitioner of agency {agency.id} (email domain)",
    )
    return user


def _account_for(claims: dict, email: str | None) -> tuple[User, SsoIdentity | None]:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )
    if identity is not None:
        return identity.user, identity
    if email is None:
        _refuse(
            f"{provider_name()} did not confirm your email address, so MAF cannot tell which "
            "account is yours. Ask your administrator.",
            reason="no verified email and no linked identity",
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = _new_account(email, claims)
    if user is None:
        _refuse(
            f"There is no account for you in this service. Ask your {words().coordinator} or "
            "administrator for an invitation.",
            reason=f"no account, invitation or agency for domain {email_domain(email)!r}",
        )
    other = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.user_id == user.id, SsoIdentity.issuer == issuer)
    )
    if other is not None:
        # Another account at the same provider already opens this MAF account: a second one
        # claiming the address is not let in on the strength of the address alone.
        _refuse(
            "Your account is linked to a different sign-in. Ask your administrator.",
            reason="account already linked to another subject of this issuer",
            user=user,
        )
    return user, None


def sign_in_from_callback() -> User:
    """Check the provider's answer and find (or, where allowed, make) the person's account;
    the sign-in is recorded as a password sign-in is. Raises SsoRefused or ProviderUnavailable."""
    claims = _claims_from_callback()
    email = verified_email(claims)
    _check_tenant_and_domain(claims, email)
    user, identity = _account_for(claims, email)
    if not user.active:
        _refuse(
            f"Your account has been deactivated. Ask your {words().coordinator} or "
            "administrator if you need it again.",
            reason="account deactivated",
            user=user,
        )
    now = utcnow()
    if identity is None:
        identity = SsoIdentity(user=user, issuer=str(claims["iss"]), subject=str(claims["sub"]))
        db.session.add(identity)
        audit.record("sso_linked", user, user=user, detail=f"issuer {identity.issuer}")
    identity.email = email or identity.email
    identity.last_used_at = now
    user.last_signed_in_at = now
    audit.record("sign_in", user, user=user, detail=f"single sign-on ({provider_name()})")
    db.session.commit()
    return user


def tell_to_use_single_sign_on(user: User, once: str | None) -> None:
    """Someone whose role may not use a password asked to reset it: a reset link would only
    make a password that lets nobody in, so the email says how they do sign in instead (in the
    caller's transaction). `once` is the form's token, as for a reset link."""
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.sign_in")
    context = {"user": user, "link": link, "provider": provider_name()}
    outbox.enqueue(
        dedupe_key=f"password-reset-sso:{user.id}:{once or new_session_token()[:24]}",
        recipient_email=user.email,
        recipient_name=user.name,
        subject=f"Sign in with {provider_name()}",
        text_body=render_template("sso/email/use_single_sign_on.txt", **context),
        html_body=render_template("sso/email/use_single_sign_on.html", **context),
    )
