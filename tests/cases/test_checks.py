"""The coordinator's two checks run against the database (seed 004 'Developments over the
last year' §1; seed 003 §4 step 1; seed 002 A4)."""

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from maf.cases import matching, services
from maf.cases.involvement_import import parse_involvement_csv
from maf.cases.models import (
    Case,
    CaseStatus,
    Child,
    Gender,
    InvolvementRecord,
    MatchVerdict,
    StatutoryService,
    TierOutcome,
)
from maf.extensions import db

TODAY = date(2026, 11, 22)


def test_intake_finds_the_same_child_despite_a_typo_and_a_short_name(make_case):
    earlier = make_case("Elizabeth", "Thompson", date(2012, 5, 17), "LE11 3TU")
    case = make_case("Liz", "Thomson", date(2012, 5, 17), "LE11 5AB")
    assert [c.child_id for c in case.match_candidates] == [earlier.child_id]
    reasons = case.match_candidates[0].reasons
    assert "Same date of birth" in reasons
    assert case.existing_caf_checked_at is None, "undecided candidates keep check 1 open"


def test_twins_are_not_offered_as_the_same_child(make_case):
    make_case("Oliver", "Brennan", date(2015, 2, 3), "LE12 9QQ", gender=Gender.MALE)
    case = make_case("Harry", "Brennan", date(2015, 2, 3), "LE12 9QQ", gender=Gender.MALE)
    assert all(not matching.is_match(_result(c)) for c in case.match_candidates)


def _result(candidate):
    return matching.MatchResult(candidate.score, tuple(candidate.reasons.split("; ")), False)


def test_same_child_with_an_open_caf_joins_it_instead_of_starting_another(
    make_case, coordinator, need_statements
):
    """Seed 002 A4: check for an existing CAF; the coordinator's verdict joins them up."""
    earlier = make_case("Jonathan", "Smith", date(2013, 9, 1), needs=need_statements[:1])
    new = make_case(
        "Jon",
        "Smith",
        date(2013, 1, 9),
        "LE11 2AA",
        needs=need_statements[1:3],
        upn=None,
    )
    candidate = new.match_candidates[0]
    result = services.decide_candidate(new, candidate, MatchVerdict.SAME, coordinator)
    assert result is earlier
    assert new.status == CaseStatus.MERGED and new.merged_into is earlier
    open_cases = db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.child_id == earlier.child_id, Case.status.in_(services.OPEN_STATUSES))
    )
    assert open_cases == 1, "no parallel CAF"
    assert set(earlier.needs) == set(need_statements[:3])
    assert (
        "Loves football" in earlier.strengths and "From the CAF completed on" in earlier.strengths
    )
    assert db.session.get(Child, new.child_id) is earlier.child or new.child is earlier.child
    assert db.session.scalar(select(func.count()).select_from(Child)) == 1
    assert candidate.verdict == MatchVerdict.SAME and candidate.decided_by_id == coordinator.id


def test_same_child_whose_caf_is_closed_gets_a_new_case_on_one_child_record(make_case, coordinator):
    earlier = make_case("Chloe", "Smith", date(2011, 4, 4), "LE11 3TU")
    earlier.status = CaseStatus.CLOSED
    db.session.commit()
    new = make_case("Chloe", "Brown", date(2011, 4, 4), "LE11 3TU", other_names="Chloe Smith")
    services.decide_candidate(new, new.match_candidates[0], MatchVerdict.SAME, coordinator)
    assert new.child is earlier.child
    assert new.status == CaseStatus.RECEIVED
    assert "Chloe Brown" in earlier.child.other_names, "the name on the new CAF is kept"
    assert new.existing_caf_checked_at is not None


def test_different_child_is_recorded_and_completes_the_check(make_case, coordinator):
    make_case("Jessica", "Thompson", date(2012, 5, 17))
    new = make_case("Jessica", "Thompson", date(2012, 5, 17), "LE65 1AA", gender=Gender.FEMALE)
    candidate = new.match_candidates[0]
    services.decide_candidate(new, candidate, MatchVerdict.DIFFERENT, coordinator)
    assert candidate.verdict == MatchVerdict.DIFFERENT
    assert new.existing_caf_checked_at is not None
    services.record_tier_outcome(new, TierOutcome.NONE_FOUND, "", coordinator)
    assert new.status == CaseStatus.CHECKED


def test_the_search_reads_the_key_index_not_every_child(make_case, monkeypatch, database):
    """Blocking: unrelated children are never scored, however many there are."""
    db.session.add_all(
        Child(
            given_name=f"Child{n}",
            family_name=f"Family{n}",
            date_of_birth=date(2010, 1, 1 + n % 28),
            gender=Gender.MALE,
        )
        for n in range(300)
    )
    db.session.commit()
    make_case("Jessica", "Thompson", date(2012, 5, 17))
    scored = []
    real_compare = matching.compare
    monkeypatch.setattr(matching, "compare", lambda a, b: scored.append(b) or real_compare(a, b))
    found = services.find_similar_children(
        matching.PersonDetails("Jesica", "Thompson", date(2012, 5, 17))
    )
    assert [child.given_name for child, _ in found] == ["Jessica"]
    assert len(scored) == 1


