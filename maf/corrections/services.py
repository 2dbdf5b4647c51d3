"""Correcting a child's details with a trail, and undoing a wrong "same child" merge.

Issue 16 point 4: mistakes must be correctable, keeping the previous values and who changed
them; a merge the existing-CAF check made in error is undone, restoring both records and
both cases. Later work is never silently overwritten: a detail corrected after a merge stays
as corrected when the merge is undone, and the confirm page says so.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import can_see_case, manages_case
from maf.cases.models import (
    Case,
    CaseStatus,
    CaseStatusChange,
    Child,
    Consent,
    Gender,
    MatchCandidate,
    MatchVerdict,
)
from maf.cases.services import (
    SCHOOL_TYPES,
    ChildDetails,
    _advance_if_checked,
    _index_child,
    _mark_existing_caf_check,
)
from maf.cases.validation import age_on, check_date_of_birth
from maf.corrections import merges
from maf.corrections.models import FIELD_LABELS, ChildDetailsChange, ChildMerge
from maf.dbtypes import london_today, utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.rules.words import words
from maf.versioning import UNCHECKED, require_version, touch
from maf.words import date_in_words


class CorrectionError(DomainError):
    """A rule refused the correction or the undoing of a merge."""


# --- who may ------------------------------------------------------------------------------


def current_cases(child: Child) -> list[Case]:
    """The child's cases read through the case pages (archived ones only through the archive)."""
    return [case for case in child.cases if case.archived_at is None]


def manages_child(user: User, child: Child) -> bool:
    """The coordinators of a district where the child has a case correct the child's details."""
    return any(manages_case(user, case) for case in current_cases(child))


def sees_child(user: User, child: Child) -> bool:
    return any(can_see_case(user, case) for case in current_cases(child))


def manages_merge(user: User, merge: ChildMerge) -> bool:
    """The merge was made by the existing-CAF check of its new case, so the coordinators of
    that case's district undo it."""
    return merge.new_case.archived_at is None and manages_case(user, merge.new_case)


# --- correcting a child's details -----------------------------------------------------------


def _blank_as_none(value):
    return None if value in ("", None) else value


def _raw(source, name: str):
    """A detail of a Child or of ChildDetails, to compare: the school as its id and typed name."""
    if name == "school":
        school = source.school
        return (school.id if school is not None else None, _blank_as_none(source.school_name))
    return _blank_as_none(getattr(source, name))


def shown(source, name: str) -> str:
    """A detail as pages write it: a date in words, a gender by its label, the school by name."""
    if name == "school":
        school = source.school
        return school.name if school is not None else (source.school_name or "")
    value = getattr(source, name)
    if isinstance(value, date):
        return date_in_words(value)
    if isinstance(value, Gender):
        return value.label
    return value or ""


def details_of(child: Child) -> ChildDetails:
    """The child's details as they stand, to fill the correction form with."""
    return ChildDetails(
        given_name=child.given_name,
        family_name=child.family_name,
        other_names=child.other_names,
        date_of_birth=child.date_of_birth,
        gender=child.gender,
        address=child.address,
        postcode=child.postcode,
        school=child.school,
        school_name=child.school_name,
        upn=child.upn,
        nhs_number=child.nhs_number,
    )


def _date_of_birth_problem(child: Child, born: date) -> str | None:
    try:
        check_date_of_birth(born, london_today())
    except ValueError as error:
        return str(error)
    for case in child.cases:
        if born > case.assessment_completed_on:
            return (
                f"Date of birth must be before the assessment of case {case.id} was completed "
                f"({date_in_words(case.assessment_completed_on)})"
            )
        for consent in case.consents:
            if born > consent.given_on:
                return (
                    f"Date of birth must be before consent was recorded on case {case.id} "
                    f"({date_in_words(consent.given_on)})"
                )
    return None


def _holder_of(column, value: str, child: Child) -> Child | None:
    return db.session.scalar(select(Child).where(column == value, Child.id != child.id).limit(1))


IDENTIFIER_HELD = (
    "{label} {value} is already recorded for another child. Check the number; if it is the "
    "same child, the existing-{short} check joins their records"
)


