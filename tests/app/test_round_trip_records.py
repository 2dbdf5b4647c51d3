"""After the meeting: unusual names and injection payloads typed into the meeting record, the
lead professional's progress update, the board report's entries and the audit form come back
intact and inert in the pages, the minutes and board report Word documents and the emails
(issue 8: round-trip robustness).

The texts and readers are shared with test_round_trip.py, which explains the approach.
"""

from datetime import date

import pytest
from sqlalchemy import select

from maf.agendas.models import AgendaItem, ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role
from maf.cases.models import CaseStatus
from maf.circulation import services as circulation
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.outcomes.models import Action, Minutes, ProgressUpdate
from maf.outcomes.progress import QUESTIONS
from maf.reports import quality
from maf.reports.models import BoardEntryKind
from tests.app.test_round_trip import (
    TEXTS,
    check_email,
    email_reader,
    labelled,
    post_form,
    read_docx,
    rows,
    shows_escaped,
)
from tests.conftest import PASSWORD, at_the_meeting, submit

POLICE = "Leicestershire Police"


def record_item(client, meeting, item, **values):
    """Save one item of the meeting record through its page's form."""
    page = f"/meetings/{meeting.id}/record/items/{item.id}"
    post_form(client, page, page, {"outcome": "continue", **values})


def complete(client, meeting, user):
    """Record the meeting as held, at its start (not before: DESIGN §4 "Nothing false"). The
    clock moving on that far idles the session out, so `user` signs in again."""
    record = f"/meetings/{meeting.id}/record"
    at_the_meeting(meeting)
    client.get("/")
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    post_form(client, record, f"/meetings/{meeting.id}/complete", {})


def item_of(meeting) -> AgendaItem:
    return db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).one()


def minutes_of(meeting) -> Minutes:
    return db.session.scalars(
        select(Minutes).where(Minutes.meeting_id == meeting.id).order_by(Minutes.version.desc())
    ).first()


@pytest.fixture
def recorded(client, sign_in, coordinator, make_agency, make_forum, make_meeting, make_ready_case):
    """A meeting recorded through the forms with the text in every free-text box: attendance
    and a guest, the discussion, a service, an action, the lead professional and the notes."""

    def record(text):
        one, lines = text.one_line, text.multi_line
        police = make_agency(name=POLICE, type=AgencyType.POLICE)
        forum = make_forum()
        meeting = make_meeting(date(2027, 1, 12), forum=forum)
        # A secure domain (issue 17), so the minutes document comes attached to be read back.
        circulation.add_secure_domain("example.org", coordinator)
        case = make_ready_case("Amy", "Lee", date(2012, 5, 17))
        item = add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator, presenter_name="Pat")
        sign_in(coordinator)
        post_form(
            client,
            f"/forums/{forum.id}",
            f"/forums/{forum.id}/members",
            {
                "name": text.text,
                "email": "member@example.org",
                "agency": str(police.id),
                "role": MemberRole.STANDING.value,
            },
        )
        member = forum.members[0]
        post_form(
            client,
            f"/meetings/{meeting.id}/record/attendance",
            f"/meetings/{meeting.id}/record/attendance",
            # A guest is "name, agency" on a line: the agency is the rest of the line.
            {f"member-{member.id}": "present", "guests": f"Dr Emma Lewis, {one}"},
        )
        record_item(
            client,
            meeting,
            item,
            discussion=f"{text.text}\r\nLow attendance since September",
            **{
                "services-0-agency": str(police.id),
                "services-0-what": text.text,
                "actions-0-what": text.text,
                "actions-0-owner": text.text,
                "actions-0-agency": str(police.id),
                "actions-0-due": ["1", "2", "2027"],
            },
            lead_kind="practitioner",
            lead_name=text.text,
            lead_email="lead@example.org",
            lead_agency=str(police.id),
            lead_agreed="y",
            outcome_notes=f"{text.text}\r\nReview in April",
        )
        complete(client, meeting, coordinator)
        db.session.expire_all()  # changed by the requests' own sessions
        return forum, meeting, case, f"{lines}\nLow attendance since September"

    return record


