from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from maf.agendas import services
from maf.agendas.document import agenda_document
from maf.agendas.forms import AddItemForm
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.agendas.presenters import presenters
from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import agenda_or_404, roles_required, signed_in
from maf.cases import services as case_services
from maf.cases.models import Case
from maf.circulation.services import changes_not_circulated
from maf.downloads import docx_response
from maf.extensions import db
from maf.forums.services import active_members, next_meeting
from maf.outcomes.services import current_leads, describe_lead, outstanding_actions_of
from maf.submissions import AlreadySaved

bp = Blueprint("agendas", __name__)


def render_builder(
    meeting, status=200, error=None, error_case_id=None, form=None, circulation_error=None
):
    """The builder; `circulation_error` is why the agenda could not be circulated, shown at
    the top and beside the button."""
    proposals = services.review_proposals(meeting)
    # Looked up for all the proposals at once: a query per proposal made the page's queries
    # grow with the district's open cases.
    cases = [proposal.case for proposal in proposals]
    proposed = {case.id for case in cases}
    leads, actions = current_leads(cases), outstanding_actions_of(cases)
    return (
        render_template(
            "agendas/builder.html",
            meeting=meeting,
            agenda=services.timed_agenda(meeting),
            ready=services.ready_queue(meeting),
            proposals=[
                (proposal, leads.get(proposal.case.id), actions[proposal.case.id])
                for proposal in proposals
            ],
            # A case proposed for review is offered for sign-off there too, so each case
            # appears once on the page (and its id="case-N" is unique).
            sign_offs=[
                case for case in services.sign_off_candidates(meeting) if case.id not in proposed
            ],
            next_meeting=next_meeting(meeting),
            uncirculated_changes=changes_not_circulated(meeting),
            taken_off=services.taken_off_for_withdrawn_consent(meeting),
            without_consent=services.items_without_consent(meeting),
            circulation_error=circulation_error,
            error=error,
            error_case_id=error_case_id,
            describe_lead=describe_lead,
            may_share=case_services.may_share_with_forum,
            no_forum_consent="No consent to share with the forum members: record consent to "
            "share before adding it",
            form=form,
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/agenda/build")
@roles_required(Role.COORDINATOR)
def build(meeting_id: int):
    return render_builder(agenda_or_404(meeting_id, manage=True))


@bp.route("/meetings/<int:meeting_id>/agenda/items", methods=["POST"])
@roles_required(Role.COORDINATOR)
def add_item(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    form = AddItemForm()
    if not form.validate_on_submit():
        return render_builder(meeting, 400, "Choose a case to add", form=form)
    case = db.session.get(Case, int(form.case_id.data)) if form.case_id.data.isdigit() else None
    if case is None:
        return render_builder(meeting, 400, "That case no longer exists")
    try:
        services.add_to_agenda(
            meeting,
            case,
            ItemKind(form.kind.data),
            current_user,
            form.presenter_name.data or "",
            form.presenter_email.data or "",
            once=form.once.data,
        )
    except AlreadySaved as saved:
        flash(str(saved))
        return redirect(url_for("agendas.build", meeting_id=meeting.id))
    except services.AgendaError as error:
        db.session.rollback()
        return render_builder(meeting, 409, str(error), error_case_id=case.id)
    flash(f"{case.child.full_name} added to the agenda.")
    return redirect(url_for("agendas.build", meeting_id=meeting.id))


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
        return render_builder(meeting, 409, str(error), error_case_id=item.case_id)
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
    filename = f"agenda-{meeting.forum.district.name}-{meeting.date:%Y-%m-%d}.docx"
    return docx_response(agenda_document(meeting), filename.replace(" ", "-").lower())
