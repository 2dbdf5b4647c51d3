"""Finding a case: the search, the case list and "My referrals".

Every one of them reads only `visible_cases` (maf.auth.permissions), the SQL form of
`can_see_case`, so a person finds exactly the cases whose pages they may open, and a child they
may not see looks the same as a child who does not exist. Archived cases are not here (seed 002
D3: they are read through the archive, by case number).

A search by name goes through the existing-CAF matcher (maf.cases.matching), so typos and short
forms still find the child, and each result carries the matcher's explanation. Searches and
downloads are audited by the kinds of criteria used and the number of results, never the
typed values: the audit log must not become a second copy of children's names.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from maf.agendas.models import AgendaItem, ItemStatus
from maf.auth.models import User
from maf.auth.permissions import visible_case_condition
from maf.cases import deadlines, matching
from maf.cases.models import Case, CaseStatus, Child, ChildMatchKey
from maf.cases.services import OPEN_STATUSES, find_similar_children, person_of_child
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forums.models import Forum, Meeting, MeetingStatus
from maf.outcomes.followup import UPCOMING_STATUSES, first_discussions
from maf.outcomes.models import LeadProfessional
from maf.outcomes.services import HELD_STATUSES
from maf.rules.words import words

# More than this many results means the search was too broad to read: say so.
RESULT_LIMIT = 50
# The most cases matching the criteria looked at (a postcode or a date of birth alone may
# match many in a large authority); beyond it the page asks for another detail.
CANDIDATE_LIMIT = 2_000
PAGE_SIZE = 50
# A search by name without a date of birth: how alike the names must be (out of 100, as
# `matching.compare_names` scores them). A one-letter slip in one name scores about 93, a short
# form about 94; the same family name with a different given name (a brother) about 44.
NAME_ONLY_THRESHOLD = 70.0
# As find_similar_children: the most key-sharing children scored. A common name pair (Jack
# Smith) shares its keys with more children than that in a large authority; the page then
# says so and asks for the date of birth.
NAME_ONLY_LIMIT = 200


# --- what a row shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    case: Case
    forum: Forum | None
    lead: LeadProfessional | None
    last_meeting: Meeting | None
    next_meeting: Meeting | None
    # The matcher's plain-words reasons, for a search by name.
    explanation: tuple[str, ...] = ()


def _meetings_of(case_ids: list[int], today: date) -> dict[int, tuple[Meeting | None, ...]]:
    """Each case's last held meeting and next planned meeting it is on the agenda of."""
    rows = db.session.execute(
        select(AgendaItem.case_id, Meeting)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id.in_(case_ids),
            AgendaItem.status == ItemStatus.SCHEDULED,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .options(selectinload(Meeting.forum))
    ).all()
    found: dict[int, list[Meeting | None]] = {}
    for case_id, meeting in rows:
        last, upcoming = found.setdefault(case_id, [None, None])
        if meeting.status in HELD_STATUSES and (last is None or meeting.date > last.date):
            found[case_id][0] = meeting
        if (
            meeting.status in UPCOMING_STATUSES
            and meeting.date >= today
            and (upcoming is None or meeting.date < upcoming.date)
        ):
            found[case_id][1] = meeting
    return {case_id: tuple(pair) for case_id, pair in found.items()}


def case_rows(
    cases: list[Case], today: date, explanations: dict[int, tuple[str, ...]] | None = None
) -> list[CaseRow]:
    """The rows of a list of cases, in four statements whatever the number of cases."""
    ids = [c.id for c in cases]
    if not ids:
        return []
    leads = {
        lead.case_id: lead
        for lead in db.session.scalars(
            select(LeadProfessional)
            .where(LeadProfessional.case_id.in_(ids), LeadProfessional.ends_on.is_(None))
            .options(selectinload(LeadProfessional.agency))
            .order_by(LeadProfessional.starts_on, LeadProfessional.id)
        )
    }
    meetings = _meetings_of(ids, today)
    district_forums: dict[int, Forum] = {}
    for forum in db.session.scalars(
        select(Forum)
        .where(Forum.district_id.in_({c.district_id for c in cases}))
        .order_by(Forum.name.desc())
    ):
        district_forums[forum.district_id] = forum  # the first by name wins
    rows = []
    for c in cases:
        last, upcoming = meetings.get(c.id, (None, None))
        shown_at = upcoming or last
        rows.append(
            CaseRow(
                case=c,
                forum=shown_at.forum if shown_at else district_forums.get(c.district_id),
                lead=leads.get(c.id),
                last_meeting=last,
                next_meeting=upcoming,
                explanation=(explanations or {}).get(c.id, ()),
            )
        )
    return rows


