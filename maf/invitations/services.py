"""Invitations to an account and requests for one: who may invite whom, the one-use link,
and the answer every email asks before it says "sign in".

The link carries a random token (`secrets.token_urlsafe(32)`); only its SHA-256 is stored, so
a copy of the database opens no account. A link works once, for 7 days, and stops working when
it is resent (a new token) or revoked.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth import services as auth_services
from maf.auth.models import Role, User, new_session_token
from maf.circulation import outbox
from maf.dbtypes import utcnow
from maf.directory.models import Agency, District
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import Forum, ForumMember
from maf.invitations.models import (
    AccountInvitation,
    AccountRequest,
    Invitation,
    RequestStatus,
    invitation_district,
    request_district,
)

INVITATION_DAYS = 7
# What a coordinator may invite: practitioners of their own districts. Chairs and
# coordinators are appointed by an administrator: a chair reads every case of the forums they
# chair, a coordinator every case of their districts, so those roles are the authority's
# decision, not a colleague's.
COORDINATOR_MAY_INVITE = frozenset({Role.PRACTITIONER})

__all__ = ["Invitation", "accept", "can_sign_in", "invite", "pending_invitation_for"]


class InvitationError(DomainError):
    """A rule about invitations refused the action."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link(path: str) -> str:
    """Built from BASE_URL alone: invitations are also made outside a request (a command, a
    service called by another)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


# --- who has an account ------------------------------------------------------------------


def account_for(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == auth_services.normalise_email(email)))


def who_to_ask(forum: Forum) -> str:
    """Whom an email tells a person without an account to contact about the forum: its
    coordinator, or the mailbox its invitations come from."""
    coordinator = forum.coordinator
    if coordinator is not None:
        return f"{coordinator.name} ({coordinator.email})"
    return forum.organiser_email or f"the coordinator of the {forum.name}"


def can_sign_in(email: str) -> bool:
    """Whether an active account exists for this address: every email that would say "sign in
    to MAF" asks this first, and says something true to everyone else."""
    user = account_for(email)
    return user is not None and user.active


# --- who may invite whom -----------------------------------------------------------------


def _district_ids(user: User) -> set[int]:
    return {district.id for district in user.districts}


def may_invite(user: User, roles: Iterable[Role], districts: Iterable[District]) -> bool:
    roles, district_ids = set(roles), {district.id for district in districts}
    if user.has_role(Role.ADMIN):
        return True
    return (
        user.has_role(Role.COORDINATOR)
        and roles <= COORDINATOR_MAY_INVITE
        and bool(district_ids)
        and district_ids <= _district_ids(user)
    )


def roles_user_may_invite(user: User) -> list[Role]:
    return list(Role) if user.has_role(Role.ADMIN) else sorted(COORDINATOR_MAY_INVITE)


def manages_invitation(user: User, invitation: AccountInvitation) -> bool:
    """Admins, and the coordinators of a district the invitation is for."""
    if user.has_role(Role.ADMIN):
        return True
    ids = {district.id for district in invitation.districts}
    return user.has_role(Role.COORDINATOR) and bool(ids & _district_ids(user))


def manages_request(user: User, account_request: AccountRequest) -> bool:
    """Admins, and the coordinators of the districts the requester's agency serves (an agency
    serving the whole authority: admins only)."""
    if user.has_role(Role.ADMIN):
        return True
    ids = {district.id for district in account_request.districts}
    return user.has_role(Role.COORDINATOR) and bool(ids & _district_ids(user))


# --- inviting ------------------------------------------------------------------------------


def pending_invitation_for(email: str) -> AccountInvitation | None:
    return db.session.scalar(
        select(AccountInvitation).where(
            AccountInvitation.pending_email == auth_services.normalise_email(email)
        )
    )


def _send(invitation: AccountInvitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "link": _link(f"/invitations/{token}"),
        "days": INVITATION_DAYS,
    }
    outbox.enqueue(
        dedupe_key=f"invitation:{invitation.id}:{invitation.sent_count}",
        recipient_email=invitation.email,
        recipient_name=invitation.name,
        subject=f"You are invited to {current_app.config['SERVICE_NAME']}",
        text_body=render_template("invitations/email/invitation.txt", **context),
        html_body=render_template("invitations/email/invitation.html", **context),
        erase_once_sent=True,
    )


