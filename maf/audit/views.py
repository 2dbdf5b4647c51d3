from flask import Blueprint, render_template, request

from maf.audit import services
from maf.auth.models import Role
from maf.auth.permissions import roles_required

bp = Blueprint("audit", __name__)


@bp.route("/audit")
@roles_required(Role.ADMIN)
def search():
    """'Who has viewed this child's record?': the audit log, searched by case, child or user."""
    criteria = services.SearchCriteria.from_args(request.args)
    return render_template(
        "audit/search.html",
        criteria=criteria,
        events=services.search(criteria) if criteria.any else [],
    )
