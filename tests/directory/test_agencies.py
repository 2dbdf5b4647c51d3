"""Agencies administered in the browser (issue 15 point 1): several districts each, email
domains that name a person's agency, retiring for history, and merging two duplicates."""

from datetime import date

import pytest
from sqlalchemy import func, select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import ConsentGiver, ConsentKind, ConsentMethod
from maf.directory import services
from maf.directory.models import Agency, AgencyTier, AgencyType
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import MemberRole
from maf.versioning import StaleEdit


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin", email="ada.admin@example.org")


def details(name="Rawlins Academy", districts=(), domains=(), type=AgencyType.HIGH_SCHOOL):
    return services.AgencyDetails(
        name=name,
        type=type,
        tier=AgencyTier.UNIVERSAL,
        districts=list(districts),
        email_domains=list(domains),
    )


# --- agency_for_email ----------------------------------------------------------------------


def test_an_address_names_the_agency_whose_domain_is_exactly_its_own(make_agency):
    police = make_agency(name="Leicestershire Police", email_domains=["leics.police.uk"])
    assert services.agency_for_email("pc.jones@leics.police.uk") == police
    assert services.agency_for_email("  PC.Jones@LEICS.Police.UK ") == police, "any capitals"
    # Exact match only: a subdomain, or a domain that merely ends the same, is not theirs.
    assert services.agency_for_email("someone@mail.leics.police.uk") is None
    assert services.agency_for_email("someone@notleics.police.uk") is None
    assert services.agency_for_email("leics.police.uk") is None, "no @: not an address"
    assert services.agency_for_email("") is None


def test_a_retired_agencys_domain_names_nobody(make_agency, admin):
    school = make_agency(name="Old School", email_domains=["oldschool.org.uk"])
    services.retire_agency(school, admin)
    assert services.agency_for_email("head@oldschool.org.uk") is None


# --- creating and editing ------------------------------------------------------------------


def test_an_agency_works_in_several_districts_and_keeps_its_domains_lower_case(
    make_district, admin
):
    charnwood, melton = make_district("Charnwood"), make_district("Melton")
    saved = services.save_agency(
        None,
        details("Leicestershire Partnership NHS Trust", [melton, charnwood], ["LPT.nhs.uk"]),
        admin,
    )
    assert saved.districts == [charnwood, melton]
    assert saved.email_domains == ["lpt.nhs.uk"]
    assert saved in services.agencies_of(charnwood) and saved in services.agencies_of(melton)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agency_created"))
    assert event.object_id == str(saved.id) and "lpt.nhs.uk" in event.detail


def test_a_domain_belongs_to_one_agency_and_the_refusal_says_which(make_agency, admin):
    make_agency(name="Rawlins Academy", email_domains=["rawlins.leics.sch.uk"])
    with pytest.raises(services.DirectoryError) as refused:
        services.save_agency(
            None, details("Rawlins Sixth Form", domains=["Rawlins.leics.sch.uk"]), admin
        )
    assert refused.value.field == "email_domains"
    assert "rawlins.leics.sch.uk is already a domain of Rawlins Academy" in str(refused.value)


def test_names_are_unique_whatever_the_capitals(make_agency, admin):
    make_agency(name="Rawlins Academy")
    with pytest.raises(services.DirectoryError) as refused:
        services.save_agency(None, details("RAWLINS  academy"), admin)
    assert refused.value.field == "name"
    assert str(refused.value) == "An agency called Rawlins Academy already exists"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("school.org.uk", ["school.org.uk"]),
        (
            "@School.org.uk\n\nlpt.nhs.uk, leics.police.uk",
            ["school.org.uk", "lpt.nhs.uk", "leics.police.uk"],
        ),
        ("a.uk\na.uk", ["a.uk"]),
        ("xn--bcher-kva.example", ["xn--bcher-kva.example"]),
        ("", []),
    ],
)
def test_domains_are_typed_one_per_line(typed, expected):
    assert services.parse_domains(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["school", "name@school.org.uk", "-school.org.uk", "school..org.uk", "sch_ool.uk", "bücher.de"],
)
def test_what_is_not_a_domain_is_refused_by_name(typed):
    with pytest.raises(services.DirectoryError) as refused:
        services.parse_domains(f"good.org.uk\n{typed}")
    assert refused.value.field == "email_domains"
    assert "good.org.uk" not in str(refused.value)


def test_two_admins_editing_one_agency_the_second_is_shown_the_first_s_change(
    make_agency, make_user, admin
):
    agency = make_agency(name="Charnwood Family Hub")
    opened_at = agency.version
    other = make_user(Role.ADMIN, name="Ola Other", email="ola.other@example.org")
    services.save_agency(agency, details("Charnwood Family Hubs"), other, version=opened_at)
    with pytest.raises(StaleEdit) as stale:
        services.save_agency(agency, details("Charnwood Early Help Hub"), admin, version=opened_at)
    assert stale.value.changed_by == "Ola Other"
    assert [(d.label, d.theirs, d.yours) for d in stale.value.differences] == [
        ("Name", "Charnwood Family Hubs", "Charnwood Early Help Hub")
    ]
    db.session.rollback()
    assert db.session.get(Agency, agency.id).name == "Charnwood Family Hubs"


# --- retiring ------------------------------------------------------------------------------


