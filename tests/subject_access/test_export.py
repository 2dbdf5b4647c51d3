"""The subject access export (issue 16 point 3; UK GDPR Article 15): everything held about one
child, as a Word document a family can read and as JSON, in one zip, for the coordinators of a
district where the child has a case, audited with their reason."""

import io
import re
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.extensions import db
from maf.subject_access import services
from tests.conftest import PASSWORD, converted_to_pdf, csrf_token_from, submit
from tests.subject_access.conftest import REASON, docx_text, other_children, parts, unzipped


def _url(child) -> str:
    return f"/children/{child.id}/subject-access"


def _exports(child) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == services.AUDIT_ACTION,
                AuditEvent.object_type == "child",
                AuditEvent.object_id == str(child.id),
            )
        )
    )


def _spellings(born: date) -> list[str]:
    return [born.isoformat(), f"{born.day} {born:%B %Y}", f"{born:%d/%m/%Y}"]


# --- what it holds --------------------------------------------------------------------------


def test_the_zip_holds_a_document_that_opens_and_json_with_every_section(app, story, tmp_path):
    name, content = services.export(story.child, story.coordinator, REASON)

    today = f"{story.child.id}-"
    assert name.startswith(f"subject-access-{today}") and name.endswith(".zip")
    assert "Jessica" not in name and "Thompson" not in name
    files = unzipped(content)
    assert sorted(n.rsplit(".", 1)[1] for n in files) == ["docx", "json"]
    assert all(n.startswith(name.removesuffix(".zip")) for n in files)
    docx, data = parts(content)
    assert converted_to_pdf(docx, tmp_path).startswith(b"%PDF")

    # The schema note comes first and names every section.
    assert list(data)[0] == "schema"
    assert data["schema"]["version"] == services.SCHEMA_VERSION
    for section in ("child", "child_history", "cases", "emails", "documents", "record_views"):
        assert section in data and section in " ".join(data["schema"]["notes"])
    assert data["child"]["date_of_birth"] == "2012-05-17"
    assert data["child"]["given_name"] == "Jessica"
    assert data["what_is_left"] is None

    [case] = data["cases"]
    assert case["case_number"] == story.case.id
    assert case["referral"]["strengths"] == "Loves football"
    assert [c["to"] for c in case["status_history"]][:2] == ["Received: checks to do", "Checked"]
    share = next(c for c in case["consents"] if c["kind"] == "To share the assessment")
    # Seed 003 §4.12: consent can be withdrawn; the withdrawal is kept, with its note.
    assert share["withdrawn_on"] == "2027-01-14"
    assert share["withdrawal_note"] == "Mum asked for the forum to stop"
    [shared] = case["sharing_without_consent"]
    assert shared["reason"] == "Police asked about a missing-from-home report"
    assert len(case["needs"]) == 2
    assert case["checks"]["existing_record_check"]["judged_a_different_child"] == 1
    assert case["checks"]["specialist_services_check"]["outcome"] == (
        "No tier 3/4 involvement found"
    )

    held, review = case["forum_meetings"]
    assert held["meeting_date"] == "2027-01-12" and held["kind"] == "New case"
    assert held["record"]["discussion"].startswith("Low attendance since September")
    assert held["record"]["worded_in_the_minutes"] == {
        "discussion": "Attendance low since September."
    }
    assert held["record"]["agreed_services"] == [
        {"agency": "Leicestershire Police", "what": "PCSO visits to the family"}
    ]
    # Seed 003 §4.12: withdrawing consent took the review off the agenda not yet held.
    assert review["meeting_date"] == "2027-04-06" and review["record"] is None
    assert review["on_the_agenda"] == "Taken off: consent to share withdrawn"
    assert [lead["name"] for lead in case["lead_professionals"]] == ["Zoë Brennan"]
    assert {a["what"] for a in case["actions"]} == {
        "Refer to the school nurse",
        "Arrange a home visit",
    }
    assert {a["agreed_at_meeting_on"] for a in case["actions"]} == {"2027-01-12"}
    [update] = case["progress_updates"]
    assert update["summary"] == "Attendance is up to 92% and Jessica is sleeping better."
    # Seed 004 Appendix 3: seven questions, each Great / Good / OK / Not good.
    assert [q["answer"] for q in update["questionnaire"]] == [
        "Great",
        "Good",
        "OK",
        "Not good",
        "Good",
        "OK",
        "Great",
    ]
    assert {row["status"] for row in update["actions"]} == {"Done", "In progress"}

    subjects = [email["subject"] for email in data["emails"]]
    assert any(s.startswith("Agenda:") for s in subjects), subjects
    assert any(s.startswith("Minutes:") for s in subjects), subjects
    assert any(s.startswith("Progress update needed") for s in subjects), subjects
    assert all("@" not in email["to"] for email in data["emails"])
    # The presenter has no account: described by what they were to the case.
    slot = next(email for email in data["emails"] if email["subject"].startswith("Your slot"))
    assert slot["to"] == "Loughborough Woodgate High School (completed the assessment)"
    kinds = {(d["document"], d["meeting_date"], d["version"]) for d in data["documents"]}
    assert ("Minutes", "2027-01-12", 1) in kinds
    assert any(kind == "Agenda" and day == "2027-01-12" for kind, day, _ in kinds)
    assert {view["what"] for view in data["record_views"]} <= set(services.READS.values())


