"""Invitations and feeds read back by real parsers: ical.js, vobject and a Radicale CalDAV server.

Agency attendees live in Outlook, Google Calendar, Apple Calendar and Thunderbird; changes and
cancellations must update the event already in their calendar. None of those clients can run
here, so each message is read by independent parsers instead: Mozilla's ical.js (through
icaljs_parse.mjs), vobject (which Radicale and many Python clients build on) and a real Radicale
server answering CalDAV time-range queries, which is what a client does when it syncs.
"""

import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from icalendar import Calendar

from maf.circulation.calendar import (
    LONDON,
    Attendee,
    CalendarEvent,
    feed,
    invitation,
    london_vtimezone,
)
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
ICALJS_HELPER = Path(__file__).with_name("icaljs_parse.mjs")
STAMP = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)

ZOE = Attendee("zoe.oneill@nhs.example", "Zoë O'Neill-Łukasz")
PRIYA = Attendee("priya.patel@police.example", "Patel, Priya; Leicestershire Police")
OBSERVER = Attendee("observer@school.example", "Sam Observer", "OPT-PARTICIPANT")
CHAIR = Attendee("chair@leics.example", "Chris Chair", "CHAIR")
ATTENDEES = (CHAIR, ZOE, PRIYA, OBSERVER)
LOCATION = "Committee Room 2, County Hall, Glenfield, LE3 8RA"
DESCRIPTION = (
    "Charnwood multi-agency forum. The agenda, the papers for each discussion and the dial-in "
    "details are on the agenda page, which you can open after signing in. Please tell the "
    "forum coordinator by Friday if you cannot come, and send a colleague from your agency "
    "if you can; observers are welcome but do not take part in the discussion. Zoë's team "
    "will bring the referral summaries; nothing about a child is written in this invitation."
)


def meeting(**changes) -> CalendarEvent:
    event = CalendarEvent(
        uid="meeting-12@maf.leics.example",
        sequence=0,
        summary="Charnwood multi-agency forum",
        description=DESCRIPTION,
        location=LOCATION,
        url="https://maf.leics.example/agendas/12",
        starts=datetime(2027, 7, 13, 9, 30, tzinfo=LONDON),
        ends=datetime(2027, 7, 13, 13, 30, tzinfo=LONDON),
        organizer_email="forums@leics.example",
        organizer_name="Charnwood forum coordinator",
        attendees=ATTENDEES,
        dtstamp=STAMP,
    )
    return replace(event, **changes)


def january(**changes) -> CalendarEvent:
    return meeting(
        uid="meeting-7@maf.leics.example",
        url="https://maf.leics.example/agendas/7",
        starts=datetime(2027, 1, 12, 9, 30, tzinfo=LONDON),
        ends=datetime(2027, 1, 12, 13, 30, tzinfo=LONDON),
        **changes,
    )


def slot() -> CalendarEvent:
    return meeting(
        uid="slot-31@maf.leics.example",
        summary="Your slot at the Charnwood multi-agency forum",
        starts=datetime(2027, 7, 13, 10, 15, tzinfo=LONDON),
        ends=datetime(2027, 7, 13, 10, 45, tzinfo=LONDON),
        related_to="meeting-12@maf.leics.example",
        attendees=(ZOE,),
    )


def request_and_cancel() -> tuple[bytes, bytes]:
    return (
        invitation(meeting(sequence=3), "REQUEST"),
        invitation(meeting(sequence=4), "CANCEL"),
    )


def the_feed() -> bytes:
    return feed(
        [meeting(sequence=2), january(sequence=1, cancelled=True), slot()],
        "Charnwood forums: Zoë O'Neill-Łukasz",
    )


def unavailable(what: str, parser: str) -> None:
    missing(f"{what}, so the {parser} checks cannot run")


def python_package(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"the Python package {name} is not installed (pip install -e '.[dev]')", name)


# --- Python side: the bytes themselves ---------------------------------------------------------


def all_messages() -> dict[str, bytes]:
    request, cancel = request_and_cancel()
    return {"request": request, "cancel": cancel, "feed": the_feed()}


