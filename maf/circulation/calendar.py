"""Calendar invitations (iTIP over iMIP) and personal subscription feeds for forum meetings.

Agency attendees live in Outlook, Google Calendar, Apple Calendar and Thunderbird; changes and
cancellations must update the event already in their calendar.

So every meeting (and every presenter's slot) keeps one UID for its whole life and each change
is sent with a higher SEQUENCE: a client matches an incoming REQUEST or CANCEL to the event it
already holds by UID and applies it only if the SEQUENCE is not lower than its own copy's. Times
are written in Europe/London with the zone's VTIMEZONE embedded, so a meeting at 09:30 stays at
09:30 on both sides of a clock change whatever zone the reader's device is set to.

The VTIMEZONE is written the way Outlook itself writes one: a STANDARD and a DAYLIGHT rule, each
an RRULE (last Sunday of October / of March). icalendar's ``Timezone.from_tzid`` would instead
list every transition as RDATEs over a bounded window (1970-2038 by default, about 2.6 kB per
message), which Outlook approximates rather than imports (MS-OXCICAL 2.1.3.1.1.19.2), and it
writes the spring-forward onset as 02:00 where RFC 5545 wants the local time before the change
(01:00 GMT). The rule-based zone is checked against the tz database for every instant the
calendar uses; if the rules ever stop matching (Parliament changes the clocks) the tz-database
form from icalendar is used instead, so an event is never written at the wrong time.

Outlook's documented behaviour (MS-OXCICAL, the sections named after each property) is kept:
X-MICROSOFT-CDO-BUSYSTATUS and X-MICROSOFT-CDO-INTENDEDSTATUS say BUSY for a confirmed meeting
and FREE for a cancelled one (TRANSP, which other clients read, is written to agree), and
X-ALT-DESC;FMTTYPE=text/html carries the description as HTML with working links, which Outlook
imports as the item's body in place of the plain DESCRIPTION. The email carrying an invitation
must also give the links in its body: Outlook may show the body, not the event.

Everything written comes from the fields of :class:`CalendarEvent`. Callers choose the text; it
must never carry a child's or family's personal data (a summary names the forum, not a case),
and nothing beyond those fields is added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
    vText,
)

from maf.dbtypes import LONDON, utcnow

TZID = "Europe/London"
PRODID = "-//MAF Multi-Agency Forums//MAF//EN"

METHODS = ("REQUEST", "CANCEL")
ROLES = ("REQ-PARTICIPANT", "OPT-PARTICIPANT", "CHAIR", "NON-PARTICIPANT")
FEED_REFRESH = timedelta(hours=1)

# Control characters cannot appear in a parameter value (RFC 5545 3.1), and a double quote can
# only be written with RFC 6868's caret escape, which Outlook and vobject do not read back.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    role: str = "REQ-PARTICIPANT"  # or "OPT-PARTICIPANT" (observers), "CHAIR"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown attendee role {self.role!r}; expected one of {ROLES}")
        _check_email(self.email)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable for the meeting (or slot), e.g. "meeting-12@maf.leics.example"
    sequence: int
    summary: str  # never a child's name: e.g. "Charnwood multi-agency forum"
    description: str  # plain text
    location: str
    url: str  # the joining link of a hybrid meeting, else the agenda page (behind sign-in)
    starts: datetime  # aware, Europe/London
    ends: datetime
    organizer_email: str
    organizer_name: str
    cancelled: bool = False
    related_to: str | None = None  # a presenter's slot points at its meeting's UID
    attendees: tuple[Attendee, ...] = ()
    dtstamp: datetime | None = None  # default now (UTC); tests pass a fixed value
    # The description again as an HTML fragment whose links work (X-ALT-DESC); the caller
    # escapes what it puts in. Empty: none is written.
    html_description: str = ""

    def __post_init__(self) -> None:
        if not self.uid or _CONTROL.search(self.uid):
            raise ValueError("an event needs a UID without control characters")
        if self.sequence < 0:
            raise ValueError("SEQUENCE cannot be negative")
        for label, moment in (("starts", self.starts), ("ends", self.ends)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"{label} must be timezone-aware")
        if self.dtstamp is not None and self.dtstamp.utcoffset() is None:
            raise ValueError("dtstamp must be timezone-aware")
        if self.ends <= self.starts:
            raise ValueError("an event must end after it starts")
        _check_email(self.organizer_email)


def invitation(event: CalendarEvent, method: str) -> bytes:
    """An iTIP message for one event: METHOD:REQUEST to invite or update, METHOD:CANCEL to cancel.

    A CANCEL should carry a SEQUENCE higher than the last REQUEST's, with the same UID, and list
    the attendees it is sent to (RFC 5546 3.2.5).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if method == "REQUEST" and event.cancelled:
        raise ValueError("a cancelled event is sent with method CANCEL, not REQUEST")
    calendar = _calendar([event])
    calendar.add("method", method)
    calendar.add_component(_vevent(event, cancelled=method == "CANCEL", with_attendees=True))
    return calendar.to_ical()


