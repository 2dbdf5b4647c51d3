from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from maf.auth import services
from maf.auth.forms import SignInForm
from maf.auth.permissions import public, safe_next_url, signed_in, start_session
from maf.extensions import limiter

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
        if user is not None:
            start_session(user)
            return redirect(safe_next_url(request.args.get("next")))
        form.email.errors.append(services.SIGN_IN_FAILED)
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out():
    services.sign_out(current_user._get_current_object())
    logout_user()
    return redirect(url_for("auth.sign_in", signed_out=1))