@pytest.mark.parametrize("text", TEXTS)
def test_the_meeting_record_round_trips_to_its_pages_minutes_and_minutes_email(
    app, client, recorded, tmp_path, monkeypatch, text
):
    """Seed 004: the minutes record what the forum agreed for each case (services, lead
    professional, actions) and go to those who attended."""
    one, lines = text.one_line, text.multi_line
    forum, meeting, case, discussion = recorded(text)

    (action,) = db.session.scalars(select(Action))
    assert (action.description, action.owner_name) == (one, one)
    item_page = f"/meetings/{meeting.id}/record/items/{item_of(meeting).id}"
    shows_escaped(client, item_page, one, discussion)
    shows_escaped(client, f"/cases/{case.id}", one)
    shows_escaped(client, f"/cases/{case.id}/timeline", one)

    draft = minutes_of(meeting)
    document = read_docx(client.get(f"/minutes/{draft.id}.docx").data)
    assert labelled(document, "Discussion") == discussion
    assert labelled(document, "Lead professional") == f"{one}, {POLICE} (agreed to take the role)"
    assert labelled(document, "Notes") == f"{lines}\nReview in April"
    assert f"{POLICE}: {one}" in [p.text for p in document.paragraphs]
    present, guests, actions = (rows(table) for table in document.tables)
    assert present[1] == [one, POLICE] and guests[1] == ["Dr Emma Lewis", one]
    assert actions[1] == [f"Case {case.id}\nAmy Lee", one, one, "1 February 2027"]

    # Approved and circulated through the minutes page; then corrected.
    page = f"/meetings/{meeting.id}/minutes"
    post_form(client, page, f"/minutes/{draft.id}/approve", {})
    post_form(client, page, f"/minutes/{draft.id}/circulate", {})
    sent = email_reader(app, tmp_path, monkeypatch)()
    (to_member,) = [m for m in sent if m["To"].addresses[0].addr_spec == "member@example.org"]
    assert to_member["Subject"] == f"OFFICIAL-SENSITIVE: Minutes: {forum.name}, 12 January 2027"
    check_email(to_member, one, forum.name)
    (attached,) = list(to_member.iter_attachments())
    assert attached.get_payload(decode=True) == minutes_of(meeting).document

    post_form(client, page, f"/meetings/{meeting.id}/minutes/correct", {"note": text.text})
    corrected = minutes_of(meeting)
    assert corrected.version == 2 and corrected.correction_note == lines
    shows_escaped(client, page, lines)
    document = read_docx(client.get(f"/minutes/{corrected.id}.docx").data)
    assert labelled(document, "Correction") == lines


@pytest.mark.parametrize("text", TEXTS)
def test_a_progress_update_round_trips_to_the_record_and_the_next_minutes(
    app, client, recorded, coordinator, make_meeting, make_user, tmp_path, monkeypatch, text
):
    """Seed 004: the lead professional reports progress to the next meeting; their notes,
    the child's words on the questionnaire and the summary reach the record and the minutes."""
    one, lines = text.one_line, text.multi_line
    forum, _, case, _ = recorded(text)
    lead_user = make_user(Role.PRACTITIONER, email="lead@example.org", name="Lead User")
    meeting = make_meeting(date(2027, 4, 13), forum=forum)
    item = add_to_agenda(meeting, case, ItemKind.REVIEW, coordinator)
    circulation.circulate(meeting, coordinator)
    (request,) = [
        m
        for m in email_reader(app, tmp_path, monkeypatch)()
        if m["To"].addresses[0].addr_spec == "lead@example.org"
    ]
    check_email(request, one, forum.name)

    update = db.session.scalar(select(ProgressUpdate))
    (action,) = db.session.scalars(select(Action))
    lead = app.test_client()
    submit(lead, "/sign-in", {"email": lead_user.email, "password": PASSWORD})
    answers = {}
    for number in range(1, len(QUESTIONS) + 1):
        answers[f"question_{number}"] = "good"
        answers[f"question_{number}_comment"] = f"{text.text}\r\nSaid at home"
    post_form(
        lead,
        f"/progress/{update.id}",
        f"/progress/{update.id}",
        {
            f"action_{action.id}": "in_progress",
            f"action_{action.id}_note": f"{text.text}\r\nVisited twice",
            "summary": f"{text.text}\r\nAttending every day",
            "further_comments": f"{text.text}\r\nThanks to the school",
            **answers,
        },
    )
    summary = f"{lines}\nAttending every day"
    shows_escaped(lead, f"/progress/{update.id}", summary, f"{lines}\nVisited twice")
    shows_escaped(
        client,
        f"/meetings/{meeting.id}/record/items/{item.id}",
        summary,
        f"{lines}\nVisited twice",
        f"{lines}\nSaid at home",
        f"{lines}\nThanks to the school",
    )

    record_item(client, meeting, item)
    complete(client, meeting, coordinator)
    document = read_docx(client.get(f"/minutes/{minutes_of(meeting).id}.docx").data)
    reported = labelled(document, "Progress update")
    assert reported.startswith(f"From {one}, received ") and reported.endswith(f": {summary}")
    assert f"1. {QUESTIONS[0]} Good. “{lines}\nSaid at home”" in [
        p.text for p in document.paragraphs
    ]
    assert labelled(document, "Further comments") == f"{lines}\nThanks to the school"


