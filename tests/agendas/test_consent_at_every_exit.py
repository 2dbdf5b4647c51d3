"""Consent at every exit (issue 13; DESIGN §4 "Consent at every exit").

Seed 003 §4.12: CAF information is shared only with the explicit consent of the child, young
person or parent/carer; §4.13-4.15: whose consent, and one person's is enough; §4.16-4.18:
refusals and wishes are respected, and information is shared only with consent. Consent can be
withdrawn (DESIGN §2, seed 002 A3), and from that moment the child disappears from everything
the forum's members can see: the agenda page, its Word document, the circulation emails and
their attachment, the presenter's calendar, the calendar feed, the minutes and the progress
requests. Each test below failed before consent was asked at its exit.
"""

import io
import re
from collections import Counter
from datetime import date
from types import SimpleNamespace

import icalendar
import pytest
from docx import Document
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind, ItemStatus
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import (
    CaseStatus,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    MatchVerdict,
    TierOutcome,
)
from maf.circulation import events
from maf.circulation import services as circulation
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MeetingStatus, MemberRole
from maf.outcomes import minutes as minutes_service
from maf.outcomes import progress
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, LeadProfessional, Outcome
from tests.conftest import PASSWORD, csrf_token_from

MEMBER_EMAIL = "anna.brown@example.org"
PRESENTER_EMAIL = "dan.kowalski@example.org"  # presents the case whose consent is withdrawn
OTHER_PRESENTER = "eve.marsh@example.org"
# What would identify the child whose consent is withdrawn (born 17 May 2012, LE11 3TU).
WITHDRAWN_CHILD = ("Jessica", "Thompson", "17 May 2012", "LE11")


def _docx_text(data: bytes) -> str:
    """Every paragraph and table cell of a .docx, read back with python-docx."""
    document = Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def _names_the_withdrawn_child(text: str) -> list[str]:
    return [word for word in WITHDRAWN_CHILD if word in text]


def _messages(after_id: int = 0) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
        )
    )


def _last_id() -> int:
    return max((message.id for message in _messages()), default=0)


def _forum_sharing(given: bool, by: ConsentGiver, name: str) -> case_services.ConsentDetails:
    """Consent to share with the forum's members, given or refused on 20 November 2026."""
    return case_services.ConsentDetails(
        ConsentKind.SHARE, given, by, name, date(2026, 11, 20), ConsentMethod.ORAL, True
    )


def _withdraw_forum_consent(case, on: date, user) -> None:
    share = case_services.forum_sharing_consent(case)
    case_services.withdraw_consent(share, on, "Mother no longer agrees", user)