def test_the_document_reads_as_plain_english_for_a_family(app, story):
    _, content = services.export(story.child, story.coordinator, REASON)
    docx, _ = parts(content)
    document = Document(io.BytesIO(docx))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    text = docx_text(docx)

    assert headings[:2] == ["Information we hold about Jessica Thompson", "About this document"]
    assert "Consent" in headings and "Progress updates" in headings
    assert "Emails about Jessica Thompson" in headings
    assert "Documents that name Jessica Thompson" in headings
    assert "Who has looked at the record" in headings
    assert "Date of birth: 17 May 2012" in text
    assert "Withdrawn on 14 January 2027: Mum asked for the forum to stop." in text
    assert "2012-05-17" not in text  # dates in words, not ISO
    # The reason stays in the audit log; it is no part of what the family receives.
    assert REASON not in text


def test_the_export_is_audited_with_the_reason_and_listed_in_the_next_one(app, story):
    services.export(story.child, story.coordinator, REASON)
    [event] = _exports(story.child)
    assert event.user_id == story.coordinator.id
    assert event.detail == f"Reason: {REASON}"

    _, content = services.export(story.child, story.coordinator, "Court order 4 December")
    _, data = parts(content)
    exports = [
        v for v in data["record_views"] if v["what"] == services.READS["subject_access_export"]
    ]
    assert [v["who"] for v in exports] == ["Priya Shah"]
    assert len(_exports(story.child)) == 2


def test_no_other_child_is_named_in_either_file(app, story):
    """Other children on the same agendas, meetings, minutes, emails and register, and the
    look-alike the existing-CAF check found, never appear: not by name, not by date of
    birth, in the document or the JSON."""
    _, content = services.export(story.child, story.coordinator, REASON)
    docx, data = parts(content)
    text = docx_text(docx)
    as_json = services.as_json(services.Export(story.child.id, data["made_at"], data))
    # The planted children really are beside Jessica: in her meeting's approved minutes.
    db.session.refresh(story.minutes)
    minutes_text = docx_text(story.minutes.document)
    assert "Oliver Okonkwo" in minutes_text and "Jessica Thompson" in minutes_text

    for given, family, born in other_children():
        for needle in (f"{given} {family}", *_spellings(born)):
            assert needle not in text, needle
            assert needle not in as_json, needle
        if family != "Thompson":
            assert family not in text and family not in as_json, family
    assert "Jessica Thompson" in text and "2012-05-17" in as_json


def test_only_emails_about_the_child_are_listed(app, story):
    """An email is listed when it concerned one of the child's cases: the progress request to
    another child's lead professional is not."""
    _, content = services.export(story.child, story.coordinator, REASON)
    _, data = parts(content)
    progress_requests = [e for e in data["emails"] if e["subject"].startswith("Progress update")]
    assert len(progress_requests) == 1
    assert progress_requests[0]["to"] == "Leicestershire Partnership NHS Trust (Practitioner)"


