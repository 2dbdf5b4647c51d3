"""When a child's identity is destroyed under the retention rule (seed 002 D3: a closed CAF is
accessible for a year, archived for six more, then destroyed), every copy of their name and
date of birth goes with it: the frozen minutes, the emails that concerned them and their
attachments, the audit log, the corrections and merge records. Another child on the same
agenda, minutes and emails keeps theirs.

The scene is built through the services, as the forum's year would build it, and the check
after destruction reads every text, JSON and binary column of every table, found from the
schema (a .docx is opened and its XML read), so a table added later is checked too."""

import contextlib
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, time

import pytest
from docx import Document
from sqlalchemy import JSON, LargeBinary, String, select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.audit import services as audit
from maf.audit.models import AuditEvent
from maf.cases import services as case_services
from maf.cases.models import Case, CaseStatus, Child, MatchVerdict
from maf.circulation import services as circulation
from maf.circulation.models import OutboxMessage
from maf.corrections.models import ChildDetailsChange, ChildMerge
from maf.dbtypes import LONDON
from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Minutes, Outcome
from maf.reports import redaction, retention
from tests.conftest import at_the_meeting, converted_to_pdf

TODAY = date(2034, 6, 15)
BORN = date(2013, 4, 9)
# Every form in which the destroyed child's identity was planted.
PLANTED = ("Zephyrine", "Quillfeather", "Zeffy", "2013-04-09", "9 April 2013", "09/04/2013")
OTHER = ("Ottoline", "Marchbanks")
OTHER_BORN = date(2014, 6, 21)


def _lead(name: str, email: str) -> outcomes.LeadDetails:
    return outcomes.LeadDetails(kind=LeadKind.PRACTITIONER, name=name, agreed=True, email=email)


@pytest.fixture
def scene(
    make_meeting, make_ready_case, make_case, make_agency, coordinator, app_clock, add_members
):
    """Zephyrine and Ottoline on the same agenda, presented, circulated, discussed, minuted,
    the minutes approved and circulated; a second CAF for Zephyrine joined to her record by
    the existing-CAF check; a correction of her name; audit details naming her. Then her
    case closed and archived long enough ago to be destroyed today; Ottoline's stays open."""
    app_clock.london(date(2026, 12, 1))
    meeting = make_meeting(date(2027, 1, 12))
    # Secure addresses (issue 17), so the agenda and minutes documents naming her are attached.
    circulation.add_secure_domain("example.org", coordinator)
    add_members(
        meeting.forum, [("Zoë Brennan", "zoe@example.org"), ("Paul Dennis", "paul@example.org")]
    )
    zephyrine = make_ready_case("Zephyrine", "Quillfeather", BORN, "LE11 1AA", other_names="Zeffy")
    ottoline = make_ready_case(*OTHER, OTHER_BORN, "LE12 2BB")
    items = [
        agendas.add_to_agenda(
            meeting, case, ItemKind.NEW_CASE, coordinator, "Dan Kowalski", "dan@example.org"
        )
        for case in (zephyrine, ottoline)
    ]
    circulation.circulate(meeting, coordinator)

    outcomes.save_item_record(
        items[0],
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Zephyrine is settling; Zeffy to her friends",
            next_review_on=date(2027, 4, 12),
            lead=_lead("Zoë Brennan", "zoe@example.org"),
            actions=[
                outcomes.ActionDetails("Book Zephyrine a mentor", "Zoë Brennan", date(2027, 2, 1))
            ],
        ),
        coordinator,
    )
    outcomes.save_item_record(
        items[1],
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            # A friend named in full in another child's item.
            discussion="Ottoline walks to school with Zephyrine Quillfeather",
            next_review_on=date(2027, 4, 12),
            lead=_lead("Paul Dennis", "paul@example.org"),
            actions=[
                outcomes.ActionDetails("Book Ottoline a mentor", "Paul Dennis", date(2027, 2, 1)),
                outcomes.ActionDetails(
                    "Pair with Zephyrine Quillfeather at lunch", "Paul Dennis", date(2027, 2, 1)
                ),
            ],
        ),
        coordinator,
    )
    at_the_meeting(meeting)
    minutes = outcomes.complete_meeting(meeting, coordinator)
    minutes_service.approve(minutes, meeting.forum.chair)
    minutes_service.circulate(minutes, meeting.forum.chair)

    # A second CAF for her, recognised as the same child: the merge records her details.
    app_clock.london(date(2027, 2, 1))
    again = make_case("Zephyrine", "Quillfeather", BORN, "LE11 1AA", other_names="Zeffy")
    (candidate,) = [c for c in again.match_candidates if c.child_id == zephyrine.child_id]
    case_services.decide_candidate(again, candidate, MatchVerdict.SAME, coordinator)
    db.session.add(
        ChildDetailsChange(
            child_id=zephyrine.child_id,
            field="family_name",
            old_value="Zephyrine Quilfeather",
            new_value="Zephyrine Quillfeather",
            reason="Zephyrine's birth certificate, 09/04/2013",
            changed_by_id=coordinator.id,
        )
    )
    audit.record("case_note", zephyrine, user=coordinator, detail="Zephyrine's mum phoned")
    # As a subject access export records its reason, on the child's record.
    audit.record(
        "subject_access_export", zephyrine.child, user=coordinator, detail="Reason: Zeffy's dad"
    )
    audit.record(
        "case_note", ottoline, user=coordinator, detail="asked after zephyrine quillfeather"
    )
    db.session.commit()

    # Closed in June 2027, archived a year later: more than six years before TODAY.
    for case in db.session.scalars(select(Case).where(Case.child_id == zephyrine.child_id)):
        if case.status != CaseStatus.MERGED:
            case.status, case.closed_on = CaseStatus.CLOSED, date(2027, 6, 1)
        case.archived_at = datetime.combine(date(2028, 6, 2), time(2), LONDON).astimezone(UTC)
    db.session.commit()
    app_clock.london(TODAY, 2)
    return dict(meeting=meeting, minutes=minutes, zephyrine=zephyrine, ottoline=ottoline)


