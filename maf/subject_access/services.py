"""What a subject access request about a child is answered with (UK GDPR Article 15: within a
month, everything held about the person).

`gather` reads everything the service holds about one child into one plain structure (dates
as `date`/`datetime`); the JSON file and the Word document are both written from it, so they
always say the same. What it never carries:

* other children: agendas, minutes and emails name several children, so they are listed (which
  document, which meeting, when), never copied; the existing-CAF check's possible matches are
  counted, never named;
* other people's email addresses: a recipient is described by their agency and role;
* the reason a coordinator gave for the export: it stays in the audit log, where it belongs.

Only the coordinators of a district where the child has a case may make one (`may_export`).
"""

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from maf.agendas.models import AgendaItem, ItemStatus
from maf.audit import services as audit
from maf.audit.models import AuditEvent
from maf.auth.models import User
from maf.auth.permissions import manages_case
from maf.cases.models import Case, Child, MatchVerdict
from maf.circulation.models import OutboxMessage, outbox_message_case
from maf.corrections.models import ChildDetailsChange, ChildMerge
from maf.dbtypes import LONDON, utcnow
from maf.extensions import db
from maf.forums.models import ForumMember, Meeting
from maf.outcomes.minutes import MinutesContent, minuted_items
from maf.outcomes.models import (
    Action,
    ItemRecord,
    LeadProfessional,
    Minutes,
    MinutesStatus,
    MinutesWording,
    ProgressUpdate,
)
from maf.outcomes.progress import answered_questions
from maf.outcomes.services import HELD_STATUSES, lead_proposal
from maf.reports import retention
from maf.rules.words import words

AUDIT_ACTION = "subject_access_export"
SCHEMA_VERSION = 1
SCHEMA = {
    "name": "maf-subject-access",
    "version": SCHEMA_VERSION,
    "notes": [
        "Everything this service holds about one child, made in answer to a subject access "
        "request (UK GDPR Article 15). The Word document in the same zip says the same in "
        "plain English.",
        "Dates are ISO 8601 calendar dates (YYYY-MM-DD) in England; moments are ISO 8601 "
        "date-times with their UTC offset. null means not recorded.",
        "Keys are stable: a later version of this schema may add keys but never renames or "
        "removes one, and says so by its version number.",
        "Sections: child (the details as held now), child_history (corrections and records "
        "joined or separated), cases (each assessment: referral, status_history, consents, "
        "sharing_without_consent, needs, checks, forum_meetings, lead_professionals, actions, "
        "progress_updates), emails (subject and when, not the text), documents (agendas and "
        "minutes that name the child: listed, not copied, because they name other children), "
        "record_views (who opened the child's case records or exported them, from the audit "
        "log; the agendas and minutes in documents went to the forum's members too) and "
        "what_is_left (set "
        "only when the child's identifying details have been destroyed).",
        "Other people's email addresses are left out: a recipient is described by agency and role.",
    ],
}
# The audit log's reads of a child's record, in words a family reads.
READS = {
    "view": "Looked at the record",
    "archive_view": "Looked at the record in the archive",
    AUDIT_ACTION: "Made a copy of everything held (a subject access request)",
}
AGENDA_KEY = re.compile(r"^agenda:(\d+):v(\d+):")
NO_ACCOUNT = "Someone without an account in this service"


class NotAllowed(Exception):
    """The user may not make a subject access export of this child."""


@dataclass(frozen=True)
class Export:
    child_id: int
    made_at: datetime
    data: dict

    @property
    def basename(self) -> str:
        # No name in the file names: they show in download folders, email attachments and
        # logs, where the child's case number is enough to find it again.
        return f"subject-access-{self.child_id}-{self.made_at.astimezone(LONDON):%Y-%m-%d}"


def may_export(user: User, child: Child) -> bool:
    """The coordinators of a district where the child has a case (archived ones included:
    the export covers everything held)."""
    return any(manages_case(user, case) for case in child.cases)


