"""Retiring an agency never loses it from a record that names it (issue 15 point 1): the
meeting record of an item whose agreed service is with an agency retired since still offers
it, and saving the record again keeps it."""

from maf.directory import services as directory
from maf.extensions import db
from maf.outcomes import services
from tests.outcomes.test_meeting_record_pages import (  # noqa: F401
    april,
    continue_with_lead,
    forum,
    item_url,
    items,  # noqa: F811
    january,  # noqa: F811
    post_page,
    the_form,
)


def test_a_record_naming_an_agency_retired_since_keeps_it_when_saved_again(
    client,
    sign_in,
    coordinator,
    january,  # noqa: F811
    items,  # noqa: F811
    make_agency,
):
    police = make_agency(name="Leicestershire Police")
    services.save_item_record(
        items[0],
        continue_with_lead(january, services=[(police, "Neighbourhood officer visits")]),
        coordinator,
    )
    directory.retire_agency(police, coordinator)
    sign_in(coordinator)
    url = item_url(items[0])

    page = client.get(url).text
    assert the_form(page).fields["services-0-agency"] == str(police.id)
    assert post_page(client, url, {"discussion": "Saved again"}, page=page).status_code in (
        200,
        302,
    )
    db.session.expire_all()
    saved = services.stored_details(items[0])
    assert saved.discussion == "Saved again"
    assert saved.services == [(police, "Neighbourhood officer visits")]


def test_a_merge_moves_every_column_that_names_the_duplicate(
    coordinator,
    january,  # noqa: F811
    items,  # noqa: F811
    make_agency,
    make_user,
    make_forum,
):
    """Every foreign key to agency.id in the schema (agency_references) is given a row naming
    the duplicate here; after the merge, none names it and each names the agency kept."""
    from datetime import date

    from sqlalchemy import func, select

    from maf.auth.models import Role
    from maf.forums import services as forum_services
    from maf.forums.models import MemberRole
    from maf.invitations import services as invitations
    from maf.invitations.models import AccountRequest
    from maf.outcomes.models import LeadKind, LeadProfessional, Outcome

    duplicate = make_agency(name="Charnwood Family Hub (old)")
    keep = make_agency(name="Charnwood Family Hub")
    case = items[0].case
    case.referrer_agency = duplicate
    case.child.school = duplicate
    case.consents[-1].agencies = [duplicate]
    make_user(Role.PRACTITIONER, name="Hana Hub", agency=duplicate)
    forum_services.add_member(
        january.forum,
        name="Hana Hub",
        email="hana@example.org",
        agency=duplicate,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    services.save_item_record(
        items[0],
        services.ItemDetails(
            outcome=Outcome.CONTINUE,
            next_review_on=services.propose_next_review(january),
            services=[(duplicate, "Family support")],
            actions=[
                services.ActionDetails(
                    "Home visit", "Hana Hub", date(2027, 2, 1), owner_agency=duplicate
                )
            ],
            lead=services.LeadDetails(LeadKind.PRACTITIONER, "Hana Hub", True, agency=duplicate),
        ),
        coordinator,
    )
    db.session.add(
        LeadProfessional(
            case_id=case.id,
            kind=LeadKind.PRACTITIONER,
            name="Hana Hub",
            agency=duplicate,
            starts_on=date(2026, 12, 1),
            ends_on=date(2026, 12, 20),
        )
    )
    invitations.invite(
        email="new.worker@example.org",
        name="New Worker",
        roles=[Role.PRACTITIONER],
        districts=coordinator.districts,
        agency=duplicate,
        invited_by=coordinator,
    )
    db.session.add(
        AccountRequest(
            email="asking@example.org",
            pending_email="asking@example.org",
            name="Asha Asking",
            agency=duplicate,
            districts=list(coordinator.districts),
        )
    )
    db.session.commit()

    def naming(reference, agency):
        return db.session.scalar(
            select(func.count()).select_from(reference.table).where(reference.column == agency.id)
        )

    references = directory.agency_references()
    before = {ref: (naming(ref, duplicate), naming(ref, keep)) for ref in references}
    assert all(dup > 0 for dup, _ in before.values()), {
        ref.label: counts for ref, counts in before.items() if not counts[0]
    }

    directory.merge_agencies(duplicate, keep, coordinator)

    for reference in references:
        dup, kept = before[reference]
        assert naming(reference, duplicate) == 0, reference.label
        assert naming(reference, keep) == dup + kept, reference.label
