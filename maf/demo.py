"""Demo data: the five Leicestershire district forums of seed 004, with agencies and users.

Safe to load again: every record is found by its natural key and updated, never duplicated.
All people, schools and addresses are invented.
"""

import io
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from maf.agendas import services as agenda_services
from maf.agendas.models import ItemKind
from maf.auth import services as auth_services
from maf.auth.mfa import new_secret
from maf.auth.models import Role, User
from maf.cases import services as case_services
from maf.cases.involvement_import import parse_involvement_csv
from maf.cases.models import (
    Case,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    MatchVerdict,
    NeedStatement,
    SettingType,
    TierOutcome,
)
from maf.cases.validation import age_on
from maf.dbtypes import london_today, utcnow
from maf.directory.models import Agency, AgencyTier, AgencyType, District
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Forum, MemberRole
from maf.invitations import services as invitation_services
from maf.invitations.models import AccountInvitation
from maf.outcomes import services as outcome_services
from maf.outcomes.models import ClosureReason, LeadKind, Outcome
from maf.reports import board as board_services
from maf.reports.models import BoardEntryKind

DEMO_PASSWORD = "demo-forum-password-2026"  # noqa: S105 - printed for demo sign-in only

DISTRICTS = {
    "north-west-leicestershire": "North West Leicestershire",
    "hinckley-and-bosworth": "Hinckley and Bosworth",
    "charnwood": "Charnwood",
    "melton": "Melton",
    "south-leicestershire": "South Leicestershire",
}

_TIER_OF_TYPE = {
    AgencyType.CHILDRENS_SOCIAL_CARE: AgencyTier.SPECIALIST,
    AgencyType.SPECIALIST_CAMHS: AgencyTier.SPECIALIST,
    AgencyType.YOUTH_JUSTICE: AgencyTier.SPECIALIST,
    AgencyType.YOUTH_SERVICE: AgencyTier.TARGETED,
    AgencyType.HOUSING: AgencyTier.TARGETED,
    AgencyType.VOLUNTARY: AgencyTier.TARGETED,
    AgencyType.LOCAL_AUTHORITY: AgencyTier.TARGETED,
}

# (name, type, district slug or None for authority-wide)
AGENCIES = (
    ("Coalville Community High School", AgencyType.HIGH_SCHOOL, "north-west-leicestershire"),
    ("Ashby Hill Top Primary School", AgencyType.PRIMARY_SCHOOL, "north-west-leicestershire"),
    (
        "Castle Donington Little Acorns Pre-school",
        AgencyType.EARLY_YEARS,
        "north-west-leicestershire",
    ),
    ("Hinckley Heath Academy", AgencyType.HIGH_SCHOOL, "hinckley-and-bosworth"),
    ("Market Bosworth Brookside Primary", AgencyType.PRIMARY_SCHOOL, "hinckley-and-bosworth"),
    ("Hinckley and Bosworth Housing Options", AgencyType.HOUSING, "hinckley-and-bosworth"),
    ("Loughborough Woodgate High School", AgencyType.HIGH_SCHOOL, "charnwood"),
    ("Shepshed Orchard Primary School", AgencyType.PRIMARY_SCHOOL, "charnwood"),
    ("Charnwood Youth Service", AgencyType.YOUTH_SERVICE, "charnwood"),
    ("Loughborough College", AgencyType.COLLEGE, "charnwood"),
    ("Melton Vale High School", AgencyType.HIGH_SCHOOL, "melton"),
    ("Melton Children's Centre", AgencyType.EARLY_YEARS, "melton"),
    ("Wigston Meadows Primary School", AgencyType.PRIMARY_SCHOOL, "south-leicestershire"),
    ("Lutterworth Riverside High School", AgencyType.HIGH_SCHOOL, "south-leicestershire"),
    ("Leicestershire Children's Social Care", AgencyType.CHILDRENS_SOCIAL_CARE, None),
    ("Leicestershire Partnership NHS Trust: School Nursing", AgencyType.HEALTH, None),
    ("Leicestershire Partnership NHS Trust: Health Visiting", AgencyType.HEALTH, None),
    ("Specialist CAMHS Leicestershire", AgencyType.SPECIALIST_CAMHS, None),
    ("Leicestershire Youth Justice Service", AgencyType.YOUTH_JUSTICE, None),
    ("Leicestershire Police: Neighbourhood Policing", AgencyType.POLICE, None),
    ("Family Support Partnership (voluntary sector)", AgencyType.VOLUNTARY, None),
    ("Leicestershire Early Help Service", AgencyType.LOCAL_AUTHORITY, None),
)


