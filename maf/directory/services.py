from sqlalchemy import select

from maf.auth.models import User
from maf.auth.permissions import restrict_to_visible_districts
from maf.directory.models import Agency, AgencyEmailDomain, District
from maf.extensions import db


def districts_for(user: User) -> list[District]:
    statement = restrict_to_visible_districts(
        select(District).order_by(District.name), District.id, user
    )
    return list(db.session.scalars(statement))


def agencies_of(district: District) -> list[Agency]:
    """The district's own agencies and those serving the whole authority, retired ones too
    (the district's page shows its history; choices use `agencies`)."""
    statement = (
        select(Agency)
        .where(Agency.districts.contains(district) | ~Agency.districts.any())
        .order_by(Agency.name)
    )
    return list(db.session.scalars(statement))


def agencies(types=None, *, keep=()) -> list[Agency]:
    """The agencies a new choice may offer, by name: every agency not retired, or those of
    the given types. `keep` adds agencies already chosen on the record being edited, even if
    retired since, so saving an old record does not lose its agency."""
    kept_ids = [agency.id for agency in keep if agency is not None]
    offered = Agency.retired_at.is_(None)
    if kept_ids:
        offered = offered | Agency.id.in_(kept_ids)
    statement = select(Agency).where(offered).order_by(Agency.name)
    if types:
        statement = statement.where(Agency.type.in_(types))
    return list(db.session.scalars(statement))


def choices(objects, blank: str | None = None) -> list[tuple[int, str]]:
    """(id, name) pairs for a select or checkboxes; `blank` adds a "none" choice worth 0."""
    pairs = [(obj.id, obj.name) for obj in objects]
    return [(0, blank), *pairs] if blank else pairs


def email_domain(email: str) -> str:
    """The domain of an address, lower-case ("" when there is none)."""
    _, at, domain = (email or "").strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


def agency_for_email(email: str) -> Agency | None:
    """The agency, not retired, one of whose email domains is exactly this address's domain
    (case-insensitive). Exact match only: a subdomain ("mail.school.org.uk") names no agency
    unless it is listed itself, so one agency's domain never vouches for someone else's."""
    domain = email_domain(email)
    if not domain:
        return None
    return db.session.scalar(
        select(Agency)
        .join(AgencyEmailDomain, AgencyEmailDomain.agency_id == Agency.id)
        .where(AgencyEmailDomain.domain == domain, Agency.retired_at.is_(None))
    )


def all_agencies() -> list[Agency]:
    """Every agency, retired ones too, by name (the admin's list)."""
    return list(db.session.scalars(select(Agency).order_by(Agency.name)))
