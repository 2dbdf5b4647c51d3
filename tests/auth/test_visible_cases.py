"""`visible_cases(user)` (SQL, for lists, searches and exports) decides exactly what
`can_see_case(user, case)` (per case, for case pages) decides, archived cases aside."""

from datetime import date

from sqlalchemy import select

from maf.auth.models import Role
from maf.auth.permissions import can_see_case, visible_case_condition, visible_cases
from maf.cases.models import Case
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.outcomes.models import LeadKind, LeadProfessional


def _lead(case, *, user=None, email="", ends_on=None):
    db.session.add(
        LeadProfessional(
            case_id=case.id,
            kind=LeadKind.PRACTITIONER,
            name="Zoë Brennan",
            email=email,
            user_id=user.id if user else None,
            agreed=True,
            starts_on=date(2027, 1, 12),
            ends_on=ends_on,
        )
    )


def test_visible_cases_agrees_with_can_see_case_for_every_user_and_case(
    make_user, make_district, make_case, make_forum, coordinator
):
    charnwood = coordinator.districts[0]
    melton = make_district("Melton")
    melton_coordinator = make_user(Role.COORDINATOR, districts=[melton])
    both_districts = make_user(Role.COORDINATOR, districts=[charnwood, melton])
    district_but_no_role = make_user(Role.PRACTITIONER, districts=[charnwood])
    coordinator_without_district = make_user(Role.COORDINATOR)
    admin = make_user(Role.ADMIN)
    admin_and_melton_coordinator = make_user(Role.ADMIN, Role.COORDINATOR, districts=[melton])
    charnwood_chair = make_user(Role.CHAIR)
    melton_chair = make_user(Role.CHAIR)
    make_forum(district=charnwood, chair=charnwood_chair)
    make_forum(district=melton, chair=melton_chair)
    referrer = make_user(Role.PRACTITIONER)
    lead_by_account = make_user(Role.PRACTITIONER)
    lead_by_email = make_user(Role.PRACTITIONER, email="zoe.brennan@example.org")
    former_lead = make_user(Role.PRACTITIONER)
    stranger = make_user(Role.PRACTITIONER)

    referred = make_case("Amy", "Walker")
    referred.referrer_user = referrer
    led = make_case("Ben", "Carter", district=melton)
    _lead(led, user=lead_by_account)
    _lead(led, user=former_lead, ends_on=date(2027, 2, 1))
    led_by_email = make_case("Cara", "Ng", district=melton)
    _lead(led_by_email, email="zoe.brennan@example.org")
    plain_melton = make_case("Dev", "Patel", district=melton)
    archived = make_case("Ella", "Hughes")
    archived.referrer_user = referrer
    archived.archived_at = utcnow()
    db.session.commit()

    users = [
        coordinator,
        melton_coordinator,
        both_districts,
        district_but_no_role,
        coordinator_without_district,
        admin,
        admin_and_melton_coordinator,
        charnwood_chair,
        melton_chair,
        referrer,
        lead_by_account,
        lead_by_email,
        former_lead,
        stranger,
    ]
    cases = [referred, led, led_by_email, plain_melton, archived]
    disagreements = []
    for user in users:
        in_sql = set(db.session.scalars(visible_cases(user)))
        # The form lists and searches use, with its lookups done first, decides the same.
        as_condition = set(db.session.scalars(select(Case.id).where(visible_case_condition(user))))
        for case in cases:
            expected = can_see_case(user, case) and case.archived_at is None
            for form, found in (("subquery", in_sql), ("condition", as_condition)):
                if (case.id in found) != expected:
                    disagreements.append((form, user.email, case.child.given_name, expected))
    assert disagreements == []

    # The matrix is not trivially empty or full: each reason lets someone in.
    def seen_by(user):
        return {
            db.session.get(type(referred), i).child.given_name
            for i in db.session.scalars(visible_cases(user))
        }

    assert seen_by(coordinator) == {"Amy"}
    assert seen_by(melton_coordinator) == {"Ben", "Cara", "Dev"}
    assert seen_by(both_districts) == {"Amy", "Ben", "Cara", "Dev"}
    assert seen_by(charnwood_chair) == {"Amy"}
    assert seen_by(referrer) == {"Amy"}  # Ella is archived: read through the archive only
    assert seen_by(lead_by_account) == {"Ben"}
    assert seen_by(lead_by_email) == {"Cara"}
    assert seen_by(former_lead) == set()
    assert seen_by(admin) == set()
    assert seen_by(district_but_no_role) == set()
    assert seen_by(stranger) == set()


def test_visible_cases_is_one_statement_usable_as_a_subquery(make_case, coordinator):
    case = make_case()
    ids = select(type(case).id).where(type(case).id.in_(visible_cases(coordinator)))
    assert list(db.session.scalars(ids)) == [case.id]
