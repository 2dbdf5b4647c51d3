"""The board's figures (seeds 000 and 004), against a small data set whose every figure is
worked out by hand below; the time rules are seed 002 B3 (first meeting within 20 working
days, England bank holidays not counting) and C1 (reviews every three months).

The reporting period is the quarter January to March 2027 (seed 002 E: analyse CAF data every
three months). Two districts: Charnwood (the coordinator's, "A") and Melton ("B").

    case  district completed   received (UTC)      first discussed  then
    a1    A        2026-12-10  2026-12-11          12 Jan (new)     review 9 Mar, on time
    a2    A        2027-01-04  2027-01-05          9 Feb (new)      -
    a3    A        2027-01-20  2027-01-20          deferred 9 Feb, discussed 9 Mar
    a4    A        2026-09-20  2026-09-21          10 Nov 2026      signed off 12 Jan, on time
    a5    A        2027-03-30  2027-03-31 23:30    -  (00:30 on 1 April in London: BST)
    a6    A        2026-10-01  2026-10-02          10 Nov 2026      review 9 Feb, late; stepped up
    a7    A        2027-02-15  2027-02-16          - merged into a2: never counted
    a8    A        2027-02-01  2027-02-02          - withdrawn
    b1    B        2027-02-10  2027-02-11          2 Mar (new)
    b2    B        2027-03-15  2027-03-16          -
    b3    B        2026-06-01  2026-06-02          8 Dec 2026       signed off 2 Mar, on time
    b4    B        2026-05-01  2026-05-02          - opened by hand: review 2 Mar, no due date
"""

from datetime import UTC, date, datetime

import pytest

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.cases import services as case_services
from maf.cases.deadlines import first_meeting_deadline
from maf.cases.models import (
    CaseStatus,
    Domain,
    MatchVerdict,
    NeedStatement,
    SettingType,
    TierOutcome,
)
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MeetingStatus
from maf.outcomes import services as outcomes
from maf.outcomes.models import ClosureReason, LeadKind, Outcome
from maf.reports import figures
from maf.reports.figures import (
    Count,
    FirstDiscussion,
    MeetingUse,
    MonthRow,
    NeedCount,
    OrganisationCount,
    Period,
    ReviewTimeliness,
    Totals,
)
from tests.conftest import at_the_meeting

