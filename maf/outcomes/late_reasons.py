"""Why a case misses (or will miss) a time rule: the coordinator's recorded reason.

Seed 002 B3 (the first meeting within 20 working days of the assessment) and C1 (reviews every
three months) are deadlines a forum sometimes cannot meet: the Time rules page, the agenda
builder and the reports count the misses, and a count alone invites the question "why?". A
reason belongs to one deadline of one case: it names the rule and the date it explains, so a
later review's miss is a new record and a changed rule never rewrites an old explanation.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import User
from maf.cases import deadlines
from maf.cases.models import Case
from maf.dbtypes import UTCDateTime, utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.versioning import UNCHECKED, Versioned, require_version, touch
from maf.words import date_in_words

FIRST_MEETING = "first_meeting"
REVIEW = "review"
RULES = (FIRST_MEETING, REVIEW)
REASON_MAX = 1000
NO_REASON = "No reason recorded"


class DeadlineReason(Versioned, db.Model):
    """Why one deadline of one case is missed, in the coordinator's words."""

    __tablename__ = "deadline_reason"
    # One reason per deadline: a double submit or two coordinators at once make one row.
    __table_args__ = (UniqueConstraint("case_id", "rule", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))  # FIRST_MEETING or REVIEW
    # The deadline explained: the first-meeting deadline or the review due date, as it was when
    # the reason was recorded.
    due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys="DeadlineReason.updated_by_id")

    @property
    def last_changed_by(self) -> User:
        return self.updated_by or self.recorded_by

    @property
    def last_changed_at(self) -> datetime:
        return self.updated_at or self.recorded_at


@dataclass(frozen=True)
class Deadline:
    """A time-rule deadline a case has, in words for the form's heading and hint."""

    rule: str
    due_on: date
    heading: str
    hint: str


def deadline_for(case: Case, rule: str) -> Deadline | None:
    """The case's deadline under `rule`, or None when it has none (no review date set)."""
    if rule == FIRST_MEETING:
        working_days = deadlines.first_meeting_working_days(
            case.assessment_completed_on, case.created_at
        )
        due = deadlines.add_working_days(case.assessment_completed_on, working_days)
        return Deadline(
            rule,
            due,
            f"First meeting due by {date_in_words(due)}",
            f"{working_days} working days after the assessment was "
            f"completed on {date_in_words(case.assessment_completed_on)}.",
        )
    if rule == REVIEW and case.next_review_on is not None:
        return Deadline(
            rule,
            case.next_review_on,
            f"Review due by {date_in_words(case.next_review_on)}",
            "The review date the forum set at the case's last discussion.",
        )
    return None


def reason_for(case: Case, deadline: Deadline) -> DeadlineReason | None:
    return db.session.scalar(
        select(DeadlineReason).where(
            DeadlineReason.case_id == case.id,
            DeadlineReason.rule == deadline.rule,
            DeadlineReason.due_on == deadline.due_on,
        )
    )


def reasons_for(keys) -> dict[tuple[int, str, date], DeadlineReason]:
    """The reasons recorded for the given deadlines, in one query.

    `keys` are (case_id, rule, due_on) triples, as the Time rules page, the builder and the
    reports know them; the answer maps each key that has a reason to it."""
    keys = {(case_id, rule, due_on) for case_id, rule, due_on in keys if due_on is not None}
    if not keys:
        return {}
    rows = db.session.scalars(
        select(DeadlineReason)
        .where(
            tuple_(DeadlineReason.case_id, DeadlineReason.rule, DeadlineReason.due_on).in_(
                sorted(keys)
            )
        )
        # Pages show who recorded each reason: loaded here, not one query per row.
        # (Every save sets `updated_by`, so it names whoever last changed the reason.)
        .options(selectinload(DeadlineReason.updated_by))
    )
    return {(row.case_id, row.rule, row.due_on): row for row in rows}


def current_reasons(cases) -> dict[tuple[int, str], DeadlineReason]:
    """For the agenda builder: each case's reason for missing its current first-meeting
    deadline and its current review date, keyed (case id, FIRST_MEETING or REVIEW), in one
    query. A reason for an earlier review date is not current and is left out."""
    keys = []
    for case in cases:
        for rule in RULES:
            deadline = deadline_for(case, rule)
            if deadline is not None:
                keys.append((case.id, rule, deadline.due_on))
    return {(case_id, rule): reason for (case_id, rule, _due), reason in reasons_for(keys).items()}


class ReasonError(DomainError):
    pass


def _in_words(text: str) -> dict[str, str]:
    return {"Why the deadline is missed": text}


def save_reason(
    case: Case,
    deadline: Deadline,
    text: str,
    user: User,
    *,
    once: str | None = None,
    version: "int | None" = UNCHECKED,
) -> DeadlineReason:
    """Record (or change) why the case misses `deadline`.

    `version` is the reason's version when the form was opened, None when there was no
    reason yet: a reason saved by someone else since is shown, not overwritten (StaleEdit).
    A first save claims the form's one-time token, so a double submit records once."""
    text = text.strip()
    if not text:
        raise ReasonError("Enter why the deadline is missed", field="reason")
    if len(text) > REASON_MAX:
        raise ReasonError(
            f"Why the deadline is missed must be {REASON_MAX:,} characters or fewer",
            field="reason",
        )
    existing = reason_for(case, deadline)
    if existing is None:
        submission = submissions.claim(once, "deadline_reason", user)
        reason = DeadlineReason(
            case=case,
            rule=deadline.rule,
            due_on=deadline.due_on,
            reason=text,
            recorded_by_id=user.id,
            recorded_at=utcnow(),
        )
        touch(reason, user)
        db.session.add(reason)
        try:
            db.session.flush()
        except IntegrityError:
            # Another coordinator recorded one at the same moment: show theirs beside ours.
            db.session.rollback()
            existing = reason_for(case, deadline)
            if existing is None:
                raise
            require_version(
                existing, None, yours=_in_words(text), theirs=_in_words(existing.reason)
            )
        submissions.created(submission, reason)
        action = "deadline_reason_recorded"
    else:
        if version is None:
            # A first save whose token was spent is a repeat (AlreadySaved); otherwise
            # someone recorded a reason after this form was opened.
            submissions.claim(once, "deadline_reason", user)
        require_version(existing, version, yours=_in_words(text), theirs=_in_words(existing.reason))
        existing.reason = text
        touch(existing, user)
        reason = existing
        action = "deadline_reason_changed"
    audit.record(action, case, user=user, detail=f"{deadline.rule} due {deadline.due_on}")
    db.session.commit()
    return reason
