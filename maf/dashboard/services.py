from dataclasses import dataclass, replace
from datetime import date

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from maf.auth.models import Role, User
from maf.cases.models import Case
from maf.cases.services import coordinator_queue
from maf.extensions import db
from maf.forums.models import Forum, ForumMember, Meeting, MeetingStatus


@dataclass(frozen=True)
class Row:
    text: str
    href: str
    note: str = ""


@dataclass(frozen=True)
class Panel:
    """One section of a dashboard; `empty_text` says what will appear there."""

    key: str
    title: str
    empty_text: str
    rows: tuple[Row, ...] = ()


_PANELS = {
    Role.COORDINATOR: (
        Panel(
            "awaiting_checks",
            "CAFs waiting for checks",
            "When a practitioner sends you a completed CAF it will appear here, so you can check "
            "for an existing CAF and for tier 3/4 involvement before giving it a forum slot.",
        ),
        Panel(
            "next_meetings",
            "Next forum meetings",
            "Your districts' forum meetings will appear here with their agendas, so you can see "
            "which still need cases and which are ready to circulate.",
        ),
    ),
    Role.CHAIR: (
        Panel(
            "chaired_meetings",
            "Meetings you chair",
            "Meetings of the forums you chair will appear here with their agendas, and minutes "
            "waiting for your approval.",
        ),
    ),
    Role.PRACTITIONER: (
        Panel(
            "my_cases",
            "Your cases",
            "CAFs you referred and cases where you are the lead professional will appear here, "
            "with their next review dates.",
        ),
        Panel(
            "my_actions",
            "Your actions",
            "Actions agreed for you at forum meetings will appear here with their due dates.",
        ),
        Panel(
            "agendas",
            "Agendas and minutes",
            "Agendas and minutes of the forums you belong to will appear here once they are "
            "circulated.",
        ),
    ),
    Role.ADMIN: (
        Panel(
            "forum_setup",
            "Forum set-up",
            "Forums, their members and meeting patterns will appear here once they are set up.",
        ),
    ),
}

_ROLE_ORDER = (Role.COORDINATOR, Role.CHAIR, Role.PRACTITIONER, Role.ADMIN)


def _case_row(case: Case, note: str = "") -> Row:
    return Row(
        f"{case.child.full_name} (case {case.id})", url_for("cases.show", case_id=case.id), note
    )


# Which page each meetings panel links to.
_MEETING_PANELS = {
    "next_meetings": "agendas.build",
    "chaired_meetings": "outcomes.record",
    "agendas": "agendas.show",
}


def _upcoming_meetings(user: User, key: str, today: date, limit: int = 5) -> list[Meeting]:
    statement = (
        select(Meeting)
        .join(Forum)
        .where(Meeting.date >= today, Meeting.status != MeetingStatus.CANCELLED)
        .options(selectinload(Meeting.forum))
        .order_by(Meeting.date)
        .limit(limit)
    )
    if key == "next_meetings":
        statement = statement.where(Forum.district_id.in_([d.id for d in user.districts]))
    elif key == "chaired_meetings":
        statement = statement.where(Forum.chair_id == user.id)
    else:
        statement = statement.join(ForumMember, ForumMember.forum_id == Forum.id).where(
            ForumMember.user_id == user.id, ForumMember.active
        )
    return list(db.session.scalars(statement))


def _rows_for(user: User, panel: Panel, today: date) -> tuple[Row, ...]:
    if panel.key == "awaiting_checks":
        return tuple(
            _case_row(
                entry.case,
                f"first meeting due by {entry.first_meeting_deadline:%-d %B %Y}"
                + (" – overdue" if entry.overdue else ""),
            )
            for entry in coordinator_queue(user, today)["awaiting_checks"]
        )
    if panel.key in _MEETING_PANELS:
        return tuple(
            Row(
                f"{meeting.forum.name}: {meeting.date:%A %-d %B %Y}",
                url_for(_MEETING_PANELS[panel.key], meeting_id=meeting.id),
                meeting.status.label,
            )
            for meeting in _upcoming_meetings(user, panel.key, today)
        )
    if panel.key == "my_cases":
        cases = db.session.scalars(
            select(Case)
            .where(Case.referrer_user_id == user.id)
            .options(selectinload(Case.child))
            .order_by(Case.id.desc())
        )
        return tuple(_case_row(case, case.status.label) for case in cases)
    return ()


def panels_for(user: User, today: date) -> list[tuple[Role, tuple[Panel, ...]]]:
    """The dashboard sections for every role the user holds, most day-to-day work first."""
    return [
        (role, tuple(replace(panel, rows=_rows_for(user, panel, today)) for panel in _PANELS[role]))
        for role in _ROLE_ORDER
        if user.has_role(role)
    ]