def export(child: Child, user: User, reason: str) -> tuple[str, bytes]:
    """The zip (file name, bytes) for `child`, audited with the coordinator's reason.

    The audit row is committed before the zip is handed over, so no export leaves unrecorded.
    """
    if not may_export(user, child):
        raise NotAllowed(child.id)
    made = gather(child, user)
    content = zipped(made)
    audit.record_now(AUDIT_ACTION, child, user=user, detail=f"Reason: {reason}")
    return f"{made.basename}.zip", content


def zipped(made: Export) -> bytes:
    from maf.subject_access.document import subject_access_document  # the document reads this

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{made.basename}.docx", subject_access_document(made))
        archive.writestr(f"{made.basename}.json", as_json(made))
    return buffer.getvalue()


def as_json(made: Export) -> str:
    return json.dumps(made.data, indent=2, ensure_ascii=False, default=_iso)


def _iso(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- gathering ------------------------------------------------------------------------------


def gather(child: Child, user: User) -> Export:
    made_at = utcnow()
    cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.child_id == child.id)
            .options(
                selectinload(Case.district),
                selectinload(Case.referrer_agency),
                selectinload(Case.history),
                selectinload(Case.consents),
                selectinload(Case.sharing_without_consent),
                selectinload(Case.needs),
                selectinload(Case.match_candidates),
            )
            .order_by(Case.id)
        )
    )
    case_ids = [case.id for case in cases]
    items = _agenda_items(case_ids)
    data = {
        "schema": SCHEMA,
        "made_at": made_at,
        "made_by": {"name": user.name, "role": _roles(user)},
        "child": _child(child),
        "child_history": _child_history(child),
        "cases": [_case(case, [i for i in items if i.case_id == case.id]) for case in cases],
        "emails": _emails(cases, items),
        "documents": _documents(case_ids, items),
        "record_views": _record_views(child, case_ids),
        "what_is_left": _what_is_left(child),
    }
    return Export(child.id, made_at, data)


def _child(child: Child) -> dict:
    return {
        "id": child.id,
        "given_name": child.given_name,
        "family_name": child.family_name,
        "other_names": [n.strip() for n in child.other_names.split(",") if n.strip()],
        "date_of_birth": child.date_of_birth,
        "gender": child.gender.label,
        "address": child.address or None,
        "postcode": child.postcode or None,
        "school_or_setting": child.school_or_setting,
        "unique_pupil_number": child.upn,
        "nhs_number": child.nhs_number,
        "first_recorded_at": child.created_at,
        "identity_destroyed_at": child.identity_destroyed_at,
    }


def _child_history(child: Child) -> dict:
    """Corrections of the child's details, and the records joined into the child's (or the
    child's into another) by the existing-CAF check's "same child" verdict, with any undoing.

    A join that was undone was a mistake: the record joined in was another child's, so its
    name and date of birth are left out."""
    corrections = db.session.scalars(
        select(ChildDetailsChange)
        .where(ChildDetailsChange.child_id == child.id)
        .options(selectinload(ChildDetailsChange.changed_by))
        .order_by(ChildDetailsChange.changed_at, ChildDetailsChange.id)
    )
    merges = db.session.scalars(
        select(ChildMerge)
        .where(or_(ChildMerge.kept_child_id == child.id, ChildMerge.duplicate_child_id == child.id))
        .options(selectinload(ChildMerge.merged_by), selectinload(ChildMerge.undone_by))
        .order_by(ChildMerge.merged_at, ChildMerge.id)
    )
    return {
        "corrections": [
            {
                "at": change.changed_at,
                "detail": change.label,
                "old_value": change.old_value or None,
                "new_value": change.new_value or None,
                "reason": change.reason or None,
                "by": change.changed_by.name,
            }
            for change in corrections
        ],
        "merges": [_merge(merge, child) for merge in merges],
    }


