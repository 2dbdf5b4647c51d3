from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from maf.auth.models import Role
from maf.auth.permissions import public, roles_required
from maf.errors import DomainError
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.public_pages import services
from maf.public_pages.forms import PageForm
from maf.versioning import StaleEdit
from maf.words import date_in_words

bp = Blueprint("public_pages", __name__)


def _page(slug: str) -> services.Page:
    return services.page(
        slug,
        service=current_app.config["SERVICE_NAME"],
        organisation=current_app.config["ORGANISATION_NAME"],
    )


@bp.route("/accessibility", defaults={"slug": "accessibility"})
@bp.route("/privacy", defaults={"slug": "privacy"})
@public
def show(slug: str):
    page = _page(slug)
    return render_template(
        "public_pages/page.html",
        page=page,
        blocks=services.blocks(page.body),
        retention=services.retention_sentences(),
        linked=services.linked,
        last_updated=services.last_updated,
        date_in_words=date_in_words,
    )


@bp.route("/accessibility/edit", defaults={"slug": "accessibility"}, methods=["GET", "POST"])
@bp.route("/privacy/edit", defaults={"slug": "privacy"}, methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(slug: str):
    page = _page(slug)
    form = PageForm()
    form.body.label.text = f"Text of the {page.kind.title.lower()}"
    if not form.is_submitted():
        form.body.data = page.body
        form.version.data = page.sequence
    stale = None
    if form.validate_on_submit():
        try:
            services.publish(slug, form.body.data, by=current_user, version=form.version.data)
            db.session.commit()
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "body")
        else:
            flash(f"{page.kind.title} published.")
            return redirect(url_for("public_pages.show", slug=slug))
    return render_template(
        "public_pages/edit.html",
        form=form,
        page=page,
        versions=services.versions(slug),
        stale=stale,
        marker=services.RETENTION_MARKER,
        last_updated=services.last_updated,
        date_in_words=date_in_words,
        default_written=services.DEFAULTS_WRITTEN,
    ), (409 if stale else 200)
