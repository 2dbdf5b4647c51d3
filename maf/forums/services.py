"""Forum set-up, membership and the meeting schedule."""

import re
from dataclasses import dataclass, field
from datetime import date, time
from urllib.parse import urlsplit

from dateutil.rrule import MONTHLY, rrule, weekday
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import restrict_to_visible_districts
from maf.auth.services import normalise_email
from maf.dbtypes import london_today
from maf.directory.models import Agency, District
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import (
    Forum,
    ForumBreak,
    ForumMember,
    Meeting,
    MeetingBreak,
    MeetingChange,
    MeetingStatus,
    MemberRole,
)
from maf.rules import services as rules
from maf.rules.words import words
from maf.versioning import UNCHECKED, require_version, touch


class ForumError(DomainError):
    """A rule about forums, members or meetings refused the change."""


@dataclass
class ForumDetails:
    district: District
    name: str
    venue: str
    chair: User | None = None
    coordinator: User | None = None
    weekday: int = 1
    week_of_month: int = 2
    months: list[int] = field(default_factory=lambda: [1, 4, 7, 10])
    start_time: time = time(9, 30)
    length_minutes: int = 240
    new_case_minutes: int = 20
    review_minutes: int = 5
    # A new forum starts with the local rules' capacities; each forum keeps its own after.
    new_case_capacity: int = field(default_factory=lambda: rules.current("new_case_capacity"))
    review_capacity: int = field(default_factory=lambda: rules.current("review_capacity"))
    breaks: list[tuple[time, int]] = field(default_factory=list)


def details_of(forum: Forum) -> ForumDetails:
    return ForumDetails(
        district=forum.district,
        name=forum.name,
        venue=forum.venue,
        chair=forum.chair,
        coordinator=forum.coordinator,
        weekday=forum.weekday,
        week_of_month=forum.week_of_month,
        months=forum.month_numbers,
        start_time=forum.start_time,
        length_minutes=forum.length_minutes,
        new_case_minutes=forum.new_case_minutes,
        review_minutes=forum.review_minutes,
        new_case_capacity=forum.new_case_capacity,
        review_capacity=forum.review_capacity,
        breaks=[(forum_break.starts_at, forum_break.minutes) for forum_break in forum.breaks],
    )


def forum_in_words(details: ForumDetails) -> dict[str, str]:
    """The forum form's fields as a person reads them, to list what someone else changed."""
    months = sorted(set(details.months))
    return {
        "District": details.district.name if details.district else "",
        "Forum name": details.name.strip(),
        "Usual venue": details.venue.strip(),
        "Independent chair": details.chair.name if details.chair else "Not chosen yet",
        words().coordinator: details.coordinator.name if details.coordinator else "Not chosen yet",
        "Week of the month": _WEEK_NAMES.get(details.week_of_month, ""),
        "Day": _WEEKDAY_NAMES[details.weekday] if 0 <= details.weekday < 7 else "",
        "Months it meets in": ", ".join(date(2000, month, 1).strftime("%B") for month in months),
        "Usual start time": f"{details.start_time:%H:%M}" if details.start_time else "",
        "Length in minutes": str(details.length_minutes),
        "Minutes for a new case": str(details.new_case_minutes),
        "Minutes for a review": str(details.review_minutes),
        "New cases a meeting can take": str(details.new_case_capacity),
        "Reviews a meeting can take": str(details.review_capacity),
        "Breaks": ", ".join(
            f"{starts:%H:%M} for {minutes} minutes" for starts, minutes in sorted(details.breaks)
        )
        or "None",
    }


