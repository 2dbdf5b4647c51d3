"""A meeting's capacity holds when two coordinators add to its last free slot at once.

The issue's requirement: "Capacity holds under concurrency: enforced in one transaction; tested
on PostgreSQL with two connections". `add_to_agenda` takes the meeting's write lock
(`_lock_agenda`), counts what is scheduled, refuses when the meeting is full, inserts and commits,
all in one transaction, so the second of two simultaneous additions must see the first.

The shared `database` fixture runs every test on one connection inside a rolled-back
transaction, which cannot show two transactions racing. The race test therefore builds its own
migrated scratch database (a SQLite file, or `<test database>_concurrency` on PostgreSQL), commits
real data to it and runs each coordinator in its own thread, application context, session and
pooled connection.
"""

import threading
import time
from datetime import date

import pytest
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.exc import OperationalError

from maf.agendas import services as agenda_services
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.agendas.services import AgendaError, add_to_agenda
from maf.auth.models import User
from maf.cases import services as case_services
from maf.cases.models import (
    Case,
    CaseStatus,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    SettingType,
    TierOutcome,
)
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import Meeting
from tests.conftest import seed_charnwood

# How long the first coordinator's transaction may wait for the second to block on its lock.
BLOCK_TIMEOUT = 3.0
# SQLite cannot show that a connection is waiting for its lock; hold it this long instead.
SQLITE_HOLD = 0.5
# A coordinator thread that has not finished by then is stuck (a deadlock): fail, don't hang.
THREAD_TIMEOUT = 10.0


# Different children, so the existing-CAF check finds no match and each case can be checked.
CHILDREN = [
    ("Jessica", "Thompson", date(2012, 5, 17), "LE11 3TU"),
    ("Amelia", "Nowak", date(2013, 9, 2), "LE12 7AB"),
    ("Olivia", "Adeyemi", date(2011, 2, 24), "LE11 5QR"),
]


def _capacity_message(capacity: int) -> str:
    return (
        f"This meeting already has {capacity} new case{'' if capacity == 1 else 's'}, the "
        f"forum's limit: add the case to a later meeting"
    )


# --- a scratch database with committed data ----------------------------------------------


def _ready_case(
    child: tuple[str, str, date, str], district: District, agency: Agency, user: User
) -> Case:
    """A CAF received, checked and marked ready for the forum, through the case services."""
    common = dict(
        given=True,
        given_by=ConsentGiver.PARENT_CARER,
        given_by_name="Karen Thompson",
        given_on=date(2026, 11, 2),
        method=ConsentMethod.WRITTEN,
    )
    given_name, family_name, date_of_birth, postcode = child
    case = case_services.receive_caf(
        case_services.ChildDetails(
            given_name=given_name,
            family_name=family_name,
            date_of_birth=date_of_birth,
            gender=Gender.FEMALE,
            postcode=postcode,
        ),
        case_services.ReferralDetails(
            district=district,
            referrer_name="Daniel Kowalski",
            referrer_email="pastoral.lead@example.org",
            referrer_agency=agency,
            setting_type=SettingType.HIGH_SCHOOL,
            assessment_completed_on=date(2026, 11, 2),
            needs=[],
            strengths="Loves football",
        ),
        [
            case_services.ConsentDetails(kind=ConsentKind.UNDERTAKE, **common),
            case_services.ConsentDetails(kind=ConsentKind.RECORD, **common),
            case_services.ConsentDetails(kind=ConsentKind.SHARE, covers_forum=True, **common),
        ],
        user,
    )
    case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", user)
    case_services.mark_ready_for_forum(case, user)
    assert case.status == CaseStatus.READY_FOR_FORUM
    return case


