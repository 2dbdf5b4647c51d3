"""The follow-up emails as they arrive at a real SMTP server (aiosmtpd), and the daily job that
sends the reminders: no child's name and no action's description in any header or part."""

from datetime import date
from email import message_from_bytes, policy

from sqlalchemy import select

from maf import jobs
from maf.circulation.outbox import send_pending
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.notifications.followup import after_minutes_circulated
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import Action
from tests.notifications.conftest import ANNA, CHILDREN, DESCRIPTIONS, DEV, ZOE, messages


def _arrived(smtp_server):
    send_pending(worker="test", now=utcnow())
    return [message_from_bytes(r.data, policy=policy.default) for r in smtp_server.received]


def _everything_in(mail) -> str:
    parts = [f"{name}: {value}" for name, value in mail.items()]
    parts += [part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"]
    return "\n".join(parts)


def test_what_arrives_after_the_minutes_names_no_child_and_no_action(minuted, smtp_server):
    minutes_service.circulate(minuted.minutes, minuted.chair)
    arrived = {
        (mail["X-MAF-Dedupe-Key"].strip().split(":")[0], mail["To"].addresses[0].addr_spec)
        for mail in _arrived(smtp_server)
    }
    assert {
        ("actions", ANNA),
        ("actions", DEV),
        ("minutes-ready", DEV),
        ("minutes-ready", ZOE),
    } <= arrived
    for mail in _arrived(smtp_server):
        if mail["X-MAF-Dedupe-Key"].strip().startswith(("actions:", "minutes-ready:")):
            text = _everything_in(mail)
            assert [word for word in (*CHILDREN, *DESCRIPTIONS) if word in text] == []
            assert not mail.get_payload()[1:], "no attachment"


def test_telling_the_owners_again_for_the_same_minutes_sends_nothing_more(minuted):
    minutes_service.circulate(minuted.minutes, minuted.chair)
    before = len(messages())
    assert after_minutes_circulated(minuted.minutes) == 0
    assert len(messages()) == before


def test_the_morning_job_sends_the_action_reminders(minuted, app, app_clock, smtp_server):
    minutes_service.circulate(minuted.minutes, minuted.chair)
    home_visit = db.session.scalar(
        select(Action).where(Action.description == "Arrange a home visit")
    )
    home_visit.due_on = date(2027, 3, 25)
    db.session.commit()
    app_clock.london(date(2027, 3, 22), 7, 30)
    jobs.build_scheduler(app)  # the app the stored jobs run in; not started
    jobs.send_reminders()
    [reminder] = [m for m in _arrived(smtp_server) if m["Subject"] == "Action due on 25 March 2027"]
    assert reminder["To"].addresses[0].addr_spec == ANNA
    assert "Thursday 25 March 2027" in _everything_in(reminder)
