"""The two legs of single sign-on: off to the identity provider, and back."""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from maf.auth.permissions import public
from maf.auth.views import continue_sign_in
from maf.sso import services

bp = Blueprint("sso", __name__)

NEXT_KEY = "sso_next"


def _unavailable():
    return render_template("sso/unavailable.html", provider=services.provider_name()), 503


@bp.route("/sign-in/oidc")
@public
def start():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if not services.configured():
        abort(404)
    # Where to go once signed in; checked (safe_next_url) when it is used.
    session[NEXT_KEY] = request.args.get("next")
    redirect_uri = current_app.config["OIDC_REDIRECT_URI"] or url_for(
        "sso.callback", _external=True
    )
    try:
        return services.authorisation_redirect(redirect_uri)
    except services.ProviderUnavailable:
        return _unavailable()


@bp.route("/sign-in/oidc/callback")
@public
def callback():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if not services.configured():
        abort(404)
    try:
        user = services.sign_in_from_callback()
    except services.SsoRefused as refusal:
        return render_template(
            "sso/refused.html", message=str(refusal), provider=services.provider_name()
        ), refusal.status
    except services.ProviderUnavailable:
        return _unavailable()
    return continue_sign_in(
        user,
        session.pop(NEXT_KEY, None),
        second_factor=not current_app.config["OIDC_TRUST_IDP_MFA"],
    )
