"""After the minutes are circulated, each action owner hears how many actions they have and by
when, and lead professionals who are not sent the minutes hear that they are ready (issue 17,
point 3). No email names a child or says what an action is."""

from datetime import date

from sqlalchemy import update

from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import Action
from tests.notifications.conftest import ANNA, BEN, DEV, ZOE, assert_names_no_child, messages


def test_each_action_owner_gets_one_email_saying_how_many_and_by_when(minuted):
    minutes_service.circulate(minuted.minutes, minuted.chair)

    anna, dev = messages("actions:")
    assert (anna.recipient_email, dev.recipient_email) == (ANNA, DEV)
    day = "12 January 2027"
    assert anna.subject == f"Your actions from the {minuted.forum.name}, {day}"
    # Three actions across two children's cases, two of them due on the same day.
    assert "The forum agreed 3 actions for you" in anna.text_body
    assert "- 2 actions due by Monday 1 February 2027" in anna.text_body
    assert "- 1 action due by Monday 15 February 2027" in anna.text_body
    assert "http://127.0.0.1:5000/actions" in anna.text_body
    assert "<li>2 actions due by Monday 1 February 2027</li>" in anna.html_body
    # Anna also leads a case: she is pointed to her cases too.
    assert "http://127.0.0.1:5000/my-cases" in anna.text_body
    assert anna.meeting_id == minuted.meeting.id
    # Dev is no member and has no account: told whom to ask.
    assert "The forum agreed 1 action for you" in dev.text_body
    assert "- 1 action due by Tuesday 26 January 2027" in dev.text_body
    assert "You have no MAF account, so ask Priya Shah" in dev.text_body
    assert "what it is." in dev.text_body
    assert "/actions" not in dev.text_body
    for message in (anna, dev):
        assert_names_no_child(message)


def test_those_not_sent_the_minutes_who_lead_a_case_or_own_an_action_are_told_they_are_ready(
    minuted,
):
    minutes_service.circulate(minuted.minutes, minuted.chair)

    # Zoë leads Jessica's case and is no member; Dev owns an action and is no member. Anna leads
    # Oliver's case and owns actions, but is sent the minutes; Ben owns and leads nothing.
    dev, zoe = messages("minutes-ready:")
    assert (dev.recipient_email, zoe.recipient_email) == (DEV, ZOE)
    assert zoe.subject == f"Minutes ready: {minuted.forum.name}, 12 January 2027"
    assert "They record what the forum agreed for a case you lead as lead professional." in (
        zoe.text_body
    )
    assert "The minutes name other children, so they are not sent to you" in zoe.text_body
    assert "http://127.0.0.1:5000/my-cases" in zoe.text_body
    assert "They record what the forum agreed an action for you." in dev.text_body
    assert "you have no MAF account: ask Priya Shah" in dev.text_body
    for message in (dev, zoe):
        assert_names_no_child(message)
    everyone = [message.recipient_email for message in messages()]
    assert everyone.count(ANNA) == 2  # the minutes, and her actions
    assert everyone.count(DEV) == 2  # his actions, and that the minutes are ready
    assert everyone.count(ZOE) == everyone.count(BEN) == 1


def test_an_owner_who_also_leads_a_case_is_told_once(minuted):
    db.session.execute(update(Action).where(Action.owner_email == DEV).values(owner_email=ZOE))
    minutes_service.circulate(minuted.minutes, minuted.chair)
    [ready] = messages("minutes-ready:")
    assert ready.recipient_email == ZOE
    assert "for a case you lead as lead professional, and an action for you." in ready.text_body
    assert [m.recipient_email for m in messages("actions:")] == [ANNA, ZOE]


def test_the_same_actions_are_not_told_again_when_corrected_minutes_go_out(minuted, coordinator):
    minutes_service.circulate(minuted.minutes, minuted.chair)
    corrected = minutes_service.correct(minuted.meeting, "Spelling of a school", minuted.chair)
    minutes_service.approve(corrected, minuted.chair)
    minutes_service.circulate(corrected, minuted.chair)

    assert len(messages("actions:")) == 2
    # Those not sent the minutes hear of the correction, as members do.
    ready = [m for m in messages("minutes-ready:") if m.recipient_email == ZOE]
    assert "The corrected minutes" in ready[-1].text_body


def test_an_owner_whose_actions_changed_hears_again_and_the_others_do_not(minuted):
    minutes_service.circulate(minuted.minutes, minuted.chair)
    db.session.execute(
        update(Action).where(Action.owner_email == DEV).values(due_on=date(2027, 2, 9))
    )
    corrected = minutes_service.correct(minuted.meeting, "Dev's date", minuted.chair)
    minutes_service.approve(corrected, minuted.chair)
    minutes_service.circulate(corrected, minuted.chair)

    emails = [(m.recipient_email, m.text_body) for m in messages("actions:")]
    assert [address for address, _body in emails] == [ANNA, DEV, DEV]
    assert "- 1 action due by Tuesday 9 February 2027" in emails[-1][1]


def test_done_actions_are_not_counted(minuted):
    db.session.execute(
        update(Action)
        .where(Action.owner_email == ANNA, Action.due_on == date(2027, 2, 15))
        .values(status="done")
    )
    minutes_service.circulate(minuted.minutes, minuted.chair)
    anna = messages("actions:")[0]
    assert "The forum agreed 2 actions for you" in anna.text_body
    assert "15 February" not in anna.text_body