@pytest.fixture
def forum_year(
    app_clock, coordinator, make_forum, make_meeting, make_ready_case, make_agency, make_user
):
    """The 12 January 2027 agenda, circulated: Jessica Thompson and Amy Lee as new cases."""
    app_clock.london(date(2026, 12, 14), 9, 0)
    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    member = make_user(Role.PRACTITIONER, email=MEMBER_EMAIL, name="Anna Brown")
    presenter = make_user(Role.PRACTITIONER, email=PRESENTER_EMAIL, name="Dan Kowalski")
    forums.add_member(
        forum,
        name="Anna Brown",
        email=MEMBER_EMAIL,
        agency=make_agency(name="Leicestershire Police"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    jessica = make_ready_case("Jessica", "Thompson", date(2012, 5, 17), "LE11 3TU")
    amy = make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE12 2BB")
    withdrawn_item = agendas.add_to_agenda(
        meeting, jessica, ItemKind.NEW_CASE, coordinator, "Dan Kowalski", PRESENTER_EMAIL
    )
    kept_item = agendas.add_to_agenda(
        meeting, amy, ItemKind.NEW_CASE, coordinator, "Eve Marsh", OTHER_PRESENTER
    )
    circulation.circulate(meeting, coordinator)
    return SimpleNamespace(
        forum=forum,
        meeting=meeting,
        coordinator=coordinator,
        member=member,
        presenter=presenter,
        jessica=jessica,
        amy=amy,
        withdrawn_item=withdrawn_item,
        kept_item=kept_item,
    )


@pytest.fixture
def withdrawn(forum_year, app_clock):
    """On 20 December 2026 the family withdraws consent to share with the forum."""
    app_clock.london(date(2026, 12, 20), 10, 0)
    before = _last_id()
    _withdraw_forum_consent(forum_year.jessica, date(2026, 12, 20), forum_year.coordinator)
    forum_year.messages_since_withdrawal_started = before
    return forum_year


def test_withdrawal_takes_the_case_off_the_agenda_and_keeps_the_history(withdrawn, client, sign_in):
    """Seed 003 §4.12 and §4.16: without consent in force the case does not go to the forum;
    the agenda keeps the item (not deleted) with why it was taken off."""
    item = withdrawn.withdrawn_item
    db.session.refresh(item)
    assert item.status == ItemStatus.CONSENT_WITHDRAWN
    assert item.status_reason == "Consent to share was withdrawn on 20 December 2026"
    assert [i.case for i in agendas.scheduled_items(withdrawn.meeting)] == [withdrawn.amy]
    case = withdrawn.jessica
    assert case.status == CaseStatus.CHECKED
    assert case.history[-1].from_status == CaseStatus.ON_AGENDA
    assert case.history[-1].reason == "Consent to share was withdrawn on 20 December 2026"
    sign_in(withdrawn.coordinator)
    timeline = re.sub(r"\s+", " ", client.get(f"/cases/{case.id}/timeline").text)
    assert "Taken off the agenda of the meeting on 12 January 2027" in timeline
    assert timeline.count("Consent to share was withdrawn on 20 December 2026") >= 2


def test_one_consent_withdrawn_while_another_covers_the_forum_changes_nothing(
    forum_year, coordinator
):
    """Seed 003 §4.15: the consent of one person is sufficient, so the young person's own
    consent keeps the case on the agenda when a parent withdraws theirs."""
    jessica = forum_year.jessica
    own = case_services.record_consent(
        jessica, _forum_sharing(True, ConsentGiver.YOUNG_PERSON, "Jessica Thompson"), coordinator
    )
    parents = next(c for c in jessica.consents if c.kind == ConsentKind.SHARE and c is not own)
    before = _last_id()
    case_services.withdraw_consent(parents, date(2026, 12, 20), "", coordinator)
    assert forum_year.withdrawn_item.status == ItemStatus.SCHEDULED
    assert jessica.status == CaseStatus.ON_AGENDA and _messages(before) == []


def test_a_review_on_a_later_agenda_comes_off_and_the_case_stays_open(
    forum_year, make_meeting, app_clock
):
    """Seed 003 §4.17: an open case whose consent is withdrawn is not reviewed at the forum."""
    april = make_meeting(date(2027, 4, 13), forum=forum_year.forum)
    amy = forum_year.amy
    amy.status = CaseStatus.OPEN
    db.session.commit()
    item = agendas.add_to_agenda(april, amy, ItemKind.REVIEW, forum_year.coordinator)
    _withdraw_forum_consent(amy, date(2026, 12, 20), forum_year.coordinator)
    assert item.status == ItemStatus.CONSENT_WITHDRAWN
    assert amy.status == CaseStatus.OPEN


def test_the_agenda_page_no_longer_names_the_child(withdrawn, client, sign_in):
    """Seed 003 §4.12: the page members read shows only children with consent in force."""
    sign_in(withdrawn.member)
    page = client.get(f"/meetings/{withdrawn.meeting.id}/agenda")
    assert "Amy Lee" in page.text
    assert _names_the_withdrawn_child(page.text) == []
    assert f"Case {withdrawn.jessica.id}<" not in page.text


def test_the_agenda_document_no_longer_names_the_child(withdrawn, client, sign_in):
    """Seed 003 §4.12: the Word agenda members download is made without the child."""
    sign_in(withdrawn.member)
    response = client.get(f"/meetings/{withdrawn.meeting.id}/agenda.docx")
    text = _docx_text(response.data)
    assert "Amy Lee" in text and "1 February 2013" in text
    assert _names_the_withdrawn_child(text) == []
    assert f"Case {withdrawn.jessica.id}" not in text


def test_the_builder_tells_the_coordinator_and_says_changes_are_not_circulated(
    withdrawn, client, sign_in
):
    sign_in(withdrawn.coordinator)
    page = client.get(f"/meetings/{withdrawn.meeting.id}/agenda/build")
    text = re.sub(r"\s+", " ", page.text)
    assert (
        f"Consent to share was withdrawn on 20 December 2026: case {withdrawn.jessica.id} was "
        "taken off this agenda." in text
    )
    assert "Changes not circulated" in text
    assert "The members were last sent the agenda with it" in text
    circulation.circulate(withdrawn.meeting, withdrawn.coordinator)
    text = re.sub(r"\s+", " ", client.get(f"/meetings/{withdrawn.meeting.id}/agenda/build").text)
    assert f"case {withdrawn.jessica.id} was taken off this agenda." in text, "history stays"
    assert "Changes not circulated" not in text
    assert "The members were last sent the agenda with it" not in text


def test_the_presenter_slot_is_cancelled_without_naming_the_child(withdrawn):
    """Seed 003 §4.12: the presenter's calendar loses the slot at once (METHOD:CANCEL)."""
    sent = _messages(withdrawn.messages_since_withdrawal_started)
    assert [m.recipient_email for m in sent] == [PRESENTER_EMAIL], "nobody else is told yet"
    (message,) = sent
    calendar = icalendar.Calendar.from_ical(message.calendar)
    (event,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL" and message.calendar_method == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == events.slot_uid(withdrawn.withdrawn_item)
    assert event["SEQUENCE"] == 1, "one more than the invitation the presenter holds"
    visible = " ".join((message.subject, message.text_body, message.html_body, message.calendar))
    assert _names_the_withdrawn_child(visible) == []


def test_the_calendar_feed_shows_the_slot_cancelled(withdrawn, client):
    """The presenter's subscribed calendar drops the slot too."""
    token = withdrawn.presenter.calendar_token
    feed = icalendar.Calendar.from_ical(client.get(f"/calendar/{token}.ics").data)
    slots = {
        str(event["UID"]): str(event["STATUS"])
        for event in feed.walk("VEVENT")
        if str(event["UID"]).startswith("slot-")
    }
    assert slots == {events.slot_uid(withdrawn.withdrawn_item): "CANCELLED"}
    assert _names_the_withdrawn_child(client.get(f"/calendar/{token}.ics").text) == []


def test_the_next_circulation_goes_without_the_child_and_says_an_item_was_withdrawn(
    withdrawn,
):
    """Seed 003 §4.12: members are told an item was withdrawn, never whose."""
    # Their addresses are on a secure email domain, so the agenda document itself goes too.
    circulation.add_secure_domain("example.org", withdrawn.coordinator)
    before = _last_id()
    circulation.circulate(withdrawn.meeting, withdrawn.coordinator)
    agendas_sent = [m for m in _messages(before) if m.attachments]
    recipients = {m.recipient_email for m in agendas_sent}
    assert MEMBER_EMAIL in recipients and withdrawn.forum.chair.email in recipients
    first = next(m for m in _messages() if m.recipient_email == MEMBER_EMAIL)
    assert "withdrawn" not in first.text_body, "nothing withdrawn"
    for message in agendas_sent:
        assert message.subject.startswith("OFFICIAL-SENSITIVE: Updated agenda")
        assert "use this one.\n\nWhen:" in message.text_body
        assert "1 item has been withdrawn from the agenda since it was last sent" in (
            message.text_body
        )
        assert "1 item has been withdrawn from the agenda since it was last sent" in (
            message.html_body
        )
        (attachment,) = message.attachments
        document = _docx_text(attachment.content)
        assert "Amy Lee" in document
        visible = " ".join((message.subject, message.text_body, message.html_body, document))
        assert _names_the_withdrawn_child(visible) == []
    # Told once: circulating again with nothing changed sends nothing more.
    after = _last_id()
    circulation.circulate(withdrawn.meeting, withdrawn.coordinator)
    assert _messages(after) == []


def test_circulation_refuses_an_item_without_consent_however_it_got_there(
    forum_year, client, sign_in
):
    """Belt and braces (seed 003 §4.12): consent lost without the withdrawal service (here
    written straight to the record) still stops the agenda going out, and the builder says
    why beside the button; the members' page already leaves the child out."""
    share = case_services.forum_sharing_consent(forum_year.jessica)
    share.withdrawn_on = date(2026, 12, 20)
    db.session.commit()
    before = _last_id()
    with pytest.raises(circulation.CirculationError, match=f"case {forum_year.jessica.id}"):
        circulation.circulate(forum_year.meeting, forum_year.coordinator)
    db.session.rollback()
    sign_in(forum_year.coordinator)
    build = f"/meetings/{forum_year.meeting.id}/agenda/build"
    page = client.get(build)
    refused = client.post(
        f"/meetings/{forum_year.meeting.id}/circulate",
        data={"csrf_token": csrf_token_from(page.text)},
    )
    assert refused.status_code == 409
    assert refused.text.count("there is no consent in force to share") == 2, "top and button"
    assert _messages(before) == []


def test_consent_lost_another_way_is_still_asked_at_each_reading(forum_year, app):
    """Belt and braces (seed 003 §4.12): the pages, document and feed ask at the moment they
    are read, so consent lost without the withdrawal service still hides the child, and the
    builder asks the coordinator to take the item off."""
    share = case_services.forum_sharing_consent(forum_year.jessica)
    share.withdrawn_on = date(2026, 12, 20)
    db.session.commit()
    member, coordinator, feed = app.test_client(), app.test_client(), app.test_client()
    for client, user in ((member, forum_year.member), (coordinator, forum_year.coordinator)):
        page = client.get("/sign-in")
        client.post(
            "/sign-in",
            data={
                "email": user.email,
                "password": PASSWORD,
                "csrf_token": csrf_token_from(page.text),
            },
        )
    meeting = forum_year.meeting.id
    agenda_page = member.get(f"/meetings/{meeting}/agenda").text
    document = _docx_text(member.get(f"/meetings/{meeting}/agenda.docx").data)
    assert "Amy Lee" in agenda_page and "Amy Lee" in document
    assert _names_the_withdrawn_child(agenda_page + document) == []
    token = forum_year.presenter.calendar_token
    calendar = icalendar.Calendar.from_ical(feed.get(f"/calendar/{token}.ics").data)
    (slot,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("slot-")]
    assert str(slot["STATUS"]) == "CANCELLED"
    builder = re.sub(r"\s+", " ", coordinator.get(f"/meetings/{meeting}/agenda/build").text)
    case_id = forum_year.jessica.id
    assert f"Case {case_id} has no consent in force to share it with the forum members" in builder
    assert f"Take case {case_id} off the agenda" in builder
    item = forum_year.withdrawn_item
    page = coordinator.get(f"/meetings/{meeting}/agenda/build")
    taken_off = coordinator.post(
        f"/agenda-items/{item.id}/remove", data={"csrf_token": csrf_token_from(page.text)}
    )
    assert taken_off.status_code == 302
    db.session.refresh(item)
    db.session.refresh(forum_year.jessica)
    assert item.status == ItemStatus.REMOVED
    assert forum_year.jessica.status == CaseStatus.CHECKED, "not ready without consent"


def test_a_meeting_with_nothing_on_its_agenda_cannot_be_circulated(
    app_clock, make_meeting, coordinator, client, sign_in
):
    app_clock.london(date(2026, 12, 14), 9, 0)
    meeting = make_meeting(date(2027, 1, 12))
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build")
    refused = client.post(
        f"/meetings/{meeting.id}/circulate", data={"csrf_token": csrf_token_from(page.text)}
    )
    assert refused.status_code == 409
    assert refused.text.count(circulation.NOTHING_TO_CIRCULATE) == 2, "top and beside button"
    assert 'href="#circulate"' in refused.text
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.PLANNED and _messages() == []


def test_a_cancelled_meetings_agenda_page_and_document_say_cancelled_at_the_top(
    app_clock, make_meeting, coordinator, client, sign_in
):
    app_clock.london(date(2026, 12, 14), 9, 0)
    meeting = make_meeting(date(2027, 1, 12))
    forums.cancel_meeting(meeting, "Chair unwell", coordinator)
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda")
    body = page.text[page.text.index('id="main-content"') :]
    banner = body.index("This meeting was cancelled on 14 December 2026: Chair unwell")
    assert banner < body.index("<h1")
    document = Document(io.BytesIO(client.get(f"/meetings/{meeting.id}/agenda.docx").data))
    assert document.paragraphs[0].text == "CANCELLED: this meeting will not take place."


def test_minutes_going_to_members_stop_naming_the_child_after_withdrawal(
    forum_year, app_clock, client, sign_in
):
    """Seed 003 §4.12, §4.17: the held meeting's record stays (the approved copy is kept as
    approved), but the minutes read or circulated after consent is withdrawn withhold the
    child's item."""
    meeting, coordinator = forum_year.meeting, forum_year.coordinator
    lead = outcomes.LeadDetails(LeadKind.PRACTITIONER, "Anna Brown", True, email=MEMBER_EMAIL)
    outcomes.save_item_record(
        forum_year.withdrawn_item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Jessica's attendance has dropped since September",
            next_review_on=date(2027, 4, 12),
            actions=[
                outcomes.ActionDetails("Home visit to Jessica", "Anna Brown", date(2027, 2, 1))
            ],
            lead=lead,
        ),
        coordinator,
    )
    outcomes.save_item_record(
        forum_year.kept_item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Amy settling well",
            next_review_on=date(2027, 4, 12),
            lead=lead,
        ),
        coordinator,
    )
    app_clock.london(date(2027, 1, 12), 15, 0)
    minutes = outcomes.complete_meeting(meeting, forum_year.forum.chair)
    minutes_service.approve(minutes, forum_year.forum.chair)
    approved = minutes.document
    assert "Jessica Thompson" in _docx_text(approved), "the record as approved names her"

    app_clock.london(date(2027, 1, 20), 10, 0)
    _withdraw_forum_consent(forum_year.jessica, date(2027, 1, 20), coordinator)
    assert minutes.document == approved, "the approved copy is kept as it was"

    sign_in(forum_year.forum.chair)
    record = client.get(f"/meetings/{meeting.id}/record").text
    assert "Amy Lee" in record and _names_the_withdrawn_child(record) == []
    assert f"Case {forum_year.jessica.id}: withheld" in record, "not silently missing"
    downloaded = _docx_text(client.get(f"/minutes/{minutes.id}.docx").data)
    assert "Amy settling well" in downloaded
    assert f"Case {forum_year.jessica.id}" in downloaded and "Withheld" in downloaded
    assert _names_the_withdrawn_child(downloaded) == []
    assert "Home visit" not in downloaded and "attendance has dropped" not in downloaded

    circulation.add_secure_domain("example.org", coordinator)
    before = _last_id()
    minutes_service.circulate(minutes, forum_year.forum.chair)
    circulated = [m for m in _messages(before) if m.attachments]
    assert circulated
    for message in circulated:
        assert _names_the_withdrawn_child(_docx_text(message.attachments[0].content)) == []


def test_no_progress_update_is_asked_for_a_case_without_consent(
    forum_year, make_meeting, app_clock
):
    """Seed 003 §4.12: the forum does not review (or ask about) a case it may not be shown;
    this holds even when consent was lost without the withdrawal service."""
    april = make_meeting(date(2027, 4, 13), forum=forum_year.forum)
    amy = forum_year.amy
    amy.status = CaseStatus.OPEN
    db.session.add(
        LeadProfessional(
            case_id=amy.id,
            kind=LeadKind.PRACTITIONER,
            name="Zoë Brennan",
            email="zoe.brennan@example.org",
            agreed=True,
            starts_on=date(2027, 1, 12),
        )
    )
    db.session.commit()
    agendas.add_to_agenda(april, amy, ItemKind.REVIEW, forum_year.coordinator)
    share = case_services.forum_sharing_consent(amy)
    share.withdrawn_on = date(2027, 2, 1)
    db.session.commit()
    before = _last_id()
    assert progress.request_updates(april, forum_year.coordinator) == 0
    assert progress.update_for(amy, april) is None
    assert [m for m in _messages(before) if m.recipient_email == "zoe.brennan@example.org"] == []


def test_mark_ready_is_offered_only_with_consent_to_share(make_case, coordinator, client, sign_in):
    """Seed 003 §4.12 and §4.16: a refusal is respected, so the case page says why it cannot
    go to a forum instead of offering a button that fails."""
    case = make_case(share_with_forum=False)
    refused = _forum_sharing(False, ConsentGiver.PARENT_CARER, "Karen Thompson")
    case_services.record_consent(case, refused, coordinator)
    for candidate in case.match_candidates:
        case_services.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, coordinator)
    case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    assert case.status == CaseStatus.CHECKED
    assert "mark_ready" not in case_services.available_actions(case)
    sign_in(coordinator)
    page = client.get(f"/cases/{case.id}")
    assert "Mark ready for a forum" not in page.text
    assert "No consent to share with the forum members: record consent to share first" in (
        page.text
    )