def _with_row_details(statement: Select) -> Select:
    return (
        statement.join(Case.child)
        .join(Case.district)
        .options(contains_eager(Case.child), contains_eager(Case.district))
    )


# --- the search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCriteria:
    """What was searched for, each already checked and normalised by the form."""

    name: str = ""
    date_of_birth: date | None = None
    case_number: int | None = None
    nhs_number: str = ""  # 10 digits
    upn: str = ""  # 13 characters, capitals
    postcode: str = ""  # "LE11 3TU"

    KINDS = (
        ("name", "name"),
        ("date_of_birth", "date of birth"),
        ("case_number", "case number"),
        ("nhs_number", "NHS number"),
        ("upn", "UPN"),
        ("postcode", "postcode"),
    )

    def kinds(self) -> list[str]:
        """Which kinds of criteria were used, in words: what the audit records."""
        return [words for name, words in self.KINDS if getattr(self, name)]

    def split_name(self) -> tuple[str, str]:
        """(given, family): "Smith, Jessica" or "Jessica Smith"; "Mary Jane Smith" has the
        given names "Mary Jane"."""
        if "," in self.name:
            family, _, given = self.name.partition(",")
            return " ".join(given.split()), " ".join(family.split())
        words = self.name.split()
        if len(words) == 1:
            return "", words[0]
        return " ".join(words[:-1]), words[-1] if words else ""


