"""The database failing in the middle of a request (issue 8: "the database unreachable for a
moment during a request → a clear error page, no partial write").

The fault is real, on a scratch database of its own: on PostgreSQL the server ends the app's
connection between two of the CAF intake's inserts (the child and the case are written, the
consents not yet); on SQLite another connection holds the write lock for longer than the app
waits. A second test loses the database before the request knows who is signed in.
"""

import logging
import os
import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

from maf.cases.models import Case
from maf.extensions import db
from tests.cases.test_case_pages import _intake_data, _screened
from tests.cli.test_backup import row_counts
from tests.conftest import PASSWORD, IsolatedClient, seed_charnwood, submit

CHILD_NAMES = ("Zoë", "Łukasz")  # the intake form's child, Zoë O'Neill-Łukasz
UNAVAILABLE = (
    "Sorry, there is a problem with the service",
    "Nothing was saved. Try again in a few minutes.",
)


@pytest.fixture
def intake(make_scratch_app):
    """A coordinator signed in on a scratch app, part-way through recording a CAF:
    (app, client, the completed intake form)."""
    app = make_scratch_app("faults")
    app.test_client_class = IsolatedClient
    with app.app_context():
        _, school, _ = seed_charnwood(("priya.shah@example.org", "Priya Shah"))
        assert school.id  # loaded before the session ends: the form needs it
        db.session.remove()
    client = app.test_client()
    signed_in = submit(
        client, "/sign-in", {"email": "priya.shah@example.org", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    _screened(client)
    return app, client, _intake_data(client, school)


@contextmanager
def _connection_ended_before(engine, statement_start: str):
    """PostgreSQL ends the app's connection just before it runs the statement."""
    admin = create_engine(engine.url, poolclass=NullPool)
    ended = []

    def end_connection(_connection, cursor, statement, *_):
        if not ended and statement.startswith(statement_start):
            with admin.connect() as connection:
                ended.append(
                    connection.scalar(
                        text("SELECT pg_terminate_backend(:pid, 5000)"),
                        {"pid": cursor.connection.info.backend_pid},
                    )
                )

    event.listen(engine, "before_cursor_execute", end_connection)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", end_connection)
        admin.dispose()
    assert ended == [True], "the fault never happened"


@contextmanager
def _write_lock_held_by_another_connection(engine):
    """Another connection holds SQLite's write lock; the app waits 0.2 s for it, not 5 s."""

    def wait_briefly(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    event.listen(engine, "connect", wait_briefly)
    engine.dispose()
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        event.remove(engine, "connect", wait_briefly)
        engine.dispose()


@contextmanager
def _database_file_unreachable(engine):
    """The SQLite file cannot be opened: its path now names a folder."""
    path = engine.url.database
    engine.dispose()
    os.rename(path, f"{path}.aside")
    os.mkdir(path)
    try:
        yield
    finally:
        os.rmdir(path)
        os.rename(f"{path}.aside", path)


def _engine(app):
    with app.app_context():
        return db.engine


def _fault_mid_save(app):
    engine = _engine(app)
    if engine.dialect.name == "postgresql":
        return _connection_ended_before(engine, "INSERT INTO consent")
    return _write_lock_held_by_another_connection(engine)


def _fault_before_anything(app):
    """The database is lost before the request has even found out who is signed in."""
    engine = _engine(app)
    if engine.dialect.name == "postgresql":
        return _connection_ended_before(engine, 'SELECT "user"')
    return _database_file_unreachable(engine)


def test_a_database_fault_mid_save_answers_503_saves_nothing_and_recovers(intake, caplog):
    app, client, form = intake
    caplog.set_level(logging.INFO)  # the SQL log too: no child's name may reach any log
    before = row_counts(app)

    with _fault_mid_save(app):
        response = client.post("/cases/new/details", data=form)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    for sentence in UNAVAILABLE:
        assert sentence in response.text
    # Nothing from the request or the failure is repeated on the page.
    for leaked in (*CHILD_NAMES, "OperationalError", "INSERT", "locked", "terminat"):
        assert leaked not in response.text
    assert row_counts(app) == before, "not one row of the CAF was saved"

    (logged,) = [record for record in caplog.records if record.name == app.logger.name]
    assert logged.levelno == logging.ERROR
    assert logged.getMessage().startswith(
        "database unavailable during POST cases.intake: OperationalError"
    )
    for name in CHILD_NAMES:
        assert name not in caplog.text

    # The fault has cleared: the same form, sent again, is saved whole.
    again = client.post("/cases/new/details", data=form)
    assert again.status_code == 302, again.text
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert case.child.given_name == "Zoë"
        assert len(case.consents) == 3
        db.session.remove()
    assert "Zoë" in client.get(again.headers["Location"]).text


def test_the_503_page_needs_nothing_from_the_database(intake):
    """Not even who is signed in: the page is drawn without the menu, which would need it."""
    app, client, _ = intake

    with _fault_before_anything(app):
        response = client.get("/")

    assert response.status_code == 503
    for sentence in UNAVAILABLE:
        assert sentence in response.text
    assert "Priya Shah" not in response.text and "Sign out" not in response.text
    recovered = client.get("/")
    assert recovered.status_code == 200
    assert "Sign out" in recovered.text
