"""No children's personal data by ordinary email (issue 17, point 1): by default an agenda or
minutes email says what is waiting and links to the page behind sign-in; only addresses on a
secure email domain an admin lists get the document attached, marked OFFICIAL-SENSITIVE in
the subject. Every circulation records who got a link and who an attachment."""

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.circulation import services
from maf.circulation.models import OutboxMessage, SecureEmailDomain
from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from tests.circulation import test_circulation
from tests.conftest import PASSWORD, csrf_token_from, submit
from tests.outcomes import test_minutes

meeting, agenda = test_circulation.meeting, test_circulation.agenda
held = test_minutes.held

AGENDA_CHILDREN = ("Amy", "Ben", "Lee", "Ward", "2013", "2014", "LE11", "LE12")
SECURE_MEMBERS = (("Sam Patel", "sam.patel@mft.nhs.net"), ("PC Jo Hart", "jo.hart@pnn.police.uk"))


def _messages(prefix: str = "") -> list[OutboxMessage]:
    return [
        message
        for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        if message.dedupe_key.startswith(prefix)
    ]


def _visible(message: OutboxMessage) -> str:
    return " ".join((message.subject, message.text_body, message.html_body, message.calendar or ""))


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Alex Admin")


@pytest.fixture
def secure(admin):
    """The domains an admin trusts: NHS mail and the police network."""
    for domain in ("nhs.net", "pnn.police.uk"):
        services.add_secure_domain(domain, admin)


@pytest.fixture
def mixed(meeting, add_members):
    """Four members: two on secure domains (subdomains of the listed ones), two not."""
    add_members(meeting.forum, SECURE_MEMBERS)
    return meeting


@pytest.mark.parametrize(
    "email, listed, attached",
    [
        ("jo.hart@pnn.police.uk", {"pnn.police.uk"}, True),
        ("jo.hart@x.pnn.police.uk", {"pnn.police.uk"}, True),
        ("clerk@leics.gov.uk", {"gov.uk"}, True),
        ("Clerk@Leics.GOV.UK", {"gov.uk"}, True),
        ("clerk@notgov.uk", {"gov.uk"}, False),
        ("clerk@gov.uk.example.org", {"gov.uk"}, False),
        ("sam@nhs.net", set(), False),  # the default: an empty list attaches nothing
    ],
)
def test_an_address_qualifies_on_a_listed_domain_or_a_subdomain_of_one(email, listed, attached):
    assert services.documents_by_attachment(email, frozenset(listed)) is attached


def test_by_default_every_member_gets_a_link_and_counts_never_the_document(
    meeting, agenda, coordinator, make_user
):
    make_user(Role.PRACTITIONER, name="Paul Dennis", email="paul@example.org")
    report = services.circulate(meeting, coordinator)

    agenda_emails = _messages("agenda:")
    assert len(agenda_emails) == 3 and (report.by_link, report.attached) == (3, 0)
    for message in agenda_emails:
        assert message.attachments == [] and message.documents == "link"
        assert message.subject == "Agenda: Charnwood multi-agency forum, 13 July 2027"
        assert "2 new cases" in message.text_body and "2 new cases" in message.html_body
        assert not [word for word in AGENDA_CHILDREN if word in _visible(message)]
    paul = next(m for m in agenda_emails if m.recipient_email == "paul@example.org")
    assert (
        f"sign in to MAF to read or download it:\nhttp://127.0.0.1:5000/meetings/{meeting.id}/agenda\n"
        in (paul.text_body)
    )
    assert "not attached" in paul.text_body


