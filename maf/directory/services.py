import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import restrict_to_visible_districts
from maf.dbtypes import utcnow
from maf.directory.models import Agency, AgencyEmailDomain, AgencyTier, AgencyType, District
from maf.errors import DomainError
from maf.extensions import db
from maf.rules.words import Worded
from maf.versioning import UNCHECKED, require_version, touch


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
        .where(Agency.districts.any(District.id == district.id) | ~Agency.districts.any())
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


# --- administration (issue 15): districts and agencies ---------------------------------------


class DirectoryError(DomainError):
    """A rule refused a change to a district or an agency."""


def slug_for(name: str) -> str:
    """The district's name as it goes into file names and the command line: "Hinckley &
    Bosworth" -> "hinckley-bosworth"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:120]


def _district_in_words(name: str) -> dict[str, str]:
    return {"Name": name}


def save_district(
    district: District | None,
    name: str,
    user: User,
    *,
    once: str | None = None,
    version=UNCHECKED,
) -> District:
    """Create (`district` None) or rename a district; its slug follows its name. Refused when
    another district has the name, or a name so alike that the slugs are the same."""
    name = " ".join(name.split())
    if district is not None:
        require_version(
            district,
            version,
            yours=_district_in_words(name),
            theirs=_district_in_words(district.name),
        )
    slug = slug_for(name)
    if not slug:
        raise DirectoryError("Enter a name with letters or numbers in it", field="name")
    submission = submissions.claim(once, "district", user) if district is None else None
    other_id = district.id if district is not None else -1
    same = db.session.scalar(
        select(District).where(
            (func.lower(District.name) == name.lower()) | (District.slug == slug),
            District.id != other_id,
        )
    )
    if same is not None:
        if same.name.lower() == name.lower():
            raise DirectoryError(f"A district called {same.name} already exists", field="name")
        raise DirectoryError(
            f"This name is too like {same.name}'s: choose a name that differs by more than "
            "punctuation or capitals",
            field="name",
        )
    created = district is None
    if created:
        district = District()
        db.session.add(district)
    before = district.name
    district.name, district.slug = name, slug
    touch(district, user)
    submissions.created(submission, district)
    audit.record(
        "district_created" if created else "district_changed",
        district,
        user=user,
        detail=name if created else f"{before} -> {name}",
    )
    _commit_or_refuse(f"A district called {name} already exists")
    return district


# An email domain: labels of letters, digits and hyphens, and a top-level domain of letters
# (or an internationalised one in its xn-- form). One per line in the form.
_DOMAIN = re.compile(
    r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)


def parse_domains(text: str) -> list[str]:
    """The email domains typed one per line (commas and spaces also separate them), lower-case,
    without a leading "@", each once. Raises DirectoryError naming the ones that are not."""
    domains = []
    for word in re.split(r"[\s,;]+", text or ""):
        domain = word.strip().lower().lstrip("@").rstrip(".")
        if domain and domain not in domains:
            domains.append(domain)
    wrong = [domain for domain in domains if not _DOMAIN.fullmatch(domain)]
    if wrong:
        listed = ", ".join(wrong[:5])
        raise DirectoryError(
            f"Enter email domains like school.org.uk, one per line: {listed} "
            f"{'is not a domain' if len(wrong) == 1 else 'are not domains'}",
            field="email_domains",
        )
    return domains


@dataclass
class AgencyDetails:
    name: str
    type: AgencyType
    tier: AgencyTier
    districts: list[District] = field(default_factory=list)
    email_domains: list[str] = field(default_factory=list)


def details_of(agency: Agency) -> AgencyDetails:
    return AgencyDetails(
        agency.name,
        agency.type,
        agency.tier,
        list(agency.districts),
        list(agency.email_domains),
    )


def _agency_in_words(details: AgencyDetails) -> dict[str, str]:
    return {
        "Name": details.name,
        "Type": details.type.label,
        "Tier": details.tier.label,
        "Districts": ", ".join(sorted(d.name for d in details.districts)) or "Whole authority",
        "Email domains": "\n".join(sorted(details.email_domains)),
    }


def save_agency(
    agency: Agency | None,
    details: AgencyDetails,
    user: User,
    *,
    once: str | None = None,
    version=UNCHECKED,
) -> Agency:
    """Create (`agency` None) or change an agency. Its name is unique (whatever the capitals)
    and each email domain belongs to one agency only: the refusal names the agency that has
    it. `version` is the agency's version when the editing form was opened."""
    name = " ".join(details.name.split())
    if agency is not None:
        require_version(
            agency,
            version,
            yours=_agency_in_words(details),
            theirs=_agency_in_words(details_of(agency)),
        )
    submission = submissions.claim(once, "agency", user) if agency is None else None
    other_id = agency.id if agency is not None else -1
    same = db.session.scalar(
        select(Agency).where(func.lower(Agency.name) == name.lower(), Agency.id != other_id)
    )
    if same is not None:
        raise DirectoryError(
            f"An agency called {same.name} already exists"
            + (" (retired: reinstate it instead)" if same.retired else ""),
            field="name",
        )
    domains = [domain.lower() for domain in details.email_domains]
    taken = db.session.execute(
        select(AgencyEmailDomain.domain, Agency)
        .join(Agency, Agency.id == AgencyEmailDomain.agency_id)
        .where(AgencyEmailDomain.domain.in_(domains), Agency.id != other_id)
        .order_by(AgencyEmailDomain.domain)
    ).all()
    if taken:
        raise DirectoryError(
            "; ".join(
                f"{domain} is already a domain of {owner.name}"
                + (" (retired): remove it there first" if owner.retired else "")
                for domain, owner in taken
            ),
            field="email_domains",
        )
    created = agency is None
    if created:
        agency = Agency()
        db.session.add(agency)
    agency.name, agency.type, agency.tier = name, details.type, details.tier
    agency.districts = sorted(set(details.districts), key=lambda d: d.name)
    agency.email_domains = domains
    touch(agency, user)
    submissions.created(submission, agency)
    words = _agency_in_words(details_of(agency))
    audit.record(
        "agency_created" if created else "agency_changed",
        agency,
        user=user,
        detail="; ".join(f"{label}: {value}" for label, value in words.items()).replace("\n", " "),
    )
    _commit_or_refuse(f"An agency called {name}, or one of these domains, already exists")
    return agency