QUARTER = Period(date(2027, 1, 1), date(2027, 3, 31))
ANGER = "Report test: responds with anger or aggression to difficult situations"
HOME = "Report test: behaviour is difficult to control at home"
HOUSING = "Report test: the family's housing is overcrowded"
WOODGATE = "Loughborough Woodgate High School"  # the `school` fixture
BOOTH_WOOD = "Booth Wood Primary School"
NURSING = "School Nursing, Charnwood"
CHILDRENS_CENTRE = "Melton Children's Centre"


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Data:
    """The data set in the module docstring, made through the services."""

    def __init__(self, make_case, make_forum, make_meeting, make_district, make_agency, user):
        self.user = user
        self.a = user.districts[0]
        self.b = make_district("Melton")
        self.agency = {
            BOOTH_WOOD: make_agency(BOOTH_WOOD, type=AgencyType.PRIMARY_SCHOOL),
            NURSING: make_agency(NURSING, type=AgencyType.HEALTH),
            CHILDRENS_CENTRE: make_agency(CHILDRENS_CENTRE, type=AgencyType.EARLY_YEARS),
        }
        self.need = {}
        for text, domain in (
            (ANGER, Domain.DEVELOPMENT),
            (HOME, Domain.PARENTS_AND_CARERS),
            (HOUSING, Domain.FAMILY_AND_ENVIRONMENT),
        ):
            self.need[text] = NeedStatement(domain=domain, element="Report test", text=text)
            db.session.add(self.need[text])
        db.session.flush()
        self.make_case = make_case
        forum_a = make_forum(new_case_capacity=2)
        forum_b = make_forum(district=self.b, name="Melton multi-agency forum", chair=user)
        m0, m1, m2, m3 = (
            make_meeting(day, forum=forum_a)
            for day in (date(2026, 11, 10), date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9))
        )
        make_meeting(date(2027, 4, 13), forum=forum_a)  # planned: somewhere to defer to
        mb0, mb1 = (
            make_meeting(day, forum=forum_b) for day in (date(2026, 12, 8), date(2027, 3, 2))
        )
        make_meeting(date(2027, 3, 23), forum=forum_b)  # planned, never held: not counted

        a1 = self.case(
            "Aisha",
            "Begum",
            date(2012, 5, 17),
            date(2026, 12, 10),
            _utc(2026, 12, 11, 9),
            ready=True,
            needs=[HOME],
        )
        a2 = self.case(
            "Bethany",
            "Clarke",
            date(2019, 6, 1),
            date(2027, 1, 4),
            _utc(2027, 1, 5, 9),
            ready=True,
            needs=[ANGER, HOME],
            setting=SettingType.PRIMARY_SCHOOL,
            referrer=BOOTH_WOOD,
        )
        a3 = self.case(
            "Callum",
            "Davies",
            date(2015, 9, 1),
            date(2027, 1, 20),
            _utc(2027, 1, 20, 10),
            ready=True,
            needs=[ANGER],
        )
        a4 = self.case(
            "Daisy", "Evans", date(2023, 1, 1), date(2026, 9, 20), _utc(2026, 9, 21, 9), ready=True
        )
        self.case(
            "Ethan",
            "Fletcher",
            date(2010, 5, 5),
            date(2027, 3, 30),
            _utc(2027, 3, 31, 23, 30),
            needs=[HOUSING],
            setting=SettingType.HEALTH,
            referrer=NURSING,
        )
        a6 = self.case(
            "Freya", "Green", date(2014, 2, 2), date(2026, 10, 1), _utc(2026, 10, 2, 9), ready=True
        )
        a8 = self.case(
            "Harvey",
            "Iqbal",
            date(2013, 8, 8),
            date(2027, 2, 1),
            _utc(2027, 2, 2, 9),
            needs=[ANGER, HOUSING],
        )
        case_services.withdraw(a8, "Family moved before the forum", user)
        b1 = self.case(
            "Isla",
            "Jones",
            date(2022, 7, 7),
            date(2027, 2, 10),
            _utc(2027, 2, 11, 9),
            ready=True,
            district=self.b,
            needs=[HOME],
            setting=SettingType.PRE_SCHOOL,
            referrer=CHILDRENS_CENTRE,
        )
        self.case(
            "Jacob",
            "Khan",
            date(2010, 10, 10),
            date(2027, 3, 15),
            _utc(2027, 3, 16, 9),
            district=self.b,
            needs=[HOME, ANGER],
        )
        b3 = self.case(
            "Katie",
            "Lewis",
            date(2011, 11, 11),
            date(2026, 6, 1),
            _utc(2026, 6, 2, 9),
            ready=True,
            district=self.b,
        )
        b4 = self.case(
            "Liam",
            "Morris",
            date(2016, 3, 3),
            date(2026, 5, 1),
            _utc(2026, 5, 2, 9),
            ready=True,
            district=self.b,
        )
        b4.status = CaseStatus.OPEN  # as if carried over from before the service
        db.session.commit()

        # a7: the same child as a2, recorded again; the coordinator adds it to a2's open CAF.
        a7 = self.case(
            "Bethany",
            "Clarke",
            date(2019, 6, 1),
            date(2027, 2, 15),
            _utc(2027, 2, 16, 9),
            needs=[HOME],
        )
        candidate = next(c for c in a7.match_candidates if c.child_id == a2.child_id)
        case_services.decide_candidate(a7, candidate, MatchVerdict.SAME, user)
        assert a7.status == CaseStatus.MERGED

        school = a1.referrer_agency
        self.hold(
            m0,
            (a4, ItemKind.NEW_CASE, self.carry_on(date(2027, 1, 12), self.lead(school))),
            (a6, ItemKind.NEW_CASE, self.carry_on(date(2027, 1, 12), self.lead(school))),
        )
        self.hold(mb0, (b3, ItemKind.NEW_CASE, self.carry_on(date(2027, 3, 2), self.lead(school))))
        self.hold(
            m1,
            (a1, ItemKind.NEW_CASE, self.carry_on(date(2027, 3, 9), self.lead(school))),
            (a4, ItemKind.SIGN_OFF, self.close()),
        )
        self.hold(
            m2,
            (
                a2,
                ItemKind.NEW_CASE,
                self.carry_on(
                    date(2027, 5, 4), self.lead(kind=LeadKind.PARENT_CARER, name="Karen Clarke")
                ),
            ),
            (a3, ItemKind.NEW_CASE, outcomes.ItemDetails(outcome=Outcome.DEFER)),
            (
                a6,
                ItemKind.REVIEW,
                outcomes.ItemDetails(
                    outcome=Outcome.STEP_UP, outcome_notes="Disclosure: referred to social care"
                ),
            ),
        )
        moved = agendas.scheduled_items(m3)
        assert [item.case for item in moved] == [a3], "the deferred case moved to March"
        outcomes.save_item_record(
            moved[0],
            self.carry_on(
                date(2027, 6, 8), self.lead(kind=LeadKind.YOUNG_PERSON, name="Callum Davies")
            ),
            user,
        )
        self.hold(
            m3,
            (
                a1,
                ItemKind.REVIEW,
                self.carry_on(
                    date(2027, 6, 8), self.lead(self.agency[NURSING], name="Zoë Brennan")
                ),
            ),
        )
        self.hold(
            mb1,
            (b1, ItemKind.NEW_CASE, self.carry_on(date(2027, 5, 25), self.lead(school))),
            (b3, ItemKind.SIGN_OFF, self.close()),
            (b4, ItemKind.REVIEW, self.carry_on(date(2027, 5, 25))),
        )
        mb1.status = MeetingStatus.MINUTES_CIRCULATED  # held counts either way
        db.session.commit()

    def case(
        self,
        given,
        family,
        born,
        completed,
        received,
        *,
        ready=False,
        district=None,
        needs=(),
        setting=SettingType.HIGH_SCHOOL,
        referrer=None,
    ):
        make = self.make_case
        case = make(
            given,
            family,
            born,
            f"LE{len(given)} {len(family)}AB",
            assessment_completed_on=completed,
            district=district,
            needs=[self.need[text] for text in needs],
        )
        if ready:
            for candidate in case.match_candidates:
                case_services.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, self.user)
            case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", self.user)
            case_services.mark_ready_for_forum(case, self.user)
        case.created_at = received
        case.setting_type = setting
        if referrer:
            case.referrer_agency = self.agency[referrer]
        db.session.commit()
        return case

    def lead(self, agency=None, kind=LeadKind.PRACTITIONER, name="Daniel Kowalski"):
        return outcomes.LeadDetails(kind=kind, name=name, agreed=True, agency=agency)

    def carry_on(self, review_on, lead=None):
        return outcomes.ItemDetails(outcome=Outcome.CONTINUE, next_review_on=review_on, lead=lead)

    def close(self):
        return outcomes.ItemDetails(outcome=Outcome.CLOSE, closure_reason=ClosureReason.NEEDS_MET)

    def hold(self, meeting, *items):
        for case, kind, details in items:
            item = agendas.add_to_agenda(meeting, case, kind, self.user)
            outcomes.save_item_record(item, details, self.user)
        at_the_meeting(meeting)
        outcomes.complete_meeting(meeting, self.user)


