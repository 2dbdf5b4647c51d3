"""Figures the Children's Trust Board asks for (seeds 000 and 004), as plain functions over the
database.

Every function takes a `Period` and a `district_id`; `None` means the whole authority. A merged
case is never counted: its information joined a CAF that already existed (seed 002 A4), so it
is not a new CAF. Counting is done in SQL; only small, already-aggregated results (or, for the
time rules, one row per case) come back to Python.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, and_, func, or_, select
from sqlalchemy import case as when

from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.cases.deadlines import first_meeting_deadline, working_days_between
from maf.cases.models import Case, CaseStatus, NeedStatement, case_need
from maf.dbtypes import LONDON
from maf.directory.models import Agency
from maf.extensions import db
from maf.forums.models import Forum, Meeting
from maf.outcomes import late_reasons
from maf.outcomes.models import ItemRecord, LeadKind, LeadProfessional
from maf.outcomes.services import HELD_STATUSES, discussed

REVIEW_KINDS = (ItemKind.REVIEW, ItemKind.SIGN_OFF)
# Statuses that end a CAF without a closure date on the case.
ENDED_WITHOUT_CLOSURE = (CaseStatus.WITHDRAWN, CaseStatus.STEPPED_UP, CaseStatus.MERGED)
AGE_BANDS = (("0–4", 0, 4), ("5–10", 5, 10), ("11–12", 11, 12), ("13–15", 13, 15), ("16+", 16, 200))
AGE_NOT_RECORDED = "Not recorded"
NO_AGENCY = "Agency not recorded"
# Seed 003 §3.8: a parent, carer or young person can be the lead professional.
LEAD_WITHOUT_AGENCY = {
    LeadKind.PARENT_CARER: "Parent or carer",
    LeadKind.YOUNG_PERSON: "Young person",
}


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends included (seed 000: "to <month/year>")."""

    starts_on: date
    ends_on: date

    def __post_init__(self):
        if self.ends_on < self.starts_on:
            raise ValueError("A period cannot end before it starts")

    @property
    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        month = self.starts_on.replace(day=1)
        months = []
        while month <= self.ends_on:
            months.append(month)
            month += relativedelta(months=1)
        return months

    def month_span(self, month: date) -> tuple[date, date]:
        """The part of `month` inside the period, so months add up to the period's totals."""
        last = month + relativedelta(months=1) - timedelta(days=1)
        return max(month, self.starts_on), min(last, self.ends_on)


def last_full_months(today: date, count: int = 12) -> Period:
    """The `count` whole calendar months before the one `today` is in."""
    this_month = today.replace(day=1)
    return Period(this_month - relativedelta(months=count), this_month - timedelta(days=1))


class MonthRow(NamedTuple):
    month: date
    started: int
    completed: int
    closed: int


class Totals(NamedTuple):
    started: int
    completed: int
    closed: int
    open_at_end: int


class NeedCount(NamedTuple):
    text: str
    domain: str
    count: int


class Count(NamedTuple):
    label: str
    count: int


class OrganisationCount(NamedTuple):
    name: str
    type: str
    count: int


class FirstDiscussion(NamedTuple):
    count: int
    median_days: float | None
    p90_days: int | None
    share_within_20_working_days: float | None
    within_20_working_days: int


class ReviewTimeliness(NamedTuple):
    reviews: int
    on_time: int
    share: float | None


class MissedDeadline(NamedTuple):
    case_id: int
    rule: str  # late_reasons.FIRST_MEETING or REVIEW
    due_on: date
    held_on: date  # when the forum discussed it, late
    reason: "late_reasons.DeadlineReason | None"

    @property
    def deadline(self) -> str:
        if self.rule == late_reasons.FIRST_MEETING:
            return "First meeting by its deadline"
        return "Review by the date set"

    @property
    def why(self) -> str:
        """The recorded reason; never a guess when there is none."""
        return self.reason.reason if self.reason else late_reasons.NO_REASON

    @property
    def late_by(self) -> str:
        """First meetings are counted in working days (seed 002 B3), reviews in days."""
        if self.rule == late_reasons.FIRST_MEETING:
            days = working_days_between(self.due_on, self.held_on)
            return f"{days} working day{'s' if days != 1 else ''}"
        days = (self.held_on - self.due_on).days
        return f"{days} day{'s' if days != 1 else ''}"


class MeetingUse(NamedTuple):
    date: date
    forum: str
    new_cases: int
    new_capacity: int
    reviews: int
    review_capacity: int


# --- shared conditions -------------------------------------------------------------------


