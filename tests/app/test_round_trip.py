"""Unusual names and scripts, and injection payloads, typed into the forms come back intact in
the database, the pages, the Word documents, the calendar invitations and the emails (issue 8:
round-trip robustness).

The writes go through the HTTP forms, so the form layer (maf/forms.py) is part of each round
trip; the outputs are built by the real services, sent through the real outbox to .eml files,
and read back with real parsers: python-docx, icalendar and vobject, and the standard library's
email parser. test_robustness.py throws Hypothesis's text at every form for 500s; here each
field is followed to every place it is printed.

This module covers the forum, its meetings, members and presenters; test_round_trip_cases.py
the child and the CAF; test_round_trip_records.py the meeting record, minutes, progress
updates, the board report and the audit sample. They share the texts and readers below.
"""

import email
import email.header
import email.policy
import email.utils
import io
import re
import zipfile
from datetime import date
from typing import NamedTuple

import icalendar
import lxml.etree
import lxml.html
import pytest
import vobject
from docx import Document
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from maf.agendas.models import AgendaItem, ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role
from maf.circulation import outbox
from maf.circulation import services as circulation
from maf.circulation.models import DeliveryStatus, OutboxMessage
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import Forum, MemberRole
from tests.app.test_robustness import SCRIPT


class Typed(NamedTuple):
    """What is typed into a form, and what MAF keeps of it in a one-line box and in a text
    area: a line break cannot stand in a one-line box (it would be inside an email header) and
    a browser sends a text area's line breaks as CRLF, which MAF keeps as plain line feeds."""

    text: str
    one_line: str
    multi_line: str


def typed(text: str, one_line: str | None = None) -> Typed:
    return Typed(text, text if one_line is None else one_line, text.replace("\r\n", "\n"))


# Names in the scripts and forms an English council's families and staff have, and the
# payloads that break HTML, templates, spreadsheets, email headers, iCalendar and Word's XML.
# Several share a text, so each round trip (a second or more) is run a handful of times.
TEXTS = [
    pytest.param(typed("Siobhán Ní Dhomhnaill O'Brien-Smith Zoë Łukasiewicz"), id="latin"),
    pytest.param(typed("محمد 李小龍 Nguyễn Thị Ánh"), id="arabic-chinese-vietnamese"),
    # Decomposed accents, an emoji sequence with skin tone and a flag, and right-to-left marks.
    pytest.param(
        typed("Zoe\u0308 Ame\u0301lie 👩🏽‍⚕️🇬🇧 \u202bمحمد علي\u202c \u200fAli"),
        id="combining-emoji-rtl",
    ),
    pytest.param(typed('<script>alert(1)</script> "><img src=x onerror=alert(1)>'), id="html"),
    pytest.param(typed("{{7*7}} {% raw %} Forum\\n;, =?utf-8?q?Evil?="), id="template-escapes"),
    pytest.param(typed('=HYPERLINK("http://evil.example","Click")'), id="spreadsheet-formula"),
    pytest.param(typed("]]><w:p><w:r><w:t>injected"), id="word-xml"),
    # Long enough to be folded: Python 3.11 dropped the quotes and a second address appeared.
    pytest.param(typed("Evil <evil@example.com>, " + "Smith-" * 11 + "Jones"), id="address-list"),
    pytest.param(
        typed(
            "Forum\r\nBcc: evil@example.com\r\nATTENDEE:mailto:evil@example.com\u2028X",
            "Forum Bcc: evil@example.com ATTENDEE:mailto:evil@example.com X",
        ),
        id="line-breaks",
    ),
]


def long_text(length: int) -> str:
    """`length` characters of several scripts, ending in a letter (a space would be trimmed)."""
    return ("Zoë Łukasiewicz-Ní Dhomhnaill 李小龍 Nguyễn Thị Ánh محمد " * 10)[: length - 1] + "ő"


# The longest each one-line name box takes (forum, member and presenter names), and the venue.
LONG_NAME, LONG_VENUE = long_text(200), long_text(300)


# --- driving the forms -------------------------------------------------------------------


def post_form(client, page_url: str, action: str, values: dict, **match):
    """Submit a form on a page as a browser would: every field as the page filled it in (with
    its CSRF token), changed by `values`. `match` picks a form among several with the same
    action by the value of its hidden fields."""
    page = client.get(page_url)
    assert page.status_code == 200, page_url
    form = next(
        form
        for form in lxml.html.fromstring(page.text).forms
        if (form.get("action") or page_url) == action
        and all(form.fields.get(name) == value for name, value in match.items())
    )
    data = MultiDict(form.form_values())
    for name, value in values.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    response = client.post(action, data=data)
    assert response.status_code == 302, re.findall(
        r"govuk-error-message.*?</p>", response.text, re.S
    )
    return response


