"""What Outlook is documented to need (issue 17 point 6; Microsoft's MS-OXCICAL and RFC 6047),
kept through MAF's own circulation of a hybrid meeting (point 5), read back by the parsers the
other calendar tests use: icalendar, vobject and Mozilla's ical.js.

- the text/calendar part's `method` parameter equals the calendar's METHOD (RFC 6047 2.4:
  Outlook files a part without it, or with another, as an attachment, not an invitation);
- an update keeps the event's UID and raises its SEQUENCE, so Outlook updates the event it
  holds instead of adding a second one;
- X-MICROSOFT-CDO-BUSYSTATUS / -INTENDEDSTATUS: BUSY for the meeting, FREE once cancelled;
- X-ALT-DESC;FMTTYPE=text/html: the description as HTML whose links work;
- the links are in the email body too: Outlook may show the body instead of the description.
"""

import email
import email.policy
import re
from datetime import date, time

import icalendar
import lxml.html
import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import AgendaItem, ItemKind
from maf.circulation import events, outbox, services
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MemberRole
from tests.circulation.test_calendar import icaljs, vobject_read

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Charnwood%40thread.v2/0?context=%7b%22Tid%22%3a%22a1%22%7d"
ZOOM = "https://us02web.zoom.us/j/81234567890?pwd=Q2hhcm53b29k"
CHILDREN = ("Amy", "Lee", "Ben", "Ward", "2013", "2014", "LE11", "LE12")


@pytest.fixture
def hybrid(coordinator, make_meeting, make_agency, make_ready_case):
    """A meeting at the council offices and on Teams, with two members and two new cases."""
    meeting = make_meeting(date(2027, 7, 13), joining_link=TEAMS)
    for name, address in (("Zoë Brennan", "zoe@example.org"), ("Paul Dennis", "paul@example.org")):
        forums.add_member(
            meeting.forum,
            name=name,
            email=address,
            agency=make_agency(),
            role=MemberRole.STANDING,
            user=coordinator,
        )
    amy = make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE11 1AA")
    ben = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    agendas.add_to_agenda(meeting, amy, ItemKind.NEW_CASE, coordinator, "Dan K", "dan@example.org")
    agendas.add_to_agenda(meeting, ben, ItemKind.NEW_CASE, coordinator, "Eve M", "eve@example.org")
    return meeting


def _messages(after_id: int = 0) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def _last_id() -> int:
    return max((m.id for m in _messages()), default=0)


def _to(recipient: str, messages: list[OutboxMessage]) -> OutboxMessage:
    (message,) = [m for m in messages if m.recipient_email == recipient and m.calendar]
    return message


def _event(message: OutboxMessage):
    (event,) = icalendar.Calendar.from_ical(message.calendar).walk("VEVENT")
    return event


def _alt_desc(event) -> str:
    # icalendar keeps an X- property it does not know as written: unescape it as the TEXT
    # MS-OXCICAL says it is (RFC 5545 3.3.11).
    written = event["X-ALT-DESC"].to_ical().decode()
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], written)


def _links(html: str) -> list[str]:
    return [a.get("href") for a in lxml.html.document_fromstring(html).iter("a")]


def _sent_calendar_parts(smtp_server) -> list:
    outbox.send_pending(worker="test")
    parts = []
    for received in smtp_server.received:
        mime = email.message_from_bytes(received.data, policy=email.policy.default)
        parts += [p for p in mime.walk() if p.get_content_type() == "text/calendar"]
    return parts


def _cancel(meeting, coordinator) -> None:
    # A meeting with items on its agenda is not cancelled until they have gone elsewhere.
    items = select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
    for item in db.session.scalars(items).all():
        agendas.remove_from_agenda(item, coordinator)
    services.cancel_meeting(meeting, "The chair is unwell", coordinator)


def test_outlook_takes_the_part_as_an_invitation_its_method_parameter_equals_method(
    hybrid, coordinator, smtp_server
):
    services.circulate(hybrid, coordinator)
    requests = _sent_calendar_parts(smtp_server)
    assert len(requests) == 5  # three members (the chair too) and two presenters
    for part in requests:
        body = part.get_payload(decode=True)
        assert part.get_param("method") == "REQUEST"
        assert str(icalendar.Calendar.from_ical(body)["METHOD"]) == "REQUEST"
        assert part.get_content_charset() == "utf-8"

    smtp_server.received.clear()
    _cancel(hybrid, coordinator)
    cancels = _sent_calendar_parts(smtp_server)
    assert len(cancels) == 5
    for part in cancels:
        assert part.get_param("method") == "CANCEL"
        assert str(icalendar.Calendar.from_ical(part.get_payload(decode=True))["METHOD"]) == (
            "CANCEL"
        )


