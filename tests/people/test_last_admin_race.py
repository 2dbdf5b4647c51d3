"""The last active administrator cannot be removed even when two admins act at the same moment
(issue 15: "the last active admin cannot be removed").

The only two active admins each deactivate the other, or each take the other's admin role, in
two clients at once. Each decision is taken under the administrators' row lock
(maf.people.services._lock_administrators; SQLite's write lock on a form post), so the second is
served after the first commits and sees one admin left: exactly one of them stays.

The shared `database` fixture runs a test on one connection, which cannot show two transactions
racing, so this test has its own migrated scratch database with real commits, and each client
runs in its own thread, application context, session and connection. The count of the other
active admins is slowed down, so that without the lock both would count the other still active.
"""

import threading
import time

import pytest
from sqlalchemy import select

from maf.auth import services as auth_services
from maf.auth.models import Role, User
from maf.extensions import db
from maf.people import services
from tests.conftest import PASSWORD, csrf_token_from, submit

THREAD_TIMEOUT = 20.0


def _two_admins(scratch) -> list[int]:
    with scratch.app_context():
        admins = [
            auth_services.save_user(email=email, name=name, password=PASSWORD, roles=[Role.ADMIN])
            for email, name in (
                ("ada.admin@example.org", "Ada Admin"),
                ("ben.admin@example.org", "Ben Admin"),
            )
        ]
        db.session.commit()
        return [admin.id for admin in admins]


def _signed_in(scratch, email: str):
    client = scratch.test_client()
    assert submit(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 302
    return client


def _slow_count(monkeypatch):
    counted = services._other_active_admins

    def slowly(person):
        found = counted(person)
        time.sleep(0.4)  # the other admin's request would count now, were there no lock
        return found

    monkeypatch.setattr(services, "_other_active_admins", slowly)


@pytest.mark.parametrize("how", ["deactivate", "take the admin role"])
def test_two_admins_removing_each_other_at_once_leave_one(make_scratch_app, monkeypatch, how):
    scratch = make_scratch_app("people_race")
    ada_id, ben_id = _two_admins(scratch)
    clients = {
        ada_id: _signed_in(scratch, "ada.admin@example.org"),
        ben_id: _signed_in(scratch, "ben.admin@example.org"),
    }
    other = {ada_id: ben_id, ben_id: ada_id}
    path = "/people/{}/deactivate" if how == "deactivate" else "/people/{}/access"
    pages = {me: clients[me].get(path.format(other[me])) for me in clients}
    _slow_count(monkeypatch)
    start = threading.Barrier(2)
    answers = {}

    def act(me):
        page = pages[me].text
        data = {"csrf_token": csrf_token_from(page)}
        if how != "deactivate":
            data |= {"roles": ["coordinator"], "agency": "0", "version": "1"}
        start.wait()
        answers[me] = clients[me].post(path.format(other[me]), data=data)

    threads = [threading.Thread(target=act, args=(me,)) for me in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
        assert not thread.is_alive(), "a request is stuck (deadlock)"

    with scratch.app_context():
        admins = db.session.scalars(select(User).order_by(User.id)).all()
        still = [a.name for a in admins if a.active and a.has_role(Role.ADMIN)]
    assert len(still) == 1, still
    done = [
        me
        for me, answer in answers.items()
        if answer.status_code == 302 and answer.headers["Location"] == f"/people/{other[me]}"
    ]
    assert len(done) == 1, {me: answer.status_code for me, answer in answers.items()}
    (refused,) = (answers[me] for me in answers if me not in done)
    # Refused by the lock (PostgreSQL: both passed the door at once), or at the door, once the
    # first had committed (SQLite: a post's first query already waits for the write lock).
    if refused.status_code == 200:
        assert "is the only active administrator" in refused.text
    else:
        assert refused.status_code == 403 or refused.headers["Location"].startswith("/sign-in")