def _commit_or_refuse(message: str) -> None:
    """Commit; a unique constraint broken by someone saving the same at the same moment is
    refused like the check before it, not a server error."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DirectoryError(message, field="name") from None


def retire_agency(agency: Agency, user: User, *, version=UNCHECKED) -> bool:
    """Retire the agency: kept, with everything that names it, but offered in no new choice and
    no longer naming anyone's email address. False if it was retired already."""
    require_version(agency, version, yours={}, theirs={})
    if agency.retired:
        return False
    agency.retired_at = utcnow()
    touch(agency, user)
    audit.record("agency_retired", agency, user=user, detail=agency.name)
    db.session.commit()
    return True


def reinstate_agency(agency: Agency, user: User, *, version=UNCHECKED) -> bool:
    """Offer a retired agency again. A merged duplicate stays retired: its records are with the
    agency it was merged into. False if it was not retired."""
    require_version(agency, version, yours={}, theirs={})
    if agency.merged_into is not None:
        raise DirectoryError(
            f"{agency.name} was merged into {agency.merged_into.name}: its records are there, "
            "so it cannot be reinstated"
        )
    if not agency.retired:
        return False
    agency.retired_at = None
    touch(agency, user)
    audit.record("agency_reinstated", agency, user=user, detail=agency.name)
    db.session.commit()
    return True


# Every column that names an agency, in words, for the merge page and its audit entry. A
# column missing here is still moved by a merge (found from the schema), under its table's
# name; tests/directory checks each is listed.
REFERENCE_LABELS = {
    ("user", "agency_id"): "user accounts",
    ("forum_member", "agency_id"): "forum members",
    ("caf_case", "referrer_agency_id"): "cases it referred",
    ("child", "school_id"): "children at it as their school or setting",
    ("consent_agency", "agency_id"): "consents to share information with it",
    ("agreed_service", "agency_id"): "services agreed at forums",
    ("action", "owner_agency_id"): "actions it owns",
    ("lead_professional", "agency_id"): Worded("{w.lead_professionals}"),
    ("lead_proposal", "agency_id"): Worded("{w.lead_professionals} proposed"),
    ("account_invitation", "agency_id"): "invitations",
    ("account_request", "agency_id"): "requests for an account",
}
# The agency's own rows, which a merge handles itself.
_OWN_TABLES = {"agency", "agency_district", "agency_email_domain"}


@dataclass(frozen=True)
class Reference:
    table: Table
    column: Column

    @property
    def label(self) -> str:
        key = (self.table.name, self.column.name)
        return str(REFERENCE_LABELS.get(key, f"{self.table.name.replace('_', ' ')} records"))