def _new_link(invitation: AccountInvitation) -> str:
    """A fresh token: the link sent before stops working, and the 7 days start again."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation.token_hash = hash_token(token)
    invitation.last_sent_at = now
    invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
    return token


def invite(
    *,
    email: str,
    name: str,
    roles: Iterable[Role],
    districts: Iterable[District],
    agency: Agency | None,
    invited_by: User | None,
    forum_member: ForumMember | None = None,
    once: str | None = None,
) -> AccountInvitation:
    """Invite a person to an account and queue the email in the current transaction (the
    caller commits). A second invitation to an address with one pending resends it, with the
    details given now, instead of making another."""
    email = auth_services.normalise_email(email)
    roles, districts = [Role(role) for role in roles], list(districts)
    if not roles:
        raise InvitationError("Select at least one role", field="roles")
    if invited_by is not None and not may_invite(invited_by, roles, districts):
        if not districts:
            raise InvitationError("Select the district they will work in", field="districts")
        raise InvitationError(
            "You can invite practitioners to your own district only", field="roles"
        )
    if account_for(email) is not None:
        raise InvitationError("This person already has an account", field="email")
    submission = submissions.claim(once, "invitation", invited_by)
    invitation = pending_invitation_for(email)
    if invitation is not None:
        if invited_by is not None and not manages_invitation(invited_by, invitation):
            raise InvitationError(
                "This person has already been invited to another district: ask an administrator",
                field="email",
            )
        invitation.sent_count += 1
        action = "invitation_resent"
    else:
        invitation = AccountInvitation(email=email, pending_email=email, sent_count=1)
        db.session.add(invitation)
        action = "invitation_sent"
    invitation.name = name.strip()
    invitation.roles = roles
    invitation.districts = districts
    invitation.agency = agency
    invitation.invited_by = invited_by
    if forum_member is not None:
        invitation.forum_member_id = forum_member.id
    token = _new_link(invitation)
    try:
        db.session.flush()
    except IntegrityError:  # another admin invited the same address at this very moment
        db.session.rollback()
        raise InvitationError(
            "This person has just been invited by someone else", field="email"
        ) from None
    submissions.created(submission, invitation)
    _send(invitation, token)
    audit.record(action, invitation, user=invited_by, detail="roles: " + invitation.role_names)
    return invitation


def resend(invitation: AccountInvitation, user: User) -> None:
    if not invitation.pending:
        raise InvitationError("This invitation has been accepted or revoked")
    invitation.sent_count += 1
    token = _new_link(invitation)
    _send(invitation, token)
    audit.record("invitation_resent", invitation, user=user)
    db.session.commit()


def revoke(invitation: AccountInvitation, user: User) -> None:
    if invitation.pending:
        invitation.revoked_at = utcnow()
        invitation.pending_email = None
        audit.record("invitation_revoked", invitation, user=user)
    db.session.commit()


def invite_member(member: ForumMember, user: User) -> AccountInvitation:
    """A forum member without an account: a practitioner of the forum's district, from the
    member's agency; the member row is linked to the account when it is made."""
    invitation = invite(
        email=member.email,
        name=member.name,
        roles=[Role.PRACTITIONER],
        districts=[member.forum.district],
        agency=member.agency,
        invited_by=user,
        forum_member=member,
    )
    db.session.commit()
    return invitation


def member_invitations(forum: Forum) -> dict[int, AccountInvitation | None]:
    """For each active member with no account: their pending invitation, or None (not yet
    invited). Members with an account are left out."""
    members = [member for member in forum.members if member.active and member.user_id is None]
    emails = {member.email for member in members}
    if not emails:
        return {}
    has_account = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    pending = {
        invitation.pending_email: invitation
        for invitation in db.session.scalars(
            select(AccountInvitation).where(AccountInvitation.pending_email.in_(emails))
        )
    }
    return {
        member.id: pending.get(member.email)
        for member in members
        if member.email not in has_account
    }


