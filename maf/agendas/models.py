from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.cases.models import Case
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.extensions import db
from maf.forums.models import Meeting


class ItemKind(LabelledEnum):
    NEW_CASE = "new_case", "New case"
    REVIEW = "review", "Review"
    SIGN_OFF = "sign_off", "Sign-off (closure)"


class ItemStatus(LabelledEnum):
    SCHEDULED = "scheduled", "On the agenda"
    MOVED = "moved", "Moved to a later meeting"
    REMOVED = "removed", "Taken off the agenda"
    # Seed 003 §4.12: with no consent in force to share with the forum's members, the case
    # comes off every agenda not yet held; the row stays, so the agenda's history is kept.
    CONSENT_WITHDRAWN = "consent_withdrawn", "Taken off: consent to share withdrawn"


class AgendaItem(db.Model):
    __tablename__ = "agenda_item"
    # A case appears once on a meeting's agenda; taking it off and back reuses the row.
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, length=20))
    status: Mapped[ItemStatus] = mapped_column(
        str_enum(ItemStatus, length=20), default=ItemStatus.SCHEDULED
    )
    position: Mapped[int]
    presenter_name: Mapped[str] = mapped_column(String(200), default="")
    presenter_email: Mapped[str] = mapped_column(String(254), default="")
    # Why the item left the agenda, in words the coordinator reads on the builder.
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    # Whether the agenda last sent to the members listed this item: the next circulation
    # tells them how many items have been withdrawn since (never which ones).
    circulated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Deferring keeps the trail: the old item points at the new one and back.
    moved_from_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    case: Mapped[Case] = relationship()
    added_by: Mapped[User] = relationship()
    moved_from: Mapped["AgendaItem | None"] = relationship(
        remote_side=[id], back_populates="moved_to"
    )
    moved_to: Mapped["AgendaItem | None"] = relationship(back_populates="moved_from")
