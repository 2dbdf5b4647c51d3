from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from maf.answers import forms, services
from maf.answers.models import AnswerSource, Response
from maf.auth.permissions import meeting_record_or_404, public, signed_in
from maf.extensions import db
from maf.invitations.services import who_to_ask

bp = Blueprint("answers", __name__)


def _refused(refusal: services.LinkRefused):
    meeting = refusal.meeting
    return (
        render_template(
            "answers/link_not_working.html",
            reason=refusal.reason,
            meeting=meeting,
            contact=who_to_ask(meeting.forum) if meeting is not None else None,
        ),
        refusal.status,
    )


def _form_for(response: Response):
    return forms.ConfirmDeputyForm() if response == Response.DEPUTY else forms.ConfirmAnswerForm()


def _render_answer(token: str, target: services.LinkTarget, form, status: int = 200):
    meeting = target.meeting
    return (
        render_template(
            "answers/answer.html",
            meeting=meeting,
            target=target,
            labels=services.LINK_LABELS,
            current=services.answer_for(meeting, target.invitation.email),
            form=form,
            other_links=[
                link
                for link in services.answer_links(meeting, target.invitation.email)
                if link.response != target.response
            ],
            contact=who_to_ask(meeting.forum),
        ),
        status,
    )


@bp.route("/answer/<token>")
@public
def answer(token: str):
    """Only shows the answer to confirm: mail scanners open links, and must change nothing.
    The signed token is the key; no sign-in is needed to answer."""
    try:
        target = services.read_link(token)
    except services.LinkRefused as refusal:
        return _refused(refusal)
    return _render_answer(token, target, _form_for(target.response))


@bp.route("/answer/<token>", methods=["POST"])
@public
def confirm_answer(token: str):
    try:
        target = services.read_link(token)
    except services.LinkRefused as refusal:
        return _refused(refusal)
    form = _form_for(target.response)
    if not form.validate_on_submit():
        return _render_answer(token, target, form, status=400)
    services.record_answer(
        target.meeting,
        target.invitation,
        target.response,
        AnswerSource.LINK,
        deputy_name=form.data.get("deputy_name") or "",
    )
    db.session.commit()
    flash("Your answer is saved. Thank you.")
    return redirect(url_for("answers.answer", token=token))


def _record_form(meeting, coming: services.WhoIsComing) -> forms.RecordAnswerForm:
    form = forms.RecordAnswerForm()
    form.invitation.choices = [("", "Choose a member")] + [
        (invitee.invitation.id, invitee.invitation.name or invitee.invitation.email)
        for invitee in coming.invitees
    ]
    return form


def _render_who_is_coming(meeting, form=None, status: int = 200):
    coming = services.who_is_coming(meeting)
    return (
        render_template(
            "answers/who_is_coming.html",
            meeting=meeting,
            coming=coming,
            responses=Response,
            form=form or _record_form(meeting, coming),
            open_for_answers=services.open_for_answers(meeting),
        ),
        status,
    )


@bp.route("/meetings/<int:meeting_id>/answers")
@signed_in
def who_is_coming(meeting_id: int):
    """The forum's chair and the district's coordinators see who has said they will come."""
    return _render_who_is_coming(meeting_record_or_404(meeting_id))


@bp.route("/meetings/<int:meeting_id>/answers", methods=["POST"])
@signed_in
def record_for_member(meeting_id: int):
    """An answer given by phone or in person, typed in by a coordinator or the chair."""
    meeting = meeting_record_or_404(meeting_id)
    coming = services.who_is_coming(meeting)
    form = _record_form(meeting, coming)
    if not services.open_for_answers(meeting):
        return _render_who_is_coming(meeting, form, status=409)
    if not form.validate_on_submit():
        return _render_who_is_coming(meeting, form, status=400)
    # The choices are the open invitations, so validation has refused any other id.
    (invitation,) = [
        i.invitation for i in coming.invitees if i.invitation.id == form.invitation.data
    ]
    services.record_answer(
        meeting,
        invitation,
        Response(form.response.data),
        AnswerSource.COORDINATOR,
        deputy_name=form.deputy_name.data or "",
        by=current_user,
    )
    db.session.commit()
    flash(f"The answer of {invitation.name or invitation.email} is saved.")
    return redirect(url_for("answers.who_is_coming", meeting_id=meeting.id))
