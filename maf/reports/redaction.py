"""What destroying a child's identity (maf.reports.retention, seed 002 D3) reaches beyond the
child's own rows: the copies of their name and date of birth in documents, emails, the audit
log and the records of corrections and merges.

* Frozen minutes: the destroyed child's items are replaced by a line saying so (their number
  and case reference stay, so the minutes still match what was discussed), their actions
  leave the actions table, and the document is written again from that content. The other
  children's items stay, with any mention of the destroyed child's name removed.
* The records of the other items on those meetings (what was said and decided, actions,
  progress updates) lose any mention of the child's whole name.
* Emails (found through `outbox_message_case`): the child's names and date of birth are
  removed from the subject, bodies and calendar; an attachment (an agenda or the minutes,
  naming every child on them) is replaced by a short note saying what was removed and why,
  since a .docx cannot be safely redacted by replacing strings.
* Audit details: the child's names and date of birth are removed; in events about the child
  or their cases, a given or family name alone too.
* Corrections (`ChildDetailsChange`): the old and new values go, and any name in the reason.
  Merges (`ChildMerge`): the snapshot's identifying values and free text go.

Only whole names are removed from shared texts (an agenda, the minutes, another person's
event), never a given or family name alone: a sibling on the same minutes keeps the family
name they share, and a practitioner who shares a first name with the child keeps theirs.
"""

import html
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from maf.agendas.models import AgendaItem
from maf.audit.models import AuditEvent
from maf.cases.models import Case, Child
from maf.circulation.models import OutboxMessage, outbox_message_case
from maf.dbtypes import london_today
from maf.extensions import db
from maf.outcomes.models import (
    Action,
    ItemRecord,
    Minutes,
    MinutesWording,
    MinutesWordingChange,
    ProgressUpdate,
)

NAME_REMOVED = "[name removed under the retention rule]"
DATE_OF_BIRTH_REMOVED = "[date of birth removed under the retention rule]"
ITEM_DESTROYED = (
    "This child's record was destroyed under the retention rule: what the forum recorded "
    "about them is no longer held."
)
REMOVED_ATTACHMENT_SUFFIX = "-removed.txt"

# Keys of a merge snapshot (maf.corrections.merges) whose values identify the child or are
# free text about them: blanked as the child's own record is.
_SNAPSHOT_BLANKED = {
    "given_name": "Destroyed",
    "family_name": "",
    "other_names": "",
    "date_of_birth": None,
    "address": "",
    "postcode": None,
    "school_name": None,
    "upn": None,
    "nhs_number": None,
    "strengths": "",
    "child_views": "",
    "family_views": "",
    "status_reason": "",
}


def _date_forms(day: date) -> list[str]:
    """The ways the service writes a date: ISO, the pages' "17 May 2012", the documents'
    "Thursday 17 May 2012" (contains the former) and a typed "17/05/2012"."""
    return [
        day.isoformat(),
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
    ]


