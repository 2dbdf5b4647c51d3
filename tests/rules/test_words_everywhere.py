"""The words an admin sets are the words of every page, email, calendar invitation and document
(issue 15 point 4). With the Families First Partnership words ("early help assessment"/"EHA",
"lead practitioner", "team around the family"/"TAF") set before a forum year is made, every page
each kind of user may reach (walked from `app.url_map`, as the authorisation matrix allows), every
kind of email (circulation, minutes, progress, invitations and account requests, password and
two-step resets, with their calendar invitations and attached agendas), the agenda, minutes and
board report .docx and the calendar feed say none of "CAF", "Common Assessment Framework" or
"lead professional".
"""

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import docx
import icalendar
import lxml.html
import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.auth import services as auth_services
from maf.auth.models import Role
from maf.circulation import services as circulation
from maf.circulation.models import OutboxMessage
from maf.directory.models import Agency
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import ForumMember, MemberRole
from maf.invitations import services as invitations
from maf.invitations.models import AccountRequest
from maf.outcomes import minutes as minutes_service
from maf.people import services as people
from maf.rules import services as rules
from tests.auth.test_authorisation_matrix import EXPECTED, OK, url_for_rule
from tests.browser.test_valid_html import (  # noqa: F401
    after_january,
    site,
    world,
)

FAMILIES_FIRST = {
    "word_assessment": "early help assessment",
    "word_assessment_short": "EHA",
    "word_forum": "team around the family",
    "word_forum_short": "TAF",
    "word_lead_professional": "lead practitioner",
}
# The seeds' words, as a person reads them: "CAF" and "CAFs" as a word (not "cafe"), the full
# name in any case, "lead professional(s)" in any case. ("Multi-agency forum" is not looked
# for: it is also in the names the forums were given, which are data, not words.)
OLD_WORDS = re.compile(r"\bCAFs?\b|Common Assessment Framework|lead professional", re.IGNORECASE)
ACTORS = ("anon", "admin", "coord", "chair", "member", "referrer", "lead")
# The admin's page where the words are set shows each one's default and history, and quotes the
# seeds the defaults come from: there the old words are the point.
WHERE_WORDS_ARE_SET = {"rules.index", "rules.change"}
DOCUMENTS = (".docx", ".ics")
# Attributes a person reads or hears: alternative text, tooltips, accessible names.
SPOKEN = ("alt", "title", "aria-label", "placeholder")


def set_words(new_words: dict[str, str], by) -> None:
    for name, value in new_words.items():
        rules.change(name, value, by=by)
    db.session.commit()


@pytest.fixture
def families_first(make_user):
    """The Families First words, set by an admin before anything else is made."""
    set_words(FAMILIES_FIRST, make_user(Role.ADMIN, name="Ada Words"))


def visible_text(html: str) -> str:
    """What a person sees or hears of a page: its title, its text (not scripts or styles) and
    the attributes read aloud."""
    tree = lxml.html.fromstring(html)
    for hidden in tree.xpath("//script | //style | //template"):
        hidden.drop_tree()
    parts = [" ".join(tree.xpath("//title//text()"))]
    body = tree.find("body")
    parts.append(" ".join((body if body is not None else tree).itertext()))
    for attribute in SPOKEN:
        parts += tree.xpath(f"//@{attribute}")
    parts += tree.xpath("//input[@type='submit' or @type='button']/@value")
    return " ".join(" ".join(parts).split())


def old_words_in(text: str, service_name: str = "") -> list[str]:
    """Each old word found, with the words around it, to say where it is. The service's own
    name is a deployment's setting (MAF_SERVICE_NAME), not one of the words."""
    if service_name:
        text = text.replace(service_name, "")
    return [
        text[max(0, found.start() - 40) : found.end() + 40] for found in OLD_WORDS.finditer(text)
    ]


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in document.sections:
        parts += [paragraph.text for paragraph in section.header.paragraphs]
        parts += [paragraph.text for paragraph in section.footer.paragraphs]
    properties = document.core_properties
    parts += [properties.title or "", properties.subject or "", properties.keywords or ""]
    return "\n".join(parts)


def ics_text(content: bytes) -> str:
    calendar = icalendar.Calendar.from_ical(content)
    parts = [str(calendar.get("x-wr-calname", ""))]
    for event in calendar.walk("VEVENT"):
        parts += [str(event.get(key, "")) for key in ("summary", "description", "location")]
    return "\n".join(parts)


