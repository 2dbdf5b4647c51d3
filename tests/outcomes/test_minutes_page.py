"""The draft minutes as a page, and their wording corrected before approval (issue 14 point 4).

The page and the Word document are written from the same blocks, so they say the same; the
chair or coordinator can correct the wording of an item's discussion or notes for the minutes
without changing the meeting record (DESIGN §4: what was recorded stays the record); the
corrections are versioned like every record two people can edit, and frozen at approval.
"""

import io
import re
from datetime import date

import lxml.html
import pytest
from docx import Document
from docx.text.paragraph import Paragraph
from sqlalchemy import select, update

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases import services as case_services
from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import LeadKind, Minutes, MinutesStatus, MinutesWording, Outcome
from maf.outcomes.services import (
    ActionDetails,
    ItemDetails,
    LeadDetails,
    complete_meeting,
    record_for,
    save_item_record,
)
from maf.versioning import StaleEdit
from tests.conftest import at_the_meeting, csrf_token_from, version_from
from tests.outcomes import test_minutes
from tests.outcomes.test_minutes import outline

# The meeting recorded and completed that the document's own tests read.
held = test_minutes.held

NEW_WORDING = "Attendance has been low since September.\nJessica worries about friendships."


def page_text(html: str, *, asides: bool = False) -> str:
    """The minutes' own words on the page; `asides` keeps who-changed-what and the links."""
    content = lxml.html.fromstring(html).get_element_by_id("minutes-content")
    if not asides:
        for aside in content.find_class("maf-minutes-aside"):
            aside.drop_tree()
    return " ".join(content.text_content().split())


def document_text(data: bytes) -> str:
    words = []
    for block in Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Paragraph):
            words.append(block.text)
        else:
            words.extend(cell.text for row in block.rows for cell in row.cells)
    return " ".join(" ".join(words).split())


def minutes_url(held, version: int | None = None) -> str:
    suffix = f"?version={version}" if version else ""
    return f"/meetings/{held.meeting.id}/minutes{suffix}"


def wording_url(minutes, item, part: str = "discussion") -> str:
    return f"/minutes/{minutes.id}/wording/{item.id}/{part}"


def download(client, minutes) -> str:
    return document_text(client.get(f"/minutes/{minutes.id}.docx").data)


def change(client, minutes, item, text: str, part: str = "discussion"):
    page = client.get(wording_url(minutes, item, part)).text
    return client.post(
        wording_url(minutes, item, part),
        data={
            "csrf_token": csrf_token_from(page),
            "version": version_from(page),
            "text": text,
        },
    )


def test_the_page_says_word_for_word_what_the_document_says(client, sign_in, held):
    sign_in(held.chair)

    page = client.get(minutes_url(held)).text

    assert page_text(page) == download(client, held.minutes)
    # Not both empty: the page has the meeting's decisions on it.
    assert "Outcome: Close at sign-off" in page_text(page)
    assert "Leicestershire Police: PCSO visits to the family" in page_text(page)


def test_corrected_wording_is_in_the_page_and_document_but_the_record_is_unchanged(
    client, sign_in, held
):
    sign_in(held.chair)
    continuing = held.items[0]
    form = client.get(wording_url(held.minutes, continuing)).text
    # The form opens with the wording as recorded, and shows it as recorded beside.
    assert "Low attendance since September; worries about friendships" in form

    saved = change(client, held.minutes, continuing, NEW_WORDING)

    assert saved.status_code == 302
    assert saved.location.endswith(f"?version=1#item-{continuing.id}-discussion")
    page = client.get(minutes_url(held)).text
    flat = " ".join(NEW_WORDING.split())
    assert f"Discussion: {flat}" in page_text(page)
    assert "Low attendance since September; worries" not in page_text(page)
    assert "Wording changed by Margaret Okafor at 09:30 on 12 January 2027" in page_text(
        page, asides=True
    )
    assert page_text(page) == download(client, held.minutes)
    assert f"Discussion: {NEW_WORDING}" in outline(minutes_service.document_of(held.minutes))
    # DESIGN §4: what was recorded stays the record.
    record_page = client.get(f"/meetings/{held.meeting.id}/record/items/{continuing.id}").text
    assert "Low attendance since September; worries about friendships" in record_page
    assert record_for(continuing).discussion == (
        "Low attendance since September; worries about friendships"
    )


