"""Scheduled jobs: one active scheduler, guaranteed by a lease in the database."""

from datetime import timedelta

from sqlalchemy import select

from maf import jobs
from maf.circulation.models import SchedulerLease
from maf.dbtypes import utcnow
from maf.extensions import db


def test_only_one_scheduler_holds_the_lease(database):
    assert jobs.holds_lease("host-a:1")
    assert not jobs.holds_lease("host-b:2"), "a second scheduler waits"
    assert jobs.holds_lease("host-a:1"), "the holder renews"


def test_an_expired_lease_passes_to_the_next_scheduler(database):
    assert jobs.holds_lease("host-a:1")
    lease = db.session.scalar(select(SchedulerLease))
    lease.expires_at = utcnow() - timedelta(seconds=1)  # host-a stopped renewing
    db.session.commit()
    assert jobs.holds_lease("host-b:2")
    assert not jobs.holds_lease("host-a:1")


def test_the_scheduler_has_the_sender_and_the_reminders(app, tmp_path):
    scheduler = jobs.build_scheduler(app)
    jobstore = scheduler._jobstores["default"]
    assert jobstore.__class__.__name__ == "SQLAlchemyJobStore", "jobs kept in the database"
    scheduler.start(paused=True)
    try:
        found = {job.id: job for job in scheduler.get_jobs()}
        assert set(found) == {"send_outbox", "send_reminders", "apply_retention"}
        assert found["send_outbox"].trigger.interval == timedelta(seconds=30)
        assert found["send_outbox"].func_ref == "maf.jobs:send_outbox"
    finally:
        scheduler.remove_all_jobs()
        scheduler.shutdown(wait=False)