def save_forum(
    forum: Forum | None,
    details: ForumDetails,
    user: User,
    once: str | None = None,
    version: int | None = UNCHECKED,
) -> Forum:
    """Create (`forum` None) or change a forum; `once` is the creating form's token, `version`
    the forum's version when the editing form was opened (StaleEdit if someone saved since)."""
    if forum is not None:
        require_version(
            forum, version, yours=forum_in_words(details), theirs=forum_in_words(details_of(forum))
        )
    submission = submissions.claim(once, "forum", user) if forum is None else None
    duplicate = db.session.scalar(
        select(Forum).where(
            Forum.name == details.name.strip(), Forum.id != (forum.id if forum else -1)
        )
    )
    if duplicate is not None:
        raise ForumError("A forum with this name already exists", field="name")
    _require_breaks_after(details.start_time, details.breaks)
    if forum is None:
        forum = Forum()
        db.session.add(forum)
    for name, value in vars(details).items():
        if name == "months":
            forum.months = ",".join(str(m) for m in sorted(set(value)))
        elif name == "breaks":
            forum.breaks = [ForumBreak(starts_at=s, minutes=m) for s, m in sorted(value)]
        else:
            setattr(forum, name, value.strip() if isinstance(value, str) else value)
    touch(forum, user)
    submissions.created(submission, forum)
    audit.record("forum_saved", forum, user=user)
    db.session.commit()
    return forum


def change_forum(forum: Forum, details: ForumDetails, user: User, version: int | None) -> list[str]:
    """Save the forum's edit form; returns which of its usual arrangements (USUAL) changed, for
    the question whether its meetings not yet circulated should follow."""
    before = details_of(forum)
    save_forum(forum, details, user, version=version)
    after = details_of(forum)
    return [name for name in USUAL if _value(before, name) != _value(after, name)]


def forums_visible_to(user: User) -> list[Forum]:
    """Forums the user runs (by district), chairs, or belongs to."""
    managed = restrict_to_visible_districts(select(Forum), Forum.district_id, user)
    ids = set(db.session.scalars(managed.with_only_columns(Forum.id)))
    ids |= set(db.session.scalars(select(Forum.id).where(Forum.chair_id == user.id)))
    ids |= set(
        db.session.scalars(
            select(ForumMember.forum_id).where(ForumMember.user_id == user.id, ForumMember.active)
        )
    )
    return list(
        db.session.scalars(
            select(Forum)
            .where(Forum.id.in_(ids))
            .options(selectinload(Forum.district))
            .order_by(Forum.name)
        )
    )


# --- membership --------------------------------------------------------------------------


def add_member(
    forum: Forum,
    *,
    name: str,
    email: str,
    agency: Agency,
    role: MemberRole,
    user: User,
    once: str | None = None,
) -> ForumMember:
    email = normalise_email(email)
    submission = submissions.claim(once, "forum_member", user)
    member = db.session.scalar(
        select(ForumMember).where(ForumMember.forum_id == forum.id, ForumMember.email == email)
    )
    if member is not None and member.active:
        raise ForumError(f"{email} is already a member of this forum", field="email")
    if member is None:
        member = ForumMember(forum=forum, email=email)
        db.session.add(member)
    member.name, member.agency, member.role, member.active = name.strip(), agency, role, True
    member.user = db.session.scalar(select(User).where(User.email == email))
    touch(member, user)
    submissions.created(submission, member)
    audit.record("forum_member_added", forum, user=user, detail=f"member {member.id}")
    db.session.commit()
    return member


def remove_member(member: ForumMember, user: User) -> None:
    """Kept inactive rather than deleted, so past circulation records still name them."""
    member.active = False
    touch(member, user)
    audit.record("forum_member_removed", member.forum, user=user, detail=f"member {member.id}")
    db.session.commit()


def active_members(forum: Forum) -> list[ForumMember]:
    return list(
        db.session.scalars(
            select(ForumMember)
            .where(ForumMember.forum_id == forum.id, ForumMember.active)
            .options(selectinload(ForumMember.agency))
            .order_by(ForumMember.name)
        )
    )


def is_member(user: User, forum: Forum) -> bool:
    return (
        db.session.scalar(
            select(ForumMember.id).where(
                ForumMember.forum_id == forum.id, ForumMember.user_id == user.id, ForumMember.active
            )
        )
        is not None
    )


# --- the schedule ------------------------------------------------------------------------


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEK_NAMES = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}


