"""The agenda builder (seed 004: up to 10 new cases of about 20 minutes and up to 30 reviews a
meeting; the lead professional reports progress at the next meeting)."""

from datetime import date, time

import pytest

from maf.agendas import services
from maf.agendas.models import ItemKind, ItemStatus
from maf.cases import services as case_services
from maf.cases.models import CaseStatus
from maf.extensions import db
from tests.conftest import csrf_token_from

NEW, REVIEW, SIGN_OFF = ItemKind.NEW_CASE, ItemKind.REVIEW, ItemKind.SIGN_OFF


def _times(slots):
    return [(index, f"{s:%H:%M}", f"{e:%H:%M}") for index, s, e in slots]


def test_slots_run_back_to_back_without_breaks():
    slots = services.compute_slots(time(9, 30), [20, 20, 5], [])
    assert _times(slots) == [(0, "09:30", "09:50"), (1, "09:50", "10:10"), (2, "10:10", "10:15")]


def test_a_break_comes_before_the_first_item_that_would_run_into_it():
    slots = services.compute_slots(time(9, 30), [20, 20, 25, 20], [(time(10, 30), 15)])
    assert _times(slots) == [
        (0, "09:30", "09:50"),
        (1, "09:50", "10:10"),
        (None, "10:10", "10:25"),  # the next item would run past 10:30
        (2, "10:25", "10:50"),
        (3, "10:50", "11:10"),
    ]


def test_a_break_due_exactly_when_an_item_ends_is_taken_there():
    slots = services.compute_slots(time(9, 0), [20, 20, 20], [(time(9, 40), 10)])
    assert _times(slots) == [
        (0, "09:00", "09:20"),
        (1, "09:20", "09:40"),
        (None, "09:40", "09:50"),
        (2, "09:50", "10:10"),
    ]


def test_two_breaks_and_a_break_before_the_start_is_ignored():
    slots = services.compute_slots(
        time(9, 0), [60, 60, 60], [(time(8, 30), 10), (time(10, 0), 15), (time(12, 0), 30)]
    )
    assert _times(slots) == [
        (0, "09:00", "10:00"),
        (None, "10:00", "10:15"),
        (1, "10:15", "11:15"),
        (None, "11:15", "11:45"),
        (2, "11:45", "12:45"),
    ]


def test_no_items_no_slots():
    assert services.compute_slots(time(9), [], [(time(10), 15)]) == []


@pytest.fixture
def meeting(make_meeting, make_forum):
    return make_meeting(forum=make_forum(breaks=[(time(10, 30), 15)]))


def _open_case(make_ready_case, coordinator, *args, **kwargs):
    """A case already discussed at a forum: open, with consent to share."""
    case = make_ready_case(*args, **kwargs)
    case.status = CaseStatus.OPEN
    db.session.commit()
    return case


def test_timed_agenda_uses_the_forums_slot_lengths_and_breaks(
    meeting, make_ready_case, coordinator
):
    for name in ("Amy", "Ben", "Cara"):
        services.add_to_agenda(meeting, make_ready_case(name, "Lee"), NEW, coordinator)
    services.add_to_agenda(
        meeting, _open_case(make_ready_case, coordinator, "Dan", "Ng"), REVIEW, coordinator
    )
    agenda = services.timed_agenda(meeting)
    rows = [
        (s.item.case.child.given_name if s.item else "break", f"{s.starts:%H:%M}")
        for s in agenda.slots
    ]
    assert rows == [
        ("Amy", "09:30"),
        ("Ben", "09:50"),
        ("Cara", "10:10"),
        ("break", "10:30"),
        ("Dan", "10:45"),
    ]
    assert f"{agenda.ends:%H:%M}" == "10:50"
    assert (agenda.new_cases, agenda.reviews, agenda.total_minutes) == (3, 1, 80)
    assert agenda.warnings == []


