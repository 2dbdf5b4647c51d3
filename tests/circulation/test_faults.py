"""Faults around the outbox (issue 8): "the SMTP server down → nothing lost, delivered after;
the scheduler process killed and restarted → no job lost, none run twice".

Real parts throughout: an aiosmtpd server that is really stopped and started again, and the
real `flask --app wsgi maf scheduler` processes, one of them killed with SIGKILL mid-send.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from maf import ROOT
from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.circulation.models import DeliveryStatus, OutboxMessage, SchedulerLease
from maf.circulation.outbox import send_pending
from maf.circulation.services import circulate
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from tests.circulation.conftest import RecordingHandler, _free_port
from tests.circulation.test_outbox import _keys, _queue

WAIT = 20.0  # seconds a step may take before the test gives up on it


class SmtpServer:
    """A real SMTP server on a port of its own, which the test can stop and start again."""

    def __init__(self, handler: RecordingHandler):
        self.handler = handler
        self.port = _free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def mail_server(app, smtp_server, monkeypatch):
    """The app mails a server of this test's own, running; `smtp_server` gives the settings."""
    server = SmtpServer(RecordingHandler())
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    server.start()
    yield server
    server.stop()


def _outbox() -> dict[str, OutboxMessage]:
    db.session.expire_all()
    return {message.dedupe_key: message for message in db.session.scalars(select(OutboxMessage))}


