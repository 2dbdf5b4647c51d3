from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.agendas.models import AgendaItem, ItemStatus
from maf.agendas.services import timed_agenda
from maf.audit import services as audit
from maf.auth.permissions import meeting_record_or_404, signed_in
from maf.directory.models import Agency
from maf.directory.services import agencies, choices
from maf.downloads import docx_response
from maf.extensions import db
from maf.forms import attach_error
from maf.forums.services import active_members
from maf.outcomes import minutes, progress, services
from maf.outcomes.forms import AttendanceForm, CorrectionForm, ItemRecordForm
from maf.outcomes.models import AttendanceStatus, ClosureReason, LeadKind, Minutes, Outcome

bp = Blueprint("outcomes", __name__)


def _item_form(item, formdata=None) -> ItemRecordForm:
    """The item's form, filled from what was saved unless a submission is being shown."""
    form = ItemRecordForm(formdata=formdata, prefix=f"item-{item.id}")
    agency_choices = choices(agencies(), blank="None")
    for name, field in form._fields.items():
        if name.endswith("agency"):
            field.choices = agency_choices
    if formdata is None:
        _fill(form, item)
    return form


def _fill(form: ItemRecordForm, item: AgendaItem) -> None:
    record = services.record_for(item)
    form.next_review_on.data = services.propose_next_review(item.meeting)
    if record is None:
        return
    form.discussion.data = record.discussion
    form.outcome.data = record.outcome.value if record.outcome else None
    form.next_review_on.data = record.next_review_on or form.next_review_on.data
    form.closure_reason.data = record.closure_reason.value if record.closure_reason else ""
    form.outcome_notes.data = record.outcome_notes
    for (agency, what), service in zip(form.service_rows(), record.services, strict=False):
        agency.data, what.data = service.agency_id, service.what
    actions = [a for a in services.outstanding_actions(item.case) if a.agenda_item_id == item.id]
    for (what, owner, email, agency, due), action in zip(form.action_rows(), actions, strict=False):
        what.data, owner.data, email.data = (
            action.description,
            action.owner_name,
            action.owner_email,
        )
        agency.data, due.data = action.owner_agency_id or 0, action.due_on
    proposal = services.lead_proposal(record)
    if proposal is not None:
        form.lead_kind.data, form.lead_name.data = proposal.kind.value, proposal.name
        form.lead_email.data, form.lead_agency.data = proposal.email, proposal.agency_id or 0
        form.lead_agreed.data = proposal.agreed


def _details(form: ItemRecordForm) -> services.ItemDetails:
    agency = lambda agency_id: db.session.get(Agency, agency_id) if agency_id else None  # noqa: E731
    lead = None
    if form.lead_kind.data:
        lead = services.LeadDetails(
            kind=LeadKind(form.lead_kind.data),
            name=form.lead_name.data,
            agreed=form.lead_agreed.data,
            email=form.lead_email.data or "",
            agency=agency(form.lead_agency.data),
        )
    return services.ItemDetails(
        outcome=Outcome(form.outcome.data) if form.outcome.data else None,
        discussion=form.discussion.data or "",
        services=[(agency(a.data), w.data) for a, w in form.service_rows() if a.data],
        actions=[
            services.ActionDetails(
                description=what.data,
                owner_name=owner.data,
                due_on=due.data,
                owner_email=email.data or "",
                owner_agency=agency(owner_agency.data),
            )
            for what, owner, email, owner_agency, due in form.action_rows()
            if what.data
        ],
        lead=lead,
        next_review_on=form.next_review_on.data,
        closure_reason=ClosureReason(form.closure_reason.data)
        if form.closure_reason.data
        else None,
        outcome_notes=form.outcome_notes.data or "",
    )