def pattern_text(forum: Forum) -> str:
    """'Second Tuesday of January, April, July and October, 09:30 for 4 hours'."""
    months = [date(2000, month, 1).strftime("%B") for month in forum.month_numbers]
    month_list = ", ".join(months[:-1]) + f" and {months[-1]}" if len(months) > 1 else months[0]
    hours, minutes = divmod(forum.length_minutes, 60)
    length = (
        f"{hours} hours" + (f" {minutes} minutes" if minutes else "")
        if hours
        else f"{minutes} minutes"
    )
    return (
        f"{_WEEK_NAMES[forum.week_of_month]} {_WEEKDAY_NAMES[forum.weekday]} of {month_list}, "
        f"{forum.start_time:%H:%M} for {length}"
    )


def breaks_text(forum: Forum) -> str:
    return ", ".join(f"{b.starts_at:%H:%M} for {b.minutes} minutes" for b in forum.breaks)


def meeting_dates(forum: Forum, year: int) -> list[date]:
    """The forum's pattern for a year, e.g. the second Tuesday of January, April, July and
    October (seed 004: forums meet about four times a year)."""
    rule = rrule(
        MONTHLY,
        dtstart=date(year, 1, 1),
        until=date(year, 12, 31),
        bymonth=forum.month_numbers,
        byweekday=weekday(forum.weekday, forum.week_of_month),
    )
    return [occurrence.date() for occurrence in rule]


JOINING_LINK_MAX = 500  # Meeting.joining_link's column


def joining_link_problem(link: str) -> str | None:
    """Why `link` cannot be a meeting's joining link, or None when it can (empty: none).

    It goes into emails, invitations and the agenda as a link people click, so only a whole
    https:// address on one line is taken: not another scheme (javascript:, a file, plain
    http), not text with spaces, which calendar programs would cut short."""
    if not link:
        return None
    if len(link) > JOINING_LINK_MAX:
        return f"The joining link must be {JOINING_LINK_MAX} characters or fewer"
    if re.search(r"[\s\x00-\x1f\x7f]", link):
        return "The joining link must not contain spaces"
    try:
        parts = urlsplit(link)
        usable = parts.scheme.lower() == "https" and "." in (parts.hostname or "")
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        usable = False
    if not usable:
        return (
            "Enter the joining link as a web address starting https://, "
            "like https://teams.microsoft.com/l/meetup-join/…"
        )
    return None


def new_meeting(forum: Forum, day: date, joining_link: str = "") -> Meeting:
    """A meeting on `day` with a copy of the forum's usual time, length, venue and breaks: a
    later change to the forum reaches it only when the coordinator applies it (see carry_plan)."""
    return Meeting(
        forum=forum,
        date=day,
        start_time=forum.start_time,
        length_minutes=forum.length_minutes,
        venue=forum.venue,
        joining_link=joining_link,
        breaks=[MeetingBreak(starts_at=b.starts_at, minutes=b.minutes) for b in forum.breaks],
    )


def _lock_forum(forum: Forum) -> None:
    """The forum's row lock (PostgreSQL; SQLite's write lock is already held), taken before its
    meetings are read, so two people doing the same to them at once are served in turn."""
    db.session.execute(
        update(Forum)
        .where(Forum.id == forum.id)
        .values(id=Forum.id)
        .execution_options(synchronize_session=False)
    )


def generate_schedule(
    forum: Forum, year: int, user: User, once: str | None = None, joining_link: str = ""
) -> list[Meeting]:
    """Create the year's meetings; a month that already has a meeting is left alone, so a
    meeting moved to another day is not created twice. `joining_link`: one online link for
    all of them (a recurring Teams meeting), or "" for meetings in the room only."""
    joining_link = joining_link.strip()
    if problem := joining_link_problem(joining_link):
        raise ForumError(problem, field="joining_link")
    submissions.created(submissions.claim(once, "schedule", user), forum)
    # Two people adding the year at once (two forms, two tokens) are served one after the
    # other, so the second sees the first's meetings.
    _lock_forum(forum)
    db.session.expire(forum, ["meetings"])
    taken = {(m.date.year, m.date.month) for m in forum.meetings}
    created = []
    for day in meeting_dates(forum, year):
        if (day.year, day.month) in taken:
            continue
        meeting = new_meeting(forum, day, joining_link)
        db.session.add(meeting)
        created.append(meeting)
    db.session.flush()
    for meeting in created:
        _record_change(
            meeting, "created", "", _describe(meeting), "Generated from the pattern", user
        )
    audit.record("schedule_generated", forum, user=user, detail=f"{year}: {len(created)} meetings")
    db.session.commit()
    return created


