from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.agendas.models import AgendaItem
from maf.agendas.services import Slot, scheduled_items, timed_agenda, withheld
from maf.audit import services as audit
from maf.auth.permissions import circulated_minutes_or_404, meeting_record_or_404, signed_in
from maf.circulation.services import documents_in_words
from maf.directory.services import agencies, choices
from maf.downloads import docx_response
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.forums.models import Meeting
from maf.forums.services import active_members
from maf.outcomes import minutes, progress, services
from maf.outcomes.forms import (
    MAX_ROWS,
    AttendanceForm,
    CorrectionForm,
    ItemRecordForm,
    MinutesWordingForm,
)
from maf.outcomes.models import (
    AttendanceStatus,
    ClosureReason,
    LeadKind,
    Minutes,
    MinutesStatus,
    Outcome,
)
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit
from maf.words import plural

bp = Blueprint("outcomes", __name__)


def _item_form(item: AgendaItem, formdata=None) -> ItemRecordForm:
    """The item's form: what was submitted, or else what was saved (or nothing yet)."""
    form = ItemRecordForm(formdata=formdata)
    if formdata is None:
        _fill(form, item)
    form.set_agencies(_agency_choices(item))
    return form


def _offered(item: AgendaItem) -> list:
    """The agencies this item's record may name: those in use, and any its saved record names
    that has been retired since, so re-saving the record does not lose them."""
    saved = services.stored_details(item)
    if saved is None:
        return agencies()
    named = [agency for agency, _ in saved.services]
    named += [action.owner_agency for action in saved.actions]
    named += [saved.lead.agency] if saved.lead else []
    return agencies(keep=named)


def _agency_choices(item: AgendaItem) -> list[tuple[str | int, str]]:
    # The blank choice's value is empty, so the autocomplete does not offer "None" as an agency.
    return [("", "None"), *choices(_offered(item))]


def _fill(form: ItemRecordForm, item: AgendaItem) -> None:
    record = services.record_for(item)
    form.next_review_on.data = services.propose_next_review(item.meeting)
    form.version.data = record.version if record else 0
    saved = services.stored_details(item)
    if saved is None:
        return
    form.discussion.data = saved.discussion
    form.outcome.data = saved.outcome.value if saved.outcome else None
    form.next_review_on.data = saved.next_review_on or form.next_review_on.data
    form.sign_off_next.data = saved.sign_off_next
    form.closure_reason.data = saved.closure_reason.value if saved.closure_reason else ""
    form.outcome_notes.data = saved.outcome_notes
    _fill_rows(form.services, [{"agency": a.id, "what": what} for a, what in saved.services])
    _fill_rows(
        form.actions,
        [
            {
                "id": str(action.id),
                "what": action.description,
                "owner": action.owner_name,
                "email": action.owner_email,
                "agency": action.owner_agency.id if action.owner_agency else 0,
                "due": action.due_on,
            }
            for action in saved.actions
        ],
    )
    if saved.lead is not None:
        form.lead_kind.data, form.lead_name.data = saved.lead.kind.value, saved.lead.name
        form.lead_email.data = saved.lead.email
        form.lead_agency.data = saved.lead.agency.id if saved.lead.agency else 0
        form.lead_agreed.data = saved.lead.agreed


def _fill_rows(rows, values: list[dict]) -> None:
    """The saved rows, then one empty row to type the next into."""
    while len(rows):
        rows.pop_entry()
    for row in [*values, {}]:
        rows.append_entry(row)


def _details(form: ItemRecordForm, item: AgendaItem) -> services.ItemDetails:
    named = {agency.id: agency for agency in _offered(item)}
    lead = None
    if form.lead_kind.data:
        lead = services.LeadDetails(
            kind=LeadKind(form.lead_kind.data),
            name=form.lead_name.data,
            agreed=form.lead_agreed.data,
            email=form.lead_email.data or "",
            agency=named.get(form.lead_agency.data),
        )
    return services.ItemDetails(
        outcome=Outcome(form.outcome.data) if form.outcome.data else None,
        discussion=form.discussion.data or "",
        services=[(named[row.agency.data], row.what.data) for row in form.filled_services()],
        actions=[
            services.ActionDetails(
                description=row.what.data,
                owner_name=row.owner.data,
                due_on=row.due.data,
                owner_email=row.email.data or "",
                owner_agency=named.get(row.agency.data),
                id=row.action_id,
            )
            for row in form.filled_actions()
        ],
        lead=lead,
        next_review_on=form.next_review_on.data,
        closure_reason=ClosureReason(form.closure_reason.data)
        if form.closure_reason.data
        else None,
        outcome_notes=form.outcome_notes.data or "",
        sign_off_next=form.sign_off_next.data,
    )


