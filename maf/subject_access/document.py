"""The subject access export as a Word document a family can read: plain English headings,
dates written out ("2 December 2026"), a short "About this document" first, and the same
content as the JSON beside it in the zip (both are written from `services.gather`)."""

import io
from datetime import date, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.shared import Twips
from flask import current_app

from maf.agendas.document import (
    _add_labelled,
    _add_row,
    _add_table,
    _clean,
    _set_up_page,
    _set_up_styles,
)
from maf.dbtypes import LONDON
from maf.rules.words import words
from maf.subject_access.services import Export
from maf.words import date_in_words

NOT_RECORDED = "Not recorded"
# Centimetres, adding up to 18.0: A4 portrait's width inside the agenda's margins.
EMAIL_COLUMNS = (("When", 4.5), ("Subject", 8.0), ("Sent to", 5.5))
DOCUMENT_COLUMNS = (("Document", 3.0), ("Meeting", 7.0), ("Version", 2.0), ("Date", 6.0))
VIEW_COLUMNS = (("When", 4.5), ("Who", 7.0), ("What", 6.5))
ACTION_COLUMNS = (("Action", 7.0), ("Who", 4.5), ("Due by", 3.0), ("Status", 3.5))


def in_words(value) -> str:
    """A date or moment as a family reads it, in England's time; None as "Not recorded"."""
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, datetime):
        local = value.astimezone(LONDON)
        return f"{date_in_words(local)} at {local:%H:%M}"
    if isinstance(value, date):
        return date_in_words(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def subject_access_document(made: Export) -> bytes:
    data = made.data
    document = Document()
    _set_up_styles(document)
    _set_up_page(document, current_app.config["ORGANISATION_NAME"])
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Twips(11906), Twips(16838)
    # The file's properties travel with it (and show in file lists): no name in them.
    document.core_properties.title = f"Information held about child record {made.child_id}"
    document.core_properties.author = current_app.config["ORGANISATION_NAME"]

    child = data["child"]
    name = _name(child)
    document.add_heading(_clean(f"Information we hold about {name}"), level=1)
    _about(document, data, name)
    _details(document, child, data["what_is_left"])
    _history(document, data["child_history"])
    for number, case in enumerate(data["cases"], start=1):
        _case(document, number, case)
    _emails(document, data["emails"], name)
    _documents(document, data["documents"], name)
    _views(document, data["record_views"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _name(child: dict) -> str:
    if child["identity_destroyed_at"] is not None:
        return "this child"
    return " ".join(part for part in (child["given_name"], child["family_name"]) if part)


def _paragraph(document: DocxDocument, text: str) -> None:
    document.add_paragraph(_clean(text))


def _labelled(document: DocxDocument, label: str, value) -> None:
    _add_labelled(document, label, in_words(value))


def _about(document: DocxDocument, data: dict, name: str) -> None:
    organisation = current_app.config["ORGANISATION_NAME"]
    service = current_app.config["SERVICE_NAME"]
    document.add_heading("About this document", level=2)
    _paragraph(
        document,
        f"This is everything {organisation} holds about {name} in {service}, the system "
        f"its early help team uses to run multi-agency forums. It was made on "
        f"{in_words(data['made_at'])} by {data['made_by']['name']} "
        f"({data['made_by']['role']}) in answer to a request to see this information "
        "(a subject access request under the UK General Data Protection Regulation).",
    )
    _paragraph(
        document,
        "Forum agendas, minutes and emails also name other children, so they are listed here "
        "(which document, which meeting, when) but not copied. Other people's email addresses "
        "are left out. Where this document says “Not recorded”, nothing was written down.",
    )
    _paragraph(
        document,
        "A copy of the same information for computers is in the .json file that came with "
        "this document.",
    )


def _details(document: DocxDocument, child: dict, what_is_left: list[str] | None) -> None:
    document.add_heading("Details we hold", level=2)
    if what_is_left is not None:
        _paragraph(
            document,
            f"The child's name, date of birth and other identifying details were destroyed on "
            f"{in_words(child['identity_destroyed_at'])}, as the retention rule requires.",
        )
        document.add_heading("What is left and why", level=3)
        for sentence in what_is_left or [NOT_RECORDED]:
            document.add_paragraph(_clean(sentence), style="List Bullet")
    rows = (
        ("Given name", child["given_name"]),
        ("Family name", child["family_name"]),
        ("Other or previous names", ", ".join(child["other_names"]) or None),
        ("Date of birth", child["date_of_birth"]),
        ("Gender", child["gender"]),
        ("Address", child["address"]),
        ("Postcode", child["postcode"]),
        ("School or setting", child["school_or_setting"]),
        ("Unique pupil number", child["unique_pupil_number"]),
        ("NHS number", child["nhs_number"]),
        ("First recorded", child["first_recorded_at"]),
    )
    for label, value in rows:
        _labelled(document, label, value)


def _history(document: DocxDocument, history: dict) -> None:
    document.add_heading("Changes to these details", level=2)
    if not history["corrections"] and not history["merges"]:
        _paragraph(document, "The details have not been corrected since they were recorded.")
    for change in history["corrections"]:
        _bullet(
            document,
            f"{in_words(change['at'])}: {change['detail']} corrected from "
            f"“{in_words(change['old_value'])}” to “{in_words(change['new_value'])}” by "
            f"{change['by']}. Why: {in_words(change['reason'])}.",
        )
    for merge in history["merges"]:
        if merge["undone_at"]:
            _bullet(
                document,
                f"{in_words(merge['at'])}: {merge['by']} judged another record to be about the "
                f"same child and joined the two. {merge['undone_by'] or 'A coordinator'} undid "
                f"this on {in_words(merge['undone_at'])}: the records were about different "
                "children, and each was put back as it was.",
            )
            continue
        born = merge["joined_record_date_of_birth"]
        _bullet(
            document,
            f"{in_words(merge['at'])}: {merge['by']} found that record "
            f"{merge['joined_record']} ({merge['joined_record_name']}, born {in_words(born)}), "
            f"made from case number {merge['case_number']}, was about the same child, and "
            f"joined it into record {merge['kept_record']}.",
        )


def _case(document: DocxDocument, number: int, case: dict) -> None:
    short = words().assessment_short
    document.add_heading(
        _clean(f"{short} {number}: case number {case['case_number']}, {case['district']}"),
        level=2,
    )
    referral = case["referral"]
    _labelled(document, "Where it is now", case["status_in_words"])
    if case["status_reason"]:
        _labelled(document, "Why", case["status_reason"])
    if case["joined_to_case_number"]:
        _labelled(document, "Joined to", f"case number {case['joined_to_case_number']}")
    _labelled(
        document, "Completed by", f"{referral['referrer_name']}, {referral['referrer_agency']}"
    )
    _labelled(document, "Where it came from", referral["came_from"])
    _labelled(document, "Assessment completed", referral["assessment_completed_on"])
    _labelled(document, "Received", case["received_at"])
    _labelled(document, "Age when assessed", referral["age_at_assessment"])
    _labelled(document, "Strengths", referral["strengths"])
    _labelled(document, "The child's views", referral["child_views"])
    _labelled(document, "The family's views", referral["family_views"])
    if case["closed_on"]:
        _labelled(document, "Closed", case["closed_on"])
    elif case["ended_on"]:
        _labelled(document, "Ended", case["ended_on"])
    if case["retention_starts_on"]:
        _labelled(document, "Kept under the retention rule from", case["retention_starts_on"])
    if case["archived_at"]:
        _labelled(document, "Archived", case["archived_at"])

    document.add_heading("What happened, step by step", level=3)
    for change in case["status_history"]:
        reason = f" ({change['reason']})" if change["reason"] else ""
        _bullet(document, f"{in_words(change['at'])}: {change['to']}{reason}, by {change['by']}")

    document.add_heading("Consent", level=3)
    for consent in case["consents"]:
        verb = "given" if consent["given"] else "refused"
        forum = (
            " It covers the members of the district forum." if consent["covers_the_forum"] else ""
        )
        agencies = (
            f" Agencies named: {', '.join(consent['agencies'])}." if consent["agencies"] else ""
        )
        withdrawn = (
            f" Withdrawn on {in_words(consent['withdrawn_on'])}"
            f"{': ' + consent['withdrawal_note'] if consent['withdrawal_note'] else ''}."
            if consent["withdrawn_on"]
            else ""
        )
        _bullet(
            document,
            f"Consent {consent['kind'].lower()}: {verb} on {in_words(consent['given_on'])} by "
            f"{consent['given_by_name']} ({consent['given_by'].lower()}), "
            f"{consent['method'].lower()}.{forum}{agencies}{withdrawn}",
        )
    if not case["consents"]:
        _paragraph(document, "No consent was recorded.")
    if case["sharing_without_consent"]:
        document.add_heading("Information shared without consent", level=3)
        for decision in case["sharing_without_consent"]:
            _bullet(
                document,
                f"{in_words(decision['decided_on'])}: {decision['decided_by']} decided to share "
                f"with {decision['shared_with']}. Ground: {decision['ground']}. "
                f"Reason: {decision['reason']}",
            )

    document.add_heading("Needs", level=3)
    for need in case["needs"]:
        _bullet(document, f"{need['statement']} ({need['domain']}: {need['element']})")
    if not case["needs"]:
        _paragraph(document, "No needs were recorded.")

    _checks(document, case["checks"])
    _meetings(document, case["forum_meetings"])
    _leads(document, case["lead_professionals"])
    _actions(document, case["actions"])
    _progress(document, case["progress_updates"])


def _bullet(document: DocxDocument, text: str) -> None:
    document.add_paragraph(_clean(text), style="List Bullet")


def _checks(document: DocxDocument, checks: dict) -> None:
    document.add_heading("Checks before the forum", level=3)
    existing, specialist = checks["existing_record_check"], checks["specialist_services_check"]
    found = existing["possible_matches_found"]
    _paragraph(
        document,
        f"Whether there was already an assessment for this child: checked "
        f"{in_words(existing['done_at'])}. {found} possible match"
        f"{'es' if found != 1 else ''} found; {existing['judged_the_same_child']} judged to be "
        f"this child, {existing['judged_a_different_child']} judged to be a different child.",
    )
    reason = f" {specialist['reason']}" if specialist["reason"] else ""
    _paragraph(
        document,
        f"Whether specialist (tier 3 or 4) services were involved: checked "
        f"{in_words(specialist['done_at'])}. Outcome: {in_words(specialist['outcome'])}.{reason}",
    )


def _meetings(document: DocxDocument, meetings: list[dict]) -> None:
    document.add_heading("Forum meetings", level=3)
    if not meetings:
        _paragraph(document, "The case has not been on a forum agenda.")
    for meeting in meetings:
        why = f" ({meeting['why_taken_off']})" if meeting["why_taken_off"] else ""
        _paragraph(
            document,
            f"{meeting['forum']}, {in_words(meeting['meeting_date'])}: {meeting['kind']}. "
            f"{meeting['on_the_agenda']}{why}.",
        )
        record = meeting["record"]
        if record is None:
            continue
        _labelled(document, "What was discussed", record["discussion"])
        _labelled(document, "Decision", record["outcome"])
        if record["next_review_by"]:
            _labelled(document, "Next review by", record["next_review_by"])
        if record["closure_reason"]:
            _labelled(document, "Why it closed", record["closure_reason"])
        if record["notes"]:
            _labelled(document, "Notes", record["notes"])
        for service in record["agreed_services"]:
            _bullet(document, f"Service agreed: {service['agency']}: {service['what']}")
        if record["lead_professional_agreed"]:
            _labelled(document, words().lead_professional_cap, record["lead_professional_agreed"])
        for part, text in (record["worded_in_the_minutes"] or {}).items():
            label = "What was discussed" if part == "discussion" else "Notes"
            _labelled(document, f"{label}, as the minutes word it", text)


def _leads(document: DocxDocument, leads: list[dict]) -> None:
    document.add_heading(words().lead_professional_cap, level=3)
    if not leads:
        _paragraph(document, "Nobody has been the lead for this case.")
    for lead in leads:
        agency = f", {lead['agency']}" if lead["agency"] else ""
        until = f" until {in_words(lead['until'])}" if lead["until"] else " (now)"
        _bullet(
            document,
            f"{lead['name']}{agency} ({lead['kind'].lower()}): from "
            f"{in_words(lead['from'])}{until}",
        )


def _actions(document: DocxDocument, actions: list[dict]) -> None:
    document.add_heading("Actions agreed", level=3)
    if not actions:
        _paragraph(document, "No actions were agreed.")
        return
    table = _add_table(document, ACTION_COLUMNS)
    for action in actions:
        who = f"{action['who']}\n{action['agency']}" if action["agency"] else action["who"]
        status = action["status"]
        if action["done_at"]:
            status += f" ({in_words(action['done_at'])})"
        what = action["what"]
        if action["agreed_at_meeting_on"]:
            what += f"\nAgreed at the meeting on {in_words(action['agreed_at_meeting_on'])}"
        _add_row(table, (what, who, in_words(action["due_by"]), status))


def _progress(document: DocxDocument, updates: list[dict]) -> None:
    document.add_heading("Progress updates", level=3)
    if not updates:
        _paragraph(document, "No progress updates were asked for.")
    for update in updates:
        sent = f"sent {in_words(update['sent_at'])}" if update["sent_at"] else "not sent yet"
        _paragraph(
            document,
            f"For the meeting on {in_words(update['for_meeting_on'])}: asked for "
            f"{in_words(update['asked_for_at'])}, {sent}.",
        )
        if update["summary"]:
            _labelled(document, "Summary", update["summary"])
        if update["further_comments"]:
            _labelled(document, "Further comments", update["further_comments"])
        for row in update["actions"]:
            note = f": {row['note']}" if row["note"] else ""
            _bullet(document, f"{row['action']}: {row['status']}{note}")
        for answer in update["questionnaire"]:
            comment = f" ({answer['comment']})" if answer["comment"] else ""
            _bullet(document, f"{answer['question']} {answer['answer']}{comment}")


def _emails(document: DocxDocument, emails: list[dict], name: str) -> None:
    document.add_heading(_clean(f"Emails about {name}"), level=2)
    if not emails:
        _paragraph(document, "No emails about this child are recorded.")
        return
    _paragraph(document, "The subject of each email and when it went; not what it said.")
    table = _add_table(document, EMAIL_COLUMNS)
    for email in emails:
        when = email["sent_at"] or email["written_at"]
        sent = in_words(when) + ("" if email["sent_at"] else f"\n{email['delivery']}")
        _add_row(table, (sent, email["subject"], email["to"]))


def _documents(document: DocxDocument, documents: list[dict], name: str) -> None:
    document.add_heading(_clean(f"Documents that name {name}"), level=2)
    if not documents:
        _paragraph(document, "No agenda or minutes has named this child.")
        return
    _paragraph(
        document,
        "These documents also name other children, so they are listed, not copied. What "
        "they said about this child is in the sections above.",
    )
    table = _add_table(document, DOCUMENT_COLUMNS)
    for row in documents:
        meeting = f"{row['forum']}, {in_words(row['meeting_date'])}"
        when = f"{in_words(row['date'])}\n{row['status']}"
        _add_row(table, (row["document"], meeting, str(row["version"]), when))


def _views(document: DocxDocument, views: list[dict]) -> None:
    document.add_heading("Who has looked at the record", level=2)
    if not views:
        _paragraph(document, "Nobody has opened the record.")
        return
    _paragraph(
        document,
        "From the service's audit log, which records every time someone opens the record. "
        "The forum's members also received the agendas and minutes listed above.",
    )
    table = _add_table(document, VIEW_COLUMNS)
    for view in views:
        who = view["who"] + "".join(f"\n{part}" for part in (view["agency"], view["role"]) if part)
        what = view["what"]
        if view["case_number"]:
            what += f" (case number {view['case_number']})"
        _add_row(table, (in_words(view["at"]), who, what))
