"""`flask maf backup` and `flask maf restore`, end to end (issue 8: "a backup command (SQLite
online backup, or pg_dump for PostgreSQL) and a restore tested end to end").

Each test has its own migrated scratch database with real commits (a SQLite file, or a
PostgreSQL database beside the test one), filled through the services, and runs the commands
as an administrator would.
"""

import re
import sqlite3
import stat
import subprocess
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, make_url, select, table, text

from maf import backup
from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import User
from maf.cases import services as case_services
from maf.cases.models import Case, Child, Consent
from maf.circulation.models import OutboxAttachment, OutboxMessage
from maf.circulation.services import add_secure_domain, circulate
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forums.models import Meeting, MemberRole
from maf.forums.services import add_member
from tests.agendas.test_capacity_concurrency import (
    CHILDREN,
    _build_last_slot_scenario,
    _ready_case,
)

BACKUP_NAME = re.compile(r"maf-\d{8}T\d{6}Z\.(sqlite|dump)")
THREAD_TIMEOUT = 20.0
# Children unlike each other and the scratch data's, so the existing-CAF check finds no
# candidate and each case can be made ready at once.
UNLIKE_CHILDREN = [
    (given, family, date(2008 + number, 1 + number, 1 + 2 * number), f"LE{11 + number} {number}AB")
    for number, (given, family) in enumerate(
        [
            ("Aarav", "Okonkwo"),
            ("Bethany", "Featherstone"),
            ("Cormac", "Yilmaz"),
        ]
    )
]