def _slots(meeting: Meeting) -> dict[AgendaItem, Slot]:
    """The items the forum discusses with their times, in agenda order (the agenda the members
    may read: a case whose consent to share was withdrawn is not on it)."""
    return {slot.item: slot for slot in timed_agenda(meeting).slots if slot.item is not None}


def _items(meeting: Meeting) -> list[AgendaItem]:
    return list(_slots(meeting))


def _recording(meeting: Meeting) -> bool:
    return meeting.status in services.RECORDING_STATUSES


@bp.route("/meetings/<int:meeting_id>/record")
@signed_in
def record(meeting_id: int):
    return _render_overview(meeting_record_or_404(meeting_id))


def _render_overview(meeting: Meeting, error: str | None = None, status: int = 200):
    slots = _slots(meeting)
    items = list(slots)
    attendance = services.attendance_of(meeting)
    return (
        render_template(
            "outcomes/record.html",
            meeting=meeting,
            items=items,
            slots=slots,
            withheld=withheld(scheduled_items(meeting)),
            states=services.record_states(items),
            recording=_recording(meeting),
            present=sum(1 for a in attendance if a.status == AttendanceStatus.PRESENT),
            apologies=sum(1 for a in attendance if a.status == AttendanceStatus.APOLOGIES),
            guests=sum(1 for a in attendance if a.member_id is None),
            error=error,
        ),
        status,
    )


# --- attendance ----------------------------------------------------------------------------


def _guest_lines(guests: list[services.Guest]) -> str:
    return "\n".join(f"{g.name}, {g.agency_name}" if g.agency_name else g.name for g in guests)


