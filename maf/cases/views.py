import io

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import case_or_404, manages_case, roles_required, signed_in
from maf.cases import forms, services
from maf.cases.involvement_import import parse_involvement_csv, read_upload
from maf.cases.models import (
    Consent,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Domain,
    Gender,
    MatchCandidate,
    MatchVerdict,
    NeedStatement,
    SettingType,
    SharingGround,
    TierOutcome,
)
from maf.dbtypes import london_today
from maf.directory.models import Agency
from maf.directory.services import agencies, choices
from maf.errors import DomainError
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.outcomes.services import current_lead, describe_lead, lead_history
from maf.rules.words import words
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit, last_changed_by

bp = Blueprint("cases", __name__, url_prefix="/cases")

# --- the coordinator's queue -------------------------------------------------------------


@bp.route("/")
@roles_required(Role.COORDINATOR)
def queue():
    return render_template(
        "cases/queue.html", queue=services.coordinator_queue(current_user, london_today())
    )


# --- intake ------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def safeguarding_screen():
    form = forms.SafeguardingForm()
    if form.validate_on_submit():
        if form.concern.data == "yes":
            session.pop("safeguarding_screened", None)
            audit.record("safeguarding_stop", detail="child protection concern at intake")
            db.session.commit()
            return render_template(
                "cases/safeguarding_stop.html", advice=current_app.config["SAFEGUARDING_ADVICE"]
            )
        session["safeguarding_screened"] = True
        return redirect(url_for("cases.intake"))
    return render_template("cases/safeguarding.html", form=form)


def _intake_form() -> forms.IntakeForm:
    form = forms.IntakeForm()
    form.district.choices = choices(current_user.districts)
    form.school.choices = _school_choices(current_user.districts)
    everyone = agencies()
    form.referrer_agency.choices = [
        (forms.NOTHING_CHOSEN, "Select the referring agency"),
        *choices(everyone),
    ]
    form.share_agencies.choices = choices(everyone)
    needs = services.need_statements_by_domain()
    for domain, field_name in zip(Domain, forms.IntakeForm.NEED_FIELDS, strict=True):
        getattr(form, field_name).choices = [(n.id, n.text) for n in needs[domain]]
    return form


def _school_choices(districts) -> list[tuple[str, str]]:
    """Not known, not listed, then the schools of the districts a case may be referred to;
    each names its district when there is more than one to choose from."""
    named = len(districts) > 1
    schools = [
        (
            str(school.id),
            f"{school.name} ({school.serves})" if named and school.districts else school.name,
        )
        for school in services.schools_of(districts)
    ]
    return [
        (forms.SCHOOL_NOT_KNOWN, "Not known or not at a school"),
        (forms.SCHOOL_NOT_LISTED, "Not listed (type its name below)"),
        *schools,
    ]


@bp.route("/new/details", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def intake():
    if not session.get("safeguarding_screened"):
        return redirect(url_for("cases.safeguarding_screen"))
    form = _intake_form()
    if form.validate_on_submit():
        try:
            case = services.receive_caf(*_intake_details(form), current_user, once=form.once.data)
        except AlreadySaved as saved:
            session.pop("safeguarding_screened", None)
            flash(str(saved))
            if saved.object_id is None:
                return redirect(url_for("cases.queue"))
            return redirect(url_for("cases.show", case_id=saved.object_id))
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "consent_given_by")
        else:
            session.pop("safeguarding_screened", None)
            flash(
                f"{words().assessment_short} received as case {case.id}. "
                "Both checks have run: see the results below."
            )
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/intake.html", form=form)


def _chosen_school(value: str) -> Agency | None:
    if value in (forms.SCHOOL_NOT_KNOWN, forms.SCHOOL_NOT_LISTED):
        return None
    return db.session.get(Agency, int(value))  # one of the choices, so an id


