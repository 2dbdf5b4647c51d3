from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import district_or_404, roles_required, signed_in
from maf.dashboard.services import district_forums
from maf.dbtypes import london_today
from maf.directory import forms, services
from maf.directory.models import Agency, AgencyTier, AgencyType, District
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit

bp = Blueprint("directory", __name__)


# --- districts ---------------------------------------------------------------------------


@bp.route("/districts")
@signed_in
def districts():
    return render_template(
        "directory/districts.html",
        districts=services.districts_for(current_user),
        administers=current_user.has_role(Role.ADMIN),
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
        administers=current_user.has_role(Role.ADMIN),
    )


@bp.route("/districts/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_district():
    return _district_page(None)


@bp.route("/districts/<int:district_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_district(district_id: int):
    return _district_page(_or_404(District, district_id))


def _district_page(district: District | None):
    form = forms.DistrictForm(obj=district)
    if district is not None and not form.is_submitted():
        form.version.data = district.version
    stale = None
    if form.validate_on_submit():
        try:
            saved = services.save_district(
                district,
                form.name.data,
                current_user,
                once=form.once.data if district is None else None,
                version=form.version.data if district is not None else services.UNCHECKED,
            )
        except AlreadySaved as repeat:
            flash(str(repeat))
            return redirect(url_for("directory.districts"))
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except services.DirectoryError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            flash(f"{saved.name} saved.")
            return redirect(url_for("directory.district", district_id=saved.id))
    return render_template(
        "directory/district_form.html", form=form, district=district, stale=stale
    ), (409 if stale else 200)


# --- agencies ----------------------------------------------------------------------------


def _or_404(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


STATUSES = {"current": "In use", "retired": "Retired", "all": "In use and retired"}


@bp.route("/agencies")
@roles_required(Role.ADMIN)
def agencies():
    # A GET form: anything unreadable in the address counts as no filter.
    args = request.args
    chosen_type = args.get("type", "")
    agency_type = AgencyType(chosen_type) if chosen_type in set(AgencyType) else None
    district_id = args.get("district", "")
    chosen_district = (
        db.session.get(District, int(district_id))
        if district_id.isascii() and district_id.isdigit() and len(district_id) < 10
        else None
    )
    status = args.get("status", "current")
    status = status if status in STATUSES else "current"
    return render_template(
        "directory/agencies.html",
        agencies=services.agency_list(type=agency_type, district=chosen_district, status=status),
        districts=services.all_districts(),
        types=list(AgencyType),
        statuses=STATUSES,
        chosen={"type": agency_type, "district": chosen_district, "status": status},
    )


@bp.route("/agencies/<int:agency_id>")
@roles_required(Role.ADMIN)
def agency(agency_id: int):
    agency = _or_404(Agency, agency_id)
    return render_template("directory/agency.html", agency=agency, uses=services.uses_of(agency))


@bp.route("/agencies/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_agency():
    return _agency_page(None)


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_agency(agency_id: int):
    return _agency_page(_or_404(Agency, agency_id))


def _agency_form(agency: Agency | None) -> forms.AgencyForm:
    form = forms.AgencyForm()
    form.districts.choices = services.choices(services.all_districts())
    if agency is not None and not form.is_submitted():
        form.name.data = agency.name
        form.type.data = agency.type.value
        form.tier.data = agency.tier.value
        form.districts.data = [district.id for district in agency.districts]
        form.email_domains.data = "\n".join(agency.email_domains)
        form.version.data = agency.version
    return form


def _agency_details(form: forms.AgencyForm) -> services.AgencyDetails:
    """What the form says; raises DirectoryError for domains that are not domains."""
    chosen = set(form.districts.data or [])
    return services.AgencyDetails(
        name=form.name.data,
        type=AgencyType(form.type.data),
        tier=AgencyTier(form.tier.data),
        districts=[d for d in services.all_districts() if d.id in chosen],
        email_domains=services.parse_domains(form.email_domains.data),
    )


def _agency_page(agency: Agency | None):
    form = _agency_form(agency)
    stale = None
    if form.validate_on_submit():
        try:
            saved = services.save_agency(
                agency,
                _agency_details(form),
                current_user,
                once=form.once.data if agency is None else None,
                version=form.version.data if agency is not None else services.UNCHECKED,
            )
        except AlreadySaved as repeat:
            flash(str(repeat))
            if repeat.object_id is None:
                return redirect(url_for("directory.agencies"))
            return redirect(url_for("directory.agency", agency_id=repeat.object_id))
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except services.DirectoryError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            flash(f"{saved.name} saved.")
            return redirect(url_for("directory.agency", agency_id=saved.id))
    return render_template("directory/agency_form.html", form=form, agency=agency, stale=stale), (
        409 if stale else 200
    )


@bp.route("/agencies/<int:agency_id>/retire", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def retire_agency(agency_id: int):
    return _confirm_page(
        _or_404(Agency, agency_id),
        services.retire_agency,
        done="{name} is retired: it stays on the records that name it.",
        already="{name} was already retired.",
        template="directory/retire.html",
    )


@bp.route("/agencies/<int:agency_id>/reinstate", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reinstate_agency(agency_id: int):
    return _confirm_page(
        _or_404(Agency, agency_id),
        services.reinstate_agency,
        done="{name} is in use again.",
        already="{name} was not retired.",
        template="directory/reinstate.html",
    )


def _confirm_page(agency: Agency, change, *, done: str, already: str, template: str):
    form = forms.ConfirmForm()
    if not form.is_submitted():
        form.version.data = agency.version
    error = None
    if form.validate_on_submit():
        try:
            changed = change(agency, current_user, version=form.version.data)
        except (StaleEdit, services.DirectoryError) as refused:
            db.session.rollback()
            if isinstance(refused, StaleEdit):
                show_newer_version(form, refused)
            error = refused
        else:
            flash((done if changed else already).format(name=agency.name))
            return redirect(url_for("directory.agency", agency_id=agency.id))
    return render_template(
        template, agency=agency, form=form, error=error, uses=services.uses_of(agency)
    ), _status(error)


@bp.route("/agencies/<int:agency_id>/merge", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def merge_agency(agency_id: int):
    """Merge a duplicate: choose the agency to keep (a GET form, so the choice is in the
    address), see what moves, confirm (POST)."""
    duplicate = _or_404(Agency, agency_id)
    candidates = [a for a in services.agencies() if a.id != duplicate.id]
    choice = forms.MergeChoiceForm(request.args, meta={"csrf": False})
    # The placeholder's value is empty, as HTML asks of a required select's first option.
    choice.keep.choices = [
        ("", "Select the agency to keep"),
        *[(str(agency.id), agency.name) for agency in candidates],
    ]
    keep = None
    if "keep" in request.args and choice.validate():
        keep = next(a for a in candidates if str(a.id) == choice.keep.data)
    confirm = forms.MergeConfirmForm()
    if not confirm.is_submitted():
        confirm.version.data = duplicate.version
    error = None
    if keep is not None and confirm.validate_on_submit():
        try:
            moved = services.merge_agencies(
                duplicate, keep, current_user, version=confirm.version.data
            )
        except (StaleEdit, services.DirectoryError) as refused:
            db.session.rollback()
            if isinstance(refused, StaleEdit):
                show_newer_version(confirm, refused)
            error = refused
        else:
            total = sum(count for _, count in moved)
            flash(
                f"{duplicate.name} merged into {keep.name}: "
                f"{total} {'record' if total == 1 else 'records'} moved."
            )
            return redirect(url_for("directory.agency", agency_id=keep.id))
    elif request.method == "POST" and keep is None:
        error = services.DirectoryError("Select the agency to keep, then confirm")
    return render_template(
        "directory/merge.html",
        duplicate=duplicate,
        keep=keep,
        choice=choice,
        confirm=confirm,
        error=error,
        uses=services.uses_of(duplicate),
    ), _status(error)


def _status(error) -> int:
    """409 Conflict for a page refused because someone saved since; 200 otherwise."""
    return 409 if isinstance(error, StaleEdit) else 200
