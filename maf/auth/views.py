import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from maf.auth import mfa, services
from maf.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ForgottenPasswordForm,
    NewPasswordForm,
    SignInForm,
)
from maf.auth.permissions import public, safe_next_url, signed_in, start_session
from maf.errors import DomainError
from maf.extensions import limiter
from maf.forms import attach_error
from maf.sso import policy as sso_policy

bp = Blueprint("auth", __name__)

# Attempts at anything that guesses at an account (password, code, reset) per client address.
throttled = limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    methods=["POST"],
    # Per app, not per process: the limiter is one object shared by every app in the process.
    exempt_when=lambda: not current_app.config["SIGN_IN_THROTTLE"],
)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@throttled
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except sso_policy.PasswordSignInOff as refusal:
            attach_error(form, refusal, "email")
        else:
            if user is not None:
                return continue_sign_in(user, request.args.get("next"))
            form.email.errors.append(services.SIGN_IN_FAILED)
    return render_template(
        "auth/sign_in.html",
        form=form,
        sso_provider=sso_policy.provider_name() if sso_policy.configured() else None,
    )


def continue_sign_in(user, next_url: str | None, *, second_factor: bool = True):
    """After the password (or single sign-on) proved who this is: the second factor where the
    person has one, or its set-up where their role needs one, then the page they asked for.
    `second_factor=False` when the identity provider's own MFA is trusted (OIDC_TRUST_IDP_MFA)."""
    if second_factor and mfa.enabled(user):
        # Half signed in: the password was right, the second factor is still to come.
        session.clear()
        session["mfa_pending"], session["mfa_since"] = user.session_token, time.time()
        return redirect(url_for("auth.second_factor", next=next_url))
    start_session(user)
    if second_factor and mfa.required(user):
        session["mfa_setup_required"] = True
        return redirect(url_for("auth.security"))
    return redirect(safe_next_url(next_url))


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out():
    services.sign_out(current_user._get_current_object())
    logout_user()
    return redirect(url_for("auth.sign_in", signed_out=1))


SECOND_FACTOR_SECONDS = 300


def _pending_user():
    token, since = session.get("mfa_pending"), session.get("mfa_since", 0)
    if not token or time.time() - since > SECOND_FACTOR_SECONDS:
        return None
    return services.user_by_session_token(token)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
@throttled
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    user = _pending_user()
    if user is None:
        session.pop("mfa_pending", None)
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if mfa.verify(user, form.code.data):
            start_session(user)
            return redirect(safe_next_url(request.args.get("next")))
        form.code.errors.append("That code is not right, or has been used: enter a new one")
    return render_template("auth/second_factor.html", form=form)


@bp.route("/account")
@signed_in
def account():
    """The signed-in person's own details, roles, districts and forums, then their security
    settings. It takes no id: no one reads another person's account here."""
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html",
        user=user,
        forums=services.forums_of(user),
        mfa_on=mfa.enabled(user),
        mfa_required=mfa.required(user),
    )


@bp.route("/account/security", methods=["GET", "POST"])
@signed_in
def security():
    """Turn on the second factor: scan the QR code, then prove the app makes the right codes."""
    user = current_user._get_current_object()
    if mfa.enabled(user):
        return render_template("auth/security.html", enabled=True)
    secret = session.get("mfa_secret") or mfa.new_secret()
    session["mfa_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(user, secret, form.code.data)
        except mfa.MfaError as error:
            attach_error(form, error, "code")
        else:
            session.pop("mfa_secret", None)
            session.pop("mfa_setup_required", None)
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template(
        "auth/security.html",
        enabled=False,
        form=form,
        qr_code=mfa.qr_code(user, secret),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=mfa.required(user),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                user, form.current_password.data, form.new_password.data, form.confirm_password.data
            )
        except DomainError as error:
            attach_error(form, error, "new_password")
        else:
            # Every other session has ended; this browser carries on in a fresh one.
            start_session(user)
            return render_template("auth/password_saved.html", changed=True)
    return render_template("auth/change_password.html", form=form)


@bp.route("/sign-in/forgotten", methods=["GET", "POST"])
@public
@throttled
def forgotten_password():
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, once=form.once.data)
        return render_template("auth/reset_link_sent.html", email=form.email.data)
    return render_template("auth/forgotten_password.html", form=form)


@bp.route("/sign-in/reset/<token>", methods=["GET", "POST"])
@public
@throttled
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_link_expired.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.new_password.data, form.confirm_password.data)
        except DomainError as error:
            attach_error(form, error, "new_password")
        else:
            return render_template("auth/password_saved.html", changed=False)
    return render_template("auth/reset_password.html", form=form)
