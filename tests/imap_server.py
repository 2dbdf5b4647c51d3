"""A real IMAP server for tests: Debian's dovecot-imapd (/usr/sbin/dovecot, 2.3), started as a
child process with its own configuration, one user and one maildir, on a free port of
127.0.0.1, plain-text login (loopback only), stopped at the end.

    from tests.imap_server import imap_server  # the fixture; or, without pytest:
    with running_imap_server() as server:
        server.append(raw_email_bytes)         # IMAP APPEND into INBOX, unseen
        server.url                             # imap://organiser:…@127.0.0.1:PORT/INBOX
        server.messages()                      # [StoredMessage(uid, flags, raw)], in order
        server.stop(); server.start()          # the mailbox goes away and comes back

The configuration, sockets, log and maildir are in a directory of their own under /tmp (the
mail processes run as an unprivileged user when the tests run as root, and pytest's tmp_path
is private to root). Nothing of the machine's own dovecot configuration is read.
"""

import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
USER = "organiser"
PASSWORD = "organiser-mailbox-password"


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: frozenset[str]
    raw: bytes

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accounts() -> tuple[str, str, str]:
    """(login user, internal user, mail user): dovecot's own users when run as root (it will
    not read mail as root), otherwise the user running the tests for all three."""
    if os.geteuid() == 0:
        return "dovenull", "dovecot", "nobody"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


class ImapServer:
    def __init__(self, user: str = USER, password: str = PASSWORD):
        self.user, self.password = user, password
        self.host, self.port = "127.0.0.1", _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="maf-imap-"))
        self.directory.chmod(0o755)
        self._process: subprocess.Popen | None = None
        self._configure()

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    @property
    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _configure(self) -> None:
        login_user, internal_user, mail_user = _accounts()
        mail = pwd.getpwnam(mail_user)
        home = self.directory / "home"
        home.mkdir()
        os.chown(home, mail.pw_uid, mail.pw_gid)
        (self.directory / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        (self.directory / "dovecot.conf").write_text(
            f"""
protocols = imap
listen = {self.host}
base_dir = {self.directory}/run
state_dir = {self.directory}/state
log_path = {self.directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {mail.pw_uid}
last_valid_uid = {mail.pw_uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.directory}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
        )

    def start(self, timeout: float = 15) -> None:
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"dovecot stopped: {self._process.stderr.read().decode()}\n{self.log}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not accept connections in {timeout} s\n{self.log}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None:
            self._process.stderr.close()
        self._process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    @contextmanager
    def _connection(self) -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            connection.login(self.user, self.password)
            connection.select("INBOX")
            yield connection
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                connection.logout()

    def append(self, raw: bytes, flags: str = "") -> None:
        """Deliver one message into INBOX, unseen unless `flags` says otherwise."""
        with self._connection() as connection:
            status, detail = connection.append("INBOX", flags or None, None, raw)
            assert status == "OK", detail

    def messages(self) -> list[StoredMessage]:
        """Every message in INBOX with its flags, read without marking anything seen."""
        with self._connection() as connection:
            status, data = connection.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            if status != "OK" or data == [None]:
                return []
            stored = []
            for part in data:
                if not isinstance(part, tuple):
                    continue
                head, raw = part
                uid = int(re.search(rb"UID (\d+)", head).group(1))
                flags = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()
                stored.append(StoredMessage(uid, frozenset(flags), raw))
            return sorted(stored, key=lambda message: message.uid)


@contextmanager
def running_imap_server(user: str = USER, password: str = PASSWORD) -> Iterator[ImapServer]:
    server = ImapServer(user, password)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """A running dovecot with an empty INBOX, for one test."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(f"{DOVECOT} is missing: apt-get install dovecot-imapd")
    with running_imap_server() as server:
        yield server