def agency_references() -> list[Reference]:
    """Every column in the schema holding an agency's id, outside the agency's own tables."""
    agency_id = Agency.__table__.c.id
    found = []
    for table in sorted(db.metadata.tables.values(), key=lambda t: t.name):
        if table.name in _OWN_TABLES:
            continue
        for foreign_key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            if foreign_key.column is agency_id:
                found.append(Reference(table, foreign_key.parent))
    return found


def uses_of(agency: Agency) -> list[tuple[str, int]]:
    """(what, how many) for everything that names the agency, those with none left out."""
    counted = []
    for reference in agency_references():
        count = db.session.scalar(
            select(func.count()).select_from(reference.table).where(reference.column == agency.id)
        )
        if count:
            counted.append((reference.label, count))
    return counted


def merge_agencies(duplicate: Agency, keep: Agency, user: User, *, version=UNCHECKED):
    """Move everything that names `duplicate` to `keep`, in one transaction: users, forum
    members, cases, children's schools, consents, services, actions, lead professionals,
    invitations, and its email domains; `keep` gains its districts (unless it serves the whole
    authority). The duplicate is kept, retired, with merged_into set, so old links resolve.
    Returns the (what, how many) moved, which the audit entry records."""
    require_version(duplicate, version, yours={}, theirs={})
    if duplicate.id == keep.id:
        raise DirectoryError("Select another agency to keep: an agency cannot merge into itself")
    if keep.retired:
        raise DirectoryError(f"{keep.name} is retired: reinstate it first, or keep another")
    if duplicate.merged_into is not None:
        raise DirectoryError(
            f"{duplicate.name} was already merged into {duplicate.merged_into.name}"
        )
    moved = uses_of(duplicate)
    for reference in agency_references():
        _move(reference, duplicate.id, keep.id)
    agencies_table = Agency.__table__
    # Duplicates merged earlier into this one now point at the one kept: one step to resolve.
    db.session.execute(
        update(agencies_table)
        .where(agencies_table.c.merged_into_id == duplicate.id)
        .values(merged_into_id=keep.id, version=agencies_table.c.version + 1)
    )
    db.session.expire_all()  # the rows above changed underneath the session's objects
    domains = duplicate.email_domains
    if keep.districts and duplicate.districts:
        keep.districts = sorted({*keep.districts, *duplicate.districts}, key=lambda d: d.name)
    duplicate.email_domains = []
    db.session.flush()  # the domains leave the duplicate before the kept agency takes them
    keep.email_domains = [*keep.email_domains, *domains]
    duplicate.merged_into = keep
    if duplicate.retired_at is None:
        duplicate.retired_at = utcnow()
    touch(duplicate, user)
    touch(keep, user)
    counts = ", ".join(f"{count} {label}" for label, count in moved) or "nothing named it"
    if domains:
        counts += f"; email domains {', '.join(domains)}"
    audit.record("agency_merged", duplicate, user=user, detail=f"Merged into {keep.name}: {counts}")
    audit.record(
        "agency_merged_in", keep, user=user, detail=f"{duplicate.name} merged in: {counts}"
    )
    db.session.commit()
    return moved


def _move(reference: Reference, from_id: int, to_id: int) -> None:
    table, column = reference.table, reference.column
    if column.primary_key:
        # A link table (consent_agency): where the row it would become exists already, the
        # duplicate's row goes, so the move never makes the same link twice.
        others = [c for c in table.primary_key.columns if c is not column]
        existing = table.alias("existing")
        db.session.execute(
            delete(table).where(
                column == from_id,
                exists().where(
                    existing.c[column.name] == to_id,
                    *[existing.c[c.name] == c for c in others],
                ),
            )
        )
    values = {column.name: to_id}
    if "version" in table.c:
        # So a form opened before the merge cannot save the old agency back.
        values["version"] = table.c.version + 1
    db.session.execute(update(table).where(column == from_id).values(values))


def agency_list(
    *, type: AgencyType | None = None, district: District | None = None, status="current"
):
    """The admin's list of agencies, by name: those in use (`status` "current"), retired or
    all; of a type; working in a district (with those serving the whole authority)."""
    statement = select(Agency).order_by(Agency.name)
    if status == "current":
        statement = statement.where(Agency.retired_at.is_(None))
    elif status == "retired":
        statement = statement.where(Agency.retired_at.is_not(None))
    if type is not None:
        statement = statement.where(Agency.type == type)
    if district is not None:
        statement = statement.where(
            Agency.districts.any(District.id == district.id) | ~Agency.districts.any()
        )
    return list(db.session.scalars(statement))


def all_districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.name)))