def _readable(value) -> str:
    """A stored value as text to search: a .docx (or any zip) opened and its XML read with the
    tags taken out, so a name split across runs is found too."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if zipfile.is_zipfile(io.BytesIO(value)):
            with zipfile.ZipFile(io.BytesIO(value)) as archive:
                parts = [
                    archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                ]
            xml = " ".join(parts)
            return xml + " " + re.sub(r"<[^>]+>", "", xml)
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text[:1] in "[{":  # JSON in a text column: read its escapes too
        with contextlib.suppress(ValueError):
            text += " " + json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _where_found(words) -> list[tuple[str, str, str]]:
    """(table, column, word) for every word held anywhere, in any text, JSON or binary
    column of any table."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [
            column
            for column in table.columns
            if isinstance(column.type, String | JSON | LargeBinary)
        ]
        for column in columns:
            for value in db.session.scalars(select(column).where(column.is_not(None))):
                text = _readable(value).casefold()
                found += [(table.name, column.name, w) for w in words if w.casefold() in text]
    return sorted(set(found))


def _docx_text(document: bytes) -> str:
    """The paragraphs and table cells of a .docx."""
    opened = Document(io.BytesIO(document))
    cells = [cell.text for table in opened.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(p.text for p in opened.paragraphs), *cells])


def test_the_scene_plants_her_everywhere_the_check_reads(scene):
    """The check can fail: before destruction it finds her in the places destruction must
    reach."""
    tables = {table for table, _, _ in _where_found(PLANTED)}
    assert {
        "child",
        "minutes",
        "outbox_attachment",
        "audit_event",
        "child_details_change",
        "child_merge",
        "item_record",
        "action",
    } <= tables


def test_after_destruction_no_table_holds_her_name_or_date_of_birth(scene):
    report = retention.apply_retention(TODAY)

    assert report.destroyed == [scene["zephyrine"].child_id]
    assert _where_found(PLANTED) == []


def test_the_other_child_on_the_same_minutes_and_emails_keeps_theirs(scene, tmp_path):
    ottoline, minutes = scene["ottoline"], scene["minutes"]
    emails_before = {m.id for m in _emails_of(ottoline)}

    retention.apply_retention(TODAY)

    db.session.expire_all()
    child = db.session.get(Child, ottoline.child_id)
    assert (child.full_name, child.date_of_birth) == ("Ottoline Marchbanks", OTHER_BORN)
    minutes = db.session.get(Minutes, minutes.id)
    frozen = _docx_text(minutes.document)
    assert "Ottoline Marchbanks" in frozen and "Book Ottoline a mentor" in frozen
    assert redaction.ITEM_DESTROYED in frozen
    assert f"Case {scene['zephyrine'].id}" in frozen  # the item keeps its number
    assert "Ottoline walks to school with [name removed under the retention rule]" in frozen
    assert "Ottoline Marchbanks" in minutes.content
    # What a member reads now is made from the same redacted content.
    assert redaction.ITEM_DESTROYED in _docx_text(minutes_service.document_of(minutes))
    assert b"%PDF" in converted_to_pdf(minutes.document, tmp_path)[:8]
    # Her emails are still listed against her case, for her own subject access export.
    assert {m.id for m in _emails_of(ottoline)} == emails_before != set()