def test_a_destroyed_childs_export_says_what_is_left_and_names_them_nowhere(app, story, app_clock):
    """Seed 002 D3: an ended CAF stays accessible a year, is archived six more, then the
    child's identifying details are destroyed. The export made after that says what is left
    and why, and neither file names the child or gives their date of birth."""
    from maf.cases import services as case_services
    from maf.reports import retention

    case_services.withdraw(story.case, "The family moved out of the county", story.coordinator)
    db.session.commit()
    app_clock.london(date(2028, 2, 1))
    assert story.case.id in retention.apply_retention(date(2028, 2, 1)).archived
    app_clock.london(date(2035, 3, 1))
    assert story.child.id in retention.apply_retention(date(2035, 3, 1)).destroyed
    db.session.expire_all()

    _, content = services.export(story.child, story.coordinator, REASON)
    docx, data = parts(content)

    assert data["what_is_left"] == retention.what_is_left(story.child)
    assert data["what_is_left"], "it says what is left"
    assert data["child"]["date_of_birth"] is None
    [case] = data["cases"]
    assert case["retention_starts_on"] == case["ended_on"] and case["archived_at"]
    text = docx_text(docx)
    assert "Information we hold about this child" in text
    assert "What is left and why" in text
    as_json = services.as_json(services.Export(story.child.id, data["made_at"], data))
    for needle in ("Jessica", "Thompson", *_spellings(date(2012, 5, 17))):
        assert needle not in text, needle
        assert needle not in as_json, needle


# --- through the pages ----------------------------------------------------------------------


def test_a_coordinator_downloads_the_zip_twice_and_each_is_audited(app, client, sign_in, story):
    sign_in(story.coordinator)
    page = client.get(_url(story.child))
    assert page.status_code == 200
    assert "Jessica Thompson" in page.text
    data = {"reason": REASON, "csrf_token": csrf_token_from(page.text)}

    first = client.post(_url(story.child), data=data)
    second = client.post(_url(story.child), data=data)  # a double click

    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/zip"
        assert response.headers["Cache-Control"] == "no-store"
        disposition = response.headers["Content-Disposition"]
        assert f'filename="subject-access-{story.child.id}-' in disposition
        assert "Thompson" not in disposition
        docx, parsed = parts(response.data)
        assert parsed["child"]["id"] == story.child.id and docx
    assert len(_exports(story.child)) == 2


def test_the_case_page_links_to_the_export_for_its_coordinator(app, client, sign_in, story):
    sign_in(story.coordinator)
    page = client.get(f"/cases/{story.case.id}")
    assert f'href="{_url(story.child)}"' in page.text


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_reason_is_required(app, client, sign_in, story, reason):
    sign_in(story.coordinator)
    response = submit(client, _url(story.child), {"reason": reason})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'id="reason-error"' in response.text
    assert "Enter why you are making this export" in response.text
    assert _exports(story.child) == []


def test_a_reason_too_long_is_refused_and_the_typed_text_kept(app, client, sign_in, story):
    sign_in(story.coordinator)
    typed = "Request from the child's mother, received by post. " * 10
    response = submit(client, _url(story.child), {"reason": typed})

    assert 'id="reason-error"' in response.text
    assert "450 characters or fewer" in response.text
    assert typed.strip().replace("'", "&#39;") in response.text
    assert _exports(story.child) == []


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_coordinator", 404), ("chair", 403), ("practitioner", 403), ("admin", 403)],
)
def test_nobody_else_may_export(app, story, make_user, make_district, who, status):
    people = {
        "other_coordinator": lambda: make_user(
            Role.COORDINATOR, districts=[make_district("Melton")]
        ),
        "chair": lambda: story.forum.chair,
        "practitioner": lambda: make_user(Role.PRACTITIONER),
        "admin": lambda: make_user(Role.ADMIN),
    }
    user = people[who]()
    client = app.test_client()
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})

    assert client.get(_url(story.child)).status_code == status
    token = csrf_token_from(client.get("/").text)
    posted = client.post(_url(story.child), data={"reason": REASON, "csrf_token": token})
    assert posted.status_code == status
    assert _exports(story.child) == []
    assert not services.may_export(user, story.child)


def test_a_child_nobody_has_is_404(app, client, sign_in, story):
    sign_in(story.coordinator)
    assert client.get("/children/999999/subject-access").status_code == 404