def test_the_notes_wording_can_be_corrected_too(client, sign_in, held):
    sign_in(held.chair)
    closing = held.items[2]

    change(client, held.minutes, closing, "The school will watch mornings closely", "notes")

    assert "Notes: The school will watch mornings closely" in page_text(
        client.get(minutes_url(held)).text
    )


def test_a_second_editor_of_the_same_wording_is_refused_with_their_typing_kept(
    client, sign_in, held, coordinator, app, app_clock
):
    continuing = held.items[0]
    sign_in(coordinator)
    opened = client.get(wording_url(held.minutes, continuing)).text
    # Meanwhile the chair corrects the same discussion in their own browser.
    chair_client = app.test_client()
    sign_in_other(chair_client, held.chair)
    assert change(chair_client, held.minutes, continuing, "The chair's wording").status_code == 302

    mine = "Wording from the coordinator"
    refused = client.post(
        wording_url(held.minutes, continuing),
        data={"csrf_token": csrf_token_from(opened), "version": version_from(opened), "text": mine},
    )

    assert refused.status_code == 409
    text = " ".join(lxml.html.fromstring(refused.text).text_content().split())
    assert "Margaret Okafor saved changes at 09:30, after you opened this page." in text
    assert f">{mine}</textarea>" in refused.text
    db.session.expire_all()
    assert minutes_service.wording_for(held.minutes, continuing, "discussion").text == (
        "The chair's wording"
    )
    # Saving again from the re-shown form is deliberate, and goes through.
    again = client.post(
        wording_url(held.minutes, continuing),
        data={
            "csrf_token": csrf_token_from(refused.text),
            "version": version_from(refused.text),
            "text": mine,
        },
    )
    assert again.status_code == 302
    page = page_text(client.get(minutes_url(held)).text, asides=True)
    assert f"Discussion: {mine}" in page


def sign_in_other(other_client, user) -> None:
    from tests.conftest import PASSWORD

    page = other_client.get("/sign-in").text
    other_client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token_from(page)},
    )


def test_the_wording_cannot_be_changed_once_approved(client, sign_in, held):
    sign_in(held.chair)
    continuing = held.items[0]
    opened = client.get(wording_url(held.minutes, continuing)).text
    minutes_service.approve(held.minutes, held.chair)

    refused = client.post(
        wording_url(held.minutes, continuing),
        data={"csrf_token": csrf_token_from(opened), "version": "0", "text": "Too late"},
    )

    assert refused.status_code == 409
    assert (
        "Version 1 is approved by the chair: its wording can no longer be changed. Start a "
        "corrected version to change it."
    ) in refused.text
    assert db.session.scalar(select(MinutesWording)) is None
    assert "Too late" not in page_text(client.get(minutes_url(held)).text)
    # The approved version's page offers no change.
    assert "Change the wording" not in client.get(minutes_url(held)).text


def test_an_approved_version_reads_the_same_after_the_record_and_a_correction_change(
    client, sign_in, held, coordinator
):
    sign_in(held.chair)
    continuing = held.items[0]
    change(client, held.minutes, continuing, NEW_WORDING)
    client.post(
        f"/minutes/{held.minutes.id}/approve",
        data={"csrf_token": csrf_token_from(client.get(minutes_url(held)).text)},
    )
    db.session.expire_all()
    approved = page_text(client.get(minutes_url(held, 1)).text)
    assert "Status: Version 1, approved by Margaret Okafor on 12 January 2027" in approved

    # A correction starts from the approved wording, and changes it in version 2 only.
    second = minutes_service.correct(held.meeting, "Item 1's discussion", coordinator)
    assert f"Discussion: {' '.join(NEW_WORDING.split())}" in page_text(
        client.get(minutes_url(held, 2)).text
    )
    change(client, second, continuing, "Corrected in version 2")
    record = record_for(held.items[2])
    record.outcome_notes = "Changed in the record after approval"
    db.session.commit()

    assert page_text(client.get(minutes_url(held, 1)).text) == approved
    assert document_text(minutes_service.document_of(held.minutes)) == approved
    latest = page_text(client.get(minutes_url(held)).text)
    assert "Discussion: Corrected in version 2" in latest
    assert "Notes: Changed in the record after approval" in latest


