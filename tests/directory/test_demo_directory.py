"""`make run`'s demo shows the administration pages with realistic data (issue 15, "Done
when"): each district forum has its own members, 20 to 30, from its own district's agencies and
the authority-wide services; every agency has an email domain; the People page has accounts
with two-step sign-in on, signed in at different times or never, one locked and one
deactivated; one agency is retired."""

from collections import Counter

from sqlalchemy import select

from maf import demo
from maf.auth.models import User
from maf.directory import services
from maf.directory.models import Agency
from maf.extensions import db
from maf.forums.models import MemberRole


def _demo_directory():
    districts = {slug: demo._district(slug, name) for slug, name in demo.DISTRICTS.items()}
    return districts, demo.demo_agencies(districts)


def test_each_forums_members_come_from_its_own_district_with_addresses_in_their_domains(
    database,
):
    districts, agencies = _demo_directory()
    members = demo.demo_members(districts, agencies)

    per_forum = Counter(member.district for member in members)
    assert set(per_forum) == set(demo.DISTRICTS)
    assert all(20 <= count <= 30 for count in per_forum.values()), per_forum
    generated = [m for m in members if m.email not in {e for _, e, _ in demo.DEMO_MEMBERS}]
    names = [m.name.removeprefix("PC ").removeprefix("Dr ") for m in generated]
    assert len(set(names)) == len(names), "each member a different person"
    assert len({m.email for m in members}) == len(members)
    for member in members:
        agency = agencies[member.agency]
        assert not agency.retired_at
        assert agency.districts in ([], [districts[member.district]]), (member, agency)
    for member in generated:
        assert services.agency_for_email(member.email) == agencies[member.agency], member
    # Each forum has its schools, its health visitors, its housing and its police team.
    for slug in demo.DISTRICTS:
        own = {agencies[m.agency].type for m in members if m.district == slug}
        assert {"health", "police", "housing"} <= {t.value for t in own}, slug
    assert {m.role for m in members} == {MemberRole.STANDING, MemberRole.OBSERVER}
    assert all(agency.email_domains for agency in agencies.values())


def test_the_people_page_has_accounts_in_every_state_and_one_agency_is_retired(database):
    districts, agencies = _demo_directory()
    demo._load_member_accounts(demo.demo_members(districts, agencies), agencies)
    db.session.commit()

    users = list(db.session.scalars(select(User)))
    assert sum(1 for u in users if u.mfa_enabled_at) >= 5
    assert sum(1 for u in users if u.last_signed_in_at is None) >= 1
    assert len({u.last_signed_in_at.date() for u in users if u.last_signed_in_at}) >= 3
    assert [u.name for u in users if not u.active] == ["Bethany Cole"]
    assert [u.name for u in users if u.locked_until] == ["Kieran Walsh"]
    retired = list(db.session.scalars(select(Agency).where(Agency.retired_at.is_not(None))))
    assert [a.name for a in retired] == [demo.RETIRED_AGENCY[0]]
    assert retired[0] not in services.agencies()