# Each district's own services beyond the schools above, so every forum's members come from
# its own district's agencies (issue 15): (name, type, district slug).
DISTRICT_AGENCIES = (
    ("Coalville Family Hub", AgencyType.LOCAL_AUTHORITY, "north-west-leicestershire"),
    (
        "North West Leicestershire Health Visiting Team",
        AgencyType.HEALTH,
        "north-west-leicestershire",
    ),
    (
        "North West Leicestershire Neighbourhood Policing Team",
        AgencyType.POLICE,
        "north-west-leicestershire",
    ),
    (
        "North West Leicestershire Council Housing Options",
        AgencyType.HOUSING,
        "north-west-leicestershire",
    ),
    ("Ibstock Young Carers Project", AgencyType.VOLUNTARY, "north-west-leicestershire"),
    ("Whitwick Greenhill Primary School", AgencyType.PRIMARY_SCHOOL, "north-west-leicestershire"),
    ("Hinckley Family Hub", AgencyType.LOCAL_AUTHORITY, "hinckley-and-bosworth"),
    ("Hinckley and Bosworth Health Visiting Team", AgencyType.HEALTH, "hinckley-and-bosworth"),
    (
        "Hinckley and Bosworth Neighbourhood Policing Team",
        AgencyType.POLICE,
        "hinckley-and-bosworth",
    ),
    ("Earl Shilton Community Pantry", AgencyType.VOLUNTARY, "hinckley-and-bosworth"),
    ("Burbage Hollycroft Primary School", AgencyType.PRIMARY_SCHOOL, "hinckley-and-bosworth"),
    ("Loughborough Family Hub", AgencyType.LOCAL_AUTHORITY, "charnwood"),
    ("Charnwood Health Visiting Team", AgencyType.HEALTH, "charnwood"),
    ("Charnwood Neighbourhood Policing Team", AgencyType.POLICE, "charnwood"),
    ("Charnwood Borough Council Housing Needs", AgencyType.HOUSING, "charnwood"),
    ("Soar Valley Family Mentoring", AgencyType.VOLUNTARY, "charnwood"),
    ("Melton Family Hub", AgencyType.LOCAL_AUTHORITY, "melton"),
    ("Melton Health Visiting Team", AgencyType.HEALTH, "melton"),
    ("Melton Neighbourhood Policing Team", AgencyType.POLICE, "melton"),
    ("Melton Borough Council Housing Options", AgencyType.HOUSING, "melton"),
    ("Melton Mowbray Youth Project", AgencyType.YOUTH_SERVICE, "melton"),
    ("Asfordby Hillside Primary School", AgencyType.PRIMARY_SCHOOL, "melton"),
    ("Wigston Family Hub", AgencyType.LOCAL_AUTHORITY, "south-leicestershire"),
    ("South Leicestershire Health Visiting Team", AgencyType.HEALTH, "south-leicestershire"),
    ("South Leicestershire Neighbourhood Policing Team", AgencyType.POLICE, "south-leicestershire"),
    ("Harborough District Council Housing Options", AgencyType.HOUSING, "south-leicestershire"),
    ("Lutterworth Youth Project", AgencyType.YOUTH_SERVICE, "south-leicestershire"),
    ("Oadby Brookside Early Years Centre", AgencyType.EARLY_YEARS, "south-leicestershire"),
)
# Closed in the demo's past: retired, kept for the account and history that name it.
RETIRED_AGENCY = ("Home-Start Soar Valley", AgencyType.VOLUNTARY, "charnwood")

