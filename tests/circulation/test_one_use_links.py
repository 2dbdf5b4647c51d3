"""A one-use link (an invitation, a password reset) is stored only as its token's hash (issue
15, point 2), yet its email must carry it until it goes: the outbox erases such a body once the
message is sent or given up, so after that the token is in no table at all."""

import email
import re
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from maf.auth import services as auth_services
from maf.auth.models import Role
from maf.circulation.models import DeliveryStatus, OutboxMessage
from maf.circulation.outbox import ERASED_BODY, OutboxError, enqueue, retry, send_pending
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.invitations import services as invitations

TOKEN = re.compile(r"/(?:invitations|sign-in/reset)/([A-Za-z0-9_.-]{30,})")


def _tables_holding(text: str) -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            if text in " ".join(str(value) for value in row):
                found.append(table.name)
    return found


def _invite(admin):
    invitations.invite(
        email="nadia.newcomer@example.org",
        name="Nadia Newcomer",
        roles=[Role.PRACTITIONER],
        districts=[],
        agency=None,
        invited_by=admin,
    )
    db.session.commit()


def _reset(user):
    from flask import current_app

    with current_app.test_request_context():  # as the forgotten-password page asks
        auth_services.request_password_reset(user.email)


@pytest.mark.parametrize("send", [_invite, _reset], ids=["invitation", "password reset"])
def test_the_link_arrives_and_then_no_table_holds_its_token(database, smtp_server, make_user, send):
    person = make_user(Role.ADMIN, email="alex.admin@example.org")
    send(person)
    [queued] = db.session.scalars(select(OutboxMessage)).all()
    [token] = set(TOKEN.findall(queued.text_body))
    assert _tables_holding(token) == ["outbox_message"]  # only until it is sent

    assert send_pending(worker="test", now=utcnow()).sent == 1
    [received] = smtp_server.received
    arrived = email.message_from_bytes(received.data, policy=policy.default)
    assert token in arrived.get_body(("plain",)).get_content()  # the person got their link
    db.session.expire_all()
    assert _tables_holding(token) == []
    assert queued.status == DeliveryStatus.SENT
    assert (queued.text_body, queued.html_body) == (ERASED_BODY, "")


def test_a_link_given_up_on_is_erased_and_cannot_be_sent_again(database, smtp_server, make_user):
    admin = make_user(Role.ADMIN, email="alex.admin@example.org")
    smtp_server.refuse_recipient("nadia.newcomer@example.org", "550 5.1.1 No such user here")
    _invite(admin)
    assert send_pending(worker="test", now=utcnow()).sent == 0
    [message] = db.session.scalars(select(OutboxMessage)).all()
    db.session.refresh(message)
    assert message.status == DeliveryStatus.FAILED
    assert message.text_body == ERASED_BODY
    # Sending it again would send the note, not the link: a new invitation is the way.
    with pytest.raises(OutboxError, match="send a new one"):
        retry(message)


def test_other_emails_keep_their_body_once_sent(database, smtp_server):
    enqueue(
        dedupe_key="minutes:7:priya",
        recipient_email="priya@example.org",
        recipient_name="Priya",
        subject="Minutes",
        text_body="The minutes are attached.",
    )
    db.session.commit()
    send_pending(worker="test", now=utcnow() + timedelta(seconds=1))
    message = db.session.scalar(select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == DeliveryStatus.SENT
    assert message.text_body == "The minutes are attached."
