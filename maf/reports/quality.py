"""Quality assurance of CAFs (seed 002 E): the 1-in-10 audit of closed CAFs for quality of
process and impact on outcomes, and the outcomes questionnaire's distance travelled, both
analysed every three months.
"""

import math
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import User
from maf.cases.models import Case, CaseStatus
from maf.dbtypes import london_today, utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import Meeting
from maf.outcomes.models import ProgressAnswer, ProgressUpdate
from maf.reports.models import AuditSample, Rating, SampledCase
from maf.rules import services as rules
from maf.rules.words import worded, words

QUARTER_START_MONTHS = (1, 4, 7, 10)


class QualityError(DomainError):
    """A rule about the audit sample or a case audit refused the change."""


# --- quarters ------------------------------------------------------------------------------


def quarter_end(starts_on: date) -> date:
    """The first day after the quarter (exclusive end)."""
    month = starts_on.month + 3
    return date(starts_on.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def quarter_label(starts_on: date) -> str:
    last = quarter_end(starts_on).replace(day=1)
    last_month = date(last.year - (last.month == 1), (last.month - 2) % 12 + 1, 1)
    return f"{starts_on:%B} to {last_month:%B %Y}"


def quarter_containing(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def completed_quarters(today: date, count: int = 8) -> list[date]:
    """The starts of the last `count` quarters that have ended, latest first."""
    starts = []
    current = quarter_containing(today)
    for _ in range(count):
        month = current.month - 3
        current = date(current.year - (month < 1), (month - 1) % 12 + 1, 1)
        starts.append(current)
    return starts


# --- the audit sample ------------------------------------------------------------------------


def closed_in_quarter(quarter_starts_on: date) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case)
            .where(
                Case.status == CaseStatus.CLOSED,
                Case.closed_on >= quarter_starts_on,
                Case.closed_on < quarter_end(quarter_starts_on),
            )
            .order_by(Case.id)
        )
    )


def sample_one_in(at: datetime) -> int:
    """Seed 002 E: "a proportion of closed CAFs (suggested 1 in 10)", a local rule: the
    fraction in force when a sample is drawn (at its `drawn_at`, to draw it again)."""
    return rules.in_force_at("audit_sample_one_in", at)


def sample_size(closed: int, districts: int, one_in: int) -> int:
    return max(math.ceil(closed / one_in), districts) if closed else 0


def choose(cases: list[Case], seed: str, one_in: int) -> list[Case]:
    """One CAF per district first, so every district's practice is looked at, then random
    others up to 1 in `one_in`. `cases` must be in a stable order (by id) for the seed to
    reproduce the choice."""
    # Reproducible from the recorded seed, which a cryptographic generator could not be.
    rng = random.Random(seed)  # noqa: S311
    by_district: dict[int, list[Case]] = defaultdict(list)
    for case in cases:
        by_district[case.district_id].append(case)
    chosen = [rng.choice(by_district[district_id]) for district_id in sorted(by_district)]
    rest = [case for case in cases if case not in chosen]
    extra = sample_size(len(cases), len(by_district), one_in) - len(chosen)
    chosen += rng.sample(rest, extra)
    return sorted(chosen, key=lambda case: case.id)


