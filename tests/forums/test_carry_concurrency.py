"""Two people answering "yes" to carry a forum's change at the same moment (two windows, or a
double click that beats the button's guard): the meeting changes once, with one entry in its
history. `carry_to_meetings` takes the forum's row lock before it reads what differs, so the
second is served after the first's commit and finds nothing left to change.

Real transactions on a migrated scratch database (see tests/agendas/test_capacity_concurrency.py
for why the shared rolled-back connection cannot show a race)."""

import threading
import time as clock
from datetime import date, time

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import OperationalError

from maf.auth.models import User
from maf.extensions import db
from maf.forums import services
from maf.forums.models import Forum, Meeting, MeetingChange
from tests.conftest import seed_charnwood

BLOCK_TIMEOUT = 3.0  # how long to watch for the second to wait on the first's lock
SQLITE_HOLD = 0.5  # SQLite cannot show a waiting connection: hold the lock this long instead
THREAD_TIMEOUT = 10.0  # a thread not finished by then is stuck: fail, don't hang


@pytest.fixture
def changed_forum(make_scratch_app, app_clock):
    """A forum whose usual start time became 13:00 after its July meeting was made at 09:30."""
    app_clock.london(date(2027, 2, 15), 10, 0)
    scratch = make_scratch_app("carry")
    with scratch.app_context():
        district, _school, (priya, tom) = seed_charnwood(
            ("priya.shah@example.org", "Priya Shah"), ("tom.baker@example.org", "Tom Baker")
        )
        forum = services.save_forum(
            None,
            services.ForumDetails(district=district, name="Charnwood MAF", venue="Loughborough"),
            priya,
        )
        meeting = services.new_meeting(forum, date(2027, 7, 13))
        db.session.add(meeting)
        db.session.commit()
        details = services.details_of(forum)
        details.start_time = time(13, 0)
        services.save_forum(forum, details, priya)
        ids = {"forum": forum.id, "meeting": meeting.id, "a": priya.id, "b": tom.id}
        db.session.remove()
    return scratch, ids


def test_two_yeses_at_once_change_the_meeting_once(changed_forum, monkeypatch):
    app, ids = changed_forum
    postgres = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"
    a_has_read = threading.Event()
    release_a = threading.Event()
    b_finished = threading.Event()
    outcomes: dict[str, object] = {}

    # A stops at the worst moment: it has read which meetings differ but changed none yet.
    # Without the lock, B would read the same and both would move the meeting.
    real_plan = services.carry_plan

    def plan_pausing_a(forum, fields):
        plan = real_plan(forum, fields)
        if threading.current_thread().name == "a":
            a_has_read.set()
            release_a.wait(THREAD_TIMEOUT)
        return plan

    monkeypatch.setattr(services, "carry_plan", plan_pausing_a)

    def coordinator(name: str, after: threading.Event | None):
        with app.app_context():
            try:
                forum = db.session.get(Forum, ids["forum"])
                user = db.session.get(User, ids[name])
                if after is not None:
                    assert after.wait(THREAD_TIMEOUT), "A never read the meetings"
                changed = services.carry_to_meetings(forum, ["start_time"], user)
                outcomes[name] = ("changed", [meeting.id for meeting in changed])
            except BaseException as error:  # noqa: BLE001 (reported by the main thread)
                db.session.rollback()
                outcomes[name] = ("raised", error)
            finally:
                db.session.remove()
                if name == "b":
                    b_finished.set()

    thread_a = threading.Thread(target=coordinator, args=("a", None), name="a")
    thread_b = threading.Thread(target=coordinator, args=("b", a_has_read), name="b")
    thread_a.start()
    thread_b.start()
    waiting: list[str] = []
    try:
        assert a_has_read.wait(THREAD_TIMEOUT), f"A never read the meetings: {outcomes}"
        if postgres:
            with app.app_context(), db.engine.connect() as observer:
                deadline = clock.monotonic() + BLOCK_TIMEOUT
                while not b_finished.is_set() and clock.monotonic() < deadline:
                    waiting = list(
                        observer.scalars(
                            text(
                                "SELECT query FROM pg_stat_activity WHERE datname = "
                                "current_database() AND wait_event_type = 'Lock'"
                            )
                        )
                    )
                    if waiting:
                        break
                    observer.rollback()
                    clock.sleep(0.02)
        else:
            b_finished.wait(SQLITE_HOLD)
    finally:
        release_a.set()
        thread_a.join(THREAD_TIMEOUT)
        thread_b.join(THREAD_TIMEOUT)
    assert not thread_a.is_alive() and not thread_b.is_alive(), "a coordinator is stuck"

    assert outcomes["a"] == ("changed", [ids["meeting"]]), outcomes
    if postgres:
        # B waited for A's lock on the forum, then found nothing left to change.
        assert [query.lstrip().upper()[:12] for query in waiting] == ["UPDATE FORUM"]
        assert outcomes["b"] == ("changed", []), outcomes
    else:
        # SQLite will not let B's older snapshot write at all, or B began after A's commit.
        verdict, result = outcomes["b"]
        assert result == [] or isinstance(result, OperationalError), outcomes

    with app.app_context():
        history = db.session.scalars(
            select(MeetingChange).where(MeetingChange.meeting_id == ids["meeting"])
        ).all()
        assert [(c.what, c.before, c.after) for c in history] == [("start time", "09:30", "13:00")]
        assert db.session.get(Meeting, ids["meeting"]).calendar_sequence == 1