def test_the_builder_lists_each_case_once_with_unique_ids(
    app_clock, make_meeting, make_case, coordinator, client, sign_in
):
    """A case due a review is also an open case that could be signed off: it appears once,
    ticked with its kind chosen in its row (review by default), so no id repeats (the Nu HTML
    checker found id="case-N" twice)."""
    app_clock.london(date(2026, 12, 14), 9, 0)
    meeting = make_meeting(date(2027, 1, 12))
    due = make_case("Oliver", "Reid", date(2012, 9, 3))
    due.status, due.next_review_on = CaseStatus.OPEN, date(2027, 1, 5)
    db.session.commit()
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [name for name, count in ids.items() if count > 1] == []
    assert ids[f"case-{due.id}"] == 1
    block = page[page.index(f'id="case-{due.id}"') :]
    block = block[: block.index("</tr>")]
    assert f'name="kind-{due.id}" type="radio" value="review" checked' in block
    assert f'name="kind-{due.id}" type="radio" value="sign_off"' in block


def test_a_progress_form_asked_before_withdrawal_closes_and_says_why(
    forum_year, make_meeting, make_user, client, sign_in
):
    """Seed 003 §4.12 and 002 A3: once consent is withdrawn the case comes off April's agenda,
    so the lead professional's update, asked for before, is not sent to the forum: the emailed
    link says why instead of offering a form that would report to a meeting that will not hear
    it, and a post from a page opened earlier stores nothing."""
    april = make_meeting(date(2027, 4, 13), forum=forum_year.forum)
    amy = forum_year.amy
    amy.status = CaseStatus.OPEN
    lead = make_user(Role.PRACTITIONER, email="zoe.brennan@example.org", name="Zoë Brennan")
    db.session.add(
        LeadProfessional(
            case_id=amy.id,
            kind=LeadKind.PRACTITIONER,
            name="Zoë Brennan",
            email=lead.email,
            user_id=lead.id,
            agreed=True,
            starts_on=date(2027, 1, 12),
        )
    )
    db.session.commit()
    agendas.add_to_agenda(april, amy, ItemKind.REVIEW, forum_year.coordinator)
    assert progress.request_updates(april, forum_year.coordinator) == 1
    update = progress.update_for(amy, april)
    sign_in(lead)
    opened = client.get(f"/progress/{update.id}")
    assert "Tell the forum how the plan is going" in opened.text

    _withdraw_forum_consent(amy, date(2026, 12, 14), forum_year.coordinator)
    page = client.get(f"/progress/{update.id}")
    assert "no longer on the agenda of that meeting" in page.text
    assert "Tell the forum how the plan is going" not in page.text
    assert 'name="summary"' not in page.text

    posted = client.post(
        f"/progress/{update.id}",
        data={"csrf_token": csrf_token_from(opened.text), "summary": "Going well"},
        follow_redirects=True,
    )
    assert "no longer on the agenda of that meeting" in posted.text
    db.session.refresh(update)
    assert update.submitted_at is None and update.summary == ""