def _describe(meeting: Meeting) -> str:
    online = f"; online: {meeting.joining_link}" if meeting.joining_link else ""
    return f"{meeting.date:%-d %B %Y} at {meeting.start_time:%H:%M}, {meeting.venue}{online}"


def _record_change(meeting, what, before, after, reason, user) -> None:
    db.session.add(
        MeetingChange(
            meeting=meeting,
            what=what,
            before=before[:500],
            after=after[:500],
            reason=reason,
            changed_by_id=user.id,
        )
    )


EDITABLE_STATUSES = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_CIRCULATED)


def reschedule_meeting(
    meeting: Meeting,
    *,
    day: date,
    start_time: time,
    venue: str,
    reason: str,
    user: User,
    version: int | None = UNCHECKED,
    length_minutes: int | None = None,
    breaks: list[tuple[time, int]] | None = None,
    joining_link: str | None = None,
) -> None:
    """`version` is the meeting's version when the form was opened: a save from an older page
    is refused (StaleEdit) rather than moving the meeting back. `length_minutes`, `breaks` and
    `joining_link` None keep the meeting's own; a joining link "" takes it away."""
    if meeting.status not in EDITABLE_STATUSES:
        raise ForumError(f"A meeting that is {meeting.status.label.lower()} cannot be changed")
    values = {"date": day, "start_time": start_time, "venue": venue.strip()}
    if length_minutes is not None:
        values["length_minutes"] = length_minutes
    if joining_link is not None:
        joining_link = joining_link.strip()
        if problem := joining_link_problem(joining_link):
            raise ForumError(problem, field="joining_link")
        values["joining_link"] = joining_link
    if breaks is not None:
        _require_breaks_after(start_time, breaks)
        values["breaks"] = tuple(sorted(breaks))
    require_version(
        meeting,
        version,
        yours={_LABELS[name].capitalize(): _in_words(name, v) for name, v in values.items()},
        theirs={
            _LABELS[name].capitalize(): _in_words(name, _value(meeting, name)) for name in values
        },
    )
    changed = _change_meeting(meeting, values, reason.strip(), user)
    if not changed:
        raise ForumError("Nothing has changed", field="date")
    if "breaks" in changed:
        # Its slot times moved: an agenda already sent is out of date until circulated again.
        meeting.agenda_version += 1
    audit.record("meeting_changed", meeting, user=user, detail=", ".join(changed))
    db.session.commit()


def _require_breaks_after(start_time: time, breaks) -> None:
    for starts_at, _minutes in breaks:
        if starts_at <= start_time:
            raise ForumError(
                "A break must start after the meeting starts", field="break_1_starts_at"
            )


# What each meeting keeps a copy of from its forum, and how a change of it is named.
USUAL = {
    "start_time": "start time",
    "length_minutes": "length",
    "venue": "venue",
    "breaks": "breaks",
}
# The joining link is each meeting's own: the forum has no usual one.
_LABELS = {"date": "date"} | USUAL | {"joining_link": "joining link"}
# What a calendar shows of the meeting: a change of any of these is sent with a new SEQUENCE.
_IN_CALENDARS = ("date", "start_time", "length_minutes", "venue", "joining_link")


def _value(holder, name: str):
    """A meeting's, forum's or ForumDetails' `name`, comparable between them."""
    if name != "breaks":
        return getattr(holder, name)
    pairs = [(b.starts_at, b.minutes) if not isinstance(b, tuple) else b for b in holder.breaks]
    return tuple(sorted(pairs))


