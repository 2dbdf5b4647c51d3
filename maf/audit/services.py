from flask import has_request_context, request
from flask_login import current_user

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


def record_read(obj) -> None:
    """Audit that the signed-in user has seen a record; reads change nothing else, so commit."""
    record("view", obj)
    db.session.commit()
