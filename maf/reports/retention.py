"""Retention of closed CAFs (seed 002 D3): "Once a CAF is closed a central copy of the CAF
information should remain accessible for one year and thereafter flagged on the system and
archived for a further six years".

A case that has ended is archived (flagged, restricted to the archive search) more than a year
after it ended: a closed case from the day it closed, a withdrawn or stepped-up one from the
day it was withdrawn or stepped up (`retention_starts_on`). A merged case has no date of its
own: its record lives on in the case it joined, and is archived with it. Once every case of a
child has been archived for more than six years, the child's identifying data and the cases'
free text are destroyed, with every copy of the child's name and date of birth in the minutes,
emails, audit log and corrections (maf.reports.redaction); the facts the reports count (dates,
district, setting, needs, age at assessment, questionnaire answers) are kept, and
`what_is_left` says what remains of a destroyed child and why.

The two periods are local rules (maf.rules: "retention_years_accessible" and
"retention_years_archived"), read when the job runs: a shorter period takes effect at the next
run, and what was destroyed stays destroyed whatever the rule later becomes.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from maf.agendas.models import AgendaItem
from maf.audit import services as audit
from maf.cases.models import (
    Case,
    CaseStatus,
    CaseStatusChange,
    Child,
    ChildMatchKey,
    Consent,
    InvolvementMatch,
    MatchCandidate,
    SharingWithoutConsent,
)
from maf.circulation.models import outbox_message_case
from maf.dbtypes import LONDON, utcnow
from maf.extensions import db
from maf.outcomes.models import (
    Action,
    ActionProgress,
    AgreedService,
    ItemRecord,
    LeadKind,
    LeadProfessional,
    MinutesWording,
    MinutesWordingChange,
    ProgressUpdate,
    QuestionnaireAnswer,
)
from maf.reports import redaction
from maf.rules import services as rules
from maf.rules.words import words
from maf.words import plural

log = logging.getLogger(__name__)

DESTROYED = "Destroyed"


@dataclass(frozen=True)
class RetentionPeriods:
    """Years a closed case stays accessible, then archived (seed 002 D3: 1 and 6)."""

    accessible: int
    archived: int

    @classmethod
    def in_force(cls) -> "RetentionPeriods":
        return cls(
            rules.current("retention_years_accessible"), rules.current("retention_years_archived")
        )


@dataclass
class RetentionReport:
    archived: list[int] = field(default_factory=list)  # case ids
    destroyed: list[int] = field(default_factory=list)  # child ids
    # Children every one of whose cases is now archived, so no longer found by the
    # existing-CAF check (destroyed children are dropped too, and listed only above).
    removed_from_search: list[int] = field(default_factory=list)
    dry_run: bool = False


# The statuses a case ends in, and the column holding the day each starts its retention.
ENDINGS = {
    CaseStatus.CLOSED: ("closed", Case.closed_on),
    CaseStatus.WITHDRAWN: ("withdrawn", Case.ended_on),
    CaseStatus.STEPPED_UP: ("stepped up", Case.ended_on),
}
_retention_start = when(
    *((Case.status == status, column) for status, (_, column) in ENDINGS.items()),
    else_=None,
)


def retention_starts_on(case: Case) -> date | None:
    """The day the case's retention starts (seed 002 D3): the day it closed, or was withdrawn
    or stepped up; for a merged case, that of the case it joined; None while it is open."""
    seen = set()
    while case.status == CaseStatus.MERGED and case.merged_into is not None:
        if case.id in seen:
            return None
        seen.add(case.id)
        case = case.merged_into
    ending = ENDINGS.get(case.status)
    return getattr(case, ending[1].key) if ending else None


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# --- what is due -------------------------------------------------------------------------------


def cases_due_for_archive(today: date, accessible_years: int) -> list[int]:
    """Ended (closed, withdrawn, stepped up) more than a year (the rule's years) ago and not yet
    archived, with any CAF merged into them: a merged CAF's information lives on in the one it
    joined, so it goes with it."""
    cutoff = years_before(today, accessible_years)
    due = set(
        db.session.scalars(
            select(Case.id).where(
                Case.status.in_(list(ENDINGS)),
                _retention_start < cutoff,
                Case.archived_at.is_(None),
            )
        )
    )
    target = aliased(Case)
    merged = db.session.execute(
        select(Case.id, Case.merged_into_id, target.archived_at)
        .join(target, Case.merged_into_id == target.id)
        .where(Case.status == CaseStatus.MERGED, Case.archived_at.is_(None))
    ).all()
    # Repeated so a CAF merged into a merged CAF follows it too.
    changed = True
    while changed:
        changed = False
        for case_id, into_id, into_archived_at in merged:
            if case_id not in due and (into_archived_at is not None or into_id in due):
                due.add(case_id)
                changed = True
    return sorted(due)


def _children_leaving_search(archiving: list[int]) -> list[int]:
    """Children still in the search index with every case archived, counting the cases about
    to be archived."""
    live_case = exists().where(
        Case.child_id == ChildMatchKey.child_id,
        Case.archived_at.is_(None),
        Case.id.not_in(archiving),
    )
    return list(
        db.session.scalars(
            select(ChildMatchKey.child_id)
            .distinct()
            .where(exists().where(Case.child_id == ChildMatchKey.child_id), ~live_case)
            .order_by(ChildMatchKey.child_id)
        )
    )


def children_due_for_destruction(today: date, archived_years: int) -> list[int]:
    """Children not yet destroyed, with cases, every one archived more than six years (the
    rule's years) ago (an archive on the day exactly six years ago is kept)."""
    threshold = datetime.combine(years_before(today, archived_years), time(0), LONDON)
    recent_or_live = exists().where(
        Case.child_id == Child.id,
        (Case.archived_at.is_(None)) | (Case.archived_at >= threshold),
    )
    return list(
        db.session.scalars(
            select(Child.id)
            .where(
                Child.identity_destroyed_at.is_(None),
                exists().where(Case.child_id == Child.id),
                ~recent_or_live,
            )
            .order_by(Child.id)
        )
    )


# --- doing it ------------------------------------------------------------------------------------


def _archive(case_ids: list[int]) -> None:
    now = utcnow()
    for case in db.session.scalars(select(Case).where(Case.id.in_(case_ids))):
        case.archived_at = now
        ending, starts = ENDINGS.get(case.status, ("", None)), retention_starts_on(case)
        detail = f"retention: {ending[0]} on {starts}" if starts else "retention"
        if case.status == CaseStatus.MERGED:
            detail = f"retention: merged into case {case.merged_into_id}"
        audit.record("case_archived", case, detail=detail)


def _remove_from_search(child_ids: list[int]) -> None:
    db.session.execute(delete(ChildMatchKey).where(ChildMatchKey.child_id.in_(child_ids)))
    for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids))):
        audit.record("child_removed_from_search", child, detail="retention: every case archived")