def _merge(merge: ChildMerge, child: Child) -> dict:
    """One join of two records. Once undone, the other record was another child's: nothing
    points at it (its record or case number, its name, the undo's reason, which speaks of both
    children), only that a join was made and undone."""
    undone = merge.undone_at is not None

    def ours(record_id: int) -> int | None:
        return record_id if not undone or record_id == child.id else None

    return {
        "at": merge.merged_at,
        "by": merge.merged_by.name,
        "kept_record": ours(merge.kept_child_id),
        "joined_record": ours(merge.duplicate_child_id),
        "joined_record_name": None if undone else merge.joined_in_name,
        "joined_record_date_of_birth": None if undone else merge.joined_in_born,
        "case_number": None if undone else merge.new_case_id,
        "undone_at": merge.undone_at,
        "undone_by": merge.undone_by.name if merge.undone_by else None,
    }


def _case(case: Case, items: list[AgendaItem]) -> dict:
    return {
        "case_number": case.id,
        "district": case.district.name,
        "status": case.status.value,
        "status_in_words": case.status.label,
        "status_reason": case.status_reason or None,
        "joined_to_case_number": case.merged_into_id,
        "received_at": case.created_at,
        "closed_on": case.closed_on,
        # Withdrawn or stepped up: the day it ended. Retention (seed 002 D3) starts on the day
        # it closed or ended (for a case joined to another, that case's); None while open.
        "ended_on": case.ended_on,
        "retention_starts_on": retention.retention_starts_on(case),
        "archived_at": case.archived_at,
        "next_review_on": case.next_review_on,
        "referral": {
            "referrer_name": case.referrer_name,
            "referrer_agency": case.referrer_agency.name,
            "came_from": case.setting_type.label,
            "assessment_completed_on": case.assessment_completed_on,
            "age_at_assessment": case.age_at_assessment,
            "strengths": case.strengths or None,
            "child_views": case.child_views or None,
            "family_views": case.family_views or None,
        },
        "status_history": [
            {
                "at": change.changed_at,
                "from": change.from_status.label if change.from_status else None,
                "to": change.to_status.label,
                "reason": change.reason or None,
                "by": change.changed_by.name,
            }
            for change in case.history
        ],
        "consents": [
            {
                "kind": consent.kind.label,
                "given": consent.given,
                "given_by": consent.given_by.label,
                "given_by_name": consent.given_by_name,
                "given_on": consent.given_on,
                "method": consent.method.label,
                "covers_the_forum": consent.covers_forum,
                "agencies": [agency.name for agency in consent.agencies],
                "withdrawn_on": consent.withdrawn_on,
                "withdrawal_note": consent.withdrawal_note or None,
            }
            for consent in case.consents
        ],
        "sharing_without_consent": [
            {
                "decided_by": decision.decided_by_name,
                "decided_on": decision.decided_on,
                "ground": decision.ground.label,
                "reason": decision.reason,
                "shared_with": decision.shared_with,
            }
            for decision in case.sharing_without_consent
        ],
        "needs": [
            {"domain": need.domain.label, "element": need.element, "statement": need.text}
            for need in case.needs
        ],
        "checks": _checks(case),
        "forum_meetings": [_meeting(item) for item in items],
        "lead_professionals": _leads(case),
        "actions": _actions(case, items),
        "progress_updates": _progress(case),
    }


def _checks(case: Case) -> dict:
    """The two checks' outcomes. The existing-CAF check's possible matches are other children
    (unless judged the same), so only how many were found and judged is said."""
    verdicts = [candidate.verdict for candidate in case.match_candidates]
    return {
        "existing_record_check": {
            "done_at": case.existing_caf_checked_at,
            "possible_matches_found": len(verdicts),
            "judged_the_same_child": verdicts.count(MatchVerdict.SAME),
            "judged_a_different_child": verdicts.count(MatchVerdict.DIFFERENT),
        },
        "specialist_services_check": {
            "done_at": case.tier_checked_at,
            "outcome": case.tier_outcome.label if case.tier_outcome else None,
            "reason": case.tier_outcome_reason or None,
        },
    }


