"""Reminders of actions: N working days before the due date (the local rule
action_reminder_working_days, MAF's default 3) and on the first working day after it, each
once; or one daily digest; or none, as the owner chose (issue 17, point 3). Working days skip
weekends and England's bank holidays: Easter 2027 is Good Friday 26 March and Easter Monday
29 March."""

from datetime import date

import pytest
from sqlalchemy import select, update

from maf.dbtypes import london_today
from maf.extensions import db
from maf.notifications import services
from maf.notifications.followup import queue_action_reminders
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import Action, ActionStatus
from maf.rules import services as rules
from tests.notifications.conftest import ANNA, DEV, assert_names_no_child, messages

THURSDAY_BEFORE_EASTER = date(2027, 3, 25)
TUESDAY_AFTER_EASTER = date(2027, 3, 30)


def _action(description: str) -> Action:
    return db.session.scalar(select(Action).where(Action.description == description))


@pytest.fixture
def due_at_easter(minuted):
    """Anna: a home visit due the Thursday before Easter and a talk due the Tuesday after;
    her third action is done. Dev: one action due the Thursday before Easter."""
    minutes_service.circulate(minuted.minutes, minuted.chair)
    for description, due_on in (
        ("Arrange a home visit", THURSDAY_BEFORE_EASTER),
        ("Speak to Jessica", TUESDAY_AFTER_EASTER),
        ("Book a play therapist", THURSDAY_BEFORE_EASTER),
        ("Check Oliver's bus pass", THURSDAY_BEFORE_EASTER),
    ):
        _action(description).due_on = due_on
    _action("Check Oliver's bus pass").status = ActionStatus.DONE
    db.session.commit()
    return minuted


def _run_on(app_clock, day: date) -> list[tuple[str, str]]:
    """Run the daily reminders on `day`; what they queued, as (recipient, subject)."""
    app_clock.london(day, 7, 30)
    before = {m.id for m in messages("action-")}
    queue_action_reminders(london_today())
    return [(m.recipient_email, m.subject) for m in messages("action-") if m.id not in before]


def test_each_reminder_comes_once_three_working_days_before_and_after_easter(
    due_at_easter, app_clock
):
    # Friday 19 March: Thursday 25th is four working days away; nothing yet.
    assert _run_on(app_clock, date(2027, 3, 19)) == []
    # Monday 22nd: three working days before the 25th.
    assert sorted(_run_on(app_clock, date(2027, 3, 22))) == [
        (ANNA, "Action due on 25 March 2027"),
        (DEV, "Action due on 25 March 2027"),
    ]
    # Tuesday 23rd: the 30th is three working days away across Good Friday and Easter Monday.
    assert _run_on(app_clock, date(2027, 3, 23)) == [(ANNA, "Action due on 30 March 2027")]
    assert _run_on(app_clock, date(2027, 3, 24)) == []  # each once
    # Good Friday and Easter Monday are not working days: the 25th is not yet overdue...
    assert _run_on(app_clock, date(2027, 3, 26)) == []
    assert _run_on(app_clock, date(2027, 3, 29)) == []
    # ...until Tuesday 30th, the first working day after it.
    assert sorted(_run_on(app_clock, TUESDAY_AFTER_EASTER)) == [
        (ANNA, "Action overdue: it was due on 25 March 2027"),
        (DEV, "Action overdue: it was due on 25 March 2027"),
    ]
    assert _run_on(app_clock, date(2027, 3, 31)) == [
        (ANNA, "Action overdue: it was due on 30 March 2027")
    ]
    assert _run_on(app_clock, date(2027, 4, 1)) == []
    for message in messages("action-"):
        assert_names_no_child(message)
        assert "Check Oliver" not in message.text_body  # done: never reminded