def _blank(model, where, **values) -> None:
    db.session.execute(
        update(model).where(where).values(**values).execution_options(synchronize_session=False)
    )


def _destroy(child_ids: list[int]) -> None:
    """Identifying data and free text go; what the reports count stays."""
    now = utcnow()
    # Read before the names go: every other copy of them is found by these.
    identities = [
        redaction.Identity.of(child)
        for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids)))
    ]
    case_ids = select(Case.id).where(Case.child_id.in_(child_ids))
    item_ids = select(AgendaItem.id).where(AgendaItem.case_id.in_(case_ids))
    record_ids = select(ItemRecord.id).where(ItemRecord.agenda_item_id.in_(item_ids))
    update_ids = select(ProgressUpdate.id).where(ProgressUpdate.case_id.in_(case_ids))
    db.session.flush()
    _blank(
        Case,
        Case.id.in_(case_ids),
        strengths="",
        child_views="",
        family_views="",
        status_reason="",
        tier_outcome_reason="",
    )
    _blank(CaseStatusChange, CaseStatusChange.case_id.in_(case_ids), reason="")
    _blank(Consent, Consent.case_id.in_(case_ids), given_by_name="", withdrawal_note="")
    _blank(SharingWithoutConsent, SharingWithoutConsent.case_id.in_(case_ids), reason="")
    _blank(ItemRecord, ItemRecord.id.in_(record_ids), discussion="", outcome_notes="")
    # The draft minutes' corrected wording of those items, and every earlier wording of it.
    wording_ids = select(MinutesWording.id).where(MinutesWording.agenda_item_id.in_(item_ids))
    _blank(MinutesWording, MinutesWording.id.in_(wording_ids), text="")
    _blank(MinutesWordingChange, MinutesWordingChange.wording_id.in_(wording_ids), text="")
    _blank(AgreedService, AgreedService.item_record_id.in_(record_ids), what="")
    _blank(Action, Action.case_id.in_(case_ids), description="")
    _blank(ProgressUpdate, ProgressUpdate.id.in_(update_ids), summary="", further_comments="")
    _blank(ActionProgress, ActionProgress.update_id.in_(update_ids), note="")
    # The answers themselves stay: they are the distance travelled the reports count.
    _blank(QuestionnaireAnswer, QuestionnaireAnswer.update_id.in_(update_ids), comment="")
    # A parent or the young person leading the plan is named by their own name.
    _blank(
        LeadProfessional,
        and_(
            LeadProfessional.case_id.in_(case_ids), LeadProfessional.kind != LeadKind.PRACTITIONER
        ),
        name="",
        email="",
    )
    # The existing-CAF check's reasons quote the names it compared, in both directions.
    _blank(
        MatchCandidate,
        MatchCandidate.case_id.in_(case_ids) | MatchCandidate.child_id.in_(child_ids),
        reasons="",
    )
    # A register match links the case to a named person in a statutory service's export.
    db.session.execute(delete(InvolvementMatch).where(InvolvementMatch.case_id.in_(case_ids)))
    db.session.execute(delete(ChildMatchKey).where(ChildMatchKey.child_id.in_(child_ids)))
    for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids))):
        child.given_name = DESTROYED
        child.family_name = ""
        child.other_names = ""
        child.date_of_birth = None
        child.address = ""
        child.postcode = None
        # A school typed because it was not listed is free text, and may say more than a
        # school; a listed school (an agency) is a fact the reports may count, and is kept.
        child.school_name = None
        child.upn = None
        child.nhs_number = None
        child.identity_destroyed_at = now
        audit.record(
            "child_identity_destroyed",
            child,
            detail=f"retention: cases {', '.join(str(case.id) for case in child.cases)}",
        )
    done = redaction.redact_everywhere(identities)
    audit.record(
        "retention_copies_redacted",
        detail=f"{plural(len(identities), 'child', 'children')}: "
        f"{plural(done.shared_records, 'mention')} in other children's items, "
        f"{plural(done.minutes, 'version')} of minutes, {plural(done.emails, 'email')}, "
        f"{plural(done.attachments, 'attachment')} removed, "
        f"{plural(done.audit_events, 'audit detail')}, "
        f"{plural(done.corrections, 'correction')}, {plural(done.merges, 'merge record')}",
    )