@pytest.mark.parametrize("kind", ["request", "cancel", "feed"])
def test_lines_end_in_crlf_and_are_folded_at_75_octets(kind):
    data = all_messages()[kind]

    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "a bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "a bare CR"
    lines = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # folding never splits a multi-byte character
    assert any(line.startswith(b" ") for line in lines), "the long DESCRIPTION was not folded"


def test_a_request_has_every_property_a_client_needs():
    data = invitation(meeting(), "REQUEST")
    text = data.decode("utf-8")
    calendar = Calendar.from_ical(data)

    assert re.search(r"^PRODID:-//[^/]+//MAF//EN\r$", text, re.M)
    assert "\r\nVERSION:2.0\r\n" in text
    assert "\r\nMETHOD:REQUEST\r\n" in text
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert {c.name for c in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert all("RRULE" in c for c in vtimezone.subcomponents), "DST rules, not a list of dates"
    (event,) = calendar.walk("VEVENT")
    unfolded = text.replace("\r\n ", "")
    assert "\r\nDTSTART;TZID=Europe/London:20270713T093000\r\n" in unfolded
    assert "\r\nDTEND;TZID=Europe/London:20270713T133000\r\n" in unfolded
    assert "\r\nDTSTAMP:20270601T080000Z\r\n" in unfolded
    assert str(event["UID"]) == "meeting-12@maf.leics.example"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["TRANSP"]) == "OPAQUE"
    assert str(event["LOCATION"]) == LOCATION
    assert "LOCATION:Committee Room 2\\, County Hall\\, Glenfield\\, LE3 8RA" in unfolded
    assert str(event["DESCRIPTION"]) == DESCRIPTION
    assert str(event["URL"]) == "https://maf.leics.example/agendas/12"
    assert str(event["ORGANIZER"]) == "mailto:forums@leics.example"
    assert event["ORGANIZER"].params["CN"] == "Charnwood forum coordinator"
    assert "RELATED-TO" not in event
    attendees = event.attendees
    assert [str(a) for a in attendees] == [f"mailto:{a.email}" for a in ATTENDEES]
    for attendee, sent in zip(attendees, ATTENDEES, strict=True):
        assert attendee.params["CN"] == sent.name
        assert attendee.params["ROLE"] == sent.role
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["CUTYPE"] == "INDIVIDUAL"


def test_a_presenters_slot_points_at_its_meeting():
    (event,) = Calendar.from_ical(invitation(slot(), "REQUEST")).walk("VEVENT")

    assert str(event["RELATED-TO"]) == "meeting-12@maf.leics.example"
    assert [str(a) for a in event.attendees] == ["mailto:zoe.oneill@nhs.example"]


def test_a_cancellation_is_method_cancel_and_status_cancelled():
    request, cancel = request_and_cancel()
    before = Calendar.from_ical(request)
    after = Calendar.from_ical(cancel)

    assert str(before["METHOD"]) == "REQUEST"
    assert str(after["METHOD"]) == "CANCEL"
    (old,) = before.walk("VEVENT")
    (new,) = after.walk("VEVENT")
    assert str(old["UID"]) == str(new["UID"])
    assert (old["SEQUENCE"], new["SEQUENCE"]) == (3, 4)
    assert (str(old["STATUS"]), str(new["STATUS"])) == ("CONFIRMED", "CANCELLED")


def test_a_cancelled_event_is_not_sent_as_a_request_and_unknown_methods_are_refused():
    with pytest.raises(ValueError, match="CANCEL"):
        invitation(meeting(cancelled=True), "REQUEST")
    with pytest.raises(ValueError, match="method"):
        invitation(meeting(), "PUBLISH")


def test_events_refuse_naive_times_and_backwards_times():
    with pytest.raises(ValueError, match="aware"):
        meeting(starts=datetime(2027, 7, 13, 9, 30))
    with pytest.raises(ValueError, match="end after"):
        meeting(ends=datetime(2027, 7, 13, 9, 0, tzinfo=LONDON))
    with pytest.raises(ValueError, match="role"):
        Attendee("a@b.example", "A", "OBSERVER")


