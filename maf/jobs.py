"""Scheduled jobs (APScheduler 3, jobs kept in the database): the outbox sender and the
reminders. Only the holder of the database lease runs them, so starting a second scheduler
(a second server, a restart that overlaps) never sends twice."""

import os
import select
import signal
import socket
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from maf.answers import mailbox as organiser_mailbox
from maf.answers.services import queue_answer_reminders
from maf.circulation import outbox
from maf.circulation.models import SchedulerLease
from maf.circulation.services import queue_reminders
from maf.dbtypes import london_today, utcnow
from maf.extensions import db
from maf.notifications.followup import queue_action_reminders

LEASE_NAME = "scheduler"
_app: Flask | None = None  # the app the jobs run in; jobs are stored by name, not closure
_holder = f"{socket.gethostname()}:{os.getpid()}"


def holds_lease(holder: str = _holder) -> bool:
    """Take or renew the lease; true while this process is the one active scheduler."""
    now = utcnow()
    expires = now + timedelta(seconds=current_app.config["SCHEDULER_LEASE_SECONDS"])
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not renewed:
        try:
            db.session.execute(
                insert(SchedulerLease).values(name=LEASE_NAME, holder=holder, expires_at=expires)
            )
        except IntegrityError:
            db.session.rollback()
            return False
    db.session.commit()
    return True


def _run(job) -> None:
    with _app.app_context():
        if holds_lease():
            job()


def send_outbox() -> None:
    _run(lambda: outbox.send_pending(worker=_holder))


def send_reminders() -> None:
    _run(lambda: queue_reminders(london_today()))
    # Each commits its own emails, so those queued stand if a later kind fails.
    _run(lambda: queue_action_reminders(london_today()))
    _run(lambda: queue_answer_reminders(london_today()))


def read_organiser_mailbox() -> None:
    """Members' answers sent from their calendar programs (maf.answers.mailbox)."""
    _run(organiser_mailbox.read_organiser_mailbox)


def apply_retention_rule() -> None:
    from maf.dbtypes import london_today
    from maf.reports.retention import apply_retention
    from maf.submissions import forget_spent_tokens

    _run(lambda: apply_retention(london_today(), dry_run=False))
    _run(lambda: forget_spent_tokens(utcnow()))


def build_scheduler(app: Flask) -> BackgroundScheduler:
    global _app
    _app = app
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"])},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="Europe/London",
    )
    scheduler.add_job(
        "maf.jobs:send_outbox",
        "interval",
        seconds=app.config["OUTBOX_INTERVAL_SECONDS"],
        id="send_outbox",
        replace_existing=True,
    )
    if app.config["ORGANISER_MAILBOX_URL"]:
        scheduler.add_job(
            "maf.jobs:read_organiser_mailbox",
            "interval",
            seconds=app.config["ORGANISER_MAILBOX_INTERVAL_SECONDS"],
            id="read_organiser_mailbox",
            replace_existing=True,
        )
    scheduler.add_job(
        "maf.jobs:send_reminders",
        "cron",
        hour=7,
        minute=30,
        id="send_reminders",
        replace_existing=True,
    )
    scheduler.add_job(
        "maf.jobs:apply_retention_rule",
        "cron",
        hour=2,
        minute=15,
        id="apply_retention",
        replace_existing=True,
    )
    return scheduler


def start_in_app(app: Flask) -> None:
    """`make run`: the scheduler lives in the web process (only in the reloader's child)."""
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    build_scheduler(app).start()


def run_forever(app: Flask, announce) -> None:  # pragma: no cover - `flask maf scheduler`
    """Production: its own process. Waits for the lease, then runs the jobs; `announce` says
    so once a stop signal can no longer be lost.

    SIGTERM (systemd, a deploy) and SIGINT (Ctrl-C) stop it between two renewals, never in the
    middle of a database statement: their handler only wakes the wait below (Python's wakeup
    file descriptor), where an exception raised by a handler could have left a lock held and
    the process hung. SIGINT is caught even when the process was started with it ignored, as a
    background job of a non-interactive shell is: it would otherwise run on until killed. A
    thread started by a library (numpy's) may be the one the signal reaches, so masking the
    signals in this thread is not enough (CI saw a stop lost that way)."""
    woken, wake = socket.socketpair()
    wake.setblocking(False)
    signal.set_wakeup_fd(wake.fileno())
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, frame: None)
    announce()
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        while True:
            with app.app_context():
                active = holds_lease()
            if active and scheduler.state == 2:  # paused
                scheduler.resume()
            elif not active and scheduler.state == 1:  # running
                scheduler.pause()
            # Renewed three times per lease period, so one slow renewal never lets it lapse.
            stopped, _, _ = select.select(
                [woken], [], [], app.config["SCHEDULER_LEASE_SECONDS"] / 3
            )
            if stopped:
                return
    finally:
        scheduler.shutdown(wait=False)