def test_when_many_children_share_as_many_keys_the_newest_are_scored(database):
    """At a million children hundreds can share a key: the search scores the `limit` sharing
    most keys and, among equals, the newest records, the same on SQLite and PostgreSQL (the
    benchmark found the two databases choosing differently in 44 of 1,000 checks)."""
    twins = [
        Child(
            given_name="Jessica",
            family_name="Thompson",
            date_of_birth=date(2012, 5, 17),
            gender=Gender.FEMALE,
        )
        for _ in range(8)
    ]
    db.session.add_all(twins)
    db.session.flush()
    for twin in twins:
        services._index_child(twin)
    db.session.commit()
    query = matching.PersonDetails("Jessica", "Thompson", date(2012, 5, 17))
    found = services.find_similar_children(query, limit=3)
    assert sorted(child.id for child, _ in found) == sorted(twin.id for twin in twins)[-3:]


def _register(csv_text: str, coordinator, all_or_nothing=False):
    parsed = parse_involvement_csv(io.StringIO(csv_text), TODAY)
    return parsed, services.import_involvement(parsed, "export.csv", coordinator, all_or_nothing)


REGISTER = """given_name,family_name,date_of_birth,postcode,service,status,contact
Jessica,Thompson,17/05/2012,LE11 3TU,CIN,open,Duty team 0116 000 0000
Marcus,Reid,2010-02-02,LE12 1AA,CAMHS,open,Dr Patel
Bad,Row,31/02/2012,,CIN,open,
"""


def test_tier_check_finds_the_child_in_the_register(make_case, coordinator):
    _register(REGISTER, coordinator)
    case = make_case("Jess", "Thompson", date(2012, 5, 17))
    assert [m.involvement.service for m in case.involvement_matches] == [
        StatutoryService.CHILD_IN_NEED
    ]
    assert case.involvement_matches[0].involvement.contact == "Duty team 0116 000 0000"


def test_import_keeps_good_rows_and_reports_bad_ones_by_line(coordinator, database):
    parsed, batch = _register(REGISTER, coordinator)
    assert (batch.rows_imported, batch.rows_rejected) == (2, 1)
    assert [error.line for error in parsed.errors] == [4]


def test_import_all_or_nothing_imports_nothing_when_a_row_is_bad(coordinator, database):
    parsed, batch = _register(REGISTER, coordinator, all_or_nothing=True)
    assert batch is None
    assert db.session.scalar(select(func.count()).select_from(InvolvementRecord)) == 0


def test_a_new_export_replaces_that_services_rows_only(coordinator, database):
    _register(REGISTER, coordinator)
    _register(
        "given_name,family_name,date_of_birth,service\nAmir,Khan,2014-06-06,CIN\n", coordinator
    )
    names = set(db.session.scalars(select(InvolvementRecord.family_name)))
    assert names == {"Khan", "Reid"}


def test_proceeding_despite_involvement_needs_a_reason(make_case, coordinator):
    """Seed 004 'Proposed future developments' §1: a CAF can sit alongside specialist work
    when coordination is needed, and the coordinator says why."""
    case = make_case()
    with pytest.raises(services.CaseError, match="Enter why the forum should coordinate"):
        services.record_tier_outcome(case, TierOutcome.PROCEED, " ", coordinator)
    services.record_tier_outcome(
        case, TierOutcome.PROCEED, "CAMHS asked for family support around school", coordinator
    )
    assert case.status == CaseStatus.CHECKED


def test_signposting_ends_the_caf_route(make_case, coordinator):
    case = make_case()
    services.record_tier_outcome(case, TierOutcome.SIGNPOST, "Youth offending service", coordinator)
    assert case.status == CaseStatus.WITHDRAWN
    assert "Signposted" in case.status_reason


def test_involvement_on_an_earlier_case_is_shown(make_case, coordinator):
    earlier = make_case("Marcus", "Reid", date(2010, 2, 2), gender=Gender.MALE)
    services.record_tier_outcome(earlier, TierOutcome.SIGNPOST, "Specialist CAMHS", coordinator)
    new = make_case("Marcus", "Reid", date(2010, 2, 2), gender=Gender.MALE)
    services.decide_candidate(new, new.match_candidates[0], MatchVerdict.SAME, coordinator)
    assert services.earlier_involvement(new) == [earlier]


def test_checks_are_only_changed_at_intake(make_case, coordinator):
    case = make_case()
    services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    with pytest.raises(services.CaseError, match="at intake"):
        services.record_tier_outcome(case, TierOutcome.WITHDRAW, "changed mind", coordinator)
