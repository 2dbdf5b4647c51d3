"""The benchmarks' data, made through the real services as a coordinator would make it.

The demo data (maf.demo: districts, agencies, users, forums, two years of history) is the
background. On top of it, Charnwood gets a monthly "benchmark forum" with 30 people to invite
(its chair and 29 members), 30 open cases that the forum took on at earlier meetings (so they
come back as reviews, each with a lead professional and an action), and upcoming meetings whose
agendas hold a chosen number of new cases and reviews.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import create_engine, make_url, select, text

from maf import demo
from maf.agendas import services as agenda_services
from maf.agendas.models import ItemKind
from maf.auth.models import User
from maf.cases import services as case_services
from maf.cases.models import Case, NeedStatement
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Forum, Meeting, MemberRole
from maf.outcomes import services as outcome_services
from maf.outcomes.models import LeadKind, Outcome

COORDINATOR_EMAIL = "coordinator.charnwood@example.org"
PASSWORD = demo.DEMO_PASSWORD
FORUM_NAME = "Charnwood benchmark forum"
RECIPIENTS = 30  # the chair and 29 members
REVIEWS = 30


def new_cases_in(items: int) -> int:
    """A quarter of an agenda's items are new cases, the rest reviews: 10 and 30 for 40 items,
    the forum's default capacity."""
    return items // 4


# --- a database of its own ---------------------------------------------------------------


def create_database(url: str) -> None:
    """A new, empty PostgreSQL database for this run (a SQLite file is created on first use)."""
    name = make_url(url).database
    _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    _on_server(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def database_version() -> str:
    if db.engine.dialect.name == "sqlite":
        return "SQLite " + db.session.scalar(text("select sqlite_version()"))
    return "PostgreSQL " + db.session.scalar(text("show server_version")).split()[0]


def _on_server(url: str, *statements: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


# --- the forum -----------------------------------------------------------------------------


@dataclass
class Bench:
    """The benchmark forum, by id, so it outlives the session that made it."""

    coordinator_id: int
    forum_id: int
    open_case_ids: list[int] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))  # noqa: S311

    @property
    def coordinator(self) -> User:
        return db.session.get(User, self.coordinator_id)

    @property
    def forum(self) -> Forum:
        return db.session.get(Forum, self.forum_id)

    def ready_case(self) -> Case:
        """A CAF with both checks done and consent to share, dated as the demo dates them: a
        few weeks before the forum's last meeting, so before today."""
        past = [m for m in self.forum.meetings if m.date < date.today()]
        referrers = [
            a for a in db.session.scalars(select(Agency)) if a.type in demo.SETTING_BY_AGENCY_TYPE
        ]
        needs = list(db.session.scalars(select(NeedStatement)))
        return demo._demo_caf(self.rng, past[-1], referrers, needs, self.coordinator)

    def agenda(self, items: int) -> int:
        """The next upcoming meeting with an empty agenda, given `items` items: a quarter new
        cases, the rest reviews of the open cases. Returns the meeting's id."""
        meeting = next(
            m
            for m in forum_services.upcoming_meetings(self.forum, date.today())
            if not agenda_services.scheduled_items(m)
        )
        new = new_cases_in(items)
        for _ in range(new):
            agenda_services.add_to_agenda(
                meeting, self.ready_case(), ItemKind.NEW_CASE, self.coordinator
            )
        for case_id in self.open_case_ids[: items - new]:
            case = db.session.get(Case, case_id)
            agenda_services.add_to_agenda(meeting, case, ItemKind.REVIEW, self.coordinator)
        return meeting.id

    def queue_length(self) -> int:
        queue = case_services.coordinator_queue(self.coordinator, date.today())
        return sum(len(entries) for entries in queue.values())

    def hold(self, meeting_id: int) -> int:
        """Record every item as the demo's forums decide them (most continue, some close or
        step up) and complete the meeting, which drafts the minutes. Returns their id."""
        meeting = db.session.get(Meeting, meeting_id)
        referrers = [
            a for a in db.session.scalars(select(Agency)) if a.type in demo.SETTING_BY_AGENCY_TYPE
        ]
        for item in agenda_services.scheduled_items(meeting):
            outcome = demo._demo_outcome(self.rng, item, referrers)
            outcome_services.save_item_record(item, outcome, self.coordinator)
        return outcome_services.complete_meeting(meeting, self.coordinator).id


def seed() -> Bench:
    demo.load_demo_data()
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    district = db.session.scalar(select(District).where(District.slug == "charnwood"))
    chair = db.session.scalar(select(User).where(User.email == "chair@example.org"))
    forum = forum_services.save_forum(
        None,
        forum_services.ForumDetails(
            district=district,
            name=FORUM_NAME,
            venue="Loughborough, Southfields council offices, committee room 2",
            chair=chair,
            coordinator=coordinator,
            months=list(range(1, 13)),
            length_minutes=360,
        ),
        coordinator,
    )
    _add_members(forum, coordinator)
    this_year = date.today().year
    for year in (this_year - 1, this_year, this_year + 1):
        forum_services.generate_schedule(forum, year, coordinator)
    bench = Bench(coordinator_id=coordinator.id, forum_id=forum.id)
    bench.open_case_ids = _take_on_cases(bench, REVIEWS)
    return bench


def _add_members(forum: Forum, user: User) -> None:
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.name)))
    by_name = {agency.name: agency for agency in agencies}
    people = [(name, email, by_name[agency]) for name, email, agency in demo.DEMO_MEMBERS]
    for number in range(RECIPIENTS - 1 - len(people)):
        given = demo.GIVEN_NAMES[number % len(demo.GIVEN_NAMES)]
        family = demo.FAMILY_NAMES[number % len(demo.FAMILY_NAMES)]
        email = f"{given}.{family}.{number}@agency.example.org".lower().replace("'", "")
        people.append((f"{given} {family}", email, agencies[number % len(agencies)]))
    for name, email, agency in people:
        forum_services.add_member(
            forum, name=name, email=email, agency=agency, role=MemberRole.STANDING, user=user
        )


def _take_on_cases(bench: Bench, count: int) -> list[int]:
    """New cases discussed at the forum's last past meetings and continued with a lead
    professional, an action and a review date: the open cases that come back as reviews."""
    forum = bench.forum
    past = [m for m in forum.meetings if m.date < date.today()]
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.id)))
    case_ids = []
    for meeting in past[-(-count // forum.new_case_capacity) :]:
        for _ in range(min(forum.new_case_capacity, count - len(case_ids))):
            case = bench.ready_case()
            item = agenda_services.add_to_agenda(
                meeting, case, ItemKind.NEW_CASE, bench.coordinator
            )
            agency = bench.rng.choice(agencies)
            outcome_services.save_item_record(
                item,
                outcome_services.ItemDetails(
                    outcome=Outcome.CONTINUE,
                    discussion="Agencies shared what they know and agreed a plan with the family.",
                    next_review_on=outcome_services.propose_next_review(meeting),
                    services=[(agency, "Weekly support sessions")],
                    lead=outcome_services.LeadDetails(
                        LeadKind.PRACTITIONER, "Jo Lead", True, "jo.lead@example.org", agency
                    ),
                    actions=[
                        outcome_services.ActionDetails(
                            "Meet the family to agree the plan",
                            "Jo Lead",
                            meeting.date + timedelta(days=21),
                            "jo.lead@example.org",
                            agency,
                        )
                    ],
                ),
                bench.coordinator,
            )
            case_ids.append(case.id)
        outcome_services.complete_meeting(meeting, bench.coordinator)
    return case_ids
