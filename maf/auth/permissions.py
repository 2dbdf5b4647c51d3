"""Who may use which view, and which districts' objects a user may see.

Every view declares its rule with one of the decorators below; `enforce_access` runs before
every request and refuses any view that declares nothing, so a forgotten decorator fails
closed. District scoping lives here too, and every view that loads a district-owned object
goes through it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from maf.audit import services as audit
from maf.auth import services
from maf.auth.models import Role, User
from maf.cases.models import Case, Child
from maf.dbtypes import utcnow
from maf.directory.models import District
from maf.extensions import db
from maf.forums.models import Forum, ForumMember, Meeting

ACCESS_ATTRIBUTE = "maf_access"
MFA_SETUP_ENDPOINTS = frozenset({"auth.security", "auth.sign_out", "static"})


@dataclass(frozen=True)
class Access:
    public: bool = False
    # Empty: any signed-in user. Otherwise the user needs at least one of these roles.
    roles: frozenset[Role] = frozenset()

    def describe(self) -> str:
        if self.public:
            return "public"
        return "signed in" + (f" as {', '.join(sorted(self.roles))}" if self.roles else "")


def _declare(access: Access):
    def decorator(view):
        setattr(view, ACCESS_ATTRIBUTE, access)
        return view

    return decorator


public = _declare(Access(public=True))
signed_in = _declare(Access())


def roles_required(*roles: Role):
    return _declare(Access(roles=frozenset(roles)))


def access_of(view) -> Access | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)


def deny(reason: str, status: int = 403):
    """Refuse the request and keep a record of the attempt."""
    audit.record("permission_denied", detail=f"{request.method} {request.path} ({reason})")
    db.session.commit()
    abort(status)


def _session_clock() -> float:
    # The app's one clock (DESIGN §4 "Time is one place"), so a session idles out when the
    # service's time moves on, as the journey suite moves it, not only the machine's.
    return utcnow().timestamp()


def _expire_stale_session():
    now = _session_clock()
    if services.session_expired(session.get("signed_in_at"), session.get("seen_at"), now):
        logout_user()
        session.clear()
        flash("You were signed out because you had not used the service for a while.")
        # After signing in again, back to the page they asked for, as for anyone signed out.
        next_path = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=next_path))
    session["seen_at"] = now
    return None


def enforce_access():
    """before_request hook: the single gate in front of every view."""
    if request.endpoint is None:
        return None  # no such route: Flask answers 404
    access = access_of(current_app.view_functions[request.endpoint])
    if access is None:
        current_app.logger.error("view %s declares no access rule; refused", request.endpoint)
        abort(403)
    if access.public:
        # A timed-out session ends here too, so the sign-in page offers its form instead of
        # sending the person to a dashboard that would only send them back. Read from the
        # session cookie alone: public routes (static files among them) never touch the database.
        if "_user_id" in session and services.session_expired(
            session.get("signed_in_at"), session.get("seen_at"), _session_clock()
        ):
            session.clear()
        return None
    if not current_user.is_authenticated:
        next_path = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=next_path))
    expired = _expire_stale_session()
    if expired is not None:
        return expired
    # A role that must use a second factor can do nothing else until it is set up.
    if session.get("mfa_setup_required") and request.endpoint not in MFA_SETUP_ENDPOINTS:
        return redirect(url_for("auth.security"))
    if access.roles and not current_user.has_role(*access.roles):
        deny(f"needs role {', '.join(sorted(access.roles))}")
    return None


def start_session(user) -> None:
    """A fresh session at sign-in, so an id planted before sign-in is worth nothing."""
    session.clear()
    login_user(user)
    session["signed_in_at"] = session["seen_at"] = _session_clock()


def safe_next_url(target: str | None) -> str:
    """Only follow `next` to a path on this site, never to another host, and never one holding
    a control character: CR/LF would split the Location header (Werkzeug refuses it, with a 500
    after the sign-in or the change was committed), and browsers drop tabs and newlines from
    URLs, so "/<tab>/evil.example" would lead to "//evil.example"."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(character) < 32 or ord(character) == 127 for character in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.index")


# --- district scoping -------------------------------------------------------------------


def sees_every_district(user: User) -> bool:
    return user.has_role(Role.ADMIN)


def visible_district_ids(user: User) -> set[int] | None:
    """The districts whose objects this user may see; None means all of them."""
    if sees_every_district(user):
        return None
    return {district.id for district in user.districts}


