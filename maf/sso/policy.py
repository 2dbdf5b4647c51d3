"""Whether single sign-on is on, and who may still sign in with a password.

Kept apart from maf.sso.services (which builds on maf.auth) so the password sign-in can ask it
without an import cycle.
"""

from flask import current_app

from maf.errors import DomainError


class PasswordSignInOff(DomainError):
    """The person's role signs in through the identity provider only."""


def configured() -> bool:
    """On when the deployment names its provider's discovery document and MAF's client id."""
    config = current_app.config
    return bool(config["OIDC_DISCOVERY_URL"] and config["OIDC_CLIENT_ID"])


def provider_name() -> str:
    return current_app.config["OIDC_PROVIDER_NAME"]


def password_sign_in_allowed(user) -> bool:
    """A person may use a password unless one of their roles has password sign-in switched off
    (PASSWORD_SIGN_IN_ROLES). Without single sign-on the switch does nothing: nobody could
    sign in at all."""
    if not configured():
        return True
    allowed = set(current_app.config["PASSWORD_SIGN_IN_ROLES"])
    return all(role.value in allowed for role in user.roles)


def password_refusal() -> PasswordSignInOff:
    name = provider_name()
    return PasswordSignInOff(
        f"Your account signs in with {name}, not with a password: use "
        f"the “Sign in with {name}” button",
        field="email",
    )