def _in_words(name: str, value) -> str:
    if name == "date":
        return f"{value:%-d %B %Y}"
    if name == "start_time":
        return f"{value:%H:%M}"
    if name == "length_minutes":
        return f"{value} minutes"
    if name == "breaks":
        return ", ".join(f"{at:%H:%M} for {minutes} minutes" for at, minutes in value) or "None"
    if name == "joining_link":
        return value or "None (in the room only)"
    return value


def _differences(meeting: Meeting, values: dict) -> list[tuple[str, object, object]]:
    return [
        (name, before, after)
        for name, after in values.items()
        if (before := _value(meeting, name)) != after
    ]


def _change_meeting(meeting: Meeting, values: dict, reason: str, user: User) -> list[str]:
    """Give the meeting those of `values` (by USUAL's names, or "date") that differ from its
    own, each change kept in its history; a change calendars show gets a new SEQUENCE so the
    event already in them is updated. Returns what changed, in words; does not commit."""
    changed = _differences(meeting, values)
    for name, before, after in changed:
        _record_change(
            meeting, _LABELS[name], _in_words(name, before), _in_words(name, after), reason, user
        )
        if name == "breaks":
            meeting.breaks = [MeetingBreak(starts_at=at, minutes=m) for at, m in after]
        else:
            setattr(meeting, name, after)
    if any(name in _IN_CALENDARS for name, _before, _after in changed):
        meeting.calendar_sequence += 1
    if changed:
        touch(meeting, user)
    return [_LABELS[name] for name, _before, _after in changed]


# --- a forum's change carried to its meetings ---------------------------------------------


@dataclass
class Following:
    """A meeting and what it would change (what, from, to) to have the forum's usual ones."""

    meeting: Meeting
    changes: list[tuple[str, str, str]]


@dataclass
class CarryPlan:
    fields: list[str]  # USUAL names being carried
    to_change: list[Following]  # planned: follow the forum if the coordinator says so
    circulated: list[Following]  # agenda out: changed only by an explicit reschedule

    @property
    def asks(self) -> bool:
        return bool(self.to_change or self.circulated)


def usual_fields(names: list[str]) -> list[str]:
    """Those of `names` that are USUAL ones, in USUAL's order; all of them if none is."""
    return [name for name in USUAL if name in names] or list(USUAL)


def usual_in_words(fields: list[str]) -> str:
    """'start time and breaks'."""
    return _and([USUAL[name] for name in fields])


def carry_plan(forum: Forum, fields: list[str]) -> CarryPlan:
    """The forum's meetings yet to start, planned or with their agenda circulated, that differ
    from its usual `fields`. Held, cancelled and past meetings never change; nor does one
    today that has already started."""
    usual = {name: _value(forum, name) for name in fields}
    plan = CarryPlan(fields, [], [])
    meetings = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.forum_id == forum.id,
            Meeting.date >= london_today(),
            Meeting.status.in_(EDITABLE_STATUSES),
        )
        .options(selectinload(Meeting.breaks))
        .order_by(Meeting.date)
        .execution_options(populate_existing=True)
    )
    for meeting in meetings:
        changes = _differences(meeting, usual)
        if meeting.has_started or not changes:
            continue
        words = [
            (_LABELS[n], _in_words(n, before), _in_words(n, after)) for n, before, after in changes
        ]
        following = Following(meeting, words)
        if meeting.status == MeetingStatus.PLANNED:
            plan.to_change.append(following)
        else:
            plan.circulated.append(following)
    return plan


def carry_to_meetings(
    forum: Forum, fields: list[str], user: User, version: int | None = UNCHECKED
) -> list[Meeting]:
    """Give the forum's planned meetings yet to start its usual `fields`, in one transaction.
    `version` is the forum's when the question was shown: had the forum changed again since,
    what was asked is not what would be applied (StaleEdit). Asked twice (a double submit,
    the Back button), the second finds nothing different and changes nothing."""
    shown = {USUAL[name]: _in_words(name, _value(forum, name)) for name in fields}
    require_version(forum, version, yours=shown, theirs=shown)
    _lock_forum(forum)  # two submits at once: the second waits, then finds nothing to do
    plan = carry_plan(forum, fields)
    changed = []
    for following in plan.to_change:
        meeting = following.meeting
        what = [what for what, _before, _after in following.changes]
        reason = f"The forum's usual {_and(what)} changed"
        _change_meeting(meeting, {name: _value(forum, name) for name in fields}, reason, user)
        audit.record("meeting_changed", meeting, user=user, detail=", ".join(what))
        changed.append(meeting)
    audit.record(
        "forum_changes_applied",
        forum,
        user=user,
        detail=f"{', '.join(fields)}: {len(changed)} meetings",
    )
    db.session.commit()
    return changed


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]