@pytest.mark.parametrize("text", TEXTS)
def test_the_lead_professional_shows_as_text_where_a_new_caf_may_be_the_same_child(
    client, recorded, make_case, text
):
    """Check 1 (seed 003 §4 step 1): a new CAF that looks like a child with an open CAF shows
    that CAF's lead professional, whose name was typed at the meeting."""
    _, _, case, _ = recorded(text)
    assert case.status == CaseStatus.OPEN
    same_child = make_case("Amy", "Lee", date(2012, 5, 17))

    assert [candidate.child_id for candidate in same_child.match_candidates] == [case.child_id]
    shows_escaped(client, f"/cases/{same_child.id}", f"{text.one_line}, {POLICE}")


@pytest.mark.parametrize("text", TEXTS)
def test_board_report_entries_round_trip_to_its_page_and_document(
    client, sign_in, coordinator, text
):
    """Seed 000: the board report's risks, issues and recommendations are typed by the CAF
    team and printed in the report as written."""
    lines = text.multi_line
    sign_in(coordinator)
    post_form(
        client,
        "/reports/board",
        "/reports/board",
        {
            "district": str(coordinator.districts[0].id),
            "starts_on": ["1", "10", "2026"],
            "ends_on": ["31", "10", "2026"],
        },
    )
    period = f"/reports/board/{coordinator.districts[0].id}/2026-10-01/2026-10-31"
    for kind in BoardEntryKind:
        values = {f"{kind.value}-text": f"{text.text}\r\nThe {kind.value}"}
        if kind != BoardEntryKind.RECOMMENDATION:
            values[f"{kind.value}-response"] = f"{text.text}\r\nWhat is done"
        post_form(client, period, f"{period}/entries/{kind.value}", values)

    shows_escaped(client, period, f"{lines}\nThe risk", f"{lines}\nWhat is done")
    document = read_docx(client.get(f"{period}.docx").data)
    risks, issues = (rows(table)[1:] for table in document.tables[2:4])
    assert risks == [[f"{lines}\nThe risk", f"{lines}\nWhat is done"]]
    assert issues == [[f"{lines}\nThe issue", f"{lines}\nWhat is done"]]
    numbered = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert numbered == [f"{lines}\nThe recommendation"]


@pytest.mark.parametrize("text", TEXTS)
def test_audit_notes_and_the_auditors_name_round_trip_to_the_audit_pages(
    client, sign_in, coordinator, make_case, text
):
    """Seed 002 E: 1 in 10 closed CAFs is audited; the auditor's notes come back as typed."""
    case = make_case("Amy", "Lee")
    case.status, case.closed_on = CaseStatus.CLOSED, date(2025, 2, 10)
    db.session.commit()
    sample = quality.draw_sample(date(2025, 1, 1), coordinator)
    (sampled,) = sample.cases
    sign_in(coordinator)
    url = f"/audits/cases/{sampled.id}"
    post_form(
        client,
        url,
        url,
        {
            "process_quality": "good",
            "outcome_impact": "good",
            "notes": f"{text.text}\r\nPlan followed",
            "auditor_name": text.text,
            "audited_on": ["1", "5", "2025"],
        },
    )

    db.session.expire_all()
    assert (sampled.notes, sampled.auditor_name) == (
        f"{text.multi_line}\nPlan followed",
        text.one_line,
    )
    # Back in the text area, where "</textarea>" would otherwise end the box.
    shows_escaped(client, url, f"{text.multi_line}\nPlan followed", text.one_line)
    shows_escaped(client, f"/audits/{sample.id}")