def _pattern(terms) -> re.Pattern | None:
    forms = set()
    for term in terms:
        term = " ".join(term.split())
        if len(term) >= 2:
            forms |= {term, html.escape(term)}
    if not forms:
        return None
    # Longest first, so "Amy Lee" goes whole before "Amy" could; not inside another word.
    alternatives = "|".join(
        re.escape(form).replace(r"\ ", r"\s+") for form in sorted(forms, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Identity:
    """What names a child, read before it is destroyed."""

    child_id: int
    case_ids: tuple[int, ...]
    full_names: tuple[str, ...]
    single_names: tuple[str, ...]
    dates_of_birth: tuple[str, ...]
    # Every whole name and date of birth above contains one of these (the family name, an
    # other name not joined to it, the year of birth): what a search of a large table for
    # texts naming the child looks for, before the patterns are tried on what it finds.
    clues: tuple[str, ...] = ()

    @classmethod
    def of(cls, child: Child) -> "Identity":
        given, family = child.given_name.strip(), child.family_name.strip()
        others = [part.strip() for part in re.split(r"[,;/]", child.other_names or "")]
        others = [part for part in others if part]
        full = {f"{given} {family}", f"{family} {given}", f"{family}, {given}"}
        full |= {other for other in others if " " in other}
        full |= {f"{other} {family}" for other in others}
        singles = {given, family} | {word for other in others for word in other.split()}
        return cls(
            child_id=child.id,
            case_ids=tuple(case.id for case in child.cases),
            full_names=tuple(sorted(name for name in full if name.strip(" ,"))),
            single_names=tuple(sorted(name for name in singles if len(name) >= 2)),
            dates_of_birth=tuple(_date_forms(child.date_of_birth)) if child.date_of_birth else (),
            clues=tuple(
                sorted(
                    {family, *(other for other in others if " " in other)}
                    | ({str(child.date_of_birth.year)} if child.date_of_birth else set())
                )
            ),
        )

    @cached_property
    def _patterns(self) -> tuple:
        return (
            (_pattern(self.full_names), NAME_REMOVED),
            (_pattern(self.dates_of_birth), DATE_OF_BIRTH_REMOVED),
            (_pattern(self.single_names), NAME_REMOVED),
        )

    def redact(self, text: str | None, *, about_the_child: bool = False) -> str | None:
        """`text` without the child's whole names and date of birth; with `about_the_child`
        (a text about this child alone) without a given or family name alone too."""
        if not text:
            return text
        patterns = self._patterns if about_the_child else self._patterns[:2]
        for pattern, replacement in patterns:
            if pattern is not None:
                text = pattern.sub(replacement, text)
        return text

    def redact_json(self, value, *, about_the_child: bool = True):
        """A JSON value with identifying keys blanked and every other string redacted."""
        if isinstance(value, dict):
            return {
                key: _SNAPSHOT_BLANKED[key]
                if key in _SNAPSHOT_BLANKED
                else self.redact_json(item, about_the_child=about_the_child)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.redact_json(item, about_the_child=about_the_child) for item in value]
        if isinstance(value, str):
            return self.redact(value, about_the_child=about_the_child)
        return value


@dataclass
class Redacted:
    """How many of each were reached, for the audit and the subject access export."""

    shared_records: int = 0
    minutes: int = 0
    emails: int = 0
    attachments: int = 0
    audit_events: int = 0
    corrections: int = 0
    merges: int = 0


# --- minutes -------------------------------------------------------------------------------


def _redact(identities: list[Identity], text: str | None) -> str | None:
    for identity in identities:
        text = identity.redact(text)
    return text


def redact_minutes(identities: list[Identity]) -> int:
    """Every stored version of minutes that took one of the children's cases, each written
    again once however many of its children go. Runs after the records themselves are blanked:
    a version approved before its content was stored is written again from the record."""
    from maf.agendas.document import case_reference
    from maf.outcomes import minutes as minutes_service
    from maf.outcomes.minutes import Block

    destroyed = {case_id for identity in identities for case_id in identity.case_ids}
    meetings = select(AgendaItem.meeting_id).where(AgendaItem.case_id.in_(destroyed))
    versions = db.session.scalars(
        select(Minutes).where(
            Minutes.meeting_id.in_(meetings),
            or_(Minutes.content.is_not(None), Minutes.document.is_not(None)),
        )
    ).all()
    for minutes in versions:
        if not minutes.content:
            minutes.document = minutes_service.minutes_document(minutes.meeting, minutes)
            continue
        content = minutes_service.MinutesContent.from_json(minutes.content)
        for section in content.items:
            if section.case_id in destroyed:
                title = f"{section.number}. {case_reference(section.case_id)}"
                section.blocks = [Block("heading", title, level=3), Block("text", ITEM_DESTROYED)]
                section.withheld = False
        content.actions = [row for row in content.actions if row.case_id not in destroyed]
        for block in [*content.head, *(b for s in content.items for b in s.blocks)]:
            block.text = _redact(identities, block.text)
            block.rows = [[_redact(identities, cell) for cell in row] for row in block.rows]
        for row in content.actions:
            row.cells = [_redact(identities, cell) for cell in row.cells]
        minutes.content = content.to_json()
        if minutes.document is not None:
            minutes.document = minutes_service.write_document(
                minutes.meeting, minutes, content.blocks()
            )
    return len(versions)


def redact_shared_records(identity: Identity) -> int:
    """The other items on the meetings that took the child's cases: what the forum recorded,
    agreed or was told about another child (a brother or sister, say) may name this one in
    full."""
    meetings = select(AgendaItem.meeting_id).where(AgendaItem.case_id.in_(identity.case_ids))
    items = select(AgendaItem.id).where(
        AgendaItem.meeting_id.in_(meetings), AgendaItem.case_id.not_in(identity.case_ids)
    )
    wordings = select(MinutesWording.id).where(MinutesWording.agenda_item_id.in_(items))
    updates = and_(
        ProgressUpdate.meeting_id.in_(meetings), ProgressUpdate.case_id.not_in(identity.case_ids)
    )
    changed = 0
    for model, where, columns in (
        (ItemRecord, ItemRecord.agenda_item_id.in_(items), ("discussion", "outcome_notes")),
        (Action, Action.agenda_item_id.in_(items), ("description",)),
        (ProgressUpdate, updates, ("summary", "further_comments")),
        (MinutesWording, MinutesWording.id.in_(wordings), ("text",)),
        (MinutesWordingChange, MinutesWordingChange.wording_id.in_(wordings), ("text",)),
    ):
        for row in db.session.scalars(select(model).where(where)):
            for column in columns:
                text = getattr(row, column)
                if (redacted := identity.redact(text)) != text:
                    setattr(row, column, redacted)
                    changed += 1
    return changed


# --- emails --------------------------------------------------------------------------------


def _removed_note(filename: str) -> bytes:
    return (
        f"{filename} was removed on {london_today():%-d %B %Y} under the retention rule "
        "(a closed record is kept for a year, archived, then destroyed): it named a child "
        "whose record has been destroyed. The rest of this email is kept as it was sent, "
        "without the child's name.\n"
    ).encode()


def redact_emails(identities: list[Identity]) -> tuple[int, int]:
    """Emails recorded as concerning the children's cases, each redacted of the children it
    concerned; returns (emails, attachments)."""
    by_case = {case_id: identity for identity in identities for case_id in identity.case_ids}
    links = db.session.execute(
        select(outbox_message_case.c.message_id, outbox_message_case.c.case_id).where(
            outbox_message_case.c.case_id.in_(list(by_case))
        )
    ).all()
    concerned: dict[int, dict[int, Identity]] = {}
    for message_id, case_id in links:
        identity = by_case[case_id]
        concerned.setdefault(message_id, {})[identity.child_id] = identity
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(list(concerned)))
        .options(selectinload(OutboxMessage.attachments))
    ).all()
    attachments = 0
    for message in messages:
        named = list(concerned[message.id].values())
        message.subject = _redact(named, message.subject)
        message.recipient_name = _redact(named, message.recipient_name)
        message.text_body = _redact(named, message.text_body)
        message.html_body = _redact(named, message.html_body)
        message.calendar = _redact(named, message.calendar)
        for attachment in message.attachments:
            if attachment.filename.endswith(REMOVED_ATTACHMENT_SUFFIX):
                continue  # removed for another child already
            stem = attachment.filename.rsplit(".", 1)[0][:150]
            attachment.content = _removed_note(attachment.filename)
            attachment.filename = stem + REMOVED_ATTACHMENT_SUFFIX
            attachment.content_type = "text/plain"
            attachments += 1
    return len(messages), attachments


