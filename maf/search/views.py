"""Find a case (coordinators and chairs), the case list, and a practitioner's referrals.

Each page reads only the cases the person may see (maf.auth.permissions.visible_cases) and
records in the audit log what kind of search or list it was and how many cases it showed,
never what was typed.
"""

import csv
import io

from flask import Blueprint, render_template, request
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import roles_required, signed_in
from maf.csv_guard import neutralised
from maf.dbtypes import london_today
from maf.downloads import attachment_response
from maf.search import forms, services

bp = Blueprint("search", __name__)

FINDERS = (Role.COORDINATOR, Role.CHAIR)


@bp.route("/search", methods=["GET", "POST"])
@roles_required(*FINDERS)
def find():
    # A POST, so names and dates of birth stay out of addresses, browser history and logs.
    form = forms.SearchForm()
    outcome = criteria = None
    if form.validate_on_submit():
        criteria = form.criteria()
        try:
            outcome = services.search(current_user, criteria, london_today())
        except services.SearchError as error:
            getattr(form, error.field).errors.append(str(error))
    page = render_template(
        "search/find.html",
        form=form,
        outcome=outcome,
        limit=services.RESULT_LIMIT,
        shows_archive=current_user.has_role(Role.COORDINATOR),
    )
    if outcome is not None:
        shown = len(outcome.rows)
        audit.record_now(
            "case_search",
            detail=f"by {', '.join(criteria.kinds())}: {shown} {'case' if shown == 1 else 'cases'}"
            " shown" + (" (more not shown)" if outcome.more else ""),
        )
    return page


@bp.route("/case-list")
@roles_required(*FINDERS)
def case_list():
    criteria = services.CaseListFilter.from_args(request.args)
    found = services.list_cases(current_user, criteria, london_today())
    page = render_template(
        "search/case_list.html",
        criteria=criteria,
        found=found,
        choices=services.filter_choices(current_user),
        statuses=services.STATUS_ORDER,
        sorts=services.SORTS,
    )
    # Recorded after rendering: the commit expires what was loaded, which the page still reads.
    audit.record_now("case_list", detail=f"{criteria.describe()}: {found.total} cases")
    return page


@bp.route("/case-list.csv")  # ".csv": the page walkers (tests) know it for a download
@roles_required(*FINDERS)
def case_list_csv():
    criteria = services.CaseListFilter.from_args(request.args)
    rows = services.all_listed(current_user, criteria, london_today())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(services.csv_headings())
    for row in rows:
        writer.writerow([neutralised(cell) for cell in services.csv_cells(row)])
    audit.record_now("case_list_download", detail=f"{criteria.describe()}: {len(rows)} cases")
    return attachment_response(
        out.getvalue().encode(), f"cases-{london_today()}.csv", "text/csv; charset=utf-8"
    )


@bp.route("/my-referrals")
@signed_in
def my_referrals():
    rows = services.my_referrals(current_user, london_today())
    page = render_template("search/my_referrals.html", rows=rows)
    audit.record_now("my_referrals", detail=f"{len(rows)} cases")
    return page
