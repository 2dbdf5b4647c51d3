"""A hybrid meeting's online joining link (issue 17 point 5): set on the meeting's change form,
refused beside the field unless it is a whole https:// address, kept in the meeting's history
with a new calendar SEQUENCE, and shown on the meeting's pages and in the agenda .docx."""

import io
import re
from datetime import date

import lxml.html
import pytest
from docx import Document
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from maf.agendas import services as agendas
from maf.agendas.document import agenda_document
from maf.agendas.models import ItemKind
from maf.extensions import db
from maf.forums import services
from tests.conftest import submit

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Charnwood%40thread.v2/0"
ZOOM = "https://us02web.zoom.us/j/81234567890?pwd=Q2hhcm53b29k"


@pytest.fixture
def edit(client, sign_in, coordinator, make_meeting):
    """Post the meeting's change form as a browser would: every field as the page fills it
    in, changed by the values given; `leave_out` fields an older page did not have."""
    meeting = make_meeting(date(2027, 7, 13))
    sign_in(coordinator)
    path = f"/meetings/{meeting.id}/edit"

    def post(leave_out=(), **values):
        page = client.get(path)
        (form,) = [f for f in lxml.html.fromstring(page.text).forms if "venue" in f.fields]
        data = MultiDict(form.form_values())
        for name, value in values.items():
            data.setlist(name, [value])
        for name in leave_out:
            data.poplist(name)
        return client.post(path, data=data)

    post.meeting = meeting
    return post


def test_the_form_sets_the_link_and_the_history_and_calendars_hear_of_it(edit, coordinator):
    meeting = edit.meeting
    sequence = meeting.calendar_sequence
    page = edit(joining_link=f"  {TEAMS}  ", reason="Hybrid from now on")
    assert page.status_code == 302
    db.session.refresh(meeting)
    assert meeting.joining_link == TEAMS, "pasted with spaces either side: still the link"
    assert meeting.calendar_sequence == sequence + 1
    change = meeting.changes[-1]
    assert (change.what, change.before, change.after, change.reason) == (
        "joining link",
        "None (in the room only)",
        TEAMS,
        "Hybrid from now on",
    )

    edit(joining_link="")
    db.session.refresh(meeting)
    assert meeting.joining_link == "" and meeting.calendar_sequence == sequence + 2
    assert (meeting.changes[-1].before, meeting.changes[-1].after) == (
        TEAMS,
        "None (in the room only)",
    )


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("http://teams.example.org/j/1", "starting https://"),
        ("javascript:alert(1)//https://x.org", "starting https://"),
        ("teams.microsoft.com/l/meetup-join/1", "starting https://"),
        ("https://", "starting https://"),
        ("https://localhost/j/1", "starting https://"),
        ("https://[::1/j", "starting https://"),
        ("https://zoom.us/j/1 pwd=2", "must not contain spaces"),
        ("https://zoom.us/j/1\u00a0pwd=2", "must not contain spaces"),
        ("https://zoom.us/j/" + "1" * 500, "500 characters or fewer"),
    ],
)
def test_a_bad_link_is_refused_beside_the_field_and_what_was_typed_is_kept(edit, typed, error):
    meeting = edit.meeting
    page = edit(joining_link=typed, venue="Melton Library")
    assert page.status_code == 200
    html = page.text
    field_error = re.search(
        r'<p id="joining_link-error" class="govuk-error-message">(.*?)</p>', html, re.S
    )
    assert field_error and error in field_error.group(1)
    assert 'href="#joining_link"' in html, "the error summary points at the field"
    assert 'value="Melton Library"' in html, "nothing typed is lost"
    assert f'value="{escape(typed)}"' in html
    db.session.refresh(meeting)
    assert meeting.joining_link == "" and meeting.venue != "Melton Library"


