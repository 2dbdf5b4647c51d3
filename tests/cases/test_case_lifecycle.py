"""Intake, consent rules, the status state machine and the consent gate."""

from datetime import date

import pytest

from maf.cases import services
from maf.cases.models import (
    CaseStatus,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    SettingType,
    SharingGround,
    TierOutcome,
)
from maf.extensions import db

S = CaseStatus


def _checked(case, coordinator):
    services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    assert case.status == S.CHECKED
    return case


def test_a_received_caf_is_a_new_case_with_its_history(make_case, coordinator):
    case = make_case()
    assert case.status == S.RECEIVED
    assert [change.to_status for change in case.history] == [S.RECEIVED]
    assert case.existing_caf_checked_at is not None, "no other child: check 1 is complete"
    assert case.tier_outcome is None, "check 2 needs the coordinator's outcome"


def test_both_checks_done_makes_the_case_checked(make_case, coordinator):
    case = _checked(make_case(), coordinator)
    assert [change.to_status for change in case.history] == [S.RECEIVED, S.CHECKED]


@pytest.mark.parametrize(
    "missing, message",
    [
        (ConsentKind.UNDERTAKE, "consent to undertake"),
        (ConsentKind.RECORD, "nothing can be stored"),
    ],
)
def test_without_consent_to_undertake_and_record_nothing_is_stored(
    make_case, coordinator, school, missing, message
):
    """Seed 003 §4.11 and §4.18: consent to undertake and to record comes first."""
    details = dict(
        given=True,
        given_by=ConsentGiver.PARENT_CARER,
        given_by_name="Karen Thompson",
        given_on=date(2026, 11, 2),
        method=ConsentMethod.ORAL,
    )
    consents = [
        services.ConsentDetails(kind=kind, **details)
        for kind in (ConsentKind.UNDERTAKE, ConsentKind.RECORD)
        if kind != missing
    ]
    with pytest.raises(services.CaseError, match=message):
        services.receive_caf(
            services.ChildDetails("Amy", "Lee", date(2015, 1, 1), gender=Gender.FEMALE),
            services.ReferralDetails(
                coordinator.districts[0],
                "A Referrer",
                "a@example.org",
                school,
                SettingType.PRIMARY_SCHOOL,
                date(2026, 11, 2),
            ),
            consents,
            coordinator,
        )


def test_an_under_12_cannot_consent_alone(make_case):
    """Seed 002 A3: agreement of the child and, for under-12s, their family."""
    with pytest.raises(services.CaseError, match="under 12"):
        make_case(date_of_birth=date(2016, 1, 1), consent_by=ConsentGiver.YOUNG_PERSON)


def test_a_young_person_of_12_or_over_can_consent(make_case):
    """Seed 003 §4.13: children aged 12 or over may generally be expected to understand."""
    case = make_case(date_of_birth=date(2012, 1, 1), consent_by=ConsentGiver.YOUNG_PERSON)
    assert case.consents[0].given_by == ConsentGiver.YOUNG_PERSON


