import pytest

from maf.audit import services as audit
from maf.audit.models import AuditEvent
from maf.extensions import db


def test_audit_events_cannot_be_changed(database, make_user):
    event = audit.record("sign_in", user=make_user())
    db.session.commit()
    event.detail = "tampered"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_audit_events_cannot_be_deleted(database, make_user):
    audit.record("sign_in", user=make_user())
    db.session.commit()
    db.session.delete(db.session.query(AuditEvent).first())
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
