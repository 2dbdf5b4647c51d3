from datetime import date

import pytest

from maf.auth.models import Role
from maf.cases import services
from maf.cases.models import Domain


def test_queue_is_oldest_first_with_the_20_working_day_deadline(make_case, coordinator):
    """Seed 002 B3: first TAC/TAF meeting within 20 working days, bank holidays excluded."""
    newer = make_case("Amy", "Lee", assessment_completed_on=date(2026, 12, 14))
    older = make_case("Ben", "Ward", assessment_completed_on=date(2026, 11, 2))
    queue = services.coordinator_queue(coordinator, date(2026, 12, 16))
    entries = queue["awaiting_checks"]
    assert [entry.case for entry in entries] == [older, newer]
    # 14 Dec 2026 + 20 working days skips 25, 28 Dec (Boxing Day substitute) and 1 Jan 2027.
    assert entries[1].first_meeting_deadline == date(2027, 1, 14)
    assert not entries[1].overdue and entries[1].working_days_left == 18
    # 2 Nov 2026 + 20 working days is 30 Nov; by 16 Dec that is 12 working days late.
    assert entries[0].first_meeting_deadline == date(2026, 11, 30)
    assert entries[0].overdue and entries[0].working_days_left == -12
    assert entries[0].days_since_assessment == 44


def test_queue_shows_only_the_coordinators_districts(
    make_case, make_user, make_district, coordinator
):
    melton = make_district("Melton")
    make_case(district=melton)
    mine = make_case()
    queue = services.coordinator_queue(coordinator, date(2026, 11, 22))
    assert [entry.case for entry in queue["awaiting_checks"]] == [mine]
    other = make_user(Role.COORDINATOR, districts=[melton])
    assert len(services.coordinator_queue(other, date(2026, 11, 22))["awaiting_checks"]) == 1


def test_catalogue_covers_the_three_domains_and_seed_004s_ten_most_frequent_needs(database):
    """Seed 003 Table 1 (three domains) and seed 004 (the ten needs counted most often)."""
    catalogue = services.need_statements_by_domain()
    assert set(catalogue) == set(Domain) and all(catalogue.values())
    texts = " | ".join(n.text.lower() for needs in catalogue.values() for n in needs)
    for gist in (
        "anger or aggression",
        "hard to manage at home",
        "challenging behaviour",
        "anti-social behaviour",
        "concentrate",
        "anxious",
        "hard to manage at school",
        "lonely",
        "difficulties with learning",
        "exclu",
    ):
        assert gist in texts, gist


def test_a_retired_statement_stays_on_old_cases_but_is_not_offered(
    make_case, make_user, need_statements
):
    admin = make_user(Role.ADMIN)
    need = need_statements[0]
    case = make_case(needs=[need])
    services.retire_need_statement(need, admin)
    assert need in case.needs
    offered = [n for needs in services.need_statements_by_domain().values() for n in needs]
    assert need not in offered
    assert need in services.need_statements_by_domain(include_retired=True)[need.domain]


def test_admins_add_statements_once(make_user, database):
    admin = make_user(Role.ADMIN)
    need = services.add_need_statement(
        Domain.FAMILY_AND_ENVIRONMENT, "Housing", "The family is at risk of homelessness", admin
    )
    assert need.active
    with pytest.raises(services.CaseError, match="already exists"):
        services.add_need_statement(
            Domain.FAMILY_AND_ENVIRONMENT, "Housing", "the family is at risk of HOMELESSNESS", admin
        )
