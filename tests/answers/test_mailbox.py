"""Answers from calendar programs (issue 17 point 2): MAF reads the forum's organiser mailbox
on a real IMAP server (dovecot, tests/imap_server.py), applies the iTIP REPLYs to invitations it
sent, and leaves everything else unseen for the coordinators who share the mailbox."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from maf.answers import mailbox, services
from maf.answers.models import Answer, AnswerSource, Response
from maf.audit.models import AuditEvent
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MeetingStatus
from tests.answers.replies import plain_email, reply_email

MAYA = ("maya.member@example.org", "Maya Member")
PRIYA = ("priya.patel@example.org", "Priya Patel")
TOM = ("tom.reid@example.org", "Tom Reid")
APPLIED = {"\\Seen", "$MAFApplied"}


@pytest.fixture
def organiser_mailbox(app, imap_server, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANISER_MAILBOX_URL", imap_server.url)
    return imap_server


def _answers(meeting) -> dict[str, Answer]:
    db.session.expire_all()
    return services.answers_by_email(meeting)


def _flags(server) -> list[set[str]]:
    return [set(message.flags) for message in server.messages()]


def test_replies_from_outlook_google_and_thunderbird_are_applied(circulated, organiser_mailbox):
    meeting = circulated.meeting
    organiser_mailbox.append(reply_email("outlook", meeting, *MAYA, "ACCEPTED"))
    # Google writes the address as the person typed it; MAF matches it whatever the case.
    organiser_mailbox.append(
        reply_email("google", meeting, "Priya.Patel@Example.org", "Priya Patel", "DECLINED")
    )
    organiser_mailbox.append(
        reply_email(
            "thunderbird",
            meeting,
            *TOM,
            "DELEGATED",
            delegate=("sam.okoro@example.org", "Sam Okoro"),
        )
    )

    run = mailbox.read_organiser_mailbox()

    assert run.reachable and run.count(mailbox.Outcome.APPLIED) == 3
    answers = _answers(meeting)
    assert {email: (a.response, a.source) for email, a in answers.items()} == {
        MAYA[0]: (Response.ATTENDING, AnswerSource.CALENDAR),
        PRIYA[0]: (Response.NOT_ATTENDING, AnswerSource.CALENDAR),
        TOM[0]: (Response.DEPUTY, AnswerSource.CALENDAR),
    }
    assert answers[TOM[0]].deputy_name == "Sam Okoro"
    assert _flags(organiser_mailbox) == [APPLIED, APPLIED, APPLIED]


def test_a_second_run_applies_nothing_again(circulated, organiser_mailbox):
    organiser_mailbox.append(reply_email("outlook", circulated.meeting, *MAYA, "ACCEPTED"))
    mailbox.read_organiser_mailbox()
    audits = select(AuditEvent.id).where(AuditEvent.action == "meeting_answered")
    before = list(db.session.scalars(audits))

    run = mailbox.read_organiser_mailbox()

    assert run.outcomes == {}
    assert list(db.session.scalars(audits)) == before
    assert len(organiser_mailbox.messages()) == 1  # nothing deleted


def test_what_is_not_an_answer_to_an_invitation_stays_unseen_for_people(
    circulated, organiser_mailbox, coordinator, make_meeting
):
    meeting = circulated.meeting
    organiser_mailbox.append(plain_email(meeting, *MAYA))
    organiser_mailbox.append(
        reply_email("outlook", meeting, *MAYA, "ACCEPTED", uid="meeting-77@elsewhere.example")
    )
    organiser_mailbox.append(
        reply_email("google", meeting, "stranger@example.org", "Sid Stranger", "ACCEPTED")
    )
    organiser_mailbox.append(reply_email("thunderbird", meeting, *PRIYA, "TENTATIVE"))

    run = mailbox.read_organiser_mailbox()

    assert run.count(mailbox.Outcome.APPLIED) == 0
    assert _answers(meeting) == {}
    assert _flags(organiser_mailbox) == [{"$MAFLeft"}] * 4  # unseen: people read them
    # and MAF does not read them again
    assert mailbox.read_organiser_mailbox().outcomes == {}


def test_a_reply_sent_by_someone_else_is_left_for_people(circulated, organiser_mailbox):
    reply = reply_email("outlook", circulated.meeting, *MAYA, "DECLINED")
    forged = reply.replace(
        b"From: Maya Member <maya.member@example.org>", b"From: Mallory <mallory@example.org>"
    )
    assert forged != reply
    organiser_mailbox.append(forged)

    run = mailbox.read_organiser_mailbox()

    assert run.count(mailbox.Outcome.NOT_FROM_ATTENDEE) == 1
    assert _answers(circulated.meeting) == {}
    assert _flags(organiser_mailbox) == [{"$MAFLeft"}]


def test_a_reply_to_a_cancelled_meeting_changes_nothing(circulated, organiser_mailbox, coordinator):
    meeting = circulated.meeting
    forums.change_meeting_status(meeting, MeetingStatus.CANCELLED, coordinator)
    db.session.commit()
    organiser_mailbox.append(reply_email("outlook", meeting, *MAYA, "ACCEPTED"))

    run = mailbox.read_organiser_mailbox()

    assert run.count(mailbox.Outcome.NO_MATCH) == 1
    assert _answers(meeting) == {}
    assert _flags(organiser_mailbox) == [{"$MAFLeft"}]


def test_a_malformed_calendar_is_logged_without_personal_data_and_the_rest_applied(
    circulated, organiser_mailbox, caplog
):
    meeting = circulated.meeting
    organiser_mailbox.append(
        reply_email("outlook", meeting, *MAYA, calendar_template="malformed_reply.ics")
    )
    organiser_mailbox.append(reply_email("outlook", meeting, *TOM, "ACCEPTED"))

    with caplog.at_level(logging.INFO, logger="maf.answers"):
        run = mailbox.read_organiser_mailbox()

    assert run.count(mailbox.Outcome.MALFORMED) == 1
    assert run.count(mailbox.Outcome.APPLIED) == 1
    assert set(_answers(meeting)) == {TOM[0]}
    assert _flags(organiser_mailbox) == [{"$MAFLeft"}, APPLIED]
    logged = [record.getMessage() for record in caplog.records]
    assert any("malformed calendar" in line for line in logged)
    assert not any("@" in line or "Maya" in line or "Tom" in line for line in logged)


def test_an_unreachable_mailbox_is_logged_and_nothing_is_lost(
    circulated, organiser_mailbox, caplog
):
    meeting = circulated.meeting
    organiser_mailbox.append(reply_email("outlook", meeting, *MAYA, "ACCEPTED"))
    organiser_mailbox.stop()

    with caplog.at_level(logging.WARNING, logger="maf.answers"):
        run = mailbox.read_organiser_mailbox()

    assert not run.reachable and _answers(meeting) == {}
    assert any("cannot be read" in record.getMessage() for record in caplog.records)

    organiser_mailbox.start()  # the next run, once the mailbox is back
    assert mailbox.read_organiser_mailbox().count(mailbox.Outcome.APPLIED) == 1
    assert _answers(meeting)[MAYA[0]].response == Response.ATTENDING


def test_a_refused_login_is_logged_without_the_password(
    app, circulated, organiser_mailbox, monkeypatch, caplog
):
    organiser_mailbox.append(reply_email("outlook", circulated.meeting, *MAYA, "ACCEPTED"))
    wrong = organiser_mailbox.url.replace(organiser_mailbox.password, "not-the-password")
    monkeypatch.setitem(app.config, "ORGANISER_MAILBOX_URL", wrong)

    with caplog.at_level(logging.WARNING, logger="maf.answers"):
        run = mailbox.read_organiser_mailbox()

    assert not run.reachable and _answers(circulated.meeting) == {}
    assert not any("password" in record.getMessage() for record in caplog.records)
    assert _flags(organiser_mailbox) == [set()]


def test_a_message_that_fails_is_read_again_and_does_not_stop_the_others(
    circulated, organiser_mailbox, monkeypatch
):
    meeting = circulated.meeting
    organiser_mailbox.append(reply_email("outlook", meeting, *MAYA, "ACCEPTED"))
    organiser_mailbox.append(reply_email("google", meeting, *PRIYA, "DECLINED"))
    record_answer = services.record_answer
    failures = iter([True])

    def database_gone_once(*args, **kwargs):
        if next(failures, False):
            raise OperationalError("UPDATE", {}, Exception("server closed the connection"))
        return record_answer(*args, **kwargs)

    monkeypatch.setattr(services, "record_answer", database_gone_once)

    first = mailbox.read_organiser_mailbox()

    assert first.count(mailbox.Outcome.APPLIED) == 1
    assert set(_answers(meeting)) == {PRIYA[0]}
    assert _flags(organiser_mailbox) == [set(), APPLIED]  # Maya's is still waiting
    assert mailbox.read_organiser_mailbox().count(mailbox.Outcome.APPLIED) == 1
    assert set(_answers(meeting)) == {MAYA[0], PRIYA[0]}


def test_a_reply_written_before_the_answer_in_force_is_not_applied(circulated, organiser_mailbox):
    meeting = circulated.meeting
    invitation = services.invitation_for(meeting, MAYA[0])
    services.record_answer(meeting, invitation, Response.NOT_ATTENDING, AnswerSource.LINK)
    db.session.commit()
    written_before = utcnow() - timedelta(hours=2)
    organiser_mailbox.append(
        reply_email("outlook", meeting, *MAYA, "ACCEPTED", stamp=written_before)
    )
    organiser_mailbox.append(
        reply_email("thunderbird", meeting, *MAYA, "ACCEPTED", stamp=utcnow() + timedelta(1))
    )

    run = mailbox.read_organiser_mailbox()

    assert (run.count(mailbox.Outcome.STALE), run.count(mailbox.Outcome.APPLIED)) == (1, 1)
    assert _answers(meeting)[MAYA[0]].response == Response.ATTENDING


def test_the_mailbox_address_is_read_from_the_setting():
    address = mailbox.MailboxAddress.parse(
        "imaps://charnwood.forum%40example.gov.uk:p%40ss@outlook.office365.com/INBOX"
    )
    assert (address.secure, address.host, address.port) == (True, "outlook.office365.com", 993)
    assert (address.user, address.password, address.folder) == (
        "charnwood.forum@example.gov.uk",
        "p@ss",
        "INBOX",
    )
    assert mailbox.MailboxAddress.parse("imap://u:p@127.0.0.1").port == 143


def test_no_mailbox_set_reads_nothing(app, circulated, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANISER_MAILBOX_URL", "")
    run = mailbox.read_organiser_mailbox()
    assert run.reachable and run.outcomes == {}