def _render_attendance(meeting: Meeting, form=None, stale=None, status: int = 200):
    attendance = services.attendance_of(meeting)
    # Until the first save, the page starts from the members' answers to the invitation.
    from_answers = (
        services.attendance_from_answers(meeting)
        if not attendance and _recording(meeting)
        else None
    )
    if form is None:
        guests = from_answers.guests if from_answers else services.guests_of(meeting)
        form = AttendanceForm(formdata=None, guests=_guest_lines(guests))
        form.version.data = meeting.version
    members = active_members(meeting.forum)
    recorded = {a.member_id: a for a in attendance if a.member_id}
    if request.method == "POST" and _recording(meeting):  # what they chose, kept
        chosen = {m.id: request.form.get(f"member-{m.id}", "") for m in members}
    elif from_answers:
        chosen = {member_id: value.value for member_id, value in from_answers.statuses.items()}
    else:
        chosen = {member_id: row.status.value for member_id, row in recorded.items()}
    return (
        render_template(
            "outcomes/record/attendance.html",
            meeting=meeting,
            members=members,
            chosen=chosen,
            recorded=recorded,
            statuses=AttendanceStatus,
            attendance_form=form,
            recording=_recording(meeting),
            stale=stale,
            unsaved=request.method == "POST",
            from_answers=from_answers is not None
            and bool(from_answers.statuses)
            and request.method != "POST",
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/record/attendance")
@signed_in
def attendance(meeting_id: int):
    return _render_attendance(meeting_record_or_404(meeting_id))


@bp.route("/meetings/<int:meeting_id>/record/attendance", methods=["POST"])
@signed_in
def save_attendance(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    form = AttendanceForm()
    if not _recording(meeting):
        return _render_attendance(meeting, status=409)
    if not form.validate_on_submit():
        return _render_attendance(meeting, form, status=400)
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
        services.save_attendance(
            meeting, statuses, guests, current_user, opened_at_version=form.version.data or 0
        )
    except StaleEdit as stale:
        db.session.rollback()
        show_newer_version(form, stale)
        return _render_attendance(meeting, form, stale=stale, status=409)
    flash("Attendance saved.")
    return redirect(url_for("outcomes.record", meeting_id=meeting.id))


# --- one item ------------------------------------------------------------------------------


def _item_of(meeting: Meeting, item_id: int) -> AgendaItem:
    """An item of this meeting's agenda (another meeting's answers 404, as if absent)."""
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def _render_item(meeting, item, form=None, stale=None, status=200, focus=None, unsaved=False):
    slots = _slots(meeting)
    items = list(slots)
    position = items.index(item) if item in items else None
    open_for_recording = _recording(meeting) and position is not None
    slot = slots.get(item)
    return (
        render_template(
            "outcomes/record/item.html",
            meeting=meeting,
            item=item,
            slot=slot,
            number=None if position is None else position + 1,
            count=len(items),
            previous=items[position - 1] if position else None,
            following=items[position + 1]
            if position is not None and position + 1 < len(items)
            else None,
            record_form=form if form is not None else _item_form(item),
            saved=services.stored_details(item),
            done_actions=services.done_actions_of(item),
            context=services.review_context(item),
            update=progress.update_for(item.case, meeting),
            answered_questions=progress.answered_questions,
            recording=open_for_recording,
            stale=stale,
            focus=focus,
            unsaved=unsaved,
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/record/items/<int:item_id>")
@signed_in
def record_item(meeting_id: int, item_id: int):
    meeting = meeting_record_or_404(meeting_id)
    item = _item_of(meeting, item_id)
    if item not in _items(meeting):
        flash("That case is no longer on this meeting's agenda.")
        return redirect(url_for("outcomes.record", meeting_id=meeting.id))
    return _render_item(meeting, item)


@bp.route("/meetings/<int:meeting_id>/record/items/<int:item_id>", methods=["POST"])
@signed_in
def save_item(meeting_id: int, item_id: int):
    meeting = meeting_record_or_404(meeting_id)
    item = _item_of(meeting, item_id)
    formdata = request.form
    form = _item_form(item, formdata=formdata)
    if not _recording(meeting) or item not in _items(meeting):
        # Held, cancelled, or the case has left the agenda: refused, nothing changed.
        return _render_item(meeting, item, status=409)
    # "Add another" re-shows the form with everything typed kept and one more empty row;
    # nothing is saved.
    for list_name, rows in (("services", form.services), ("actions", form.actions)):
        if f"add_{list_name}" in formdata:
            if len(rows) < MAX_ROWS:
                rows.append_entry()
                form.set_agencies(_agency_choices(item))
            return _render_item(meeting, item, form, focus=rows[-1].form.what.id, unsaved=True)
    if form.validate_on_submit():
        try:
            services.save_item_record(
                item, _details(form, item), current_user, opened_at_version=form.version.data or 0
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            return _render_item(meeting, item, form, stale=stale, status=409, unsaved=True)
        except services.OutcomeError as error:
            db.session.rollback()
            field = form.field_named(error.field or "") or form.outcome
            field.errors = [*field.errors, str(error)]
        else:
            flash(f"Saved: {item.case.child.full_name}.")
            items = _items(meeting)
            if "next" in formdata and item in items and items[-1] is not item:
                following = items[items.index(item) + 1]
                return redirect(
                    url_for("outcomes.record_item", meeting_id=meeting.id, item_id=following.id)
                )
            if "next" in formdata:
                return redirect(url_for("outcomes.record", meeting_id=meeting.id))
            return redirect(url_for("outcomes.record_item", meeting_id=meeting.id, item_id=item.id))
    return _render_item(meeting, item, form, status=400, unsaved=True)


@bp.route("/meetings/<int:meeting_id>/complete", methods=["POST"])
@signed_in
def complete(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    try:
        services.complete_meeting(meeting, current_user)
    except services.OutcomeError as error:
        db.session.rollback()
        return _render_overview(meeting, error=str(error), status=409)
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


def _render_minutes(meeting: Meeting, form: CorrectionForm, status: int = 200):
    """The minutes page: the versions, and one version's minutes as they read (the latest,
    or the one asked for with ?version=N)."""
    versions = minutes.versions(meeting)
    current = versions[-1] if versions else None
    asked = request.args.get("version", "")
    shown = next((v for v in versions if str(v.version) == asked), current)
    return (
        render_template(
            "outcomes/minutes.html",
            meeting=meeting,
            versions=versions,
            current=current,
            shown=shown,
            blocks=minutes.blocks_of(shown) if shown else [],
            editable=shown is not None and shown.status == MinutesStatus.DRAFT,
            form=form,
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/minutes")
@signed_in
def minutes_page(meeting_id: int):
    return _render_minutes(meeting_record_or_404(meeting_id), CorrectionForm(formdata=None))


@bp.route("/minutes/<int:minutes_id>.docx")
@signed_in
def minutes_download(minutes_id: int):
    found = db.session.get(Minutes, minutes_id)
    if found is not None and found.status == MinutesStatus.CIRCULATED:
        # Those it was circulated to download it too (their email links to it).
        circulated_minutes_or_404(found.meeting_id)
    else:
        found = _minutes_of_meeting(minutes_id)
    audit.record_now("minutes_downloaded", found)
    # The same name as the file attached to secure-domain emails.
    return docx_response(minutes.document_of(found), minutes.minutes_filename(found))


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


def _circulate(found: Minutes) -> str:
    queued = minutes.circulate(found, current_user)
    by_link, attached = minutes.documents_sent(found)
    return f"{plural(queued, 'person', 'people')}: {documents_in_words(by_link, attached)}"


@bp.route("/minutes/<int:minutes_id>/circulate", methods=["POST"])
@signed_in
def circulate_minutes(minutes_id: int):
    return _minutes_action(
        minutes_id,
        _circulate,
        "The minutes are on their way to {result}.",
    )


@bp.route("/meetings/<int:meeting_id>/minutes/correct", methods=["POST"])
@signed_in
def correct_minutes(meeting_id: int):
    meeting = meeting_record_or_404(meeting_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            new = minutes.correct(meeting, form.note.data or "", current_user, once=form.once.data)
        except AlreadySaved as saved:
            flash(str(saved))
            return redirect(url_for("outcomes.minutes_page", meeting_id=meeting.id))
        except minutes.MinutesError as error:
            db.session.rollback()
            attach_error(form, error, "note")
        else:
            flash(f"Version {new.version} started as a draft; earlier versions stay as they were.")
            return redirect(url_for("outcomes.minutes_page", meeting_id=meeting.id))
    return _render_minutes(meeting, form, 400)


# --- the draft minutes' wording -----------------------------------------------------------


def _wording_target(minutes_id: int, item_id: int, part: str):
    """The version, and the item whose `part` it may correct; 404 for a part that is not
    one, or an item that is not in these minutes (or is withheld from them)."""
    found = _minutes_of_meeting(minutes_id)
    item = minutes.editable_item(found, item_id)
    if part not in minutes.WORDING_PARTS or item is None:
        abort(404)
    return found, item


def _minutes_anchor(found: Minutes, item_id: int, part: str) -> str:
    return (
        url_for("outcomes.minutes_page", meeting_id=found.meeting_id, version=found.version)
        + f"#item-{item_id}-{part}"
    )


def _render_wording(found, item, part, form=None, stale=None, status=200):
    wording = minutes.wording_for(found, item, part)
    recorded = minutes.recorded_wording(item, part)
    if form is None:
        form = MinutesWordingForm(formdata=None)
        form.text.data = wording.text if wording else recorded
        form.version.data = wording.version if wording else 0
    form.text.label.text = f"{minutes.WORDING_PARTS[part]}, as the minutes will say it"
    return (
        render_template(
            "outcomes/minutes/wording.html",
            minutes=found,
            meeting=found.meeting,
            item=item,
            part=part,
            label=minutes.WORDING_PARTS[part],
            recorded=recorded,
            wording=wording,
            form=form,
            stale=stale,
            back=_minutes_anchor(found, item.id, part),
            editable=found.status == MinutesStatus.DRAFT,
        ),
        status,
    )


@bp.route("/minutes/<int:minutes_id>/wording/<int:item_id>/<part>")
@signed_in
def minutes_wording(minutes_id: int, item_id: int, part: str):
    return _render_wording(*_wording_target(minutes_id, item_id, part), part)


@bp.route("/minutes/<int:minutes_id>/wording/<int:item_id>/<part>", methods=["POST"])
@signed_in
def save_minutes_wording(minutes_id: int, item_id: int, part: str):
    found, item = _wording_target(minutes_id, item_id, part)
    form = MinutesWordingForm()
    if not form.validate_on_submit():
        return _render_wording(found, item, part, form, status=400)
    try:
        minutes.change_wording(
            found, item, part, form.text.data or "", current_user, form.version.data
        )
    except StaleEdit as stale:
        db.session.rollback()
        show_newer_version(form, stale)
        return _render_wording(found, item, part, form, stale=stale, status=409)
    except minutes.MinutesError as error:
        db.session.rollback()
        attach_error(form, error, "text")
        return _render_wording(found, item, part, form, status=409)
    flash(f"The wording of the {minutes.WORDING_PARTS[part].lower()} is changed in the minutes.")
    return redirect(_minutes_anchor(found, item.id, part))
