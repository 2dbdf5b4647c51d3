"""Saves that never silently overwrite someone else's: the versioned-save mechanism.

Two people can open the same form; whoever saves second would otherwise write over the first
without either knowing. Every model two people can edit carries a `version`. The form carries
the version it was opened at, and the service calls `require_version` before writing: a save
from an out-of-date page is refused with what changed since (a `StaleEdit`), so the person can
merge by hand. SQLAlchemy's `version_id_col` guards the race between that check and the
UPDATE itself (two saves in flight at once): the UPDATE names the version it read and fails
with StaleDataError when another transaction moved it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from maf.dbtypes import LONDON, UTCDateTime, london_today, utcnow
from maf.errors import DomainError
from maf.extensions import db


class Versioned:
    """Mixin for a model two people can edit: a row version checked on every UPDATE, and who
    changed it last and when (for the stale-edit notice)."""

    @declared_attr
    def version(cls) -> Mapped[int]:
        return mapped_column(Integer, nullable=False, server_default="1")

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user.id"))

    @declared_attr
    def updated_at(cls) -> Mapped[datetime | None]:
        # Null for rows that have not changed since versioning began.
        return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}


@dataclass(frozen=True)
class Difference:
    """One field whose saved value is not what this person submitted."""

    label: str
    theirs: str
    yours: str


class StaleEdit(DomainError):
    """The form was opened at an older version than the one stored: someone saved since."""

    def __init__(
        self,
        changed_by: str,
        changed_at: datetime | None,
        differences: list[Difference],
        current_version: int,
    ):
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.differences = differences
        # The version the re-shown form carries, so a deliberate second save goes through.
        self.current_version = current_version
        super().__init__(
            f"{changed_by} saved changes {self.when}, after you opened this page. "
            "Your changes have not been saved."
        )

    @property
    def when(self) -> str:
        """'at 10:42' today, 'at 10:42 on 1 December 2026' another day (England's clock)."""
        if self.changed_at is None:
            return "recently"
        local = self.changed_at.astimezone(LONDON)
        if local.date() == london_today():
            return f"at {local:%H:%M}"
        return f"at {local:%H:%M} on {local.day} {local:%B %Y}"


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


# What a service's version parameter defaults to when the change does not come from a form a
# person opened earlier (demo data, imports, other services): there is no "opened at" to check.
UNCHECKED = _Unchecked()


def require_version(
    obj,
    submitted_version: "int | None | _Unchecked",
    *,
    yours: dict[str, str],
    theirs: dict[str, str],
) -> None:
    """Refuse a save made from a page opened at an older version of `obj` (a missing version
    counts as older: the page cannot say what it was opened at).

    `yours` and `theirs` map field labels to displayable values: what this person submitted
    and what is stored now. Only the fields that differ are listed in the refusal."""
    if submitted_version is UNCHECKED:
        return
    if submitted_version is not None and submitted_version == obj.version:
        return
    differences = [
        Difference(label, theirs.get(label, ""), yours.get(label, ""))
        for label in dict.fromkeys([*theirs, *yours])
        if theirs.get(label, "") != yours.get(label, "")
    ]
    raise StaleEdit(
        last_changed_by(obj) or "Someone",
        obj.updated_at,
        differences,
        obj.version,
    )


def last_changed_by(obj) -> str | None:
    """The name of whoever changed `obj` last, where known."""
    from maf.auth.models import User  # models import this module

    if obj.updated_by_id is None:
        return None
    changed_by = db.session.get(User, obj.updated_by_id)
    return changed_by.name if changed_by is not None else None


def touch(obj, user) -> None:
    """Record who made this change and when, for the notice a later stale save shows.

    Setting the time always makes the row's UPDATE happen, so the version moves even when
    the change was only to a related list (a consent's agencies, a period's entries)."""
    # Reading the user's id may refresh it; without this, that refresh would flush the change
    # half-made and the row would take two versions for one save.
    with db.session.no_autoflush:
        obj.updated_by_id = user.id if user is not None else None
    obj.updated_at = utcnow()
