"""Test fixtures: one migrated database per run, one rolled-back transaction per test.

The database is SQLite unless MAF_TEST_DATABASE_URL names another (CI runs the suite a second
time on a throw-away PostgreSQL cluster). Objects are made through factory fixtures.

Under pytest-xdist (`pytest -n 2`) each worker has its own instance folder (so its own SQLite
file and outbox) and its own PostgreSQL database, `<name>_<worker>`; scratch databases made by
`make_scratch_app` take their name from it, so no two workers ever share one.
"""

import contextvars
import itertools
import logging
import os
import re
import shutil
import subprocess
import tempfile
from datetime import date, datetime, time

os.environ.setdefault("MAF_INSTANCE_PATH", tempfile.mkdtemp(prefix="maf-test-instance-"))
os.environ["MAF_ENV"] = "test"
# Werkzeug gives its logger a handler on the stderr of the moment the first live server logs,
# which may be a test's captured stream, closed when that test ends: later requests then print
# "Logging error ... I/O operation on closed file". A handler of our own stops it adding one;
# pytest still shows the requests of a failing test under "Captured log".
logging.getLogger("werkzeug").addHandler(logging.NullHandler())
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1... in an xdist worker process
if _WORKER:
    # Workers inherit the controller's environment, so both would otherwise use its folder
    # and database. Set before config.py is imported: it reads them once.
    _instance = os.path.join(os.environ["MAF_INSTANCE_PATH"], _WORKER)
    os.makedirs(_instance, exist_ok=True)
    os.environ["MAF_INSTANCE_PATH"] = _instance
    if os.environ.get("MAF_TEST_DATABASE_URL"):
        from sqlalchemy import make_url as _make_url

        _url = _make_url(os.environ["MAF_TEST_DATABASE_URL"])
        if _url.get_backend_name() == "sqlite":
            _url = _url.set(database=f"{_url.database}-{_WORKER}")
        else:
            _url = _url.set(database=f"{_url.database}_{_WORKER}")
        os.environ["MAF_TEST_DATABASE_URL"] = _url.render_as_string(hide_password=False)

import flask_migrate  # noqa: E402
import pytest  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, make_url, select, text  # noqa: E402