@pytest.fixture
def data(make_case, make_forum, make_meeting, make_district, make_agency, coordinator):
    return Data(make_case, make_forum, make_meeting, make_district, make_agency, coordinator)


def test_the_bank_holiday_case_meets_the_deadline_only_because_bank_holidays_do_not_count(
    database,
):
    """Seed 002 B3. From Thursday 10 December 2026 the 20 working days skip Christmas Day
    (Fri 25), the Boxing Day substitute (Mon 28) and New Year's Day (Fri 1 January):
    Dec 11 (1), 14-18 (6), 21-24 (10), 29-31 (13), Jan 4-8 (18), 11 (19), 12 (20)."""
    assert first_meeting_deadline(date(2026, 12, 10)) == date(2027, 1, 12)


def test_figures_for_one_district(data):
    a = data.a.id
    # Received (London date): a2 5 Jan, a3 20 Jan, a8 2 Feb; a5 at 23:30 UTC on 31 March is
    # 00:30 on 1 April in London (BST), so not this quarter; a7 is merged.
    # Completed: a2 4 Jan, a3 20 Jan; a8 1 Feb; a5 30 Mar.  Closed: a4 at its sign-off, 12 Jan.
    assert figures.monthly_counts(QUARTER, a) == [
        MonthRow(date(2027, 1, 1), started=2, completed=2, closed=1),
        MonthRow(date(2027, 2, 1), started=1, completed=1, closed=0),
        MonthRow(date(2027, 3, 1), started=0, completed=1, closed=0),
    ]
    # Open on 31 March: a1, a2, a3 (a4 closed, a6 stepped up, a8 withdrawn, a5 received in
    # April, a7 merged).
    assert figures.totals(QUARTER, a) == Totals(started=3, completed=4, closed=1, open_at_end=3)
    # Completed this quarter: a2 (anger, home), a3 (anger), a5 (housing), a8 (anger, housing);
    # a1 (home) was completed in December and a7 (home) is merged.
    assert figures.needs_identified(QUARTER, a) == [
        NeedCount(ANGER, "Development of the child or young person", 3),
        NeedCount(HOUSING, "Family and environment", 2),
        NeedCount(HOME, "Parents and carers", 1),
    ]
    # Ages at assessment: a2 7, a3 11, a5 16, a8 13.
    assert figures.age_bands(QUARTER, a) == [
        ("0–4", 0),
        ("5–10", 1),
        ("11–12", 1),
        ("13–15", 1),
        ("16+", 1),
    ]
    # a3 and a8 from high schools, a5 from health, a2 from a primary school.
    assert figures.settings(QUARTER, a) == [
        Count("High school", 2),
        Count("Health", 1),
        Count("Primary school", 1),
    ]
    assert figures.organisations(QUARTER, a) == [
        OrganisationCount(WOODGATE, "High school", 2),  # a3, a8
        OrganisationCount(BOOTH_WOOD, "Primary school", 1),  # a2
        OrganisationCount(NURSING, "Health", 1),  # a5
    ]
    # Lead professionals from 12 January: a1 (Woodgate), a2 (parent), a3 (the young person),
    # a1 again on 9 March (school nursing). a4's and a6's leads started in November.
    by_agency, by_type = figures.lead_roles(QUARTER, a)
    assert by_agency == [(WOODGATE, 1), ("Parent or carer", 1), (NURSING, 1), ("Young person", 1)]
    assert by_type == [
        ("Health", 1),
        ("High school", 1),
        ("Parent or carer", 1),
        ("Young person", 1),
    ]
    # First discussed this quarter: a1 10 Dec -> 12 Jan = 21 + 12 = 33 days, on its deadline;
    # a2 4 Jan -> 9 Feb = 27 + 9 = 36 days, deadline 1 Feb; a3 20 Jan -> 9 Mar (deferred on
    # 9 Feb, which is not a discussion) = 11 + 28 + 9 = 48 days, deadline 17 Feb.
    # Median of 33, 36, 48 is 36; 90th percentile by nearest rank: ceil(0.9 x 3) = 3rd = 48.
    assert figures.first_discussion(QUARTER, a) == FirstDiscussion(
        count=3,
        median_days=36,
        p90_days=48,
        share_within_20_working_days=1 / 3,
        within_20_working_days=1,
    )
    # Reviews: a4 signed off 12 Jan, due 12 Jan (on time); a6 reviewed 9 Feb, due 12 Jan (late);
    # a1 reviewed 9 Mar, due 9 Mar (on time). 2 of 3.
    assert figures.reviews_on_time(QUARTER, a) == ReviewTimeliness(3, 2, 2 / 3)
    # Jan: a1 new, a4 sign-off. Feb: a2 new (a3 deferred, so counted in March), a6 review.
    # Mar: a3 new, a1 review. The November meeting is before the quarter.
    assert figures.forum_use(QUARTER, a) == [
        MeetingUse(date(2027, 1, 12), "Charnwood multi-agency forum", 1, 2, 1, 30),
        MeetingUse(date(2027, 2, 9), "Charnwood multi-agency forum", 1, 2, 1, 30),
        MeetingUse(date(2027, 3, 9), "Charnwood multi-agency forum", 1, 2, 1, 30),
    ]


