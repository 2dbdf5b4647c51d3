"""What the year-long journey is made of: named steps that count their assertions, the people
(each in a browser context of their own), their mailboxes on a real SMTP server, and what a
Word document says."""

import email
import inspect
import io
import re
import traceback
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy

import pytest
from docx import Document

from maf.circulation.outbox import send_pending
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.outcomes import services as outcomes
from tests.browser.conftest import axe_violations_on
from tests.circulation.test_calendar import icaljs
from tests.conftest import PASSWORD

# Each journey's summary, for the end of the run (conftest.py's pytest_terminal_summary).
JOURNEY_SUMMARIES = pytest.StashKey[list]()


# --- steps that count what they assert --------------------------------------------------------


@dataclass
class Step:
    name: str
    assertions: int = 0
    failure: str | None = None


class Journey:
    """A long story told in named steps. A step that fails is recorded with its message and the
    journey goes on, so one run says every step that fails; the test fails at the end if any
    did. Assertions are made through `check`/`equal`/`contains`/`lacks`, which count them."""

    def __init__(self):
        self.steps: list[Step] = []
        self.current: Step | None = None

    @contextmanager
    def step(self, name: str):
        self.current = Step(name)
        self.steps.append(self.current)
        try:
            yield self.current
        except Exception as error:  # noqa: BLE001 - recorded, reported and failed at the end
            frames = traceback.extract_tb(error.__traceback__)
            here = next(
                (f for f in reversed(frames) if "tests/journeys/test_" in f.filename), frames[-1]
            )
            inside = [f for f in frames if "/maf/" in f.filename]
            where = f"line {here.lineno}: {here.line}"
            if inside and not isinstance(error, AssertionError):
                where += f"; raised in {inside[-1].filename.split('/maf/')[-1]}:{inside[-1].lineno}"
            message = " ".join(str(error).split())
            self.current.failure = f"{type(error).__name__}: {message[:400]} ({where})"
            # Only a session a database error left unusable is rolled back: the test's
            # session holds the savepoint that the live server's commits are nested in, so a
            # rollback here would undo what the people did in their browsers.
            if not db.session.is_active:
                db.session.rollback()
            db.session.expire_all()
        finally:
            self.current = None

    def check(self, condition, message: str):
        self.current.assertions += 1
        assert condition, message

    def equal(self, actual, expected, message: str):
        self.current.assertions += 1
        assert actual == expected, f"{message}: expected {expected!r}, got {actual!r}"

    def contains(self, text: str, fragment: str, where: str):
        self.current.assertions += 1
        assert fragment in text, f"{where} should say {fragment!r}; it says: {text[:1500]!r}"

    def lacks(self, text: str, fragment: str, where: str):
        self.current.assertions += 1
        assert fragment not in text, (
            f"{where} should not say {fragment!r}; it says: {text[:1500]!r}"
        )

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if s.failure]

    def fail_if_any_failed(self):
        """At the end of the story: the test fails, naming every step that did."""
        if self.failures:
            pytest.fail(
                f"{len(self.failures)} of {len(self.steps)} journey steps failed:\n"
                + "\n".join(f"- {s.name}: {s.failure}" for s in self.failures),
                pytrace=False,
            )

    def summary(self) -> str:
        width = max((len(s.name) for s in self.steps), default=4)
        lines = [f"{'step':<{width}}  assertions  result"]
        for s in self.steps:
            result = "ok" if s.failure is None else f"FAILED: {s.failure}"
            lines.append(f"{s.name:<{width}}  {s.assertions:>10}  {result}")
        passed = [s for s in self.steps if s.failure is None]
        lines.append(
            f"{len(self.steps)} steps, {len(passed)} passed, {len(self.failures)} failed; "
            f"{sum(s.assertions for s in self.steps)} assertions made "
            f"({sum(s.assertions for s in passed)} in steps that passed)"
        )
        return "\n".join(lines)


# --- people -------------------------------------------------------------------------------------