def _cases(district_id: int | None) -> list:
    conditions = [Case.status != CaseStatus.MERGED]
    if district_id is not None:
        conditions.append(Case.district_id == district_id)
    return conditions


def _local_midnight(day: date) -> datetime:
    """Cases are received at a UTC instant; a period's days are days in England."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def _received_between(first: date, last: date):
    return and_(
        Case.created_at >= _local_midnight(first),
        Case.created_at < _local_midnight(last + timedelta(days=1)),
    )


def _completed_in(period: Period):
    return Case.assessment_completed_on.between(period.starts_on, period.ends_on)


def _counted(condition):
    return func.coalesce(func.sum(when((condition, 1), else_=0)), 0)


def _most_first(rows, key=lambda row: row[0]):
    """Most frequent first, ties alphabetically, the same on every database's collation."""
    return sorted(rows, key=lambda row: (-row[-1], key(row)))


def _discussions():
    """Agenda items the forum actually discussed: at a meeting that was held, with an outcome
    other than deferral (a deferred case moves on and is discussed at a later meeting)."""
    return (
        select(
            AgendaItem.case_id,
            AgendaItem.kind,
            Meeting.date,
            Meeting.id.label("meeting_id"),
            ItemRecord.next_review_on,
        )
        .join(ItemRecord, ItemRecord.agenda_item_id == AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(*discussed())
    )


# --- CAFs started, completed, closed ----------------------------------------------------


def monthly_counts(period: Period, district_id: int | None) -> list[MonthRow]:
    """Per month: CAFs received (the day the coordinator recorded it, in England), CAFs whose
    assessment was completed, and CAFs closed."""
    spans = [period.month_span(month) for month in period.months]
    columns = []
    for first, last in spans:
        columns += [
            _counted(_received_between(first, last)),
            _counted(Case.assessment_completed_on.between(first, last)),
            _counted(Case.closed_on.between(first, last)),
        ]
    sums = db.session.execute(
        select(*columns).where(
            *_cases(district_id),
            or_(
                _received_between(period.starts_on, period.ends_on),
                _completed_in(period),
                Case.closed_on.between(period.starts_on, period.ends_on),
            ),
        )
    ).one()
    return [
        MonthRow(month, *(int(value) for value in sums[3 * index : 3 * index + 3]))
        for index, month in enumerate(period.months)
    ]


def totals(period: Period, district_id: int | None) -> Totals:
    """The period's totals, and the CAFs still open at its end.

    "Open at the end" is approximate: a closure counts from its closure date, but a CAF that is
    withdrawn or stepped up now counts as ended even if that happened after the period, because
    the case keeps no date for those (only its status history does, recorded when the meeting
    was written up rather than when it was held).
    """
    rows = monthly_counts(period, district_id)
    not_closed_by_end = or_(
        Case.closed_on > period.ends_on,
        and_(Case.closed_on.is_(None), Case.status != CaseStatus.CLOSED),
    )
    open_at_end = db.session.scalar(
        select(func.count(Case.id)).where(
            *_cases(district_id),
            Case.created_at < _local_midnight(period.ends_on + timedelta(days=1)),
            Case.status.not_in(ENDED_WITHOUT_CLOSURE),
            not_closed_by_end,
        )
    )
    return Totals(
        started=sum(row.started for row in rows),
        completed=sum(row.completed for row in rows),
        closed=sum(row.closed for row in rows),
        open_at_end=open_at_end,
    )


# --- what the completed CAFs say ---------------------------------------------------------


def needs_identified(period: Period, district_id: int | None) -> list[NeedCount]:
    """Standard need statements in the CAFs completed in the period (seed 004's table)."""
    rows = db.session.execute(
        select(NeedStatement.text, NeedStatement.domain, func.count(Case.id))
        .select_from(Case)
        .join(case_need, case_need.c.case_id == Case.id)
        .join(NeedStatement, NeedStatement.id == case_need.c.need_statement_id)
        .where(*_cases(district_id), _completed_in(period))
        .group_by(NeedStatement.id, NeedStatement.text, NeedStatement.domain)
    )
    return _most_first(NeedCount(text, domain.label, count) for text, domain, count in rows)


def age_bands(period: Period, district_id: int | None) -> list[Count]:
    """Age at assessment of the CAFs completed in the period; every band, even when empty.
    "Not recorded" appears only when some case has no age."""
    by_age = db.session.execute(
        select(Case.age_at_assessment, func.count(Case.id))
        .where(*_cases(district_id), _completed_in(period))
        .group_by(Case.age_at_assessment)
    ).all()
    bands = [
        Count(band, sum(n for age, n in by_age if age is not None and low <= age <= high))
        for band, low, high in AGE_BANDS
    ]
    unknown = sum(n for age, n in by_age if age is None)
    return bands + ([Count(AGE_NOT_RECORDED, unknown)] if unknown else [])


def settings(period: Period, district_id: int | None) -> list[Count]:
    """Where the CAFs completed in the period came from (seed 004); settings with none left
    out."""
    rows = db.session.execute(
        select(Case.setting_type, func.count(Case.id))
        .where(*_cases(district_id), _completed_in(period))
        .group_by(Case.setting_type)
    )
    return _most_first(Count(setting.label, count) for setting, count in rows)


def organisations(period: Period, district_id: int | None) -> list[OrganisationCount]:
    """Organisations whose practitioners completed CAFs in the period (seed 000, Table 1)."""
    rows = db.session.execute(
        select(Agency.name, Agency.type, func.count(Case.id))
        .join(Agency, Agency.id == Case.referrer_agency_id)
        .where(*_cases(district_id), _completed_in(period))
        .group_by(Agency.id, Agency.name, Agency.type)
    )
    return _most_first(OrganisationCount(name, kind.label, count) for name, kind, count in rows)


def lead_roles(period: Period, district_id: int | None) -> tuple[list[Count], list[Count]]:
    """Lead professional roles taken up in the period (seed 004: which agencies hold them), by
    agency and by type of agency; a parent, carer or young person leading counts as such."""
    rows = db.session.execute(
        select(LeadProfessional.kind, Agency.name, Agency.type, func.count(LeadProfessional.id))
        .join(Case, Case.id == LeadProfessional.case_id)
        .outerjoin(Agency, Agency.id == LeadProfessional.agency_id)
        .where(
            *_cases(district_id),
            LeadProfessional.starts_on.between(period.starts_on, period.ends_on),
        )
        .group_by(LeadProfessional.kind, Agency.id, Agency.name, Agency.type)
    )
    by_agency: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for kind, name, agency_type, count in rows:
        if kind in LEAD_WITHOUT_AGENCY:
            name = type_label = LEAD_WITHOUT_AGENCY[kind]
        elif name is None:
            name = type_label = NO_AGENCY
        else:
            type_label = agency_type.label
        by_agency[name] = by_agency.get(name, 0) + count
        by_type[type_label] = by_type.get(type_label, 0) + count
    return (
        _most_first(Count(*pair) for pair in by_agency.items()),
        _most_first(Count(*pair) for pair in by_type.items()),
    )


# --- the time rules ----------------------------------------------------------------------


def nearest_rank(sorted_values: list, percentile: float):
    """The nearest-rank percentile: the smallest value with at least `percentile`% of the
    values at or below it, so it is always one of the values (no interpolation)."""
    rank = math.ceil(percentile / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def _first_discussed_in(period: Period, district_id: int | None) -> list:
    """(case id, assessment completed, first discussed, received) for the cases whose first
    forum discussion fell in the period."""
    discussed = _discussions().subquery()
    first = (
        select(discussed.c.case_id, func.min(discussed.c.date).label("first_on"))
        .group_by(discussed.c.case_id)
        .subquery()
    )
    return db.session.execute(
        select(Case.id, Case.assessment_completed_on, first.c.first_on, Case.created_at)
        .join(first, first.c.case_id == Case.id)
        .where(*_cases(district_id), first.c.first_on.between(period.starts_on, period.ends_on))
        .order_by(first.c.first_on, Case.id)
    ).all()


def first_discussion(period: Period, district_id: int | None) -> FirstDiscussion:
    """Seed 002 B3: the first meeting within 20 working days of the assessment.

    For the cases whose first forum discussion fell in the period: calendar days from the
    assessment being completed to that meeting (median; 90th percentile by nearest rank), and
    the share held by the 20-working-day deadline (weekends and England bank holidays do not
    count).
    """
    rows = _first_discussed_in(period, district_id)
    if not rows:
        return FirstDiscussion(0, None, None, None, 0)
    days = sorted((first_on - completed).days for _id, completed, first_on, _at in rows)
    within = sum(
        first_on <= first_meeting_deadline(completed, received_at)
        for _id, completed, first_on, received_at in rows
    )
    return FirstDiscussion(
        count=len(days),
        median_days=statistics.median(days),
        p90_days=nearest_rank(days, 90),
        share_within_20_working_days=within / len(days),
        within_20_working_days=within,
    )


def _reviews_held_in(period: Period, district_id: int | None, columns):
    """Reviews and sign-offs discussed at meetings held in the period, each with the review
    date the forum set when it last discussed the case before (`due_by`; reviews with none
    are left out). `columns(c)` says what to select from their columns `c`."""
    discussed = _discussions().where(Meeting.date <= period.ends_on).subquery()
    ordered = select(
        discussed.c.case_id,
        discussed.c.kind,
        discussed.c.date,
        func.lag(discussed.c.next_review_on, type_=Date)
        .over(
            partition_by=discussed.c.case_id,
            order_by=(discussed.c.date, discussed.c.meeting_id),
        )
        .label("due_by"),
    ).subquery()
    return (
        select(*columns(ordered.c))
        .select_from(ordered)
        .join(Case, Case.id == ordered.c.case_id)
        .where(
            *_cases(district_id),
            ordered.c.kind.in_(REVIEW_KINDS),
            ordered.c.date.between(period.starts_on, period.ends_on),
            ordered.c.due_by.is_not(None),
        )
    )


def reviews_on_time(period: Period, district_id: int | None) -> ReviewTimeliness:
    """Seed 002 C1: reviews every three months.

    Reviews and sign-offs discussed at meetings held in the period. A review is on time when
    its meeting was on or before the review date the forum set when it last discussed the
    case; a review with no such date (none was set) is not counted.
    """
    reviews, on_time = db.session.execute(
        _reviews_held_in(
            period, district_id, lambda c: (func.count(), _counted(c.date <= c.due_by))
        )
    ).one()
    return ReviewTimeliness(reviews, int(on_time), on_time / reviews if reviews else None)


def missed_deadlines(period: Period, district_id: int | None) -> list[MissedDeadline]:
    """The late ones among the discussions counted above: first discussions after the
    20-working-day deadline (seed 002 B3) and reviews held after their review date (seed 002
    C1), in the period, oldest first, each with the reason a coordinator recorded for missing
    that deadline (None: no reason recorded)."""
    late_first = [
        (case_id, late_reasons.FIRST_MEETING, deadline, first_on)
        for case_id, completed, first_on, received_at in _first_discussed_in(period, district_id)
        if first_on > (deadline := first_meeting_deadline(completed, received_at))
    ]
    held = _reviews_held_in(period, district_id, lambda c: (c.case_id, c.date, c.due_by))
    late_reviews = [
        (case_id, late_reasons.REVIEW, due_by, held_on)
        for case_id, held_on, due_by in db.session.execute(held)
        if held_on > due_by
    ]
    missed = late_first + late_reviews
    reasons = late_reasons.reasons_for((case_id, rule, due) for case_id, rule, due, _on in missed)
    return sorted(
        (
            MissedDeadline(case_id, rule, due, held_on, reasons.get((case_id, rule, due)))
            for case_id, rule, due, held_on in missed
        ),
        key=lambda m: (m.held_on, m.case_id, m.rule),
    )


# --- the forums --------------------------------------------------------------------------


def forum_use(period: Period, district_id: int | None) -> list[MeetingUse]:
    """Each meeting held in the period: cases discussed against the forum's places (seed 004:
    up to 10 new cases and 30 reviews). A deferred case is counted at the meeting that went on
    to discuss it. Places are the forum's current settings."""
    counted = and_(AgendaItem.id.is_not(None), Case.id.is_not(None))
    conditions = [
        Meeting.status.in_(HELD_STATUSES),
        Meeting.date.between(period.starts_on, period.ends_on),
    ]
    if district_id is not None:
        conditions.append(Forum.district_id == district_id)
    rows = db.session.execute(
        select(
            Meeting.date,
            Forum.name,
            _counted(and_(counted, AgendaItem.kind == ItemKind.NEW_CASE)),
            Forum.new_case_capacity,
            _counted(and_(counted, AgendaItem.kind.in_(REVIEW_KINDS))),
            Forum.review_capacity,
        )
        .select_from(Meeting)
        .join(Forum, Forum.id == Meeting.forum_id)
        .outerjoin(
            AgendaItem,
            and_(AgendaItem.meeting_id == Meeting.id, AgendaItem.status == ItemStatus.SCHEDULED),
        )
        .outerjoin(Case, and_(Case.id == AgendaItem.case_id, Case.status != CaseStatus.MERGED))
        .where(*conditions)
        .group_by(
            Meeting.id, Meeting.date, Forum.name, Forum.new_case_capacity, Forum.review_capacity
        )
        .order_by(Meeting.date, Forum.name, Meeting.id)
    )
    return [
        MeetingUse(day, forum, int(new), new_capacity, int(reviews), review_capacity)
        for day, forum, new, new_capacity, reviews, review_capacity in rows
    ]