def draw_sample(
    quarter_starts_on: date,
    user: User,
    seed: str | None = None,
    *,
    today: date | None = None,
    once: str | None = None,
) -> AuditSample:
    """Draw the quarter's sample of closed CAFs; the seed is kept so anyone can check the
    choice was random by drawing again with it. `once` is the form's token: the same form
    sent again is answered as already saved, not as "already drawn"."""
    today = today or london_today()
    if quarter_starts_on.day != 1 or quarter_starts_on.month not in QUARTER_START_MONTHS:
        raise QualityError(
            "Choose a quarter starting in January, April, July or October", "quarter"
        )
    if quarter_end(quarter_starts_on) > today:
        # Drawn early, CAFs closing later in the quarter could never be chosen.
        raise QualityError("The sample can be drawn once the quarter has ended", "quarter")
    submission = submissions.claim(once, "audit_sample", user)
    if db.session.scalar(
        select(AuditSample.id).where(AuditSample.quarter_starts_on == quarter_starts_on)
    ):
        raise QualityError(
            f"A sample has already been drawn for {quarter_label(quarter_starts_on)}", "quarter"
        )
    seed = (seed or "").strip() or secrets.token_hex(8)
    if len(seed) > 64:
        raise QualityError("The seed must be 64 characters or fewer", "seed")
    closed = closed_in_quarter(quarter_starts_on)
    if not closed:
        raise QualityError(
            f"No {words().assessments_short} were closed in {quarter_label(quarter_starts_on)}, "
            "so there is nothing to audit",
            "quarter",
        )
    drawn_at = utcnow()
    sample = AuditSample(
        quarter_starts_on=quarter_starts_on,
        seed=seed,
        closed_in_quarter=len(closed),
        drawn_by_id=user.id,
        drawn_at=drawn_at,
        cases=[
            SampledCase(case_id=case.id) for case in choose(closed, seed, sample_one_in(drawn_at))
        ],
    )
    db.session.add(sample)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone else drew the same quarter between our check and this insert.
        db.session.rollback()
        raise QualityError(
            f"A sample has already been drawn for {quarter_label(quarter_starts_on)}", "quarter"
        ) from None
    submissions.created(submission, sample)
    audit.record(
        "audit_sample_drawn",
        sample,
        user=user,
        detail=(
            f"quarter {quarter_starts_on}: {len(sample.cases)} of {len(closed)} closed "
            f"{words().assessments_short}"
        ),
    )
    db.session.commit()
    return sample


def samples() -> list[AuditSample]:
    return list(
        db.session.scalars(select(AuditSample).order_by(AuditSample.quarter_starts_on.desc()))
    )


def sampled_cases(sample: AuditSample, district_ids: set[int] | None) -> list[SampledCase]:
    """The sample's cases in these districts (None: all)."""
    return [
        sampled
        for sampled in sample.cases
        if district_ids is None or sampled.case.district_id in district_ids
    ]


def record_audit(
    sampled_case: SampledCase,
    process_quality: Rating | None,
    outcome_impact: Rating | None,
    notes: str,
    auditor_name: str,
    audited_on: date | None,
    user: User,
    *,
    today: date | None = None,
) -> SampledCase:
    """Record (or correct) the audit of one sampled CAF."""
    today = today or london_today()
    if process_quality is None:
        raise QualityError(
            worded("Select how good the quality of the {w.assessment_short} process was"),
            "process_quality",
        )
    if outcome_impact is None:
        raise QualityError(
            worded("Select how much impact the {w.assessment_short} had on outcomes"),
            "outcome_impact",
        )
    auditor_name = auditor_name.strip()
    if not auditor_name:
        raise QualityError("Enter the name of the auditor", "auditor_name")
    if len(auditor_name) > 200:
        raise QualityError("The auditor's name must be 200 characters or fewer", "auditor_name")
    if audited_on is None:
        raise QualityError("Enter the date of the audit", "audited_on")
    if audited_on > today:
        raise QualityError("The date of the audit must be today or in the past", "audited_on")
    closed_on = sampled_case.case.closed_on
    if closed_on is not None and audited_on < closed_on:
        raise QualityError(
            worded(
                "The date of the audit must be on or after the date the {w.assessment_short} closed"
            ),
            "audited_on",
        )
    first = sampled_case.audited_on is None
    sampled_case.process_quality = Rating(process_quality)
    sampled_case.outcome_impact = Rating(outcome_impact)
    sampled_case.notes = notes.strip()
    sampled_case.auditor_name = auditor_name
    sampled_case.audited_on = audited_on
    sampled_case.recorded_by_id = user.id
    audit.record(
        "case_audit_recorded" if first else "case_audit_changed",
        sampled_case.case,
        user=user,
        detail=f"sample {sampled_case.sample_id}: process {process_quality}, "
        f"outcomes {outcome_impact}",
    )
    db.session.commit()
    return sampled_case


@dataclass(frozen=True)
class QuarterSummary:
    sampled: int
    audited: int
    process_quality: dict[Rating, int]
    outcome_impact: dict[Rating, int]


def quarter_summary(sample: AuditSample, district_ids: set[int] | None = None) -> QuarterSummary:
    """How many were audited and how they were rated, for the quarterly evaluation (seed 002 E);
    `district_ids` narrows it to those districts (None: the whole sample)."""
    cases = sampled_cases(sample, district_ids)
    audited = [sampled for sampled in cases if sampled.audited_on is not None]
    return QuarterSummary(
        sampled=len(cases),
        audited=len(audited),
        process_quality={
            rating: sum(s.process_quality == rating for s in audited) for rating in Rating
        },
        outcome_impact={
            rating: sum(s.outcome_impact == rating for s in audited) for rating in Rating
        },
    )