def child_details_from(form) -> services.ChildDetails:
    """The child's details as typed: the intake form and the correction form
    (maf.corrections) ask for them with the same fields."""
    return services.ChildDetails(
        given_name=form.given_name.data.strip(),
        family_name=form.family_name.data.strip(),
        other_names=(form.other_names.data or "").strip(),
        date_of_birth=form.date_of_birth.data,
        gender=Gender(form.gender.data),
        address=(form.address.data or "").strip(),
        postcode=form.postcode.data or None,
        school=_chosen_school(form.school.data),
        school_name=(
            (form.school_name.data or "").strip() or None
            if form.school.data == forms.SCHOOL_NOT_LISTED
            else None
        ),
        upn=form.upn.data or None,
        nhs_number=form.nhs_number.data or None,
    )


def _intake_details(form: forms.IntakeForm):
    child = child_details_from(form)
    need_ids = [i for name in forms.IntakeForm.NEED_FIELDS for i in getattr(form, name).data]
    referral = services.ReferralDetails(
        district=next(d for d in current_user.districts if d.id == form.district.data),
        referrer_name=form.referrer_name.data.strip(),
        referrer_email=form.referrer_email.data.strip(),
        referrer_agency=db.session.get(Agency, form.referrer_agency.data),
        setting_type=SettingType(form.setting_type.data),
        assessment_completed_on=form.assessment_completed_on.data,
        needs=list(db.session.scalars(select(NeedStatement).where(NeedStatement.id.in_(need_ids)))),
        strengths=form.strengths.data or "",
        child_views=form.child_views.data or "",
        family_views=form.family_views.data or "",
    )
    common = dict(
        given_by=ConsentGiver(form.consent_given_by.data),
        given_by_name=form.consent_given_by_name.data,
        given_on=form.consent_given_on.data,
        method=ConsentMethod(form.consent_method.data),
    )
    consents = [
        services.ConsentDetails(kind=ConsentKind.UNDERTAKE, given=True, **common),
        services.ConsentDetails(kind=ConsentKind.RECORD, given=True, **common),
    ]
    if form.share_consent.data != "not_asked":
        consents.append(
            services.ConsentDetails(
                kind=ConsentKind.SHARE,
                given=form.share_consent.data == "given",
                covers_forum=form.share_with_forum.data,
                agencies=[db.session.get(Agency, i) for i in form.share_agencies.data],
                **common,
            )
        )
    return child, referral, consents


# --- the case ----------------------------------------------------------------------------


def _render_case(case, status=200, **forms_in_error):
    manages = manages_case(current_user, case)
    page_forms = {
        "tier_form": forms_in_error.get("tier_form")
        or forms.TierOutcomeForm(formdata=None, version=case.version),
        "stale": forms_in_error.get("stale"),
        "verdict_errors": forms_in_error.get("verdict_errors", {}),
        "action_error": forms_in_error.get("action_error"),
    }
    return (
        render_template(
            "cases/case.html",
            case=case,
            manages=manages,
            actions=services.available_actions(case) if manages else frozenset(),
            unavailable=services.unavailable_actions(case) if manages else {},
            # Other children's details are for the coordinators who run the check.
            candidates=services.candidates_shown(case, current_user) if manages else [],
            current_lead=current_lead,
            describe_lead=describe_lead,
            lead_history=lead_history(case),
            earlier_involvement=services.earlier_involvement(case),
            forum_consent=services.forum_sharing_consent(case),
            checks_complete=services.checks_complete(case),
            needs_by_domain={
                domain: [n for n in case.needs if n.domain == domain] for domain in Domain
            },
            **page_forms,
        ),
        status,
    )


@bp.route("/<int:case_id>")
@signed_in
def show(case_id: int):
    return _render_case(case_or_404(case_id))


@bp.route("/<int:case_id>/existing-caf-check", methods=["POST"])
@roles_required(Role.COORDINATOR)
def rerun_existing_caf_check(case_id: int):
    case = case_or_404(case_id, manage=True)
    services.run_existing_caf_check(case, current_user)
    db.session.commit()
    flash(f"The existing-{words().assessment_short} check has run again.")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="existing-caf-check"))


