"""One reminder to members who have not answered (issue 17 point 2), the local rule
answer_reminder_working_days working days before the meeting (MAF default 3: no seed sets it)."""

from datetime import date, timedelta

from sqlalchemy import select

from maf import jobs
from maf.answers import services
from maf.answers.models import AnswerSource, Response
from maf.auth.models import Role
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.notifications import services as notifications
from maf.rules import services as rules
from tests.answers.meeting import CHILD

MAYA, PRIYA, TOM = "maya.member@example.org", "priya.patel@example.org", "tom.reid@example.org"
# 6 April 2027 is a Tuesday after Easter (Good Friday 26 March, Easter Monday 29 March 2027).
THREE_WORKING_DAYS_BEFORE = date(2027, 4, 1)  # Thursday: Friday, Monday, Tuesday


def _reminders() -> dict[str, OutboxMessage]:
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("answer-reminder:"))
    )
    return {message.recipient_email: message for message in messages}


def _answer(meeting, email, response=Response.ATTENDING):
    services.record_answer(
        meeting, services.invitation_for(meeting, email), response, AnswerSource.LINK
    )
    db.session.commit()


def test_only_those_who_have_not_answered_get_one_reminder_three_working_days_before(
    app, circulated
):
    _answer(circulated.meeting, MAYA)

    assert services.queue_answer_reminders(THREE_WORKING_DAYS_BEFORE - timedelta(1)) == 0
    assert services.queue_answer_reminders(THREE_WORKING_DAYS_BEFORE) == 2
    assert services.queue_answer_reminders(THREE_WORKING_DAYS_BEFORE) == 0  # once
    assert services.queue_answer_reminders(date(2027, 4, 2)) == 0
    reminders = _reminders()
    # Not Maya, who answered, nor the chair, who runs the meeting.
    assert set(reminders) == {PRIYA, TOM}
    message = reminders[TOM]
    assert message.subject == "Will you come? Charnwood multi-agency forum, 6 April 2027"
    assert "Tuesday 6 April 2027 at 09:30" in message.text_body
    assert message.text_body.count(app.config["BASE_URL"] + "/answer/") == 3
    assert "I am sending a deputy" in message.html_body
    for text in (message.subject, message.text_body, message.html_body):
        assert CHILD[0] not in text and CHILD[1] not in text
        assert "17 May 2012" not in text and "2012-05-17" not in text


def test_a_missed_morning_sends_it_the_next_day_but_never_on_the_meeting_day(circulated):
    assert services.queue_answer_reminders(date(2027, 4, 6)) == 0  # the day itself
    assert services.queue_answer_reminders(date(2027, 4, 5)) == 3  # Monday, the day before


def test_a_member_who_turned_the_reminder_off_gets_none(circulated, make_user):
    tom = make_user(Role.PRACTITIONER, email=TOM, name="Tom Reid")
    notifications.save_choices(tom, {"answer_reminder": "off"}, {"answer_reminder": "on"})
    db.session.commit()

    services.queue_answer_reminders(THREE_WORKING_DAYS_BEFORE)

    assert set(_reminders()) == {MAYA, PRIYA}


def test_the_working_days_are_the_councils_local_rule(circulated, make_user):
    admin = make_user(Role.ADMIN, name="Ada Admin")
    rules.change("answer_reminder_working_days", 5, by=admin)
    db.session.commit()
    # Five working days before Tuesday 6 April 2027: Tuesday 30 March.
    assert services.queue_answer_reminders(date(2027, 3, 29)) == 0
    assert services.queue_answer_reminders(date(2027, 3, 30)) == 3


def test_the_daily_reminders_job_sends_them(app, circulated, app_clock, monkeypatch):
    app_clock.london(THREE_WORKING_DAYS_BEFORE, 7, 30)
    monkeypatch.setattr(jobs, "_app", app)
    jobs.send_reminders()
    assert set(_reminders()) == {MAYA, PRIYA, TOM}


def test_the_organiser_mailbox_is_read_every_five_minutes_when_set(app, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANISER_MAILBOX_URL", "imaps://u:p@mail.example.org/")
    scheduler = jobs.build_scheduler(app)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("read_organiser_mailbox")
        assert job.func_ref == "maf.jobs:read_organiser_mailbox"
        assert job.trigger.interval == timedelta(minutes=5)
    finally:
        scheduler.remove_all_jobs()
        scheduler.shutdown(wait=False)
