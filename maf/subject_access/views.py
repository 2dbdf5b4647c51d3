"""The subject access export of one child: a coordinator gives a reason and downloads a zip."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import child_or_404, manages_case, roles_required
from maf.downloads import ZIP_MIMETYPE, attachment_response
from maf.subject_access import services
from maf.subject_access.forms import SubjectAccessForm

bp = Blueprint("subject_access", __name__, url_prefix="/children")


@bp.route("/<int:child_id>/subject-access", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def export(child_id: int):
    # A child with a case in one of the coordinator's districts.
    child = child_or_404(child_id, services.may_export)
    form = SubjectAccessForm()
    if form.validate_on_submit():
        filename, content = services.export(child, current_user, form.reason.data.strip())
        return attachment_response(content, filename, ZIP_MIMETYPE)
    if request.method == "GET":
        audit.record_read(child)
    cases = [(case, manages_case(current_user, case)) for case in child.cases]
    return render_template("subject_access/export.html", child=child, cases=cases, form=form)
