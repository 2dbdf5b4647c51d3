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
    first = runner.invoke(args=["maf", "demo", "--history", "0"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    again = runner.invoke(args=["maf", "demo", "--history", "0"])
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
    app.test_cli_runner().invoke(args=["maf", "demo", "--history", "0"])
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
    unknown = runner.invoke(
        args=[*base, "--district", "atlantis", "--password", "a long enough passphrase"]
    )
    assert unknown.exit_code != 0
    assert "atlantis" in unknown.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def _register_file(tmp_path, good_rows: int):
    lines = ["given_name,family_name,date_of_birth,postcode,service,status,contact"]
    lines += [
        f"Child{n},Family{n},2014-01-{1 + n % 28:02d},LE11 3TU,CIN,open,Duty team"
        for n in range(good_rows)
    ]
    lines.append("Bad,Date,31/02/2014,LE11 3TU,CIN,open,")
    path = tmp_path / "social-care.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_involvement_reports_bad_rows_and_imports_the_rest(app, database, tmp_path):
    from maf.cases.models import InvolvementRecord

    path = _register_file(tmp_path, 2500)
    result = app.test_cli_runner().invoke(args=["maf", "import-involvement", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2500 rows; 1 row not imported." in result.output
    assert "line 2502:" in result.output
    assert "Reading" in result.output, "a progress bar for large files"
    assert db.session.scalar(select(func.count()).select_from(InvolvementRecord)) == 2500


def test_import_involvement_all_or_nothing(app, database, tmp_path):
    from maf.cases.models import InvolvementRecord

    path = _register_file(tmp_path, 10)
    result = app.test_cli_runner().invoke(
        args=["maf", "import-involvement", "--all-or-nothing", str(path)]
    )
    assert result.exit_code != 0
    assert "Nothing imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(InvolvementRecord)) == 0


def test_import_involvement_refuses_a_file_without_the_columns(app, database, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,dob\nAmy Lee,2014-01-01\n")
    result = app.test_cli_runner().invoke(args=["maf", "import-involvement", str(path)])
    assert result.exit_code != 0
    assert "given_name" in result.output


def test_demo_history_holds_past_meetings_with_decided_cases(app, database):
    from maf.cases.models import Case, CaseStatus
    from maf.forums.models import Meeting, MeetingStatus

    result = app.test_cli_runner().invoke(args=["maf", "demo", "--history", "40"])
    assert result.exit_code == 0, result.output
    held = db.session.scalar(
        select(func.count()).select_from(Meeting).where(Meeting.status == MeetingStatus.HELD)
    )
    assert held >= 10, "two years of quarterly meetings in five districts"
    statuses = set(db.session.scalars(select(Case.status)))
    assert {CaseStatus.OPEN, CaseStatus.CLOSED} <= statuses
    assert db.session.scalar(select(func.count()).select_from(Case)) >= 40


def test_demo_children_attend_their_districts_schools_so_the_agenda_names_them(
    app, database, client, sign_in
):
    """The demo's agendas show each child's school or setting, as a coordinator's would: a
    demo with every child 'Not known' hides the column's purpose (issue 14)."""
    from maf.agendas.models import AgendaItem
    from maf.forums.models import Meeting, MeetingStatus

    result = app.test_cli_runner().invoke(args=["maf", "demo", "--history", "0"])
    assert result.exit_code == 0, result.output
    item = db.session.scalars(
        select(AgendaItem).join(Meeting).where(Meeting.status == MeetingStatus.PLANNED)
    ).one()
    child = item.case.child
    assert child.school is not None
    assert item.case.district in child.school.districts
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator.charnwood@example.org")
    )
    sign_in(coordinator, DEMO_PASSWORD)
    page = client.get(f"/meetings/{item.meeting_id}/agenda").get_data(as_text=True)
    assert child.school.name in page
