"""Every published version of a public page: an edit adds a version, never changes one."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import User
from maf.dbtypes import UTCDateTime, utcnow
from maf.extensions import db


class PublicPageVersion(db.Model):
    __tablename__ = "public_page_version"
    # Two admins saving from the same version both claim the same next number: one gets in.
    __table_args__ = (UniqueConstraint("slug", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    # Plain text with simple formatting (paragraphs, "## " headings, "- " lists); never HTML.
    body: Mapped[str] = mapped_column(Text)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    published_by: Mapped[User] = relationship()
