from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.extensions import db
from maf.forums.models import Meeting


class Response(LabelledEnum):
    ATTENDING = "attending", "Attending"
    NOT_ATTENDING = "not_attending", "Not attending"
    DEPUTY = "deputy", "Sending a deputy"


class AnswerSource(LabelledEnum):
    LINK = "link", "Link in the email"
    CALENDAR = "calendar", "Calendar program"
    COORDINATOR = "coordinator", "Recorded by the coordinator"


class Answer(db.Model):
    """A member's latest answer to a meeting's invitation: one row per person and meeting,
    changed in place when they answer again (the audit log keeps the earlier answers)."""

    __tablename__ = "meeting_answer"
    __table_args__ = (UniqueConstraint("meeting_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    # The invited address, lower-cased: invitations, links and calendar replies all name it.
    email: Mapped[str] = mapped_column(String(254))
    response: Mapped[Response] = mapped_column(str_enum(Response, length=20))
    deputy_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    source: Mapped[AnswerSource] = mapped_column(str_enum(AnswerSource, length=20))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A calendar reply's DTSTAMP: a reply written before the answer in force is stale.
    calendar_stamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who typed it in, when a coordinator records an answer phoned in.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    meeting: Mapped[Meeting] = relationship()
    recorded_by: Mapped[User | None] = relationship()