# Every demo agency's email domain, under example.org (reserved: no mail ever reaches it).
AGENCY_DOMAINS = {
    "Coalville Community High School": "coalvillehigh.example.org",
    "Ashby Hill Top Primary School": "hilltop-ashby.example.org",
    "Castle Donington Little Acorns Pre-school": "littleacorns-cd.example.org",
    "Hinckley Heath Academy": "hinckleyheath.example.org",
    "Market Bosworth Brookside Primary": "brookside-mb.example.org",
    "Hinckley and Bosworth Housing Options": "hbbc-housing.example.org",
    "Loughborough Woodgate High School": "woodgate.example.org",
    "Shepshed Orchard Primary School": "orchard-shepshed.example.org",
    "Charnwood Youth Service": "charnwood-youth.example.org",
    "Loughborough College": "loucoll.example.org",
    "Melton Vale High School": "meltonvale.example.org",
    "Melton Children's Centre": "melton-cc.example.org",
    "Wigston Meadows Primary School": "wigstonmeadows.example.org",
    "Lutterworth Riverside High School": "riverside-lutterworth.example.org",
    "Leicestershire Children's Social Care": "leics-childrens.example.org",
    "Leicestershire Partnership NHS Trust: School Nursing": "lpt-schoolnursing.example.org",
    "Leicestershire Partnership NHS Trust: Health Visiting": "lpt-healthvisiting.example.org",
    "Specialist CAMHS Leicestershire": "lpt-camhs.example.org",
    "Leicestershire Youth Justice Service": "leics-yjs.example.org",
    "Leicestershire Police: Neighbourhood Policing": "leics-police.example.org",
    "Family Support Partnership (voluntary sector)": "fsp-leics.example.org",
    "Leicestershire Early Help Service": "leics-earlyhelp.example.org",
    "Coalville Family Hub": "coalville-hub.example.org",
    "North West Leicestershire Health Visiting Team": "nwl-hv.example.org",
    "North West Leicestershire Neighbourhood Policing Team": "nwl-npt.example.org",
    "North West Leicestershire Council Housing Options": "nwleics-housing.example.org",
    "Ibstock Young Carers Project": "ibstockcarers.example.org",
    "Whitwick Greenhill Primary School": "greenhill-whitwick.example.org",
    "Hinckley Family Hub": "hinckley-hub.example.org",
    "Hinckley and Bosworth Health Visiting Team": "hb-hv.example.org",
    "Hinckley and Bosworth Neighbourhood Policing Team": "hb-npt.example.org",
    "Earl Shilton Community Pantry": "esc-pantry.example.org",
    "Burbage Hollycroft Primary School": "hollycroft.example.org",
    "Loughborough Family Hub": "loughborough-hub.example.org",
    "Charnwood Health Visiting Team": "charnwood-hv.example.org",
    "Charnwood Neighbourhood Policing Team": "charnwood-npt.example.org",
    "Charnwood Borough Council Housing Needs": "charnwood-housing.example.org",
    "Soar Valley Family Mentoring": "soarvalleymentoring.example.org",
    "Melton Family Hub": "melton-hub.example.org",
    "Melton Health Visiting Team": "melton-hv.example.org",
    "Melton Neighbourhood Policing Team": "melton-npt.example.org",
    "Melton Borough Council Housing Options": "melton-housing.example.org",
    "Melton Mowbray Youth Project": "mm-youth.example.org",
    "Asfordby Hillside Primary School": "hillside-asfordby.example.org",
    "Wigston Family Hub": "wigston-hub.example.org",
    "South Leicestershire Health Visiting Team": "southleics-hv.example.org",
    "South Leicestershire Neighbourhood Policing Team": "southleics-npt.example.org",
    "Harborough District Council Housing Options": "harborough-housing.example.org",
    "Lutterworth Youth Project": "lutterworth-youth.example.org",
    "Oadby Brookside Early Years Centre": "brookside-oadby.example.org",
    "Home-Start Soar Valley": "homestart-soarvalley.example.org",
}


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    roles: tuple[Role, ...]
    districts: tuple[str, ...]
    agency: str | None


USERS = (
    DemoUser("admin@example.org", "Alex Admin", (Role.ADMIN,), (), None),
    DemoUser(
        "coordinator.charnwood@example.org",
        "Priya Shah",
        (Role.COORDINATOR,),
        ("charnwood",),
        "Leicestershire Early Help Service",
    ),
    DemoUser(
        "coordinator.melton@example.org",
        "Tom O'Neill",
        (Role.COORDINATOR,),
        ("melton",),
        "Leicestershire Early Help Service",
    ),
    DemoUser(
        "coordinator.south@example.org",
        "Siân Llewellyn-Jones",
        (Role.COORDINATOR,),
        ("south-leicestershire", "hinckley-and-bosworth"),
        "Leicestershire Early Help Service",
    ),
    DemoUser("chair@example.org", "Margaret Okafor", (Role.CHAIR,), ("charnwood", "melton"), None),
    DemoUser(
        "school.nurse@example.org",
        "Zoë Brennan",
        (Role.PRACTITIONER,),
        ("charnwood",),
        "Leicestershire Partnership NHS Trust: School Nursing",
    ),
    DemoUser(
        "pastoral.lead@example.org",
        "Daniel Kowalski",
        (Role.PRACTITIONER,),
        ("charnwood",),
        "Loughborough Woodgate High School",
    ),
    DemoUser(
        "youth.worker@example.org",
        "Aisha Rahman",
        (Role.PRACTITIONER, Role.CHAIR),
        ("charnwood",),
        "Charnwood Youth Service",
    ),
)


def _district(slug: str, name: str) -> District:
    district = db.session.scalar(select(District).where(District.slug == slug))
    if district is None:
        district = District(slug=slug)
        db.session.add(district)
    district.name = name
    return district


def _agency(name: str, agency_type: AgencyType, district: District | None) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        agency = Agency(name=name)
        db.session.add(agency)
    agency.type = agency_type
    agency.tier = _TIER_OF_TYPE.get(agency_type, AgencyTier.UNIVERSAL)
    agency.districts = [district] if district else []
    agency.email_domains = [AGENCY_DOMAINS[name]] if name in AGENCY_DOMAINS else []
    return agency


