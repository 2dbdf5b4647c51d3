from sqlalchemy import select
from sqlalchemy.orm import selectinload

from maf.auth.models import User
from maf.auth.permissions import restrict_to_visible_districts
from maf.directory.models import Agency, District
from maf.extensions import db


def districts_for(user: User) -> list[District]:
    statement = restrict_to_visible_districts(
        select(District).order_by(District.name), District.id, user
    )
    return list(db.session.scalars(statement))


def agencies_of(district: District) -> list[Agency]:
    """The district's own agencies and those serving the whole authority."""
    statement = (
        select(Agency)
        .where((Agency.district_id == district.id) | Agency.district_id.is_(None))
        .order_by(Agency.name)
    )
    return list(db.session.scalars(statement))


def all_agencies() -> list[Agency]:
    return list(
        db.session.scalars(
            select(Agency).options(selectinload(Agency.district)).order_by(Agency.name)
        )
    )


def agencies(types=None) -> list[Agency]:
    """Every agency, or those of the given types, by name."""
    statement = select(Agency).order_by(Agency.name)
    if types:
        statement = statement.where(Agency.type.in_(types))
    return list(db.session.scalars(statement))


def choices(objects, blank: str | None = None) -> list[tuple[int, str]]:
    """(id, name) pairs for a select or checkboxes; `blank` adds a "none" choice worth 0."""
    pairs = [(obj.id, obj.name) for obj in objects]
    return [(0, blank), *pairs] if blank else pairs
