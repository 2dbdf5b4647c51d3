from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.versioning import Versioned


class StatutoryService(LabelledEnum):
    """Tier 3/4 involvement that usually means a case belongs with that service (seed 004)."""

    CHILD_IN_NEED = "child_in_need", "Children's social care: child in need"
    CHILD_PROTECTION = "child_protection", "Children's social care: child protection plan"
    LOOKED_AFTER = "looked_after", "Children's social care: looked after"
    SPECIALIST_CAMHS = "specialist_camhs", "Specialist CAMHS"
    YOUTH_OFFENDING = "youth_offending", "Youth offending service"
    EHCP = "ehcp", "Education, health and care plan or SEN statement"


class Gender(LabelledEnum):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    NOT_KNOWN = "not_known", "Not known or prefers not to say"


class SettingType(LabelledEnum):
    """Where a CAF came from; the board report counts CAFs by this (seed 004)."""

    PRE_SCHOOL = "pre_school", "Pre-school or early years"
    PRIMARY_SCHOOL = "primary_school", "Primary school"
    HIGH_SCHOOL = "high_school", "High school"
    COLLEGE = "college", "College"
    HEALTH = "health", "Health"
    YOUTH_SERVICE = "youth_service", "Youth service"
    SOCIAL_CARE = "social_care", "Children's social care"
    HOUSING = "housing", "Housing"
    POLICE = "police", "Police"
    VOLUNTARY = "voluntary", "Voluntary or community sector"
    OTHER = "other", "Other"


class Domain(LabelledEnum):
    """The three domains of the common assessment (seed 003 Table 1)."""

    DEVELOPMENT = "development", "Development of the child or young person"
    PARENTS_AND_CARERS = "parents_and_carers", "Parents and carers"
    FAMILY_AND_ENVIRONMENT = "family_and_environment", "Family and environment"


class CaseStatus(LabelledEnum):
    RECEIVED = "received", "Received: checks to do"
    CHECKED = "checked", "Checked"
    READY_FOR_FORUM = "ready_for_forum", "Ready for a forum"
    ON_AGENDA = "on_agenda", "On a forum agenda"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    STEPPED_UP = "stepped_up", "Stepped up to statutory services"
    MERGED = "merged", "Added to an existing {w.assessment_short}"


class ConsentKind(LabelledEnum):
    UNDERTAKE = "undertake", "To undertake the assessment"
    RECORD = "record", "To record the assessment"
    SHARE = "share", "To share the assessment"


class ConsentGiver(LabelledEnum):
    YOUNG_PERSON = "young_person", "The child or young person"
    PARENT_CARER = "parent_carer", "A parent or carer"


class ConsentMethod(LabelledEnum):
    WRITTEN = "written", "Written (signed)"
    ORAL = "oral", "Oral"


class SharingGround(LabelledEnum):
    """Grounds for sharing without consent (seed 003 §4.21-4.23)."""

    SIGNIFICANT_HARM = "significant_harm", "Evidence of significant harm to the child"
    RISK_OF_SIGNIFICANT_HARM = (
        "risk_of_significant_harm",
        "Reasonable cause to believe the child is at risk of significant harm",
    )
    PREVENT_HARM = (
        "prevent_harm",
        "To prevent significant harm to a child or serious harm to an adult, including by "
        "serious crime",
    )
    NOT_CONFIDENTIAL = (
        "not_confidential",
        "The information is not confidential and sharing is needed for a legitimate purpose",
    )


class MatchVerdict(LabelledEnum):
    SAME = "same", "Same child"
    DIFFERENT = "different", "Different child"


class TierOutcome(LabelledEnum):
    NONE_FOUND = "none_found", "No tier 3/4 involvement found"
    PROCEED = "proceed", "Involved, but bring to the forum because coordination is needed"
    SIGNPOST = "signpost", "Involved: signpost to that service"
    WITHDRAW = "withdraw", "Withdraw the {w.assessment_short}"