def demo_agencies(districts: dict[str, District]) -> dict[str, Agency]:
    """Every demo agency by name, with its district and email domain; one retired."""
    agencies = {
        name: _agency(name, agency_type, districts[slug] if slug else None)
        for name, agency_type, slug in (*AGENCIES, *DISTRICT_AGENCIES, RETIRED_AGENCY)
    }
    retired = agencies[RETIRED_AGENCY[0]]
    if retired.retired_at is None:
        retired.retired_at = datetime.combine(
            london_today() - timedelta(days=200), time(17, 0), tzinfo=UTC
        )
    db.session.flush()
    return agencies


def load_demo_data(history_cases: int = 0) -> list[DemoUser]:
    districts = {slug: _district(slug, name) for slug, name in DISTRICTS.items()}
    agencies = demo_agencies(districts)
    for user in USERS:
        auth_services.save_user(
            email=user.email,
            name=user.name,
            password=DEMO_PASSWORD,
            roles=user.roles,
            districts=[districts[slug] for slug in user.districts],
            agency=agencies[user.agency] if user.agency else None,
        )
    members = demo_members(districts, agencies)
    _load_member_accounts(members, agencies)
    db.session.commit()
    _load_demo_invitations(districts, agencies)
    if db.session.scalar(select(Forum.id).limit(1)) is None:
        _load_demo_forums(districts, members)
    if db.session.scalar(select(Case.id).limit(1)) is None:
        load_demo_history(history_cases, london_today())
        _load_demo_cases(districts, agencies)
        _load_demo_board_period(districts["charnwood"])
    return list(USERS)