def test_a_reminder_says_when_and_where_the_action_was_agreed_and_links_to_the_actions(
    due_at_easter, app_clock
):
    _run_on(app_clock, date(2027, 3, 22))
    anna, dev = messages("action-due:")
    assert "An action you own is due on Thursday 25 March 2027." in anna.text_body
    assert f"The {due_at_easter.forum.name} agreed it at its meeting on 12 January 2027" in (
        anna.text_body
    )
    assert "http://127.0.0.1:5000/actions" in anna.text_body
    assert "You have no MAF account, so tell Priya Shah" in dev.text_body


def test_a_missed_run_is_made_up_the_next_day(due_at_easter, app_clock):
    # The server was down on Monday 22nd: Tuesday's run sends what Monday's would have.
    assert sorted(_run_on(app_clock, date(2027, 3, 23))) == [
        (ANNA, "Action due on 25 March 2027"),
        (ANNA, "Action due on 30 March 2027"),
        (DEV, "Action due on 25 March 2027"),
    ]


def test_a_new_due_date_reminds_again(due_at_easter, app_clock):
    _run_on(app_clock, date(2027, 3, 22))
    _action("Book a play therapist").due_on = date(2027, 4, 8)
    db.session.commit()
    later = [sent for sent in _run_on(app_clock, date(2027, 4, 5)) if sent[0] == DEV]
    assert later == [(DEV, "Action due on 8 April 2027")]


def test_done_actions_are_never_reminded(due_at_easter, app_clock):
    db.session.execute(update(Action).values(status=ActionStatus.DONE))
    db.session.commit()
    for day in (date(2027, 3, 22), date(2027, 3, 23), TUESDAY_AFTER_EASTER):
        assert _run_on(app_clock, day) == []


def test_the_daily_digest_instead_on_working_days_with_something_to_say(due_at_easter, app_clock):
    anna = due_at_easter.anna
    services.save_choices(anna, {"action_reminder": "digest"}, services.choices_for(anna))
    assert _run_on(app_clock, date(2027, 3, 19)) == []  # nothing to say
    monday = _run_on(app_clock, date(2027, 3, 22))
    assert (ANNA, "Your actions: 1 due soon") in monday
    assert (ANNA, "Action due on 25 March 2027") not in monday
    assert (ANNA, "Your actions: 2 due soon") in _run_on(app_clock, date(2027, 3, 23))
    assert _run_on(app_clock, date(2027, 3, 26)) == []  # Good Friday
    assert (ANNA, "Your actions: 1 due soon and 1 overdue") in _run_on(
        app_clock, TUESDAY_AFTER_EASTER
    )
    digest = [m for m in messages("action-digest:")][-1]
    assert digest.dedupe_key == f"action-digest:{anna.id}:2027-03-30"
    assert "Due soon:\n- 1 action due by Tuesday 30 March 2027" in digest.text_body
    assert "Overdue, not yet marked done:\n- 1 action due by Thursday 25 March 2027" in (
        digest.text_body
    )
    assert_names_no_child(digest)
    # Dev has no account, so no choice: he gets each reminder.
    assert [m.recipient_email for m in messages("action-overdue:")] == [DEV]


def test_none_means_no_reminder_at_all(due_at_easter, app_clock):
    anna = due_at_easter.anna
    services.save_choices(anna, {"action_reminder": "none"}, services.choices_for(anna))
    for day in (date(2027, 3, 22), date(2027, 3, 23), TUESDAY_AFTER_EASTER):
        assert ANNA not in [address for address, _subject in _run_on(app_clock, day)]


def test_the_admin_can_remind_earlier(due_at_easter, app_clock, make_user):
    from maf.auth.models import Role

    admin = make_user(Role.ADMIN)
    app_clock.london(date(2027, 3, 1))
    rules.change("action_reminder_working_days", "5", by=admin, reason="Schools asked")
    db.session.commit()
    # Five working days before Thursday 25th is Thursday 18th.
    assert _run_on(app_clock, date(2027, 3, 17)) == []
    assert sorted(_run_on(app_clock, date(2027, 3, 18))) == [
        (ANNA, "Action due on 25 March 2027"),
        (DEV, "Action due on 25 March 2027"),
    ]