def test_the_feed_is_a_subscription_without_method_or_attendees():
    data = the_feed()
    text = data.decode("utf-8")
    unfolded = text.replace("\r\n ", "")
    calendar = Calendar.from_ical(data)

    assert "METHOD" not in calendar
    assert "\r\nMETHOD:" not in text
    assert "ATTENDEE" not in text
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    assert "\r\nX-WR-CALNAME:Charnwood forums: Zoë O'Neill-Łukasz\r\n" in unfolded
    assert len(calendar.walk("VTIMEZONE")) == 1
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert list(events) == [
        "meeting-12@maf.leics.example",
        "meeting-7@maf.leics.example",
        "slot-31@maf.leics.example",
    ]
    assert str(events["meeting-7@maf.leics.example"]["STATUS"]) == "CANCELLED"
    assert str(events["meeting-12@maf.leics.example"]["STATUS"]) == "CONFIRMED"
    assert str(events["slot-31@maf.leics.example"]["RELATED-TO"]) == "meeting-12@maf.leics.example"


def test_markup_in_the_summary_is_carried_as_literal_text():
    summary = "<script>alert('forum')</script> & <b>bold</b>; Charnwood, \"north\""
    data = invitation(meeting(summary=summary), "REQUEST")

    assert b"SUMMARY:<script>alert('forum')</script> & <b>bold</b>\\; Charnwood\\, \"north\"" in (
        data.replace(b"\r\n ", b"")
    )
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == summary


def test_text_cannot_break_out_of_its_property():
    injected = "Forum\r\nATTENDEE:mailto:intruder@evil.example\nEND:VEVENT"
    data = invitation(meeting(summary=injected, organizer_name='Coordinator "A"\r\nX'), "REQUEST")

    assert b"\r\nATTENDEE:mailto:intruder" not in data
    assert data.count(b"\r\nEND:VEVENT\r\n") == 1
    assert b"SUMMARY:Forum\\nATTENDEE:mailto:intruder@evil.example\\nEND:VEVENT\r\n" in data
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == injected.replace("\r\n", "\n")  # one line break either way
    assert len(event.attendees) == len(ATTENDEES)
    assert event["ORGANIZER"].params["CN"] == "Coordinator 'A' X"


# Outlook's own properties (MS-OXCICAL); the whole path through circulation is in test_outlook.
HTML_DESCRIPTION = (
    '<p>Charnwood forum; room 2, then online.</p>\n<p><a href="https://maf.leics.example/'
    'agendas/12">Read the agenda</a> \\ <a href="https://teams.example/j?a=1&amp;b=2">Join'
    "</a></p>"
)


def test_the_busy_status_is_outlooks_busy_and_a_cancel_frees_the_time():
    request, cancel = request_and_cancel()
    (busy,) = Calendar.from_ical(request).walk("VEVENT")
    (free,) = Calendar.from_ical(cancel).walk("VEVENT")

    assert "\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n" in request.decode()
    assert "\r\nX-MICROSOFT-CDO-INTENDEDSTATUS:BUSY\r\n" in request.decode()
    assert (str(busy["TRANSP"]), str(free["TRANSP"])) == ("OPAQUE", "TRANSPARENT")
    assert str(free["X-MICROSOFT-CDO-BUSYSTATUS"]) == "FREE"
    assert str(free["X-MICROSOFT-CDO-INTENDEDSTATUS"]) == "FREE"
    feed_events = {str(e["UID"]): e for e in Calendar.from_ical(the_feed()).walk("VEVENT")}
    assert str(feed_events["meeting-7@maf.leics.example"]["X-MICROSOFT-CDO-BUSYSTATUS"]) == "FREE"
    assert str(feed_events["meeting-12@maf.leics.example"]["X-MICROSOFT-CDO-BUSYSTATUS"]) == "BUSY"