MEETING_TRANSITIONS = {
    # A meeting can be held without its agenda having gone out through MAF.
    MeetingStatus.PLANNED: {
        MeetingStatus.AGENDA_CIRCULATED,
        MeetingStatus.HELD,
        MeetingStatus.CANCELLED,
    },
    MeetingStatus.AGENDA_CIRCULATED: {MeetingStatus.HELD, MeetingStatus.CANCELLED},
    MeetingStatus.HELD: {MeetingStatus.MINUTES_CIRCULATED},
    MeetingStatus.MINUTES_CIRCULATED: set(),
    MeetingStatus.CANCELLED: set(),
}


def meeting_actions(meeting: Meeting) -> frozenset[str]:
    """What can still be done to a meeting, so pages offer only what will work."""
    if meeting.status == MeetingStatus.CANCELLED:
        return frozenset()
    actions = {"view_agenda"}
    if meeting.status in EDITABLE_STATUSES:
        actions |= {"build_agenda", "change", "cancel", "record"}
    else:
        actions.add("minutes")
    return frozenset(actions)


def change_meeting_status(
    meeting: Meeting, to: MeetingStatus, user: User, reason: str = ""
) -> None:
    if to not in MEETING_TRANSITIONS[meeting.status]:
        raise ForumError(
            f"A meeting that is {meeting.status.label.lower()} cannot become {to.label.lower()}"
        )
    _record_change(meeting, "status", meeting.status.label, to.label, reason, user)
    if to == MeetingStatus.CANCELLED:
        meeting.calendar_sequence += 1
    audit.record("meeting_status", meeting, user=user, detail=f"{meeting.status} -> {to}")
    meeting.status = to
    touch(meeting, user)  # so a stale edit of the meeting can say who changed it


def cancel_meeting(
    meeting: Meeting,
    reason: str,
    user: User,
    commit: bool = True,
    version: int | None = UNCHECKED,
) -> None:
    """Cancel a meeting with nothing left on its agenda. `commit=False` lets the caller send
    the calendar cancellations in the same transaction. `version` is the meeting's version
    when the form was opened: a meeting moved or changed since is not cancelled unseen."""
    from maf.agendas.services import scheduled_items

    if not reason.strip():
        raise ForumError("Enter why the meeting is cancelled", field="reason")
    require_version(
        meeting,
        version,
        yours={"Status": MeetingStatus.CANCELLED.label},
        theirs={"Status": meeting.status.label},
    )
    if scheduled_items(meeting):
        raise ForumError(
            "Move the items on this meeting's agenda to another meeting before cancelling it",
            field="reason",
        )
    change_meeting_status(meeting, MeetingStatus.CANCELLED, user, reason.strip())
    if commit:
        db.session.commit()


def upcoming_meetings(forum: Forum, after: date) -> list[Meeting]:
    return [m for m in forum.meetings if m.date >= after and m.status != MeetingStatus.CANCELLED]


def next_meeting(meeting: Meeting) -> Meeting | None:
    return db.session.scalar(
        select(Meeting)
        .where(
            Meeting.forum_id == meeting.forum_id,
            Meeting.date > meeting.date,
            Meeting.status.in_(EDITABLE_STATUSES),
        )
        .order_by(Meeting.date)
        .limit(1)
    )


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return db.session.scalar(
        select(Meeting)
        .where(
            Meeting.forum_id == meeting.forum_id,
            Meeting.date < meeting.date,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.date.desc())
        .limit(1)
    )