def test_corrections_and_joined_records_are_in_the_childs_history(app, make_case, coordinator):
    """Issue 16 point 4: a child's details are corrected with a trail, and a "same child"
    verdict joins two records; the export shows both, with who, when and why."""
    from maf.cases.models import MatchVerdict
    from maf.cases.services import decide_candidate
    from maf.corrections.models import ChildDetailsChange

    earlier = make_case("Amir", "Khan", date(2014, 6, 6), "LE11 2AA")
    newer = make_case("Amir", "Khan", date(2014, 6, 6), "LE11 2AB")
    decide_candidate(newer, newer.match_candidates[0], MatchVerdict.SAME, coordinator)
    child = earlier.child
    db.session.add(
        ChildDetailsChange(
            child_id=child.id,
            field="postcode",
            old_value="LE11 2AB",
            new_value="LE11 2AC",
            reason="The family moved on 1 December",
            changed_by_id=coordinator.id,
        )
    )
    db.session.commit()

    _, content = services.export(child, coordinator, REASON)
    docx, data = parts(content)

    [correction] = data["child_history"]["corrections"]
    assert correction["detail"] == "Postcode"
    assert (correction["old_value"], correction["new_value"]) == ("LE11 2AB", "LE11 2AC")
    assert correction["by"] == "Priya Shah"
    [merge] = data["child_history"]["merges"]
    assert merge["kept_record"] == child.id and merge["case_number"] == newer.id
    assert merge["joined_record_name"] == "Amir Khan"
    assert merge["joined_record_date_of_birth"] == "2014-06-06"
    assert merge["undone_at"] is None
    assert [case["case_number"] for case in data["cases"]] == [earlier.id, newer.id]
    text = docx_text(docx)
    assert "Postcode corrected from “LE11 2AB” to “LE11 2AC” by Priya Shah" in text
    assert "(Amir Khan, born 6 June 2014), made from case number" in text


def test_the_zip_of_a_demo_child_opens_in_libreoffice_and_as_json(app, database, tmp_path):
    """`flask maf demo`'s Jonathan Reid: a Charnwood CAF discussed at the forum's last meeting,
    with a lead professional, an action and draft minutes."""
    from maf.auth.models import User
    from maf.cases.models import Child

    result = app.test_cli_runner().invoke(args=["maf", "demo", "--history", "0"])
    assert result.exit_code == 0, result.output
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator.charnwood@example.org")
    )
    child = db.session.scalar(
        select(Child).where(Child.given_name == "Jonathan", Child.family_name == "Reid")
    )

    _, content = services.export(child, coordinator, "Demo: request from Jonathan's father")
    docx, data = parts(content)

    assert converted_to_pdf(docx, tmp_path).startswith(b"%PDF")
    [case] = data["cases"]
    [meeting] = case["forum_meetings"]
    assert meeting["record"]["outcome"] == "Continue, with a review"
    assert [lead["agency"] for lead in case["lead_professionals"]] != []
    assert case["actions"][0]["what"] == "Offer a health and wellbeing check"
    assert any(d["document"] == "Minutes" for d in data["documents"])
    assert "Information we hold about Jonathan Reid" in docx_text(docx)


def test_an_archived_childs_export_is_reached_from_the_archive(
    app, client, sign_in, story, app_clock, make_user
):
    """Seed 002 D3: a year after it ended the case is archived and read only through the
    archive; a request for the child's records still covers it, from the archive's page."""
    from maf.cases import services as case_services
    from maf.reports import retention

    case_services.withdraw(story.case, "The family moved out of the county", story.coordinator)
    db.session.commit()
    app_clock.london(date(2028, 2, 1))
    assert story.case.id in retention.apply_retention(date(2028, 2, 1)).archived
    sign_in(story.coordinator)

    assert client.get(f"/cases/{story.case.id}").status_code == 404
    archive = client.get("/archive", query_string={"q": str(story.case.id)})
    assert f'href="{_url(story.child)}"' in archive.text
    page = client.get(_url(story.child))
    assert page.status_code == 200 and "(archived)" in page.text
    response = submit(client, _url(story.child), {"reason": REASON})
    _, data = parts(response.data)
    assert data["cases"][0]["archived_at"].startswith("2028-02-01")

    admin = app.test_client()
    submit(admin, "/sign-in", {"email": make_user(Role.ADMIN).email, "password": PASSWORD})
    assert _url(story.child) not in admin.get(f"/archive?q={story.case.id}").text


