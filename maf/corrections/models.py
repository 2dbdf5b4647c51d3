"""Corrections of a child's details, and the record of each "same child" merge, so a record
can be put right with a trail and a wrong merge undone."""

import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.cases.models import Case
from maf.dbtypes import UTCDateTime, utcnow
from maf.extensions import db

# The details a coordinator may correct, in the order the form asks for them, with the words
# the history and the timelines use.
FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "other_names": "Other or previous names",
    "date_of_birth": "Date of birth",
    "gender": "Gender",
    "address": "Address",
    "postcode": "Postcode",
    "school": "School or setting",
    "upn": "Unique pupil number",
    "nhs_number": "NHS number",
}


class ChildDetailsChange(db.Model):
    """One detail of a child corrected: what it was, what it became, who changed it, when and
    why. Values are kept as they were shown ("3 May 2015"); the retention rule blanks them
    when the child's identifying data is destroyed."""

    __tablename__ = "child_details_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User] = relationship()

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


class ChildMerge(db.Model):
    """The existing-CAF check's "same child" verdict joined two child records: everything the
    join moved or changed, so that it can be undone.

    The child ids are plain numbers, not foreign keys: the joined-in record is deleted by the
    merge (and made again by its undoing), and the kept one may itself be joined into another
    record later."""

    __tablename__ = "child_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_child_id: Mapped[int] = mapped_column(index=True)
    # The record made from the newer CAF, joined into the kept one (after an undo, the id of
    # the record made again).
    duplicate_child_id: Mapped[int] = mapped_column(index=True)
    # The case whose existing-CAF check made the merge, and the open case its information was
    # added to, if there was one.
    new_case_id: Mapped[int] = mapped_column(ForeignKey("caf_case.id"), index=True)
    existing_case_id: Mapped[int | None] = mapped_column(ForeignKey("caf_case.id"), index=True)
    # JSON (maf.corrections.merges): the joined-in record, the kept record's details before and
    # after, what moved, and both cases as they were.
    snapshot: Mapped[str] = mapped_column(Text)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    undo_reason: Mapped[str] = mapped_column(Text, default="")

    new_case: Mapped[Case] = relationship(foreign_keys=[new_case_id])
    existing_case: Mapped[Case | None] = relationship(foreign_keys=[existing_case_id])
    merged_by: Mapped[User] = relationship(foreign_keys=[merged_by_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])

    @property
    def data(self) -> dict:
        return json.loads(self.snapshot)

    @property
    def joined_in_name(self) -> str:
        """The name on the record joined in, as it was."""
        duplicate = self.data["duplicate"]
        names = (duplicate["given_name"], duplicate["family_name"])
        return " ".join(part for part in names if part)

    @property
    def joined_in_born(self) -> date | None:
        born = self.data["duplicate"]["date_of_birth"]
        try:
            return date.fromisoformat(born) if born else None
        except ValueError:  # blanked when the child's identity was destroyed (retention)
            return None
