import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import Agency, District
from maf.extensions import db


class Role(LabelledEnum):
    ADMIN = "admin", "Administrator"
    COORDINATOR = "coordinator", "{w.coordinator}"
    CHAIR = "chair", "Forum chair"
    PRACTITIONER = "practitioner", "Practitioner"


# The districts a user works in. A coordinator sees the cases of these districts only.
user_district = Table(
    "user_district",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
)


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, length=20), primary_key=True)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the session cookie carries instead of the id: replacing it ends every session
    # of this user at once (sign-out, password change, deactivation).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret in this user's calendar feed URL; replacing it stops the old URL working.
    # Time-based one-time passwords (RFC 6238): the shared secret once enrolment is confirmed,
    # and the last time step used, so a code cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column()
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # The version of what an administrator sets (roles, districts, agency; maf.people), and who
    # set it last and when, so two admins editing one person cannot silently overwrite each
    # other (maf.versioning). Not SQLAlchemy's version_id_col: signing in updates this row too,
    # and must neither move this version nor fail against an admin's save.
    access_version: Mapped[int] = mapped_column(default=1, server_default="1")
    access_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    access_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    districts: Mapped[list[District]] = relationship(
        secondary=user_district, lazy="selectin", order_by=District.name
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    @roles.setter
    def roles(self, roles) -> None:
        wanted = {Role(role) for role in roles}
        self.role_rows = [row for row in self.role_rows if row.role in wanted] + [
            UserRole(role=role) for role in wanted - self.roles
        ]

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RecoveryCode(db.Model):
    """A one-time code for when the authenticator is lost; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
