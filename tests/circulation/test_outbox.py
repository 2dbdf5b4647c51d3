"""The outbox against a real SMTP server (aiosmtpd, tests/circulation/conftest.py).

Most tests run in the shared rolled-back transaction: the sender's commits become savepoints.
The two-senders test needs real commits seen by two connections, so it builds its own migrated
scratch database, as tests/agendas/test_capacity_concurrency.py does.
"""

import email
import email.policy
import io
import socket
import threading
from datetime import timedelta

import docx
import pytest
from sqlalchemy import func, select

from maf.circulation import outbox
from maf.circulation.models import DeliveryStatus, OutboxMessage
from maf.circulation.outbox import Attachment, OutboxError, enqueue, retry, send_pending
from maf.dbtypes import utcnow
from maf.extensions import db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CALENDAR = (
    b"BEGIN:VCALENDAR\r\n"
    b"VERSION:2.0\r\n"
    b"PRODID:-//Leicestershire County Council//MAF//EN\r\n"
    b"METHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\n"
    b"UID:meeting-12@maf.example.org\r\n"
    b"SEQUENCE:0\r\n"
    b"DTSTAMP:20261201T090000Z\r\n"
    b"DTSTART:20270112T093000Z\r\n"
    b"DTEND:20270112T120000Z\r\n"
    b"SUMMARY:Charnwood multi-agency forum\r\n"
    b"LOCATION:Loughborough Council Offices\\, Room 2\r\n"
    b"END:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)
THREAD_TIMEOUT = 10.0


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Charnwood multi-agency forum: agenda", level=1)
    document.add_paragraph("12 January 2027, 9:30am")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _queue(key: str, **fields) -> OutboxMessage | None:
    return enqueue(
        dedupe_key=key,
        recipient_email=fields.pop("recipient_email", "zoe.adeyemi@example.org"),
        recipient_name=fields.pop("recipient_name", "Zoë Adeyemi"),
        subject=fields.pop("subject", "Agenda for 12 January 2027 — Zoë"),
        text_body=fields.pop("text_body", "Dear Zoë,\n\nThe agenda is attached.\n"),
        **fields,
    )


def _parsed(received) -> email.message.EmailMessage:
    return email.message_from_bytes(received.data, policy=email.policy.default)


def _keys(handler) -> list[str]:
    return [_parsed(received)["X-MAF-Dedupe-Key"] for received in handler.received]


def _status(key: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def _queue_and_commit(*keys: str) -> None:
    for key in keys:
        _queue(key)
    db.session.commit()


# --- what arrives ---------------------------------------------------------------------------


def test_a_message_with_a_calendar_and_a_document_arrives_once_intact(database, smtp_server):
    document = _docx_bytes()
    _queue(
        "agenda:12:zoe",
        html_body="<p>Dear Zoë,</p><p>The agenda is attached.</p>",
        calendar=CALENDAR,
        attachments=[Attachment("Agenda 12 January 2027.docx", DOCX, document)],
    )
    db.session.commit()

    report = send_pending(worker="test", now=utcnow())

    assert (report.sent, report.retrying, report.failed, report.stopped) == (1, 0, 0, "")
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.mail_from == "maf-no-reply@maf.example.org"
    assert received.rcpt_tos == ("zoe.adeyemi@example.org",)
    message = _parsed(received)
    assert [str(address) for address in message["To"].addresses] == [
        "Zoë Adeyemi <zoe.adeyemi@example.org>"
    ]
    assert message["Cc"] is None and message["Bcc"] is None
    assert message["Subject"] == "Agenda for 12 January 2027 — Zoë"
    assert message["From"] == "Charnwood MAF <maf-no-reply@maf.example.org>"
    assert message["Date"] is not None
    assert message["X-MAF-Dedupe-Key"] == "agenda:12:zoe"
    assert message["Message-ID"] == outbox.message_id_for("agenda:12:zoe", message["From"])

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    # Text travels in canonical form, lines ending CRLF.
    assert plain.get_content().replace("\r\n", "\n") == "Dear Zoë,\n\nThe agenda is attached.\n"
    assert html.get_content_type() == "text/html"
    assert "Dear Zoë" in html.get_content()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    payload = calendar.get_payload(decode=True)
    assert payload == CALENDAR  # byte for byte: CRLF endings intact
    assert b"\r\nMETHOD:REQUEST\r\n" in payload and b"\n" not in payload.replace(b"\r\n", b"")

    assert attachment.get_content_type() == DOCX
    assert attachment.get_filename() == "Agenda 12 January 2027.docx"
    assert attachment.get_payload(decode=True) == document

    sent = _status("agenda:12:zoe")
    assert sent.status == DeliveryStatus.SENT
    assert sent.sent_at is not None and sent.claimed_by == "test"
    # Nothing more to send.
    assert send_pending(worker="test", now=utcnow() + timedelta(days=1)).sent == 0
    assert len(smtp_server.received) == 1


def test_the_same_dedupe_key_is_queued_and_delivered_once(database, smtp_server):
    first = _queue("minutes:7:priya")
    assert first is not None and first.id is not None
    assert _queue("minutes:7:priya", subject="Another subject") is None
    db.session.commit()
    assert _queue("minutes:7:priya") is None  # also once committed
    db.session.commit()

    count = db.session.scalar(
        select(func.count()).where(OutboxMessage.dedupe_key == "minutes:7:priya")
    )
    assert count == 1
    send_pending(worker="test", now=utcnow())
    send_pending(worker="test", now=utcnow() + timedelta(hours=1))
    assert _keys(smtp_server) == ["minutes:7:priya"]


def test_the_message_id_is_stable_for_a_key(database):
    message = _queue("invite:3:slot:9")
    sender = "MAF <maf-no-reply@maf.example.org>"
    first = outbox.build_mime(message, sender)
    again = outbox.build_mime(message, sender)
    other = outbox.build_mime(_queue("invite:3:slot:10"), sender)
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].endswith("@maf.example.org>")
    assert first["X-MAF-Dedupe-Key"] == "invite:3:slot:9"


def test_a_calendar_whose_method_disagrees_is_refused(database):
    with pytest.raises(ValueError):
        _queue("cancel:1", calendar=CALENDAR, calendar_method="CANCEL")
    cancelled = _queue("cancel:2", calendar=CALENDAR.replace(b"METHOD:REQUEST", b"METHOD:CANCEL"))
    assert cancelled.calendar_method == "CANCEL"


# --- temporary and permanent failures -------------------------------------------------------


def test_a_421_mid_batch_loses_and_duplicates_nothing_and_backs_off_longer(database, smtp_server):
    _queue_and_commit("a", "b", "c")
    start = utcnow()
    smtp_server.script("accept", "421 4.3.2 Service shutting down")

    first = send_pending(worker="test", now=start)

    assert (first.sent, first.retrying) == (1, 1)
    assert first.stopped.startswith("421")
    assert _keys(smtp_server) == ["a"]
    b = _status("b")
    assert (b.status, b.attempts) == (DeliveryStatus.PENDING, 1)
    assert b.last_error == "421 4.3.2 Service shutting down"
    first_wait = b.next_attempt_at - start
    assert timedelta(minutes=1) <= first_wait < timedelta(minutes=1, seconds=5)
    c = _status("c")  # the rest of the batch is left as it was
    assert (c.status, c.attempts, c.claimed_by) == (DeliveryStatus.PENDING, 0, None)

    # Before b's back-off is over only c goes; then b fails again and waits twice as long.
    assert send_pending(worker="test", now=start + timedelta(seconds=30)).sent == 1
    assert _keys(smtp_server) == ["a", "c"]
    smtp_server.script("421 4.3.2 Service shutting down")
    later = start + timedelta(minutes=2)
    send_pending(worker="test", now=later)
    b = _status("b")
    assert (b.status, b.attempts) == (DeliveryStatus.PENDING, 2)
    second_wait = b.next_attempt_at - later
    assert timedelta(minutes=2) <= second_wait < timedelta(minutes=2, seconds=5)

    assert send_pending(worker="test", now=later + timedelta(minutes=3)).sent == 1
    assert sorted(_keys(smtp_server)) == ["a", "b", "c"]
    assert _status("b").status == DeliveryStatus.SENT


def test_a_connection_dropped_mid_batch_loses_and_duplicates_nothing(database, smtp_server):
    _queue_and_commit("a", "b", "c")
    start = utcnow()
    smtp_server.script("accept", "drop")

    first = send_pending(worker="test", now=start)

    assert (first.sent, first.retrying) == (1, 1)
    assert "connection to the mail server lost" in first.stopped
    assert _keys(smtp_server) == ["a"]
    b = _status("b")
    assert (b.status, b.attempts) == (DeliveryStatus.PENDING, 1)
    assert _status("c").status == DeliveryStatus.PENDING

    second = send_pending(worker="test", now=start + timedelta(minutes=2))
    assert second.sent == 2
    assert sorted(_keys(smtp_server)) == ["a", "b", "c"]


def test_a_4xx_for_one_message_does_not_stop_the_batch_and_attempts_run_out(
    app, database, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    _queue_and_commit("a", "b")
    start = utcnow()
    smtp_server.script("451 4.3.0 Mailbox temporarily unavailable")

    first = send_pending(worker="test", now=start)
    assert (first.sent, first.retrying, first.stopped) == (1, 1, "")
    assert _keys(smtp_server) == ["b"]

    smtp_server.script("451 4.3.0 Mailbox temporarily unavailable")
    second = send_pending(worker="test", now=start + timedelta(minutes=2))
    assert (second.sent, second.failed) == (0, 1)
    a = _status("a")
    assert (a.status, a.attempts) == (DeliveryStatus.FAILED, 2)
    assert a.last_error == "451 4.3.0 Mailbox temporarily unavailable"
    assert send_pending(worker="test", now=start + timedelta(days=1)).sent == 0
    assert _keys(smtp_server) == ["b"]


def test_a_550_fails_the_message_at_once_with_the_reason(database, smtp_server):
    _queue_and_commit("spam", "fine")
    _queue("nobody", recipient_email="nobody@example.org")
    db.session.commit()
    smtp_server.script("550 5.7.1 Message rejected")
    smtp_server.refuse_recipient("nobody@example.org", "550 5.1.1 No such user here")

    report = send_pending(worker="test", now=utcnow())

    assert (report.sent, report.failed, report.retrying) == (1, 2, 0)
    spam = _status("spam")
    assert (spam.status, spam.attempts) == (DeliveryStatus.FAILED, 0)
    assert spam.last_error == "550 5.7.1 Message rejected"
    nobody = _status("nobody")
    assert nobody.status == DeliveryStatus.FAILED
    assert nobody.last_error == "550 5.1.1 No such user here"
    # Not retried by the sender.
    assert send_pending(worker="test", now=utcnow() + timedelta(days=1)).sent == 0
    assert _keys(smtp_server) == ["fine"]


def test_a_refused_sender_stops_the_batch_without_failing_messages(database, smtp_server):
    _queue_and_commit("a", "b")
    smtp_server.refuse_sender("530 5.7.0 Authentication required")

    report = send_pending(worker="test", now=utcnow())

    assert (report.sent, report.failed, report.retrying) == (0, 0, 1)
    assert report.stopped == "mail server refused the sender: 530 5.7.0 Authentication required"
    assert (_status("a").status, _status("a").attempts) == (DeliveryStatus.PENDING, 1)
    assert (_status("b").status, _status("b").attempts) == (DeliveryStatus.PENDING, 0)

    smtp_server.refuse_sender(None)
    assert send_pending(worker="test", now=utcnow() + timedelta(minutes=2)).sent == 2
    assert sorted(_keys(smtp_server)) == ["a", "b"]


def test_a_message_that_cannot_be_built_fails_unsent_and_the_batch_goes_on(database, smtp_server):
    _queue("broken", subject="Agenda\r\nBcc: someone@example.org")
    _queue("fine")
    db.session.commit()

    report = send_pending(worker="test", now=utcnow())

    assert (report.sent, report.failed) == (1, 1)
    assert _status("broken").status == DeliveryStatus.FAILED
    assert _status("broken").last_error == "the message could not be built: ValueError"
    assert _keys(smtp_server) == ["fine"]


def test_an_unreachable_server_leaves_everything_pending_without_using_an_attempt(
    app, database, smtp_server, monkeypatch
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "SMTP_PORT", closed_port)
    _queue_and_commit("a")

    report = send_pending(worker="test", now=utcnow())

    assert report.sent == 0 and "could not reach the mail server" in report.stopped
    a = _status("a")
    assert (a.status, a.attempts, a.claimed_by) == (DeliveryStatus.PENDING, 0, None)


# --- a sender that died ---------------------------------------------------------------------


def test_a_killed_sender_leaves_the_message_uncertain_until_a_coordinator_retries(
    database, smtp_server
):
    _queue_and_commit("abandoned", "recent")
    start = utcnow()
    claims = [(_status("abandoned"), start - timedelta(minutes=20)), (_status("recent"), start)]
    for message, claimed in claims:
        message.status = DeliveryStatus.SENDING
        message.claimed_by = "sender-that-died"
        message.claimed_at = claimed
    db.session.commit()

    report = send_pending(worker="test", now=start + timedelta(minutes=1))

    assert (report.uncertain, report.sent) == (1, 0)
    assert smtp_server.received == []
    abandoned = _status("abandoned")
    assert abandoned.status == DeliveryStatus.UNCERTAIN
    assert "may or may not have gone" in abandoned.last_error
    assert _status("recent").status == DeliveryStatus.SENDING  # its lease is still running
    # Never resent by itself.
    assert send_pending(worker="test", now=start + timedelta(hours=2)).sent == 0
    assert smtp_server.received == []

    retry(abandoned)
    db.session.commit()
    assert _status("abandoned").status == DeliveryStatus.PENDING

    assert send_pending(worker="test", now=utcnow()).sent == 1
    assert _keys(smtp_server) == ["abandoned"]
    assert _status("abandoned").status == DeliveryStatus.SENT


def test_only_failed_or_uncertain_messages_can_be_retried(database, smtp_server):
    _queue_and_commit("a")
    send_pending(worker="test", now=utcnow())
    with pytest.raises(OutboxError):
        retry(_status("a"))


# --- two senders at once --------------------------------------------------------------------


@pytest.fixture
def scratch_app(make_scratch_app, smtp_server):
    """An app on its own migrated database, where commits are real, mailing the test server."""
    return make_scratch_app("outbox", **smtp_server.mail_config)


def test_two_senders_at_once_deliver_every_message_exactly_once(
    scratch_app, smtp_server, monkeypatch
):
    keys = [f"agenda:1:member:{number}" for number in range(20)]
    with scratch_app.app_context():
        for number, key in enumerate(keys):
            _queue(key, recipient_email=f"member{number}@example.org")
        db.session.commit()
        db.session.remove()
    now = utcnow()
    # Both senders have listed the 20 due messages before either claims one, so they race for
    # every claim.
    listed = threading.Barrier(2, timeout=THREAD_TIMEOUT)
    first_claim = threading.local()
    real_claim = outbox._claim

    def claim_after_both_listed(*args, **kwargs):
        if not getattr(first_claim, "done", False):
            first_claim.done = True
            listed.wait()
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(outbox, "_claim", claim_after_both_listed)
    reports: dict[str, object] = {}

    def sender(name: str) -> None:
        with scratch_app.app_context():
            try:
                reports[name] = send_pending(worker=name, now=now)
            except BaseException as error:  # noqa: BLE001 (reported by the main thread)
                reports[name] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a sender is stuck"

    one, two = reports["one"], reports["two"]
    assert isinstance(one, outbox.SendReport), repr(one)
    assert isinstance(two, outbox.SendReport), repr(two)
    assert one.sent + two.sent == 20
    # Each saw every message due and either sent it or found it claimed by the other.
    assert one.sent + one.skipped == two.sent + two.skipped == 20
    assert sorted(_keys(smtp_server)) == sorted(keys)  # exactly once each
    with scratch_app.app_context():
        statuses = db.session.execute(select(OutboxMessage.status, OutboxMessage.claimed_by))
        rows = statuses.all()
        assert {status for status, _ in rows} == {DeliveryStatus.SENT}
        assert sum(worker == "one" for _, worker in rows) == one.sent
        db.session.remove()


# --- the file transport ---------------------------------------------------------------------


def test_the_file_transport_writes_a_readable_eml(app, database, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "file")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    queued = _queue("agenda:5:zoe", calendar=CALENDAR)
    db.session.commit()
    message_id = queued.id

    report = send_pending(worker="test", now=utcnow())

    assert report.sent == 1
    files = list((tmp_path / "outbox").iterdir())
    assert [path.name.endswith(f"-{message_id}.eml") for path in files] == [True]
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Agenda for 12 January 2027 — Zoë"
    assert message["X-MAF-Dedupe-Key"] == "agenda:5:zoe"
    calendar = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
    assert calendar.get_payload(decode=True) == CALENDAR
    assert _status("agenda:5:zoe").status == DeliveryStatus.SENT
