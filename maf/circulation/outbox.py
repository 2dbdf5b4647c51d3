"""The outbox: email written in the same transaction as the change that caused it, sent later.

`enqueue` adds a message to the caller's transaction, so an agenda circulated and its emails
stand or fall together. `send_pending` (the sender job) delivers what is due, one message at a
time:

* it claims a message with an atomic `UPDATE ... WHERE status = 'pending'` and commits the claim
  before talking to the mail server, so two senders never send the same message (this needs no
  SKIP LOCKED and works on SQLite and PostgreSQL alike);
* a temporary failure (connection dropped, 4xx, timeout) puts the message back with a growing
  delay; a permanent one (5xx) marks it failed at once;
* a message a sender claimed and never finished (the process was killed) becomes "uncertain"
  after a lease: the server may already have accepted it, so it is never resent by itself. A
  coordinator can `retry` it; the copy has the same Message-ID, so a receiving system can drop it.

Nothing personal is logged: only message ids, statuses and SMTP reply codes.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from maf.circulation.models import DeliveryStatus, OutboxAttachment, OutboxMessage
from maf.dbtypes import utcnow
from maf.extensions import db

if TYPE_CHECKING:
    from maf.cases.models import Case

log = logging.getLogger(__name__)

# CRLF line endings, as SMTP wants, and every non-ASCII body encoded (quoted-printable or
# base64), so no server that lacks 8BITMIME can mangle a message. The To and Subject headers,
# encoded and folded by `_encoded`, are written as they are, never refolded.
MIME_POLICY = email.policy.SMTP.clone(cte_type="7bit", refold_source="none")

BACKOFF_CAP = timedelta(hours=6)
ERROR_LENGTH = 200
ERASED_BODY = "Erased once sent: this email held a one-use link."
_CALENDAR_METHOD = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)


class OutboxError(Exception):
    """A request the outbox cannot carry out, e.g. retrying a message already sent."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0  # put back after a temporary failure
    failed: int = 0  # permanently refused, or out of attempts
    uncertain: int = 0  # abandoned claims given up on in this run
    skipped: int = 0  # due, but another sender claimed it first
    # Why the run stopped before the end of its batch (the mail server could not be reached or
    # dropped the connection), or "" when it did not. No personal data.
    stopped: str = ""


# --- queueing ---------------------------------------------------------------------------------


def enqueue(
    *,
    dedupe_key: str,
    recipient_email: str,
    recipient_name: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    calendar: bytes | None = None,
    calendar_method: str | None = None,
    attachments: Sequence[Attachment] = (),
    meeting_id: int | None = None,
    erase_once_sent: bool = False,
    concerning: Iterable[Case] = (),
) -> OutboxMessage | None:
    """Add a message to the current transaction; the caller commits it with its change.

    `concerning`: the cases the email is about (a presenter's slot, a progress request, every
    case on the agenda or minutes attached), recorded in `outbox_message_case` so the email
    can be listed for a child and redacted when the child's record is destroyed.

    `erase_once_sent` for a body that carries a one-use link: it is held only until the
    message is sent or given up, then replaced by ERASED_BODY.

    Returns None, adding nothing, when a message with this dedupe key already exists (or is
    committed by a concurrent transaction meanwhile, which the unique constraint catches).
    `calendar` is the iCalendar bytes with CRLF line endings, sent unchanged; its METHOD line
    decides `calendar_method` when that is not given, and must agree with it when it is.
    """
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", recipient_email):
        raise ValueError("recipient_email is not an email address")
    calendar_text = None
    if calendar is not None:
        found = _CALENDAR_METHOD.search(calendar)
        if found is None:
            raise ValueError("the calendar has no METHOD line")
        method_in_calendar = found.group(1).decode("ascii").upper()
        if calendar_method is not None and calendar_method.upper() != method_in_calendar:
            raise ValueError(
                f"calendar_method {calendar_method!r} disagrees with the calendar's METHOD"
            )
        calendar_method = method_in_calendar
        calendar_text = calendar.decode("utf-8")  # kept as text; CRLF survive the database
    elif calendar_method is not None:
        raise ValueError("calendar_method given without a calendar")

    message = OutboxMessage(
        dedupe_key=dedupe_key,
        meeting_id=meeting_id,
        recipient_email=recipient_email,
        recipient_name=recipient_name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        calendar=calendar_text,
        calendar_method=calendar_method,
        status=DeliveryStatus.PENDING,
        attempts=0,
        last_error="",
        next_attempt_at=utcnow(),
        erase_once_sent=erase_once_sent,
        attachments=[
            OutboxAttachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                content=attachment.content,
            )
            for attachment in attachments
        ],
        cases=list({case.id: case for case in concerning}.values()),
    )
    # A savepoint, so losing a race for the key leaves the caller's transaction usable.
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        if db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        ):
            return None
        raise
    return message