def test_figures_for_the_whole_authority(data):
    # District B adds: received b1 11 Feb, b2 16 Mar; completed b1 10 Feb, b2 15 Mar;
    # closed b3 2 Mar.
    assert figures.monthly_counts(QUARTER, None) == [
        MonthRow(date(2027, 1, 1), started=2 + 0, completed=2 + 0, closed=1 + 0),
        MonthRow(date(2027, 2, 1), started=1 + 1, completed=1 + 1, closed=0 + 0),
        MonthRow(date(2027, 3, 1), started=0 + 1, completed=1 + 1, closed=0 + 1),
    ]
    # Open on 31 March in B: b1, b2, b4 (b3 closed): 3 + 3.
    assert figures.totals(QUARTER, None) == Totals(
        started=3 + 2, completed=4 + 2, closed=1 + 1, open_at_end=3 + 3
    )
    # B adds b1 (home) and b2 (home, anger).
    assert figures.needs_identified(QUARTER, None) == [
        NeedCount(ANGER, "Development of the child or young person", 3 + 1),
        NeedCount(HOME, "Parents and carers", 1 + 2),
        NeedCount(HOUSING, "Family and environment", 2 + 0),
    ]
    # B adds b1 aged 4 and b2 aged 16.
    assert figures.age_bands(QUARTER, None) == [
        ("0–4", 0 + 1),
        ("5–10", 1),
        ("11–12", 1),
        ("13–15", 1),
        ("16+", 1 + 1),
    ]
    # B adds b1 from a pre-school, b2 from a high school (the default referrer, Woodgate).
    assert figures.settings(QUARTER, None) == [
        ("High school", 2 + 1),
        ("Health", 1),
        ("Pre-school or early years", 1),
        ("Primary school", 1),
    ]
    assert figures.organisations(QUARTER, None) == [
        (WOODGATE, "High school", 2 + 1),
        (BOOTH_WOOD, "Primary school", 1),
        (CHILDRENS_CENTRE, "Early years or pre-school", 1),
        (NURSING, "Health", 1),
    ]
    # B adds b1's lead at Woodgate on 2 March (b4's review kept no lead; b3's started in
    # December).
    by_agency, by_type = figures.lead_roles(QUARTER, None)
    assert by_agency == [
        (WOODGATE, 1 + 1),
        ("Parent or carer", 1),
        (NURSING, 1),
        ("Young person", 1),
    ]
    assert by_type == [
        ("High school", 1 + 1),
        ("Health", 1),
        ("Parent or carer", 1),
        ("Young person", 1),
    ]
    # B adds b1: 10 Feb -> 2 Mar = 18 + 2 = 20 days, deadline 10 Mar; and b4, whose first
    # discussion is its review on 2 Mar: 1 May 2026 -> 2 Mar 2027 = 305 days, late.
    # Days 20, 33, 36, 48, 305: median 36; nearest rank ceil(0.9 x 5) = 5th = 305; 2 of 5 in time.
    assert figures.first_discussion(QUARTER, None) == FirstDiscussion(
        count=5,
        median_days=36,
        p90_days=305,
        share_within_20_working_days=0.4,
        within_20_working_days=2,
    )
    # B adds b3's sign-off on 2 March, due 2 March (on time); b4's review had no earlier
    # discussion, so no due date, and is not counted. 3 of 4.
    assert figures.reviews_on_time(QUARTER, None) == ReviewTimeliness(3 + 1, 2 + 1, 0.75)
    # B's 2 March meeting (minutes circulated): b1 new; b3 sign-off and b4 review. The
    # 23 March meeting was never held.
    assert figures.forum_use(QUARTER, None) == [
        MeetingUse(date(2027, 1, 12), "Charnwood multi-agency forum", 1, 2, 1, 30),
        MeetingUse(date(2027, 2, 9), "Charnwood multi-agency forum", 1, 2, 1, 30),
        MeetingUse(date(2027, 3, 2), "Melton multi-agency forum", 1, 10, 2, 30),
        MeetingUse(date(2027, 3, 9), "Charnwood multi-agency forum", 1, 2, 1, 30),
    ]