def _agenda_items(case_ids: list[int]) -> list[AgendaItem]:
    return list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.case_id.in_(case_ids))
            .options(selectinload(AgendaItem.meeting).selectinload(Meeting.forum))
            .order_by(AgendaItem.added_at, AgendaItem.id)
        )
    )


def _meeting(item: AgendaItem) -> dict:
    """The child's own item on an agenda and, once the meeting was held, what the forum said
    and decided about it: never the other items."""
    meeting = item.meeting
    record = None
    if meeting.status in HELD_STATUSES:
        record = db.session.scalar(
            select(ItemRecord)
            .where(ItemRecord.agenda_item_id == item.id)
            .options(selectinload(ItemRecord.services))
        )
    return {
        "meeting_date": meeting.date,
        "forum": meeting.forum.name,
        "kind": item.kind.label,
        "on_the_agenda": item.status.label,
        "why_taken_off": item.status_reason or None,
        "record": _record(record) if record is not None else None,
    }


def _record(record: ItemRecord) -> dict:
    proposal = lead_proposal(record)
    return {
        "discussion": record.discussion or None,
        "outcome": record.outcome.label if record.outcome else None,
        "next_review_by": record.next_review_on,
        "closure_reason": record.closure_reason.label if record.closure_reason else None,
        "notes": record.outcome_notes or None,
        "agreed_services": [
            {"agency": service.agency.name, "what": service.what} for service in record.services
        ],
        "lead_professional_agreed": proposal.name if proposal is not None else None,
        "worded_in_the_minutes": _minutes_wording(record),
    }


def _minutes_wording(record: ItemRecord) -> dict | None:
    """The discussion and notes as the minutes word them, where the chair or coordinator
    corrected the wording for the minutes (the record stays as recorded): the latest
    version's, by part; None when the minutes use the record's own words."""
    wordings = db.session.scalars(
        select(MinutesWording)
        .where(MinutesWording.agenda_item_id == record.agenda_item_id)
        .order_by(MinutesWording.minutes_id, MinutesWording.id)
    )
    worded = {wording.part: wording.text for wording in wordings}
    recorded = {"discussion": record.discussion, "notes": record.outcome_notes}
    changed = {part: text for part, text in worded.items() if text != recorded.get(part)}
    return changed or None


def _leads(case: Case) -> list[dict]:
    leads = db.session.scalars(
        select(LeadProfessional)
        .where(LeadProfessional.case_id == case.id)
        .options(selectinload(LeadProfessional.agency))
        .order_by(LeadProfessional.starts_on, LeadProfessional.id)
    )
    return [
        {
            "name": lead.name,
            "kind": lead.kind.label,
            "agency": lead.agency.name if lead.agency else None,
            "agreed": lead.agreed,
            "from": lead.starts_on,
            "until": lead.ends_on,
        }
        for lead in leads
    ]


def _actions(case: Case, items: list[AgendaItem]) -> list[dict]:
    meeting_of = {item.id: item.meeting.date for item in items}
    actions = db.session.scalars(
        select(Action)
        .where(Action.case_id == case.id)
        .options(selectinload(Action.owner_agency))
        .order_by(Action.created_at, Action.id)
    )
    return [
        {
            "what": action.description,
            "who": action.owner_name,
            "agency": action.owner_agency.name if action.owner_agency else None,
            "agreed_at": action.created_at,
            "agreed_at_meeting_on": meeting_of.get(action.agenda_item_id),
            "due_by": action.due_on,
            "status": action.status.label,
            "done_at": action.done_at,
        }
        for action in actions
    ]