def feed(events: list[CalendarEvent], name: str) -> bytes:
    """A subscription calendar (no METHOD): one VEVENT per event, without attendees.

    A feed belongs to one person, but listing everyone invited would tell each subscriber who
    else attends, so ATTENDEE lines are left out. Cancelled events stay in the feed with
    STATUS:CANCELLED so a client that has them drops or strikes them through.
    """
    calendar = _calendar(events)
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)  # what Apple, Google and Outlook read
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))  # X- props default to TEXT
    for event in events:
        calendar.add_component(_vevent(event, cancelled=event.cancelled, with_attendees=False))
    return calendar.to_ical()


def _calendar(events: list[CalendarEvent]) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add_component(london_vtimezone(_instants(events)))
    return calendar


def _vevent(event: CalendarEvent, *, cancelled: bool, with_attendees: bool) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", (event.dtstamp or utcnow()).astimezone(UTC))
    vevent.add("dtstart", event.starts.astimezone(LONDON))
    vevent.add("dtend", event.ends.astimezone(LONDON))
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("location", event.location)
    vevent.add("url", event.url)
    vevent.add("organizer", _address(event.organizer_email, event.organizer_name))
    if with_attendees:
        for attendee in event.attendees:
            address = _address(attendee.email, attendee.name)
            address.params["CUTYPE"] = "INDIVIDUAL"
            address.params["ROLE"] = attendee.role
            address.params["PARTSTAT"] = "NEEDS-ACTION"
            address.params["RSVP"] = "TRUE"
            vevent.add("attendee", address)
    if event.related_to:
        vevent.add("related-to", event.related_to)
    if event.html_description:
        # As TEXT (MS-OXCICAL's format for it): icalendar would write an X- property it does
        # not know unescaped, so a line break in it would end the property.
        vevent.add("x-alt-desc", vText(_html_document(event)), parameters={"FMTTYPE": "text/html"})
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A cancelled meeting no longer takes up the time: Outlook frees it (MS-OXCICAL's busy
    # status), other clients read TRANSP.
    busy = "FREE" if cancelled else "BUSY"
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    vevent.add("x-microsoft-cdo-busystatus", vText(busy))
    vevent.add("x-microsoft-cdo-intendedstatus", vText(busy))
    return vevent


def _html_document(event: CalendarEvent) -> str:
    # Outlook expects a whole HTML document in X-ALT-DESC, as it writes one itself.
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f"<body>{event.html_description}</body></html>"
    )


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    common_name = _CONTROL.sub(" ", name).replace('"', "'").strip()
    if common_name:
        address.params["CN"] = common_name
    return address


def _check_email(email: str) -> None:
    if "@" not in email or _CONTROL.search(email) or any(c in email for c in ' "<>'):
        raise ValueError(f"not a usable email address: {email!r}")


def _instants(events: list[CalendarEvent]) -> tuple[datetime, ...]:
    return tuple(moment for event in events for moment in (event.starts, event.ends))


def london_vtimezone(instants: tuple[datetime, ...] = ()) -> Timezone:
    """The VTIMEZONE for Europe/London, correct for every instant given.

    The rule-based form (UK summer time since 1996) is used when it gives the tz database's
    offset at each instant; otherwise icalendar's tz-database form, bounded to those instants.
    """
    rules = _london_rules()
    as_tzinfo = _rules_as_tzinfo()
    if all(_offset(moment, as_tzinfo) == _offset(moment, LONDON) for moment in instants):
        return rules
    first = min(instants).astimezone(UTC).date()
    last = max(instants).astimezone(UTC).date()
    return Timezone.from_tzid(
        TZID, first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1)
    )


def _offset(moment: datetime, zone) -> timedelta | None:
    return moment.astimezone(zone).utcoffset()


def _london_rules() -> Timezone:
    # Since 1996 the UK changes at 01:00 UTC on the last Sunday of March and of October (the
    # Summer Time Order 2002 keeps the rule). DTSTART is local time before each change.
    daylight = TimezoneDaylight()
    daylight.add("dtstart", datetime(1996, 3, 31, 1, 0))
    daylight.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    daylight.add("tzname", "BST")
    daylight.add("tzoffsetfrom", timedelta(0))
    daylight.add("tzoffsetto", timedelta(hours=1))
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1996, 10, 27, 2, 0))
    standard.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    standard.add("tzname", "GMT")
    standard.add("tzoffsetfrom", timedelta(hours=1))
    standard.add("tzoffsetto", timedelta(0))
    timezone = Timezone()
    timezone.add("tzid", TZID)
    timezone.add_component(standard)
    timezone.add_component(daylight)
    return timezone


@cache  # the component is built afresh for each calendar; only its tzinfo is kept
def _rules_as_tzinfo():
    return Timezone.from_ical(_london_rules().to_ical()).to_tz(lookup_tzid=False)
