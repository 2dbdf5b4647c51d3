from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from maf.agendas.views import render_builder
from maf.auth.models import Role
from maf.auth.permissions import (
    agenda_or_404,
    circulated_minutes_or_404,
    public,
    roles_required,
    signed_in,
)
from maf.circulation import services
from maf.circulation.forms import SecureDomainForm
from maf.circulation.models import DeliveryStatus, DocumentsBy, OutboxMessage, SecureEmailDomain
from maf.extensions import db
from maf.forms import attach_error
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import MinutesStatus
from maf.submissions import AlreadySaved

bp = Blueprint("circulation", __name__)
# The cancelled meeting's banner (templates/circulation/_cancelled.html) on every page that
# shows a meeting.
bp.add_app_template_global(services.cancellation, "meeting_cancellation")


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
        sent = (
            f"{report.messages} emails queued for {len(report.recipients)} people: "
            f"{report.agendas} agendas, {report.meeting_updates} meeting updates, "
            f"{report.slot_invitations} presenters' invitations, "
            f"{report.cancellations} cancellations."
        )
        if report.by_link or report.attached:
            documents = services.documents_in_words(report.by_link, report.attached)
            sent += f" The agenda went {documents}."
        flash(sent)
    else:
        flash("Nothing has changed since the agenda was last circulated, so nothing was sent.")
    return redirect(url_for("circulation.deliveries", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/deliveries")
@roles_required(Role.COORDINATOR)
def deliveries(meeting_id: int):
    meeting = agenda_or_404(meeting_id, manage=True)
    messages = services.delivery_log(meeting)
    return render_template(
        "circulation/deliveries.html",
        meeting=meeting,
        messages=messages,
        retryable={DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN},
        documents=services.documents_in_words(
            sum(m.documents == DocumentsBy.LINK for m in messages),
            sum(m.documents == DocumentsBy.ATTACHMENT for m in messages),
        ),
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


# --- circulated minutes, for those they were circulated to ---------------------------------


@bp.route("/meetings/<int:meeting_id>/minutes/circulated")
@signed_in
def circulated_minutes(meeting_id: int):
    """Where the minutes email leads: the circulated versions, read-only, the latest shown."""
    meeting = circulated_minutes_or_404(meeting_id)
    circulated = [
        version
        for version in minutes_service.versions(meeting)
        if version.status == MinutesStatus.CIRCULATED
    ]
    shown = circulated[-1] if circulated else None
    return render_template(
        "circulation/minutes.html",
        meeting=meeting,
        circulated=circulated,
        shown=shown,
        blocks=minutes_service.blocks_of(shown) if shown else [],
        filename=minutes_service.minutes_filename,
    )


# --- secure email domains (administrators) -------------------------------------------------


def _render_domains(form: SecureDomainForm, status: int = 200):
    return (
        render_template(
            "circulation/secure_domains.html", form=form, domains=services.secure_domains()
        ),
        status,
    )


@bp.route("/secure-email-domains", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def secure_domains():
    form = SecureDomainForm()
    if form.validate_on_submit():
        try:
            added = services.add_secure_domain(form.domain.data, current_user, once=form.once.data)
        except AlreadySaved:
            flash("That domain was already added.")
            return redirect(url_for("circulation.secure_domains"))
        except services.SecureDomainError as error:
            db.session.rollback()
            attach_error(form, error, "domain")
            return _render_domains(form, 400)
        flash(f"{added.domain} added: its addresses will get agendas and minutes attached.")
        return redirect(url_for("circulation.secure_domains"))
    return _render_domains(form, 400 if form.errors else 200)


@bp.route("/secure-email-domains/remove", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_secure_domain():
    # The row's id, from the page's hidden field; anything else (hand-made) removes nothing.
    chosen = request.form.get("domain", "")
    found = chosen.isdigit() and len(chosen) <= 9
    domain = db.session.get(SecureEmailDomain, int(chosen)) if found else None
    if domain is not None:
        name = domain.domain
        services.remove_secure_domain(domain, current_user)
        flash(f"{name} removed: its addresses will get a link instead.")
    return redirect(url_for("circulation.secure_domains"))