def _build_last_slot_scenario() -> dict[str, int]:
    """A forum taking one new case per meeting, a meeting, two coordinators, two ready cases."""
    district, agency, coordinators = seed_charnwood(
        ("priya.shah@example.org", "Priya Shah"), ("tom.baker@example.org", "Tom Baker")
    )
    forum = forum_services.save_forum(
        None,
        forum_services.ForumDetails(
            district=district,
            name="Charnwood multi-agency forum",
            venue="Loughborough Council Offices, Room 2",
            coordinator=coordinators[0],
            new_case_capacity=1,
        ),
        coordinators[0],
    )
    meeting = Meeting(
        forum=forum,
        date=date(2027, 1, 12),
        start_time=forum.start_time,
        length_minutes=forum.length_minutes,
        venue=forum.venue,
    )
    db.session.add(meeting)
    db.session.commit()
    cases = [_ready_case(child, district, agency, coordinators[0]) for child in CHILDREN[:2]]
    return {
        "meeting": meeting.id,
        "user_a": coordinators[0].id,
        "user_b": coordinators[1].id,
        "case_a": cases[0].id,
        "case_b": cases[1].id,
    }


@pytest.fixture
def last_slot(make_scratch_app):
    """A migrated scratch database holding the committed scenario: (app, ids)."""
    scratch = make_scratch_app("concurrency")
    with scratch.app_context():
        ids = _build_last_slot_scenario()
        db.session.remove()
    return scratch, ids


