"""Forum set-up, membership and the meeting schedule."""

from dataclasses import dataclass, field
from datetime import date, time

from dateutil.rrule import MONTHLY, rrule, weekday
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import restrict_to_visible_districts
from maf.auth.services import normalise_email
from maf.directory.models import Agency, District
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import (
    Forum,
    ForumBreak,
    ForumMember,
    Meeting,
    MeetingChange,
    MeetingStatus,
    MemberRole,
)
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
    new_case_capacity: int = 10
    review_capacity: int = 30
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
        "CAF coordinator": details.coordinator.name if details.coordinator else "Not chosen yet",
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
    for starts_at, _minutes in details.breaks:
        if starts_at <= details.start_time:
            raise ForumError(
                "A break must start after the meeting starts", field="break_1_starts_at"
            )
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


def generate_schedule(
    forum: Forum, year: int, user: User, once: str | None = None
) -> list[Meeting]:
    """Create the year's meetings; a month that already has a meeting is left alone, so a
    meeting moved to another day is not created twice."""
    submissions.created(submissions.claim(once, "schedule", user), forum)
    # Two people adding the year at once (two forms, two tokens) are served one after the
    # other: the forum's row lock (PostgreSQL; SQLite's write lock is already held) is taken
    # before its meetings are read, so the second sees the first's meetings.
    db.session.execute(
        update(Forum)
        .where(Forum.id == forum.id)
        .values(id=Forum.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(forum, ["meetings"])
    taken = {(m.date.year, m.date.month) for m in forum.meetings}
    created = []
    for day in meeting_dates(forum, year):
        if (day.year, day.month) in taken:
            continue
        meeting = Meeting(
            forum=forum,
            date=day,
            start_time=forum.start_time,
            length_minutes=forum.length_minutes,
            venue=forum.venue,
        )
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
    return f"{meeting.date:%-d %B %Y} at {meeting.start_time:%H:%M}, {meeting.venue}"


def _record_change(meeting, what, before, after, reason, user) -> None:
    db.session.add(
        MeetingChange(
            meeting=meeting,
            what=what,
            before=before[:300],
            after=after[:300],
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
) -> None:
    """`version` is the meeting's version when the form was opened: a save from an older page
    is refused (StaleEdit) rather than moving the meeting back."""
    if meeting.status not in EDITABLE_STATUSES:
        raise ForumError(f"A meeting that is {meeting.status.label.lower()} cannot be changed")

    def in_words(day, start_time, venue):
        return {"Date": f"{day:%-d %B %Y}", "Start time": f"{start_time:%H:%M}", "Venue": venue}

    require_version(
        meeting,
        version,
        yours=in_words(day, start_time, venue.strip()),
        theirs=in_words(meeting.date, meeting.start_time, meeting.venue),
    )
    changes = [
        ("date", f"{meeting.date:%-d %B %Y}", f"{day:%-d %B %Y}", meeting.date != day),
        (
            "start time",
            f"{meeting.start_time:%H:%M}",
            f"{start_time:%H:%M}",
            meeting.start_time != start_time,
        ),
        ("venue", meeting.venue, venue.strip(), meeting.venue != venue.strip()),
    ]
    changed = [(what, before, after) for what, before, after, differs in changes if differs]
    if not changed:
        raise ForumError("Nothing has changed", field="date")
    for what, before, after in changed:
        _record_change(meeting, what, before, after, reason.strip(), user)
    meeting.date, meeting.start_time, meeting.venue = day, start_time, venue.strip()
    meeting.calendar_sequence += 1
    touch(meeting, user)
    audit.record("meeting_changed", meeting, user=user, detail=", ".join(c[0] for c in changed))
    db.session.commit()


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