def test_open_at_the_end_counts_closures_by_date_and_other_endings_by_status(data):
    """The documented approximation: on 11 January a4 was still open (closed on the 12th), so
    it counts; a6 was too (stepped up on 9 February), but it counts as ended because the case
    keeps no date for a step-up."""
    early_january = Period(date(2027, 1, 1), date(2027, 1, 11))
    # Received by 11 January and open: a1 and a2; a4 closed later: 3.
    assert figures.totals(early_january, data.a.id).open_at_end == 3


def test_a_merged_case_is_never_counted(data):
    """a7 was completed on 15 February with the need "home"; a period of that day alone
    finds nothing at all."""
    that_day = Period(date(2027, 2, 15), date(2027, 2, 16))
    assert figures.totals(that_day, data.a.id)[:3] == (0, 0, 0)
    assert figures.needs_identified(that_day, data.a.id) == []
    assert figures.age_bands(that_day, data.a.id) == [
        (band, 0) for band in ("0–4", "5–10", "11–12", "13–15", "16+")
    ]
    assert figures.settings(that_day, data.a.id) == []
    assert figures.organisations(that_day, data.a.id) == []


def test_an_empty_period_gives_empty_figures(data):
    nothing = Period(date(2030, 1, 1), date(2030, 1, 31))
    assert figures.first_discussion(nothing, None) == FirstDiscussion(0, None, None, None, 0)
    assert figures.reviews_on_time(nothing, None) == ReviewTimeliness(0, 0, None)
    assert figures.forum_use(nothing, None) == []
    assert figures.lead_roles(nothing, None) == ([], [])
    assert figures.monthly_counts(nothing, None) == [MonthRow(date(2030, 1, 1), 0, 0, 0)]


def test_periods_and_percentiles():
    period = Period(date(2026, 11, 15), date(2027, 2, 3))
    assert period.months == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    # The first and last months count only their days inside the period.
    assert period.month_span(date(2026, 11, 1)) == (date(2026, 11, 15), date(2026, 11, 30))
    assert period.month_span(date(2027, 2, 1)) == (date(2027, 2, 1), date(2027, 2, 3))
    assert figures.last_full_months(date(2026, 11, 22)) == Period(
        date(2025, 11, 1), date(2026, 10, 31)
    )
    with pytest.raises(ValueError):
        Period(date(2027, 1, 2), date(2027, 1, 1))
    # Nearest rank: the 90th percentile of 10 values is the 9th, of 11 values the 10th.
    assert figures.nearest_rank(list(range(1, 11)), 90) == 9
    assert figures.nearest_rank(list(range(1, 12)), 90) == 10
    assert figures.nearest_rank([7], 90) == 7
