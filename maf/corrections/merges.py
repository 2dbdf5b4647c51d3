"""What a "same child" merge moves and changes, recorded as it happens.

`maf.cases.services.decide_candidate` calls `begin` before it joins the two child records and
`finish` after, so the ChildMerge row holds the joined-in record as it was, the kept record's
details before and after, the ids of everything moved, and the open case's needs and text as
they were: all `maf.corrections.services.undo_merge` needs to put both records back.

Only models are imported here, so the cases' services can call it without a cycle.
"""

import enum
import json
from datetime import date, datetime

from sqlalchemy import select

from maf.auth.models import User
from maf.cases.models import Case, Child, MatchCandidate
from maf.corrections.models import ChildDetailsChange, ChildMerge
from maf.extensions import db

# Every column of the joined-in record except its row version: it is made again from these.
DUPLICATE_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "other_names",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "school_id",
    "school_name",
    "upn",
    "nhs_number",
    "created_at",
    "identity_destroyed_at",
    "updated_by_id",
    "updated_at",
)
# What joining records may change on the kept record (maf.cases.services._merge_child_into).
KEPT_COLUMNS = (
    "other_names",
    "address",
    "postcode",
    "school_id",
    "school_name",
    "gender",
    "upn",
    "nhs_number",
)
# The open case's text the newer CAF's text is added to (_add_to_existing_case).
CASE_TEXTS = ("strengths", "child_views", "family_views")


def stored(value):
    """A column's value as JSON can hold it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def values_of(child: Child, columns) -> dict:
    return {column: stored(getattr(child, column)) for column in columns}


CANDIDATE_COLUMNS = ("id", "case_id", "score", "reasons", "verdict", "decided_by_id", "decided_at")


def candidates_of_duplicate(
    duplicate: Child, kept: Child
) -> tuple[list[MatchCandidate], list[MatchCandidate]]:
    """The possible matches naming the joined-in record: those that move to the kept record,
    and those dropped because their case already has the kept record as a possible match (a
    case has each child once)."""
    kept_cases = set(
        db.session.scalars(select(MatchCandidate.case_id).where(MatchCandidate.child_id == kept.id))
    )
    moving, dropped = [], []
    for candidate in db.session.scalars(
        select(MatchCandidate).where(MatchCandidate.child_id == duplicate.id)
    ).all():
        (dropped if candidate.case_id in kept_cases else moving).append(candidate)
    return moving, dropped


def begin(
    new_case: Case, duplicate: Child, kept: Child, existing_case: Case | None, user: User
) -> dict:
    """Everything as it is before the records are joined."""
    moving, dropped = candidates_of_duplicate(duplicate, kept)
    before = {
        "duplicate": values_of(duplicate, DUPLICATE_COLUMNS),
        "kept_before": values_of(kept, KEPT_COLUMNS),
        "moved_case_ids": [case.id for case in duplicate.cases],
        "moved_candidate_ids": [candidate.id for candidate in moving],
        "dropped_candidates": [
            {column: stored(getattr(candidate, column)) for column in CANDIDATE_COLUMNS}
            for candidate in dropped
        ],
        "moved_correction_ids": list(
            db.session.scalars(
                select(ChildDetailsChange.id).where(ChildDetailsChange.child_id == duplicate.id)
            )
        ),
        "new_case": {"status": new_case.status.value, "status_reason": new_case.status_reason},
        "existing_case": None,
    }
    if existing_case is not None:
        before["existing_case"] = {
            "need_ids_before": [need.id for need in existing_case.needs],
            "texts_before": {name: getattr(existing_case, name) for name in CASE_TEXTS},
            "moved_consent_ids": [consent.id for consent in new_case.consents],
        }
    return before


def finish(
    before: dict, new_case: Case, kept: Child, existing_case: Case | None, user: User
) -> ChildMerge:
    """Record the merge, with the kept record and the open case as the join left them."""
    snapshot = {**before, "kept_after": values_of(kept, KEPT_COLUMNS)}
    if existing_case is not None:
        snapshot["existing_case"] = {
            **before["existing_case"],
            "need_ids_after": [need.id for need in existing_case.needs],
            "texts_after": {name: getattr(existing_case, name) for name in CASE_TEXTS},
        }
    merge = ChildMerge(
        kept_child_id=kept.id,
        duplicate_child_id=before["duplicate"]["id"],
        new_case_id=new_case.id,
        existing_case_id=existing_case.id if existing_case is not None else None,
        snapshot=json.dumps(snapshot),
        merged_by_id=user.id,
    )
    db.session.add(merge)
    return merge