def test_secure_domains_get_the_document_attached_and_marked_the_others_a_link(
    mixed, agenda, coordinator, secure, client, sign_in
):
    sign_in(coordinator)
    page = client.get(f"/meetings/{mixed.id}/agenda/build")
    response = client.post(
        f"/meetings/{mixed.id}/circulate",
        data={"csrf_token": csrf_token_from(page.text)},
        follow_redirects=True,
    )

    assert "5 agendas, 0 meeting updates" in response.text
    assert "The agenda went 3 by link, 2 attached." in response.text
    emails = {m.recipient_email: m for m in _messages("agenda:")}
    name = f"charnwood-multi-agency-forum-agenda-2027-07-13-v{mixed.agenda_version}.docx"
    for _, email in SECURE_MEMBERS:
        message = emails[email]
        assert message.subject == (
            "OFFICIAL-SENSITIVE: Agenda: Charnwood multi-agency forum, 13 July 2027"
        )
        assert message.documents == "attachment"
        (attachment,) = message.attachments
        assert attachment.filename == name
        document = "\n".join(p.text for p in Document(io.BytesIO(attachment.content)).paragraphs)
        assert "OFFICIAL-SENSITIVE" in document
        assert "The document is attached" in message.text_body
    for email in ("zoe@example.org", "paul@example.org", mixed.forum.chair.email):
        message = emails[email]
        assert "OFFICIAL-SENSITIVE" not in message.subject
        assert message.attachments == [] and message.documents == "link"
    # Whatever an email carries, its subject and body never name a child.
    for message in _messages():
        text = " ".join((message.subject, message.text_body, message.html_body))
        assert not [word for word in AGENDA_CHILDREN if word in text], message.subject

    deliveries = response.text
    assert "Agendas and minutes: 3 by link, 2 attached." in deliveries
    assert deliveries.count(">Attached<") == 2 and deliveries.count(">Link<") == 3

    # The member reading the page downloads the same file name as the one attached.
    download = client.get(f"/meetings/{mixed.id}/agenda.docx")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_attachment_names_differ_for_two_forums_meeting_the_same_day(
    make_forum, make_meeting, make_district
):
    day = date(2027, 7, 13)
    charnwood = make_meeting(day)
    melton = make_meeting(day, forum=make_forum(district=make_district("Melton")))
    names = {
        services.document_filename(m.forum, kind, day, 1)
        for m in (charnwood, melton)
        for kind in ("agenda", "minutes")
    }
    assert names == {
        "charnwood-multi-agency-forum-agenda-2027-07-13-v1.docx",
        "charnwood-multi-agency-forum-minutes-2027-07-13-v1.docx",
        "melton-multi-agency-forum-agenda-2027-07-13-v1.docx",
        "melton-multi-agency-forum-minutes-2027-07-13-v1.docx",
    }
    # A re-circulation is another version: another name.
    assert services.document_filename(charnwood.forum, "agenda", day, 2).endswith("-v2.docx")


# --- minutes ---------------------------------------------------------------------------------


def test_minutes_by_default_go_as_a_link_to_a_page_recipients_read_after_sign_in(
    held, make_user, client, sign_in
):
    anna = make_user(Role.PRACTITIONER, name="Anna Brown", email="anna.brown@example.org")
    cara = make_user(Role.PRACTITIONER, name="Cara Davies", email="cara.davies@example.org")
    stranger = make_user(Role.PRACTITIONER, name="Sid Stranger")
    minutes = held.minutes
    minutes_service.approve(minutes, held.chair)

    # Approved, not yet circulated: not for the members yet.
    sign_in(anna)
    assert client.get(f"/minutes/{minutes.id}.docx").status_code == 404

    minutes_service.circulate(minutes, held.chair)
    (email,) = [m for m in _messages("minutes:") if m.recipient_email == anna.email]
    assert email.attachments == [] and email.documents == "link"
    assert "OFFICIAL-SENSITIVE" not in email.subject
    link = f"http://127.0.0.1:5000/meetings/{held.meeting.id}/minutes/circulated"
    assert f"{link}\n" in email.text_body and "3 cases" in email.text_body
    assert not [name for name in test_minutes.CHILDREN if name in _visible(email)]

    page = client.get(link.removeprefix("http://127.0.0.1:5000"))
    assert page.status_code == 200
    assert "Jessica Thompson" in page.text and "OFFICIAL-SENSITIVE" in page.text
    name = f"charnwood-multi-agency-forum-minutes-2027-01-12-v{minutes.version}.docx"
    assert name in page.text
    download = client.get(f"/minutes/{minutes.id}.docx")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    reads = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == anna.id)).all()
    assert "minutes_downloaded" in reads

    # Cara was absent (the minutes did not go to her), the stranger is no member: as if absent.
    for outsider in (cara, stranger):
        other = client.application.test_client()
        signed_in = submit(other, "/sign-in", {"email": outsider.email, "password": PASSWORD})
        assert signed_in.status_code == 302
        assert other.get(link.removeprefix("http://127.0.0.1:5000")).status_code == 404
        assert other.get(f"/minutes/{minutes.id}.docx").status_code == 404