def shows_escaped(client, url: str, *texts: str) -> None:
    """The page shows each line of each text as text: escaped, and never as live markup."""
    page = client.get(url)
    assert page.status_code == 200, url
    for text in texts:
        for line in text.split("\n"):
            assert str(escape(line)) in page.text, (url, line)
    assert not SCRIPT.search(page.text), url


# --- reading the outputs -----------------------------------------------------------------


def email_reader(app, tmp_path, monkeypatch):
    """A function that sends what the outbox holds to .eml files, as `make run` does, and
    reads back the new ones with the standard library's parser."""
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "file")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    folder = tmp_path / "outbox"
    seen = set()

    def send() -> list[email.message.EmailMessage]:
        report = outbox.send_pending(worker="round-trip", now=utcnow())
        assert report.failed == 0, [
            m.last_error
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == DeliveryStatus.FAILED)
            )
        ]
        new = sorted(path for path in folder.iterdir() if path not in seen)
        seen.update(new)
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in new
        ]

    return send


@pytest.fixture
def sent_emails(app, tmp_path, monkeypatch):
    return email_reader(app, tmp_path, monkeypatch)


HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "X-MAF-Dedupe-Key", "MIME-Version"}
HTML_TAGS = {"html", "head", "meta", "title", "body", "p", "strong", "br", "a", "ul", "li"}


def check_email(message, name: str, *texts: str) -> None:
    """The headers are the ones MAF writes and no more; the recipient's name is the display
    name; the text part holds the texts literally, the HTML part as escaped text."""
    assert set(message.keys()) == HEADERS | {"Content-Type"}
    assert len(message["To"].addresses) == 1
    assert display_name(message) == name
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    for text in (f"Dear {name},", *texts):
        assert text in plain
    html = message.get_body(("html",)).get_content()
    tree = lxml.html.document_fromstring(html)
    assert {element.tag for element in tree.iter(lxml.etree.Element)} <= HTML_TAGS
    assert not tree.xpath("//@*[starts-with(name(), 'on')]")
    for text in (name, *texts):
        assert text in tree.text_content()
    assert not SCRIPT.search(html)


def display_name(message) -> str:
    """The recipient's name as RFC 2047 decodes it. A long non-ASCII name is written as several
    encoded words, split anywhere, and the blank between two encoded words is not part of the
    name (RFC 2047 6.2); Python's modern address parser keeps it ("Ng uyễn"), so the name is
    decoded with `email.header`, which follows the RFC."""
    raw = re.sub(r"\r?\n(?=[ \t])", "", dict(message.raw_items())["To"])
    name, _ = email.utils.parseaddr(raw)
    return str(email.header.make_header(email.header.decode_header(name)))


def calendar_part(message) -> bytes | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)
    return None


def check_folding(data: bytes) -> None:
    """RFC 5545 3.1: CRLF line endings, lines of at most 75 octets, and no UTF-8 character cut
    in two by a fold (each physical line is valid UTF-8 on its own)."""
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")


EVENT_PROPERTIES = {
    "UID",
    "SEQUENCE",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "URL",
    "ORGANIZER",
    "STATUS",
    "TRANSP",
    # Outlook's (MS-OXCICAL): busy status, and the description as HTML with working links
    "X-MICROSOFT-CDO-BUSYSTATUS",
    "X-MICROSOFT-CDO-INTENDEDSTATUS",
    "X-ALT-DESC",
}


def check_event(data: bytes, *, summary: str, location: str, attendees=None, slot=False):
    """icalendar and vobject both read the summary and location back exactly, the event has
    only the properties MAF writes, and only the attendees given (email, common name)."""
    check_folding(data)
    properties = EVENT_PROPERTIES | ({"RELATED-TO"} if slot else set())
    if attendees:
        properties |= {"ATTENDEE"}
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert set(event.keys()) == properties
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == (summary, location)
    written = event.get("ATTENDEE", [])
    written = written if isinstance(written, list) else [written]
    assert [(str(a), a.params["CN"]) for a in written] == [
        (f"mailto:{address}", name) for address, name in attendees or ()
    ]

    calendar = vobject.readOne(data.decode("utf-8"))
    (vevent,) = calendar.vevent_list
    assert set(vevent.contents) == {name.lower() for name in properties}
    assert (vevent.summary.value, vevent.location.value) == (summary, location)
    assert [(a.value, a.params["CN"][0]) for a in vevent.contents.get("attendee", [])] == [
        (f"mailto:{address}", name) for address, name in attendees or ()
    ]