def _progress(case: Case) -> list[dict]:
    updates = db.session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.case_id == case.id)
        .options(
            selectinload(ProgressUpdate.meeting),
            selectinload(ProgressUpdate.answers),
            selectinload(ProgressUpdate.action_progress),
        )
        .order_by(ProgressUpdate.requested_at, ProgressUpdate.id)
    )
    return [
        {
            "for_meeting_on": update.meeting.date,
            "asked_for_at": update.requested_at,
            "sent_at": update.submitted_at,
            "summary": update.summary or None,
            "further_comments": update.further_comments or None,
            "actions": [
                {
                    "action": row.action.description,
                    "status": row.status.label,
                    "note": row.note or None,
                }
                for row in update.action_progress
            ],
            "questionnaire": [
                {
                    "number": answer.number,
                    "question": answer.question,
                    "answer": answer.answer_text,
                    "comment": answer.comment or None,
                }
                for answer in answered_questions(update)
            ],
        }
        for update in updates
    ]


# --- emails, documents and reads ---------------------------------------------------------------


def _emails(cases: list[Case], items: list[AgendaItem]) -> list[dict]:
    """Emails recorded as concerning the child's cases (outbox_message_case): their subject
    and when, and who they went to by agency and role, never an address or the text."""
    case_ids = [case.id for case in cases]
    if not case_ids:
        return []
    concerning = select(outbox_message_case.c.message_id).where(
        outbox_message_case.c.case_id.in_(case_ids)
    )
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(concerning))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )
    describe = _recipient_descriptions(
        {m.recipient_email for m in messages}, _parts_in_the_case(cases, items)
    )
    return [
        {
            "subject": message.subject,
            "written_at": message.created_at,
            "sent_at": message.sent_at,
            "delivery": message.status.label,
            "to": describe(message.recipient_email),
        }
        for message in messages
    ]


def _roles(user: User) -> str:
    return ", ".join(sorted(role.label for role in user.roles))


def _parts_in_the_case(cases: list[Case], items: list[AgendaItem]) -> dict[str, str]:
    """What the people without an account were to the child's cases, by email address: the
    practitioner who completed the assessment, a presenter, a lead professional."""
    parts = {}
    for item in items:
        if item.presenter_email:
            parts[item.presenter_email.lower()] = "Presenting the case at the forum"
    for case in cases:
        parts[case.referrer_email.lower()] = (
            f"{case.referrer_agency.name} (completed the assessment)"
        )
    leads = db.session.scalars(
        select(LeadProfessional)
        .where(LeadProfessional.case_id.in_([case.id for case in cases]))
        .options(selectinload(LeadProfessional.agency))
    )
    for lead in leads:
        if lead.email:
            role = f"{words().lead_professional_cap}, {lead.kind.label.lower()}"
            parts[lead.email.lower()] = f"{lead.agency.name} ({role})" if lead.agency else role
    return parts


def _recipient_descriptions(addresses: set[str], parts_in_the_case: dict[str, str]):
    lowered = {address.lower() for address in addresses}
    users = {
        user.email.lower(): user
        for user in db.session.scalars(select(User).where(func.lower(User.email).in_(lowered)))
    }
    members = {
        member.email.lower(): member
        for member in db.session.scalars(
            select(ForumMember)
            .where(func.lower(ForumMember.email).in_(lowered))
            .options(selectinload(ForumMember.agency))
        )
    }

    def describe(address: str) -> str:
        user, member = users.get(address.lower()), members.get(address.lower())
        if user is not None:
            agency = user.agency.name if user.agency else None
            return f"{agency} ({_roles(user)})" if agency else _roles(user)
        if member is not None:
            return f"{member.agency.name} (forum member)"
        return parts_in_the_case.get(address.lower(), NO_ACCOUNT)

    return describe


def _documents(case_ids: list[int], items: list[AgendaItem]) -> list[dict]:
    """The agendas and minutes that named the child: which meeting, which version, when."""
    by_meeting: dict[int, list[AgendaItem]] = {}
    for item in items:
        by_meeting.setdefault(item.meeting_id, []).append(item)
    meetings = {item.meeting_id: item.meeting for item in items}
    documents = _agendas_sent(by_meeting, meetings) + _minutes(set(case_ids), meetings)
    return sorted(documents, key=lambda document: document["date"])


