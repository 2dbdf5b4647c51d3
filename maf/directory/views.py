from flask import Blueprint, render_template
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import district_or_404, roles_required, signed_in
from maf.dashboard.services import district_forums
from maf.dbtypes import london_today
from maf.directory import services

bp = Blueprint("directory", __name__)


@bp.route("/districts")
@signed_in
def districts():
    return render_template(
        "directory/districts.html", districts=services.districts_for(current_user)
    )


@bp.route("/districts/<int:district_id>")
@signed_in
def district(district_id: int):
    district = district_or_404(district_id)
    audit.record_read(district)
    return render_template(
        "directory/district.html",
        district=district,
        agencies=services.agencies_of(district),
        forums=district_forums(district, current_user, london_today()),
    )


@bp.route("/agencies")
@roles_required(Role.ADMIN)
def agencies():
    return render_template("directory/agencies.html", agencies=services.all_agencies())