def test_the_html_description_is_x_alt_desc_as_text_in_a_whole_document():
    data = invitation(meeting(html_description=HTML_DESCRIPTION), "REQUEST")
    unfolded = data.decode().replace("\r\n ", "")

    (line,) = [line for line in unfolded.split("\r\n") if line.startswith("X-ALT-DESC")]
    assert line.startswith("X-ALT-DESC;FMTTYPE=text/html:<!DOCTYPE html><html>")
    assert "forum\\; room 2\\, then" in line and "</p>\\n<p>" in line, "escaped as TEXT"
    (parsed,) = icaljs(data)["events"]
    assert parsed["altDescType"] == "text/html"
    assert parsed["altDesc"] == (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f"<body>{HTML_DESCRIPTION}</body></html>"
    )
    assert HTML_DESCRIPTION not in data.decode(), "never written unescaped"
    # Without one, none is written: plain DESCRIPTION is what every client reads.
    assert b"X-ALT-DESC" not in invitation(meeting(), "REQUEST")


def test_a_line_break_in_the_html_description_cannot_end_the_property():
    injected = "<p>Forum</p>\r\nATTENDEE:mailto:intruder@evil.example\nEND:VEVENT"
    data = invitation(meeting(html_description=injected), "REQUEST")

    assert b"\r\nATTENDEE:mailto:intruder" not in data
    assert data.count(b"\r\nEND:VEVENT\r\n") == 1
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert len(event.attendees) == len(ATTENDEES)


def test_the_rule_based_vtimezone_agrees_with_the_tz_database_1996_to_2037():
    vtimezone = Calendar.from_ical(invitation(meeting(), "REQUEST")).walk("VTIMEZONE")[0]
    written = vtimezone.to_tz(lookup_tzid=False)
    for year in range(1996, 2038):
        # Every 20 minutes through the night on each day a change could fall (the last
        # Sunday is the 25th-31st), and midday mid-summer and mid-winter.
        moments = [datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC)]
        for month in (3, 10):
            for day in range(24, 32):
                night = datetime(year, month, day, tzinfo=UTC)
                moments += [night + timedelta(minutes=20 * step) for step in range(10)]
        for moment in moments:
            assert (
                moment.astimezone(written).utcoffset() == moment.astimezone(LONDON).utcoffset()
            ), moment


def test_dates_the_rules_do_not_cover_fall_back_to_the_tz_database():
    old = datetime(1990, 10, 25, 9, 30, tzinfo=LONDON)  # BST ended on 28 October in 1990
    vtimezone = london_vtimezone((old, old + timedelta(hours=4)))

    assert "RDATE" in vtimezone.to_ical().decode()
    written = vtimezone.to_tz(lookup_tzid=False)
    assert old.astimezone(written).utcoffset() == timedelta(hours=1)
    # The rules are only used where they match the tz database: a recent date keeps them.
    recent = datetime(2027, 10, 25, 9, 30, tzinfo=LONDON)
    assert london_vtimezone((recent,)).to_ical().count(b"RRULE") == 2


# --- ical.js -----------------------------------------------------------------------------------