def _refusal(child: Child, details: ChildDetails, changed: list[str]) -> CorrectionError | None:
    if "date_of_birth" in changed:
        problem = _date_of_birth_problem(child, details.date_of_birth)
        if problem:
            return CorrectionError(problem, field="date_of_birth")
    for name, column in (("upn", Child.upn), ("nhs_number", Child.nhs_number)):
        value = getattr(details, name)
        if name in changed and value and _holder_of(column, value, child) is not None:
            label = FIELD_LABELS[name]
            message = IDENTIFIER_HELD.format(
                label=label, value=value, short=words().assessment_short
            )
            return CorrectionError(message, field=name)
    school = details.school
    if "school" in changed and school is not None:
        if school.type not in SCHOOL_TYPES:
            return CorrectionError(
                "Select a school or setting, not another kind of agency", "school"
            )
        if school.retired:
            return CorrectionError(
                f"{school.name} has closed or merged: select one of the schools listed", "school"
            )
    return None


def correct_child(
    child: Child,
    details: ChildDetails,
    reason: str,
    user: User,
    version: int | None = UNCHECKED,
) -> list[ChildDetailsChange]:
    """Correct the child's details: each changed detail keeps its old value, who changed it,
    when and why. `version` is the child's version when the form was opened: a correction
    saved by someone else since is shown beside this one, not overwritten (StaleEdit)."""
    reason = reason.strip()
    if not reason:
        raise CorrectionError("Enter why the details are being corrected", field="reason")
    require_version(
        child,
        version,
        yours={label: shown(details, name) for name, label in FIELD_LABELS.items()},
        theirs={label: shown(child, name) for name, label in FIELD_LABELS.items()},
    )
    changed = [name for name in FIELD_LABELS if _raw(details, name) != _raw(child, name)]
    if not changed:
        raise CorrectionError(
            "Nothing has been changed: correct at least one detail", field="given_name"
        )
    refusal = _refusal(child, details, changed)
    if refusal is not None:
        raise refusal
    corrections = [
        ChildDetailsChange(
            child_id=child.id,
            field=name,
            old_value=shown(child, name),
            new_value=shown(details, name),
            reason=reason,
            changed_by_id=user.id,
        )
        for name in changed
    ]
    db.session.add_all(corrections)
    for name in changed:
        if name == "school":
            child.school = details.school
            child.school_name = None if details.school is not None else details.school_name
        else:
            setattr(child, name, getattr(details, name))
    if "date_of_birth" in changed:
        # Age bands are counted from the age kept with each case (the board report).
        for case in child.cases:
            case.age_at_assessment = age_on(child.date_of_birth, case.assessment_completed_on)
    touch(child, user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another coordinator recorded the same identifier for another child at this moment.
        db.session.rollback()
        raise CorrectionError(
            "That UPN or NHS number has just been recorded for another child: check it",
            field="upn" if "upn" in changed else "nhs_number",
        ) from None
    _index_child(child)  # so the existing-CAF check and search find the corrected name
    what = ", ".join(FIELD_LABELS[name].lower() for name in changed)
    for case in child.cases:
        audit.record("child_details_corrected", case, user=user, detail=f"corrected: {what}")
    db.session.commit()
    return corrections


# --- the history of a child's details --------------------------------------------------------


@dataclass(frozen=True)
class UnrecordedMerge:
    """A merge made before merges were recorded in full: it cannot be undone automatically."""

    case: Case
    decided_at: datetime | None


@dataclass(frozen=True)
class ChildHistory:
    corrections: list[ChildDetailsChange]
    merges: list[ChildMerge]
    unrecorded_merges: list[UnrecordedMerge]


def merges_of(child: Child) -> list[ChildMerge]:
    """Merges this record took part in, kept or joined in, oldest first."""
    return list(
        db.session.scalars(
            select(ChildMerge)
            .where(
                (ChildMerge.kept_child_id == child.id) | (ChildMerge.duplicate_child_id == child.id)
            )
            .order_by(ChildMerge.merged_at, ChildMerge.id)
        )
    )


# A merge and its record are written in one transaction: their times differ by milliseconds.
_SAME_TRANSACTION_SECONDS = 60


def _unrecorded_merges(child: Child, recorded: list[ChildMerge]) -> list[UnrecordedMerge]:
    """ "Same child" verdicts on the child's cases with no merge record: merges made before
    this record was kept."""
    case_ids = [case.id for case in child.cases]
    verdicts = db.session.scalars(
        select(MatchCandidate)
        .where(MatchCandidate.case_id.in_(case_ids), MatchCandidate.verdict == MatchVerdict.SAME)
        .order_by(MatchCandidate.decided_at, MatchCandidate.id)
    )
    found = []
    for verdict in verdicts:
        if not any(
            merge.new_case_id == verdict.case_id
            and verdict.decided_at is not None
            and abs((merge.merged_at - verdict.decided_at).total_seconds())
            < _SAME_TRANSACTION_SECONDS
            for merge in recorded
        ):
            found.append(UnrecordedMerge(verdict.case, verdict.decided_at))
    return found


def history_of(child: Child) -> ChildHistory:
    corrections = list(
        db.session.scalars(
            select(ChildDetailsChange)
            .where(ChildDetailsChange.child_id == child.id)
            .order_by(ChildDetailsChange.changed_at, ChildDetailsChange.id)
        )
    )
    recorded = merges_of(child)
    return ChildHistory(corrections, recorded, _unrecorded_merges(child, recorded))


# --- undoing a merge --------------------------------------------------------------------------

_KEPT_LABELS = {
    "other_names": "Other or previous names",
    "address": "Address",
    "postcode": "Postcode",
    "school_id": "School or setting",
    "school_name": "School or setting",
    "gender": "Gender",
    "upn": "Unique pupil number",
    "nhs_number": "NHS number",
}
_CASE_TEXT_LABELS = {
    "strengths": "Strengths",
    "child_views": "The child or young person's views",
    "family_views": "The family's views",
}


@dataclass
class UndoPlan:
    """What undoing a merge will do, for the confirm page, and what it will leave as it is."""

    merge: ChildMerge
    kept: Child | None
    refusal: str = ""  # why it cannot be undone, when it cannot
    # The kept record's details to put back as they were before the merge.
    restore: dict[str, object] = field(default_factory=dict)
    # Why some details stay as they are now (changed since the merge).
    kept_as_now: list[str] = field(default_factory=list)
    # Identifiers the separated record cannot take back (another child holds them now).
    identifiers_left_out: list[str] = field(default_factory=list)
    # The open case's text, put back without what the newer CAF added.
    texts: dict[str, str] = field(default_factory=dict)
    texts_left: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.refusal


def _later_change(child: Child, since: datetime, columns: set[str]) -> ChildDetailsChange | None:
    names = {"school" if column.startswith("school") else column for column in columns}
    return db.session.scalar(
        select(ChildDetailsChange)
        .where(
            ChildDetailsChange.child_id == child.id,
            ChildDetailsChange.changed_at >= since,
            ChildDetailsChange.field.in_(sorted(names)),
        )
        .order_by(ChildDetailsChange.changed_at.desc())
        .limit(1)
    )


def _kept_plan(plan: UndoPlan, data: dict) -> None:
    """The kept record goes back to its details before the merge, except where they changed
    since: a later correction wins."""
    merge, kept = plan.merge, plan.kept
    before, after = data["kept_before"], data["kept_after"]
    changed_by_merge = [column for column in merges.KEPT_COLUMNS if before[column] != after[column]]
    now = merges.values_of(kept, merges.KEPT_COLUMNS)
    # The school is one detail held in two columns: it goes back, or stays, as one.
    groups: dict[str, list[str]] = {}
    for column in changed_by_merge:
        groups.setdefault("school" if column.startswith("school") else column, []).append(column)
    if "school" in groups:
        groups["school"] = ["school_id", "school_name"]
    for columns in groups.values():
        if all(now[column] == after[column] for column in columns):
            plan.restore.update({column: before[column] for column in columns})
            continue
        label = _KEPT_LABELS[columns[0]]
        later = _later_change(kept, merge.merged_at, set(columns))
        by = (
            f": corrected by {later.changed_by.name} on {date_in_words(later.changed_at)}"
            if later is not None
            else ""
        )
        plan.kept_as_now.append(
            f"{label} has changed since the merge{by}, so it stays as it is now"
        )


def _identifier_plan(plan: UndoPlan, data: dict) -> None:
    """The separated record takes its UPN and NHS number back unless another child holds one
    now (the kept record as it will be after the undo counts)."""
    duplicate = data["duplicate"]
    kept_after_undo = {
        column: plan.restore.get(column, getattr(plan.kept, column))
        for column in ("upn", "nhs_number")
    }
    for column in ("upn", "nhs_number"):
        value = duplicate[column]
        if not value:
            continue
        held_by_kept = kept_after_undo[column] == value
        holder = db.session.scalar(
            select(Child.id).where(getattr(Child, column) == value, Child.id != plan.kept.id)
        )
        if held_by_kept or holder is not None:
            plan.identifiers_left_out.append(
                f"{_KEPT_LABELS[column]} {value} is now recorded for "
                f"{'the kept record' if held_by_kept else 'another child'}, so the separated "
                "record is made without it"
            )


def _strip_added(now: str, before: str, after: str) -> str | None:
    """The text without what the merge added, keeping anything written since; None when what
    the merge added can no longer be found."""
    if now == after:
        return before
    if now.startswith(after):
        return before + now[len(after) :]
    added = after[len(before.strip()) :] if after.startswith(before.strip()) else after
    if added and added in now:
        return now.replace(added, "", 1).strip()
    return None


def _case_plan(plan: UndoPlan, data: dict) -> None:
    existing = data["existing_case"]
    case = plan.merge.existing_case
    if existing is None or case is None:
        return
    for name, before in existing["texts_before"].items():
        after = existing["texts_after"][name]
        if before == after:
            continue
        text = _strip_added(getattr(case, name), before, after)
        if text is None:
            plan.texts_left.append(
                f"{_CASE_TEXT_LABELS[name]} on case {case.id} no longer holds the text added "
                f"from case {plan.merge.new_case_id}, so it stays as it is"
            )
        else:
            plan.texts[name] = text


def _undone_by(merge: ChildMerge) -> str:
    by = merge.undone_by.name if merge.undone_by is not None else "someone"
    return f"by {by} on {date_in_words(merge.undone_at)}"


def plan_undo(merge: ChildMerge) -> UndoPlan:
    """What undoing the merge would do, or why it cannot be done."""
    kept = db.session.get(Child, merge.kept_child_id)
    plan = UndoPlan(merge, kept)
    if merge.undone_at is not None:
        plan.refusal = f"it was undone {_undone_by(merge)}"
        return plan
    # The kept record may itself have been joined into another since (and so deleted): that
    # later merge is undone first, or this one would put details back on a record that is gone.
    later = db.session.scalar(
        select(ChildMerge).where(
            ChildMerge.duplicate_child_id == merge.kept_child_id,
            ChildMerge.undone_at.is_(None),
            ChildMerge.merged_at > merge.merged_at,
        )
    )
    if kept is None or later is not None:
        by = f" by the check of case {later.new_case_id}" if later is not None else ""
        plan.refusal = (
            "the record it was joined into has since been joined into another record"
            f"{by}: undo that later merge first"
        )
        return plan
    data = merge.data
    _kept_plan(plan, data)
    _identifier_plan(plan, data)
    _case_plan(plan, data)
    return plan


def _from_json(column: str, value):
    if value is None:
        return None
    if column == "date_of_birth":
        return date.fromisoformat(value)
    if column in ("created_at", "updated_at", "identity_destroyed_at", "decided_at"):
        return datetime.fromisoformat(value)
    if column == "gender":
        return Gender(value)
    return value


def _recreate_duplicate(plan: UndoPlan, data: dict) -> Child:
    values = {column: _from_json(column, value) for column, value in data["duplicate"].items()}
    for column in ("upn", "nhs_number"):
        if any(line.startswith(_KEPT_LABELS[column]) for line in plan.identifiers_left_out):
            values[column] = None
    # Its own id back, so the audit log and links that named it still do, unless SQLite has
    # given that id to a newer record since.
    if db.session.get(Child, values["id"]) is not None:
        del values["id"]
    child = Child(**values)
    db.session.add(child)
    db.session.flush()
    return child


def _move_back(model, ids: list[int], kept: Child, duplicate: Child) -> None:
    """Rows the merge moved onto the kept record go back, unless moved elsewhere since."""
    for row in db.session.scalars(select(model).where(model.id.in_(ids))):
        if row.child_id == kept.id:
            row.child_id = duplicate.id


def _recreate_dropped_candidates(dropped: list[dict], duplicate: Child) -> None:
    """Possible matches the merge dropped (their case had both records as possible matches)
    come back, with their verdicts."""
    for values in dropped:
        taken = db.session.scalar(
            select(MatchCandidate.id).where(
                MatchCandidate.case_id == values["case_id"],
                MatchCandidate.child_id == duplicate.id,
            )
        )
        if taken is not None or db.session.get(Case, values["case_id"]) is None:
            continue
        candidate = MatchCandidate(
            **{
                **values,
                "child_id": duplicate.id,
                "verdict": MatchVerdict(values["verdict"]) if values["verdict"] else None,
                "decided_at": _from_json("decided_at", values["decided_at"]),
            }
        )
        if db.session.get(MatchCandidate, values["id"]) is not None:
            candidate.id = None
        db.session.add(candidate)


def _restore_existing_case(plan: UndoPlan, data: dict, user: User) -> None:
    existing = data["existing_case"]
    case = plan.merge.existing_case
    if existing is None or case is None:
        return
    added = set(existing["need_ids_after"]) - set(existing["need_ids_before"])
    case.needs = [need for need in case.needs if need.id not in added]
    for name, text in plan.texts.items():
        setattr(case, name, text)
    for consent in db.session.scalars(
        select(Consent).where(Consent.id.in_(existing["moved_consent_ids"]))
    ):
        if consent.case_id == case.id:
            consent.case_id = plan.merge.new_case_id
    db.session.expire(case, ["consents"])
    touch(case, user)


def _restore_new_case(merge: ChildMerge, data: dict, kept: Child, reason: str, user) -> None:
    case = merge.new_case
    db.session.expire(case, ["consents", "child"])
    if case.status == CaseStatus.MERGED:
        before = CaseStatus(data["new_case"]["status"])
        db.session.add(
            CaseStatusChange(
                case=case,
                from_status=case.status,
                to_status=before,
                reason=f"Merge undone: {reason}",
                changed_by_id=user.id,
            )
        )
        case.status, case.status_reason = before, data["new_case"]["status_reason"]
        case.merged_into = None
    # Not the same child after all: the check does not propose this record again.
    candidate = db.session.scalar(
        select(MatchCandidate).where(
            MatchCandidate.case_id == case.id, MatchCandidate.child_id == kept.id
        )
    )
    if candidate is not None:
        candidate.verdict, candidate.decided_by_id = MatchVerdict.DIFFERENT, user.id
        candidate.decided_at = utcnow()
    touch(case, user)
    if case.status == CaseStatus.RECEIVED:
        db.session.expire(case, ["match_candidates"])
        _mark_existing_caf_check(case)
        _advance_if_checked(case, user)


class AlreadyUndone(CorrectionError):
    """The merge was undone by an earlier click or by someone else: nothing more was done."""


def _claim(merge: ChildMerge, reason: str, user: User) -> None:
    """Only one undo of a merge goes through: the UPDATE claims it while it is not undone, so
    a double click or two coordinators at once do it once."""
    claimed = db.session.execute(
        update(ChildMerge)
        .where(ChildMerge.id == merge.id, ChildMerge.undone_at.is_(None))
        .values(undone_at=utcnow(), undone_by_id=user.id, undo_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(merge)
        raise AlreadyUndone(f"This merge had already been undone {_undone_by(merge)}.")
    db.session.refresh(merge)


def undo_merge(merge: ChildMerge, reason: str, user: User) -> Child:
    """Separate the two records again: the joined-in record made again with its own details
    and identifiers, its cases, match candidates and corrections moved back, the open case's
    needs, text and consents as before (keeping what was added since), the merged case back
    to its status before, and the verdict recorded as a different child. Returns the record
    made again."""
    reason = reason.strip()
    if not reason:
        raise CorrectionError("Enter why these are not the same child", field="reason")
    if merge.undone_at is not None:
        raise AlreadyUndone(f"This merge had already been undone {_undone_by(merge)}.")
    plan = plan_undo(merge)
    if not plan.possible:
        raise CorrectionError(f"This merge cannot be undone: {plan.refusal}", field="reason")
    _claim(merge, reason, user)
    data, kept = merge.data, plan.kept
    for column, value in plan.restore.items():
        setattr(kept, column, _from_json(column, value))
    touch(kept, user)
    db.session.flush()  # the kept record gives up identifiers before the other takes them
    duplicate = _recreate_duplicate(plan, data)
    merge.duplicate_child_id = duplicate.id
    _move_back(Case, data["moved_case_ids"], kept, duplicate)
    _move_back(MatchCandidate, data["moved_candidate_ids"], kept, duplicate)
    _move_back(ChildDetailsChange, data["moved_correction_ids"], kept, duplicate)
    _recreate_dropped_candidates(data.get("dropped_candidates", []), duplicate)
    db.session.flush()
    _restore_existing_case(plan, data, user)
    _restore_new_case(merge, data, kept, reason, user)
    db.session.expire(kept, ["cases"])
    db.session.expire(duplicate, ["cases"])
    _index_child(kept)
    _index_child(duplicate)
    for case in {*kept.cases, *duplicate.cases}:
        audit.record("child_unmerged", case, user=user, detail=f"merge {merge.id} undone")
    db.session.commit()
    return duplicate
