"""The People pages: administrators find people and change what they may do (issue 15)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from maf.audit import services as audit
from maf.auth import mfa
from maf.auth.models import Role, User
from maf.auth.permissions import roles_required
from maf.auth.services import forums_of
from maf.directory.models import Agency, District
from maf.directory.services import agencies as directory_agencies
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.people import forms, services
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit

bp = Blueprint("people", __name__)


def _person_or_404(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return person


def _url_or_none(endpoint: str) -> str | None:
    """A page of invitations (issue 15 point 2), where that part of the service is installed."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def _is_self(person: User) -> bool:
    return person.id == current_user.id


@bp.route("/people")
@roles_required(Role.ADMIN)
def index():
    criteria = services.PeopleFilter.from_args(request.args)
    found = services.find_people(criteria)
    return render_template(
        "people/index.html",
        criteria=criteria,
        found=found,
        districts=services.all_districts(),
        agencies=services.all_agencies(),
        invite_url=_url_or_none("invitations.new"),
        invitations_url=_url_or_none("invitations.index"),
        statuses=services.STATUSES,
        mfa_states=services.MFA_STATES,
        sign_in_periods=services.SIGN_IN_PERIODS,
        role_order=services.ROLE_ORDER,
        role_names=services.role_names,
    )


def _render_person(person: User, *, status: int = 200):
    return (
        render_template(
            "people/show.html",
            person=person,
            is_self=_is_self(person),
            role_names=services.role_names,
            locked=services.is_locked(person),
            mfa_required=mfa.required(person),
            forums=forums_of(person),
            invitation=services.pending_invitation(person),
            confirm=forms.ConfirmForm(),
        ),
        status,
    )


@bp.route("/people/<int:user_id>")
@roles_required(Role.ADMIN)
def show(user_id: int):
    person = _person_or_404(user_id)
    audit.record_read(person)
    return _render_person(person)


def _access_form(person: User) -> forms.AccessForm:
    form = forms.AccessForm()
    form.roles.choices = [(role.value, role.label) for role in services.ROLE_ORDER]
    form.districts.choices = [(d.id, d.name) for d in services.all_districts()]
    # Agencies in use, and the person's own even if retired since (helper C's rule).
    offered = directory_agencies(keep=[person.agency])
    form.agency.choices = [(0, "None")] + [(a.id, a.label) for a in offered]
    if not form.is_submitted():
        form.roles.data = [role.value for role in services.ROLE_ORDER if role in person.roles]
        form.districts.data = [district.id for district in person.districts]
        form.agency.data = person.agency_id or 0
        form.version.data = person.access_version
    elif _is_self(person):
        # Their own roles are not on their form (it says why): the saved ones stand.
        form.roles.data = [role.value for role in person.roles]
    return form


def _access_details(form: forms.AccessForm) -> services.AccessDetails:
    return services.AccessDetails(
        roles={Role(value) for value in form.roles.data or ()},
        districts=[db.session.get(District, number) for number in form.districts.data or ()],
        agency=db.session.get(Agency, form.agency.data) if form.agency.data else None,
    )


@bp.route("/people/<int:user_id>/access", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def access(user_id: int):
    person = _person_or_404(user_id)
    form = _access_form(person)
    stale, status = None, 200
    if form.validate_on_submit():
        try:
            changed = services.change_access(
                person, _access_details(form), current_user, version=form.version.data
            )
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale, status = error, 409
        except services.PeopleError as error:
            db.session.rollback()
            attach_error(form, error, "roles")
        else:
            flash(
                f"Saved: {person.name}'s {', '.join(label.lower() for label in changed)}."
                if changed
                else "Nothing was changed."
            )
            return redirect(url_for("people.show", user_id=person.id))
    page = render_template(
        "people/access.html",
        form=form,
        person=person,
        is_self=_is_self(person),
        role_names=services.role_names,
        stale=stale,
    )
    return page, status


def _confirmed_action(person: User, action, done: str):
    """Run a one-button change (its form is only the CSRF token, which CSRFProtect checks
    before any view) and go back to the person's page."""
    action(person, current_user)
    flash(done.format(name=person.name))
    return redirect(url_for("people.show", user_id=person.id))


@bp.route("/people/<int:user_id>/deactivate", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def deactivate(user_id: int):
    person = _person_or_404(user_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            services.deactivate(person, current_user)
        except services.PeopleError as error:
            db.session.rollback()
            attach_error(form, error, "submit")
        else:
            flash(f"{person.name}'s account is deactivated: they have been signed out.")
            return redirect(url_for("people.show", user_id=person.id))
    return render_template(
        "people/deactivate.html", form=form, person=person, is_self=_is_self(person)
    )


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@roles_required(Role.ADMIN)
def reactivate(user_id: int):
    person = _person_or_404(user_id)
    return _confirmed_action(
        person, services.reactivate, "{name}'s account is active again: they can sign in."
    )


@bp.route("/people/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.ADMIN)
def unlock(user_id: int):
    person = _person_or_404(user_id)
    return _confirmed_action(
        person, services.unlock, "{name}'s account is unlocked: they can sign in now."
    )


@bp.route("/people/<int:user_id>/two-step-reset", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reset_two_step(user_id: int):
    person = _person_or_404(user_id)
    form = forms.ResetTwoStepForm()
    if form.validate_on_submit():
        try:
            services.reset_two_step(person, form.reason.data, current_user, once=form.once.data)
        except AlreadySaved:
            flash(f"{person.name}'s two-step sign-in was already reset.")
            return redirect(url_for("people.show", user_id=person.id))
        except services.PeopleError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(
                f"{person.name}'s two-step sign-in is reset and they have been signed out. "
                "They have been sent an email."
                if person.active
                else f"{person.name}'s two-step sign-in is reset."
            )
            return redirect(url_for("people.show", user_id=person.id))
    return render_template(
        "people/reset_two_step.html",
        form=form,
        person=person,
        is_self=_is_self(person),
        mfa_required=mfa.required(person),
    )
