"""Demo data: the five Leicestershire district forums of seed 004, with agencies and users.

Safe to load again: every record is found by its natural key and updated, never duplicated.
All people, schools and addresses are invented.
"""

from dataclasses import dataclass

from sqlalchemy import select

from maf.auth import services as auth_services
from maf.auth.models import Role
from maf.directory.models import Agency, AgencyTier, AgencyType, District
from maf.extensions import db

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
    agency.district = district
    return agency


def load_demo_data() -> list[DemoUser]:
    districts = {slug: _district(slug, name) for slug, name in DISTRICTS.items()}
    agencies = {
        name: _agency(name, agency_type, districts[slug] if slug else None)
        for name, agency_type, slug in AGENCIES
    }
    db.session.flush()
    for user in USERS:
        auth_services.save_user(
            email=user.email,
            name=user.name,
            password=DEMO_PASSWORD,
            roles=user.roles,
            districts=[districts[slug] for slug in user.districts],
            agency=agencies[user.agency] if user.agency else None,
        )
    db.session.commit()
    return list(USERS)