def pending_invitations(user: User) -> list[AccountInvitation]:
    statement = (
        select(AccountInvitation)
        .where(AccountInvitation.pending_email.is_not(None))
        .options(selectinload(AccountInvitation.invited_by))
        .order_by(AccountInvitation.last_sent_at.desc())
    )
    if not user.has_role(Role.ADMIN):
        statement = statement.where(
            AccountInvitation.id.in_(
                select(invitation_district.c.invitation_id).where(
                    invitation_district.c.district_id.in_(_district_ids(user))
                )
            )
        )
    return list(db.session.scalars(statement))


# --- accepting ---------------------------------------------------------------------------


class LinkState(Enum):
    USABLE = "usable"
    EXPIRED = "expired"
    REVOKED = "revoked"
    # Unknown and already used look the same, so a link reveals nothing of anyone's account.
    NOT_WORKING = "not_working"


def invitation_for_token(token: str) -> tuple[AccountInvitation | None, LinkState]:
    if not token or len(token) > 200:
        return None, LinkState.NOT_WORKING
    invitation = db.session.scalar(
        select(AccountInvitation).where(AccountInvitation.token_hash == hash_token(token))
    )
    if invitation is None or invitation.accepted_at is not None:
        return None, LinkState.NOT_WORKING
    if invitation.revoked_at is not None:
        return None, LinkState.REVOKED
    if invitation.expired(utcnow()):
        return None, LinkState.EXPIRED
    return invitation, LinkState.USABLE


def check_new_password(password: str, confirmation: str) -> None:
    problem = auth_services.password_problem(password)
    if problem:
        raise InvitationError(problem, field="new_password")
    if password != confirmation:
        raise InvitationError("The passwords do not match", field="confirm_password")


