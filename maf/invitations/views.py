from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user

from maf.auth import mfa
from maf.auth.models import Role
from maf.auth.permissions import (
    deny,
    forum_or_404,
    public,
    roles_required,
    start_session,
)
from maf.auth.views import throttled
from maf.dbtypes import utcnow
from maf.directory.models import Agency, District
from maf.directory.services import agencies, choices, districts_for
from maf.extensions import db
from maf.forms import attach_error
from maf.forums.models import ForumMember
from maf.invitations import forms, services
from maf.invitations.models import AccountInvitation, AccountRequest
from maf.sso import policy as sso_policy
from maf.submissions import AlreadySaved

bp = Blueprint("invitations", __name__)

INVITERS = (Role.ADMIN, Role.COORDINATOR)


def _invite_form() -> forms.InviteForm:
    user = current_user
    form = forms.InviteForm()
    form.roles.choices = [(role.value, role.label) for role in services.roles_user_may_invite(user)]
    form.districts.choices = choices(districts_for(user))
    form.agency.choices = choices(agencies(), blank="No agency")
    if not form.is_submitted() and not user.has_role(Role.ADMIN):
        form.roles.data = [Role.PRACTITIONER.value]
    return form


@bp.route("/people/invite", methods=["GET", "POST"])
@roles_required(*INVITERS)
def new():
    """Invite a person: an admin anyone, a coordinator practitioners of their districts."""
    form = _invite_form()
    if form.validate_on_submit():
        try:
            invitation = services.invite(
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                districts=[db.session.get(District, i) for i in form.districts.data or ()],
                agency=db.session.get(Agency, form.agency.data) if form.agency.data else None,
                invited_by=current_user,
                once=form.once.data,
            )
        except AlreadySaved:
            return redirect(url_for("invitations.index"))
        except services.InvitationError as error:
            db.session.rollback()
            attach_error(form, error, "email")
        else:
            db.session.commit()
            flash(f"Invitation sent to {invitation.name} ({invitation.email}).")
            return redirect(url_for("invitations.index"))
    existing = services.account_for(form.email.data or "") if form.email.errors else None
    return render_template(
        "invitations/new.html", form=form, existing=existing
    ), 400 if form.errors else 200


@bp.route("/invitations")
@roles_required(*INVITERS)
def index():
    return render_template(
        "invitations/index.html",
        invitations=services.pending_invitations(current_user),
        requests=services.pending_requests(current_user),
        now=utcnow(),
    )


def _invitation_or_404(invitation_id: int) -> AccountInvitation:
    invitation = db.session.get(AccountInvitation, invitation_id)
    if invitation is None or not services.manages_invitation(current_user, invitation):
        deny(f"invitation {invitation_id} out of scope", status=404)
    return invitation


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@roles_required(*INVITERS)
def resend(invitation_id: int):
    invitation = _invitation_or_404(invitation_id)
    try:
        services.resend(invitation, current_user)
    except services.InvitationError as error:
        flash(str(error))
    else:
        flash(f"Invitation sent again to {invitation.email}. The earlier link no longer works.")
    return redirect(url_for("invitations.index"))


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@roles_required(*INVITERS)
def revoke(invitation_id: int):
    invitation = _invitation_or_404(invitation_id)
    services.revoke(invitation, current_user)
    flash(f"Invitation to {invitation.email} revoked: its link no longer works.")
    return redirect(url_for("invitations.index"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
@throttled
def accept(token: str):
    invitation, state = services.invitation_for_token(token)
    if invitation is None:
        return render_template("invitations/link_not_working.html", state=state.value), 404
    form = forms.AcceptForm()
    if form.validate_on_submit():
        try:
            user = services.accept(
                invitation,
                password=form.new_password.data,
                confirmation=form.confirm_password.data,
            )
        except services.InvitationError as error:
            db.session.rollback()
            if error.field is None:  # spent meanwhile (a second tab, a double click)
                return render_template(
                    "invitations/link_not_working.html", state="not_working"
                ), 404
            attach_error(form, error, "new_password")
        else:
            db.session.commit()
            start_session(user)
            if mfa.required(user):
                session["mfa_setup_required"] = True
                return redirect(url_for("auth.security"))
            flash("Your account is ready: you are signed in.")
            return redirect(url_for("dashboard.index"))
    return render_template(
        "invitations/accept.html",
        form=form,
        invitation=invitation,
        # Where the council signs its staff in with its own accounts, the invited person may
        # use theirs instead of choosing a password (maf/sso accepts the invitation then).
        sso_provider=sso_policy.provider_name() if sso_policy.configured() else None,
    )


@bp.route("/forums/<int:forum_id>/members/<int:member_id>/invite", methods=["POST"])
@roles_required(*INVITERS)
def invite_member(forum_id: int, member_id: int):
    forum = forum_or_404(forum_id, manage=True)
    member = db.session.get(ForumMember, member_id)
    if member is None or member.forum_id != forum.id or not member.active:
        abort(404)
    try:
        services.invite_member(member, current_user)
    except services.InvitationError as error:
        db.session.rollback()
        flash(f"{member.name} was not invited: {error}")
    else:
        flash(f"Invitation sent to {member.name} ({member.email}).")
    return redirect(url_for("forums.show", forum_id=forum.id, _anchor="members"))


# --- asking for an account -------------------------------------------------------------


@bp.route("/request-account", methods=["GET", "POST"])
@public
@throttled
def request_account():
    form = forms.RequestAccountForm()
    if form.validate_on_submit():
        services.request_account(form.name.data, form.email.data, form.organisation.data)
        return render_template("invitations/request_sent.html", email=form.email.data)
    return render_template("invitations/request_account.html", form=form)


def _request_or_404(request_id: int) -> AccountRequest:
    account_request = db.session.get(AccountRequest, request_id)
    if account_request is None or not services.manages_request(current_user, account_request):
        deny(f"account request {request_id} out of scope", status=404)
    return account_request


@bp.route("/invitations/requests/<int:request_id>/approve", methods=["POST"])
@roles_required(*INVITERS)
def approve_request(request_id: int):
    account_request = _request_or_404(request_id)
    try:
        services.approve(account_request, current_user)
    except services.InvitationError as error:
        db.session.rollback()
        flash(f"Not approved: {error}")
    else:
        flash(f"Approved: an invitation is on its way to {account_request.email}.")
    return redirect(url_for("invitations.index"))


@bp.route("/invitations/requests/<int:request_id>/refuse", methods=["GET", "POST"])
@roles_required(*INVITERS)
def refuse_request(request_id: int):
    account_request = _request_or_404(request_id)
    form = forms.RefuseForm()
    if form.validate_on_submit():
        try:
            services.refuse(account_request, current_user, form.reason.data)
        except services.InvitationError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(f"Request refused; {account_request.email} has been told why.")
            return redirect(url_for("invitations.index"))
    return render_template(
        "invitations/refuse.html", form=form, account_request=account_request
    ), 400 if form.errors else 200