def test_an_item_whose_consent_is_withdrawn_stays_withheld_on_the_page(
    client, sign_in, held, coordinator
):
    continuing = held.items[0]
    share = case_services.forum_sharing_consent(continuing.case)
    minutes_service.approve(held.minutes, held.chair)
    case_services.withdraw_consent(share, date(2027, 1, 20), "Mother no longer agrees", coordinator)
    sign_in(held.chair)

    for url in (minutes_url(held, 1), minutes_url(held)):
        text = page_text(client.get(url).text, asides=True)
        # Seed 003 §4.12: shared only with consent in force.
        assert f"1. Case {continuing.case_id} Withheld: there is no longer consent" in text
        assert "Jessica" not in text and "Thompson" not in text
        assert "Arrange a home visit" not in text
        assert "Oliver Reid" in text
    assert page_text(client.get(minutes_url(held)).text) == download(client, held.minutes)
    assert client.get(wording_url(held.minutes, continuing)).status_code == 404


@pytest.mark.parametrize("part", ["outcome", "services", "../record"])
def test_only_the_discussion_and_notes_wording_can_be_changed(client, sign_in, held, part):
    sign_in(held.chair)
    assert client.get(wording_url(held.minutes, held.items[0], part)).status_code == 404


def test_every_change_of_a_wording_is_kept_with_who_made_it(client, sign_in, held):
    sign_in(held.chair)
    continuing = held.items[0]

    change(client, held.minutes, continuing, "First wording")
    change(client, held.minutes, continuing, "Second wording")

    wording = minutes_service.wording_for(held.minutes, continuing, "discussion")
    assert [(c.text, c.changed_by.name) for c in wording.changes] == [
        ("First wording", "Margaret Okafor"),
        ("Second wording", "Margaret Okafor"),
    ]
    history = " ".join(
        lxml.html.fromstring(client.get(wording_url(held.minutes, continuing)).text)
        .text_content()
        .split()
    )
    assert re.search(
        r"Margaret Okafor, 12 January 2027, 09:30: Second wording.*"
        r"Margaret Okafor, 12 January 2027, 09:30: First wording",
        history,
    )


def test_two_first_corrections_at_the_same_moment_make_one_and_the_second_is_told(
    held, coordinator, monkeypatch
):
    """Both pages were opened before anyone corrected the part, and both saves passed that
    check together: the second's INSERT meets the first's row (the UNIQUE constraint), and
    it is answered as a stale save that names who saved, not with an error page."""
    continuing = held.items[0]
    minutes_service.change_wording(
        held.minutes, continuing, "discussion", "The chair's wording", held.chair, 0
    )
    real = minutes_service.wording_for
    calls = []

    def read_before_the_other_committed(minutes, item, part):
        calls.append(part)
        return None if len(calls) == 1 else real(minutes, item, part)

    monkeypatch.setattr(minutes_service, "wording_for", read_before_the_other_committed)

    with pytest.raises(StaleEdit) as refused:
        minutes_service.change_wording(
            held.minutes, continuing, "discussion", "The coordinator's wording", coordinator, 0
        )

    assert refused.value.changed_by == "Margaret Okafor"
    assert [(d.theirs, d.yours) for d in refused.value.differences] == [
        ("The chair's wording", "The coordinator's wording")
    ]
    monkeypatch.undo()
    rows = db.session.scalars(select(MinutesWording)).all()
    assert [row.text for row in rows] == ["The chair's wording"]


