import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from maf.auth import mfa, services
from maf.auth.forms import CodeForm, SignInForm
from maf.auth.permissions import public, safe_next_url, signed_in, start_session
from maf.extensions import limiter
from maf.forms import attach_error

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    methods=["POST"],
    # Per app, not per process: the limiter is one object shared by every app in the process.
    exempt_when=lambda: not current_app.config["SIGN_IN_THROTTLE"],
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and mfa.enabled(user):
            # Half signed in: the password was right, the second factor is still to come.
            session.clear()
            session["mfa_pending"], session["mfa_since"] = user.session_token, time.time()
            return redirect(url_for("auth.second_factor", next=request.args.get("next")))
        if user is not None:
            start_session(user)
            if mfa.required(user):
                session["mfa_setup_required"] = True
                return redirect(url_for("auth.security"))
            return redirect(safe_next_url(request.args.get("next")))
        form.email.errors.append(services.SIGN_IN_FAILED)
    return render_template("auth/sign_in.html", form=form)


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
@limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    methods=["POST"],
    exempt_when=lambda: not current_app.config["SIGN_IN_THROTTLE"],
)
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