def _render_record(meeting, forms=None, error=None, status=200):
    agenda = timed_agenda(meeting)
    items = [slot.item for slot in agenda.slots if slot.item is not None]
    forms = forms or {}
    attendance = {a.member_id: a for a in services.attendance_of(meeting)}
    guests = "\n".join(
        f"{a.name}, {a.agency_name}" if a.agency_name else a.name
        for a in attendance.values()
        if a.member is None
    )
    return (
        render_template(
            "outcomes/record.html",
            meeting=meeting,
            agenda=agenda,
            items=[
                (
                    item,
                    forms.get(item.id) or _item_form(item),
                    services.review_context(item),
                    progress.update_for(item.case, meeting),
                )
                for item in items
            ],
            answered_questions=progress.answered_questions,
            members=active_members(meeting.forum),
            attendance=attendance,
            statuses=AttendanceStatus,
            attendance_form=AttendanceForm(formdata=None, guests=guests),
            error=error,
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/record")
@signed_in
def record(meeting_id: int):
    return _render_record(meeting_record_or_404(meeting_id))


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@signed_in
def save_attendance(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        return _render_record(meeting, error="The attendance could not be saved", status=400)
    statuses = {
        member.id: AttendanceStatus(request.form[f"member-{member.id}"])
        for member in active_members(meeting.forum)
        if request.form.get(f"member-{member.id}") in {s.value for s in AttendanceStatus}
    }
    guests = [
        services.Guest(*[part.strip() for part in line.split(",", 1)])
        for line in (form.guests.data or "").splitlines()
        if line.strip()
    ]
    try:
        services.save_attendance(meeting, statuses, guests, current_user)
    except services.OutcomeError as error:
        db.session.rollback()
        return _render_record(meeting, error=str(error), status=409)
    flash("Attendance saved.")
    return redirect(url_for("outcomes.record", meeting_id=meeting.id, _anchor="attendance"))


@bp.route("/agenda-items/<int:item_id>/record", methods=["POST"])
@signed_in
def save_item(item_id: int):
    item = db.session.get(AgendaItem, item_id)
    meeting = meeting_record_or_404(item.meeting_id if item else 0)
    if item.status != ItemStatus.SCHEDULED:
        return redirect(url_for("outcomes.record", meeting_id=meeting.id))
    form = _item_form(item, formdata=request.form)
    if form.validate_on_submit():
        try:
            services.save_item_record(item, _details(form), current_user)
        except services.OutcomeError as error:
            db.session.rollback()
            attach_error(form, error, "outcome")
        else:
            flash(f"Saved: {item.case.child.full_name}.")
            return redirect(
                url_for("outcomes.record", meeting_id=meeting.id, _anchor=f"item-{item.id}")
            )
    return _render_record(meeting, forms={item.id: form}, status=400)


@bp.route("/meetings/<int:meeting_id>/complete", methods=["POST"])
@signed_in
def complete(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    try:
        services.complete_meeting(meeting, current_user)
    except services.OutcomeError as error:
        db.session.rollback()
        return _render_record(meeting, error=str(error), status=409)
    flash(
        "The meeting is recorded as held, its outcomes are applied to the cases, and draft "
        "minutes are ready."
    )
    return redirect(url_for("outcomes.record", meeting_id=meeting.id))


# --- minutes -------------------------------------------------------------------------------


def _minutes_of_meeting(minutes_id: int) -> Minutes:
    found = db.session.get(Minutes, minutes_id)
    meeting_record_or_404(found.meeting_id if found else 0)
    return found


@bp.route("/meetings/<int:meeting_id>/minutes")
@signed_in
def minutes_page(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    return render_template(
        "outcomes/minutes.html",
        meeting=meeting,
        versions=minutes.versions(meeting),
        current=minutes.current_minutes(meeting),
        form=CorrectionForm(formdata=None),
    )


@bp.route("/minutes/<int:minutes_id>.docx")
@signed_in
def minutes_download(minutes_id: int):
    found = _minutes_of_meeting(minutes_id)
    audit.record_now("minutes_downloaded", found)
    filename = f"minutes-{found.meeting.date:%Y-%m-%d}-v{found.version}.docx"
    return docx_response(minutes.document_of(found), filename)


def _minutes_action(minutes_id: int, action, message: str):
    found = _minutes_of_meeting(minutes_id)
    try:
        result = action(found)
    except minutes.MinutesError as error:
        db.session.rollback()
        flash(str(error))
    else:
        flash(message.format(result=result, minutes=found))
    return redirect(url_for("outcomes.minutes_page", meeting_id=found.meeting_id))


@bp.route("/minutes/<int:minutes_id>/approve", methods=["POST"])
@signed_in
def approve_minutes(minutes_id: int):
    return _minutes_action(
        minutes_id,
        lambda found: minutes.approve(found, current_user),
        "Version {minutes.version} of the minutes is approved.",
    )


@bp.route("/minutes/<int:minutes_id>/circulate", methods=["POST"])
@signed_in
def circulate_minutes(minutes_id: int):
    return _minutes_action(
        minutes_id,
        lambda found: minutes.circulate(found, current_user),
        "The minutes are on their way to {result} people.",
    )


@bp.route("/meetings/<int:meeting_id>/minutes/correct", methods=["POST"])
@signed_in
def correct_minutes(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            new = minutes.correct(meeting, form.note.data or "", current_user)
        except minutes.MinutesError as error:
            db.session.rollback()
            attach_error(form, error, "note")
        else:
            flash(f"Version {new.version} started as a draft; earlier versions stay as they were.")
            return redirect(url_for("outcomes.minutes_page", meeting_id=meeting.id))
    return (
        render_template(
            "outcomes/minutes.html",
            meeting=meeting,
            versions=minutes.versions(meeting),
            current=minutes.current_minutes(meeting),
            form=form,
        ),
        400,
    )
