from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maf.dbtypes import LabelledEnum, str_enum
from maf.extensions import db


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


class District(db.Model):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)

    agencies: Mapped[list["Agency"]] = relationship(
        back_populates="district", order_by="Agency.name"
    )

    def __repr__(self) -> str:
        return f"<District {self.slug}>"


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[AgencyType] = mapped_column(str_enum(AgencyType))
    tier: Mapped[AgencyTier] = mapped_column(str_enum(AgencyTier))
    # None for agencies that serve the whole authority (police, CAMHS, social care).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)

    district: Mapped[District | None] = relationship(back_populates="agencies")

    def __repr__(self) -> str:
        return f"<Agency {self.name!r}>"
