"""Correcting a child's details, their history, and undoing a wrong merge."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import can_see_case, child_or_404, deny, roles_required, signed_in
from maf.cases import forms as case_forms
from maf.cases.models import Child
from maf.cases.views import _school_choices, child_details_from
from maf.corrections import forms, services
from maf.corrections.models import ChildMerge
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.versioning import StaleEdit

bp = Blueprint("corrections", __name__)


def _audit_read(child: Child) -> None:
    """A child's details and their history are a read of the child's record: audited on each
    case the reader may see, as the audit finds a child's events through their cases."""
    for case in services.current_cases(child):
        if can_see_case(current_user, case):
            audit.record("view", case)  # as case pages record it, so "who has looked" lists it
    db.session.commit()


def _back_case(child: Child):
    """The case to go back to: the child's latest the user may see."""
    visible = [c for c in services.current_cases(child) if can_see_case(current_user, c)]
    return visible[-1] if visible else None


@bp.route("/children/<int:child_id>/history")
@signed_in
def history(child_id: int):
    child = child_or_404(child_id, services.sees_child)
    _audit_read(child)
    found = services.history_of(child)
    return render_template(
        "corrections/history.html",
        child=child,
        history=found,
        back_case=_back_case(child),
        manages=services.manages_child(current_user, child),
        may_undo={merge.id: services.manages_merge(current_user, merge) for merge in found.merges},
    )


def _correction_form(child: Child) -> forms.CorrectionForm:
    details = services.details_of(child)
    if details.school is not None:
        school = str(details.school.id)
    elif details.school_name:
        school = case_forms.SCHOOL_NOT_LISTED
    else:
        school = case_forms.SCHOOL_NOT_KNOWN
    form = forms.CorrectionForm(
        data={**vars(details), "gender": details.gender.value, "school": school},
        version=child.version,
    )
    districts = {case.district for case in services.current_cases(child)}
    form.school.choices = _school_choices(
        sorted(districts & set(current_user.districts), key=lambda d: d.name)
    )
    # The school recorded now stays a choice, even where it is not among those districts'.
    if details.school is not None and school not in {value for value, _ in form.school.choices}:
        form.school.choices.append((school, details.school.name))
    return form


@bp.route("/children/<int:child_id>/correct", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def correct(child_id: int):
    child = child_or_404(child_id, services.manages_child)
    form = _correction_form(child)
    back_case = _back_case(child)
    stale = None
    if request.method == "GET":
        _audit_read(child)
    elif form.validate_on_submit():
        try:
            services.correct_child(
                child, child_details_from(form), form.reason.data, current_user, form.version.data
            )
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except services.CorrectionError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(
                f"{child.full_name}'s details have been corrected. The history below keeps what "
                "they were."
            )
            return redirect(url_for("corrections.history", child_id=child.id))
    page = render_template(
        "corrections/correct.html", child=child, form=form, stale=stale, back_case=back_case
    )
    return page, 409 if stale else (400 if form.errors else 200)


def _merge_or_404(merge_id: int) -> ChildMerge:
    merge = db.session.get(ChildMerge, merge_id)
    if merge is None or not services.manages_merge(current_user, merge):
        deny(f"merge {merge_id} out of scope", status=404)
    return merge


@bp.route("/merges/<int:merge_id>/undo", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def undo_merge(merge_id: int):
    merge = _merge_or_404(merge_id)
    form = forms.UndoMergeForm()
    if form.validate_on_submit():
        try:
            separated = services.undo_merge(merge, form.reason.data, current_user)
        except services.AlreadyUndone as done:
            flash(f"{done} Nothing more was changed.")
            return redirect(url_for("corrections.history", child_id=merge.duplicate_child_id))
        except services.CorrectionError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(
                f"The records have been separated: {separated.full_name} has their own record "
                f"again, with case {merge.new_case_id}."
            )
            return redirect(url_for("corrections.history", child_id=separated.id))
    elif request.method == "GET":
        audit.record_read(merge.new_case)
    plan = services.plan_undo(merge)
    page = render_template("corrections/undo_merge.html", merge=merge, plan=plan, form=form)
    return page, 400 if form.errors else 200
