from sqlalchemy import func, select

from maf.auth.models import Role, User
from maf.demo import DEMO_PASSWORD
from maf.directory.models import Agency, AgencyTier, AgencyType, District
from maf.extensions import db
from tests.conftest import submit

SEED_004_FORUMS = {
    "North West Leicestershire",
    "Hinckley and Bosworth",
    "Charnwood",
    "Melton",
    "South Leicestershire",
}


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (District, Agency, User)
    )


def test_demo_loads_the_five_seed_004_districts_and_is_idempotent(app, database):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["maf", "demo"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    again = runner.invoke(args=["maf", "demo"])
    assert again.exit_code == 0
    assert _counts() == counts, "loading twice must not duplicate anything"

    assert set(db.session.scalars(select(District.name))) == SEED_004_FORUMS
    assert counts[1] >= 20
    agency_types = set(db.session.scalars(select(Agency.type)))
    assert {AgencyType.HIGH_SCHOOL, AgencyType.SPECIALIST_CAMHS, AgencyType.POLICE} <= agency_types
    camhs = db.session.scalar(select(Agency).where(Agency.type == AgencyType.SPECIALIST_CAMHS))
    assert camhs.tier == AgencyTier.SPECIALIST
    roles = set().union(*(user.roles for user in db.session.scalars(select(User))))
    assert roles == set(Role)
    assert "coordinator.charnwood@example.org" in first.output
    assert DEMO_PASSWORD in first.output


def test_demo_users_can_sign_in(app, client):
    app.test_cli_runner().invoke(args=["maf", "demo"])
    response = submit(
        client,
        "/sign-in",
        {"email": "coordinator.charnwood@example.org", "password": DEMO_PASSWORD},
        follow_redirects=True,
    )
    assert "Hello, Priya Shah" in response.text
    assert "Your districts: Charnwood" in response.text


def test_create_user_for_a_real_deployment(app, client, make_district):
    make_district("Melton")
    result = app.test_cli_runner().invoke(
        args=[
            "maf",
            "create-user",
            "--email",
            "Jo.Bloggs@Example.org",
            "--name",
            "Jo Bloggs",
            "--role",
            "coordinator",
            "--role",
            "chair",
            "--district",
            "melton",
            "--password",
            "a long enough passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "jo.bloggs@example.org"))
    assert user.roles == {Role.COORDINATOR, Role.CHAIR}
    assert [district.name for district in user.districts] == ["Melton"]
    response = submit(
        client,
        "/sign-in",
        {"email": "jo.bloggs@example.org", "password": "a long enough passphrase"},
    )
    assert response.status_code == 302


def test_create_user_refuses_a_short_password_and_unknown_district(app, database):
    runner = app.test_cli_runner()
    base = ["maf", "create-user", "--email", "x@example.org", "--name", "X", "--role", "admin"]
    short = runner.invoke(args=[*base, "--password", "short"])
    assert short.exit_code != 0
    assert "12 characters" in short.output
    unknown = runner.invoke(args=[*base, "--district", "atlantis", "--password", "x" * 12])
    assert unknown.exit_code != 0
    assert "atlantis" in unknown.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None