def _load_demo_board_period(district: District) -> None:
    """The last full quarter's board inputs for Charnwood, as the CAF team would type them."""
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator.charnwood@example.org")
    )
    today = london_today()
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    starts_on = (quarter_start - timedelta(days=1)).replace(day=1)
    starts_on = date(starts_on.year, 3 * ((starts_on.month - 1) // 3) + 1, 1)
    period = board_services.board_period(
        district, starts_on, quarter_start - timedelta(days=1), coordinator
    )
    board_services.save_inputs(
        period,
        board_services.BoardInputs(
            target_started=20,
            target_completed=18,
            target_organisations=10,
            target_trained=25,
            practitioners_trained=22,
            next_target_started=22,
            next_target_completed=20,
            next_target_organisations=11,
            next_target_trained=30,
        ),
        coordinator,
    )
    for kind, text, response in (
        (
            BoardEntryKind.RISK,
            "Schools not completing CAFs for younger children",
            "Briefings for primary heads; coordinator at cluster meetings",
        ),
        (
            BoardEntryKind.ISSUE,
            "Time between forums delays help for new cases",
            "Pilot monthly local case discussions between forums",
        ),
        (BoardEntryKind.RECOMMENDATION, "Accept the CAF as a referral in every partner agency", ""),
    ):
        board_services.add_entry(period, kind, text, response, coordinator)


# (name, email, agency) of agency attendees; those with accounts are linked by email.
DEMO_MEMBERS = (
    (
        "Zoë Brennan",
        "school.nurse@example.org",
        "Leicestershire Partnership NHS Trust: School Nursing",
    ),
    ("Daniel Kowalski", "pastoral.lead@example.org", "Loughborough Woodgate High School"),
    ("Aisha Rahman", "youth.worker@example.org", "Charnwood Youth Service"),
    (
        "Sgt Paul Dennis",
        "paul.dennis@police.example.org",
        "Leicestershire Police: Neighbourhood Policing",
    ),
    ("Rachel Greaves", "rachel.greaves@example.org", "Leicestershire Children's Social Care"),
    ("Hannah Moss", "hannah.moss@example.org", "Family Support Partnership (voluntary sector)"),
)


# Forum members' names: invented, each used once across the demo.
MEMBER_GIVEN_NAMES = (
    "Sarah",
    "James",
    "Helen",
    "Mohammed",
    "Claire",
    "David",
    "Priti",
    "Mark",
    "Joanne",
    "Gareth",
    "Nicola",
    "Imran",
    "Lucy",
    "Stephen",
    "Rebecca",
    "Anil",
    "Emma",
    "Paul",
    "Karen",
    "Tomasz",
    "Fiona",
    "Richard",
    "Shabana",
    "Neil",
    "Louise",
    "Craig",
    "Gemma",
    "Kwame",
    "Alison",
    "Owen",
    "Harjit",
    "Joanna",
    "Simon",
    "Bethany",
    "Callum",
    "Yasmin",
)
MEMBER_FAMILY_NAMES = (
    "Patel",
    "Whitmore",
    "Okonkwo",
    "Fletcher",
    "Mistry",
    "Harrison",
    "Chauhan",
    "Bennett",
    "Kaur",
    "Lowe",
    "Nowak",
    "Dunmore",
    "Begum",
    "Ashworth",
    "Sharma",
    "Pritchard",
    "Mensah",
    "Holloway",
    "Lam",
    "Gallagher",
    "Parmar",
    "Sutton",
    "Wiśniewski",
    "Doherty",
    "Adeyemi",
    "Marsden",
    "Chowdhury",
    "Radford",
    "Fernandes",
    "Oakley",
)
_TITLE_OF_TYPE = {AgencyType.POLICE: "PC ", AgencyType.SPECIALIST_CAMHS: "Dr "}


@dataclass(frozen=True)
class DemoMember:
    district: str  # slug
    name: str
    email: str
    agency: str
    role: MemberRole


def _address(name: str, domain: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    given, family = plain.split(" ", 1)
    return f"{given}.{re.sub(r'[^a-z]', '', family)}@{domain}"


def demo_members(districts: dict[str, District], agencies: dict[str, Agency]) -> list[DemoMember]:
    """Each district forum's members, from its own district's agencies (two each) and the
    authority-wide services (one each): 20 to 30 a forum, each a different invented person
    with an address in their agency's domain. Charnwood's include the demo's practitioners."""
    rng = random.Random(15)  # noqa: S311 - invented demo data, not security
    names = [f"{g} {f}" for g in MEMBER_GIVEN_NAMES for f in MEMBER_FAMILY_NAMES]
    rng.shuffle(names)
    taken = iter(names)
    members = []
    for slug in DISTRICTS:
        own = [name for name, _type, s in (*AGENCIES, *DISTRICT_AGENCIES) if s == slug]
        everywhere = [name for name, _type, s in AGENCIES if s is None]
        existing = list(DEMO_MEMBERS) if slug == "charnwood" else []
        for name, email, agency in existing:
            members.append(DemoMember(slug, name, email, agency, MemberRole.STANDING))
        seats = [(agency, 2) for agency in own] + [(agency, 1) for agency in everywhere]
        for agency, count in seats:
            count -= sum(1 for _, _, a in existing if a == agency)
            for _ in range(max(0, count)):
                person = next(taken)
                title = _TITLE_OF_TYPE.get(agencies[agency].type, "")
                members.append(
                    DemoMember(
                        slug,
                        title + person,
                        _address(person, AGENCY_DOMAINS[agency]),
                        agency,
                        # The police and housing attend as observers, as in many areas.
                        MemberRole.OBSERVER
                        if agencies[agency].type in (AgencyType.POLICE, AgencyType.HOUSING)
                        else MemberRole.STANDING,
                    )
                )
    return members


def _load_member_accounts(members: list[DemoMember], agencies: dict[str, Agency]) -> None:
    """Accounts for some members, as a council's People page shows them after a while: some
    with two-step sign-in on, signed in recently or long ago or never, one locked out, and
    one deactivated (who worked for the agency that closed)."""
    now = utcnow()
    generated = [m for m in members if m.email not in {e for _, e, _ in DEMO_MEMBERS}]
    by_district: dict[str, list[DemoMember]] = {}
    for member in generated:
        by_district.setdefault(member.district, []).append(member)
    states = (
        ("mfa", timedelta(days=2)),
        ("plain", timedelta(days=41)),
        ("plain", None),
        ("mfa", timedelta(hours=3)),
    )
    for slug, district_members in by_district.items():
        district = db.session.scalar(select(District).where(District.slug == slug))
        for member, (state, since) in zip(district_members, states, strict=False):
            user = _demo_account(member.name, member.email, [district], agencies[member.agency])
            user.last_signed_in_at = now - since if since else None
            if state == "mfa" and user.mfa_enabled_at is None:
                user.totp_secret = new_secret()
                user.mfa_enabled_at = now - timedelta(days=90)
    charnwood = db.session.scalar(select(District).where(District.slug == "charnwood"))
    locked = _demo_account(
        "Kieran Walsh",
        "kieran.walsh@loughborough-hub.example.org",
        [charnwood],
        agencies["Loughborough Family Hub"],
    )
    locked.failed_login_count, locked.locked_until = 5, now + timedelta(hours=12)
    locked.last_signed_in_at = now - timedelta(days=6)
    left = _demo_account(
        "Bethany Cole",
        "bethany.cole@homestart-soarvalley.example.org",
        [charnwood],
        agencies[RETIRED_AGENCY[0]],
    )
    left.active = False
    left.last_signed_in_at = now - timedelta(days=230)


def _load_demo_invitations(districts: dict[str, District], agencies: dict[str, Agency]) -> None:
    """One invitation not yet accepted and one request for an account, so the Invitations
    page has something on it for Charnwood's coordinator (and the admin)."""
    if db.session.scalar(select(AccountInvitation.id).limit(1)) is not None:
        return
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator.charnwood@example.org")
    )
    invitation_services.invite(
        email="hannah.price@woodgate.example.org",
        name="Hannah Price",
        roles=[Role.PRACTITIONER],
        districts=[districts["charnwood"]],
        agency=agencies["Loughborough Woodgate High School"],
        invited_by=coordinator,
    )
    db.session.commit()
    invitation_services.request_account(
        "Owen Fletcher",
        "owen.fletcher@charnwood-youth.example.org",
        "Charnwood Youth Service, detached youth work",
    )


def _demo_account(name: str, email: str, districts, agency: Agency) -> User:
    return auth_services.save_user(
        email=email,
        name=name.removeprefix("PC ").removeprefix("Dr "),
        password=DEMO_PASSWORD,
        roles=[Role.PRACTITIONER],
        districts=districts,
        agency=agency,
    )


def _load_demo_forums(districts: dict[str, District], members: list[DemoMember]) -> None:
    """A forum in each district meeting quarterly, with this year's and next year's meetings,
    and its own district's members."""
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    chair = db.session.scalar(select(User).where(User.email == "chair@example.org"))
    agencies = {agency.name: agency for agency in db.session.scalars(select(Agency))}
    year = london_today().year
    for slug, district in districts.items():
        coordinator = db.session.scalar(
            select(User).where(User.districts.contains(district), User.email.like("coordinator.%"))
        )
        forum = forum_services.save_forum(
            None,
            forum_services.ForumDetails(
                district=district,
                name=f"{district.name} multi-agency forum",
                venue=f"{district.name} council offices, committee room",
                chair=chair,
                coordinator=coordinator,
                months=[1, 4, 7, 10] if slug != "melton" else [2, 5, 8, 11],
                breaks=[(time(11, 0), 15)],
            ),
            admin,
        )
        for member in members:
            if member.district == slug:
                forum_services.add_member(
                    forum,
                    name=member.name,
                    email=member.email,
                    agency=agencies[member.agency],
                    role=member.role,
                    user=admin,
                )
        for schedule_year in (year - 2, year - 1, year, year + 1):
            forum_services.generate_schedule(forum, schedule_year, admin)


DEMO_REGISTER = """given_name,family_name,date_of_birth,postcode,service,status,contact
Chloe,Brennan,2016-07-21,LE11 4QP,CIN,open,Charnwood duty team 0116 305 0005
Marcus,Reid-Okafor,2009-11-02,LE12 9QQ,CAMHS,open,Dr Amira Patel
Tyler,Briggs,2008-05-30,LE13 0LT,YOS,open,Youth justice officer K. Walsh
"""

# (given, family, date of birth, postcode, gender, referrer email, days ago, share consent)
DEMO_CASES = (
    (
        "Jonathan",
        "Reid",
        date(2014, 3, 9),
        "LE11 2HX",
        Gender.MALE,
        "school.nurse@example.org",
        70,
        True,
    ),
    (
        "Amira",
        "Hussain",
        date(2011, 2, 2),
        "LE11 5DE",
        Gender.FEMALE,
        "pastoral.lead@example.org",
        12,
        True,
    ),
    (
        "Chloe",
        "Brennan",
        date(2016, 7, 21),
        "LE11 4QP",
        Gender.FEMALE,
        "school.nurse@example.org",
        25,
        True,
    ),
    (
        "Jon",
        "Reid",
        date(2014, 3, 9),
        "LE11 2HX",
        Gender.MALE,
        "youth.worker@example.org",
        4,
        False,
    ),
)


def _load_demo_cases(districts: dict[str, District], agencies: dict[str, Agency]) -> None:
    """A few Charnwood CAFs at different stages, so a new user sees the checks at work."""
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator.charnwood@example.org")
    )
    today = london_today()
    parsed = parse_involvement_csv(io.StringIO(DEMO_REGISTER), today)
    case_services.import_involvement(parsed, "demo-register.csv", coordinator)
    cases = []
    for given, family, born, postcode, gender, referrer_email, days_ago, share in DEMO_CASES:
        referrer = db.session.scalar(select(User).where(User.email == referrer_email))
        completed = today - timedelta(days=days_ago)
        giver = (
            ConsentGiver.YOUNG_PERSON
            if age_on(born, completed) >= 12
            else ConsentGiver.PARENT_CARER
        )
        common = dict(
            given=True,
            given_by=giver,
            given_by_name=f"{given} {family}"
            if giver == ConsentGiver.YOUNG_PERSON
            else f"Sam {family}",
            given_on=completed,
            method=ConsentMethod.WRITTEN,
        )
        kinds = [ConsentKind.UNDERTAKE, ConsentKind.RECORD] + ([ConsentKind.SHARE] if share else [])
        cases.append(
            case_services.receive_caf(
                case_services.ChildDetails(
                    given,
                    family,
                    born,
                    gender,
                    postcode=postcode,
                    school=_demo_school(districts["charnwood"], born, completed),
                ),
                case_services.ReferralDetails(
                    district=districts["charnwood"],
                    referrer_name=referrer.name,
                    referrer_email=referrer.email,
                    referrer_agency=referrer.agency,
                    setting_type=SettingType.HIGH_SCHOOL
                    if born.year < 2014
                    else SettingType.HEALTH,
                    assessment_completed_on=completed,
                    needs=_demo_needs(),
                    strengths="Gets on well with a youth worker; enjoys sport.",
                ),
                [
                    case_services.ConsentDetails(kind=kind, covers_forum=True, **common)
                    for kind in kinds
                ],
                coordinator,
            )
        )
    for case in cases[:2]:
        case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    case_services.mark_ready_for_forum(cases[0], coordinator)
    case_services.mark_ready_for_forum(cases[1], coordinator)
    forum = db.session.scalar(select(Forum).where(Forum.district == districts["charnwood"]))
    past = [m for m in forum.meetings if m.date < today]
    if past:
        _record_demo_meeting(past[-1], cases[0], coordinator)
    upcoming = forum_services.upcoming_meetings(forum, today)
    if upcoming:
        agenda_services.add_to_agenda(upcoming[0], cases[1], ItemKind.NEW_CASE, coordinator)


def _record_demo_meeting(meeting, case, coordinator) -> None:
    """The last meeting, held: the case continues with the school nurse as lead professional,
    so the demo shows actions, a lead professional's cases and draft minutes."""
    nurse = db.session.scalar(select(User).where(User.email == "school.nurse@example.org"))
    item = agenda_services.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
    outcome_services.save_item_record(
        item,
        outcome_services.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="School, school nursing and the youth service agreed a joint plan.",
            next_review_on=outcome_services.propose_next_review(meeting),
            lead=outcome_services.LeadDetails(
                LeadKind.PRACTITIONER, nurse.name, True, nurse.email, nurse.agency
            ),
            actions=[
                outcome_services.ActionDetails(
                    "Offer a health and wellbeing check",
                    nurse.name,
                    meeting.date + timedelta(days=28),
                    nurse.email,
                    nurse.agency,
                )
            ],
        ),
        coordinator,
    )
    outcome_services.complete_meeting(meeting, coordinator)