class InvolvementStatus(LabelledEnum):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Child(Versioned, db.Model):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    other_names: Mapped[str] = mapped_column(String(300), default="")
    # None once destroyed under the retention rule.
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender))
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str | None] = mapped_column(String(8))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # The school or setting as typed when it is not among the district's schools ("Not
    # listed"); None when a listed school is chosen or it is not known.
    school_name: Mapped[str | None] = mapped_column(String(200))
    upn: Mapped[str | None] = mapped_column(String(13), unique=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    identity_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[Agency | None] = relationship()
    cases: Mapped[list["Case"]] = relationship(
        back_populates="child", foreign_keys="Case.child_id", order_by="Case.id"
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)

    @property
    def school_or_setting(self) -> str | None:
        """The school or setting the child attends, as recorded: the listed school, or the
        name typed when it was not listed; None when it is not known."""
        if self.school is not None:
            return self.school.name
        return self.school_name or None

    def __repr__(self) -> str:
        return f"<Child {self.id}>"


class ChildMatchKey(db.Model):
    """Blocking keys for the existing-CAF check: a search reads these, never every child."""

    __tablename__ = "child_match_key"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class NeedStatement(Versioned, db.Model):
    """A standard need statement, so that needs across CAFs can be counted (seed 004)."""

    __tablename__ = "need_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[Domain] = mapped_column(str_enum(Domain))
    element: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(300), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


case_need = Table(
    "case_need",
    db.metadata,
    Column("case_id", ForeignKey("caf_case.id", ondelete="CASCADE"), primary_key=True),
    Column("need_statement_id", ForeignKey("need_statement.id"), primary_key=True),
)


class Case(Versioned, db.Model):
    """One CAF episode for a child, from the coordinator receiving it to its closure."""

    __tablename__ = "caf_case"
    __table_args__ = (Index("ix_caf_case_district_status", "district_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    referrer_name: Mapped[str] = mapped_column(String(200))
    referrer_email: Mapped[str] = mapped_column(String(254))
    referrer_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    # Set when the referrer has an account, so they can follow the case.
    referrer_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    setting_type: Mapped[SettingType] = mapped_column(str_enum(SettingType))
    assessment_completed_on: Mapped[date] = mapped_column(Date)
    strengths: Mapped[str] = mapped_column(Text, default="")
    child_views: Mapped[str] = mapped_column(Text, default="")
    family_views: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.RECEIVED)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("caf_case.id"))
    existing_caf_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_outcome: Mapped[TierOutcome | None] = mapped_column(str_enum(TierOutcome))
    tier_outcome_reason: Mapped[str] = mapped_column(Text, default="")
    tier_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the forum (3-monthly reviews, seed 002 C1); carry-forward proposes the case for
    # the first meeting on or after it.
    next_review_on: Mapped[date | None] = mapped_column(Date)
    # Kept with the case so age bands can still be counted once the child's date of birth
    # has been destroyed under the retention rule (seed 002 D3).
    age_at_assessment: Mapped[int | None] = mapped_column()
    # Retention (seed 002 D3): archived a year after closure, identifying data destroyed
    # six years after that.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The day a case was withdrawn or stepped up: its retention starts then, as a closed
    # case's starts on closed_on (maf.reports.retention.retention_starts_on).
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship(back_populates="cases", foreign_keys=[child_id])
    district: Mapped[District] = relationship()
    referrer_agency: Mapped[Agency] = relationship()
    referrer_user: Mapped[User | None] = relationship(foreign_keys=[referrer_user_id])
    merged_into: Mapped["Case | None"] = relationship(remote_side=[id])
    needs: Mapped[list[NeedStatement]] = relationship(
        secondary=case_need, order_by=NeedStatement.id
    )
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="case", order_by="Consent.id", foreign_keys="Consent.case_id"
    )
    sharing_without_consent: Mapped[list["SharingWithoutConsent"]] = relationship(
        back_populates="case", order_by="SharingWithoutConsent.id"
    )
    match_candidates: Mapped[list["MatchCandidate"]] = relationship(
        back_populates="case", order_by="MatchCandidate.score.desc()"
    )
    involvement_matches: Mapped[list["InvolvementMatch"]] = relationship(
        back_populates="case", order_by="InvolvementMatch.score.desc()"
    )
    history: Mapped[list["CaseStatusChange"]] = relationship(
        back_populates="case", order_by="CaseStatusChange.id"
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.status}>"


consent_agency = Table(
    "consent_agency",
    db.metadata,
    Column("consent_id", ForeignKey("consent.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)


class Consent(Versioned, db.Model):
    """Consent given or refused (seed 003 §4.11-4.18). Withdrawal is recorded, never deleted."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    given: Mapped[bool] = mapped_column(Boolean)  # False: refused
    given_by: Mapped[ConsentGiver] = mapped_column(str_enum(ConsentGiver))
    given_by_name: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date] = mapped_column(Date)
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod))
    # For sharing: whether it covers the members of the district forum, and which agencies.
    covers_forum: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="consents", foreign_keys=[case_id])
    agencies: Mapped[list[Agency]] = relationship(secondary=consent_agency, order_by=Agency.name)

    @property
    def in_force(self) -> bool:
        return self.given and self.withdrawn_on is None


class SharingWithoutConsent(db.Model):
    """The exceptional decision to share without consent: who, when, on which ground, why."""

    __tablename__ = "sharing_without_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    decided_by_name: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date] = mapped_column(Date)
    ground: Mapped[SharingGround] = mapped_column(str_enum(SharingGround))
    reason: Mapped[str] = mapped_column(Text)
    shared_with: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="sharing_without_consent")


class MatchCandidate(db.Model):
    """A child the existing-CAF check found, and the coordinator's verdict on it."""

    __tablename__ = "match_candidate"
    __table_args__ = (UniqueConstraint("case_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(String(500))
    verdict: Mapped[MatchVerdict | None] = mapped_column(str_enum(MatchVerdict))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="match_candidates")
    child: Mapped[Child] = relationship()
    decided_by: Mapped[User | None] = relationship()


class InvolvementImport(db.Model):
    """One file loaded into the tier 3/4 register."""

    __tablename__ = "involvement_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows_imported: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)


class InvolvementRecord(db.Model):
    """A child known to a tier 3/4 service, from that service's export."""

    __tablename__ = "involvement_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("involvement_import.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    postcode: Mapped[str | None] = mapped_column(String(8))
    service: Mapped[StatutoryService] = mapped_column(str_enum(StatutoryService), index=True)
    status: Mapped[InvolvementStatus] = mapped_column(str_enum(InvolvementStatus))
    contact: Mapped[str] = mapped_column(String(300), default="")

    source: Mapped[InvolvementImport] = relationship()

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


class InvolvementMatchKey(db.Model):
    __tablename__ = "involvement_match_key"

    involvement_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_record.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class InvolvementMatch(db.Model):
    """A register entry the tier 3/4 check found for a case."""

    __tablename__ = "involvement_match"
    __table_args__ = (UniqueConstraint("case_id", "involvement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    involvement_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_record.id", ondelete="CASCADE")
    )
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="involvement_matches")
    involvement: Mapped[InvolvementRecord] = relationship()


class CaseStatusChange(db.Model):
    __tablename__ = "case_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    from_status: Mapped[CaseStatus | None] = mapped_column(str_enum(CaseStatus))
    to_status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="history")
    changed_by: Mapped[User] = relationship()
