"""A local rule's history: every change is a new row, never an update, so the value in force at
any past moment can always be read back (a past deadline stays as it was computed)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.dbtypes import UTCDateTime, utcnow
from maf.extensions import db


class RuleChange(db.Model):
    """One change of one rule: its new value, in force from `effective_from` on."""

    __tablename__ = "rule_change"
    # `sequence` counts a rule's changes from 1. Two admins saving from the same page both
    # claim the same next number, so the database lets only one of them in.
    __table_args__ = (UniqueConstraint("name", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    # The value as text; the rule's definition (maf.rules.services.RULES) says how to read it.
    value: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped[User] = relationship()