def test_outlook_updates_the_event_it_holds_when_the_joining_link_changes(hybrid, coordinator):
    """A change of the joining link alone reaches calendars as an update of the same event."""
    services.circulate(hybrid, coordinator)
    first = _event(_to("zoe@example.org", _messages()))
    before = _last_id()

    forums.reschedule_meeting(
        hybrid,
        day=hybrid.date,
        start_time=hybrid.start_time,
        venue=hybrid.venue,
        joining_link=ZOOM,
        reason="The council moved to Zoom",
        user=coordinator,
    )
    (change,) = [c for c in hybrid.changes if c.what == "joining link"]
    assert (change.before, change.after) == (TEAMS, ZOOM)
    assert services.changes_not_circulated(hybrid)
    services.circulate(hybrid, coordinator)

    update = _to("zoe@example.org", _messages(before))
    updated = _event(update)
    assert str(updated["UID"]) == str(first["UID"]) == events.meeting_uid(hybrid)
    assert (first["SEQUENCE"], updated["SEQUENCE"]) == (0, 1)
    assert str(updated["URL"]) == ZOOM and ZOOM in str(updated["LOCATION"])
    assert f"Join online: {ZOOM}" in str(updated["DESCRIPTION"])
    assert TEAMS not in update.calendar.replace("\r\n ", "")
    # The email says so too (what changed is circulation's wording; the new link is in it).
    assert ZOOM in update.text_body and ZOOM in _links(update.html_body)
    # The presenters' slots follow the meeting's link.
    slot = _to("dan@example.org", _messages(before))
    assert str(_event(slot)["URL"]) == ZOOM


def test_busy_in_outlook_for_the_meeting_and_free_once_it_is_cancelled(hybrid, coordinator):
    services.circulate(hybrid, coordinator)
    for message in _messages():
        if message.calendar:
            event = _event(message)
            assert str(event["X-MICROSOFT-CDO-BUSYSTATUS"]) == "BUSY"
            assert str(event["X-MICROSOFT-CDO-INTENDEDSTATUS"]) == "BUSY"
            assert str(event["TRANSP"]) == "OPAQUE"
    before = _last_id()
    _cancel(hybrid, coordinator)
    cancels = [m for m in _messages(before) if m.calendar]
    assert cancels
    for message in cancels:
        event = _event(message)
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["X-MICROSOFT-CDO-BUSYSTATUS"]) == "FREE"
        assert str(event["X-MICROSOFT-CDO-INTENDEDSTATUS"]) == "FREE"
        assert str(event["TRANSP"]) == "TRANSPARENT"


def test_the_html_description_has_working_links_to_join_and_to_the_agenda(hybrid, coordinator):
    services.circulate(hybrid, coordinator)
    agenda = events.agenda_link(hybrid)
    for recipient in ("zoe@example.org", "dan@example.org"):  # a member and a presenter
        event = _event(_to(recipient, _messages()))
        assert event["X-ALT-DESC"].params["FMTTYPE"] == "text/html"
        html = _alt_desc(event)
        assert _links(html) == [TEAMS, agenda]
        text = lxml.html.document_fromstring(html).text_content()
        assert f"Join online: {TEAMS}" in text and agenda in text
        description = str(event["DESCRIPTION"])
        assert f"Join online: {TEAMS}" in description and agenda in description


def test_markup_in_the_forum_name_is_text_in_the_html_description(hybrid, coordinator):
    hybrid.forum.name = 'Charnwood <b>forum</b> & "friends"'
    db.session.commit()
    services.circulate(hybrid, coordinator)
    event = _event(_to("zoe@example.org", _messages()))
    tree = lxml.html.document_fromstring(_alt_desc(event))
    assert not tree.xpath("//b")
    assert 'Meeting of the Charnwood <b>forum</b> & "friends".' in tree.text_content()