def restrict_to_visible_districts(statement: Select, district_column, user: User) -> Select:
    ids = visible_district_ids(user)
    return statement if ids is None else statement.where(district_column.in_(ids))


def district_or_404(district_id: int) -> District:
    """Load a district the current user may see; any other answers 404, as if absent."""
    district = db.session.get(District, district_id)
    ids = visible_district_ids(current_user)
    if district is None or (ids is not None and district.id not in ids):
        deny(f"district {district_id} out of scope", status=404)
    return district


# --- cases --------------------------------------------------------------------------------


def manages_case(user: User, case: Case) -> bool:
    """The coordinators of the case's district run its intake and checks."""
    return user.has_role(Role.COORDINATOR) and case.district_id in {d.id for d in user.districts}


def can_see_case(user: User, case: Case) -> bool:
    """Case detail is for the district's coordinators, the chair of its forum, the practitioner
    who referred it and its current lead professional.

    Admins see no case detail they have no part in.
    """
    from maf.outcomes.models import LeadProfessional  # outcomes build on this module

    if manages_case(user, case) or case.referrer_user_id == user.id:
        return True
    chairs = select(Forum.id).where(
        Forum.district_id == case.district_id, Forum.chair_id == user.id
    )
    if db.session.scalar(chairs.limit(1)) is not None:
        return True
    leads = select(LeadProfessional.id).where(
        LeadProfessional.case_id == case.id,
        LeadProfessional.ends_on.is_(None),
        (LeadProfessional.user_id == user.id) | (LeadProfessional.email == user.email),
    )
    return db.session.scalar(leads.limit(1)) is not None


def case_visibility(user: User) -> ColumnElement[bool]:
    """`can_see_case` as a SQL condition on `Case`, for lists, searches and exports.

    The same four reasons, asked of every row at once: a coordinator of the case's district,
    the chair of a forum of its district, the practitioner who referred it, or its current
    lead professional (by account or by email). tests/auth/test_visible_cases.py proves the
    two agree.
    """
    from maf.outcomes.models import LeadProfessional  # outcomes build on this module

    reasons = [Case.referrer_user_id == user.id]
    if user.has_role(Role.COORDINATOR):
        district_ids = sorted(district.id for district in user.districts)
        if district_ids:
            reasons.append(Case.district_id.in_(district_ids))
    reasons.append(Case.district_id.in_(select(Forum.district_id).where(Forum.chair_id == user.id)))
    reasons.append(
        Case.id.in_(
            select(LeadProfessional.case_id).where(
                LeadProfessional.ends_on.is_(None),
                (LeadProfessional.user_id == user.id) | (LeadProfessional.email == user.email),
            )
        )
    )
    return or_(*reasons)


def visible_case_condition(user: User) -> ColumnElement[bool]:
    """`visible_cases` as a condition on `Case` rows, for a query that selects cases itself:
    the districts and the particular cases the user may see are looked up first (two short
    statements), so the condition is two lists a database finds through its indexes, rather
    than subqueries it may test against every case (bench/search.py: a district's list among
    a million cases)."""
    from maf.outcomes.models import LeadProfessional  # outcomes build on this module

    districts = set(db.session.scalars(select(Forum.district_id).where(Forum.chair_id == user.id)))
    if user.has_role(Role.COORDINATOR):
        districts |= {district.id for district in user.districts}
    particular = set(
        db.session.scalars(
            select(Case.id)
            .where(Case.referrer_user_id == user.id)
            .union(
                select(LeadProfessional.case_id).where(
                    LeadProfessional.ends_on.is_(None),
                    (LeadProfessional.user_id == user.id) | (LeadProfessional.email == user.email),
                )
            )
        )
    )
    # Each part carries its own "not archived", so each can be found through one index
    # (district and archived together, or the case number): given "archived_at IS NULL" once,
    # SQLite walked every case not archived (maf/search/models.py).
    parts = [
        and_(column.in_(sorted(ids)), Case.archived_at.is_(None))
        for column, ids in ((Case.district_id, districts), (Case.id, particular))
        if ids
    ]
    return or_(*parts) if parts else false()


def visible_cases(user: User) -> Select:
    """The ids of the cases whose detail `user` may see, archived ones aside (seed 002 D3:
    those are read only through the archive). Every list, search and export asks this."""
    return select(Case.id).where(Case.archived_at.is_(None), case_visibility(user))