@bp.route("/<int:case_id>/candidates/<int:candidate_id>", methods=["POST"])
@roles_required(Role.COORDINATOR)
def decide_candidate(case_id: int, candidate_id: int):
    case = case_or_404(case_id, manage=True)
    candidate = db.session.get(MatchCandidate, candidate_id)
    if candidate is None or candidate.case_id != case.id:
        return redirect(url_for("cases.show", case_id=case.id))
    form = forms.VerdictForm()
    if not form.validate_on_submit():
        return _render_case(case, 400, verdict_errors={candidate.id: form.verdict.errors[0]})
    try:
        target = services.decide_candidate(
            case, candidate, MatchVerdict(form.verdict.data), current_user, form.version.data
        )
    except StaleEdit as stale:
        db.session.rollback()
        return _render_case(case, 409, stale=stale)
    except services.CaseError as error:
        db.session.rollback()
        return _render_case(case, 409, verdict_errors={candidate.id: str(error)})
    if target is not case:
        flash(
            f"Same child, who already has an open {words().assessment_short}: the new information "
            f"has been added to case {target.id}, and no second {words().assessment_short} has "
            "been started."
        )
    return redirect(url_for("cases.show", case_id=target.id, _anchor="existing-caf-check"))


@bp.route("/<int:case_id>/tier-check", methods=["POST"])
@roles_required(Role.COORDINATOR)
def record_tier_outcome(case_id: int):
    case = case_or_404(case_id, manage=True)
    form = forms.TierOutcomeForm()
    if form.validate_on_submit():
        try:
            services.record_tier_outcome(
                case,
                TierOutcome(form.outcome.data),
                form.reason.data or "",
                current_user,
                form.version.data,
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            return _render_case(case, 409, tier_form=form, stale=stale)
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            return redirect(url_for("cases.show", case_id=case.id, _anchor="tier-check"))
    return _render_case(case, 400, tier_form=form)


@bp.route("/<int:case_id>/tier-check/run", methods=["POST"])
@roles_required(Role.COORDINATOR)
def rerun_tier_check(case_id: int):
    case = case_or_404(case_id, manage=True)
    services.run_tier_check(case, current_user)
    db.session.commit()
    flash("The tier 3/4 register has been searched again.")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="tier-check"))


@bp.route("/<int:case_id>/ready", methods=["POST"])
@roles_required(Role.COORDINATOR)
def mark_ready(case_id: int):
    case = case_or_404(case_id, manage=True)
    try:
        services.mark_ready_for_forum(case, current_user)
    except services.CaseError as error:
        db.session.rollback()
        return _render_case(case, 409, action_error=str(error))
    flash("The case is ready for a forum. It is in your queue for the next agenda.")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/<int:case_id>/withdraw", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def withdraw(case_id: int):
    case = case_or_404(case_id, manage=True)
    form = forms.WithdrawCaseForm(version=case.version)
    if form.validate_on_submit():
        try:
            services.withdraw(case, form.reason.data or "", current_user, form.version.data)
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            page = render_template("cases/withdraw.html", case=case, form=form, stale=stale)
            return page, 409
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(f"The {words().assessment_short} has been withdrawn.")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/withdraw.html", case=case, form=form)


# --- consent -----------------------------------------------------------------------------


@bp.route("/<int:case_id>/consents/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def add_consent(case_id: int):
    case = case_or_404(case_id, manage=True)
    form = forms.ConsentForm()
    form.agencies.choices = choices(agencies())
    if form.validate_on_submit():
        details = services.ConsentDetails(
            kind=ConsentKind(form.kind.data),
            given=form.given.data == "given",
            given_by=ConsentGiver(form.given_by.data),
            given_by_name=form.given_by_name.data,
            given_on=form.given_on.data,
            method=ConsentMethod(form.method.data),
            covers_forum=form.covers_forum.data,
            agencies=[db.session.get(Agency, i) for i in form.agencies.data],
        )
        try:
            services.record_consent(case, details, current_user, once=form.once.data)
        except AlreadySaved as saved:
            flash(str(saved))
            return redirect(url_for("cases.show", case_id=case.id, _anchor="consent"))
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "given_by")
        else:
            flash("Consent recorded.")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="consent"))
    return render_template("cases/consent_form.html", case=case, form=form)