def _agendas_sent(by_meeting: dict[int, list[AgendaItem]], meetings: dict) -> list[dict]:
    if not meetings:
        return []
    sent: dict[tuple[int, int], datetime] = {}
    rows = db.session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.created_at).where(
            OutboxMessage.meeting_id.in_(list(meetings)),
            OutboxMessage.dedupe_key.like("agenda:%"),
        )
    )
    for key, at in rows:
        found = AGENDA_KEY.match(key)
        if found:
            version = (int(found.group(1)), int(found.group(2)))
            sent[version] = min(at, sent.get(version, at))
    documents = []
    for (meeting_id, version), at in sorted(sent.items()):
        if any(_listed_at(item, at) for item in by_meeting.get(meeting_id, [])):
            meeting = meetings[meeting_id]
            documents.append(
                {
                    "document": "Agenda",
                    "forum": meeting.forum.name,
                    "meeting_date": meeting.date,
                    "version": version,
                    "date": at,
                    "status": "Sent to the forum's members",
                }
            )
    return documents


def _listed_at(item: AgendaItem, at: datetime) -> bool:
    """Whether the agenda as sent at `at` listed the item. Items keep no removal time (the
    audit log does); when none is found the agenda is taken to have listed it, so the list
    errs on the side of naming a document rather than leaving one out."""
    if item.added_at > at:
        return False
    if item.status == ItemStatus.SCHEDULED:
        return True
    removed = db.session.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == "agenda_item_removed",
            AuditEvent.object_type == "meeting",
            AuditEvent.object_id == str(item.meeting_id),
            AuditEvent.detail == f"case {item.case_id}",
        )
    )
    return removed is None or removed > at


def _minutes(case_ids: set[int], meetings: dict) -> list[dict]:
    documents = []
    versions = db.session.scalars(
        select(Minutes)
        .where(Minutes.meeting_id.in_(list(meetings)))
        .order_by(Minutes.meeting_id, Minutes.version)
    )
    drafted: dict[int, bool] = {}
    for minutes in versions:
        meeting = meetings[minutes.meeting_id]
        if minutes.status != MinutesStatus.DRAFT and minutes.content:
            # What the approved version said, frozen: an item withheld then named nobody.
            content = MinutesContent.from_json(minutes.content)
            named = any(s.case_id in case_ids and not s.withheld for s in content.items)
        else:
            if meeting.id not in drafted:
                drafted[meeting.id] = any(i.case_id in case_ids for i in minuted_items(meeting))
            named = drafted[meeting.id]
        if named:
            documents.append(
                {
                    "document": "Minutes",
                    "forum": meeting.forum.name,
                    "meeting_date": meeting.date,
                    "version": minutes.version,
                    "date": minutes.approved_at or minutes.created_at,
                    "status": minutes.status.label,
                }
            )
    return documents


def _record_views(child: Child, case_ids: list[int]) -> list[dict]:
    """Who looked at the child's record, from the audit log: every read of one of the child's
    cases, and every subject access export of the child."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(list(READS)),
            or_(
                and_(
                    AuditEvent.object_type == Case.__tablename__,
                    AuditEvent.object_id.in_([str(i) for i in case_ids]),
                ),
                and_(
                    AuditEvent.object_type == Child.__tablename__,
                    AuditEvent.object_id == str(child.id),
                ),
            ),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return [
        {
            "at": event.occurred_at,
            "who": event.user.name if event.user else "The service itself",
            "agency": event.user.agency.name if event.user and event.user.agency else None,
            "role": _roles(event.user) if event.user else None,
            "what": READS[event.action],
            "case_number": int(event.object_id)
            if event.object_type == Case.__tablename__
            else None,
        }
        for event in events
    ]


def _what_is_left(child: Child) -> list[str] | None:
    """For a child whose identifying details were destroyed under the retention rule (seed 002
    D3): what is still held and why, in sentences without personal data; None otherwise."""
    if child.identity_destroyed_at is None:
        return None
    return retention.what_is_left(child)
