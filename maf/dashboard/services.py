from dataclasses import dataclass, replace
from datetime import date

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from maf.auth.models import Role, User
from maf.auth.permissions import can_see_forum
from maf.cases.models import Case
from maf.cases.services import coordinator_queue
from maf.extensions import db
from maf.forums.models import Forum, ForumMember, Meeting, MeetingStatus
from maf.forums.services import forums_visible_to
from maf.outcomes import followup
from maf.rules.words import Worded, words
from maf.words import plural


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
    # Shown only when it has something: actions are agreed for anyone by email, so a
    # coordinator or chair may have some, but an empty list is news only to practitioners.
    only_when_filled: bool = False


_ACTIONS_TEXT = "Actions agreed for you at forum meetings will appear here with their due dates."
_YOUR_ACTIONS = Panel("my_actions", "Your actions", _ACTIONS_TEXT, only_when_filled=True)

_PANELS = {
    Role.COORDINATOR: (
        Panel(
            "awaiting_checks",
            Worded("{w.assessments_short} waiting for checks"),
            Worded(
                "When a practitioner sends you a completed {w.assessment_short} it will appear "
                "here, so you can check for an existing {w.assessment_short} and for tier 3/4 "
                "involvement before giving it a forum slot."
            ),
        ),
        Panel(
            "next_meetings",
            "Next forum meetings",
            "Your districts' forum meetings will appear here with their agendas, so you can see "
            "which still need cases and which are ready to circulate.",
        ),
        _YOUR_ACTIONS,
    ),
    Role.CHAIR: (
        Panel(
            "chaired_meetings",
            "Meetings you chair",
            "Meetings of the forums you chair will appear here with their agendas, and minutes "
            "waiting for your approval.",
        ),
        _YOUR_ACTIONS,
    ),
    Role.PRACTITIONER: (
        Panel(
            "my_cases",
            "Your cases",
            Worded(
                "{w.assessments_short} you referred and cases where you are the "
                "{w.lead_professional} will appear here, with their next review dates."
            ),
        ),
        Panel("my_actions", "Your actions", _ACTIONS_TEXT),
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
            "No forum is set up yet. Forums, their members and meeting patterns will appear "
            "here once they are set up.",
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
        return _my_cases(user, today)
    if panel.key == "my_actions":
        return tuple(_action_row(entry) for entry in followup.actions_for(user, today))
    if panel.key == "forum_setup":
        return tuple(
            Row(forum.name, url_for("forums.show", forum_id=forum.id), forum.district.name)
            for forum in forums_visible_to(user)
        )
    return ()


def _my_cases(user: User, today: date) -> tuple[Row, ...]:
    """Cases the user leads now (next review first), then the CAFs they referred."""
    led = followup.cases_led_by(user, today)
    rows = [
        _case_row(
            entry.case,
            f"you are the {words().lead_professional}"
            + (
                f", next review {entry.case.next_review_on:%-d %B %Y}"
                if entry.case.next_review_on
                else ""
            ),
        )
        for entry in led
    ]
    seen = {entry.case.id for entry in led}
    referred = db.session.scalars(
        select(Case)
        .where(Case.referrer_user_id == user.id)
        .options(selectinload(Case.child))
        .order_by(Case.id.desc())
    )
    rows += [_case_row(case, case.status.label) for case in referred if case.id not in seen]
    return tuple(rows)


def _action_row(entry: followup.ActionEntry) -> Row:
    """The action and when it is due; the child is named on the actions page, to those who
    may see the case."""
    action = entry.action
    due = f"due {action.due_on:%-d %B %Y}"
    if entry.overdue:
        due += f", overdue by {plural(entry.days_overdue, 'day')}"
    return Row(action.description, url_for("followup.actions"), due)


def panels_for(user: User, today: date) -> list[tuple[Role, tuple[Panel, ...]]]:
    """The dashboard sections for every role the user holds, most day-to-day work first."""
    roles = [role for role in _ROLE_ORDER if user.has_role(role)]
    # A panel two of the user's roles share (their actions) is shown once, under the first.
    shown: set[str] = set()
    sections = []
    for role in roles:
        panels = []
        for panel in _PANELS[role]:
            if panel.key in shown:
                continue
            filled = replace(panel, rows=_rows_for(user, panel, today))
            if filled.only_when_filled and not filled.rows:
                continue
            shown.add(panel.key)
            panels.append(filled)
        sections.append((role, tuple(panels)))
    return sections


@dataclass(frozen=True)
class DistrictForum:
    forum: Forum
    next_meeting: Meeting | None
    visible: bool  # whether the user may open the forum's page


def district_forums(district, user: User, today: date) -> list[DistrictForum]:
    """The district's forums for its page, each with its next meeting (not cancelled)."""
    forums = list(
        db.session.scalars(
            select(Forum).where(Forum.district_id == district.id).order_by(Forum.name)
        )
    )
    upcoming: dict[int, Meeting] = {}
    for meeting in db.session.scalars(
        select(Meeting)
        .where(
            Meeting.forum_id.in_([forum.id for forum in forums]),
            Meeting.date >= today,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.date)
    ):
        upcoming.setdefault(meeting.forum_id, meeting)
    return [
        DistrictForum(forum, upcoming.get(forum.id), can_see_forum(user, forum)) for forum in forums
    ]