def test_an_agenda_circulated_while_the_mail_server_is_down_arrives_once_when_it_is_back(
    mail_server, coordinator, make_meeting, make_ready_case, make_agency
):
    meeting = make_meeting(date(2027, 7, 13))
    add_member(
        meeting.forum,
        name="Zoë Brennan",
        email="zoe@example.org",
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    add_to_agenda(
        meeting, make_ready_case(), ItemKind.NEW_CASE, coordinator, "Dan K", "dan@example.org"
    )
    mail_server.stop()

    report = circulate(meeting, coordinator)
    queued = _outbox()
    # The agenda to the chair and the member, and the presenter's invitation to her slot.
    assert len(queued) == report.messages == 3

    start = utcnow()
    down = send_pending(worker="scheduler", now=start)

    assert down.sent == 0 and down.stopped.startswith("could not reach the mail server")
    for message in _outbox().values():
        # Kept, not given up on, and no attempt used up by a server that was not there.
        assert (message.status, message.attempts, message.claimed_by) == (
            DeliveryStatus.PENDING,
            0,
            None,
        )
    assert mail_server.handler.received == []

    mail_server.start()
    back = send_pending(worker="scheduler", now=start + timedelta(seconds=30))  # its next run

    assert (back.sent, back.retrying, back.failed, back.stopped) == (3, 0, 0, "")
    assert sorted(_keys(mail_server.handler)) == sorted(queued)
    assert {message.status for message in _outbox().values()} == {DeliveryStatus.SENT}
    # And never again.
    assert send_pending(worker="scheduler", now=start + timedelta(days=1)).sent == 0
    assert len(mail_server.handler.received) == 3


# --- the scheduler process killed and restarted ----------------------------------------------


class StallingHandler(RecordingHandler):
    """Takes every message, but holds back its reply to the n-th until released: the sender is
    left waiting, mid-send, with the message already in the server's hands."""

    def __init__(self, stall_on: int):
        super().__init__()
        self.stall_on = stall_on
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.stall_on:
            self.stalled.set()
            while not self.release.is_set():  # without blocking the server's other sessions
                await asyncio.sleep(0.05)
        return reply


class Scheduler:
    """`flask --app wsgi maf scheduler` in its own process, on the scratch database."""

    def __init__(
        self, name: str, database_url: str, smtp_port: int, tmp_path, sigint_ignored=False
    ):
        self.log = tmp_path / f"scheduler-{name}.log"
        environment = {
            **os.environ,
            "MAF_ENV": "development",
            "MAF_INSTANCE_PATH": str(tmp_path),
            "MAF_SECRET_KEY": "scheduler-fault-test",
            "MAF_DATABASE_URL": database_url,
            "MAF_SCHEDULER_IN_APP": "false",
            "MAF_MAIL_TRANSPORT": "smtp",
            "MAF_SMTP_HOST": "127.0.0.1",
            "MAF_SMTP_PORT": str(smtp_port),
            "MAF_SMTP_SECURITY": "none",
            "MAF_MAIL_FROM": "Charnwood MAF <maf-no-reply@maf.example.org>",
            # Seconds, not the production minutes, so the test sees a takeover quickly.
            "MAF_OUTBOX_INTERVAL_SECONDS": "1",
            "MAF_SCHEDULER_LEASE_SECONDS": "3",
            # A claim older than the current run was left by a dead sender.
            "MAF_MAIL_LEASE_MINUTES": "0",
            "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "maf", "scheduler"],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                # As a background job of a non-interactive shell starts it (CI runs the two
                # suites so): with Ctrl-C's signal ignored.
                preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
                if sigint_ignored
                else None,
            )
        self.holder = f"{socket.gethostname()}:{self.process.pid}"

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_started(self) -> None:
        _wait_for(lambda: "Scheduler waiting for the lease" in self.output(), self.output)

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(WAIT)


def _wait_for(condition, describe=lambda: "") -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {describe()}"
        time.sleep(0.1)


@pytest.fixture
def stalling_server():
    server = SmtpServer(StallingHandler(stall_on=3))
    server.start()
    yield server
    server.handler.release.set()
    server.stop()


def test_a_scheduler_killed_mid_send_is_replaced_and_nothing_is_lost_or_sent_twice(
    make_scratch_app, stalling_server, tmp_path
):
    app = make_scratch_app("scheduler")
    keys = [f"agenda:1:member:{number}" for number in range(6)]
    with app.app_context():
        for number, key in enumerate(keys):
            _queue(key, recipient_email=f"member{number}@example.org")
        db.session.commit()
        db.session.remove()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    handler = stalling_server.handler

    def database(statement):
        with app.app_context():
            try:
                return db.session.execute(statement).all()
            finally:
                db.session.remove()

    def outbox():
        rows = database(
            select(OutboxMessage.dedupe_key, OutboxMessage.status, OutboxMessage.claimed_by)
        )
        return {key: (status, worker) for key, status, worker in rows}

    started: list[Scheduler] = []

    def scheduler(name: str) -> Scheduler:
        started.append(Scheduler(name, url, stalling_server.port, tmp_path))
        return started[-1]

    try:
        first = scheduler("first")
        assert handler.stalled.wait(WAIT), first.output()
        # The first has sent two and waits for the server's answer to the third.
        assert database(select(SchedulerLease.holder)) == [(first.holder,)]

        # A second scheduler started alongside (a second server, an overlapping deploy) waits
        # for the lease; with three messages due it would otherwise send them within a second.
        alongside = scheduler("alongside")
        alongside.wait_until_started()
        # A whole lease period and more: the first renews its lease three times (once a
        # second), while the one alongside looks for it as often and must not take it.
        lease_expiries = set()

        def lease_renewed_three_times() -> bool:
            [(holder, expires_at)] = database(
                select(SchedulerLease.holder, SchedulerLease.expires_at)
            )
            assert holder == first.holder, alongside.output()
            lease_expiries.add(expires_at)
            return len(lease_expiries) > 3

        _wait_for(lease_renewed_three_times, alongside.output)
        assert len(handler.received) == 3
        assert all(worker in (None, first.holder) for _, worker in outbox().values())
        alongside.stop(signal.SIGINT)

        first.stop(signal.SIGKILL)  # mid-send: the third message claimed, its answer unknown
        handler.release.set()
        third = keys[2]
        assert _keys(handler) == keys[:3]
        assert outbox()[third] == (DeliveryStatus.SENDING, first.holder)
        # No job is lost with the process: they are kept in the database.
        jobs = database(text("SELECT id FROM apscheduler_jobs"))
        assert {job for (job,) in jobs} == {"send_outbox", "send_reminders", "apply_retention"}

        restarted = scheduler("restarted")
        _wait_for(lambda: len(handler.received) == 6, restarted.output)
        # Three more runs of the sender are started (each moves its next run on): nothing
        # more may go.
        sender_runs = set()

        def sender_ran_three_more_times() -> bool:
            [(next_run,)] = database(
                text("SELECT next_run_time FROM apscheduler_jobs WHERE id = 'send_outbox'")
            )
            sender_runs.add(next_run)
            return len(sender_runs) > 3

        _wait_for(sender_ran_three_more_times, restarted.output)
        assert len(handler.received) == 6
    finally:
        for process in started:
            process.stop(signal.SIGKILL)

    # Every message arrived exactly once; the one the killed sender was waiting on is reported
    # as "not known whether it was sent" rather than sent again.
    assert sorted(_keys(handler)) == sorted(keys)
    final = outbox()
    assert final[third] == (DeliveryStatus.UNCERTAIN, first.holder)
    assert "1 abandoned message(s) marked uncertain" in restarted.output()
    assert [final[key] for key in keys[:2]] == [(DeliveryStatus.SENT, first.holder)] * 2
    assert [final[key] for key in keys[3:]] == [(DeliveryStatus.SENT, restarted.holder)] * 3
    assert database(select(SchedulerLease.holder)) == [(restarted.holder,)]


def test_a_scheduler_started_with_sigint_ignored_still_stops_on_sigint_and_sigterm(
    make_scratch_app, stalling_server, tmp_path
):
    """A scheduler started in the background by a script ignored Ctrl-C and ran on until
    killed (CI found it when it began running the suites side by side)."""
    app = make_scratch_app("signals")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    for number, sig in enumerate((signal.SIGINT, signal.SIGTERM)):
        scheduler = Scheduler(
            f"ignored-{number}", url, stalling_server.port, tmp_path, sigint_ignored=True
        )
        try:
            scheduler.wait_until_started()
            scheduler.stop(sig)
            assert scheduler.process.returncode == 0, scheduler.output()
        finally:
            scheduler.stop(signal.SIGKILL)
