from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.dbtypes import LabelledEnum, UTCDateTime, str_enum
from maf.extensions import db
from maf.versioning import Versioned


class AgencyTier(LabelledEnum):
    """Where an agency sits in the continuum of need: tiers 1-2 universal or targeted,
    tiers 3-4 specialist or statutory."""

    UNIVERSAL = "universal", "Universal"
    TARGETED = "targeted", "Targeted"
    SPECIALIST = "specialist", "Specialist (tier 3/4)"


class AgencyType(LabelledEnum):
    EARLY_YEARS = "early_years", "Early years or pre-school"
    PRIMARY_SCHOOL = "primary_school", "Primary school"
    HIGH_SCHOOL = "high_school", "High school"
    COLLEGE = "college", "College"
    HEALTH = "health", "Health"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    SPECIALIST_CAMHS = "specialist_camhs", "Specialist CAMHS"
    YOUTH_SERVICE = "youth_service", "Youth service"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    POLICE = "police", "Police"
    HOUSING = "housing", "Housing"
    VOLUNTARY = "voluntary", "Voluntary or community sector"
    LOCAL_AUTHORITY = "local_authority", "Local authority early help"


# The districts an agency works in. An agency with none serves the whole authority (police,
# CAMHS, social care); a school trust or a health visiting team may serve several.
agency_district = Table(
    "agency_district",
    db.metadata,
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "district_id", ForeignKey("district.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class District(Versioned, db.Model):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)

    agencies: Mapped[list["Agency"]] = relationship(
        secondary=agency_district, back_populates="districts", order_by="Agency.name"
    )

    def __repr__(self) -> str:
        return f"<District {self.slug}>"


class AgencyEmailDomain(db.Model):
    """One email domain of an agency ("leics.police.uk"), stored lower-case. A domain belongs
    to one agency only, so an address names at most one agency (`agency_for_email`)."""

    __tablename__ = "agency_email_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)


class Agency(Versioned, db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[AgencyType] = mapped_column(str_enum(AgencyType))
    tier: Mapped[AgencyTier] = mapped_column(str_enum(AgencyTier))
    # Retired agencies stay for history (members, cases and users still name them) but are
    # offered in no new choice.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A duplicate merged into another is kept, retired, pointing at the one kept, so old
    # links and audit entries still resolve.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    # Who changed it last (versioning), without a foreign key: user.agency_id already links
    # the two tables, and a second path would make every User-Agency join ambiguous and the
    # tables impossible to sort. Users are deactivated, never deleted, so the id resolves.
    updated_by_id: Mapped[int | None] = mapped_column(Integer)

    districts: Mapped[list[District]] = relationship(
        secondary=agency_district,
        back_populates="agencies",
        order_by=District.name,
        lazy="selectin",
    )
    domain_rows: Mapped[list[AgencyEmailDomain]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=AgencyEmailDomain.domain
    )
    merged_into: Mapped["Agency | None"] = relationship(remote_side=[id])

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def label(self) -> str:
        """Its name, marked when retired: records that keep a retired agency still show it."""
        return f"{self.name} (retired)" if self.retired else self.name

    @property
    def serves_whole_authority(self) -> bool:
        return not self.districts

    @property
    def email_domains(self) -> list[str]:
        return [row.domain for row in self.domain_rows]

    @email_domains.setter
    def email_domains(self, domains) -> None:
        wanted = list(dict.fromkeys(domain.strip().lower() for domain in domains))
        kept = [row for row in self.domain_rows if row.domain in wanted]
        have = {row.domain for row in kept}
        self.domain_rows = kept + [
            AgencyEmailDomain(domain=domain) for domain in wanted if domain not in have
        ]

    @property
    def serves(self) -> str:
        """Where the agency works, for labels: its districts, or the whole authority."""
        return ", ".join(d.name for d in self.districts) or "Whole authority"

    def __repr__(self) -> str:
        return f"<Agency {self.name!r}>"