def _demo_needs() -> list[NeedStatement]:
    return list(db.session.scalars(select(NeedStatement).order_by(NeedStatement.id).limit(3)))


# --- two years of history, so the reports look like the real thing --------------------------

GIVEN_NAMES = (
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "Jack",
    "Ava",
    "Charlie",
    "Mia",
    "George",
    "Ivy",
    "Noah",
    "Grace",
    "Leo",
    "Freya",
    "Muhammad",
    "Lily",
    "Alfie",
    "Sophia",
    "Jacob",
    "Ella",
    "Riley",
    "Evie",
    "Kacper",
    "Zara",
    "Tyler",
    "Aisha",
    "Dylan",
    "Chloe",
    "Mason",
    "Ruby",
)
FAMILY_NAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Walker",
    "Thompson",
    "Robinson",
    "Khan",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Lewis",
    "Martin",
    "Jackson",
    "Clarke",
    "Clark",
    "Turner",
    "Hill",
    "Nowak",
    "Begum",
    "Kowalski",
    "O'Brien",
    "Murphy",
    "Singh",
    "Ali",
    "Evans",
    "Cooper",
)
SETTING_BY_AGENCY_TYPE = {
    AgencyType.EARLY_YEARS: SettingType.PRE_SCHOOL,
    AgencyType.PRIMARY_SCHOOL: SettingType.PRIMARY_SCHOOL,
    AgencyType.HIGH_SCHOOL: SettingType.HIGH_SCHOOL,
    AgencyType.COLLEGE: SettingType.COLLEGE,
    AgencyType.HEALTH: SettingType.HEALTH,
    AgencyType.YOUTH_SERVICE: SettingType.YOUTH_SERVICE,
    AgencyType.HOUSING: SettingType.HOUSING,
    AgencyType.VOLUNTARY: SettingType.VOLUNTARY,
}