def _emails_of(case: Case) -> list[OutboxMessage]:
    return [m for m in db.session.scalars(select(OutboxMessage)) if case in m.cases]


def test_attachments_that_named_her_are_replaced_by_a_note_and_the_emails_kept(scene):
    zephyrine = scene["zephyrine"]
    emails = _emails_of(zephyrine)
    subjects = sorted(m.subject for m in emails)
    with_documents = [m for m in emails if m.attachments]
    assert with_documents, "the agenda and the minutes went as attachments"

    retention.apply_retention(TODAY)

    db.session.expire_all()
    assert sorted(m.subject for m in _emails_of(zephyrine)) == subjects
    for message in with_documents:
        message = db.session.get(OutboxMessage, message.id)
        (attachment,) = message.attachments
        assert attachment.filename.endswith("-removed.txt")
        assert attachment.content_type == "text/plain"
        note = attachment.content.decode()
        assert "was removed on 15 June 2034 under the retention rule" in note
        assert re.match(r"[a-z-]+-(agenda|minutes)-2027-01-12-v\d+\.docx was removed", note)


def test_audit_details_lose_her_name_and_say_what_was_redacted(scene):
    retention.apply_retention(TODAY)

    details = {
        e.detail
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case_note"))
    }
    assert details == {
        "[name removed under the retention rule]'s mum phoned",
        "asked after [name removed under the retention rule]",  # found whatever its case
    }
    (export,) = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "subject_access_export")
    )
    assert export == "Reason: [name removed under the retention rule]'s dad"
    (run,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention_copies_redacted")
    )
    assert run.detail.startswith("1 child: 2 mentions in other children's items, 1 version of")


def test_her_corrections_and_merge_keep_their_shape_without_her_details(scene):
    retention.apply_retention(TODAY)

    (change,) = db.session.scalars(
        select(ChildDetailsChange).where(ChildDetailsChange.child_id == scene["zephyrine"].child_id)
    )
    assert (change.field, change.old_value, change.new_value) == ("family_name", "", "")
    assert change.reason == (
        "[name removed under the retention rule]'s birth certificate, "
        "[date of birth removed under the retention rule]"
    )
    (merge,) = db.session.scalars(select(ChildMerge))
    data = merge.data
    assert data["duplicate"]["given_name"] == retention.DESTROYED
    assert data["duplicate"]["date_of_birth"] is None
    assert data["moved_case_ids"], "ids stay: they say what moved, not who"


def test_a_dry_run_reaches_nothing(scene):
    retention.apply_retention(TODAY, dry_run=True)
    db.session.expire_all()
    found = {table for table, _, _ in _where_found(PLANTED)}
    assert {"minutes", "outbox_attachment", "audit_event", "child_merge"} <= found


def test_what_is_left_of_her_says_what_remains_and_why_without_personal_data(scene):
    zephyrine = scene["zephyrine"]
    child = db.session.get(Child, zephyrine.child_id)
    assert retention.what_is_left(child) == [], "nothing to say before destruction"

    retention.apply_retention(TODAY)

    db.session.expire_all()
    child = db.session.get(Child, zephyrine.child_id)
    sentences = retention.what_is_left(child)
    text = " ".join(sentences)
    assert sentences[0].startswith(
        "The details that identified this child (name, other names, date of birth, address, "
        "postcode, school, unique pupil number and NHS number) were destroyed on 15 June 2034 "
        "under the retention rule: a CAF that has ended stays accessible for 1 year, is then "
        "archived for 6 years more, and is then destroyed."
    )
    assert (
        f"Case {zephyrine.id}: assessment completed on 2 November 2026, closed on 1 June 2027, "
        "archived on 2 June 2028." in sentences
    )
    assert re.search(r"\d+ emails that concerned the child are still listed", text)
    assert not [word for word in (*PLANTED, *OTHER) if word.casefold() in text.casefold()]
    assert retention.what_is_left(db.session.get(Child, scene["ottoline"].child_id)) == []


def test_two_children_on_the_same_minutes_and_emails_destroyed_together(scene):
    ottoline = scene["ottoline"]
    ottoline.status, ottoline.closed_on = CaseStatus.CLOSED, date(2027, 6, 1)
    ottoline.archived_at = scene["zephyrine"].archived_at
    db.session.commit()

    report = retention.apply_retention(TODAY)

    assert sorted(report.destroyed) == sorted([scene["zephyrine"].child_id, ottoline.child_id])
    assert _where_found((*PLANTED, *OTHER, "2014-06-21")) == []
    minutes = db.session.get(Minutes, scene["minutes"].id)
    assert _docx_text(minutes.document).count(redaction.ITEM_DESTROYED) == 2
