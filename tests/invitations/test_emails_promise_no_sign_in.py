"""Emails never promise a sign-in the person does not have (issue 15: "a forum member added on
the web gets no account, yet every agenda email tells them to sign in to MAF to read it";
"password resets for members silently send nothing"). Each email that can say "sign in" is
checked both ways: to a member with an account, and to one without."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.auth.models import Role
from maf.circulation import services as circulation
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.invitations.services import can_sign_in
from maf.outcomes import progress
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Outcome
from tests.conftest import at_the_meeting, submit

WITH_ACCOUNT = "zoe@example.org"
WITHOUT_ACCOUNT = "paul@example.org"
PRESENTER_WITHOUT = "eve@example.org"


@pytest.fixture
def meeting(make_meeting, make_user, add_members):
    """A forum with two members, one of whom has an account, and a two-case agenda whose
    presenters are one member with an account and one practitioner without."""
    make_user(Role.PRACTITIONER, name="Zoë Brennan", email=WITH_ACCOUNT)
    meeting = make_meeting(date(2027, 7, 13))
    add_members(meeting.forum, [("Zoë Brennan", WITH_ACCOUNT), ("Paul Dennis", WITHOUT_ACCOUNT)])
    return meeting


@pytest.fixture
def agenda(meeting, make_ready_case, coordinator):
    amy = make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE11 1AA")
    ben = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    return (
        agendas.add_to_agenda(meeting, amy, ItemKind.NEW_CASE, coordinator, "Zoë", WITH_ACCOUNT),
        agendas.add_to_agenda(
            meeting, ben, ItemKind.NEW_CASE, coordinator, "Eve", PRESENTER_WITHOUT
        ),
    )


def _mails(subject_start: str) -> dict[str, OutboxMessage]:
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return {m.recipient_email: m for m in messages if m.subject.startswith(subject_start)}


def _says_sign_in(message: OutboxMessage) -> bool:
    both = (message.text_body + message.html_body).lower()
    return "sign in" in both or "signing in" in both


def _check_both_ways(messages: dict[str, OutboxMessage], with_account, without_account):
    assert _says_sign_in(messages[with_account]), messages[with_account].text_body
    message = messages[without_account]
    assert not _says_sign_in(message), message.text_body
    return message


def test_can_sign_in_means_an_active_account(make_user):
    user = make_user(email="active@example.org")
    assert can_sign_in("Active@Example.org ")
    assert not can_sign_in("nobody@example.org")
    user.active = False
    db.session.commit()
    assert not can_sign_in("active@example.org")


def test_the_agenda_email_offers_the_link_only_to_those_who_can_sign_in(
    meeting, agenda, coordinator
):
    circulation.circulate(meeting, coordinator)
    messages = _mails("Agenda:")
    message = _check_both_ways(messages, WITH_ACCOUNT, WITHOUT_ACCOUNT)
    assert "The agenda for the" in message.text_body and "is ready" in message.text_body
    # No secure email domain is listed, so the document is not attached: they are told whom
    # to ask instead.
    assert message.attachments == []
    assert f"Ask {coordinator.name} ({coordinator.email}) for an account" in message.text_body
    assert "/meetings/" not in message.text_body  # no link to a page they cannot open


def test_slot_change_and_reminder_emails_say_whom_to_ask_instead(meeting, agenda, coordinator):
    circulation.circulate(meeting, coordinator)
    slots = _mails("Your slot")
    message = _check_both_ways(slots, WITH_ACCOUNT, PRESENTER_WITHOUT)
    assert f"Ask {coordinator.name} ({coordinator.email})" in message.text_body
    assert coordinator.email in message.html_body
    forums.reschedule_meeting(
        meeting,
        day=meeting.date,
        start_time=time(13, 0),
        venue=meeting.venue,
        reason="",
        user=coordinator,
    )
    circulation.circulate(meeting, coordinator)
    changed = _mails("Changed")
    message = _check_both_ways(changed, WITH_ACCOUNT, WITHOUT_ACCOUNT)
    assert f"Ask {coordinator.name} ({coordinator.email})" in message.text_body
    assert circulation.queue_reminders(meeting.date - timedelta(days=1)) == 3
    reminders = _mails("Tomorrow")
    message = _check_both_ways(reminders, WITH_ACCOUNT, WITHOUT_ACCOUNT)
    assert coordinator.email in message.text_body


def test_calendar_invitations_promise_no_sign_in(meeting, agenda, coordinator):
    circulation.circulate(meeting, coordinator)
    for message in db.session.scalars(select(OutboxMessage)):
        if message.calendar:
            unfolded = message.calendar.replace("\r\n ", "").lower()
            assert "sign in" not in unfolded, message.subject


def test_the_progress_request_asks_a_lead_without_an_account_to_send_it_instead(
    meeting, coordinator, make_ready_case, make_meeting, make_user
):
    """The lead professional is named by email; only one with an account gets the form link."""
    later = make_meeting(date(2027, 10, 12), forum=meeting.forum)
    sent = {}
    for first, lead_email in (("Amy", WITH_ACCOUNT), ("Ben", "no.account.lead@example.org")):
        case = make_ready_case(first, "Lee", date(2013, 2, 1), "LE11 1AA")
        item = agendas.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
        outcomes.save_item_record(
            item,
            outcomes.ItemDetails(
                outcome=Outcome.CONTINUE,
                next_review_on=later.date,
                lead=outcomes.LeadDetails(
                    kind=LeadKind.PRACTITIONER, name=first, agreed=True, email=lead_email
                ),
                actions=[],
            ),
            coordinator,
        )
        sent[lead_email] = case
    at_the_meeting(meeting)
    outcomes.complete_meeting(meeting, coordinator)
    for case in sent.values():
        agendas.add_to_agenda(later, case, ItemKind.REVIEW, coordinator)
    progress.request_updates(later, coordinator)
    requests = {
        m.recipient_email: m
        for m in db.session.scalars(select(OutboxMessage))
        if m.recipient_email in sent
    }
    message = _check_both_ways(requests, WITH_ACCOUNT, "no.account.lead@example.org")
    assert "/progress/" not in message.text_body
    assert f"send your update to {coordinator.name} ({coordinator.email})" in message.text_body


def test_a_member_without_an_account_who_asks_for_a_password_is_told_how_to_get_one(
    client, meeting, coordinator
):
    member = submit(client, "/sign-in/forgotten", {"email": WITHOUT_ACCOUNT})
    stranger = submit(client, "/sign-in/forgotten", {"email": "stranger@example.org"})
    assert member.status_code == stranger.status_code == 200
    assert member.text.count(WITHOUT_ACCOUNT) == stranger.text.count("stranger@example.org")
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_email == WITHOUT_ACCOUNT)
    ).all()
    assert "there is no account for it" in message.text_body
    assert f"ask {coordinator.name} ({coordinator.email}) to invite you" in message.text_body
    assert not _says_sign_in(message)
    assert (
        db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient_email == "stranger@example.org")
        )
        is None
    )
    # A member with an account gets the reset link, as before.
    submit(client, "/sign-in/forgotten", {"email": WITH_ACCOUNT})
    [reset] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_email == WITH_ACCOUNT)
    ).all()
    assert "/sign-in/reset/" in reset.text_body


def test_no_email_of_a_meetings_life_tells_someone_without_an_account_to_sign_in(
    meeting, agenda, coordinator
):
    """Circulated, a slot taken off, a member removed, the meeting cancelled: the templates
    that never offer a sign-in stay so for everyone."""
    zoes_item, eves_item = agenda
    circulation.circulate(meeting, coordinator)
    agendas.remove_from_agenda(eves_item, coordinator)
    paul = next(m for m in meeting.forum.members if m.email == WITHOUT_ACCOUNT)
    forums.remove_member(paul, coordinator)
    circulation.circulate(meeting, coordinator)
    agendas.remove_from_agenda(zoes_item, coordinator)  # a meeting is cancelled empty
    circulation.cancel_meeting(meeting, "Room unavailable", coordinator)
    messages = db.session.scalars(select(OutboxMessage)).all()
    to_them = [m for m in messages if m.recipient_email in (WITHOUT_ACCOUNT, PRESENTER_WITHOUT)]
    kinds = {m.subject.split(":")[0] for m in to_them}
    assert {"Agenda", "Your slot"} <= kinds and len(kinds) >= 4, kinds
    assert [m.subject for m in to_them if _says_sign_in(m)] == []
