"""An invitation to an account (one use, 7 days, only its token's hash stored) and a
practitioner's request for one."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.auth.models import Role, User
from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum, utcnow
from maf.directory.models import Agency, District
from maf.extensions import db

invitation_district = Table(
    "account_invitation_district",
    db.metadata,
    Column(
        "invitation_id", ForeignKey("account_invitation.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
)

request_district = Table(
    "account_request_district",
    db.metadata,
    Column("request_id", ForeignKey("account_request.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True),
)


class AccountInvitation(db.Model):
    """An emailed link to set a password on a new account with the given roles and districts.

    `pending_email` holds the address while the invitation can still be accepted and is
    emptied when it is accepted or revoked: its UNIQUE constraint makes the database keep one
    pending invitation per address, whatever two admins do at the same moment."""

    __tablename__ = "account_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    pending_email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Comma-separated Role values, in a fixed order.
    role_names: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    forum_member_id: Mapped[int | None] = mapped_column(ForeignKey("forum_member.id"))
    # SHA-256 of the token in the link; the token itself is only ever in the email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_count: Mapped[int] = mapped_column(default=1)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    agency: Mapped[Agency | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    districts: Mapped[list[District]] = relationship(
        secondary=invitation_district, lazy="selectin", order_by=District.name
    )

    @property
    def roles(self) -> list[Role]:
        return [Role(name) for name in self.role_names.split(",") if name]

    @roles.setter
    def roles(self, roles) -> None:
        wanted = {Role(role) for role in roles}
        self.role_names = ",".join(role.value for role in Role if role in wanted)

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def __repr__(self) -> str:
        return f"<AccountInvitation {self.id}>"


# The name the other areas use (maf.circulation.models.Invitation is a calendar invitation).
Invitation = AccountInvitation


class RequestStatus(LabelledEnum):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Approved: invitation sent"
    REFUSED = "refused", "Refused"


class AccountRequest(db.Model):
    """A practitioner, from an agency the service knows by its email domain, asks for an
    account; a coordinator of the agency's districts approves (an invitation) or refuses."""

    __tablename__ = "account_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    # One open request per address, kept by the database (as pending_email above).
    pending_email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # What the person said of their organisation and team, beside the agency their address
    # belongs to, so the coordinator knows whom they are approving.
    organisation: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, length=20), default=RequestStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("account_invitation.id"))

    agency: Mapped[Agency] = relationship()
    decided_by: Mapped[User | None] = relationship()
    invitation: Mapped[AccountInvitation | None] = relationship()
    districts: Mapped[list[District]] = relationship(
        secondary=request_district, lazy="selectin", order_by=District.name
    )
