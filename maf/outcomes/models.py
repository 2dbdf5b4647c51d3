from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.agendas.models import AgendaItem
from maf.auth.models import User
from maf.cases.models import Case
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import Agency
from maf.extensions import db
from maf.forums.models import ForumMember, Meeting
from maf.versioning import Versioned


class AttendanceStatus(LabelledEnum):
    PRESENT = "present", "Present"
    APOLOGIES = "apologies", "Apologies"
    ABSENT = "absent", "Absent"


class Outcome(LabelledEnum):
    CONTINUE = "continue", "Continue, with a review"
    CLOSE = "close", "Close at sign-off"
    STEP_UP = "step_up", "Step up to statutory services"
    DEFER = "defer", "Defer to the next meeting"


class ClosureReason(LabelledEnum):
    """Why a CAF closed at its sign-off (seed 002 D1)."""

    NEEDS_MET = "needs_met", "Needs met: universal services continue"
    MOVED_AWAY = "moved_away", "Family moved out of the area"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Family withdrew consent"
    SINGLE_AGENCY = "single_agency", "Needs now met by one agency"
    OTHER = "other", "Other (see notes)"


class LeadKind(LabelledEnum):
    """Seed 003 §3.8: any practitioner, or a parent, carer or young person, can be LP."""

    PRACTITIONER = "practitioner", "Practitioner"
    PARENT_CARER = "parent_carer", "Parent or carer"
    YOUNG_PERSON = "young_person", "The young person"


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    # None for a guest, who is not a member of the forum.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("forum_member.id"))
    name: Mapped[str] = mapped_column(String(200))
    agency_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus, length=20))

    member: Mapped[ForumMember | None] = relationship()


class ItemRecord(Versioned, db.Model):
    """What the forum said and decided about one agenda item."""

    __tablename__ = "item_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), unique=True)
    discussion: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, length=20))
    next_review_on: Mapped[date | None] = mapped_column(Date)
    # The forum expects to close the case at its next review: that review is then put on the
    # next agenda as a sign-off (seed 002 D1: closure at a sign-off meeting).
    sign_off_next: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closure_reason: Mapped[ClosureReason | None] = mapped_column(str_enum(ClosureReason))
    outcome_notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    item: Mapped[AgendaItem] = relationship()
    services: Mapped[list["AgreedService"]] = relationship(
        cascade="all, delete-orphan", order_by="AgreedService.id"
    )


class AgreedService(db.Model):
    __tablename__ = "agreed_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_record_id: Mapped[int] = mapped_column(
        ForeignKey("item_record.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    what: Mapped[str] = mapped_column(String(500))

    agency: Mapped[Agency] = relationship()


class ActionStatus(LabelledEnum):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class Action(Versioned, db.Model):
    __tablename__ = "action"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    owner_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, length=20), default=ActionStatus.OPEN
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    owner_agency: Mapped[Agency | None] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])


class LeadProfessional(db.Model):
    """Who leads a case, from when to when: the case's LP history."""

    __tablename__ = "lead_professional"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    kind: Mapped[LeadKind] = mapped_column(str_enum(LeadKind, length=20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))

    agency: Mapped[Agency | None] = relationship()


class LeadProposal(db.Model):
    """The lead professional the forum agreed for an item, applied when the record is done."""

    __tablename__ = "lead_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_record_id: Mapped[int] = mapped_column(
        ForeignKey("item_record.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[LeadKind] = mapped_column(str_enum(LeadKind, length=20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    agreed: Mapped[bool] = mapped_column(Boolean, default=False)

    agency: Mapped[Agency | None] = relationship()


class MinutesStatus(LabelledEnum):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved by the chair"
    CIRCULATED = "circulated", "Circulated"


class Minutes(db.Model):
    """One version of a meeting's minutes; a correction after approval is a new version."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    version: Mapped[int]
    status: Mapped[MinutesStatus] = mapped_column(
        str_enum(MinutesStatus, length=20), default=MinutesStatus.DRAFT
    )
    correction_note: Mapped[str] = mapped_column(Text, default="")
    # Frozen at approval, so an approved version reads the same for ever.
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    circulated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The minutes' content as JSON (maf.outcomes.minutes.MinutesContent), frozen at approval
    # beside the document, so the approved version's page never changes with the record.
    content: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship()
    approved_by: Mapped[User | None] = relationship()


class MinutesWording(Versioned, db.Model):
    """The draft minutes' wording of one free-text part of one item (its discussion, its
    decision notes), as the chair or coordinator corrected it before approval. The meeting
    record stays as recorded: the minutes read this instead."""

    __tablename__ = "minutes_wording"
    __table_args__ = (UniqueConstraint("minutes_id", "agenda_item_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"))
    part: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")

    changes: Mapped[list["MinutesWordingChange"]] = relationship(
        order_by="MinutesWordingChange.id", cascade="all, delete-orphan"
    )


class MinutesWordingChange(db.Model):
    """One saved change of a part's wording: who, when and what it then said (the history)."""

    __tablename__ = "minutes_wording_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    wording_id: Mapped[int] = mapped_column(ForeignKey("minutes_wording.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User | None] = relationship()


class ProgressAnswer(LabelledEnum):
    GREAT = "great", "Great"
    GOOD = "good", "Good"
    OK = "ok", "OK"
    NOT_GOOD = "not_good", "Not good"


class ActionProgressStatus(LabelledEnum):
    DONE = "done", "Done"
    IN_PROGRESS = "in_progress", "In progress"
    NOT_STARTED = "not_started", "Not started"


class ProgressUpdate(Versioned, db.Model):
    """The lead professional's report for a review (seed 004: the LP reports progress at the
    next meeting), with the outcomes questionnaire (seed 004 Appendix 3)."""

    __tablename__ = "progress_update"
    __table_args__ = (UniqueConstraint("case_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    lead_professional_id: Mapped[int] = mapped_column(ForeignKey("lead_professional.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    further_comments: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    meeting: Mapped[Meeting] = relationship()
    lead_professional: Mapped[LeadProfessional] = relationship()
    action_progress: Mapped[list["ActionProgress"]] = relationship(
        cascade="all, delete-orphan", order_by="ActionProgress.id"
    )
    answers: Mapped[list["QuestionnaireAnswer"]] = relationship(
        cascade="all, delete-orphan", order_by="QuestionnaireAnswer.question"
    )


class ActionProgress(db.Model):
    __tablename__ = "action_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("progress_update.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id"))
    status: Mapped[ActionProgressStatus] = mapped_column(str_enum(ActionProgressStatus, length=20))
    note: Mapped[str] = mapped_column(String(1000), default="")

    action: Mapped[Action] = relationship()


class QuestionnaireAnswer(db.Model):
    __tablename__ = "questionnaire_answer"
    __table_args__ = (UniqueConstraint("update_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("progress_update.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[int]  # 1 to 7, seed 004 Appendix 3
    answer: Mapped[ProgressAnswer] = mapped_column(str_enum(ProgressAnswer, length=20))
    comment: Mapped[str] = mapped_column(String(1000), default="")