def test_over_time_and_over_capacity_are_warned(
    make_meeting, make_forum, make_ready_case, coordinator
):
    forum = make_forum(length_minutes=30)
    meeting = make_meeting(forum=forum)
    for name in ("Amy", "Ben"):
        services.add_to_agenda(meeting, make_ready_case(name, "Lee"), NEW, coordinator)
    forum.new_case_capacity = 1  # capacity lowered after the agenda was built
    db.session.commit()
    warnings = services.timed_agenda(meeting).warnings
    assert warnings == [
        "The agenda runs 10 minutes over the meeting's 30 minutes: move items to the next meeting",
        "2 new cases: more than the forum's 1",
    ]


def test_a_full_meeting_refuses_another_new_case(
    make_meeting, make_forum, make_ready_case, coordinator
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=1))
    services.add_to_agenda(meeting, make_ready_case("Amy", "Lee"), NEW, coordinator)
    late = make_ready_case("Ben", "Ward")
    with pytest.raises(services.AgendaError, match="already has 1 new case"):
        services.add_to_agenda(meeting, late, NEW, coordinator)
    db.session.rollback()
    assert late.status == CaseStatus.READY_FOR_FORUM


def test_new_case_goes_on_agenda_with_its_referrer_presenting(
    meeting, make_ready_case, coordinator
):
    case = make_ready_case()
    item = services.add_to_agenda(meeting, case, NEW, coordinator)
    assert case.status == CaseStatus.ON_AGENDA
    assert (item.presenter_name, item.presenter_email) == (
        "Daniel Kowalski",
        "pastoral.lead@example.org",
    )
    with pytest.raises(services.AgendaError, match="already on this meeting"):
        services.add_to_agenda(meeting, case, REVIEW, coordinator)
    db.session.rollback()
    services.remove_from_agenda(item, coordinator)
    assert case.status == CaseStatus.READY_FOR_FORUM and item.status == ItemStatus.REMOVED
    again = services.add_to_agenda(meeting, case, NEW, coordinator, "Zoë Brennan", "z@example.org")
    assert again.id == item.id and again.presenter_name == "Zoë Brennan"


def test_checks_and_consent_gate_the_agenda(meeting, make_case, make_ready_case, coordinator):
    """Seed 003 §4.12 and the intake checks: no case reaches a forum without them."""
    unchecked = make_case("Amy", "Lee")
    with pytest.raises(services.AgendaError, match="ready for a forum"):
        services.add_to_agenda(meeting, unchecked, NEW, coordinator)
    no_consent = make_case("Ben", "Ward", share_with_forum=False)
    with pytest.raises(services.AgendaError, match="no consent in force to share"):
        services.add_to_agenda(meeting, no_consent, NEW, coordinator)
    review = _open_case(make_ready_case, coordinator, "Cara", "Fox")
    share = case_services.forum_sharing_consent(review)
    case_services.withdraw_consent(share, date(2026, 11, 20), "", coordinator)
    with pytest.raises(services.AgendaError, match="no consent in force to share"):
        services.add_to_agenda(meeting, review, REVIEW, coordinator)


def test_a_case_from_another_district_is_refused(
    meeting, make_ready_case, make_district, make_user
):
    from maf.auth.models import Role

    melton = make_district("Melton")
    melton_coordinator = make_user(Role.COORDINATOR, districts=[melton])
    case = make_ready_case(district=melton, user=melton_coordinator)
    with pytest.raises(services.AgendaError, match="another district"):
        services.add_to_agenda(meeting, case, NEW, melton_coordinator)


def test_reordering_swaps_neighbours(meeting, make_ready_case, coordinator):
    a, b, c = (
        services.add_to_agenda(meeting, make_ready_case(name, "Lee"), NEW, coordinator)
        for name in ("Amy", "Ben", "Cara")
    )
    services.move_item(c, -1, coordinator)
    services.move_item(a, +1, coordinator)
    services.move_item(a, +1, coordinator)
    services.move_item(a, +1, coordinator)  # already last: nothing happens
    assert [i.case.child.given_name for i in services.scheduled_items(meeting)] == [
        "Cara",
        "Ben",
        "Amy",
    ]


