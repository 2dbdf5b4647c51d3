from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.dbtypes import LONDON, LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.versioning import Versioned


class MemberRole(LabelledEnum):
    STANDING = "standing", "Standing member"
    OBSERVER = "observer", "Observer"


class MeetingStatus(LabelledEnum):
    PLANNED = "planned", "Planned"
    AGENDA_CIRCULATED = "agenda_circulated", "Agenda circulated"
    HELD = "held", "Held"
    MINUTES_CIRCULATED = "minutes_circulated", "Minutes circulated"
    CANCELLED = "cancelled", "Cancelled"


class Forum(Versioned, db.Model):
    """A district's multi-agency forum (seed 004): who runs it, when and how long it meets."""

    __tablename__ = "forum"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    venue: Mapped[str] = mapped_column(String(300))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The usual pattern: the n-th given weekday (0 = Monday; week -1 = the last) of these months.
    weekday: Mapped[int] = mapped_column(default=1)
    week_of_month: Mapped[int] = mapped_column(default=2)
    months: Mapped[str] = mapped_column(String(40), default="1,4,7,10")
    start_time: Mapped[time] = mapped_column(Time, default=time(9, 30))
    length_minutes: Mapped[int] = mapped_column(default=240)
    new_case_minutes: Mapped[int] = mapped_column(default=20)
    review_minutes: Mapped[int] = mapped_column(default=5)
    new_case_capacity: Mapped[int] = mapped_column(default=10)
    review_capacity: Mapped[int] = mapped_column(default=30)
    # The real mailbox invitations come from, so replies and acceptances reach a person.
    organiser_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    breaks: Mapped[list["ForumBreak"]] = relationship(
        cascade="all, delete-orphan", order_by="ForumBreak.starts_at"
    )
    members: Mapped[list["ForumMember"]] = relationship(
        back_populates="forum", order_by="ForumMember.name"
    )
    meetings: Mapped[list["Meeting"]] = relationship(
        back_populates="forum", order_by="Meeting.date"
    )

    @property
    def month_numbers(self) -> list[int]:
        return [int(month) for month in self.months.split(",") if month.strip()]


class ForumBreak(db.Model):
    """A planned break, taken before the first item that would run past its start time."""

    __tablename__ = "forum_break"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int]


class ForumMember(Versioned, db.Model):
    """An agency attendee who receives the forum's agendas, invitations and minutes."""

    __tablename__ = "forum_member"
    __table_args__ = (UniqueConstraint("forum_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id"), index=True)
    # Set when the member has an account; most agency attendees do.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, length=20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    forum: Mapped[Forum] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    agency: Mapped[Agency] = relationship()


class Meeting(Versioned, db.Model):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forum.id"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)  # a local (Europe/London) date
    start_time: Mapped[time] = mapped_column(Time)
    length_minutes: Mapped[int]
    venue: Mapped[str] = mapped_column(String(300))
    # Where to join a hybrid meeting online (e.g. a Teams link), typed by the coordinator;
    # empty for a meeting in the room only.
    joining_link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus), default=MeetingStatus.PLANNED
    )
    # Bumped by every change to the agenda; the UPDATE that bumps it also serialises
    # coordinators adding to the same agenda at once.
    agenda_version: Mapped[int] = mapped_column(default=0)
    # iCalendar SEQUENCE of the meeting's event: bumped by every change of date, time,
    # venue, joining link or status, so calendars update the event they hold instead of adding one.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    forum: Mapped[Forum] = relationship(back_populates="meetings")
    changes: Mapped[list["MeetingChange"]] = relationship(
        back_populates="meeting", order_by="MeetingChange.id"
    )
    # The meeting's own copy of the forum's breaks, as of when it was made (or the forum's
    # change was applied to it): its slot times, once circulated, must not move unseen.
    breaks: Mapped[list["MeetingBreak"]] = relationship(
        cascade="all, delete-orphan", order_by="MeetingBreak.starts_at"
    )

    @property
    def starts_at(self) -> datetime:
        """The moment it starts: its date and time are read on a clock in England."""
        return datetime.combine(self.date, self.start_time, tzinfo=LONDON)

    @property
    def has_started(self) -> bool:
        """Nothing may say the meeting happened (held, minutes approved) before this."""
        return utcnow() >= self.starts_at


class MeetingBreak(db.Model):
    """A break in one meeting, taken before the first item that would run past its start."""

    __tablename__ = "meeting_break"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int]


class MeetingChange(db.Model):
    """History of one meeting: every change of date, time, venue, joining link or status."""

    __tablename__ = "meeting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    what: Mapped[str] = mapped_column(String(60))
    # As long as the longest value changed: a joining link (500).
    before: Mapped[str] = mapped_column(String(500), default="")
    after: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="changes")
    changed_by: Mapped[User] = relationship()