# --- audit ---------------------------------------------------------------------------------


def redact_audit(identities: list[Identity]) -> int:
    """Audit details naming the children, found in one pass over the log for all of them. The
    log refuses changes made through the ORM (it is evidence); this is the one change the
    retention rule makes to it, a removal, done in SQL."""
    about: dict[tuple[str, str], Identity] = {}
    for identity in identities:
        about[("child", str(identity.child_id))] = identity
        about |= {(Case.__tablename__, str(case_id)): identity for case_id in identity.case_ids}
    items = db.session.execute(
        select(AgendaItem.id, AgendaItem.case_id).where(
            AgendaItem.case_id.in_([c for identity in identities for c in identity.case_ids])
        )
    ).all()
    by_case = {case_id: identity for identity in identities for case_id in identity.case_ids}
    about |= {("agenda_item", str(item_id)): by_case[case_id] for item_id, case_id in items}
    objects: dict[str, list[str]] = {}
    for object_type, object_id in about:
        objects.setdefault(object_type, []).append(object_id)
    about_a_child = [
        and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids))
        for object_type, ids in objects.items()
    ]
    clues = {clue for identity in identities for clue in identity.clues if clue}
    rows = db.session.execute(
        select(
            AuditEvent.id, AuditEvent.detail, AuditEvent.object_type, AuditEvent.object_id
        ).where(
            AuditEvent.detail.is_not(None),
            or_(*about_a_child, *(AuditEvent.detail.icontains(clue) for clue in clues)),
        )
    ).all()
    changed = 0
    for event_id, detail, object_type, object_id in rows:
        redacted = _redact(identities, detail)
        subject = about.get((object_type, object_id))
        if subject is not None:
            redacted = subject.redact(redacted, about_the_child=True)
        if redacted != detail:
            db.session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(detail=redacted)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


# --- corrections and merges ------------------------------------------------------------------


def redact_corrections(identity: Identity) -> tuple[int, int]:
    """The child's corrections lose their values; merges into or of the child their snapshot's
    identifying values. Returns (corrections, merges)."""
    from maf.corrections.models import ChildDetailsChange, ChildMerge

    corrections = db.session.scalars(
        select(ChildDetailsChange).where(ChildDetailsChange.child_id == identity.child_id)
    ).all()
    for change in corrections:
        change.old_value, change.new_value = "", ""
        change.reason = identity.redact(change.reason, about_the_child=True)
    merges = db.session.scalars(
        select(ChildMerge).where(
            or_(
                ChildMerge.kept_child_id == identity.child_id,
                ChildMerge.duplicate_child_id == identity.child_id,
            )
        )
    ).all()
    for merge in merges:
        merge.snapshot = json.dumps(identity.redact_json(json.loads(merge.snapshot)))
        merge.undo_reason = identity.redact(merge.undo_reason, about_the_child=True)
    return len(corrections), len(merges)


def redact_everywhere(identities: list[Identity]) -> Redacted:
    """Every copy of each destroyed child's identity outside their own record. The caller
    has blanked the record itself, and commits."""
    db.session.flush()
    db.session.expire_all()  # the record was blanked in SQL: documents are made from it
    done = Redacted()
    for identity in identities:
        done.shared_records += redact_shared_records(identity)
        corrections, merges = redact_corrections(identity)
        done.corrections += corrections
        done.merges += merges
    # Once for all: a meeting's minutes and emails name many of the children going together.
    done.audit_events = redact_audit(identities)
    done.minutes = redact_minutes(identities)
    done.emails, done.attachments = redact_emails(identities)
    return done