def test_a_link_of_exactly_500_characters_is_taken(edit):
    link = "https://zoom.us/j/" + "1" * (500 - len("https://zoom.us/j/"))
    assert edit(joining_link=link).status_code == 302
    db.session.refresh(edit.meeting)
    assert edit.meeting.joining_link == link
    assert edit.meeting.changes[-1].after == link, "kept whole in the history"


def test_a_page_drawn_before_joining_links_keeps_the_meetings_link(edit):
    meeting = edit.meeting
    edit(joining_link=TEAMS)
    assert edit(venue="Melton Library", leave_out=["joining_link"]).status_code == 302
    db.session.refresh(meeting)
    assert (meeting.venue, meeting.joining_link) == ("Melton Library", TEAMS)


def test_the_service_refuses_a_bad_link_too(make_meeting, coordinator):
    meeting = make_meeting(date(2027, 7, 13))
    with pytest.raises(services.ForumError, match="https://") as refused:
        services.reschedule_meeting(
            meeting,
            day=meeting.date,
            start_time=meeting.start_time,
            venue=meeting.venue,
            joining_link="ftp://files.example.org/agenda",
            reason="",
            user=coordinator,
        )
    assert refused.value.field == "joining_link"


def test_the_meeting_and_agenda_pages_and_the_docx_show_the_link(
    client, sign_in, coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting(date(2027, 7, 13), joining_link=TEAMS)
    agendas.add_to_agenda(meeting, make_ready_case("Amy", "Lee"), ItemKind.NEW_CASE, coordinator)
    sign_in(coordinator)
    link = f'<a class="govuk-link govuk-!-text-break-word" href="{TEAMS}">{TEAMS}</a>'
    for path in (f"/meetings/{meeting.id}/agenda", f"/meetings/{meeting.id}/agenda/build"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Join online" in page.text and link in page.text, path

    document = Document(io.BytesIO(agenda_document(meeting)))
    (paragraph,) = [p for p in document.paragraphs if p.text.startswith("Join online: ")]
    assert paragraph.text == f"Join online: {TEAMS}"
    (hyperlink,) = paragraph.hyperlinks
    assert hyperlink.url == TEAMS and hyperlink.text == TEAMS


def test_a_meeting_in_the_room_only_shows_no_joining_link(
    client, sign_in, coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting(date(2027, 7, 13))
    agendas.add_to_agenda(meeting, make_ready_case("Amy", "Lee"), ItemKind.NEW_CASE, coordinator)
    sign_in(coordinator)
    assert "Join online" not in client.get(f"/meetings/{meeting.id}/agenda").text
    document = Document(io.BytesIO(agenda_document(meeting)))
    assert not [p for p in document.paragraphs if "Join online" in p.text]


def test_a_years_meetings_can_share_one_joining_link(client, sign_in, coordinator, make_forum):
    """A recurring Teams meeting: one link for every meeting the schedule adds."""
    forum = make_forum(months=[1, 4])
    sign_in(coordinator)
    shown = f"/forums/{forum.id}"

    refused = submit(
        client,
        shown,
        {"year": "2027", "joining_link": "teams.microsoft.com/l/1"},
        f"/forums/{forum.id}/schedule",
    )
    assert refused.status_code == 400
    assert "starting https://" in refused.text and 'href="#joining_link"' in refused.text
    assert 'value="teams.microsoft.com/l/1"' in refused.text, "what was typed is kept"
    db.session.refresh(forum)
    assert forum.meetings == []

    added = submit(
        client, shown, {"year": "2027", "joining_link": TEAMS}, f"/forums/{forum.id}/schedule"
    )
    assert added.status_code == 302
    db.session.refresh(forum)
    assert [(m.date.month, m.joining_link) for m in forum.meetings] == [(1, TEAMS), (4, TEAMS)]
    assert forum.meetings[0].changes[0].after.endswith(f"; online: {TEAMS}")
    assert "Loughborough Council Offices, Room 2, and online" in client.get(shown).text