from maf import create_app  # noqa: E402
from maf.auth import services as auth_services  # noqa: E402
from maf.auth.models import Role  # noqa: E402
from maf.cases import services as case_services  # noqa: E402
from maf.cases.models import (  # noqa: E402
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    MatchVerdict,
    NeedStatement,
    SettingType,
    TierOutcome,
)
from maf.dbtypes import LONDON, set_clock  # noqa: E402
from maf.directory.models import Agency, AgencyTier, AgencyType, District  # noqa: E402
from maf.extensions import db  # noqa: E402
from maf.forums import services as forum_services  # noqa: E402
from maf.forums.models import MemberRole  # noqa: E402

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def reset_database(url: str) -> None:
    """Leave the database named by `url` empty, ready for `flask db upgrade`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = f"{parsed.database}{suffix}"
            if os.path.exists(path):
                os.remove(path)
        return
    database = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as a real server does.

    Flask reuses an application context that is already pushed (the test's own), which would
    share `g` and the database session between requests and hide bugs.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def drop_database(url) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def seed_charnwood(*coordinators: tuple[str, str]):
    """On a scratch app's database (no factories there): the Charnwood district, its high
    school and a coordinator for each (email, name) given. Returns (district, school, users)."""
    district = District(name="Charnwood", slug="charnwood")
    school = Agency(
        name="Loughborough Woodgate High School",
        type=AgencyType.HIGH_SCHOOL,
        tier=AgencyTier.UNIVERSAL,
    )
    db.session.add_all([district, school])
    db.session.flush()
    users = [
        auth_services.save_user(
            email=email,
            name=name,
            password=PASSWORD,
            roles=[Role.COORDINATOR],
            districts=[district],
        )
        for email, name in coordinators
    ]
    db.session.commit()
    return district, school, users


@pytest.fixture
def make_scratch_app(app, tmp_path):
    """Apps on their own fresh databases, for tests that need real commits from several
    connections at once (which the rolled-back `database` fixture cannot give)."""
    made = []

    def make(name: str, migrate: bool = True, **config):
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if url.get_backend_name() == "sqlite":
            scratch_url = make_url(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
        else:
            scratch_url = url.set(database=f"{url.database}_{name}")
        rendered = scratch_url.render_as_string(hide_password=False)
        reset_database(rendered)
        scratch = create_app("test", SQLALCHEMY_DATABASE_URI=rendered, **config)
        made.append((scratch, scratch_url))
        if migrate:
            with scratch.app_context():
                flask_migrate.upgrade()
        return scratch

    yield make
    for scratch, scratch_url in made:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()
        if scratch_url.get_backend_name() != "sqlite":
            drop_database(scratch_url)


@pytest.fixture(scope="session")
def app():
    app = create_app("test")
    app.test_client_class = IsolatedClient
    reset_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        db.engine.dispose()
        flask_migrate.upgrade()
    return app


@pytest.fixture
def database(app):
    """Run the test inside one transaction on one connection, rolled back at the end.

    Every session the app opens (including the live server's, for browser tests) is bound to
    this connection; their commits become savepoints, so nothing a test does outlives it.
    """
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db
        finally:
            db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app, database):
    return app.test_client()


@pytest.fixture
def make_district(database):
    def make(name: str | None = None) -> District:
        number = next(_sequence)
        name = name or f"District {number}"
        district = District(name=name, slug=re.sub(r"[^a-z0-9]+", "-", name.lower()))
        db.session.add(district)
        db.session.flush()
        return district

    return make


@pytest.fixture
def make_agency(database):
    def make(
        name: str | None = None,
        type: AgencyType = AgencyType.HIGH_SCHOOL,
        tier: AgencyTier = AgencyTier.UNIVERSAL,
        district: District | None = None,
        districts=(),
        email_domains=(),
    ) -> Agency:
        agency = Agency(
            name=name or f"Agency {next(_sequence)}",
            type=type,
            tier=tier,
            districts=[district, *districts] if district else list(districts),
        )
        agency.email_domains = email_domains
        db.session.add(agency)
        db.session.flush()
        return agency

    return make


@pytest.fixture
def make_user(database):
    def make(
        *roles: Role,
        districts=(),
        email: str | None = None,
        name: str = "Test User",
        agency: Agency | None = None,
        password: str = PASSWORD,
    ):
        user = auth_services.save_user(
            email=email or f"user{next(_sequence)}@example.org",
            name=name,
            password=password,
            roles=roles or (Role.PRACTITIONER,),
            districts=districts,
            agency=agency,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def coordinator(make_user, make_district):
    return make_user(Role.COORDINATOR, name="Priya Shah", districts=[make_district("Charnwood")])


@pytest.fixture
def school(make_agency):
    return make_agency(name="Loughborough Woodgate High School")


@pytest.fixture
def make_case(coordinator, school):
    """Record a completed CAF through the intake service, as the coordinator would."""

    def make(
        given_name="Jessica",
        family_name="Thompson",
        date_of_birth=date(2012, 5, 17),
        postcode="LE11 3TU",
        *,
        share_with_forum=True,
        consent_by=ConsentGiver.PARENT_CARER,
        assessment_completed_on=date(2026, 11, 2),
        district=None,
        user=None,
        needs=(),
        **child,
    ):
        given_on = assessment_completed_on
        common = dict(
            given=True,
            given_by=consent_by,
            given_by_name="Karen Thompson",
            given_on=given_on,
            method=ConsentMethod.WRITTEN,
        )
        consents = [
            case_services.ConsentDetails(kind=ConsentKind.UNDERTAKE, **common),
            case_services.ConsentDetails(kind=ConsentKind.RECORD, **common),
        ]
        if share_with_forum:
            consents.append(
                case_services.ConsentDetails(kind=ConsentKind.SHARE, covers_forum=True, **common)
            )
        return case_services.receive_caf(
            case_services.ChildDetails(
                given_name=given_name,
                family_name=family_name,
                date_of_birth=date_of_birth,
                gender=child.pop("gender", Gender.FEMALE),
                postcode=postcode,
                **child,
            ),
            case_services.ReferralDetails(
                district=district or coordinator.districts[0],
                referrer_name="Daniel Kowalski",
                referrer_email="pastoral.lead@example.org",
                referrer_agency=school,
                setting_type=SettingType.HIGH_SCHOOL,
                assessment_completed_on=assessment_completed_on,
                needs=list(needs),
                strengths="Loves football",
            ),
            consents,
            user or coordinator,
        )

    return make


@pytest.fixture
def need_statements(database):
    return list(db.session.scalars(select(NeedStatement).order_by(NeedStatement.id)))


@pytest.fixture
def make_forum(coordinator, make_user):
    """A forum for the coordinator's first district, with a chair and the seed's defaults."""

    def make(district=None, name=None, **details):
        district = district or coordinator.districts[0]
        chair = details.pop("chair", None) or make_user(Role.CHAIR, name="Margaret Okafor")
        return forum_services.save_forum(
            None,
            forum_services.ForumDetails(
                district=district,
                name=name or f"{district.name} multi-agency forum",
                venue=details.pop("venue", "Loughborough Council Offices, Room 2"),
                chair=chair,
                coordinator=coordinator,
                **details,
            ),
            coordinator,
        )

    return make


@pytest.fixture
def make_meeting(make_forum):
    """A planned meeting; pass `forum` to add another meeting to the same forum."""

    def make(day=date(2027, 1, 12), forum=None, **fields):
        forum = forum or make_forum()
        meeting = forum_services.new_meeting(forum, day)  # with a copy of the forum's breaks
        for name, value in fields.items():
            setattr(meeting, name, value)
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


@pytest.fixture
def add_members(coordinator, make_agency):
    """Standing members of a forum, each from an agency of their own: add(forum, [(name,
    email), ...])."""

    def add(forum, people):
        for name, email in people:
            forum_services.add_member(
                forum,
                name=name,
                email=email,
                agency=make_agency(),
                role=MemberRole.STANDING,
                user=coordinator,
            )

    return add


@pytest.fixture
def make_ready_case(make_case, coordinator):
    """A case with both checks done and consent to share with the forum."""

    def make(*args, **kwargs):
        case = make_case(*args, **kwargs)
        for candidate in case.match_candidates:  # test children who merely look alike
            case_services.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, coordinator)
        case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
        case_services.mark_ready_for_forum(case, coordinator)
        return case

    return make


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def version_from(html: str) -> str | None:
    """The version of the record an edit form was opened at (maf.versioning), where the page
    has exactly one such form."""
    versions = set(re.findall(r'name="version" type="hidden" value="(\d*)"', html))
    return versions.pop() if len(versions) == 1 else None


def submit(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """Post a form as a browser would: load the page first and send its CSRF token back, and
    the version of the record the page shows (unless `data` names another)."""
    page = client.get(page_url)
    version = version_from(page.text)
    opened_at = {"version": version} if version is not None else {}
    return client.post(
        action or page_url,
        data={**opened_at, **data, "csrf_token": csrf_token_from(page.text)},
        **kwargs,
    )


@pytest.fixture
def sign_in(client):
    def do_sign_in(user, password: str = PASSWORD, **kwargs):
        return submit(client, "/sign-in", {"email": user.email, "password": password}, **kwargs)

    return do_sign_in


def missing(message: str) -> None:
    """A real part of the test (Chromium, LibreOffice, Node, a parser) is not installed: fail
    in CI, which installs them all and must run every test; skip on a developer's machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI installs it and must run this test")
    pytest.skip(message)


def converted_to_pdf(document: bytes, tmp_path) -> bytes:
    """Open a .docx in LibreOffice, as a council's reader would, and return the PDF it makes.
    LibreOffice is required in CI (CI=true) and optional on a developer's machine."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        missing("LibreOffice is not installed, so the document could not be opened")
    source = tmp_path / "document.docx"
    source.write_bytes(document)
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (tmp_path / "document.pdf").read_bytes()


def pytest_report_header(config):
    url = make_url(os.environ.get("MAF_TEST_DATABASE_URL", "sqlite:///"))
    return f"database under test: {url.get_backend_name()}"


@pytest.fixture
def app_clock():
    """Move the app's clock (maf.dbtypes.utcnow): `app_clock(datetime(..., tzinfo=UTC))` or
    `app_clock.london(date, hour, minute)`. The clock runs on from there and is put back after."""

    def move(at: datetime) -> None:
        set_clock(at)

    def london(day: date, hour: int = 9, minute: int = 0) -> None:
        set_clock(datetime.combine(day, time(hour, minute), tzinfo=LONDON))

    move.london = london
    yield move
    set_clock(None)


@pytest.fixture(autouse=True)
def _clock_put_back():
    """Whatever moved the app's clock (app_clock, at_the_meeting), the next test starts on
    real time."""
    yield
    set_clock(None)


def at_the_meeting(meeting) -> None:
    """Move the app's clock to the meeting's start: it cannot be recorded as held, nor its
    minutes approved, before then (DESIGN §4 "Nothing false")."""
    set_clock(meeting.starts_at)