def retry(message: OutboxMessage) -> None:
    """A coordinator's retry of a failed or uncertain message: due now, attempts kept.

    The caller commits. A retried message that fails temporarily again is failed at once if it
    had used up its attempts: each retry buys one more try.
    """
    if message.status not in (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN):
        raise OutboxError(f"a message that is {message.status.label.lower()} cannot be retried")
    if message.erase_once_sent and message.text_body == ERASED_BODY:
        raise OutboxError("its one-use link was erased: send a new one instead")
    message.status = DeliveryStatus.PENDING
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    message.claimed_at = None


# --- the message itself -----------------------------------------------------------------------


def message_id_for(dedupe_key: str, from_address: str) -> str:
    """The same for every copy of a logical message, so a receiver can drop a resent copy."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:40]
    return f"<maf.{digest}@{domain}>"


def build_mime(message: OutboxMessage, from_address: str) -> EmailMessage:
    """multipart/mixed: [multipart/alternative: text/plain, text/html?, text/calendar?] +
    attachments, to the one recipient.

    The calendar goes base64-encoded, so its CRLF line endings arrive byte for byte.
    """
    body = EmailMessage(policy=MIME_POLICY)
    body.set_content(message.text_body)
    if message.html_body:
        body.add_alternative(message.html_body, subtype="html")
    if message.calendar is not None:
        body.add_alternative(
            message.calendar.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": message.calendar_method, "charset": "utf-8"},
        )

    mime = EmailMessage(policy=MIME_POLICY)
    mime["From"] = from_address
    local_part, _, domain = message.recipient_email.rpartition("@")
    to = Address(username=local_part, domain=domain).addr_spec
    if not to.isascii():  # it would need SMTPUTF8, which MAF does not use
        raise ValueError("the recipient's address is not ASCII")
    if message.recipient_name:
        to = f"{_encoded('To', message.recipient_name)}\r\n <{to}>"
    mime.set_raw("To", to)
    mime.set_raw("Subject", _encoded("Subject", message.subject))
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = message_id_for(message.dedupe_key, from_address)
    mime["X-MAF-Dedupe-Key"] = message.dedupe_key
    mime["MIME-Version"] = "1.0"
    mime.make_mixed()
    for part in body.walk():
        del part["MIME-Version"]  # set_content adds one to each part; it belongs at the top
    if body.is_multipart():
        mime.attach(body)
    else:
        # A lone text/plain part: wrap it so the layout is the same for every message.
        alternative = EmailMessage(policy=MIME_POLICY)
        alternative.make_alternative()
        alternative.attach(body)
        mime.attach(alternative)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime


def _encoded(name: str, value: str) -> str:
    """`value` as RFC 2047 encoded words, folded to fit 78 characters a line.

    Python 3.11's folding of these headers drops the quotes round a long display name, so
    that a name like "A <evil@example.com>, B" adds an address, and can lose the space between
    two encoded words (CPython gh-80222, gh-144156); `email.header` folds neither way wrong.
    ASCII is encoded too, so that text which looks like an encoded word stays text.
    """
    if len(value.splitlines()) > 1:  # as the email package refuses: never a second header
        raise ValueError(f"the {name} header would span lines")
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


# --- transports -------------------------------------------------------------------------------


class TemporaryFailure(Exception):
    """Try again later. `connection_lost`: the rest of the batch would fail the same way."""

    def __init__(self, reason: str, *, connection_lost: bool = False):
        super().__init__(reason)
        self.connection_lost = connection_lost


class PermanentFailure(Exception):
    """The server refused this message for good."""


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:ERROR_LENGTH]


class SmtpTransport:
    """One SMTP connection, opened before the first claim and reused for the batch."""

    def __init__(self, config):
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.security = config["SMTP_SECURITY"].strip().lower()
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.timeout = float(config["SMTP_TIMEOUT_SECONDS"])
        if self.security not in {"none", "starttls", "ssl"}:
            raise ValueError("SMTP_SECURITY must be none, starttls or ssl")
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect (and log in); raises TemporaryFailure when the server cannot be used."""
        if self.connection is not None:
            return
        try:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
                    connection.ehlo()
                if self.username:
                    connection.login(self.username, self.password)
            except BaseException:
                connection.close()
                raise
        except smtplib.SMTPResponseException as error:
            raise TemporaryFailure(
                f"mail server refused the session: {error.smtp_code}", connection_lost=True
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(
                f"could not reach the mail server: {type(error).__name__}", connection_lost=True
            ) from None
        self.connection = connection

    def send(self, mime: EmailMessage, envelope_from: str, recipient: str, _message_id) -> None:
        self.open()
        assert self.connection is not None
        data = mime.as_bytes(policy=MIME_POLICY)
        try:
            self.connection.sendmail(envelope_from, [recipient], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            self._fail(code, reply)
        except smtplib.SMTPSenderRefused as error:
            # MAIL FROM refused is about this service's set-up (sender address, relaying,
            # authentication), not the message: keep it, and stop rather than fail the batch.
            raise TemporaryFailure(
                f"mail server refused the sender: {_reply_text(error.smtp_code, error.smtp_error)}",
                connection_lost=True,
            ) from None
        except smtplib.SMTPResponseException as error:  # the data refused
            self._fail(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:  # dropped, timed out, protocol error
            self.close()
            raise TemporaryFailure(
                f"connection to the mail server lost: {type(error).__name__}",
                connection_lost=True,
            ) from None
        except UnicodeEncodeError:  # an address smtplib cannot put on the wire
            self.close()  # the SMTP transaction may be half begun
            raise PermanentFailure("the address cannot be sent over SMTP") from None

    def _fail(self, code: int, reply) -> None:
        reason = _reply_text(code, reply)
        if code == 421:  # the server is closing the connection; smtplib already has
            self.close()
            raise TemporaryFailure(reason, connection_lost=True)
        if 400 <= code < 500:
            raise TemporaryFailure(reason)
        raise PermanentFailure(reason)

    def close(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


class FileTransport:
    """Writes each message to <instance>/outbox/<timestamp>-<id>.eml instead of sending it."""

    def __init__(self, directory: Path, clock):
        self.directory = directory
        self.clock = clock

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TemporaryFailure(
                f"cannot write to the outbox folder: {type(error).__name__}",
                connection_lost=True,
            ) from None

    def send(self, mime: EmailMessage, envelope_from: str, recipient: str, message_id) -> None:
        stamp = self.clock().strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{message_id}.eml"
        partial = path.with_suffix(".eml.part")
        try:
            partial.write_bytes(mime.as_bytes(policy=MIME_POLICY))
            os.replace(partial, path)
        except OSError as error:
            raise TemporaryFailure(
                f"cannot write the message file: {type(error).__name__}", connection_lost=True
            ) from None

    def close(self) -> None:
        pass


def _transport(config, clock):
    name = config["MAIL_TRANSPORT"].strip().lower()
    if name == "smtp":
        return SmtpTransport(config)
    if name == "file":
        return FileTransport(Path(current_app.instance_path) / "outbox", clock)
    raise ValueError("MAIL_TRANSPORT must be smtp or file")


# --- the sender job ---------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8... minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), BACKOFF_CAP)


def send_pending(*, worker: str, now: datetime | None = None, batch_size: int = 50) -> SendReport:
    """Send the messages that are due. Commits as it goes: run it as a job, not in a request.

    `worker` names this sender (host and process, say) in `claimed_by`. `now` is when the run
    starts; times recorded later in the run are `now` plus the time elapsed since.
    """
    config = current_app.config
    started_at = now or utcnow()
    started = time.monotonic()

    def clock() -> datetime:
        return started_at + timedelta(seconds=time.monotonic() - started)

    report = SendReport()
    db.session.commit()  # begin each step below on a fresh transaction
    report.uncertain = _give_up_abandoned_claims(
        started_at - timedelta(minutes=int(config["MAIL_LEASE_MINUTES"]))
    )
    due = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == DeliveryStatus.PENDING,
                OutboxMessage.next_attempt_at <= started_at,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch_size)
        )
    )
    db.session.rollback()
    if not due:
        return report

    from_address = config["MAIL_FROM"]
    envelope_from = parseaddr(from_address)[1]
    max_attempts = int(config["MAIL_MAX_ATTEMPTS"])
    transport = _transport(config, clock)
    try:
        # Reach the server before claiming anything: while it is down, no message uses up an
        # attempt, and every message stays pending.
        try:
            transport.open()
        except TemporaryFailure as failure:
            report.stopped = str(failure)
            log.warning("outbox: mail not sent, %s", failure)
            return report
        for message_id in due:
            if not _claim(message_id, worker, clock()):
                report.skipped += 1
                continue
            outcome, attempts = _deliver(message_id, transport, from_address, envelope_from)
            if outcome is None:
                _finish(message_id, worker, sent=True, at=clock())
                report.sent += 1
                log.info("outbox: message %s sent", message_id)
                continue
            if isinstance(outcome, PermanentFailure):
                _finish(message_id, worker, failed=str(outcome), at=clock())
                report.failed += 1
                log.warning("outbox: message %s failed: %s", message_id, _code(outcome))
                continue
            attempts += 1
            if _finish(
                message_id,
                worker,
                temporary=str(outcome),
                at=clock(),
                attempts=attempts,
                retry=attempts < max_attempts,
            ):
                report.retrying += 1
                log.info("outbox: message %s will be retried: %s", message_id, _code(outcome))
            else:
                report.failed += 1
                log.warning("outbox: message %s failed after its last attempt", message_id)
            if outcome.connection_lost:
                # The rest of the batch stays pending, untouched, for the next run.
                report.stopped = str(outcome)
                break
    finally:
        transport.close()
    return report


def _code(failure: Exception) -> str:
    """The SMTP code or error class at the front of a reason: safe to log."""
    return str(failure).split(" ", 1)[0].rstrip(":")


def _give_up_abandoned_claims(claimed_before: datetime) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.SENDING,
            OutboxMessage.claimed_at < claimed_before,
        )
        .values(
            status=DeliveryStatus.UNCERTAIN,
            last_error="The sender stopped while sending: the message may or may not have gone.",
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    if result.rowcount:
        log.warning("outbox: %s abandoned message(s) marked uncertain", result.rowcount)
    return result.rowcount


def _claim(message_id: int, worker: str, at: datetime) -> bool:
    """Take the message for this worker, or learn that another sender has: one UPDATE."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.next_attempt_at <= at,
        )
        .values(status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=at),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount == 1


def _deliver(message_id, transport, from_address, envelope_from):
    """(None when sent, else the TemporaryFailure or PermanentFailure; attempts before this)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:  # deleted since it was claimed
        db.session.rollback()
        return PermanentFailure("the message no longer exists"), 0
    attempts = message.attempts
    try:
        mime = build_mime(message, from_address)
    except Exception as error:  # nothing was sent: failed (and retryable), never uncertain
        db.session.rollback()
        return PermanentFailure(f"the message could not be built: {type(error).__name__}"), attempts
    recipient = message.recipient_email
    # End the read before talking to the server: no transaction is held open meanwhile, and
    # the outcome's UPDATE starts a fresh one (on SQLite, a stale snapshot could not write).
    db.session.rollback()
    try:
        transport.send(mime, envelope_from, recipient, message_id)
    except (TemporaryFailure, PermanentFailure) as failure:
        return failure, attempts
    return None, attempts


def _erased_if_asked() -> dict:
    return {
        column: case((OutboxMessage.erase_once_sent, erased), else_=getattr(OutboxMessage, column))
        for column, erased in (("text_body", ERASED_BODY), ("html_body", ""))
    }


def _finish(
    message_id: int,
    worker: str,
    *,
    at: datetime,
    sent: bool = False,
    failed: str | None = None,
    temporary: str | None = None,
    attempts: int = 0,
    retry: bool = False,
) -> bool:
    """Record the outcome of this worker's claim; for a temporary failure, True if it will be
    retried. Only the claim's holder writes, and only while the claim stands."""
    claim = (OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
    if sent:
        # Also over an "uncertain" set meanwhile by another sender: we know it went.
        values = dict(status=DeliveryStatus.SENT, sent_at=at, last_error="")
        statuses = (DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN)
        retrying = False
    elif failed is not None:
        values = dict(status=DeliveryStatus.FAILED, last_error=failed[:ERROR_LENGTH])
        statuses = (DeliveryStatus.SENDING,)
        retrying = False
    else:
        # `attempts` cannot have changed since it was read: the row was held by this claim.
        retrying = retry
        values = dict(
            attempts=attempts,
            last_error=(temporary or "")[:ERROR_LENGTH],
            status=DeliveryStatus.PENDING if retrying else DeliveryStatus.FAILED,
            next_attempt_at=at + backoff(attempts),
        )
        statuses = (DeliveryStatus.SENDING,)
    if not retrying:  # sent or given up: a one-use link it carried is held no longer
        values |= _erased_if_asked()
    # The first statement of its transaction, so SQLite takes the write lock on a fresh snapshot.
    result = db.session.execute(
        update(OutboxMessage).where(*claim, OutboxMessage.status.in_(statuses)).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    if result.rowcount != 1:
        log.warning("outbox: message %s was no longer held by this sender", message_id)
    return retrying
