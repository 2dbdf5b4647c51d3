"""Histories that are only ever added to (a rule's changes, a public page's versions): each row
numbers itself the next `sequence` of its history, and the history's unique key on that number
lets in only one of two saves made from the same version."""

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maf.extensions import db
from maf.versioning import UNCHECKED, StaleEdit


def latest(model, key_column, key):
    """The newest row of one history (None while it is empty)."""
    return db.session.scalar(
        select(model).where(key_column == key).order_by(model.sequence.desc()).limit(1)
    )


def append(row, *, key_column, key, version, stale: Callable[[object], StaleEdit]):
    """Add `row` to the current transaction as the next of its history.

    `version` is the sequence of the newest row when the person's form was opened (0: none):
    a save from an older page, or one that another save beat to the same number, raises
    `stale(newest row)`."""
    model = type(row)
    newest = latest(model, key_column, key)
    sequence = newest.sequence if newest is not None else 0
    if version is not UNCHECKED and version != sequence:
        raise stale(newest)
    row.sequence = sequence + 1
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Another save of the same history got in between the check and this insert.
        raise stale(latest(model, key_column, key)) from None
    return row