def test_a_record_joined_by_mistake_and_separated_again_is_not_named(app, make_case, coordinator):
    """Twins judged "same child" by mistake, then separated (issue 16 point 4): the export of
    one says a record was joined and separated, but never the other twin's name or birth date
    (they share it here, so the name is what is looked for)."""
    from maf.cases.models import MatchVerdict
    from maf.cases.services import decide_candidate
    from maf.corrections.models import ChildMerge
    from maf.corrections.services import undo_merge

    amir = make_case("Amir", "Khan", date(2014, 6, 6), "LE11 2AA")
    amira = make_case("Amira", "Khan", date(2014, 6, 6), "LE11 2AA")
    [candidate] = [c for c in amira.match_candidates if c.child_id == amir.child_id]
    decide_candidate(amira, candidate, MatchVerdict.SAME, coordinator)
    merge = db.session.scalar(select(ChildMerge).where(ChildMerge.new_case_id == amira.id))
    undo_merge(merge, "Twins: Amira is Amir's sister", coordinator)
    db.session.commit()
    db.session.expire_all()

    _, content = services.export(amir.child, coordinator, REASON)
    docx, data = parts(content)

    [separated] = data["child_history"]["merges"]
    assert separated["undone_at"] is not None and separated["undone_by"] == "Priya Shah"
    assert separated["joined_record_name"] is None
    assert (separated["kept_record"], separated["joined_record"]) == (amir.child_id, None)
    assert [case["case_number"] for case in data["cases"]] == [amir.id]
    text = docx_text(docx)
    assert "the records were about different children" in text
    as_json = services.as_json(services.Export(amir.child.id, data["made_at"], data))
    # The undo's reason is the coordinator's words about both children: left out too.
    for needle in ("Amira", f"case number {amira.id}"):
        assert needle not in text, needle
    assert "Amira" not in as_json

    db.session.refresh(amira)
    _, content = services.export(amira.child, coordinator, REASON)
    docx, data = parts(content)
    [separated] = data["child_history"]["merges"]
    assert separated["joined_record"] == amira.child_id and separated["kept_record"] is None
    as_json = services.as_json(services.Export(amira.child.id, data["made_at"], data))
    for needle in ("Amir Khan", f"case number {amir.id}", f"record {amir.child_id}"):
        assert not re.search(rf"{needle}\b", docx_text(docx)), needle
    assert "Amir Khan" not in as_json and "Amira" in as_json


def _statements_to_gather(child, user) -> int:
    from sqlalchemy import event

    services.gather(child, user)  # warmed up
    db.session.expire_all()
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        services.gather(child, user)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_the_statements_do_not_grow_with_the_reads_and_emails_it_lists(app, story, make_user):
    """The export's SQL statements depend on the child's own cases and meetings, not on how
    many people looked at the record or how many emails concerned it."""
    from maf.audit import services as audit
    from maf.circulation import outbox

    def read_and_email(number):
        reader = make_user(Role.COORDINATOR, districts=story.coordinator.districts)
        audit.record("view", story.case, user=reader)
        outbox.enqueue(
            dedupe_key=f"subject-access-test:{number}",
            recipient_email=reader.email,
            recipient_name=reader.name,
            subject=f"Reminder {number}",
            text_body="A reminder",
            concerning=[story.case],
        )

    read_and_email(0)
    db.session.commit()
    before = _statements_to_gather(story.child, story.coordinator)
    for number in range(1, 26):
        read_and_email(number)
    db.session.commit()

    _, content = services.export(story.child, story.coordinator, REASON)
    _, data = parts(content)
    assert len(data["record_views"]) == 26
    assert len([e for e in data["emails"] if e["subject"].startswith("Reminder")]) == 26
    assert _statements_to_gather(story.child, story.coordinator) == before


def test_every_case_of_the_child_is_in_it_whichever_district_holds_it(
    app, make_case, coordinator, make_user, make_district
):
    """The council answers a request once, with everything it holds: a coordinator of either
    district where the child has a case exports both cases; a third district's may not."""
    from maf.cases.models import MatchVerdict
    from maf.cases.services import decide_candidate

    melton = make_district("Melton")
    melton_coordinator = make_user(Role.COORDINATOR, name="Tom Reed", districts=[melton])
    charnwood_case = make_case("Amir", "Khan", date(2014, 6, 6), "LE11 2AA")
    melton_case = make_case(
        "Amir", "Khan", date(2014, 6, 6), "LE13 0AA", district=melton, user=melton_coordinator
    )
    [candidate] = melton_case.match_candidates
    decide_candidate(melton_case, candidate, MatchVerdict.SAME, melton_coordinator)
    db.session.commit()
    child = charnwood_case.child
    assert melton_case.child_id == child.id

    for user in (coordinator, melton_coordinator):
        _, content = services.export(child, user, REASON)
        _, data = parts(content)
        assert [(c["case_number"], c["district"]) for c in data["cases"]] == [
            (charnwood_case.id, "Charnwood"),
            (melton_case.id, "Melton"),
        ]
    blaby = make_user(Role.COORDINATOR, districts=[make_district("Blaby")])
    assert not services.may_export(blaby, child)
    with pytest.raises(services.NotAllowed):
        services.export(child, blaby, REASON)