def common_name(name: str) -> str:
    # A double quote cannot be written in a parameter that Outlook and vobject read back
    # (maf/circulation/calendar.py), so the invitation's CN has an apostrophe for it.
    return name.replace('"', "'")


def read_docx(data: bytes):
    """The document, after checking every XML part of it is well-formed on its own."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                lxml.etree.fromstring(archive.read(name))
    document = Document(io.BytesIO(data))
    assert not list(document.element.body.iter("script"))
    return document


def labelled(document, label: str) -> str:
    """The value of a "Label: value" paragraph, which must be the two runs MAF writes."""
    (paragraph,) = [p for p in document.paragraphs if p.runs and p.runs[0].text == f"{label}: "]
    assert len(paragraph.runs) == 2, [run.text for run in paragraph.runs]
    return paragraph.runs[1].text


def rows(table) -> list[list[str]]:
    for row in table.rows:
        # One paragraph a cell: a payload that opened a paragraph would show as a second.
        assert all(len(cell.paragraphs) == 1 for cell in row.cells if cell.text)
    return [[cell.text for cell in row.cells] for row in table.rows]


def attachment(message) -> bytes:
    (part,) = list(message.iter_attachments())
    return part.get_payload(decode=True)


# --- the forum, its members and presenters -----------------------------------------------


@pytest.fixture
def circulated(client, sign_in, coordinator, make_user, make_agency, make_meeting, make_ready_case):
    """A forum whose name, venue, member and presenter are the text, set through the forms,
    and a meeting of it circulated, moved and cancelled through the forms."""

    def circulate(name: Typed, venue: Typed):
        chair = make_user(Role.CHAIR, name="Margaret Okafor", email="chair@example.org")
        # The agenda document is attached only on a secure domain (issue 17): these addresses
        # are, so the names can be read back from the document each received.
        circulation.add_secure_domain("example.org", coordinator)
        agency = make_agency(name="Leicestershire Police")
        sign_in(coordinator)
        forum_values = {
            "name": name.text,
            "venue": venue.text,
            "chair": str(chair.id),
            "coordinator": str(coordinator.id),
            "start_time": "09:30",
        }
        post_form(client, "/forums/new", "/forums/new", forum_values)
        forum = db.session.scalar(select(Forum).order_by(Forum.id.desc()))
        post_form(
            client,
            f"/forums/{forum.id}",
            f"/forums/{forum.id}/members",
            {
                "name": name.text,
                "email": "member@example.org",
                "agency": str(agency.id),
                "role": MemberRole.STANDING.value,
            },
        )
        meeting = make_meeting(date(2027, 1, 12), forum=forum)
        case = make_ready_case("Amy", "Lee")
        build = f"/meetings/{meeting.id}/agenda/build"
        post_form(
            client,
            build,
            f"/meetings/{meeting.id}/agenda/selected",
            {
                "case": str(case.id),
                f"presenter-{case.id}": name.text,
                f"presenter-email-{case.id}": "presenter@example.org",
            },
        )
        post_form(client, build, f"/meetings/{meeting.id}/circulate", {})
        return forum, meeting, chair

    return circulate


def subjects(messages) -> list[tuple[str, str]]:
    return sorted((m["To"].addresses[0].addr_spec, m["Subject"]) for m in messages)


@pytest.mark.parametrize("text", TEXTS)
def test_forum_member_and_presenter_names_round_trip_to_agenda_invitations_and_emails(
    client, circulated, sent_emails, text
):
    """Issue 8: a forum's name and venue, a member's and a presenter's name, typed into the
    forms, are the same text in the pages, the agenda document, every invitation and every
    email (headers, text and HTML), through circulation, a change and a cancellation, and in
    the calendar feed."""
    name = venue = text.one_line
    forum, meeting, chair = circulated(text, text)

    assert (forum.name, forum.venue, meeting.venue) == (name, venue, venue)
    (member,) = forums.active_members(forum)
    assert member.name == name
    shows_escaped(client, f"/forums/{forum.id}", name, venue)
    shows_escaped(client, f"/meetings/{meeting.id}/agenda", name, venue)
    shows_escaped(client, f"/meetings/{meeting.id}/agenda/build", name)
    shows_escaped(client, f"/meetings/{meeting.id}/deliveries", name)

    people = {
        "member@example.org": name,
        "presenter@example.org": name,
        "chair@example.org": "Margaret Okafor",
    }
    circulation_emails = sent_emails()
    day = "12 January 2027"
    assert subjects(circulation_emails) == [
        ("chair@example.org", f"OFFICIAL-SENSITIVE: Agenda: {name}, {day}"),
        ("member@example.org", f"OFFICIAL-SENSITIVE: Agenda: {name}, {day}"),
        ("presenter@example.org", f"Your slot: {name}, {day} at 09:30"),
    ]
    for message in circulation_emails:
        address = message["To"].addresses[0].addr_spec
        check_email(message, people[address], name, venue)
        if address == "presenter@example.org":
            check_event(
                calendar_part(message),
                summary=f"Presenting at the {name}",
                location=venue,
                attendees=[(address, common_name(name))],
                slot=True,
            )
            continue
        check_event(
            calendar_part(message),
            summary=name,
            location=venue,
            attendees=[(address, common_name(people[address]))],
        )
        document = read_docx(attachment(message))
        assert document.paragraphs[0].text == f"{name}: agenda"
        assert len(document.paragraphs[0].runs) == 1
        assert labelled(document, "Venue") == venue
        assert document.core_properties.title == f"{name} agenda, Tuesday 12 January 2027"
        members, items = (rows(table) for table in document.tables)
        assert members[1] == [name, "Leicestershire Police", "Standing member"]
        assert items[1][3] == "Amy Lee" and items[1][7] == name
        # The text is where it was put and nowhere else: nothing split off into a paragraph.
        assert [p.text for p in document.paragraphs if name in p.text] == [
            f"{name}: agenda",
            f"Venue: {venue}",
        ]

    # Moved an hour later (the venue as it was), then cancelled: the update and the
    # cancellation carry the same text, and so does the chair's calendar feed.
    post_form(
        client,
        f"/meetings/{meeting.id}/edit",
        f"/meetings/{meeting.id}/edit",
        {"start_time": "10:30", "reason": text.text},
    )
    post_form(
        client,
        f"/meetings/{meeting.id}/agenda/build",
        f"/meetings/{meeting.id}/circulate",
        {},
    )
    changes = sent_emails()
    assert subjects(changes) == [
        # A later start moves the agenda's slots: the updated agenda comes with the change.
        ("chair@example.org", f"OFFICIAL-SENSITIVE: Changed: {name}, {day}"),
        ("member@example.org", f"OFFICIAL-SENSITIVE: Changed: {name}, {day}"),
        ("presenter@example.org", f"Your slot: {name}, {day} at 10:30"),
    ]
    # A meeting with items cannot be cancelled; the presenter's slot stays in their calendar
    # until the cancellation.
    item = db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).one()
    build = f"/meetings/{meeting.id}/agenda/build"
    post_form(client, build, f"/agenda-items/{item.id}/remove", {})
    post_form(
        client,
        f"/meetings/{meeting.id}/cancel",
        f"/meetings/{meeting.id}/cancel",
        {"reason": text.text},
    )
    cancellations = sent_emails()
    assert subjects(cancellations) == [
        ("chair@example.org", f"Cancelled: {name}, {day}"),
        ("member@example.org", f"Cancelled: {name}, {day}"),
        ("presenter@example.org", f"Slot cancelled: {name}, {day}"),
    ]
    for message in changes + cancellations:
        address = message["To"].addresses[0].addr_spec
        check_email(message, people[address], name)
        presenter = address == "presenter@example.org"
        check_event(
            calendar_part(message),
            summary=f"Presenting at the {name}" if presenter else name,
            location=venue,
            attendees=[(address, common_name(people[address]))],
            slot=presenter,
        )

    feed = client.get(f"/calendar/{chair.calendar_token}.ics")
    assert feed.status_code == 200
    check_folding(feed.data)
    (event,) = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == (name, venue)
    assert "ATTENDEE" not in event
    (vevent,) = vobject.readOne(feed.data.decode("utf-8")).vevent_list
    assert (vevent.summary.value, vevent.location.value) == (name, venue)


def test_the_longest_names_and_venue_fold_in_invitations_and_subjects(
    client, circulated, sent_emails
):
    """Issue 8: a name as long as the form allows, in several scripts, is folded in the
    invitation without cutting a character in two, and the email subject is encoded and
    decodes to the same text."""
    forum, meeting, _ = circulated(typed(LONG_NAME), typed(LONG_VENUE))

    assert (forum.name, meeting.venue) == (LONG_NAME, LONG_VENUE)
    messages = sent_emails()
    assert len(messages) == 3
    for message in messages:
        address = message["To"].addresses[0].addr_spec
        presenter = address == "presenter@example.org"
        if presenter:
            assert message["Subject"] == f"Your slot: {LONG_NAME}, 12 January 2027 at 09:30"
        else:
            assert message["Subject"] == f"OFFICIAL-SENSITIVE: Agenda: {LONG_NAME}, 12 January 2027"
        check_email(
            message, "Margaret Okafor" if address.startswith("chair") else LONG_NAME, LONG_VENUE
        )
        check_event(
            calendar_part(message),
            summary=f"Presenting at the {LONG_NAME}" if presenter else LONG_NAME,
            location=LONG_VENUE,
            attendees=[(address, "Margaret Okafor" if address.startswith("chair") else LONG_NAME)],
            slot=presenter,
        )
    # On the wire, every header line is within RFC 5322's 78 characters.
    for message in db.session.scalars(select(OutboxMessage)):
        mime = outbox.build_mime(message, "MAF <maf-no-reply@localhost>")
        headers = mime.as_bytes(policy=outbox.MIME_POLICY).split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 78 for line in headers.split(b"\r\n")), headers


# --- the builders on their own, with what no form would let through ----------------------


def test_line_breaks_saved_without_the_forms_never_become_headers_or_properties(
    coordinator, make_forum, make_meeting, make_agency, make_ready_case
):
    """The builders are safe without the form layer: a forum name, venue and member name
    holding CRLF (from a service, an import or an older record) cannot add a Bcc to an email
    or an ATTENDEE to an invitation. The agenda document keeps the text in its own paragraph."""
    name = "Forum\r\nBcc: evil@example.com"
    venue = "Room 1\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT"
    forum = make_forum(name=name, venue=venue)
    forums.add_member(
        forum,
        name=name,
        email="member@example.org",
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    circulation.add_secure_domain("example.org", coordinator)
    # An empty agenda is not circulated (issue 13).
    add_to_agenda(meeting, make_ready_case(), ItemKind.NEW_CASE, coordinator)
    circulation.circulate(meeting, coordinator)

    (message,) = [m for m in db.session.scalars(select(OutboxMessage)) if "member" in m.dedupe_key]
    assert message.subject == f"OFFICIAL-SENSITIVE: Agenda: {name}, 12 January 2027"
    with pytest.raises(ValueError):  # refused whole, never written as two header lines
        outbox.build_mime(message, "MAF <maf-no-reply@localhost>")
    (event,) = icalendar.Calendar.from_ical(message.calendar.encode()).walk("VEVENT")
    assert str(event["LOCATION"]) == venue.replace("\r\n", "\n")
    assert str(event["ATTENDEE"]) == "mailto:member@example.org"
    assert event["ATTENDEE"].params["CN"] == "Forum Bcc: evil@example.com"
    (vevent,) = vobject.readOne(message.calendar).vevent_list
    assert vevent.location.value == venue.replace("\r\n", "\n")
    assert len(vevent.attendee_list) == 1

    document = read_docx(message.attachments[0].content)
    assert labelled(document, "Venue") == venue.replace("\r\n", "\n")
    assert rows(document.tables[0])[1][0] == name.replace("\r\n", "\n")


def test_an_address_that_is_not_ascii_fails_alone_and_the_batch_goes_on(
    app, database, tmp_path, monkeypatch
):
    """A member's address in another script (the email form accepts one) cannot go over SMTP
    without SMTPUTF8: that message fails, unsent, and the one after it is still sent."""
    for key, address in (("a", "zoë@example.org"), ("b", "anna@example.org")):
        outbox.enqueue(
            dedupe_key=key,
            recipient_email=address,
            recipient_name="Zoë Łukasiewicz",
            subject="Agenda",
            text_body="Dear member",
        )
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "file")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))

    report = outbox.send_pending(worker="round-trip", now=utcnow())

    assert (report.sent, report.failed) == (1, 1)
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "a"))
    db.session.refresh(failed)
    assert failed.last_error == "the message could not be built: ValueError"
    assert len(list((tmp_path / "outbox").iterdir())) == 1