@dataclass
class Person:
    """Someone using the service in a browser of their own (their own cookies)."""

    user: object
    page: object
    axe_source: str = ""

    @property
    def name(self) -> str:
        return self.user.name

    def sign_in(self):
        page = self.page
        if "/sign-in" not in page.url:
            page.goto("/sign-in")
        page.get_by_label("Email address").fill(self.user.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        # Exactly "Sign in": where single sign-on is configured, "Sign in with ..." comes first.
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()

    def visit(self, path: str):
        """Open a page, signing in first when the service asks (after the clock moved on)."""
        self.page.goto(path)
        if "/sign-in" in self.page.url:
            self.sign_in()
            if path not in self.page.url:
                self.page.goto(path)
        return self.page

    def main(self) -> str:
        return self.page.inner_text("main")

    def axe(self) -> list[dict]:
        return axe_violations_on(self.page, self.axe_source)


@contextmanager
def browsers(browser, live_server: str, axe_source: str):
    """A factory of people, each in a browser context of their own (nobody shares a cookie
    with anyone else), all closed at the end."""
    contexts = []

    def person(user) -> Person:
        context = browser.new_context(base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a busy CI machine; passing steps never wait
        return Person(user, page, axe_source)

    try:
        yield person
    finally:
        for context in contexts:
            context.close()


# --- mailboxes ------------------------------------------------------------------------------------


@dataclass
class Mail:
    to: str
    subject: str
    text: str
    html: str
    dedupe_key: str
    calendar: bytes | None = None
    method: str | None = None
    attachments: dict[str, bytes] = field(default_factory=dict)

    def event(self) -> dict:
        """The invitation as ical.js (Thunderbird's parser) reads it: its one event."""
        parsed = icaljs(self.calendar)
        assert parsed["method"] == self.method
        (event,) = parsed["events"]
        return event

    def docx_text(self) -> str:
        (content,) = [v for k, v in self.attachments.items() if k.endswith(".docx")]
        return docx_text(content)


def _parse(data: bytes) -> Mail:
    message = email.message_from_bytes(data, policy=policy.default)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    mail = Mail(
        to=message["To"].addresses[0].addr_spec.lower(),
        subject=str(message["Subject"]),
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        # A long key is folded onto a line of its own (RFC 5322), which leaves a leading space:
        # with a meeting id of three digits, an action owner's key no longer fits on one line.
        dedupe_key=str(message["X-MAF-Dedupe-Key"]).strip(),
    )
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            mail.calendar = part.get_payload(decode=True)
            mail.method = part.get_param("method")
        elif part.get_filename():
            mail.attachments[part.get_filename()] = part.get_payload(decode=True)
    return mail


class Mailboxes:
    """Every message the SMTP server accepted, by recipient; `deliver` runs the app's sender
    (as its scheduled job would) and returns what arrived since the last delivery."""

    def __init__(self, server):
        self.server = server
        self.seen = 0
        self.inbox: dict[str, list[Mail]] = defaultdict(list)

    def deliver(self, worker: str = "journey") -> dict[str, list[Mail]]:
        report = send_pending(worker=worker, now=utcnow())
        assert report.failed == 0 if hasattr(report, "failed") else True, report
        arrived = [_parse(r.data) for r in self.server.received[self.seen :]]
        self.seen = len(self.server.received)
        new: dict[str, list[Mail]] = defaultdict(list)
        for mail in arrived:
            new[mail.to].append(mail)
            self.inbox[mail.to].append(mail)
        db.session.expire_all()
        return new

    def counts(self) -> Counter:
        return Counter({address: len(mails) for address, mails in self.inbox.items()})


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


# --- services, whatever shape the versioned save takes -------------------------------------------


def record_item(item, details, user):
    """Save an item's record through the service, as the page would: with the version the
    record is at now, when the service asks for one (the versioned-save API)."""
    parameters = inspect.signature(outcomes.save_item_record).parameters
    kwargs = {}
    for name in ("version", "submitted_version", "opened_at_version"):
        if name in parameters:
            record = outcomes.record_for(item)
            kwargs[name] = record.version if record is not None else None
    return outcomes.save_item_record(item, details, user, **kwargs)


def press(scope, name):
    """Press a button (in a page or a part of it) and wait for the page it leads to."""
    page = getattr(scope, "page", scope)
    with page.expect_navigation():
        scope.get_by_role("button", name=name).first.click()


def words(text: str) -> str:
    """Collapse white space, so page text reads as one line."""
    return re.sub(r"\s+", " ", text).strip()