@pytest.mark.parametrize(
    "start, to",
    [
        (S.RECEIVED, S.READY_FOR_FORUM),
        (S.RECEIVED, S.OPEN),
        (S.CHECKED, S.OPEN),
        (S.CHECKED, S.CLOSED),
        (S.READY_FOR_FORUM, S.CLOSED),
        (S.CLOSED, S.OPEN),
        (S.WITHDRAWN, S.RECEIVED),
        (S.MERGED, S.OPEN),
        (S.STEPPED_UP, S.OPEN),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(make_case, coordinator, start, to):
    case = make_case()
    case.status = start
    with pytest.raises(services.CaseError) as refused:
        services.change_status(case, to, coordinator)
    assert start.label.lower() in str(refused.value)
    assert case.status == start


def test_the_whole_path_from_intake_to_closure(make_case, coordinator):
    case = _checked(make_case(), coordinator)
    services.mark_ready_for_forum(case, coordinator)
    for to in (S.ON_AGENDA, S.OPEN, S.CLOSED):
        services.change_status(case, to, coordinator)
    assert [c.to_status for c in case.history] == [
        S.RECEIVED,
        S.CHECKED,
        S.READY_FOR_FORUM,
        S.ON_AGENDA,
        S.OPEN,
        S.CLOSED,
    ]


def test_ready_for_forum_needs_both_checks(make_case, coordinator):
    with pytest.raises(services.CaseError, match="Finish both checks"):
        services.mark_ready_for_forum(make_case(), coordinator)


def test_no_forum_without_sharing_consent_covering_the_forum(make_case, coordinator):
    """Seed 003 §4.12: share only with explicit consent. Enforced in the service layer."""
    case = _checked(make_case(share_with_forum=False), coordinator)
    with pytest.raises(services.CaseError, match="no consent in force to share"):
        services.mark_ready_for_forum(case, coordinator)
    case.status = S.READY_FOR_FORUM  # even if something skipped the button...
    with pytest.raises(services.CaseError, match="no consent in force to share"):
        services.change_status(case, S.ON_AGENDA, coordinator)


def test_consent_naming_only_some_agencies_does_not_cover_the_forum(make_case, coordinator, school):
    case = _checked(make_case(share_with_forum=False), coordinator)
    services.record_consent(
        case,
        services.ConsentDetails(
            kind=ConsentKind.SHARE,
            given=True,
            given_by=ConsentGiver.PARENT_CARER,
            given_by_name="Karen Thompson",
            given_on=date(2026, 11, 3),
            method=ConsentMethod.WRITTEN,
            agencies=[school],
        ),
        coordinator,
    )
    with pytest.raises(services.CaseError):
        services.mark_ready_for_forum(case, coordinator)


def test_refused_consent_does_not_open_the_gate(make_case, coordinator):
    case = _checked(make_case(share_with_forum=False), coordinator)
    services.record_consent(
        case,
        services.ConsentDetails(
            kind=ConsentKind.SHARE,
            given=False,
            given_by=ConsentGiver.PARENT_CARER,
            given_by_name="Karen Thompson",
            given_on=date(2026, 11, 3),
            method=ConsentMethod.ORAL,
            covers_forum=True,
        ),
        coordinator,
    )
    assert services.forum_sharing_consent(case) is None


def test_withdrawing_consent_is_recorded_and_takes_the_case_off_the_forum_route(
    make_case, coordinator
):
    """Seed 003 §4.12 and DESIGN: consent can be withdrawn; the record stays."""
    case = _checked(make_case(), coordinator)
    services.mark_ready_for_forum(case, coordinator)
    share = services.forum_sharing_consent(case)
    services.withdraw_consent(share, date(2026, 11, 10), "Mother changed her mind", coordinator)
    db.session.refresh(case)
    assert share in case.consents, "withdrawal never deletes the consent"
    assert share.withdrawn_on == date(2026, 11, 10) and not share.in_force
    assert case.status == S.CHECKED
    with pytest.raises(services.CaseError, match="already been withdrawn"):
        services.withdraw_consent(share, date(2026, 11, 11), "", coordinator)


def test_sharing_without_consent_is_its_own_exceptional_record(make_case, coordinator):
    """Seed 003 §4.21-4.24: record who decided, when, on which ground and why."""
    case = make_case(share_with_forum=False)
    with pytest.raises(services.CaseError, match="Enter why"):
        services.record_sharing_without_consent(
            case,
            decided_by_name="Team manager",
            decided_on=date(2026, 11, 4),
            ground=SharingGround.RISK_OF_SIGNIFICANT_HARM,
            reason="  ",
            shared_with="Police",
            user=coordinator,
        )
    record = services.record_sharing_without_consent(
        case,
        decided_by_name="Team manager",
        decided_on=date(2026, 11, 4),
        ground=SharingGround.RISK_OF_SIGNIFICANT_HARM,
        reason="Disclosure at school",
        shared_with="Police",
        user=coordinator,
    )
    assert case.sharing_without_consent == [record]
    assert services.forum_sharing_consent(case) is None, "it is not consent"


def test_withdrawing_a_case_needs_a_reason(make_case, coordinator):
    case = make_case()
    with pytest.raises(services.CaseError, match="Enter why"):
        services.withdraw(case, "  ", coordinator)
    services.withdraw(case, "Family moved out of the county", coordinator)
    assert case.status == S.WITHDRAWN
    assert services.available_actions(case) == frozenset()
