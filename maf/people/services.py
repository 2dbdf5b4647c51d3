"""Administering people: finding them, what they may do, and switching their account on or off.

Every change here is an administrator's, is audited, and keeps the one rule that holds the
service up: at least one active administrator remains. That rule is decided under a lock on
the administrators' rows, so two admins acting at the same moment are served one after the
other and the second sees what the first did.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil

from flask import current_app, render_template, url_for
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth import mfa
from maf.auth.models import RecoveryCode, Role, User, UserRole, new_session_token, user_district
from maf.circulation import outbox
from maf.dbtypes import utcnow
from maf.directory.models import Agency, District
from maf.errors import DomainError
from maf.extensions import db
from maf.versioning import UNCHECKED, require_version

PAGE_SIZE = 50
# Roles are listed, offered and recorded in this order.
ROLE_ORDER = (Role.ADMIN, Role.COORDINATOR, Role.CHAIR, Role.PRACTITIONER)


class PeopleError(DomainError):
    """An administrator's change that would break a rule; `field` says which."""


# --- finding people -----------------------------------------------------------------------

STATUSES = {"active": "Active", "deactivated": "Deactivated"}
MFA_STATES = {"on": "Two-step sign-in on", "off": "Two-step sign-in off"}
SIGN_IN_PERIODS = {
    "30": "In the last 30 days",
    "not-90": "Not in the last 90 days (or never)",
    "never": "Never",
}


@dataclass(frozen=True)
class PeopleFilter:
    """What the People page's search form asks for; anything unreadable is ignored."""

    text: str = ""
    roles: tuple[Role, ...] = ()
    district_id: int | None = None
    agency_id: int | None = None
    status: str = ""
    mfa: str = ""
    signed_in: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "PeopleFilter":
        def number(name) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None

        def choice(name, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        roles = tuple(role for role in ROLE_ORDER if role.value in args.getlist("role"))
        return cls(
            text=" ".join((args.get("q") or "").split())[:200],
            roles=roles,
            district_id=number("district"),
            agency_id=number("agency"),
            status=choice("status", STATUSES),
            mfa=choice("mfa", MFA_STATES),
            signed_in=choice("signed_in", SIGN_IN_PERIODS),
            page=max(1, min(number("page") or 1, 100_000)),
        )

    def args(self, **changes) -> dict[str, object]:
        """The query string for this filter (with `changes`), for the pagination links."""
        values = {
            "q": self.text,
            "role": [role.value for role in self.roles],
            "district": self.district_id or "",
            "agency": self.agency_id or "",
            "status": self.status,
            "mfa": self.mfa,
            "signed_in": self.signed_in,
            "page": self.page,
        } | changes
        return {name: value for name, value in values.items() if value not in ("", [], None)}


@dataclass(frozen=True)
class PeoplePage:
    people: list[User]
    total: int
    page: int
    pages: int

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return min(self.page * PAGE_SIZE, self.total)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(criteria: PeopleFilter, now: datetime):
    statement = select(User)
    if criteria.text:
        pattern = _like(criteria.text)
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if criteria.roles:
        statement = statement.where(
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(criteria.roles)))
        )
    if criteria.district_id is not None:
        statement = statement.where(
            User.id.in_(
                select(user_district.c.user_id).where(
                    user_district.c.district_id == criteria.district_id
                )
            )
        )
    if criteria.agency_id is not None:
        statement = statement.where(User.agency_id == criteria.agency_id)
    if criteria.status:
        statement = statement.where(User.active.is_(criteria.status == "active"))
    if criteria.mfa == "on":
        statement = statement.where(User.mfa_enabled_at.is_not(None))
    elif criteria.mfa == "off":
        statement = statement.where(User.mfa_enabled_at.is_(None))
    if criteria.signed_in == "30":
        statement = statement.where(User.last_signed_in_at >= now - timedelta(days=30))
    elif criteria.signed_in == "not-90":
        statement = statement.where(
            or_(
                User.last_signed_in_at.is_(None),
                User.last_signed_in_at < now - timedelta(days=90),
            )
        )
    elif criteria.signed_in == "never":
        statement = statement.where(User.last_signed_in_at.is_(None))
    return statement