def test_move_to_next_meeting_keeps_the_history(
    make_meeting, make_forum, make_ready_case, coordinator
):
    forum = make_forum()
    first = make_meeting(date(2027, 1, 12), forum=forum)
    second = make_meeting(date(2027, 4, 13), forum=forum)
    case = make_ready_case()
    item = services.add_to_agenda(first, case, NEW, coordinator)
    moved = services.move_to_next_meeting(item, coordinator)
    assert moved.meeting == second and moved.moved_from == item and item.moved_to == moved
    assert item.status == ItemStatus.MOVED
    assert services.scheduled_items(first) == [] and services.scheduled_items(second) == [moved]
    assert case.status == CaseStatus.ON_AGENDA
    with pytest.raises(services.AgendaError, match="no later meeting"):
        services.move_to_next_meeting(moved, coordinator)


def test_move_to_a_full_next_meeting_is_refused_and_nothing_changes(
    make_meeting, make_forum, make_ready_case, coordinator
):
    forum = make_forum(new_case_capacity=1)
    first = make_meeting(date(2027, 1, 12), forum=forum)
    second = make_meeting(date(2027, 4, 13), forum=forum)
    services.add_to_agenda(second, make_ready_case("Amy", "Lee"), NEW, coordinator)
    item = services.add_to_agenda(first, make_ready_case("Ben", "Ward"), NEW, coordinator)
    with pytest.raises(services.AgendaError, match="already has 1 new case"):
        services.move_to_next_meeting(item, coordinator)
    db.session.rollback()
    assert item.status == ItemStatus.SCHEDULED and item.meeting == first


def test_reviews_carried_forward(make_meeting, make_forum, make_ready_case, coordinator):
    forum = make_forum()
    previous = make_meeting(date(2026, 10, 13), forum=forum)
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    discussed = make_ready_case("Amy", "Lee")
    services.add_to_agenda(previous, discussed, NEW, coordinator)
    discussed.status = CaseStatus.OPEN
    due = _open_case(make_ready_case, coordinator, "Ben", "Ward")
    due.next_review_on = date(2027, 1, 5)
    not_due = _open_case(make_ready_case, coordinator, "Cara", "Fox")
    not_due.next_review_on = date(2027, 3, 1)
    closed = _open_case(make_ready_case, coordinator, "Dan", "Ng")
    closed.next_review_on, closed.status = date(2027, 1, 1), CaseStatus.CLOSED
    db.session.commit()
    proposals = {p.case.child.given_name: p.reasons for p in services.review_proposals(meeting)}
    assert proposals == {
        "Amy": ("Discussed at the meeting on 13 October 2026",),
        "Ben": ("Review due by this meeting",),
    }
    services.add_to_agenda(meeting, due, REVIEW, coordinator)
    assert [p.case for p in services.review_proposals(meeting)] == [discussed]
    assert due not in services.sign_off_candidates(meeting)
    assert not_due in services.sign_off_candidates(meeting)


def test_builder_page_adds_from_the_ready_queue_and_shows_refusals_beside_the_case(
    client, coordinator, sign_in, make_meeting, make_forum, make_ready_case
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=1))
    amy, ben = make_ready_case("Amy", "Lee"), make_ready_case("Ben", "Ward")
    sign_in(coordinator)
    page = client.get(f"/meetings/{meeting.id}/agenda/build")
    assert page.status_code == 200 and "Amy Lee" in page.text and "Ben Ward" in page.text
    token = csrf_token_from(page.text)
    added = client.post(
        f"/meetings/{meeting.id}/agenda/selected",
        data={"csrf_token": token, "case": amy.id, f"kind-{amy.id}": "new_case"},
    )
    assert added.status_code == 302
    refused = client.post(
        f"/meetings/{meeting.id}/agenda/selected",
        data={"csrf_token": token, "case": ben.id, f"kind-{ben.id}": "new_case"},
    )
    assert refused.status_code == 409
    assert f'href="#case-{ben.id}"' in refused.text
    assert "already has 1 new case" in refused.text
    page = client.get(f"/meetings/{meeting.id}/agenda/build").text
    assert "09:30–09:50" in page
