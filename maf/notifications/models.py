from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maf.dbtypes import UTCDateTime, utcnow
from maf.extensions import db


class EmailPreference(db.Model):
    """A person's choice for one optional kind of email (maf.notifications.catalogue).

    Only choices that were made are stored: no row means the catalogue's default, so a kind
    added later reaches everyone until they say otherwise.
    """

    __tablename__ = "email_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