def find_people(criteria: PeopleFilter) -> PeoplePage:
    """One page of the people matching every criterion, by name, with what the list shows
    loaded in a fixed number of queries."""
    statement = _filtered(criteria, utcnow())
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(criteria.page, pages)
    people = db.session.scalars(
        statement.options(
            selectinload(User.role_rows), selectinload(User.districts), selectinload(User.agency)
        )
        .order_by(func.lower(User.name), User.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return PeoplePage(list(people), total, page, pages)


def role_names(roles) -> list[str]:
    return [role.label for role in ROLE_ORDER if role in roles]


def is_locked(person: User) -> bool:
    return person.locked_until is not None and person.locked_until > utcnow()


# --- the last administrator ----------------------------------------------------------------


def _lock_administrators() -> None:
    """Row-lock every administrator (PostgreSQL, in id order so two lockers never deadlock;
    a form post on SQLite already holds the database's write lock), so a decision about the
    last active admin is taken by one admin at a time."""
    db.session.execute(
        select(User.id)
        .where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.ADMIN)))
        .order_by(User.id)
        .with_for_update()
    ).all()


def _other_active_admins(person: User) -> int:
    """Counted after the lock, in a fresh statement, so it sees any admin's committed change."""
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.active,
            User.id != person.id,
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.ADMIN)),
        )
    )


def _require_another_admin(person: User, message: str, field: str) -> None:
    _lock_administrators()
    db.session.refresh(person)
    if person.active and person.has_role(Role.ADMIN) and _other_active_admins(person) == 0:
        raise PeopleError(message, field=field)


# --- roles, districts and agency -----------------------------------------------------------


@dataclass
class AccessDetails:
    roles: set[Role] = field(default_factory=set)
    districts: list[District] = field(default_factory=list)
    agency: Agency | None = None


def access_of(person: User) -> AccessDetails:
    return AccessDetails(set(person.roles), list(person.districts), person.agency)


def access_in_words(details: AccessDetails) -> dict[str, str]:
    """The access form's fields as a person reads them, to list what someone else changed."""
    return {
        "Roles": ", ".join(role_names(details.roles)) or "None",
        "Districts": ", ".join(sorted(d.name for d in details.districts)) or "None",
        "Agency": details.agency.name if details.agency else "None",
    }


class _AccessRecord:
    """What maf.versioning reads of a versioned record, taken from the person's access
    columns (see User.access_version)."""

    def __init__(self, person: User):
        self.version = person.access_version
        self.updated_by_id = person.access_changed_by_id
        self.updated_at = person.access_changed_at


OWN_ROLES = "You cannot change your own roles: ask another administrator to do it"
LAST_ADMIN_ROLE = (
    "{name} is the only active administrator: give someone else the administrator role "
    "before taking it from them"
)


