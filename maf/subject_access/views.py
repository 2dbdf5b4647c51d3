"""The subject access export of one child: a coordinator gives a reason and downloads a zip."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import deny, manages_case, roles_required
from maf.cases.models import Child
from maf.downloads import ZIP_MIMETYPE, attachment_response
from maf.extensions import db
from maf.subject_access import services
from maf.subject_access.forms import SubjectAccessForm

bp = Blueprint("subject_access", __name__, url_prefix="/children")


def _child_or_404(child_id: int) -> Child:
    """A child with a case in one of the coordinator's districts; any other answers 404."""
    child = db.session.get(Child, child_id)
    if child is None or not services.may_export(current_user, child):
        deny(f"child {child_id} out of scope", status=404)
    return child


@bp.route("/<int:child_id>/subject-access", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def export(child_id: int):
    child = _child_or_404(child_id)
    form = SubjectAccessForm()
    if form.validate_on_submit():
        filename, content = services.export(child, current_user, form.reason.data.strip())
        return attachment_response(content, filename, ZIP_MIMETYPE)
    if request.method == "GET":
        audit.record_read(child)
    cases = [(case, manages_case(current_user, case)) for case in child.cases]
    return render_template("subject_access/export.html", child=child, cases=cases, form=form)