def row_counts(app) -> dict[str, int]:
    """How many rows each table of the app's database holds."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(table(name)))
            for name in inspect(connection).get_table_names()
        }


def _postgres(app) -> bool:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"


@pytest.fixture
def scratch(make_scratch_app):
    """A scratch database with a forum, a meeting, two ready cases, one on the agenda, and the
    agenda circulated (emails with a Word attachment): (app, ids)."""
    app = make_scratch_app("backup")
    with app.app_context():
        ids = _build_last_slot_scenario()
        meeting = db.session.get(Meeting, ids["meeting"])
        coordinator = db.session.get(User, ids["user_a"])
        add_member(
            meeting.forum,
            name="Zoë Brennan",
            email="zoe.brennan@example.org",
            agency=db.session.scalar(select(Agency)),
            role=MemberRole.STANDING,
            user=coordinator,
        )
        add_to_agenda(
            meeting,
            db.session.get(Case, ids["case_a"]),
            ItemKind.NEW_CASE,
            coordinator,
            "Daniel Kowalski",
            "pastoral.lead@example.org",
        )
        # A secure domain (issue 17), so the agenda travels as an attachment to be backed up.
        add_secure_domain("example.org", coordinator)
        circulate(meeting, coordinator)
        db.session.remove()
    return app, ids


def _run(app, *args: str, **kwargs):
    result = app.test_cli_runner().invoke(args=["maf", *args], **kwargs)
    assert "Traceback" not in result.output
    return result


def _back_up(app, directory: Path) -> Path:
    result = _run(app, "backup", "--to", str(directory))
    assert result.exit_code == 0, result.output
    (path,) = directory.iterdir()
    assert result.output == f"Backed up to {path}\n"
    return path


def _child_name(app, case_id: int) -> str:
    with app.app_context():
        name = db.session.get(Case, case_id).child.full_name
        db.session.remove()
    return name


def test_a_restore_brings_back_exactly_what_was_backed_up(scratch, tmp_path):
    app, ids = scratch
    backup_file = _back_up(app, tmp_path / "backups")

    # Children's data: the file and its folder are for their owner's eyes only.
    assert BACKUP_NAME.fullmatch(backup_file.name), backup_file.name
    assert backup_file.suffix == (".dump" if _postgres(app) else ".sqlite")
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_file.parent.stat().st_mode) == 0o700

    backed_up = row_counts(app)
    assert backed_up["child"] == backed_up["caf_case"] == 2
    assert backed_up["outbox_attachment"] >= 1
    name = _child_name(app, ids["case_a"])
    assert name == "Jessica Thompson"
    with app.app_context():
        documents = sorted(db.session.scalars(select(OutboxAttachment.content)))

        # A day's work after the backup: a new CAF, a child renamed, the emails deleted.
        district = db.session.scalar(select(District))
        agency = db.session.scalar(select(Agency))
        _ready_case(CHILDREN[2], district, agency, db.session.get(User, ids["user_a"]))
        db.session.get(Case, ids["case_a"]).child.given_name = "Renamed"
        db.session.execute(delete(OutboxAttachment))
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
        db.session.remove()
    changed = row_counts(app)
    assert changed != backed_up
    assert _child_name(app, ids["case_a"]) == "Renamed Thompson"

    # Asked first; "no" leaves everything as it is.
    refused = _run(app, "restore", str(backup_file), input="n\n")
    assert refused.exit_code == 1
    assert "will be replaced by the backup" in refused.output and "Aborted!" in refused.output
    assert row_counts(app) == changed

    restored = _run(app, "restore", str(backup_file), input="y\n")

    assert restored.exit_code == 0, restored.output
    assert f"Restored the database from {backup_file}" in restored.output
    assert row_counts(app) == backed_up, "every table holds what it held at the backup"
    assert _child_name(app, ids["case_a"]) == name
    with app.app_context():
        assert sorted(db.session.scalars(select(OutboxAttachment.content))) == documents
        db.session.remove()


def test_a_backup_taken_while_a_caf_is_being_saved_is_consistent(scratch, tmp_path, monkeypatch):
    """The backup is one moment's snapshot, taken while a coordinator is saving: a CAF
    committed before it is in it whole, one still being saved is not in it at all."""
    app, ids = scratch
    held_open, backed_up = threading.Event(), threading.Event()
    failures: list[BaseException] = []
    real_tier_check = case_services.run_tier_check

    def tier_check_then_wait_for_the_backup(case, user):
        """The third CAF stops inside its transaction: child, case and consents written, not
        yet committed."""
        real_tier_check(case, user)
        if case.child.given_name == UNLIKE_CHILDREN[2][0]:
            held_open.set()
            if not backed_up.wait(THREAD_TIMEOUT):
                raise TimeoutError("the backup never finished")

    monkeypatch.setattr(case_services, "run_tier_check", tier_check_then_wait_for_the_backup)

    def coordinator_saving_cafs():
        with app.app_context():
            try:
                district = db.session.scalar(select(District))
                agency = db.session.scalar(select(Agency))
                user = db.session.get(User, ids["user_a"])
                for child in UNLIKE_CHILDREN:
                    _ready_case(child, district, agency, user)
            except BaseException as error:  # noqa: BLE001 (reported by the main thread)
                failures.append(error)
                held_open.set()
            finally:
                db.session.remove()

    writer = threading.Thread(target=coordinator_saving_cafs)
    writer.start()
    try:
        assert held_open.wait(THREAD_TIMEOUT) and not failures, failures
        backup_file = _back_up(app, tmp_path / "backups")
    finally:
        backed_up.set()
        writer.join(THREAD_TIMEOUT)
    assert not writer.is_alive() and not failures, failures
    assert row_counts(app)["caf_case"] == 2 + len(UNLIKE_CHILDREN)

    assert _run(app, "restore", "--yes", str(backup_file)).exit_code == 0

    counts = row_counts(app)
    assert counts["caf_case"] == counts["child"] == 2 + 2
    with app.app_context():
        names = set(db.session.scalars(select(Child.given_name)))
        assert names == {"Jessica", "Amelia", "Aarav", "Bethany"}
        consents = db.session.execute(
            select(Consent.case_id, func.count()).group_by(Consent.case_id)
        ).all()
        assert len(consents) == 4
        assert {number for _, number in consents} == {3}, "each CAF with its three consents"
        db.session.remove()


def test_a_missing_foreign_or_damaged_file_is_refused_and_changes_nothing(scratch, tmp_path):
    app, _ = scratch
    backup_file = _back_up(app, tmp_path / "backups")
    before = row_counts(app)

    missing = _run(app, "restore", "--yes", str(tmp_path / "no-such-backup.sqlite"))
    assert missing.exit_code == 1
    assert f"Error: there is no file {tmp_path / 'no-such-backup.sqlite'}" in missing.output

    foreign = tmp_path / "holiday-photo.jpg"
    foreign.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    refused = _run(app, "restore", "--yes", str(foreign))
    assert refused.exit_code == 1
    assert "is not a MAF backup: it is neither SQLite nor a pg_dump file" in refused.output

    # A copy cut short, as by a full disk.
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size * 2 // 3])
    damaged = _run(app, "restore", "--yes", str(truncated))
    assert damaged.exit_code == 1
    assert f"Error: {truncated} is damaged" in damaged.output

    assert row_counts(app) == before


@contextmanager
def _restore_blocked(app):
    """Something in the live database stops a restore part-way. PostgreSQL: a council's own
    reporting view on a table the restore must replace. SQLite: another program holding the
    database's lock for longer than the restore waits (10 s)."""
    with app.app_context():
        if _postgres(app):
            db.session.execute(text("CREATE VIEW reporting_children AS SELECT id FROM child"))
            db.session.commit()
            db.session.remove()
            yield "other objects depend on it"
            return
        database = db.engine.url.database
        db.session.remove()
        db.engine.dispose()
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield "database is locked"
    finally:
        holder.rollback()
        holder.close()


