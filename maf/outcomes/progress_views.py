from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import agenda_or_404, deny, manages_case, roles_required, signed_in
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.outcomes import progress
from maf.outcomes.models import ProgressUpdate
from maf.outcomes.progress_forms import progress_form
from maf.rules.words import words
from maf.versioning import StaleEdit

bp = Blueprint("progress", __name__)


def _update_or_404(update_id: int) -> ProgressUpdate:
    """An update the current user may report on; any other answers 404, as if absent.

    Not `case_or_404`: the LP is neither the case's coordinator nor, often, its referrer."""
    update = db.session.get(ProgressUpdate, update_id)
    if update is None or not progress.may_report(current_user, update):
        deny(f"progress update {update_id} out of scope", status=404)
    if update.case.archived_at is not None:  # seed 002 D3: archived cases are read elsewhere
        deny(f"progress update {update_id} of an archived case", status=404)
    if request.method == "GET":
        audit.record_read(update.case)
    return update


@bp.route("/progress/<int:update_id>", methods=["GET", "POST"])
@signed_in
def report(update_id: int):
    update = _update_or_404(update_id)
    actions = progress.reportable_actions(update)
    context = dict(
        update=update,
        case=update.case,
        meeting=update.meeting,
        coordinator=manages_case(current_user, update.case),
        questions=progress.answered_questions(update),
    )
    closed = progress.closed_because(update)
    if closed:
        if request.method == "POST":
            flash(closed)
            return redirect(url_for("progress.report", update_id=update.id))
        return render_template("outcomes/progress/report.html", form=None, closed=closed, **context)
    form = progress_form(actions, sent=update if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            progress.submit_update(update, form.details(), current_user, form.version.data)
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            page = render_template(
                "outcomes/progress/report.html", form=form, stale=stale, **context
            )
            return page, 409
        except progress.ProgressError as error:
            db.session.rollback()
            if error.field not in form:  # an action added since the page was loaded
                error.field = None
            attach_error(form, error, "summary")
        else:
            flash("Your progress update has been sent. You can change it until the meeting.")
            return redirect(url_for("progress.report", update_id=update.id))
    return render_template("outcomes/progress/report.html", form=form, **context)


@bp.route("/meetings/<int:meeting_id>/progress-requests", methods=["POST"])
@roles_required(Role.COORDINATOR)
def request_updates(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    try:
        queued = progress.request_updates(meeting, current_user)
    except progress.ProgressError as error:
        db.session.rollback()
        flash(str(error))
    else:
        if queued:
            flash(
                f"Asked {queued} "
                f"{words().lead_professional if queued == 1 else words().lead_professionals} "
                "for a progress update."
            )
        else:
            flash(
                f"No one new to ask: every {words().lead_professional} with an email has been "
                "asked."
            )
    return redirect(url_for("agendas.build", meeting_id=meeting.id))
