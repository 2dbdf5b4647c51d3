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
