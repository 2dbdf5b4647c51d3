from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.auth.models import Role
from maf.auth.permissions import roles_required, signed_in
from maf.errors import DomainError
from maf.forms import attach_error
from maf.notifications import services
from maf.notifications.catalogue import AREAS, CATALOGUE, NEVER_PERSONAL, SETTINGS, mandatory
from maf.notifications.forms import PreferencesForm

bp = Blueprint("notifications", __name__)


@bp.route("/account/emails", methods=["GET", "POST"])
@signed_in
def preferences():
    """The signed-in person's own choices of optional emails; it takes no id."""
    user = current_user._get_current_object()
    choices = services.choices_for(user)
    form = PreferencesForm(data=choices if request.method == "GET" else None)
    if request.method == "GET":
        form.show(choices)
    if form.validate_on_submit():
        try:
            changed = services.save_choices(user, form.submitted(), form.shown())
        except services.PreferencesChanged as error:
            # What they chose stays chosen; the form now carries what is saved, so saving
            # again keeps their choice deliberately.
            form.show(services.choices_for(user))
            for key, saved in error.saved.items():
                form[key].errors = [
                    *form[key].errors,
                    f"You changed this in another window after opening this page, to "
                    f"“{SETTINGS[key].label_of(saved)}”. Save again to keep the choice below",
                ]
        except DomainError as error:
            attach_error(form, error, "submit")
        else:
            flash("Your email choices are saved" if changed else "Nothing to change: saved")
            return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        settings=SETTINGS,
        mandatory=mandatory(),
    )


@bp.route("/emails")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def catalogue():
    """Every email MAF sends, for administrators, coordinators and, through them, the
    council's IT and privacy officers. It names no one."""
    return render_template(
        "notifications/catalogue.html",
        areas=[(area, [email for email in CATALOGUE if email.area == area]) for area in AREAS],
        never=NEVER_PERSONAL,
    )
