from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import text

from maf.auth.permissions import public, signed_in
from maf.dashboard.services import panels_for
from maf.dbtypes import london_today
from maf.extensions import db

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@signed_in
def index():
    return render_template(
        "dashboard/index.html", sections=panels_for(current_user, london_today())
    )


@bp.route("/healthz")
@public
def health():
    """For load balancers and monitoring: the app answers and the database is reachable."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
