from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.cases.models import Case
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import District
from maf.extensions import db
from maf.versioning import Versioned


class BoardPeriod(Versioned, db.Model):
    """What the CAF team enters for a district's board report for one period (seed 000):
    targets and training counts. Every other figure in the report is computed."""

    __tablename__ = "board_period"
    __table_args__ = (UniqueConstraint("district_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    target_started: Mapped[int] = mapped_column(default=0)
    target_completed: Mapped[int] = mapped_column(default=0)
    target_organisations: Mapped[int] = mapped_column(default=0)
    target_trained: Mapped[int] = mapped_column(default=0)
    practitioners_trained: Mapped[int] = mapped_column(default=0)
    next_target_started: Mapped[int] = mapped_column(default=0)
    next_target_completed: Mapped[int] = mapped_column(default=0)
    next_target_organisations: Mapped[int] = mapped_column(default=0)
    next_target_trained: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    district: Mapped[District] = relationship()
    entries: Mapped[list["BoardEntry"]] = relationship(
        cascade="all, delete-orphan", order_by="BoardEntry.id"
    )


class BoardEntryKind(LabelledEnum):
    RISK = "risk", "High risk"
    ISSUE = "issue", "High-priority issue"
    RECOMMENDATION = "recommendation", "Recommendation"


class BoardEntry(db.Model):
    """A high risk with its mitigating action, an issue with its solution, or a
    recommendation (seed 000 sections)."""

    __tablename__ = "board_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_period_id: Mapped[int] = mapped_column(
        ForeignKey("board_period.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[BoardEntryKind] = mapped_column(str_enum(BoardEntryKind, length=20))
    text: Mapped[str] = mapped_column(Text)
    # The mitigating action for a risk, the solution for an issue; empty for a recommendation.
    response: Mapped[str] = mapped_column(Text, default="")


class AuditSample(db.Model):
    """One quarter's 1-in-10 sample of closed CAFs (seed 002 E), reproducible from its seed."""

    __tablename__ = "audit_sample"
    __table_args__ = (UniqueConstraint("quarter_starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter_starts_on: Mapped[date] = mapped_column(Date)
    seed: Mapped[str] = mapped_column(String(64))
    closed_in_quarter: Mapped[int] = mapped_column(default=0)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cases: Mapped[list["SampledCase"]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="SampledCase.id"
    )


class Rating(LabelledEnum):
    GOOD = "good", "Good"
    ADEQUATE = "adequate", "Adequate"
    POOR = "poor", "Poor"


class SampledCase(db.Model):
    __tablename__ = "sampled_case"
    __table_args__ = (UniqueConstraint("sample_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("audit_sample.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    # The audit form (seed 002 E: quality of process and impact on outcomes).
    process_quality: Mapped[Rating | None] = mapped_column(str_enum(Rating, length=20))
    outcome_impact: Mapped[Rating | None] = mapped_column(str_enum(Rating, length=20))
    notes: Mapped[str] = mapped_column(Text, default="")
    auditor_name: Mapped[str] = mapped_column(String(200), default="")
    audited_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    sample: Mapped[AuditSample] = relationship(back_populates="cases")
    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User | None] = relationship()