def load_demo_history(history_cases: int, today: date) -> int:
    """Past forum meetings, each with new CAFs and reviews decided, for every district.

    Seeded, so the same data every time. Each forum's most recent past meeting is left for
    the showcase cases. Returns how many CAFs were made.
    """
    rng = random.Random(2009)  # noqa: S311 - invented demo data, not security
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    referrers = [
        a
        for a in db.session.scalars(select(Agency).order_by(Agency.id))
        if a.type in SETTING_BY_AGENCY_TYPE and not a.retired
    ]
    needs = list(db.session.scalars(select(NeedStatement)))
    forums = list(db.session.scalars(select(Forum).order_by(Forum.id)))
    meetings = sorted(
        (m for forum in forums for m in forum.meetings[:-1] if m.date < today),
        key=lambda m: m.date,
    )
    meetings = [
        m
        for m in meetings
        if m.date < today - timedelta(days=7) and m != _last_past(m.forum, today)
    ]
    per_meeting = max(1, history_cases // max(1, len(meetings)))
    made = 0
    for meeting in meetings:
        coordinator = meeting.forum.coordinator or admin
        for _ in range(min(per_meeting, meeting.forum.new_case_capacity)):
            case = _demo_caf(rng, meeting, referrers, needs, coordinator)
            agenda_services.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
            made += 1
        for proposal in agenda_services.review_proposals(meeting)[: meeting.forum.review_capacity]:
            agenda_services.add_to_agenda(meeting, proposal.case, ItemKind.REVIEW, coordinator)
        for item in agenda_services.scheduled_items(meeting):
            outcome_services.save_item_record(
                item, _demo_outcome(rng, item, referrers), coordinator
            )
        outcome_services.complete_meeting(meeting, coordinator)
    return made


def _last_past(forum: Forum, today: date):
    past = [m for m in forum.meetings if m.date < today]
    return past[-1] if past else None


def _demo_caf(rng, meeting, referrers, needs, coordinator) -> Case:
    completed = meeting.date - timedelta(days=rng.randint(10, 45))
    age = rng.choices(range(0, 18), weights=[2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 9, 7, 4, 2])[
        0
    ]
    born = completed - timedelta(days=365 * age + rng.randint(1, 360))
    agency = rng.choice(referrers)
    giver = ConsentGiver.YOUNG_PERSON if age >= 13 else ConsentGiver.PARENT_CARER
    family = rng.choice(FAMILY_NAMES)
    common = dict(
        given=True,
        given_by=giver,
        given_by_name=f"Parent {family}",
        given_on=completed,
        method=ConsentMethod.WRITTEN,
    )
    case = case_services.receive_caf(
        case_services.ChildDetails(
            rng.choice(GIVEN_NAMES),
            family,
            born,
            rng.choice([Gender.FEMALE, Gender.MALE]),
            postcode=_demo_postcode(rng),
            school=_demo_school(meeting.forum.district, born, completed),
        ),
        case_services.ReferralDetails(
            district=meeting.forum.district,
            referrer_name=f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
            referrer_email="referrer@example.org",
            referrer_agency=agency,
            setting_type=SETTING_BY_AGENCY_TYPE[agency.type],
            assessment_completed_on=completed,
            needs=rng.sample(needs, rng.randint(1, 4)),
        ),
        [
            case_services.ConsentDetails(kind=kind, covers_forum=True, **common)
            for kind in (ConsentKind.UNDERTAKE, ConsentKind.RECORD, ConsentKind.SHARE)
        ],
        coordinator,
    )
    for candidate in case.match_candidates:  # invented children who merely look alike
        case_services.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, coordinator)
    case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    case_services.mark_ready_for_forum(case, coordinator)
    case.created_at = datetime.combine(completed + timedelta(days=2), time(10), UTC)
    db.session.commit()
    return case