def test_the_links_are_in_the_email_body_too(hybrid, coordinator, make_user):
    """Outlook may show the email's body instead of the event's description."""
    from maf.auth.models import Role

    make_user(Role.PRACTITIONER, email="zoe@example.org", name="Zoë Brennan")
    services.circulate(hybrid, coordinator)
    agenda = events.agenda_link(hybrid)
    # Zoë signs in to MAF; Paul has no account, and Dan presents.
    for recipient in ("zoe@example.org", "paul@example.org", "dan@example.org"):
        message = _to(recipient, _messages())
        assert f"Join online: {TEAMS}" in message.text_body
        assert TEAMS in _links(message.html_body)
    zoe = _to("zoe@example.org", _messages())
    assert agenda in zoe.text_body and agenda in _links(zoe.html_body)


def test_every_parser_reads_where_to_join_and_the_outlook_properties(hybrid, coordinator):
    services.circulate(hybrid, coordinator)
    message = _to("zoe@example.org", _messages())
    data = message.calendar.encode()
    location = f"{hybrid.venue}; online: {TEAMS}"
    agenda = events.agenda_link(hybrid)

    (parsed,) = icaljs(data)["events"]
    assert parsed["location"] == location and parsed["url"] == TEAMS
    assert f"Join online: {TEAMS}" in parsed["description"] and agenda in parsed["description"]
    assert parsed["altDescType"] == "text/html"
    assert _links(parsed["altDesc"]) == [TEAMS, agenda]
    assert (parsed["busyStatus"], parsed["intendedStatus"]) == ("BUSY", "BUSY")

    vevent = vobject_read(data).vevent
    assert vevent.location.value == location and vevent.url.value == TEAMS
    assert f"Join online: {TEAMS}" in vevent.description.value
    assert vevent.contents["x-alt-desc"][0].params["FMTTYPE"] == ["text/html"]
    assert vevent.contents["x-microsoft-cdo-busystatus"][0].value == "BUSY"


def test_the_feed_stays_valid_with_the_joining_link(hybrid, coordinator, make_user):
    from maf.auth.models import Role

    zoe = make_user(Role.PRACTITIONER, email="zoe@example.org", name="Zoë Brennan")
    services.circulate(hybrid, coordinator)
    data = services.calendar_feed(zoe)

    calendar = icalendar.Calendar.from_ical(data)
    assert "METHOD" not in calendar
    (event,) = calendar.walk("VEVENT")
    assert str(event["URL"]) == TEAMS and TEAMS in str(event["LOCATION"])
    assert str(event["X-MICROSOFT-CDO-BUSYSTATUS"]) == "BUSY"
    (parsed,) = icaljs(data)["events"]
    assert parsed["url"] == TEAMS and _links(parsed["altDesc"])[0] == TEAMS
    assert vobject_read(data).vevent.url.value == TEAMS


def test_a_meeting_in_the_room_only_links_to_its_agenda(hybrid, coordinator):
    hybrid.joining_link = ""
    db.session.commit()
    services.circulate(hybrid, coordinator)
    message = _to("zoe@example.org", _messages())
    event = _event(message)
    agenda = events.agenda_link(hybrid)
    assert str(event["LOCATION"]) == hybrid.venue
    assert str(event["URL"]) == agenda
    assert "Join online" not in str(event["DESCRIPTION"]) and agenda in str(event["DESCRIPTION"])
    assert _links(_alt_desc(event)) == [agenda]
    assert "Join online" not in message.text_body and "Join online" not in message.html_body


def test_no_invitation_carries_the_agenda_contents(hybrid, coordinator, make_user):
    """The joining link is the coordinator's to type; what MAF writes itself never names a
    child: not the description, nor its HTML, nor the feed."""
    from maf.auth.models import Role

    zoe = make_user(Role.PRACTITIONER, email="zoe@example.org", name="Zoë Brennan")
    services.circulate(hybrid, coordinator)
    hybrid_start = hybrid.start_time
    forums.reschedule_meeting(
        hybrid,
        day=hybrid.date,
        start_time=time(hybrid_start.hour + 1, hybrid_start.minute),
        venue=hybrid.venue,
        reason="",
        user=coordinator,
    )
    services.circulate(hybrid, coordinator)
    calendars = [m.calendar for m in _messages() if m.calendar]
    calendars.append(services.calendar_feed(zoe).decode())
    assert len(calendars) >= 11
    for text in calendars:
        unfolded = text.replace("\r\n ", "")
        for personal in CHILDREN:
            assert personal not in unfolded, personal
