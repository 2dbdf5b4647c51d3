"""Pages for CAF quality assurance (seed 002 E) and the archive of closed CAFs (seed 002 D3)."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import deny, manages_case, roles_required, visible_district_ids
from maf.cases.models import Case
from maf.dbtypes import london_today
from maf.directory.models import District
from maf.extensions import db
from maf.forms import attach_error
from maf.outcomes.progress import QUESTIONS
from maf.reports import quality
from maf.reports.models import AuditSample, Rating, SampledCase
from maf.reports.quality_forms import (
    ArchiveSearchForm,
    CaseAuditForm,
    DrawSampleForm,
    OutcomesPeriodForm,
)
from maf.reports.retention import RetentionPeriods
from maf.rules.words import words
from maf.submissions import AlreadySaved

bp = Blueprint("quality", __name__)

STAFF = (Role.COORDINATOR, Role.ADMIN)


def _shows_child(case: Case) -> bool:
    """Names are for the district's coordinators, and not once the case is archived; admins
    see case numbers only (case detail is not theirs)."""
    return case.archived_at is None and manages_case(current_user, case)


# --- the audit sample ---------------------------------------------------------------------


@bp.route("/audits", methods=["GET", "POST"])
@roles_required(*STAFF)
def audits():
    form = DrawSampleForm()
    form.quarter.choices = [
        (start.isoformat(), quality.quarter_label(start))
        for start in quality.completed_quarters(london_today())
    ]
    if form.validate_on_submit():
        try:
            sample = quality.draw_sample(
                date.fromisoformat(form.quarter.data),
                current_user,
                form.seed.data,
                once=form.once.data,
            )
        except AlreadySaved as saved:
            flash(str(saved))
            if saved.object_id is None:
                return redirect(url_for("quality.audits"))
            return redirect(url_for("quality.sample", sample_id=saved.object_id))
        except quality.QualityError as error:
            db.session.rollback()
            attach_error(form, error, "quarter")
        else:
            flash(
                f"Sample drawn for {quality.quarter_label(sample.quarter_starts_on)}: "
                f"{len(sample.cases)} of {sample.closed_in_quarter} closed "
                f"{words().assessments_short}."
            )
            return redirect(url_for("quality.sample", sample_id=sample.id))
    districts = visible_district_ids(current_user)
    rows = [(sample, quality.quarter_summary(sample, districts)) for sample in quality.samples()]
    return render_template(
        "reports/quality/audits.html",
        form=form,
        rows=rows,
        all_districts=districts is None,
        quarter_label=quality.quarter_label,
    )


def _sample_or_404(sample_id: int) -> AuditSample:
    sample = db.session.get(AuditSample, sample_id)
    if sample is None:
        deny(f"audit sample {sample_id} not found", status=404)
    return sample


@bp.route("/audits/<int:sample_id>")
@roles_required(*STAFF)
def sample(sample_id: int):
    sample = _sample_or_404(sample_id)
    districts = visible_district_ids(current_user)
    cases = quality.sampled_cases(sample, districts)
    if any(_shows_child(sampled.case) for sampled in cases):
        audit.record_read(sample)
    return render_template(
        "reports/quality/sample.html",
        sample=sample,
        cases=cases,
        summary=quality.quarter_summary(sample, districts),
        all_districts=districts is None,
        shows_child=_shows_child,
        manages_case=lambda case: manages_case(current_user, case),
        ratings=list(Rating),
        label=quality.quarter_label(sample.quarter_starts_on),
    )


def _sampled_case_or_404(sampled_case_id: int) -> SampledCase:
    """The audit is done by the coordinators of the case's district; anyone else gets 404."""
    sampled = db.session.get(SampledCase, sampled_case_id)
    if sampled is None or not manages_case(current_user, sampled.case):
        deny(f"sampled case {sampled_case_id} out of scope", status=404)
    if request.method == "GET":
        audit.record_read(sampled.case)
    return sampled


@bp.route("/audits/cases/<int:sampled_case_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def audit_case(sampled_case_id: int):
    sampled = _sampled_case_or_404(sampled_case_id)
    form = CaseAuditForm(obj=sampled if request.method == "GET" else None)
    if request.method == "GET" and not sampled.auditor_name:
        form.auditor_name.data = current_user.name
    if form.validate_on_submit():
        try:
            quality.record_audit(
                sampled,
                Rating(form.process_quality.data),
                Rating(form.outcome_impact.data),
                form.notes.data or "",
                form.auditor_name.data or "",
                form.audited_on.data,
                current_user,
            )
        except quality.QualityError as error:
            db.session.rollback()
            attach_error(form, error, "process_quality")
        else:
            flash(f"Audit of case {sampled.case_id} saved.")
            return redirect(url_for("quality.sample", sample_id=sampled.sample_id))
    return render_template(
        "reports/quality/audit_case.html",
        form=form,
        sampled=sampled,
        case=sampled.case,
        shows_child=_shows_child(sampled.case),
        label=quality.quarter_label(sampled.sample.quarter_starts_on),
    )


# --- outcomes: distance travelled ----------------------------------------------------------


def _visible_districts() -> list[District]:
    ids = visible_district_ids(current_user)
    statement = select(District).order_by(District.name)
    if ids is not None:
        statement = statement.where(District.id.in_(ids))
    return list(db.session.scalars(statement))


@bp.route("/outcomes")
@roles_required(*STAFF)
def outcomes():
    form = OutcomesPeriodForm(formdata=request.args if request.args else None)
    if not request.args:
        last = quality.completed_quarters(london_today(), 1)[0]
        form.starts_on.data = last
        form.ends_on.data = date.fromordinal(quality.quarter_end(last).toordinal() - 1)
    rows, total = [], None
    if not request.args or form.validate():
        period = (form.starts_on.data, form.ends_on.data)
        rows = [
            (district, quality.distance_summary(period, district.id))
            for district in _visible_districts()
        ]
        if visible_district_ids(current_user) is None:
            total = quality.distance_summary(period, None)
    return render_template(
        "reports/quality/outcomes.html",
        form=form,
        rows=rows,
        total=total,
        questions=QUESTIONS,
    )


# --- the archive ---------------------------------------------------------------------------


@bp.route("/archive")
@roles_required(*STAFF)
def archive():
    """Archived cases are found here by case number only, and every look is audited."""
    form = ArchiveSearchForm(formdata=request.args if request.args else None)
    case = None
    searched = bool(request.args) and form.validate()
    if searched:
        found = db.session.get(Case, form.case_number)
        ids = visible_district_ids(current_user)
        in_scope = (
            found is not None
            and found.archived_at is not None
            and (ids is None or found.district_id in ids)
        )
        case = found if in_scope else None
        if case is None:
            # The number searched for is not personal data; whether it exists stays unsaid.
            audit.record_now("archive_search", detail=f"case {form.case_number}: not found")
        else:
            audit.record_now("archive_view", case, detail="read through the archive search")
    return render_template(
        "reports/quality/archive.html",
        form=form,
        searched=searched,
        case=case,
        full_record=case is not None and manages_case(current_user, case),
        # The local retention rule (seed 002 D3 by default), not the seed's numbers in words.
        periods=RetentionPeriods.in_force(),
    )