# The kind of setting a child of each age attends, youngest first: (below this age, type).
SETTING_FOR_AGE = (
    (5, AgencyType.EARLY_YEARS),
    (11, AgencyType.PRIMARY_SCHOOL),
    (16, AgencyType.HIGH_SCHOOL),
    (19, AgencyType.COLLEGE),
)


def _demo_school(district: District, born: date, on: date) -> Agency | None:
    """The district's school or setting for a child of that age, if the demo has one; chosen
    without the random generator so the rest of the seeded demo stays as it was."""
    age = age_on(born, on)
    wanted = next((kind for below, kind in SETTING_FOR_AGE if age < below), None)
    return db.session.scalar(
        select(Agency)
        .where(Agency.type == wanted, Agency.districts.any(District.id == district.id))
        .order_by(Agency.id)
        .limit(1)
    )


def _demo_postcode(rng) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"LE{rng.randint(1, 67)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _demo_outcome(rng, item, referrers) -> outcome_services.ItemDetails:
    meeting = item.meeting
    review = outcome_services.propose_next_review(meeting)
    agency = rng.choice(referrers)
    if item.kind == ItemKind.NEW_CASE:
        if rng.random() < 0.08:
            return outcome_services.ItemDetails(
                outcome=Outcome.STEP_UP, outcome_notes="Concerns grew; referred to social care"
            )
        return outcome_services.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Agencies shared what they know and agreed a plan with the family.",
            next_review_on=review,
            services=[(agency, "Regular support sessions")],
            lead=outcome_services.LeadDetails(
                LeadKind.PRACTITIONER,
                f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
                True,
                agency=agency,
            ),
            actions=[
                outcome_services.ActionDetails(
                    "Meet the family to agree the plan",
                    "Lead professional",
                    meeting.date + timedelta(days=21),
                    owner_agency=agency,
                )
            ],
        )
    if rng.random() < 0.45:
        return outcome_services.ItemDetails(
            outcome=Outcome.CLOSE,
            closure_reason=ClosureReason.NEEDS_MET,
            outcome_notes="Universal services continue",
        )
    return outcome_services.ItemDetails(
        outcome=Outcome.CONTINUE, next_review_on=review, discussion="Progress reported."
    )
