"""Following cases up between meetings: my actions, my cases, a case's timeline, and the
coordinator's list of cases breaking the time rules."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

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
from maf.outcomes import followup
from maf.outcomes.models import Action

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