def apply_retention(
    today: date, dry_run: bool = False, periods: RetentionPeriods | None = None
) -> RetentionReport:
    """Archive and destroy what is due on `today` under the retention rules in force now (or,
    for a dry run, the `periods` an admin is about to set). A dry run changes nothing and
    reports the same ids a real run would."""
    if periods is None:
        periods = RetentionPeriods.in_force()
    elif not dry_run:
        raise ValueError("only a dry run may try periods other than the rules in force")
    report = RetentionReport(dry_run=dry_run)
    report.archived = cases_due_for_archive(today, periods.accessible)
    report.destroyed = children_due_for_destruction(today, periods.archived)
    destroyed = set(report.destroyed)
    report.removed_from_search = [
        child_id
        for child_id in _children_leaving_search(report.archived)
        if child_id not in destroyed
    ]
    if not dry_run:
        try:
            if report.archived:
                _archive(report.archived)
            if report.removed_from_search:
                _remove_from_search(report.removed_from_search)
            if report.destroyed:
                _destroy(report.destroyed)
            audit.record(
                "retention_applied",
                detail=f"{today}: {len(report.archived)} cases archived, "
                f"{len(report.removed_from_search)} children removed from search, "
                f"{len(report.destroyed)} children's identifying data destroyed (rules: "
                f"{plural(periods.accessible, 'year')} accessible, then "
                f"{plural(periods.archived, 'year')} archived)",
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("retention for %s failed; nothing was changed", today)
            raise
    log.info(
        "retention%s for %s: archived cases %s; removed from search children %s; "
        "destroyed children %s",
        " (dry run)" if dry_run else "",
        today,
        report.archived,
        report.removed_from_search,
        report.destroyed,
    )
    return report


# --- what is left ------------------------------------------------------------------------------


def _day(day: date | datetime | None) -> str:
    if isinstance(day, datetime):
        day = day.astimezone(LONDON).date()
    return f"{day.day} {day:%B %Y}" if day else "a date not recorded"


def what_is_left(child: Child) -> list[str]:
    """What is still held about a child whose identity was destroyed, and why, in plain
    sentences for their subject access export: ids, dates and counts, never personal data.
    Empty for a child not destroyed."""
    destroyed_at = child.identity_destroyed_at
    if destroyed_at is None:
        return []
    w = words()
    accessible = rules.in_force_at("retention_years_accessible", destroyed_at)
    archived = rules.in_force_at("retention_years_archived", destroyed_at)
    cases = sorted(child.cases, key=lambda case: case.id)
    emails = db.session.scalar(
        select(func.count(func.distinct(outbox_message_case.c.message_id))).where(
            outbox_message_case.c.case_id.in_([case.id for case in cases])
        )
    )
    sentences = [
        f"The details that identified this child (name, other names, date of birth, address, "
        f"postcode, school, unique pupil number and NHS number) were destroyed on "
        f"{_day(destroyed_at)} under the retention rule: {w.a_assessment_short} that has ended "
        f"stays accessible for {plural(accessible, 'year')}, is then archived for "
        f"{plural(archived, 'year')} more, and is then destroyed.",
    ]
    for case in cases:
        ending = ENDINGS.get(case.status)
        ended = f", {ending[0]} on {_day(retention_starts_on(case))}" if ending else ""
        if case.status == CaseStatus.MERGED and case.merged_into_id:
            ended = f", joined to case {case.merged_into_id}"
        sentences.append(
            f"Case {case.id}: assessment completed on {_day(case.assessment_completed_on)}"
            f"{ended}, archived on {_day(case.archived_at)}."
        )
    sentences += [
        "Kept without anything that identifies the child, because the reports to the board "
        "count them: the district, where the assessment came from, the age at assessment, "
        "the gender, the needs identified, the dates of consents, meetings and actions, the "
        "forum's outcomes and the answers to the outcomes questionnaire.",
        "Destroyed with the details: every note written about the child and family in the "
        "cases, the meetings' records, actions and progress updates; the child's items in the "
        "minutes; the previous values of any corrected details.",
        f"{plural(emails, 'email')} that concerned the child "
        f"{'is' if emails == 1 else 'are'} still listed with the subject and the date, "
        "without the child's name; documents attached to them that named the child were "
        "removed.",
        "The audit log still records who looked at or changed the record, and when, without "
        "the child's name.",
    ]
    return sentences