def case_or_404(case_id: int, *, manage: bool = False) -> Case:
    """Load a case the current user may see (or manage); any other answers 404.

    Every page that shows a case loads it here, so every read is audited here; changes are
    audited by the services that make them.
    """
    case = db.session.get(Case, case_id)
    check = manages_case if manage else can_see_case
    if case is None or not check(current_user, case):
        deny(f"case {case_id} out of scope", status=404)
    # Seed 002 D3: a year after closure a case is archived; it is read only through the
    # archive search, which loads and audits it itself.
    if case.archived_at is not None:
        deny(f"case {case_id} archived", status=404)
    if request.method == "GET":
        audit.record_read(case)
    return case


def child_or_404(child_id: int, check: Callable[[User, Child], bool]) -> Child:
    """Load a child whom `check` lets the current user see or act for; any other answers 404,
    as if absent (a child's pages and exports are reached through the child, not a case)."""
    child = db.session.get(Child, child_id)
    if child is None or not check(current_user, child):
        deny(f"child {child_id} out of scope", status=404)
    return child


# --- forums, meetings and agendas ---------------------------------------------------------


def manages_forum(user: User, forum: Forum) -> bool:
    """Set-up and schedule: admins, and the coordinators of the forum's district."""
    return user.has_role(Role.ADMIN) or (
        user.has_role(Role.COORDINATOR) and forum.district_id in {d.id for d in user.districts}
    )


def _belongs_to(user: User, forum: Forum) -> bool:
    return forum.chair_id == user.id or (
        db.session.scalar(
            select(ForumMember.id).where(
                ForumMember.forum_id == forum.id,
                ForumMember.user_id == user.id,
                ForumMember.active,
            )
        )
        is not None
    )


def can_see_forum(user: User, forum: Forum) -> bool:
    return manages_forum(user, forum) or _belongs_to(user, forum)


def manages_agenda(user: User, forum: Forum) -> bool:
    """Agendas name children, so only the district's coordinators build them (not admins)."""
    return user.has_role(Role.COORDINATOR) and forum.district_id in {d.id for d in user.districts}


def can_see_agenda(user: User, forum: Forum) -> bool:
    """Seed 004: the agenda goes to the forum's members so each agency can check its records."""
    return manages_agenda(user, forum) or _belongs_to(user, forum)


def forum_or_404(forum_id: int, *, manage: bool = False) -> Forum:
    forum = db.session.get(Forum, forum_id)
    check = manages_forum if manage else can_see_forum
    if forum is None or not check(current_user, forum):
        deny(f"forum {forum_id} out of scope", status=404)
    return forum


def meeting_or_404(meeting_id: int, *, manage: bool = False) -> Meeting:
    """A meeting's schedule (date, time, venue), for those who run or belong to its forum."""
    meeting = db.session.get(Meeting, meeting_id)
    check = manages_forum if manage else can_see_forum
    if meeting is None or not check(current_user, meeting.forum):
        deny(f"meeting {meeting_id} out of scope", status=404)
    return meeting


def agenda_or_404(meeting_id: int, *, manage: bool = False) -> Meeting:
    """A meeting whose agenda (children's names) the user may see or build; reads audited."""
    meeting = db.session.get(Meeting, meeting_id)
    check = manages_agenda if manage else can_see_agenda
    if meeting is None or not check(current_user, meeting.forum):
        deny(f"agenda {meeting_id} out of scope", status=404)
    if request.method == "GET":
        audit.record_read(meeting)
    return meeting


def records_meeting(user: User, forum: Forum) -> bool:
    """The meeting record is kept by the forum's chair or the district's coordinators."""
    return forum.chair_id == user.id or manages_agenda(user, forum)


def reads_circulated_minutes(user: User, meeting: Meeting) -> bool:
    """The circulated minutes are read by those they were circulated to (the forum's members
    who attended or sent apologies, and its chair) as well as by the record keepers."""
    from maf.outcomes.minutes import minutes_recipients

    if records_meeting(user, meeting.forum):
        return True
    email = user.email.lower()
    return any(
        person.user_id == user.id or person.email.lower() == email
        for person in minutes_recipients(meeting)
    )


def circulated_minutes_or_404(meeting_id: int) -> Meeting:
    """A meeting whose circulated minutes (children's names) the user may read; reads audited."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not reads_circulated_minutes(current_user, meeting):
        deny(f"circulated minutes {meeting_id} out of scope", status=404)
    if request.method == "GET":
        audit.record_read(meeting)
    return meeting


def meeting_record_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not records_meeting(current_user, meeting.forum):
        deny(f"meeting record {meeting_id} out of scope", status=404)
    if request.method == "GET":
        audit.record_read(meeting)
    return meeting
