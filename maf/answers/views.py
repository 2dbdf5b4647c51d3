from flask import Blueprint, flash, redirect, render_template, url_for

from maf.answers import forms, services
from maf.answers.models import AnswerSource, Response
from maf.auth.permissions import meeting_record_or_404, public, signed_in
from maf.extensions import db
from maf.invitations.services import who_to_ask

bp = Blueprint("answers", __name__)


def _refused(refusal: services.LinkRefused):
    return render_template("answers/link_not_working.html", reason=refusal.reason), refusal.status


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


@bp.route("/meetings/<int:meeting_id>/answers")
@signed_in
def who_is_coming(meeting_id: int):
    """The forum's chair and the district's coordinators see who has said they will come."""
    meeting = meeting_record_or_404(meeting_id)
    return render_template(
        "answers/who_is_coming.html",
        meeting=meeting,
        coming=services.who_is_coming(meeting),
        responses=Response,
    )