def _waiting_on_a_lock(connection) -> list[str]:
    """Statements of the scratch database's other backends that are waiting for a lock."""
    return list(
        connection.scalars(
            text(
                "SELECT query FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    )


def test_two_coordinators_cannot_both_take_the_last_slot(last_slot, monkeypatch):
    app, ids = last_slot
    postgres = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"

    # Both coordinators have loaded the meeting and their case before either adds it.
    loaded = threading.Barrier(2, timeout=THREAD_TIMEOUT)
    a_holds_lock = threading.Event()
    release_a = threading.Event()
    b_finished = threading.Event()
    outcomes: dict[str, object] = {}

    # Coordinator A stops inside its transaction at the worst moment: it holds the meeting's
    # lock and has counted a free slot, but has not inserted its item yet. It waits there until
    # the test has seen coordinator B start (and, on PostgreSQL, block on that lock). Without
    # the lock, B would count the same free slot and both would be added.
    real_require_room = agenda_services._require_room

    def require_room_pausing_a(meeting, kind):
        real_require_room(meeting, kind)
        if threading.current_thread().name == "coordinator-a":
            a_holds_lock.set()
            release_a.wait(THREAD_TIMEOUT)

    monkeypatch.setattr(agenda_services, "_require_room", require_room_pausing_a)

    # Each coordinator's statements, by thread: B must be served by waiting once for A's lock,
    # not by giving up and trying again (a retry loop would hide a lock that is never taken).
    statements: dict[str, list[str]] = {"coordinator-a": [], "coordinator-b": []}

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.get(threading.current_thread().name, []).append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)

    def coordinator(name: str, case_key: str, user_key: str, after: threading.Event | None):
        with app.app_context():
            try:
                meeting = db.session.get(Meeting, ids["meeting"])
                case = db.session.get(Case, ids[case_key])
                user = db.session.get(User, ids[user_key])
                assert meeting.forum.new_case_capacity == 1  # loads within this transaction
                loaded.wait()
                if after is not None:
                    assert after.wait(THREAD_TIMEOUT), "coordinator A never took the lock"
                item = add_to_agenda(meeting, case, ItemKind.NEW_CASE, user)
                outcomes[name] = ("added", item.id)
            except BaseException as error:  # noqa: BLE001 (reported by the main thread)
                db.session.rollback()
                outcomes[name] = ("raised", error)
            finally:
                if name == "b":
                    b_finished.set()

    thread_a = threading.Thread(
        target=coordinator, args=("a", "case_a", "user_a", None), name="coordinator-a"
    )
    thread_b = threading.Thread(
        target=coordinator, args=("b", "case_b", "user_b", a_holds_lock), name="coordinator-b"
    )
    thread_a.start()
    thread_b.start()
    blocked_statements: list[str] = []
    try:
        assert a_holds_lock.wait(THREAD_TIMEOUT), f"coordinator A never took the lock: {outcomes}"
        if postgres:
            # Watch from a third connection until B waits for A's row lock (or gives up).
            with app.app_context(), db.engine.connect() as observer:
                deadline = time.monotonic() + BLOCK_TIMEOUT
                while not b_finished.is_set() and time.monotonic() < deadline:
                    blocked_statements = _waiting_on_a_lock(observer)
                    if blocked_statements:
                        break
                    observer.rollback()
                    time.sleep(0.02)
        else:
            b_finished.wait(SQLITE_HOLD)
    finally:
        release_a.set()
        thread_a.join(THREAD_TIMEOUT)
        thread_b.join(THREAD_TIMEOUT)
        event.remove(engine, "before_cursor_execute", record)
    assert not thread_a.is_alive() and not thread_b.is_alive(), "a coordinator is stuck"
    locks_taken = {
        name: sum(s.lstrip().upper().startswith("UPDATE MEETING") for s in run)
        for name, run in statements.items()
    }
    assert locks_taken == {"coordinator-a": 1, "coordinator-b": 1}, statements

    # A, holding the lock, gets the slot; B is served after A's commit and is refused.
    assert outcomes["a"][0] == "added", outcomes["a"]
    verdict, error = outcomes["b"]
    assert verdict == "raised", f"both coordinators took the last slot: {outcomes}"
    assert isinstance(error, AgendaError), f"{type(error).__module__}.{error!r}"
    if postgres:
        # Served after A's commit, B counts A's item.
        assert str(error) == _capacity_message(1)
    else:
        # SQLite will not let B's stale snapshot write at all; the service reports that, or B
        # counted A's item if its transaction began after A's commit.
        assert str(error) == _capacity_message(1) or isinstance(
            error.__cause__, OperationalError
        ), repr(error)

    if postgres:
        # B really was held up by A's lock on the meeting, not merely slower.
        assert len(blocked_statements) == 1, blocked_statements
        assert blocked_statements[0].lstrip().upper().startswith("UPDATE MEETING")

    with app.app_context():
        scheduled = db.session.scalars(
            select(AgendaItem).where(
                AgendaItem.meeting_id == ids["meeting"],
                AgendaItem.status == ItemStatus.SCHEDULED,
            )
        ).all()
        assert [item.case_id for item in scheduled] == [ids["case_a"]]
        assert db.session.get(Case, ids["case_a"]).status == CaseStatus.ON_AGENDA
        assert db.session.get(Case, ids["case_b"]).status == CaseStatus.READY_FOR_FORUM
        # Only A's transaction committed its bump of the agenda version.
        assert db.session.get(Meeting, ids["meeting"]).agenda_version == 1
        assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 1


# --- without contention ------------------------------------------------------------------


def test_a_full_meeting_refuses_one_more_new_case(
    make_forum, make_meeting, make_ready_case, coordinator
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=2))
    first, second, third = (
        make_ready_case(given, family, born, postcode) for given, family, born, postcode in CHILDREN
    )
    add_to_agenda(meeting, first, ItemKind.NEW_CASE, coordinator)
    add_to_agenda(meeting, second, ItemKind.NEW_CASE, coordinator)

    with pytest.raises(AgendaError) as refused:
        add_to_agenda(meeting, third, ItemKind.NEW_CASE, coordinator)
    db.session.rollback()

    assert str(refused.value) == _capacity_message(2)
    assert [item.case_id for item in agenda_services.scheduled_items(meeting)] == [
        first.id,
        second.id,
    ]
    assert third.status == CaseStatus.READY_FOR_FORUM
    assert first.status == second.status == CaseStatus.ON_AGENDA