def test_minutes_to_a_secure_domain_are_attached_and_marked(held, admin):
    services.add_secure_domain("example.org", admin)
    minutes = held.minutes
    minutes_service.approve(minutes, held.chair)

    minutes_service.circulate(minutes, held.chair)

    emails = _messages("minutes:")
    assert len(emails) == 3
    name = "charnwood-multi-agency-forum-minutes-2027-01-12-v1.docx"
    for message in emails:
        assert message.subject == f"OFFICIAL-SENSITIVE: Minutes: {held.forum.name}, 12 January 2027"
        assert message.documents == "attachment"
        assert [a.filename for a in message.attachments] == [name]
        assert message.attachments[0].content == minutes.document
        text = " ".join((message.subject, message.text_body, message.html_body))
        assert not [child for child in test_minutes.CHILDREN if child in text]
    assert minutes_service.documents_sent(minutes) == (0, 3)


# --- the admin page --------------------------------------------------------------------------


def test_an_admin_adds_and_removes_secure_domains_with_errors_beside_the_field(
    admin, client, sign_in
):
    sign_in(admin)
    page = client.get("/secure-email-domains")
    assert page.status_code == 200 and "No domain is listed" in page.text

    added = submit(client, "/secure-email-domains", {"domain": " @NHS.net. "})
    assert added.status_code == 302
    page = client.get("/secure-email-domains")
    assert (
        "nhs.net added" in page.text and '<td class="govuk-table__cell">nhs.net</td>' in page.text
    )

    for typed, error in (
        ("nhs.net", "nhs.net is already on the list"),
        ("not a domain", "Enter one email domain, like nhs.net"),
        ("", "Enter an email domain, like nhs.net"),
    ):
        refused = submit(client, "/secure-email-domains", {"domain": typed})
        assert refused.status_code == 400
        assert 'id="domain-error"' in refused.text and error in refused.text
        assert f'value="{typed}"' in refused.text or not typed  # what was typed is kept

    # The same form sent twice (a double click) adds the domain once.
    form = client.get("/secure-email-domains").text
    once = form.split('name="once" type="hidden" value="')[1].split('"')[0]
    token = csrf_token_from(form)
    for _ in range(2):
        client.post(
            "/secure-email-domains",
            data={"domain": "pnn.police.uk", "once": once, "csrf_token": token},
        )
    assert [d.domain for d in services.secure_domains()] == ["nhs.net", "pnn.police.uk"]

    nhs = db.session.scalar(select(SecureEmailDomain).where(SecureEmailDomain.domain == "nhs.net"))
    removed = client.post(
        "/secure-email-domains/remove",
        data={"domain": nhs.id, "csrf_token": token},
        follow_redirects=True,
    )
    assert "nhs.net removed" in removed.text
    assert [d.domain for d in services.secure_domains()] == ["pnn.police.uk"]
    audited = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action.like("secure_domain_%"))
    ).all()
    assert sorted(audited) == ["nhs.net", "nhs.net", "pnn.police.uk"]


def test_only_admins_keep_the_secure_domains(coordinator, client, sign_in):
    sign_in(coordinator)
    assert client.get("/secure-email-domains").status_code == 403
    page = client.get("/")
    response = client.post(
        "/secure-email-domains",
        data={"domain": "example.org", "csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 403
    assert services.secure_domains() == []