def test_a_restore_that_fails_part_way_changes_nothing(scratch, tmp_path):
    """PostgreSQL's restore runs in one transaction and SQLite's copies in one step: stopped
    part-way, the database is left exactly as it was, not half restored."""
    app, ids = scratch
    backup_file = _back_up(app, tmp_path / "backups")
    with app.app_context():
        db.session.get(Case, ids["case_a"]).child.given_name = "Renamed"
        db.session.commit()
        db.session.remove()
    before = row_counts(app)

    with _restore_blocked(app) as reason:
        failed = _run(app, "restore", "--yes", str(backup_file))

    assert failed.exit_code == 1
    assert "Error: the restore failed, nothing was changed" in failed.output
    assert reason in failed.output
    assert row_counts(app) == before
    assert _child_name(app, ids["case_a"]) == "Renamed Thompson"


def test_a_backup_of_the_other_kind_of_database_is_refused(scratch, tmp_path):
    app, _ = scratch
    other = tmp_path / "other.backup"
    other.write_bytes(b"SQLite format 3\x00" if _postgres(app) else b"PGDMP\x01\x0e\x00")
    refused = _run(app, "restore", "--yes", str(other))
    assert refused.exit_code == 1
    if _postgres(app):
        assert "a backup of a SQLite database, but this database is PostgreSQL" in refused.output
    else:
        assert "a backup of a PostgreSQL database, but this database is SQLite" in refused.output


def test_the_postgresql_password_goes_by_environment_not_command_line(tmp_path, monkeypatch):
    """Any user of the machine can read a process's command line, not its environment. The real
    pg_dump is run, against a port where no server listens, so this holds on either suite."""
    password = "not-on-the-command-line-2026"
    url = f"postgresql+psycopg://maf:{password}@127.0.0.1:1/maf"
    started = []
    real_run = subprocess.run

    def run_and_record(command, **kwargs):
        started.append((command, kwargs["env"]))
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", run_and_record)

    with pytest.raises(backup.BackupError, match="pg_dump failed") as refused:
        backup.back_up(url, tmp_path)

    ((command, environment),) = started
    assert Path(command[0]).name == "pg_dump"
    assert not any(password in argument for argument in command)
    assert environment["PGPASSWORD"] == password
    assert password not in str(refused.value)


def test_backing_up_into_a_file_instead_of_a_folder_is_refused(scratch, tmp_path):
    app, _ = scratch
    occupied = tmp_path / "not-a-folder"
    occupied.write_text("")
    result = _run(app, "backup", "--to", str(occupied))
    assert result.exit_code != 0
    assert "is a file" in result.output
    assert occupied.read_text() == ""