def icaljs(data: bytes, tz: str = "Pacific/Auckland") -> dict:
    """Parse with ical.js under a process time zone far from London, so a fallback would show."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "Node.js is not installed"
    elif not (ROOT / "node_modules" / "ical.js" / "package.json").exists():
        missing = "the npm package ical.js is not installed (run `npm ci`)"
    if missing:
        unavailable(missing, "ical.js")
    result = subprocess.run(
        [node, str(ICALJS_HELPER)],
        input=data,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "TZ": tz},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def test_icaljs_reads_the_july_and_january_meetings_in_utc():
    july = icaljs(invitation(meeting(), "REQUEST"))
    winter = icaljs(invitation(january(), "REQUEST"))

    assert july["timezones"] == ["Europe/London"] and july["registered"] == [True]
    (event,) = july["events"]
    assert event["startZone"] == "Europe/London"
    assert (event["start"], event["end"]) == (
        "2027-07-13T08:30:00.000Z",
        "2027-07-13T12:30:00.000Z",
    )
    assert event["startOffsetSeconds"] == 3600
    (event,) = winter["events"]
    assert (event["start"], event["end"]) == (
        "2027-01-12T09:30:00.000Z",
        "2027-01-12T13:30:00.000Z",
    )
    assert event["startOffsetSeconds"] == 0


def test_icaljs_uses_the_embedded_vtimezone_not_the_machines_zone():
    data = invitation(meeting(), "REQUEST")
    for tz in ("UTC", "America/New_York", "Asia/Kolkata"):
        assert icaljs(data, tz)["events"][0]["start"] == "2027-07-13T08:30:00.000Z"
    # A doctored definition moves the event, so the times really come from the VTIMEZONE.
    doctored = data.replace(b"TZOFFSETTO:+0100", b"TZOFFSETTO:+0500")
    assert icaljs(doctored)["events"][0]["start"] == "2027-07-13T04:30:00.000Z"


def test_icaljs_reads_uid_sequence_people_and_text():
    parsed = icaljs(invitation(slot(), "REQUEST"))
    assert parsed["method"] == "REQUEST"
    assert parsed["prodid"].endswith("//MAF//EN")
    (event,) = parsed["events"]
    assert event["uid"] == "slot-31@maf.leics.example"
    assert event["sequence"] == 0
    assert event["status"] == "CONFIRMED"
    assert event["relatedTo"] == "meeting-12@maf.leics.example"
    assert event["location"] == LOCATION
    assert event["description"] == DESCRIPTION
    assert event["transp"] == "OPAQUE"
    assert event["organizer"]["email"] == "forums@leics.example"
    assert event["organizer"]["cn"] == "Charnwood forum coordinator"

    (event,) = icaljs(invitation(meeting(), "REQUEST"))["events"]
    assert event["attendees"] == [
        {
            "email": a.email,
            "cn": a.name,
            "role": a.role,
            "partstat": "NEEDS-ACTION",
            "rsvp": "TRUE",
            "cutype": "INDIVIDUAL",
        }
        for a in ATTENDEES
    ]
    assert event["attendees"][1]["cn"] == "Zoë O'Neill-Łukasz"
    assert event["attendees"][2]["cn"] == "Patel, Priya; Leicestershire Police"


def test_icaljs_sees_the_cancel_as_an_update_of_the_same_event():
    request, cancel = request_and_cancel()
    before, after = icaljs(request), icaljs(cancel)

    assert (before["method"], after["method"]) == ("REQUEST", "CANCEL")
    (old,), (new,) = before["events"], after["events"]
    assert new["uid"] == old["uid"] == "meeting-12@maf.leics.example"
    assert new["sequence"] == old["sequence"] + 1 == 4
    assert (old["status"], new["status"]) == ("CONFIRMED", "CANCELLED")
    assert new["start"] == old["start"] == "2027-07-13T08:30:00.000Z"


def test_icaljs_reads_the_feed():
    parsed = icaljs(the_feed())

    assert parsed["method"] is None
    assert parsed["calname"] == "Charnwood forums: Zoë O'Neill-Łukasz"
    assert parsed["refreshInterval"] == "PT1H"
    assert parsed["publishedTtl"] == "PT1H"
    assert [e["uid"] for e in parsed["events"]] == [
        "meeting-12@maf.leics.example",
        "meeting-7@maf.leics.example",
        "slot-31@maf.leics.example",
    ]
    assert [e["status"] for e in parsed["events"]] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert [e["start"] for e in parsed["events"]] == [
        "2027-07-13T08:30:00.000Z",
        "2027-01-12T09:30:00.000Z",
        "2027-07-13T09:15:00.000Z",
    ]
    assert all(e["attendees"] == [] for e in parsed["events"])


def test_icaljs_carries_markup_as_text():
    summary = "<script>alert('forum')</script>; Charnwood, north"
    (event,) = icaljs(invitation(meeting(summary=summary), "REQUEST"))["events"]
    assert event["summary"] == summary


# --- vobject -----------------------------------------------------------------------------------


def vobject_read(data: bytes):
    vobject = python_package("vobject")
    return vobject.readOne(data.decode("utf-8"))


def test_vobject_reads_the_july_and_january_meetings_in_utc():
    july = vobject_read(invitation(meeting(), "REQUEST")).vevent
    winter = vobject_read(invitation(january(), "REQUEST")).vevent

    assert july.dtstart.value.astimezone(UTC) == datetime(2027, 7, 13, 8, 30, tzinfo=UTC)
    assert july.dtend.value.astimezone(UTC) == datetime(2027, 7, 13, 12, 30, tzinfo=UTC)
    assert winter.dtstart.value.astimezone(UTC) == datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
    assert winter.dtend.value.astimezone(UTC) == datetime(2027, 1, 12, 13, 30, tzinfo=UTC)
    # vobject builds the zone from the embedded VTIMEZONE (dateutil's tzical), not zoneinfo.
    assert type(july.dtstart.value.tzinfo).__name__ == "_tzicalvtz"


def test_vobject_uses_the_embedded_vtimezone():
    # vobject keeps the first VTIMEZONE it meets for each TZID for the life of the process
    # (Radicale, built on vobject, does too), so the doctored copy needs a TZID of its own.
    tzid = f"MAF-Doctored/{uuid.uuid4()}".encode()
    doctored = (
        invitation(meeting(), "REQUEST")
        .replace(b"TZOFFSETTO:+0100", b"TZOFFSETTO:+0500")
        .replace(b"Europe/London", tzid)
    )
    event = vobject_read(doctored).vevent
    assert event.dtstart.value.astimezone(UTC) == datetime(2027, 7, 13, 4, 30, tzinfo=UTC)


def test_vobject_reads_uid_sequence_people_and_text():
    calendar = vobject_read(invitation(slot(), "REQUEST"))
    event = calendar.vevent
    assert calendar.method.value == "REQUEST"
    assert calendar.prodid.value.endswith("//MAF//EN")
    assert event.uid.value == "slot-31@maf.leics.example"
    assert int(event.sequence.value) == 0
    assert event.status.value == "CONFIRMED"
    assert event.related_to.value == "meeting-12@maf.leics.example"
    assert event.location.value == LOCATION
    assert event.description.value == DESCRIPTION
    assert event.organizer.value == "mailto:forums@leics.example"
    assert event.organizer.params["CN"] == ["Charnwood forum coordinator"]

    event = vobject_read(invitation(meeting(), "REQUEST")).vevent
    seen = [
        (a.value, a.params["CN"][0], a.params["ROLE"][0], a.params["PARTSTAT"][0])
        for a in event.attendee_list
    ]
    assert seen == [(f"mailto:{a.email}", a.name, a.role, "NEEDS-ACTION") for a in ATTENDEES]
    assert all(a.params["RSVP"] == ["TRUE"] for a in event.attendee_list)
    assert all(a.params["CUTYPE"] == ["INDIVIDUAL"] for a in event.attendee_list)


def test_vobject_sees_the_cancel_as_an_update_of_the_same_event():
    request, cancel = request_and_cancel()
    before, after = vobject_read(request), vobject_read(cancel)

    assert (before.method.value, after.method.value) == ("REQUEST", "CANCEL")
    assert before.vevent.uid.value == after.vevent.uid.value
    assert int(after.vevent.sequence.value) == int(before.vevent.sequence.value) + 1
    assert (before.vevent.status.value, after.vevent.status.value) == ("CONFIRMED", "CANCELLED")


def test_vobject_reads_the_feed_and_markup_as_text():
    calendar = vobject_read(the_feed())
    assert not hasattr(calendar, "method")
    assert calendar.contents["x-wr-calname"][0].value == "Charnwood forums: Zoë O'Neill-Łukasz"
    assert calendar.contents["refresh-interval"][0].params["VALUE"] == ["DURATION"]
    assert [e.uid.value for e in calendar.vevent_list] == [
        "meeting-12@maf.leics.example",
        "meeting-7@maf.leics.example",
        "slot-31@maf.leics.example",
    ]
    assert all("attendee" not in e.contents for e in calendar.vevent_list)

    summary = "<script>alert('forum')</script>; Charnwood, north"
    event = vobject_read(invitation(meeting(summary=summary), "REQUEST")).vevent
    assert event.summary.value == summary


def test_vobject_reads_outlooks_properties():
    data = invitation(meeting(html_description=HTML_DESCRIPTION), "REQUEST")
    event = vobject_read(data).vevent
    (alt_desc,) = event.contents["x-alt-desc"]
    assert alt_desc.params["FMTTYPE"] == ["text/html"]
    assert HTML_DESCRIPTION in alt_desc.value
    assert event.contents["x-microsoft-cdo-busystatus"][0].value == "BUSY"
    assert (
        vobject_read(request_and_cancel()[1]).vevent.contents["x-microsoft-cdo-busystatus"][0].value
        == "FREE"
    )


# --- Radicale ----------------------------------------------------------------------------------


class CalDAV:
    """Just enough of a CalDAV client, on urllib, for the tests."""

    def __init__(self, base: str):
        self.base = base

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        request = urllib.request.Request(  # noqa: S310 - http to the loopback Radicale
            self.base + path, data=body or None, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def make_calendar(self, path: str) -> None:
        body = (
            b'<?xml version="1.0" encoding="utf-8"?>'
            b'<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            b"<D:set><D:prop><D:displayname>Forums</D:displayname>"
            b'<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
            b"</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
        )
        status, _, answer = self.request("MKCALENDAR", path, body, {"Content-Type": "text/xml"})
        assert status == 201, answer

    def put(self, path: str, data: bytes, etag: str | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag:
            headers["If-Match"] = etag
        else:
            headers["If-None-Match"] = "*"
        status, answer_headers, _ = self.request("PUT", path, data, headers)
        return status, answer_headers.get("ETag", "")

    def events_between(self, path: str, start: str, end: str) -> list[tuple[str, bytes]]:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{start}" end="{end}"/>'
            "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
        ).encode()
        status, _, answer = self.request(
            "REPORT", path, body, {"Content-Type": "text/xml; charset=utf-8", "Depth": "1"}
        )
        assert status == 207, answer
        from defusedxml.ElementTree import fromstring  # comes with Radicale

        found = []
        for response in fromstring(answer).iter("{DAV:}response"):
            href = response.findtext("{DAV:}href")
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
            if data:
                found.append((href, data.encode("utf-8")))
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def radicale(tmp_path):
    python_package("radicale")
    port = free_port()
    rights = tmp_path / "rights"
    rights.write_text("[everyone]\nuser: .*\ncollection: .*\npermissions: RrWw\n")
    config = tmp_path / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\n"
        f"[rights]\ntype = from_file\nfile = {rights}\n"
        f"[storage]\nfilesystem_folder = {tmp_path / 'collections'}\n"
        "[web]\ntype = none\n"
        "[logging]\nlevel = warning\n"
    )
    log = (tmp_path / "radicale.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    client = CalDAV(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 10
        while True:
            if server.poll() is not None:
                pytest.fail(f"Radicale exited: {(tmp_path / 'radicale.log').read_text()}")
            try:
                status, _, _ = client.request("PROPFIND", "/", headers={"Depth": "0"})
                if status == 207:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Radicale did not answer: {(tmp_path / 'radicale.log').read_text()}")
            time.sleep(0.05)
        yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def stored(data: bytes) -> bytes:
    """What a client stores when it imports an invitation: CalDAV forbids METHOD on a resource."""
    return re.sub(rb"^METHOD:[^\r]*\r\n", b"", data, flags=re.M)


def one_event_each(data: bytes) -> dict[str, bytes]:
    """Split a feed into one calendar object per UID, as a client does on import."""
    calendar = Calendar.from_ical(data)
    objects = {}
    for event in calendar.walk("VEVENT"):
        single = Calendar()
        for name, value in calendar.property_items(recursive=False):
            if name in {"PRODID", "VERSION", "CALSCALE"}:
                single.add(name, value)
        for vtimezone in calendar.walk("VTIMEZONE"):
            single.add_component(vtimezone)
        single.add_component(event)
        objects[str(event["UID"])] = single.to_ical()
    return objects


def event_facts(data: bytes) -> tuple[str, int, datetime, str]:
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    return (
        str(event["UID"]),
        int(event["SEQUENCE"]),
        event.decoded("DTSTART").astimezone(UTC),
        str(event["STATUS"]),
    )


def test_radicale_finds_the_july_meeting_by_time_range_and_not_the_january_one(radicale):
    radicale.request("MKCOL", "/maf/")
    radicale.make_calendar("/maf/forums/")
    for uid, data in one_event_each(the_feed()).items():
        status, _ = radicale.put(f"/maf/forums/{quote(uid)}.ics", data)
        assert status == 201, uid

    july = radicale.events_between("/maf/forums/", "20270713T000000Z", "20270714T000000Z")
    assert sorted(event_facts(data)[0] for _, data in july) == [
        "meeting-12@maf.leics.example",
        "slot-31@maf.leics.example",
    ]
    (meeting_data,) = [data for _, data in july if b"UID:meeting-12@" in data]
    assert event_facts(meeting_data) == (
        "meeting-12@maf.leics.example",
        2,
        datetime(2027, 7, 13, 8, 30, tzinfo=UTC),
        "CONFIRMED",
    )
    assert b"DTSTART;TZID=Europe/London:20270713T093000" in meeting_data

    # 13:00-13:20 UTC is after the meeting ends at 12:30 UTC (13:30 BST); an event read as if
    # 13:30 were UTC would match. Radicale applies the embedded VTIMEZONE's summer offset.
    assert radicale.events_between("/maf/forums/", "20270713T130000Z", "20270713T132000Z") == []
    late = radicale.events_between("/maf/forums/", "20270713T122000Z", "20270713T124000Z")
    assert [event_facts(data)[0] for _, data in late] == ["meeting-12@maf.leics.example"]

    winter = radicale.events_between("/maf/forums/", "20270112T000000Z", "20270113T000000Z")
    assert [event_facts(data)[:2] for _, data in winter] == [("meeting-7@maf.leics.example", 1)]
    assert event_facts(winter[0][1])[2:] == (datetime(2027, 1, 12, 9, 30, tzinfo=UTC), "CANCELLED")


def test_radicale_takes_the_cancel_as_an_update_of_the_stored_invitation(radicale):
    radicale.request("MKCOL", "/maf/")
    radicale.make_calendar("/maf/inbox-import/")
    request, cancel = request_and_cancel()
    href = "/maf/inbox-import/meeting-12.ics"

    status, etag = radicale.put(href, stored(request))
    assert status == 201 and etag
    # The same UID under another name is refused: it is the same event, not a second one.
    status, _ = radicale.put("/maf/inbox-import/copy.ics", stored(request))
    assert status in {403, 409}
    status, _ = radicale.put(href, stored(cancel), etag=etag)
    assert status in {201, 204}

    found = radicale.events_between("/maf/inbox-import/", "20270713T000000Z", "20270714T000000Z")
    assert len(found) == 1
    assert event_facts(found[0][1]) == (
        "meeting-12@maf.leics.example",
        4,
        datetime(2027, 7, 13, 8, 30, tzinfo=UTC),
        "CANCELLED",
    )


def test_radicale_imports_the_whole_feed_as_one_calendar(radicale):
    """Radicale's upload of a whole .ics onto a collection splits it by UID, as an import does."""
    radicale.request("MKCOL", "/maf/")
    status, _, answer = radicale.request(
        "PUT", "/maf/feed/", the_feed(), {"Content-Type": "text/calendar; charset=utf-8"}
    )
    assert status == 201, answer

    july = radicale.events_between("/maf/feed/", "20270713T000000Z", "20270714T000000Z")
    assert sorted(href for href, _ in july) == [
        "/maf/feed/meeting-12%40maf.leics.example.ics",
        "/maf/feed/slot-31%40maf.leics.example.ics",
    ]
    facts = sorted(event_facts(data) for _, data in july)
    assert [(uid, sequence, starts) for uid, sequence, starts, _ in facts] == [
        ("meeting-12@maf.leics.example", 2, datetime(2027, 7, 13, 8, 30, tzinfo=UTC)),
        ("slot-31@maf.leics.example", 0, datetime(2027, 7, 13, 9, 15, tzinfo=UTC)),
    ]
    assert all(b"ATTENDEE" not in data for _, data in july)
