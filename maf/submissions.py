"""Creates that happen once: the one-time form token.

A double click, a browser retrying a slow post, or the same form sent from two tabs would
otherwise make the same consent, decision or board entry twice. Every form that creates
something carries a random token made when the page was drawn (`maf.forms.OnceField`). The
service that creates the row first claims the token: it stores it in `form_submission`, whose
UNIQUE constraint the database enforces, in the same transaction as the row it creates. So:

- a repeat after the first was saved finds the token and is answered as the first was
  (`AlreadySaved`, carrying what the first created), creating nothing;
- a repeat in flight at the same moment waits on the unique index (PostgreSQL) or on the
  write lock (SQLite takes it at BEGIN for a post), then fails on the constraint, is rolled
  back and answered the same way;
- a first attempt refused by a rule is rolled back with its token, so the corrected form
  (which keeps the token) goes through.
"""

import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from maf.dbtypes import UTCDateTime, utcnow
from maf.errors import DomainError
from maf.extensions import db

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class FormSubmission(db.Model):
    """A form that created something, by its one-time token."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # What the form creates ("consent", "case", ...), which says what object_id refers to.
    kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlreadySaved(DomainError):
    """This form was sent before and what it creates is saved: nothing more was made.

    `object_id` is what the first submission created, or None when the token belongs to
    another kind of form or person (a crafted request), so the caller sends them somewhere
    neutral instead."""

    def __init__(self, object_id: int | None):
        super().__init__("This was already saved")
        self.object_id = object_id


def _refuse_repeat(existing: FormSubmission, kind: str, user_id: int | None) -> None:
    same_form = existing.kind == kind and existing.user_id == user_id
    raise AlreadySaved(existing.object_id if same_form else None)


def claim(token: str | None, kind: str, user) -> FormSubmission | None:
    """Claim the form's token before creating anything, inside the creating transaction.

    Raises AlreadySaved when the token has been used. No token (a service called from a
    command or a test) means no guard."""
    if not token:
        return None
    user_id = user.id if user is not None else None
    existing = db.session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if existing is not None:
        _refuse_repeat(existing, kind, user_id)
    submission = FormSubmission(token=token, kind=kind, user_id=user_id)
    db.session.add(submission)
    try:
        # Flushed now, first: a concurrent post with the same token blocks here until the
        # first commits, before either has done anything else.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(FormSubmission).where(FormSubmission.token == token))
        if existing is None:  # the other post failed and was rolled back after all
            raise AlreadySaved(None) from None
        _refuse_repeat(existing, kind, user_id)
    return submission


def created(submission: FormSubmission | None, obj) -> None:
    """Note what the claimed submission made, so a repeat can be sent to it (flushing, so
    `obj` has its id either way)."""
    if obj.id is None:
        db.session.flush()
    if submission is not None:
        submission.object_id = obj.id


def forget_spent_tokens(now: datetime) -> int:
    """Delete tokens that no form can send again: a form is posted within the session it was
    drawn in (its CSRF token is tied to that session), and no session outlives its absolute
    limit, so an older token can never come back. Returns how many were deleted."""
    cutoff = now - timedelta(seconds=current_app.config["SESSION_ABSOLUTE_SECONDS"])
    deleted = db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < cutoff))
    db.session.commit()
    return deleted.rowcount