def test_a_retired_agency_is_offered_nowhere_new_but_stays_on_what_names_it(
    make_agency, coordinator, make_user, make_forum, admin
):
    charnwood = coordinator.districts[0]
    closing = make_agency(name="Limehurst Academy", district=charnwood)
    member_user = make_user(Role.PRACTITIONER, name="Ted Teacher", agency=closing)
    forum = make_forum(district=charnwood)
    member = forum_services.add_member(
        forum,
        name="Ted Teacher",
        email="ted@example.org",
        agency=closing,
        role=MemberRole.STANDING,
        user=admin,
    )
    assert services.retire_agency(closing, admin, version=closing.version)

    assert closing not in services.agencies(), "member, referrer and consent choices"
    assert closing not in case_services.schools_of([charnwood]), "the intake's school picker"
    assert closing in services.agencies(keep=[closing]), "an old record keeps its own choice"
    db.session.expire_all()
    assert member.agency == closing and member_user.agency == closing
    assert closing in services.agencies_of(charnwood), "the district's page keeps its history"
    assert not services.retire_agency(closing, admin), "retiring twice changes nothing"
    assert services.reinstate_agency(closing, admin)
    assert closing in services.agencies()
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "agency").order_by(AuditEvent.id)
    ).all()
    assert actions == ["agency_retired", "agency_reinstated"]


# --- merging -------------------------------------------------------------------------------


def test_merging_moves_users_members_cases_schools_consents_and_domains_in_one_go(
    make_agency, make_district, make_user, make_forum, make_case, school, coordinator, admin
):
    charnwood = coordinator.districts[0]
    melton = make_district("Melton")
    school.districts = [charnwood]
    school.email_domains = ["woodgate.leics.sch.uk"]
    keep = make_agency(
        name="Woodgate High School", district=melton, email_domains=["woodgate.org.uk"]
    )
    case = make_case()  # referred by `school`, the duplicate
    case.child.school = school
    consent = case_services.record_consent(
        case,
        case_services.ConsentDetails(
            kind=ConsentKind.SHARE,
            given=True,
            given_by=ConsentGiver.PARENT_CARER,
            given_by_name="Karen Thompson",
            given_on=date(2026, 11, 2),
            method=ConsentMethod.WRITTEN,
            agencies=[school, keep],  # both: the merge must not make the link twice
        ),
        coordinator,
    )
    teacher = make_user(Role.PRACTITIONER, name="Ted Teacher", agency=school)
    member = forum_services.add_member(
        make_forum(),
        name="Ted Teacher",
        email="ted@example.org",
        agency=school,
        role=MemberRole.STANDING,
        user=admin,
    )
    earlier = make_agency(name="Woodgate High")  # merged into the duplicate long ago
    earlier.merged_into = school
    db.session.commit()

    moved = services.merge_agencies(school, keep, admin, version=school.version)

    db.session.expire_all()
    assert dict(moved) == {
        "user accounts": 1,
        "forum members": 1,
        "cases it referred": 1,
        "children at it as their school or setting": 1,
        "consents to share information with it": 1,
    }
    assert teacher.agency == keep and member.agency == keep
    assert case.referrer_agency == keep and case.child.school == keep
    assert consent.agencies == [keep]
    for reference in services.agency_references():
        left = db.session.scalar(
            select(func.count()).select_from(reference.table).where(reference.column == school.id)
        )
        assert left == 0, f"{reference.label} still name the duplicate"
    assert keep.email_domains == ["woodgate.leics.sch.uk", "woodgate.org.uk"]
    assert keep.districts == [charnwood, melton]
    assert school.retired and school.merged_into == keep and school.email_domains == []
    assert earlier.merged_into == keep, "old links resolve in one step"
    assert services.agency_for_email("ted@woodgate.leics.sch.uk") == keep
    detail = db.session.scalar(
        select(AuditEvent.detail).where(
            AuditEvent.action == "agency_merged", AuditEvent.object_id == str(school.id)
        )
    )
    assert detail == (
        "Merged into Woodgate High School: 1 cases it referred, "
        "1 children at it as their school or setting, 1 consents to share information with it, "
        "1 forum members, 1 user accounts; email domains woodgate.leics.sch.uk"
    )


def test_a_merge_refuses_itself_a_retired_keeper_and_a_stale_page(make_agency, admin):
    duplicate, keep = make_agency(name="Hub"), make_agency(name="Family Hub")
    with pytest.raises(services.DirectoryError):
        services.merge_agencies(duplicate, duplicate, admin)
    opened_at = duplicate.version
    services.save_agency(duplicate, details("The Hub"), admin)
    with pytest.raises(StaleEdit):
        services.merge_agencies(duplicate, keep, admin, version=opened_at)
    db.session.rollback()
    services.retire_agency(keep, admin)
    with pytest.raises(services.DirectoryError, match="Family Hub is retired"):
        services.merge_agencies(duplicate, keep, admin)
    db.session.rollback()
    assert db.session.get(Agency, duplicate.id).merged_into is None


def test_every_column_naming_an_agency_is_described_on_the_merge_page():
    """A new foreign key to agency.id is moved by a merge anyway (found from the schema); this
    asks that it is also named in words, on the merge page and in its audit entry."""
    found = {(ref.table.name, ref.column.name) for ref in services.agency_references()}
    assert found <= set(services.REFERENCE_LABELS), found - set(services.REFERENCE_LABELS)
    assert ("user", "agency_id") in found and ("consent_agency", "agency_id") in found