class SearchError(ValueError):
    """The criteria cannot be searched as they are; `field` says which to change."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SearchOutcome:
    rows: list[CaseRow]
    # True when more cases matched than RESULT_LIMIT: the first are shown.
    more: bool = False
    explained: bool = False  # searched by name: the rows carry the matcher's reasons
    notes: list[str] = field(default_factory=list)


def _children_by_name(criteria: SearchCriteria) -> tuple[dict[int, matching.MatchResult], bool]:
    """Children whose names (and date of birth, when given) the matcher finds alike, and
    whether a name alone was too common for every such child to be scored."""
    given, family = criteria.split_name()
    if criteria.date_of_birth is not None:
        person = matching.PersonDetails(
            given_name=given,
            family_name=family,
            date_of_birth=criteria.date_of_birth,
            postcode=criteria.postcode or None,
        )
        return {child.id: result for child, result in find_similar_children(person)}, False
    keys = matching.name_keys(given, family)
    if not keys:
        raise SearchError(
            "Enter the child's given and family names, or add their date of birth: one name "
            "alone matches too many children",
            field="name",
        )

    shared = (
        select(ChildMatchKey.child_id)
        .where(ChildMatchKey.key.in_(keys))
        .group_by(ChildMatchKey.child_id)
        .order_by(func.count().desc(), ChildMatchKey.child_id.desc())
        .limit(NAME_ONLY_LIMIT)
    )
    query = matching.PersonDetails(given_name=given, family_name=family, date_of_birth=date.min)
    found = {}
    children = list(db.session.scalars(select(Child).where(Child.id.in_(shared))))
    for child in children:
        if child.date_of_birth is None:
            continue  # identity destroyed
        result = matching.compare_names(query, person_of_child(child))
        if result.score >= NAME_ONLY_THRESHOLD:
            found[child.id] = result
    return found, len(children) >= NAME_ONLY_LIMIT


def search(user: User, criteria: SearchCriteria, today: date) -> SearchOutcome:
    """The cases `user` may see that match every criterion given, best match first.

    In two steps: the cases matching the criteria (through the child's indexes), then those of
    them the user may see. Asked in one statement, a planner may start from the visibility
    condition's index and walk a whole district (bench/search.py: half a second among a
    million cases); given the case numbers, it looks each one up.
    """
    statement = select(Case.id).join(Case.child)
    if criteria.case_number is not None:
        statement = statement.where(Case.id == criteria.case_number)
    if criteria.nhs_number:
        statement = statement.where(Child.nhs_number == criteria.nhs_number)
    if criteria.upn:
        statement = statement.where(Child.upn == criteria.upn)
    if criteria.postcode:
        statement = statement.where(Child.postcode == criteria.postcode)
    results: dict[int, matching.MatchResult] = {}
    common = False
    if criteria.name:
        results, common = _children_by_name(criteria)
        if not results:
            return SearchOutcome(rows=[], explained=True, notes=_notes(criteria, common))
        statement = statement.where(Case.child_id.in_(results))
    elif criteria.date_of_birth is not None:
        statement = statement.where(Child.date_of_birth == criteria.date_of_birth)
    matching_ids = list(db.session.scalars(statement.limit(CANDIDATE_LIMIT + 1)))
    cases = list(
        db.session.scalars(
            _with_row_details(select(Case)).where(
                Case.id.in_(matching_ids[:CANDIDATE_LIMIT]), visible_case_condition(user)
            )
        )
    )
    # Sorted here, not by the database: an ORDER BY case number lets a planner walk every
    # case in that order, testing each, rather than start from the few children searched for.
    cases.sort(key=lambda c: (-(results[c.child_id].score if c.child_id in results else 0), -c.id))
    shown = cases[:RESULT_LIMIT]
    explanations = {c.id: results[c.child_id].reasons for c in shown if c.child_id in results}
    return SearchOutcome(
        rows=case_rows(shown, today, explanations),
        more=len(cases) > RESULT_LIMIT or len(matching_ids) > CANDIDATE_LIMIT,
        explained=bool(criteria.name),
        notes=_notes(criteria, common),
    )


def _notes(criteria: SearchCriteria, common: bool) -> list[str]:
    if common:
        return [
            "This name is common: only the children whose records are most alike were "
            "compared. Add the date of birth to be sure of finding the child."
        ]
    if criteria.name and criteria.date_of_birth is None:
        return [
            "Searched by name alone. A misspelling that changes how a name sounds may be "
            "missed: add the date of birth to find it."
        ]
    return []


# --- the case list ------------------------------------------------------------------------

# Statuses in the order a case passes through them, for sorting by status.
STATUS_ORDER = list(CaseStatus)
_STATUS_RANK = case(
    {status.value: rank for rank, status in enumerate(STATUS_ORDER)}, value=Case.status
)
SORTS = {
    # "+ 0": ordered by the number's value, not walked along its index. With a LIMIT, the
    # PostgreSQL planner walked the primary key newest first, testing every case of a million
    # until 50 of the district's came up (bench/search.py: 250 ms); now it reads the
    # district's cases through their index and sorts them.
    "number": ("Case", (Case.id + 0,)),
    "child": ("Child", (func.lower(Child.family_name), func.lower(Child.given_name))),
    "status": ("Status", (_STATUS_RANK,)),
    "district": ("District", (District.name,)),
    "review": ("Next review", (Case.next_review_on,)),
}
DEFAULT_SORT = ("number", "descending")


@dataclass(frozen=True)
class CaseListFilter:
    """What the case list is filtered and sorted by; anything unreadable is ignored."""

    statuses: tuple[CaseStatus, ...] = ()
    district_id: int | None = None
    forum_id: int | None = None
    agency_id: int | None = None
    review_overdue: bool = False
    first_meeting_missed: bool = False
    sort: str = DEFAULT_SORT[0]
    order: str = DEFAULT_SORT[1]
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "CaseListFilter":
        def number(name) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None

        late = args.getlist("late")
        sort = args.get("sort", "")
        return cls(
            statuses=tuple(s for s in STATUS_ORDER if s.value in args.getlist("status")),
            district_id=number("district"),
            forum_id=number("forum"),
            agency_id=number("agency"),
            review_overdue="review" in late,
            first_meeting_missed="first-meeting" in late,
            sort=sort if sort in SORTS else DEFAULT_SORT[0],
            order="ascending" if args.get("order") == "ascending" else "descending",
            page=max(1, min(number("page") or 1, 100_000)),
        )

    def args(self, **changes) -> dict[str, object]:
        """The query string for this filter (with `changes`), for links."""
        values = {
            "status": [s.value for s in self.statuses],
            "district": self.district_id or "",
            "forum": self.forum_id or "",
            "agency": self.agency_id or "",
            "late": (["review"] if self.review_overdue else [])
            + (["first-meeting"] if self.first_meeting_missed else []),
            "sort": self.sort,
            "order": self.order,
            "page": self.page,
        } | changes
        if values["page"] == 1:
            del values["page"]
        return {name: value for name, value in values.items() if value not in ("", [], None)}

    def sorted_by(self, column: str) -> dict[str, object]:
        """The query string that sorts by `column`: ascending first, then the other way."""
        order = "descending" if self.sort == column and self.order == "ascending" else "ascending"
        return self.args(sort=column, order=order, page=1)

    def describe(self) -> str:
        """The filters in words, for the audit log: ids and statuses, never names."""
        parts = []
        if self.statuses:
            parts.append("status " + "/".join(s.value for s in self.statuses))
        for label, value in (
            ("district", self.district_id),
            ("forum", self.forum_id),
            ("agency", self.agency_id),
        ):
            if value is not None:
                parts.append(f"{label} {value}")
        if self.review_overdue:
            parts.append("review overdue")
        if self.first_meeting_missed:
            parts.append("first-meeting deadline missed")
        return ", ".join(parts) or "no filters"


# A district's cases share a few hundred assessment dates, and working days after a date never
# change (England's bank holidays are fixed data): each is counted once per process.
_working_days_after = lru_cache(maxsize=8192)(deadlines.add_working_days)


def first_meeting_missed_ids(case_ids: Select, today: date) -> set[int]:
    """Of `case_ids`, the cases whose first meeting was, or is now, later than the seed 002 B3
    deadline (maf.cases.deadlines): held after it, or still not held when it has passed.
    Cases withdrawn or merged before any forum never had a first meeting to miss."""
    discussed_ids = (
        select(AgendaItem.case_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.status.in_(HELD_STATUSES))
    )
    rows = db.session.execute(
        select(Case.id, Case.status, Case.assessment_completed_on, Case.created_at).where(
            Case.id.in_(case_ids),
            or_(Case.status.in_(sorted(OPEN_STATUSES)), Case.id.in_(discussed_ids)),
        )
    ).all()
    discussed = first_discussions([row.id for row in rows])
    missed = set()
    for row in rows:
        days = deadlines.first_meeting_working_days(row.assessment_completed_on, row.created_at)
        deadline = _working_days_after(row.assessment_completed_on, days)
        on = discussed.get(row.id)
        if on is None and row.status not in OPEN_STATUSES:
            continue
        if (on if on is not None else today) > deadline:
            missed.add(row.id)
    return missed


def _filtered_ids(user: User, criteria: CaseListFilter, today: date) -> Select:
    """The ids of the cases the list shows: a query on `Case` alone, whose conditions the page's
    own query repeats (`.whereclause`), so no database first lists every visible case."""
    statement = select(Case.id).where(visible_case_condition(user))
    if criteria.statuses:
        statement = statement.where(Case.status.in_(criteria.statuses))
    if criteria.district_id is not None:
        statement = statement.where(Case.district_id == criteria.district_id)
    if criteria.forum_id is not None:
        on_its_agendas = (
            select(AgendaItem.case_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(Meeting.forum_id == criteria.forum_id)
        )
        its_district = select(Forum.district_id).where(Forum.id == criteria.forum_id)
        statement = statement.where(
            or_(Case.district_id.in_(its_district), Case.id.in_(on_its_agendas))
        )
    if criteria.agency_id is not None:
        statement = statement.where(
            Case.id.in_(
                select(LeadProfessional.case_id).where(
                    LeadProfessional.ends_on.is_(None),
                    LeadProfessional.agency_id == criteria.agency_id,
                )
            )
        )
    if criteria.review_overdue:
        statement = statement.where(
            Case.status == CaseStatus.OPEN,
            or_(Case.next_review_on.is_(None), Case.next_review_on < today),
        )
    if criteria.first_meeting_missed:
        statement = statement.where(Case.id.in_(first_meeting_missed_ids(statement, today)))
    return statement


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return min(self.page * self.page_size, self.total)


def _ordered(statement: Select, criteria: CaseListFilter) -> Select:
    columns = SORTS[criteria.sort][1]
    if criteria.order == "descending":
        columns = tuple(column.desc() for column in columns)
    # Cases without a review date go last either way; ties by case number, newest first.
    nulls_last = (Case.next_review_on.is_(None),) if criteria.sort == "review" else ()
    return statement.order_by(*nulls_last, *columns, Case.id.desc())


def list_cases(
    user: User, criteria: CaseListFilter, today: date, page_size: int = PAGE_SIZE
) -> CasePage:
    """One page of the cases `user` may see, filtered and sorted; statements are constant in
    the number of rows shown."""
    conditions = _filtered_ids(user, criteria, today).whereclause
    total = db.session.scalar(select(func.count(Case.id)).where(conditions)) or 0
    pages = max(1, math.ceil(total / page_size))
    page = min(criteria.page, pages)
    statement = _ordered(_with_row_details(select(Case)).where(conditions), criteria)
    cases = list(db.session.scalars(statement.limit(page_size).offset((page - 1) * page_size)))
    return CasePage(case_rows(cases, today), total, page, pages, page_size)


def all_listed(user: User, criteria: CaseListFilter, today: date) -> list[CaseRow]:
    """Every case of the filtered list, in its order: the CSV download."""
    conditions = _filtered_ids(user, criteria, today).whereclause
    statement = _ordered(_with_row_details(select(Case)).where(conditions), criteria)
    return case_rows(list(db.session.scalars(statement)), today)


@dataclass(frozen=True)
class FilterChoices:
    districts: list[District]
    forums: list[Forum]
    agencies: list[Agency]


def filter_choices(user: User) -> FilterChoices:
    """The districts, forums and lead professionals' agencies of the cases `user` may see."""
    visible = visible_case_condition(user)
    district_ids = select(Case.district_id).where(visible).distinct()
    return FilterChoices(
        districts=list(
            db.session.scalars(
                select(District).where(District.id.in_(district_ids)).order_by(District.name)
            )
        ),
        forums=list(
            db.session.scalars(
                select(Forum).where(Forum.district_id.in_(district_ids)).order_by(Forum.name)
            )
        ),
        agencies=list(
            db.session.scalars(
                select(Agency)
                .where(
                    Agency.id.in_(
                        select(LeadProfessional.agency_id)
                        .join(Case, Case.id == LeadProfessional.case_id)
                        .where(visible, LeadProfessional.ends_on.is_(None))
                    )
                )
                .order_by(Agency.name)
            )
        ),
    )


