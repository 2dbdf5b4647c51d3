"""The services themselves, given any text a form lets through (issue 8: "property-based tests
over the services ... unusual names and scripts round-trip through the database intact").

The form layer strips control characters and enforces lengths (tests/app/test_robustness.py
and test_every_form.py); here Hypothesis calls the services directly with every other kind of
character, and what they store must read back exactly, after the existing-CAF check has run."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases.models import Case
from maf.cases.services import find_similar_children, person_of_child
from maf.extensions import db
from maf.outcomes import services as outcomes
from maf.outcomes.models import Action, LeadKind, Outcome

# Anything but the control characters the forms drop and lone surrogates (not text at all).
typed = st.characters(blacklist_categories=("Cc", "Cs"))
names = st.text(typed, min_size=1, max_size=100).filter(lambda name: name.strip() == name != "")
notes = st.text(typed, max_size=2000)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(given_name=names, family_name=names, other_names=st.text(typed, max_size=200))
def test_any_name_is_stored_as_typed_and_found_again_by_the_check(
    make_case, given_name, family_name, other_names
):
    case = make_case(given_name, family_name, other_names=other_names)
    case_id, child_id = case.id, case.child.id
    db.session.expire_all()
    child = db.session.get(Case, case_id).child
    assert (child.given_name, child.family_name, child.other_names) == (
        given_name,
        family_name,
        other_names,
    )
    # The same child typed again is found by the existing-CAF check's search.
    similar = find_similar_children(person_of_child(child))
    assert child_id in {candidate.id for candidate, _ in similar}


@pytest.fixture
def item(make_meeting, make_ready_case, coordinator):
    meeting = make_meeting(date(2027, 1, 12))
    return add_to_agenda(meeting, make_ready_case(), ItemKind.NEW_CASE, coordinator)


@PROPERTY
@given(
    discussion=notes,
    outcome_notes=notes,
    description=st.text(typed, min_size=1, max_size=500).filter(str.strip),
    owner=names,
    lead=names,
)
def test_any_meeting_record_text_is_stored_as_typed(
    item, coordinator, discussion, outcome_notes, description, owner, lead
):
    """Each example saves the same item's record again, as a chair typing on would."""
    details = outcomes.ItemDetails(
        outcome=Outcome.CONTINUE,
        discussion=discussion,
        outcome_notes=outcome_notes,
        next_review_on=outcomes.propose_next_review(item.meeting),
        actions=[outcomes.ActionDetails(description, owner, date(2027, 2, 1))],
        lead=outcomes.LeadDetails(LeadKind.PARENT_CARER, lead, agreed=True),
    )
    outcomes.save_item_record(item, details, coordinator)
    db.session.expire_all()
    record = outcomes.record_for(item)
    # Stored as typed, less the spaces around it.
    assert (record.discussion, record.outcome_notes) == (discussion.strip(), outcome_notes.strip())
    actions = db.session.scalars(select(Action).where(Action.agenda_item_id == item.id)).all()
    assert [(a.description, a.owner_name) for a in actions] == [(description.strip(), owner)]
    assert outcomes.lead_proposal(record).name == lead