def test_the_minutes_page_sends_as_many_statements_for_12_items_as_for_3(
    client, sign_in, coordinator, make_forum, make_meeting, make_ready_case, make_agency
):
    """Each item's record, lead professional and progress update are read for all the items
    at once: the page is read every time the chair checks the draft, at 40 items too."""
    from tests.agendas.test_query_counts import statements

    agency = make_agency(name="Leicestershire Police")
    numbers = iter(range(100))

    def completed(size: int):
        forum = make_forum(name=f"Forum of {size}", new_case_capacity=20)
        meeting = make_meeting(date(2027, 1, 12), forum=forum)
        items = []
        for _ in range(size):
            number = next(numbers)
            case = make_ready_case("Child", f"Number{number:02d}", date(2015, 1, 1 + number))
            items.append(add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator))
            save_item_record(
                items[-1],
                ItemDetails(
                    outcome=Outcome.CONTINUE,
                    discussion=f"Discussed child {number}",
                    services=[(agency, "PCSO visits")],
                    actions=[ActionDetails("Home visit", "Anna Brown", date(2027, 2, 1))],
                    lead=LeadDetails(LeadKind.PRACTITIONER, "Anna Brown", True, agency=agency),
                    next_review_on=date(2027, 4, 12),
                ),
                coordinator,
            )
        at_the_meeting(meeting)
        draft = complete_meeting(meeting, coordinator)
        for item in items:
            minutes_service.change_wording(draft, item, "discussion", "Worded", coordinator)
        return meeting

    small = completed(3)
    large = completed(12)
    sign_in(coordinator)

    assert page_text(client.get(f"/meetings/{large.id}/minutes").text).count("Worded") == 12
    assert statements(client, f"/meetings/{large.id}/minutes") == statements(
        client, f"/meetings/{small.id}/minutes"
    )


def test_a_wording_saved_as_the_chair_approves_is_refused_not_left_out_of_the_approved_copy(
    held, coordinator
):
    """Another session approved the version after this one read it as a draft: the save
    claims the version's row as a draft, finds it no longer is, and keeps nothing, so what
    was approved is never silently different from what the minutes hold."""
    db.session.execute(
        update(Minutes)
        .where(Minutes.id == held.minutes.id)
        .values(status=MinutesStatus.APPROVED)
        .execution_options(synchronize_session=False)
    )

    with pytest.raises(minutes_service.MinutesError):
        minutes_service.change_wording(
            held.minutes, held.items[0], "discussion", "Too late", coordinator, 0
        )

    assert db.session.scalars(select(MinutesWording)).all() == []


def test_retention_destroys_a_childs_corrected_wording_with_the_record(held, coordinator):
    """The corrected wording is free text about the child, like the record's discussion:
    destroyed with it when the child's identifying data is (seed 002's retention)."""
    from maf.reports import retention

    continuing, closing = held.items[0], held.items[2]
    for item in (continuing, closing):
        for text in ("First wording", "Second wording"):
            minutes_service.change_wording(
                held.minutes, item, "discussion", f"{text} {item.id}", coordinator
            )

    retention._destroy([continuing.case.child_id])
    db.session.commit()
    db.session.expire_all()

    destroyed = minutes_service.wording_for(held.minutes, continuing, "discussion")
    assert destroyed.text == "" and [c.text for c in destroyed.changes] == ["", ""]
    kept = minutes_service.wording_for(held.minutes, closing, "discussion")
    assert kept.text == f"Second wording {closing.id}"
    assert [c.text for c in kept.changes] == [f"First wording {closing.id}", kept.text]


def test_a_version_approved_before_content_was_kept_says_its_page_is_made_from_the_record(
    client, sign_in, held
):
    """Versions approved before this change have their document but no stored content: the
    page says it is made from the record, and that the approved copy is the document."""
    minutes_service.approve(held.minutes, held.chair)
    held.minutes.content = None
    db.session.commit()
    sign_in(held.chair)

    page = client.get(minutes_url(held)).text

    assert "the page is made from the meeting record as it stands" in page
    assert "The approved copy is the document." in page
    assert "Outcome: Close at sign-off" in page_text(page)
