from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from maf.agendas.views import render_builder
from maf.auth.models import Role
from maf.auth.permissions import agenda_or_404, public, roles_required, signed_in
from maf.circulation import services
from maf.circulation.models import DeliveryStatus, OutboxMessage
from maf.extensions import db

bp = Blueprint("circulation", __name__)


@bp.route("/meetings/<int:meeting_id>/circulate", methods=["POST"])
@roles_required(Role.COORDINATOR)
def circulate(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    try:
        report = services.circulate(meeting, current_user)
    except services.CirculationError as error:
        db.session.rollback()
        return render_builder(meeting, 409, circulation_error=str(error))
    if report.messages:
        flash(
            f"{report.messages} emails queued for {len(report.recipients)} people: "
            f"{report.agendas} agendas, {report.meeting_updates} meeting updates, "
            f"{report.slot_invitations} presenters' invitations, "
            f"{report.cancellations} cancellations."
        )
    else:
        flash("Nothing has changed since the agenda was last circulated, so nothing was sent.")
    return redirect(url_for("circulation.deliveries", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/deliveries")
@roles_required(Role.COORDINATOR)
def deliveries(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    return render_template(
        "circulation/deliveries.html",
        meeting=meeting,
        messages=services.delivery_log(meeting),
        retryable={DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN},
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@roles_required(Role.COORDINATOR)
def retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    meeting = agenda_or_404(
        message.meeting_id if message and message.meeting_id else 0, manage=True
    )
    if message.status in (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN):
        services.retry_message(message, current_user)
        flash(f"The email to {message.recipient_email} will be sent again.")
    return redirect(url_for("circulation.deliveries", meeting_id=meeting.id))


@bp.route("/calendar/<token>.ics")
@public
def feed(token: str):
    """Calendar programs fetch this without a session: the secret in the URL is the key."""
    user = services.user_by_calendar_token(token)
    if user is None:
        abort(404)
    return (
        services.calendar_feed(user),
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'inline; filename="maf.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )


@bp.route("/account/calendar")
@signed_in
def account_calendar():
    feed_url = url_for("circulation.feed", token=current_user.calendar_token, _external=True)
    return render_template(
        "circulation/account_calendar.html",
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
    )


@bp.route("/account/calendar/reset", methods=["POST"])
@signed_in
def reset_calendar():
    services.reset_calendar_token(current_user._get_current_object())
    flash("Your calendar address has changed. The old address no longer works: subscribe again.")
    return redirect(url_for("circulation.account_calendar"))
