"""A real SMTP server (aiosmtpd) for the outbox tests, that can be told to misbehave."""

import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # the message exactly as it arrived


class RecordingHandler:
    """Keeps every message it accepts; can refuse or drop the next ones on request."""

    def __init__(self):
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self._plan: list[str] = []  # what to do with the next messages, first to last
        self._refused: dict[str, str] = {}  # recipient -> reply to RCPT TO
        self._sender_refusal: str | None = None

    def script(self, *actions: str) -> None:
        """What to do with the next messages, in order: "accept", "drop" or a reply to send."""
        with self._lock:
            self._plan.extend(actions)

    def answer_next(self, reply: str, times: int = 1) -> None:
        """Refuse the next `times` messages at DATA with this reply, e.g. "421 ..." or "550 ..."."""
        with self._lock:
            self._plan.extend([reply] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection after the next messages' data, before any reply."""
        with self._lock:
            self._plan.extend(["drop"] * times)

    def refuse_recipient(self, address: str, reply: str) -> None:
        with self._lock:
            self._refused[address] = reply

    def refuse_sender(self, reply: str | None) -> None:
        """Answer every MAIL FROM with this reply (None: accept again)."""
        with self._lock:
            self._sender_refusal = reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self._lock:
            refusal = self._sender_refusal
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            refusal = self._refused.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            action = self._plan.pop(0) if self._plan else "accept"
            if action == "accept":
                self.received.append(
                    Received(
                        mail_from=envelope.mail_from,
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        data=bytes(envelope.original_content),
                    )
                )
                return "250 Message accepted for delivery"
        if action == "drop":
            server.transport.abort()
            return "250 never seen by the client"
        return action


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(app, _smtp_controller):
    """The server's handler, emptied, with the app's mail config pointed at it meanwhile."""
    handler = RecordingHandler()
    _smtp_controller.handler = handler  # each new connection takes the current handler
    overrides = {
        "MAIL_TRANSPORT": "smtp",
        "SMTP_HOST": _smtp_controller.hostname,
        "SMTP_PORT": _smtp_controller.port,
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_TIMEOUT_SECONDS": 5,
        "MAIL_FROM": "Charnwood MAF <maf-no-reply@maf.example.org>",
    }
    handler.mail_config = overrides  # for a test's own app (a scratch database)
    saved = {key: app.config[key] for key in overrides}
    app.config.update(overrides)
    try:
        yield handler
    finally:
        app.config.update(saved)
