"""The time rules where the agenda is built: each case's first-meeting deadline (seed 002 B3,
20 working days from the completed assessment) and review date (seed 002 C1, every 3 months),
and whether the meeting being built is after it, with the earliest meeting that is not.

Plain functions of the stored data, so the builder's warnings are tested without a page."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.cases.deadlines import working_days_between
from maf.cases.models import Case
from maf.dbtypes import london_today
from maf.extensions import db
from maf.forums.models import Forum, Meeting
from maf.forums.services import EDITABLE_STATUSES
from maf.outcomes import late_reasons
from maf.words import plural

# The rules' names as the reasons recorded for them know them.
FIRST_MEETING = late_reasons.FIRST_MEETING
REVIEW = late_reasons.REVIEW


@dataclass(frozen=True)
class DeadlineNote:
    """One case's time rule as it applies to the meeting being built."""

    case: Case
    rule: str  # FIRST_MEETING or REVIEW: the rule's name in follow-up pages' links
    deadline: date
    meeting: Meeting
    # The earliest editable meeting of any forum of the district, from today up to the
    # deadline: where the case could still be heard in time. None when there is none.
    in_time: Meeting | None = None
    reason: str = ""  # why the coordinator recorded it is late, if they have

    @property
    def late(self) -> bool:
        return self.meeting.date > self.deadline

    @property
    def deadline_text(self) -> str:
        what = "First meeting by" if self.rule == FIRST_MEETING else "Review due by"
        return f"{what} {self.deadline:%-d %B %Y}"

    @property
    def warning(self) -> str:
        """'This meeting is 3 working days after the first-meeting deadline (12 January
        2027)', or '' when the meeting is in time."""
        if not self.late:
            return ""
        if self.rule == FIRST_MEETING:
            # Seed 002 B3 counts working days; a meeting on the weekend after a Friday
            # deadline is still late, by no working day.
            days = working_days_between(self.deadline, self.meeting.date)
            by = f"{plural(days, 'working day')} " if days else ""
            rule = "the first-meeting deadline"
        else:
            by = f"{plural((self.meeting.date - self.deadline).days, 'day')} "
            rule = "the review date"
        return f"This meeting is {by}after {rule} ({self.deadline:%-d %B %Y})"


def _rule_of(case: Case, kind: ItemKind) -> tuple[str, date] | None:
    """A new case answers to the first-meeting deadline, a review or sign-off to its review
    date: each as the page recording a reason for missing it computes it."""
    rule = FIRST_MEETING if kind == ItemKind.NEW_CASE else REVIEW
    deadline = late_reasons.deadline_for(case, rule)
    return (deadline.rule, deadline.due_on) if deadline else None


def deadline_notes(meeting: Meeting, cases: list[tuple[Case, ItemKind]]) -> dict[int, DeadlineNote]:
    """Each case's note for this meeting, by case id: a new case (ready, or on the agenda as a
    new case) against its first-meeting deadline, a review or sign-off against its review
    date, with the reason the coordinator recorded for missing it (maf.outcomes.late_reasons).
    Three queries however many cases: the district's meetings that could still be in time, and
    the reasons, are each read once."""
    rules = {case.id: (case, rule) for case, kind in cases if (rule := _rule_of(case, kind))}
    if not rules:
        return {}
    today = london_today()
    latest = max(deadline for _, (_, deadline) in rules.values())
    upcoming = list(
        db.session.scalars(
            select(Meeting)
            .join(Forum, Forum.id == Meeting.forum_id)
            .where(
                Forum.district_id == meeting.forum.district_id,
                Meeting.status.in_(EDITABLE_STATUSES),
                Meeting.date >= today,
                Meeting.date <= latest,
                Meeting.id != meeting.id,
            )
            .order_by(Meeting.date, Meeting.id)
        )
    )
    reasons = late_reasons.current_reasons([case for case, _ in rules.values()])
    notes = {}
    for case_id, (case, (rule, deadline)) in rules.items():
        in_time = next((m for m in upcoming if m.date <= deadline), None)
        reason = reasons.get((case_id, rule))
        notes[case_id] = DeadlineNote(
            case, rule, deadline, meeting, in_time, reason.reason if reason else ""
        )
    return notes
