"""Pages for the Children's Trust Board report (seed 000): the list of reporting periods, each
period's typed figures, risks, issues and recommendations, and the Word document."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import district_or_404, roles_required, sees_every_district
from maf.directory.models import District
from maf.downloads import docx_response
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.reports import board
from maf.reports.board_forms import (
    INPUT_FIELDS,
    InputsForm,
    IssueForm,
    RecommendationForm,
    RiskForm,
    StartPeriodForm,
)
from maf.reports.models import BoardEntry, BoardEntryKind, BoardPeriod
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit

bp = Blueprint("board", __name__)

PERIOD_URL = "/reports/board/<int:district_id>/<starts_on>/<ends_on>"
ENTRY_FORMS = {
    BoardEntryKind.RISK: RiskForm,
    BoardEntryKind.ISSUE: IssueForm,
    BoardEntryKind.RECOMMENDATION: RecommendationForm,
}


def _iso_date(text: str) -> date:
    # Only the canonical form, so each period has one address.
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        abort(404)
    if parsed.isoformat() != text:
        abort(404)
    return parsed


def _period_or_404(district_id: int, starts_on: str, ends_on: str) -> BoardPeriod:
    """A started period of a district the user may see; anything else answers 404."""
    district = district_or_404(district_id)
    period = board.find_board_period(district.id, _iso_date(starts_on), _iso_date(ends_on))
    if period is None:
        abort(404)
    return period


def period_url(period: BoardPeriod, endpoint: str = "board.period", **values) -> str:
    return url_for(
        endpoint,
        district_id=period.district_id,
        starts_on=period.starts_on.isoformat(),
        ends_on=period.ends_on.isoformat(),
        **values,
    )


def _visible_districts() -> list[District]:
    if sees_every_district(current_user):
        return list(db.session.scalars(select(District).order_by(District.name)))
    return sorted(current_user.districts, key=lambda district: district.name)


def _start_form() -> StartPeriodForm:
    form = StartPeriodForm()
    form.district.choices = [(district.id, district.name) for district in _visible_districts()]
    return form


def _render_index(form: StartPeriodForm, status: int = 200):
    return (
        render_template(
            "reports/board/index.html",
            periods=board.periods_visible_to(current_user),
            form=form,
            period_url=period_url,
            describe_period=board.describe_period,
        ),
        status,
    )


@bp.route("/reports/board")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def index():
    return _render_index(_start_form())


@bp.route("/reports/board", methods=["POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def start():
    form = _start_form()
    if form.validate_on_submit():
        district = district_or_404(form.district.data)
        try:
            period = board.board_period(
                district, form.starts_on.data, form.ends_on.data, current_user
            )
        except board.BoardError as error:
            db.session.rollback()
            attach_error(form, error, "starts_on")
        else:
            return redirect(period_url(period))
    return _render_index(form, status=400)


def _inputs_form(period: BoardPeriod, submitted: bool) -> InputsForm:
    if submitted:
        return InputsForm()
    return InputsForm(formdata=None, obj=period)


def _entry_forms(submitted: BoardEntryKind | None = None):
    # Only the form that was sent reads the request, so the others stay empty.
    return {
        kind: form_class(prefix=kind.value)
        if kind == submitted
        else form_class(prefix=kind.value, formdata=None)
        for kind, form_class in ENTRY_FORMS.items()
    }


def _render_period(period, inputs_form=None, entry_forms=None, status=200, stale=None):
    entry_forms = entry_forms or _entry_forms()
    inputs_form = inputs_form or _inputs_form(period, submitted=False)
    errored = [form for form in (inputs_form, *entry_forms.values()) if form.errors]
    measures = board.key_measures(period)
    return (
        render_template(
            "reports/board/period.html",
            period=period,
            # base.html shows the error summary of `form`; one form is sent at a time.
            form=next(iter(errored), None),
            inputs_form=inputs_form,
            entry_forms=entry_forms,
            measures=measures,
            next_targets=board.next_targets(period, measures),
            risks=board.entries_of(period, BoardEntryKind.RISK),
            issues=board.entries_of(period, BoardEntryKind.ISSUE),
            recommendations=board.entries_of(period, BoardEntryKind.RECOMMENDATION),
            kinds=BoardEntryKind,
            period_url=period_url,
            describe_period=board.describe_period,
            stale=stale,
        ),
        status,
    )


@bp.route(PERIOD_URL, methods=["GET", "POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def period(district_id: int, starts_on: str, ends_on: str):
    found = _period_or_404(district_id, starts_on, ends_on)
    form = _inputs_form(found, submitted=True)
    if not form.is_submitted():
        return _render_period(found)
    if form.validate():
        inputs = board.BoardInputs(**{name: form[name].data for name in INPUT_FIELDS})
        try:
            board.save_inputs(found, inputs, current_user, form.version.data)
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            return _render_period(found, inputs_form=form, status=409, stale=stale)
        except board.BoardError as error:
            db.session.rollback()
            attach_error(form, error, "target_started")
        else:
            flash("The figures for the period have been saved.")
            return redirect(period_url(found))
    return _render_period(found, inputs_form=form, status=400)


@bp.route(f"{PERIOD_URL}/entries/<kind>", methods=["POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def add_entry(district_id: int, starts_on: str, ends_on: str, kind: str):
    found = _period_or_404(district_id, starts_on, ends_on)
    try:
        entry_kind = BoardEntryKind(kind)
    except ValueError:
        abort(404)
    forms = _entry_forms(submitted=entry_kind)
    form = forms[entry_kind]
    if form.validate_on_submit():
        response = form.response.data if hasattr(form, "response") else ""
        try:
            board.add_entry(
                found, entry_kind, form.text.data, response or "", current_user, once=form.once.data
            )
        except AlreadySaved as saved:
            flash(str(saved))
            return redirect(period_url(found, _anchor=f"{entry_kind.value}-entries"))
        except board.BoardError as error:
            db.session.rollback()
            attach_error(form, error, "text")
        else:
            flash(f"{entry_kind.label} added.")
            return redirect(period_url(found, _anchor=f"{entry_kind.value}-entries"))
    return _render_period(found, entry_forms=forms, status=400)


@bp.route(f"{PERIOD_URL}/entries/<int:entry_id>/remove", methods=["POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def remove_entry(district_id: int, starts_on: str, ends_on: str, entry_id: int):
    found = _period_or_404(district_id, starts_on, ends_on)
    entry = db.session.get(BoardEntry, entry_id)
    if entry is None or entry.board_period_id != found.id:
        abort(404)
    kind = entry.kind
    board.remove_entry(entry, current_user)
    flash(f"{kind.label} removed.")
    return redirect(period_url(found, _anchor=f"{kind.value}-entries"))


@bp.route(f"{PERIOD_URL}.docx")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def download(district_id: int, starts_on: str, ends_on: str):
    found = _period_or_404(district_id, starts_on, ends_on)
    document = board.board_report(found)
    audit.record_now("board_report_downloaded", found, detail=board.describe_period(found))
    name = f"board-report-{found.district.slug}-{found.starts_on}-to-{found.ends_on}.docx"
    return docx_response(document, name)
