"""Issue 14 point 1: "every sign-off proposed" goes on the next agenda as a sign-off. The forum
proposes it when it continues a case (seed 002 D1: a CAF is closed at a sign-off meeting, with
its reasons): the chair ticks "Propose closing it at that review", and the next meeting's
builder fills that review in as a sign-off, where any other review stays a review."""

from datetime import date

import lxml.html
import pytest

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Outcome
from tests.conftest import at_the_meeting
from tests.outcomes.test_meeting_record_pages import (
    client_of,
    item_url,
    post_page,
    visible_text,
)

NEW, REVIEW, SIGN_OFF = ItemKind.NEW_CASE, ItemKind.REVIEW, ItemKind.SIGN_OFF


@pytest.fixture
def january_and_april(make_forum, make_meeting):
    forum = make_forum()
    return (
        make_meeting(date(2027, 1, 12), forum=forum),
        make_meeting(date(2027, 4, 6), forum=forum),
    )


def _continued(meeting, case, coordinator, sign_off_next):
    item = agendas.add_to_agenda(meeting, case, NEW, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            next_review_on=outcomes.propose_next_review(meeting),
            lead=outcomes.LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", agreed=True),
            sign_off_next=sign_off_next,
        ),
        coordinator,
    )
    return item


def test_the_chair_proposes_a_sign_off_and_the_next_fill_adds_it_as_one(
    app, client, sign_in, january_and_april, make_ready_case, coordinator
):
    january, april = january_and_april
    closing = make_ready_case("Amy", "Lee", date(2013, 1, 1), "LE11 1AA")
    going_on = make_ready_case("Ben", "Ward", date(2013, 2, 2), "LE11 2BB")
    _continued(january, going_on, coordinator, sign_off_next=False)
    item = agendas.add_to_agenda(january, closing, NEW, coordinator)
    at_the_meeting(january)

    # The chair records it through the page, ticking the proposal.
    sign_in(january.forum.chair)
    path = item_url(item)
    response = post_page(
        client,
        path,
        {
            "discussion": "Things are going well at home and at school.",
            "outcome": Outcome.CONTINUE.value,
            "lead_kind": "practitioner",
            "lead_name": "Zoë Brennan",
            "sign_off_next": "y",
        },
        save="1",
    )
    assert response.status_code == 302, visible_text(response.text)
    assert outcomes.record_for(item).sign_off_next is True
    outcomes.complete_meeting(january, coordinator)
    # The record and the draft minutes say so, with the review's date.
    said = f"{outcomes.record_for(item).next_review_on:%-d %B %Y}, as a sign-off: the forum "
    said += "proposes closing the case then"
    assert said in visible_text(client.get(path).text)
    assert said in visible_text(client.get(f"/meetings/{january.id}/minutes").text)

    builder_page = client_of(app, coordinator).get(f"/meetings/{april.id}/agenda/build").text
    builder = lxml.html.fromstring(builder_page)
    chosen = builder.xpath(f'//input[@name="kind-{closing.id}"][@checked]/@value')
    assert chosen == ["sign_off"]
    assert builder.xpath(f'//input[@name="kind-{going_on.id}"][@checked]/@value') == ["review"]
    assert "Sign-off proposed at the meeting on 12 January 2027" in builder.text_content()

    agendas.fill_with_due(april, coordinator)
    kinds = {i.case_id: i.kind for i in agendas.scheduled_items(april)}
    assert kinds == {closing.id: SIGN_OFF, going_on.id: REVIEW}


def test_a_later_discussion_without_the_proposal_takes_it_back(
    make_forum, make_meeting, make_ready_case, coordinator
):
    """Only the case's last discussion counts: a forum that proposed closing, then met again
    and carried on, has not proposed a sign-off any more."""
    forum = make_forum()
    january, april, july = (
        make_meeting(day, forum=forum)
        for day in (date(2027, 1, 12), date(2027, 4, 6), date(2027, 7, 6))
    )
    case = make_ready_case()
    _continued(january, case, coordinator, sign_off_next=True)
    at_the_meeting(january)
    outcomes.complete_meeting(january, coordinator)
    assert agendas.sign_offs_proposed([case.id]) == {case.id: date(2027, 1, 12)}

    item = agendas.add_to_agenda(april, case, REVIEW, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE, next_review_on=outcomes.propose_next_review(april)
        ),
        coordinator,
    )
    at_the_meeting(april)
    outcomes.complete_meeting(april, coordinator)
    assert agendas.sign_offs_proposed([case.id]) == {}
    (proposal,) = agendas.review_proposals(july)
    assert proposal.kind == REVIEW


def test_a_proposal_is_kept_only_with_continue(january_and_april, make_ready_case, coordinator):
    """Closing now, stepping up or deferring leaves no review to sign off at: the tick is not
    stored, so no later agenda is told the forum proposed it."""
    january, _ = january_and_april
    case = make_ready_case()
    item = agendas.add_to_agenda(january, case, NEW, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(outcome=Outcome.DEFER, sign_off_next=True),
        coordinator,
    )
    assert outcomes.record_for(item).sign_off_next is False
