"""Following cases up between meetings: my actions, my cases, a case's timeline, and the
coordinator's list of cases breaking the time rules."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SubmitField
from wtforms.validators import InputRequired

from maf.auth.models import Role
from maf.auth.permissions import (
    can_see_case,
    case_or_404,
    deny,
    roles_required,
    safe_next_url,
    signed_in,
)
from maf.extensions import db
from maf.forms import (
    Form,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
    VersionField,
    attach_error,
    show_newer_version,
)
from maf.outcomes import followup, late_reasons
from maf.outcomes.forms import MaxLength
from maf.outcomes.models import Action
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit

bp = Blueprint("followup", __name__)


@bp.route("/actions")
@signed_in
def actions():
    today = followup.london_today()
    return render_template(
        "outcomes/followup/actions.html",
        entries=followup.actions_for(current_user, today),
        today=today,
        can_see_case=can_see_case,
    )


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@signed_in
def mark_done(action_id: int):
    action = db.session.get(Action, action_id)
    # 404, not 403: a stranger learns nothing, not even that the action exists.
    if action is None or not followup.may_complete(current_user, action):
        deny(f"action {action_id} out of scope", status=404)
    # Everything that could fail is worked out before the commit, so the page never answers
    # with an error after the action was marked done (which invited a second click).
    target = request.form.get("next")
    back = safe_next_url(target) if target else url_for("followup.actions")
    description = action.description
    if followup.mark_done(action, current_user):
        flash(f"Action marked as done: {description}")
    else:
        flash(f"This action was already marked as done: {description}")
    return redirect(back)


@bp.route("/my-cases")
@signed_in
def my_cases():
    today = followup.london_today()
    return render_template(
        "outcomes/followup/my_cases.html",
        led=followup.cases_led_by(current_user, today),
        today=today,
        can_see_case=can_see_case,
        may_complete=followup.may_complete,
    )


@bp.route("/cases/<int:case_id>/timeline")
@signed_in
def timeline(case_id: int):
    case = case_or_404(case_id)
    return render_template(
        "outcomes/followup/timeline.html", case=case, events=followup.case_timeline(case)
    )


@bp.route("/cases/breaches")
@roles_required(Role.COORDINATOR)
def breaches():
    today = followup.london_today()
    return render_template(
        "outcomes/followup/breaches.html",
        breaches=followup.rule_breaches(current_user, today),
        today=today,
    )


class LateReasonForm(Form):
    once = OnceField()  # the first save of a reason
    version = VersionField()  # the reason's, once there is one
    reason = GovTextAreaField(
        "Why is the deadline missed?",
        validators=[
            InputRequired(message="Enter why the deadline is missed"),
            MaxLength(late_reasons.REASON_MAX),
        ],
    )
    submit = SubmitField("Save reason", widget=GovSubmitInput())


def _back_to() -> str:
    """Where to go after saving: `next` when it is a path on this site, else Time rules.

    An address elsewhere ("https://...", "//host") is refused, so the page cannot be used to
    send a coordinator to another site after a save."""
    target = request.args.get("next")
    if target and safe_next_url(target) == target:
        return target
    return url_for("followup.breaches")


@bp.route("/cases/<int:case_id>/late-reason", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def late_reason(case_id: int):
    """Record why a case misses its first-meeting or review deadline (also in advance, when
    the coordinator knowingly books a meeting after it)."""
    case = case_or_404(case_id, manage=True)
    rule = request.args.get("rule") or late_reasons.FIRST_MEETING
    deadline = late_reasons.deadline_for(case, rule) if rule in late_reasons.RULES else None
    if deadline is None:
        deny(f"case {case_id} has no {rule!r} deadline", status=404)
    existing = late_reasons.reason_for(case, deadline)
    form = LateReasonForm()
    back = _back_to()
    if request.method == "GET" and existing is not None:
        form.reason.data = existing.reason
        form.version.data = existing.version
    stale = None
    if form.validate_on_submit():
        try:
            late_reasons.save_reason(
                case,
                deadline,
                form.reason.data,
                current_user,
                once=form.once.data,
                version=form.version.data,
            )
        except AlreadySaved:
            flash("This reason was already saved.")
            return redirect(back)
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except late_reasons.ReasonError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(f"Reason saved for {case.child.full_name} ({deadline.heading}).")
            return redirect(back)
    return render_template(
        "outcomes/followup/late_reason.html",
        case=case,
        deadline=deadline,
        existing=existing,
        form=form,
        stale=stale,
        back=back,
    ), (409 if stale else 200)