def csv_headings() -> list[str]:
    """The download's column headings, in the council's words."""
    lead = words().lead_professional_cap
    return [
        "Case number",
        "Child",
        "Status",
        "District",
        "Forum",
        lead,
        f"{lead}'s agency",
        "Last meeting",
        "Next meeting",
        "Next review",
        "Assessment completed",
    ]


def csv_cells(row: CaseRow) -> list[object]:
    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    return [
        row.case.id,
        row.case.child.full_name,
        row.case.status.label,
        row.case.district.name,
        row.forum.name if row.forum else "",
        row.lead.name if row.lead else "",
        row.lead.agency.label if row.lead and row.lead.agency else "",
        day(row.last_meeting.date if row.last_meeting else None),
        day(row.next_meeting.date if row.next_meeting else None),
        day(row.case.next_review_on),
        day(row.case.assessment_completed_on),
    ]


# --- My referrals -------------------------------------------------------------------------


def my_referrals(user: User, today: date) -> list[CaseRow]:
    """Each CAF `user` referred (matched to their account at intake), newest first."""
    statement = (
        _with_row_details(select(Case))
        .where(visible_case_condition(user), Case.referrer_user_id == user.id)
        .order_by(Case.id.desc())
    )
    return case_rows(list(db.session.scalars(statement)), today)
