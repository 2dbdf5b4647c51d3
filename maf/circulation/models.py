from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Time,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.extensions import db

if TYPE_CHECKING:
    from maf.auth.models import User
    from maf.cases.models import Case


class DeliveryStatus(LabelledEnum):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # The sender stopped between handing the message over and recording it: it may or may
    # not have gone, so it is never resent automatically.
    UNCERTAIN = "uncertain", "Not known whether it was sent"


# Which cases an email concerns: the presenter's slot, the progress request, every case on the
# agenda or minutes it carries. The subject access export lists them; destruction under the
# retention rule (seed 002 D3) finds through it the emails that named a destroyed child.
outbox_message_case = Table(
    "outbox_message_case",
    db.metadata,
    Column(
        "message_id",
        ForeignKey("outbox_message.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("case_id", ForeignKey("caf_case.id"), primary_key=True, index=True),
)


class OutboxMessage(db.Model):
    """An email, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same logical message is never queued, and so never sent, twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    # A calendar invitation travels as a text/calendar alternative with this method.
    calendar_method: Mapped[str | None] = mapped_column(String(20))
    calendar: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, length=20), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The body carries a one-use link (an invitation, a password reset), whose token is
    # otherwise stored only as a hash: the body is erased once the message is sent or given up.
    erase_once_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How an email sending an agenda or minutes carried them: a link to the page behind
    # sign-in, or the document attached (secure email domains only); "" for every other email.
    documents: Mapped[str] = mapped_column(String(20), default="", server_default="")

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )
    cases: Mapped[list["Case"]] = relationship(secondary=outbox_message_case, order_by="Case.id")


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class InvitationKind(LabelledEnum):
    MEETING = "meeting", "Meeting"
    SLOT = "slot", "Presenter's slot"


class Invitation(db.Model):
    """What a person was last sent for a meeting or a slot, so a re-circulation sends only
    what changed and a calendar updates the event it already holds."""

    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_uid_email", "uid", "email", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))
    kind: Mapped[InvitationKind] = mapped_column(str_enum(InvitationKind, length=20))
    uid: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    # The times last sent, to tell when a reordered agenda moved a presenter's slot.
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    cancelled: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The meeting's latest MeetingChange when this was last sent: the next update tells the
    # person every change after it (ids, not times: a change and a send can share a moment).
    last_change_id: Mapped[int | None] = mapped_column()


class DocumentsBy(StrEnum):
    LINK = "link"
    ATTACHMENT = "attachment"


class SecureEmailDomain(db.Model):
    """An email domain an admin trusts with children's personal data (e.g. gov.uk, nhs.net,
    pnn.police.uk): addresses in it, or in a subdomain of it, get agendas and minutes attached.
    Everybody else gets a link to the page behind sign-in."""

    __tablename__ = "secure_email_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)  # lower case
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    added_by: Mapped["User"] = relationship()


class SchedulerLease(db.Model):
    """Only the holder of an unexpired lease runs scheduled jobs."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