def accept(
    invitation: AccountInvitation, *, password: str | None = None, confirmation: str | None = None
) -> User:
    """Make the invited account and spend the invitation; the caller commits.

    With no password (accepted through single sign-on) the account gets a random one no one
    knows, so only single sign-on or a password reset opens it. The invitation is spent by one
    conditional UPDATE, so a link clicked twice at the same moment makes one account."""
    if password is not None:
        check_new_password(password, password if confirmation is None else confirmation)
    now = utcnow()
    if account_for(invitation.email) is not None:
        raise InvitationError("An account already exists for this address: sign in instead")
    spent = db.session.execute(
        update(AccountInvitation)
        .where(
            AccountInvitation.id == invitation.id,
            AccountInvitation.accepted_at.is_(None),
            AccountInvitation.revoked_at.is_(None),
            AccountInvitation.expires_at > now,
        )
        .values(accepted_at=now, pending_email=None)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise InvitationError("This invitation link no longer works")
    user = User(
        email=invitation.email,
        name=invitation.name,
        password_hash=auth_services.hash_password(password or new_session_token()),
        agency=invitation.agency,
        last_signed_in_at=now,
    )
    user.roles = invitation.roles
    user.districts = list(invitation.districts)
    db.session.add(user)
    db.session.flush()
    db.session.refresh(invitation)
    invitation.user = user
    # Every forum that lists this address as a member now knows the member's account.
    db.session.execute(
        update(ForumMember)
        .where(ForumMember.email == invitation.email, ForumMember.user_id.is_(None))
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    audit.record("invitation_accepted", invitation, user=user)
    audit.record("user_saved", user, user=user, detail="roles: " + invitation.role_names)
    return user


# --- asking for an account -----------------------------------------------------------------


def _deciders_of(districts: list[District]) -> list[User]:
    """Who decides a request: the coordinators of these districts; the administrators for an
    agency serving the whole authority or a district with no coordinator yet, so that no
    request waits unseen."""
    people = list(db.session.scalars(select(User).where(User.active).order_by(User.name)))
    ids = {district.id for district in districts}
    coordinators = [
        person
        for person in people
        if person.has_role(Role.COORDINATOR) and ids & _district_ids(person)
    ]
    return coordinators or [person for person in people if person.has_role(Role.ADMIN)]


def request_account(name: str, email: str, organisation: str) -> None:
    """Record a practitioner's request and tell the people who decide it. Says nothing of
    the outcome: the caller answers the same whatever happened here, so the page tells no one
    which addresses have accounts or which domains are known."""
    from maf.directory.services import agency_for_email  # the directory builds on accounts

    email = auth_services.normalise_email(email)
    agency = agency_for_email(email)
    if agency is None:
        audit.record("account_request_ignored", detail="no known agency for the domain")
        db.session.commit()
        return
    pending = db.session.scalar(select(AccountRequest).where(AccountRequest.pending_email == email))
    if account_for(email) is not None or pending_invitation_for(email) or pending:
        audit.record("account_request_ignored", detail="account, invitation or request exists")
        db.session.commit()
        return
    account_request = AccountRequest(
        email=email,
        pending_email=email,
        name=name.strip(),
        organisation=organisation.strip(),
        agency=agency,
        districts=list(agency.districts),
    )
    db.session.add(account_request)
    try:
        db.session.flush()
    except IntegrityError:  # the same request sent twice at once: the first stands
        db.session.rollback()
        return
    link = _link("/invitations")
    for person in _deciders_of(account_request.districts):
        context = {"person": person, "request": account_request, "link": link}
        outbox.enqueue(
            dedupe_key=f"account-request:{account_request.id}:{person.id}",
            recipient_email=person.email,
            recipient_name=person.name,
            subject="A practitioner asks for an account",
            text_body=render_template("invitations/email/request_received.txt", **context),
            html_body=render_template("invitations/email/request_received.html", **context),
        )
    audit.record("account_requested", account_request)
    db.session.commit()


def pending_requests(user: User) -> list[AccountRequest]:
    statement = (
        select(AccountRequest)
        .where(AccountRequest.status == RequestStatus.PENDING)
        .options(selectinload(AccountRequest.agency))
        .order_by(AccountRequest.created_at)
    )
    if not user.has_role(Role.ADMIN):
        statement = statement.where(
            AccountRequest.id.in_(
                select(request_district.c.request_id).where(
                    request_district.c.district_id.in_(_district_ids(user))
                )
            )
        )
    return list(db.session.scalars(statement))


def _decide(account_request: AccountRequest, user: User, status: RequestStatus) -> None:
    if account_request.status != RequestStatus.PENDING:
        raise InvitationError("This request has already been decided")
    account_request.status = status
    account_request.decided_by = user
    account_request.decided_at = utcnow()
    account_request.pending_email = None


def approve(account_request: AccountRequest, user: User) -> AccountInvitation:
    """Invite the practitioner to the districts the approver covers of their agency's."""
    _decide(account_request, user, RequestStatus.APPROVED)
    districts = account_request.districts
    if not user.has_role(Role.ADMIN):
        districts = [d for d in districts if d.id in _district_ids(user)]
    invitation = invite(
        email=account_request.email,
        name=account_request.name,
        roles=[Role.PRACTITIONER],
        districts=districts,
        agency=account_request.agency,
        invited_by=user,
    )
    account_request.invitation = invitation
    audit.record("account_request_approved", account_request, user=user)
    db.session.commit()
    return invitation


def refuse(account_request: AccountRequest, user: User, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise InvitationError("Enter the reason, to tell the person", field="reason")
    _decide(account_request, user, RequestStatus.REFUSED)
    account_request.refusal_reason = reason
    context = {"request": account_request, "decided_by": user}
    outbox.enqueue(
        dedupe_key=f"account-request-refused:{account_request.id}",
        recipient_email=account_request.email,
        recipient_name=account_request.name,
        subject=f"Your request for a {current_app.config['SERVICE_NAME']} account",
        text_body=render_template("invitations/email/request_refused.txt", **context),
        html_body=render_template("invitations/email/request_refused.html", **context),
    )
    audit.record("account_request_refused", account_request, user=user)
    db.session.commit()


# --- a password reset for someone with no account --------------------------------------------


@dataclass(frozen=True)
class NoAccount:
    """A forum member who asked for a password they do not have: who can invite them."""

    name: str
    contacts: list[str]


def no_account_notice(email: str) -> NoAccount | None:
    """For an address that is an active forum member's but has no account: their name and the
    coordinators who can invite them; None for any other address (nothing is sent to it)."""
    email = auth_services.normalise_email(email)
    members = list(
        db.session.scalars(
            select(ForumMember)
            .where(ForumMember.email == email, ForumMember.active)
            .options(selectinload(ForumMember.forum).selectinload(Forum.coordinator))
        )
    )
    if not members or account_for(email) is not None:
        return None
    contacts = list(dict.fromkeys(who_to_ask(member.forum) for member in members))
    return NoAccount(members[0].name, contacts)
