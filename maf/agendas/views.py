from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.agendas import services
from maf.agendas.deadlines import deadline_notes
from maf.agendas.document import agenda_document
from maf.agendas.forms import OnceForm, Selection, selection_from
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.agendas.presenters import presenters
from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import agenda_or_404, roles_required, signed_in
from maf.cases import services as case_services
from maf.circulation.services import changes_not_circulated, document_filename
from maf.downloads import docx_response
from maf.extensions import db
from maf.forums.services import active_members, next_meeting
from maf.outcomes.services import current_leads, describe_lead, outstanding_actions_of
from maf.submissions import AlreadySaved

bp = Blueprint("agendas", __name__)


def render_builder(
    meeting,
    status=200,
    error=None,
    error_in_selection=False,
    circulation_error=None,
    selection=None,
):
    """The builder; `circulation_error` is why the agenda could not be circulated, shown at
    the top and beside the button; `selection` is what the coordinator ticked, kept on a page
    that could not add all of it."""
    proposals = services.review_proposals(meeting)
    # Looked up for all the proposals at once: a query per proposal made the page's queries
    # grow with the district's open cases.
    cases = [proposal.case for proposal in proposals]
    proposed = {case.id for case in cases}
    leads, actions = current_leads(cases), outstanding_actions_of(cases)
    agenda = services.timed_agenda(meeting)
    ready = services.ready_queue(meeting)
    # A case proposed for review is offered for sign-off there too, so each case appears
    # once on the page (and its id="case-N" is unique).
    sign_offs = [case for case in services.sign_off_candidates(meeting) if case.id not in proposed]
    on_agenda = [(slot.item.case, slot.item.kind) for slot in agenda.slots if slot.item]
    notes = deadline_notes(
        meeting,
        on_agenda
        + [(case, ItemKind.NEW_CASE) for case in ready]
        + [(case, ItemKind.REVIEW) for case in cases],
    )
    return (
        render_template(
            "agendas/builder.html",
            meeting=meeting,
            agenda=agenda,
            # The same words as the agenda page and the Word agenda.
            presenters=presenters([slot.item for slot in agenda.slots if slot.item]),
            ready=ready,
            proposals=[
                (proposal, leads.get(proposal.case.id), actions[proposal.case.id])
                for proposal in proposals
            ],
            sign_offs=sign_offs,
            notes=notes,
            kinds=ItemKind,
            late_reason_url=lambda note: url_for(
                "followup.late_reason",
                case_id=note.case.id,
                rule=note.rule,
                next=url_for("agendas.build", meeting_id=meeting.id),
            ),
            # Where the meetings of the forum are moved or added, when none is in time.
            forum_meetings_url=url_for(
                "forums.show", forum_id=meeting.forum_id, _anchor="meetings"
            ),
            next_meeting=next_meeting(meeting),
            uncirculated_changes=changes_not_circulated(meeting),
            taken_off=services.taken_off_for_withdrawn_consent(meeting),
            without_consent=services.items_without_consent(meeting),
            circulation_error=circulation_error,
            error=error,
            error_in_selection=error_in_selection,
            selection=selection or Selection(),
            describe_lead=describe_lead,
            may_share=case_services.may_share_with_forum,
            no_forum_consent="No consent to share with the forum members: record consent to "
            "share before adding it",
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/agenda/build")
@roles_required(Role.COORDINATOR)
def build(meeting_id: int):
    return render_builder(agenda_or_404(meeting_id, manage=True))


@bp.route("/meetings/<int:meeting_id>/agenda/fill", methods=["POST"])
@roles_required(Role.COORDINATOR)
def fill(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    # The CSRF token is checked for every post (maf.extensions.csrf); the form only reads
    # its one-time token, which a post without one is given afresh.
    form = OnceForm()
    try:
        added = services.fill_with_due(meeting, current_user, once=form.once.data)
    except AlreadySaved as saved:
        flash(str(saved))
    except services.AgendaError as error:
        db.session.rollback()
        return render_builder(meeting, 409, str(error))
    else:
        flash(added.summary)
    return redirect(url_for("agendas.build", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/agenda/selected", methods=["POST"])
@roles_required(Role.COORDINATOR)
def add_selected(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    form = OnceForm()
    selection = selection_from(request.form)
    if not selection.kinds:
        return render_builder(
            meeting, 400, "Select the cases to add to the agenda", error_in_selection=True
        )
    if selection.errors:
        return render_builder(meeting, 400, selection=selection)
    try:
        added = services.add_selected(
            meeting, selection.kinds, selection.presenters, current_user, once=form.once.data
        )
    except AlreadySaved as saved:
        flash(str(saved))
        return redirect(url_for("agendas.build", meeting_id=meeting.id))
    except services.AgendaError as error:
        db.session.rollback()
        return render_builder(meeting, 409, str(error), selection=selection)
    # A case not found (another district's, or gone since the page was drawn) is refused
    # without a name.
    unknown = dict.fromkeys(added.not_found, NOT_HERE)
    if not added.refused and not unknown:
        flash(added.summary)
        return redirect(url_for("agendas.build", meeting_id=meeting.id))
    # The others are added; the refused stay ticked, each with why beside it.
    refused = {refusal.case.id: refusal.message for refusal in added.refused} | unknown
    kept = Selection(
        kinds={case_id: selection.kinds[case_id] for case_id in refused},
        presenters={i: p for i, p in selection.presenters.items() if i in refused},
        refused=refused,
    )
    summary = added.summary if added.items or added.refused else "Nothing was added."
    return render_builder(meeting, 409, summary, selection=kept)


NOT_HERE = "This case cannot be added to this forum's agenda: it is not one of the district's"


def _item_or_404(item_id: int) -> AgendaItem | None:
    """A scheduled item on an agenda the coordinator builds; scoping answers 404."""
    item = db.session.get(AgendaItem, item_id)
    agenda_or_404(item.meeting_id if item else 0, manage=True)
    return item if item.status == ItemStatus.SCHEDULED else None


def _change_item(item_id: int, change, message: str | None = None):
    item = _item_or_404(item_id)
    if item is None:
        return redirect(url_for("dashboard.index"))
    meeting = item.meeting
    try:
        result = change(item)
    except services.AgendaError as error:
        db.session.rollback()
        return render_builder(meeting, 409, str(error))
    if message:
        flash(message.format(item=item, result=result))
    return redirect(url_for("agendas.build", meeting_id=meeting.id, _anchor=f"item-{item.id}"))


@bp.route("/agenda-items/<int:item_id>/up", methods=["POST"])
@roles_required(Role.COORDINATOR)
def move_up(item_id: int):
    return _change_item(item_id, lambda item: services.move_item(item, -1, current_user))


@bp.route("/agenda-items/<int:item_id>/down", methods=["POST"])
@roles_required(Role.COORDINATOR)
def move_down(item_id: int):
    return _change_item(item_id, lambda item: services.move_item(item, +1, current_user))


@bp.route("/agenda-items/<int:item_id>/remove", methods=["POST"])
@roles_required(Role.COORDINATOR)
def remove(item_id: int):
    return _change_item(
        item_id,
        lambda item: services.remove_from_agenda(item, current_user),
        "{item.case.child.full_name} taken off the agenda.",
    )


@bp.route("/agenda-items/<int:item_id>/defer", methods=["POST"])
@roles_required(Role.COORDINATOR)
def defer(item_id: int):
    return _change_item(
        item_id,
        lambda item: services.move_to_next_meeting(item, current_user),
        "{item.case.child.full_name} moved to the meeting on {result.meeting.date:%-d %B %Y}.",
    )


@bp.route("/meetings/<int:meeting_id>/agenda")
@signed_in
def show(meeting_id: int):
    meeting = agenda_or_404(meeting_id)
    agenda = services.timed_agenda(meeting)
    return render_template(
        "agendas/agenda.html",
        meeting=meeting,
        agenda=agenda,
        # The same words as the Word agenda's Presenter column.
        presenters=presenters([slot.item for slot in agenda.slots if slot.item]),
        members=active_members(meeting.forum),
    )


@bp.route("/meetings/<int:meeting_id>/agenda.docx")
@signed_in
def download(meeting_id: int):
    meeting = agenda_or_404(meeting_id)
    audit.record_now("agenda_downloaded", meeting)
    # The same name as the file attached to secure-domain emails of this version.
    filename = document_filename(meeting.forum, "agenda", meeting.date, meeting.agenda_version)
    return docx_response(agenda_document(meeting), filename)