def _walk(app, site, actor):  # noqa: F811
    """Every page and document `actor` may open, with what a person reads of it."""
    client = site.client(actor)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint in WHERE_WORDS_ARE_SET:
            continue
        # A route not yet in the matrix fails the matrix's own test.
        if EXPECTED.get(rule.endpoint, {}).get(actor) != OK:
            continue
        try:
            urls = [url_for_rule(site, rule)]
        except AssertionError:  # a route the matrix cannot fill in yet fails the matrix's test
            continue
        if "POST" not in rule.methods:
            urls += [
                rule.build({name: id_}, append_unknown=False)[1]
                for name, ids in site.variants.items()
                if set(rule.arguments) == {name}
                for id_ in ids
            ]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            kind = response.headers.get("Content-Type", "")
            path = urlsplit(url).path
            if path.endswith(".docx"):
                yield url, docx_text(response.data)
            elif path.endswith(".ics") or "text/calendar" in kind:
                yield url, ics_text(response.data)
            elif "text/html" in kind:
                yield url, visible_text(response.text)
            elif "text/csv" in kind:
                yield url, response.text


def test_no_page_or_document_says_the_old_words(app, families_first, site):  # noqa: F811
    found = {}
    seen = set()
    for actor in ACTORS:
        for url, text in _walk(app, site, actor):
            seen.add(url)
            if old := old_words_in(text, app.config["SERVICE_NAME"]):
                found.setdefault(url, (actor, old))
    assert len(seen) > 80, "the walk reached too few pages to mean anything"
    assert found == {}, "\n".join(
        f"{url} as {actor}: " + " | ".join(old[:4]) for url, (actor, old) in found.items()
    )


def _send_every_kind_of_email(site) -> None:  # noqa: F811
    """What the year had not yet sent: the agenda with its invitations, a reminder, the
    minutes, a member taken off, a cancelled meeting, a password reset and a second factor
    reset, each through the service a person's click would use."""
    coordinator, chair = site.users["coord"], site.users["chair"]
    circulation.circulate(site.planned, coordinator)
    circulation.queue_reminders(site.planned.date - timedelta(days=1))
    minutes = minutes_service.current_minutes(site.held)
    minutes_service.approve(minutes, chair)
    minutes_service.circulate(minutes, coordinator)
    member = db.session.scalar(
        select(ForumMember).where(ForumMember.id == site.values["member_id"])
    )
    forum_services.remove_member(member, coordinator)
    circulation.circulate(site.planned, coordinator)  # the former member's invitation cancelled
    for item in agendas.scheduled_items(site.planned):  # the presenters' slots cancelled
        circulation.take_off_forum_agendas(item.case, "Consent withdrawn", coordinator)
    circulation.cancel_meeting(site.planned, "The venue is closed", coordinator)
    with site.app.test_request_context():  # these emails link back to the site
        auth_services.request_password_reset(site.users["lead"].email)
        people.reset_two_step(site.users["lead"], "New phone", site.users["admin"])
        invitations.invite(
            email="ivy.invited@example.org",
            name="Ivy Invited",
            roles=[Role.PRACTITIONER],
            districts=[site.district],
            agency=None,
            invited_by=site.users["admin"],
        )
        # A member with no account who asks for a password is told who can invite them.
        hub = db.session.scalar(select(Agency).where(Agency.name == "Charnwood Family Hub"))
        forum_services.add_member(
            site.forum,
            name="Nia Noaccount",
            email="nia@hub.example.org",
            agency=hub,
            role=MemberRole.STANDING,
            user=coordinator,
        )
        auth_services.request_password_reset("nia@hub.example.org")
        # A practitioner of a known agency asks for an account, and is refused.
        hub.email_domains = ["hub.example.org"]
        invitations.request_account("Rae Asker", "rae@hub.example.org", "Charnwood Family Hub")
        asked = db.session.scalar(select(AccountRequest))
        invitations.refuse(asked, coordinator, "Not a forum agency")
    db.session.commit()


def attachment_text(attachment) -> str:
    if attachment.filename.endswith(".docx"):
        return docx_text(attachment.content)
    if attachment.filename.endswith(".ics"):
        return ics_text(attachment.content)
    return ""


def test_no_email_says_the_old_words(app, families_first, site):  # noqa: F811
    _send_every_kind_of_email(site)
    messages = db.session.scalars(select(OutboxMessage)).all()
    kinds = {message.dedupe_key.split(":")[0] for message in messages}
    every_kind = {"agenda", "reminder", "minutes", "progress", "meeting-cancel", "password-reset"}
    every_kind |= {"two-step-reset", "invitation", "account-request", "account-request-refused"}
    every_kind |= {"password-reset-no-account"}
    assert every_kind <= kinds, sorted(kinds)
    found = {}
    for message in messages:
        read = [message.subject, message.text_body, visible_text(message.html_body or "<p>")]
        read += [ics_text(message.calendar.encode())] if message.calendar else []
        read += [attachment_text(attachment) for attachment in message.attachments]
        if old := old_words_in("\n".join(read)):
            found[message.dedupe_key] = old
    assert found == {}


def test_the_new_words_are_used(app, families_first, site):  # noqa: F811
    """Not only are the old words gone: the new ones are there."""
    page = site.client("coord").get(f"/cases/{site.case.id}").text
    assert "EHA" in visible_text(page)
    assert "lead practitioner" in visible_text(page).lower()