@bp.route("/<int:case_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def withdraw_consent(case_id: int, consent_id: int):
    case = case_or_404(case_id, manage=True)
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.case_id != case.id:
        return redirect(url_for("cases.show", case_id=case.id))
    form = forms.WithdrawConsentForm(version=consent.version)
    if form.validate_on_submit():
        try:
            services.withdraw_consent(
                consent,
                form.withdrawn_on.data,
                form.note.data or "",
                current_user,
                form.version.data,
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            page = render_template(
                "cases/withdraw_consent.html", case=case, consent=consent, form=form, stale=stale
            )
            return page, 409
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "withdrawn_on")
        else:
            flash("The withdrawal of consent has been recorded.")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="consent"))
    return render_template("cases/withdraw_consent.html", case=case, consent=consent, form=form)


@bp.route("/<int:case_id>/sharing-without-consent", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def share_without_consent(case_id: int):
    case = case_or_404(case_id, manage=True)
    form = forms.SharingWithoutConsentForm()
    if form.validate_on_submit():
        try:
            services.record_sharing_without_consent(
                case,
                decided_by_name=form.decided_by_name.data,
                decided_on=form.decided_on.data,
                ground=SharingGround(form.ground.data),
                reason=form.reason.data,
                shared_with=form.shared_with.data,
                user=current_user,
                once=form.once.data,
            )
        except AlreadySaved as saved:
            flash(str(saved))
        else:
            flash("The decision to share without consent has been recorded.")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="consent"))
    return render_template("cases/sharing_without_consent.html", case=case, form=form)


# --- the tier 3/4 register ---------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def involvement_register():
    form = forms.InvolvementImportForm()
    report = None
    if form.validate_on_submit():
        try:
            report = _import_upload(form, form.file.data)
        except AlreadySaved as saved:
            flash(str(saved))  # the first import's report was shown; the register has it
            return redirect(url_for("cases.involvement_register"))
        if report is not None:
            form.once.renew()  # the page shown now can import another file
    return render_template(
        "cases/register.html", form=form, report=report, summary=services.register_summary()
    )


def _import_upload(form, upload):
    filename = upload.filename or ""
    try:
        text = read_upload(filename, upload.stream)
        parsed = parse_involvement_csv(io.StringIO(text, newline=""), london_today())
    except DomainError as error:
        attach_error(form, error, "file")
        return None
    except ValueError as error:
        form.file.errors = [str(error)]
        return None
    batch = services.import_involvement(
        parsed,
        filename,
        current_user,
        all_or_nothing=form.all_or_nothing.data,
        once=form.once.data,
    )
    return {"parsed": parsed, "batch": batch}


# --- need statements ---------------------------------------------------------------------


@bp.route("/needs", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def need_statements():
    form = forms.NeedStatementForm()
    if form.validate_on_submit():
        try:
            services.add_need_statement(
                Domain(form.domain.data),
                form.element.data,
                form.text.data,
                current_user,
                once=form.once.data,
            )
        except AlreadySaved as saved:
            flash(str(saved))
            return redirect(url_for("cases.need_statements"))
        except services.CaseError as error:
            db.session.rollback()
            attach_error(form, error, "text")
        else:
            flash("Need statement added.")
            return redirect(url_for("cases.need_statements"))
    return render_template(
        "cases/needs.html",
        form=form,
        needs=services.need_statements_by_domain(include_retired=True),
    )


@bp.route("/needs/<int:need_id>/retire", methods=["POST"])
@roles_required(Role.ADMIN)
def retire_need(need_id: int):
    need = db.session.get(NeedStatement, need_id)
    if need is not None and need.active:
        services.retire_need_statement(need, current_user)
        flash(f"Retired: {need.text}. Cases that already have it keep it.")
    elif need is not None:
        # Retired by someone else since this page was drawn: say so, rather than nothing.
        retired_by = last_changed_by(need)
        by = f" by {retired_by}" if retired_by else ""
        flash(f"{need.text} had already been retired{by}.")
    return redirect(url_for("cases.need_statements"))
