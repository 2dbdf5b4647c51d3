from dataclasses import dataclass

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.extensions import db


def record(action: str, obj=None, *, user=None, detail: str | None = None) -> AuditEvent:
    """Add an audit event to the current transaction; it is saved with the change it records."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        object_type=type(obj).__tablename__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        detail=detail[:500] if detail else None,
    )
    db.session.add(event)
    return event


def record_now(action: str, obj=None, *, user=None, detail: str | None = None) -> None:
    """Record and commit an event of a request that changes nothing else: a read, a download,
    an export or a search."""
    event = record(action, obj, user=user, detail=detail)
    if db.session.get_bind().dialect.name == "sqlite":
        # In SQLite a transaction that has read may write only if nobody has written since, or
        # it fails at once. End the reading transaction first, so the audit row's write waits
        # its turn for the lock instead (busy_timeout) and a busy page is never refused.
        db.session.expunge(event)
        db.session.commit()
        db.session.add(event)
    db.session.commit()


def record_read(obj) -> None:
    """Audit that the signed-in user has seen a record."""
    record_now("view", obj)


@dataclass(frozen=True)
class SearchCriteria:
    case_id: int | None = None
    child_id: int | None = None
    user_email: str = ""
    action: str = ""

    @classmethod
    def from_args(cls, args) -> "SearchCriteria":
        def number(name):
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        return cls(
            case_id=number("case"),
            child_id=number("child"),
            user_email=(args.get("user") or "").strip().lower()[:254],
            action=(args.get("action") or "").strip()[:60],
        )

    @property
    def any(self) -> bool:
        return bool(self.case_id or self.child_id or self.user_email or self.action)


def search(criteria: SearchCriteria, limit: int = 500) -> list[AuditEvent]:
    """Events matching every given criterion, newest first. A child's events are those on any
    of the child's cases."""
    from maf.auth.models import User
    from maf.cases.models import Case

    statement = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if criteria.case_id is not None:
        statement = statement.where(
            AuditEvent.object_type == "caf_case", AuditEvent.object_id == str(criteria.case_id)
        )
    if criteria.child_id is not None:
        cases = select(Case.id).where(Case.child_id == criteria.child_id)
        statement = statement.where(
            AuditEvent.object_type == "caf_case",
            AuditEvent.object_id.in_([str(i) for i in db.session.scalars(cases)]),
        )
    if criteria.user_email:
        statement = statement.join(User, User.id == AuditEvent.user_id).where(
            User.email == criteria.user_email
        )
    if criteria.action:
        statement = statement.where(AuditEvent.action == criteria.action)
    return list(db.session.scalars(statement.limit(limit)))