# --- outcomes: distance travelled --------------------------------------------------------------

SCORES = {
    ProgressAnswer.GREAT: 4,
    ProgressAnswer.GOOD: 3,
    ProgressAnswer.OK: 2,
    ProgressAnswer.NOT_GOOD: 1,
}


@dataclass(frozen=True)
class Distance:
    """How far a child's own answers moved between their first and latest questionnaires."""

    case_id: int
    first_on: date
    latest_on: date
    # Latest score minus first score, for each question answered both times.
    changes: dict[int, int]

    @property
    def total_change(self) -> int:
        return sum(self.changes.values())


def _submitted_updates(case_ids: Iterable[int], up_to: date | None = None):
    statement = (
        select(ProgressUpdate, Meeting.date)
        .join(Meeting, ProgressUpdate.meeting_id == Meeting.id)
        .where(ProgressUpdate.case_id.in_(case_ids), ProgressUpdate.submitted_at.is_not(None))
        .options(selectinload(ProgressUpdate.answers))
        .order_by(ProgressUpdate.case_id, Meeting.date, ProgressUpdate.id)
    )
    if up_to is not None:
        statement = statement.where(Meeting.date <= up_to)
    return db.session.execute(statement).all()


def _distances(rows) -> dict[int, Distance]:
    by_case: dict[int, list[tuple[date, dict[int, int]]]] = defaultdict(list)
    for update, meeting_date in rows:
        scores = {answer.question: SCORES[answer.answer] for answer in update.answers}
        if scores:
            by_case[update.case_id].append((meeting_date, scores))
    distances = {}
    for case_id, questionnaires in by_case.items():
        if len(questionnaires) < 2:
            continue
        (first_on, first), (latest_on, latest) = questionnaires[0], questionnaires[-1]
        changes = {q: latest[q] - first[q] for q in sorted(first.keys() & latest.keys())}
        distances[case_id] = Distance(case_id, first_on, latest_on, changes)
    return distances


def distance_travelled(case: Case) -> Distance | None:
    """First against latest submitted questionnaire, by meeting date; None until there are
    two."""
    return _distances(_submitted_updates([case.id])).get(case.id)


@dataclass(frozen=True)
class DistanceSummary:
    cases: int
    mean_total_change: float | None
    improved: int
    same: int
    worse: int
    mean_change_by_question: dict[int, float] = field(default_factory=dict)


def distance_summary(period, district_id: int | None = None) -> DistanceSummary:
    """Cases whose latest questionnaire up to the end of `period` falls in it; None for
    `district_id` means every district. `period` is (first day, last day), both included, or
    anything with `starts_on` and `ends_on` (the board report's Period).

    Answers after the period are ignored, so a past quarter's figures do not change later.
    """
    if hasattr(period, "starts_on"):
        starts_on, ends_on = period.starts_on, period.ends_on
    else:
        starts_on, ends_on = period
    in_period = (
        select(ProgressUpdate.case_id)
        .join(Meeting, ProgressUpdate.meeting_id == Meeting.id)
        .where(
            ProgressUpdate.submitted_at.is_not(None),
            Meeting.date >= starts_on,
            Meeting.date <= ends_on,
        )
    )
    if district_id is not None:
        in_period = in_period.join(Case, ProgressUpdate.case_id == Case.id).where(
            Case.district_id == district_id
        )
    distances = [
        distance
        for distance in _distances(_submitted_updates(in_period, up_to=ends_on)).values()
        if starts_on <= distance.latest_on <= ends_on
    ]
    totals = [distance.total_change for distance in distances]
    by_question: dict[int, list[int]] = defaultdict(list)
    for distance in distances:
        for question, change in distance.changes.items():
            by_question[question].append(change)
    return DistanceSummary(
        cases=len(distances),
        mean_total_change=sum(totals) / len(totals) if totals else None,
        improved=sum(total > 0 for total in totals),
        same=sum(total == 0 for total in totals),
        worse=sum(total < 0 for total in totals),
        mean_change_by_question={
            question: sum(changes) / len(changes)
            for question, changes in sorted(by_question.items())
        },
    )