def change_access(
    person: User, details: AccessDetails, by: User, version: int | None = UNCHECKED
) -> list[str]:
    """Set the person's roles, districts and agency; returns which of them changed.

    Refused (StaleEdit) when `version`, the one the form was opened at, is no longer the
    person's; refused (PeopleError) when an admin changes their own roles or the last active
    admin would lose the role."""
    before = access_in_words(access_of(person))
    read_version = person.access_version
    require_version(_AccessRecord(person), version, yours=access_in_words(details), theirs=before)
    if person.id == by.id and set(details.roles) != set(person.roles):
        raise PeopleError(OWN_ROLES, field="roles")
    if not details.roles:
        raise PeopleError("Select at least one role", field="roles")
    if Role.ADMIN not in details.roles:
        _require_another_admin(person, LAST_ADMIN_ROLE.format(name=person.name), "roles")
    after = access_in_words(details)
    changed = [label for label in after if after[label] != before[label]]
    if not changed:
        return []
    # The version moves in SQL, naming the one read: of two saves in flight at once, the
    # second matches no row and is refused like any stale save.
    moved = db.session.execute(
        update(User)
        .where(User.id == person.id, User.access_version == read_version)
        .values(
            access_version=User.access_version + 1,
            access_changed_by_id=by.id,
            access_changed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        db.session.refresh(person)
        require_version(
            _AccessRecord(person), None, yours=after, theirs=access_in_words(access_of(person))
        )
    needed_two_step = mfa.required(person)
    person.roles = details.roles
    person.districts = sorted(details.districts, key=lambda district: district.name)
    person.agency = details.agency
    detail = "; ".join(f"{label}: {before[label]} -> {after[label]}" for label in changed)
    if mfa.required(person) and not needed_two_step and not mfa.enabled(person):
        # A role that must use a second factor is not used without one: their sessions end,
        # and signing in again asks them to set it up first.
        person.session_token = new_session_token()
        detail += "; signed out to set up two-step sign-in"
    audit.record("person_access_changed", person, user=by, detail=detail)
    db.session.commit()
    db.session.refresh(person)
    return changed


# --- deactivating, reactivating and unlocking ----------------------------------------------

LAST_ADMIN_DEACTIVATED = (
    "{name} is the only active administrator: make someone else an administrator before "
    "deactivating them"
)


def deactivate(person: User, by: User) -> None:
    """Switch the account off and end every session it has, at once."""
    if person.id == by.id:
        raise PeopleError(
            "You cannot deactivate your own account: ask another administrator", field="person"
        )
    _require_another_admin(person, LAST_ADMIN_DEACTIVATED.format(name=person.name), "person")
    if not person.active:
        return
    person.active = False
    person.session_token = new_session_token()
    audit.record("person_deactivated", person, user=by)
    db.session.commit()


def reactivate(person: User, by: User) -> None:
    if person.active:
        return
    person.active = True
    # The lockout counted while they were away (wrong passwords to a switched-off account).
    person.failed_login_count = 0
    person.locked_until = None
    audit.record("person_reactivated", person, user=by)
    db.session.commit()


def unlock(person: User, by: User) -> None:
    """Lift a lockout after too many wrong passwords, so they can try again now."""
    if not is_locked(person) and not person.failed_login_count:
        return
    person.failed_login_count = 0
    person.locked_until = None
    audit.record("person_unlocked", person, user=by)
    db.session.commit()


# --- two-step sign-in ----------------------------------------------------------------------


def reset_two_step(person: User, reason: str, by: User, once: str | None = None) -> None:
    """Forget the person's authenticator and recovery codes (a lost phone), end their
    sessions, and tell them by email: they set it up again when they next sign in.

    `once` is the form's token: the same form sent twice resets and mails once (AlreadySaved)."""
    reason = reason.strip()
    if not reason:
        raise PeopleError("Enter why you are resetting their two-step sign-in", field="reason")
    if person.id == by.id:
        raise PeopleError(
            "You cannot reset your own two-step sign-in here: use your account's security page "
            "or ask another administrator",
            field="reason",
        )
    submission = submissions.claim(once, "two_step_reset", by)
    person.totp_secret = None
    person.totp_last_step = None
    person.mfa_enabled_at = None
    person.session_token = new_session_token()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == person.id))
    submissions.created(submission, person)
    event = audit.record("person_two_step_reset", person, user=by, detail=f"reason: {reason}")
    db.session.flush()
    if person.active:
        context = {
            "person": person,
            "required": mfa.required(person),
            "sign_in_link": current_app.config["BASE_URL"].rstrip("/") + url_for("auth.sign_in"),
        }
        outbox.enqueue(
            dedupe_key=f"two-step-reset:{person.id}:{event.id}",
            recipient_email=person.email,
            recipient_name=person.name,
            subject="Your two-step sign-in has been reset",
            text_body=render_template("people/email/mfa_reset.txt", **context),
            html_body=render_template("people/email/mfa_reset.html", **context),
        )
    db.session.commit()


def all_districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.name)))


def all_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.name)))


def pending_invitation(person: User):
    """Their invitation still waiting to be accepted, where invitations exist (issue 15)."""
    try:
        from maf.invitations.services import pending_invitation_for
    except ImportError:
        return None
    return pending_invitation_for(person.email)
