"""A meeting's capacity at its exact edge (seed 004: "Typical MAF meetings may consider up to 10
new cases and 30 reviews"; DESIGN.md: the capacity is set per forum).

"Up to" includes the limit itself: the meeting takes its last place and refuses the one after.
Each limit is tried one below, at, and one past it, for new cases and for reviews (sign-offs
count as reviews), at a forum's own small limits and at the seed's defaults.
"""

from datetime import date

import pytest

from maf.agendas.models import ItemKind
from maf.agendas.services import AgendaError, add_to_agenda, scheduled_items
from maf.cases.models import CaseStatus
from maf.extensions import db
from tests.conftest import csrf_token_from

NEW, REVIEW, SIGN_OFF = ItemKind.NEW_CASE, ItemKind.REVIEW, ItemKind.SIGN_OFF

# Different children (names and birthdays), so none looks like another to the existing-CAF check.
GIVEN = [
    "Amy", "Ben", "Cara", "Dev", "Ella", "Finn", "Gita", "Hugo", "Isla", "Jack", "Kira",
    "Leon", "Maya", "Noah", "Orla", "Pete", "Quin", "Rosa", "Sami", "Tara", "Umar",
    "Vera", "Wade", "Xena", "Yusuf", "Zara", "Abel", "Bea", "Cole", "Dina", "Eric",
]  # fmt: skip
FAMILY = [
    "Lee", "Ward", "Fox", "Ng", "Okoro", "Patel", "Quayle", "Reid", "Shaw", "Tran", "Underwood",
    "Vance", "Wong", "Young", "Zielinski", "Abbott", "Barnes", "Carver", "Dawson", "Ellis",
    "Fraser", "Gill", "Hughes", "Iqbal", "Jensen", "Kowal", "Lowe", "Mills", "Nash", "Owens",
    "Price",
]  # fmt: skip


@pytest.fixture
def ready_cases(make_ready_case):
    """`ready_cases(n)`: n different children ready for a forum; `open=True` for reviews."""
    made = iter(range(len(GIVEN)))

    def make(count: int, open: bool = False):
        cases = []
        for _ in range(count):
            number = next(made)
            case = make_ready_case(
                GIVEN[number],
                FAMILY[number],
                date(2011 + number % 5, 1 + number % 12, 1 + number),
                "LE11 3TU",
            )
            if open:  # discussed at an earlier forum, so it can be reviewed or signed off
                case.status = CaseStatus.OPEN
            cases.append(case)
        db.session.commit()
        return cases

    return make


def _names(meeting) -> list[str]:
    return [item.case.child.given_name for item in scheduled_items(meeting)]


def test_new_cases_up_to_a_forums_own_limit_are_taken_and_the_next_is_refused(
    make_meeting, make_forum, ready_cases, coordinator
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=3))
    amy, ben, cara, dev = ready_cases(4)
    add_to_agenda(meeting, amy, NEW, coordinator)
    add_to_agenda(meeting, ben, NEW, coordinator)

    add_to_agenda(meeting, cara, NEW, coordinator)  # one place left: it is the last one
    assert _names(meeting) == ["Amy", "Ben", "Cara"]

    with pytest.raises(AgendaError) as refused:
        add_to_agenda(meeting, dev, NEW, coordinator)
    db.session.rollback()
    assert str(refused.value) == (
        "This meeting already has 3 new cases, the forum's limit: add the case to a later meeting"
    )
    assert _names(meeting) == ["Amy", "Ben", "Cara"]
    assert dev.status == CaseStatus.READY_FOR_FORUM


def test_reviews_and_sign_offs_up_to_a_forums_own_limit_are_taken_and_the_next_is_refused(
    make_meeting, make_forum, ready_cases, coordinator
):
    meeting = make_meeting(forum=make_forum(review_capacity=3))
    amy, ben, cara, dev, ella = ready_cases(5, open=True)
    add_to_agenda(meeting, amy, REVIEW, coordinator)
    add_to_agenda(meeting, ben, SIGN_OFF, coordinator)

    add_to_agenda(meeting, cara, REVIEW, coordinator)  # one place left: it is the last one
    assert _names(meeting) == ["Amy", "Ben", "Cara"]

    for late, kind in ((dev, REVIEW), (ella, SIGN_OFF)):
        with pytest.raises(AgendaError) as refused:
            add_to_agenda(meeting, late, kind, coordinator)
        db.session.rollback()
        assert str(refused.value) == (
            "This meeting already has 3 reviews, the forum's limit: add the review to a later "
            "meeting"
        )
    assert _names(meeting) == ["Amy", "Ben", "Cara"]


def test_a_forum_taking_one_review_takes_exactly_one(
    make_meeting, make_forum, ready_cases, coordinator
):
    meeting = make_meeting(forum=make_forum(review_capacity=1))
    amy, ben = ready_cases(2, open=True)
    add_to_agenda(meeting, amy, REVIEW, coordinator)
    with pytest.raises(AgendaError, match="^This meeting already has 1 review, the forum's limit"):
        add_to_agenda(meeting, ben, REVIEW, coordinator)


def test_full_reviews_do_not_stop_a_new_case_nor_full_new_cases_a_review(
    make_meeting, make_forum, ready_cases, coordinator
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=1, review_capacity=1))
    amy, ben = ready_cases(2)
    cara, dev = ready_cases(2, open=True)
    add_to_agenda(meeting, amy, NEW, coordinator)
    add_to_agenda(meeting, cara, REVIEW, coordinator)
    assert _names(meeting) == ["Amy", "Cara"]
    with pytest.raises(AgendaError, match="already has 1 new case,"):
        add_to_agenda(meeting, ben, NEW, coordinator)
    db.session.rollback()
    with pytest.raises(AgendaError, match="already has 1 review,"):
        add_to_agenda(meeting, dev, REVIEW, coordinator)


def test_at_the_seeds_defaults_the_10th_new_case_and_30th_review_fit_and_the_next_do_not(
    make_meeting, make_forum, ready_cases, coordinator
):
    """Seed 004: "up to 10 new cases and 30 reviews" (a new forum's defaults)."""
    forum = make_forum(length_minutes=480)  # a long day, so nothing is refused for time
    assert (forum.new_case_capacity, forum.review_capacity) == (10, 30)
    meeting = make_meeting(forum=forum)
    new_cases = ready_cases(11)
    reviews = ready_cases(20, open=True)
    # 30 reviews need 30 open cases; the new cases' first ten, once open, are reused on a
    # second meeting so the test stays at 31 children.
    for case in new_cases[:10]:
        add_to_agenda(meeting, case, NEW, coordinator)
    with pytest.raises(AgendaError, match="^This meeting already has 10 new cases,"):
        add_to_agenda(meeting, new_cases[10], NEW, coordinator)
    db.session.rollback()
    assert len(scheduled_items(meeting)) == 10

    later = make_meeting(date(2027, 4, 13), forum=forum)
    for case in new_cases[:10]:
        case.status = CaseStatus.OPEN
    db.session.commit()
    for case in reviews + new_cases[:9]:
        add_to_agenda(later, case, REVIEW, coordinator)
    add_to_agenda(later, new_cases[9], SIGN_OFF, coordinator)  # the 30th
    assert len(scheduled_items(later)) == 30
    new_cases[10].status = CaseStatus.OPEN
    db.session.commit()
    with pytest.raises(AgendaError, match="^This meeting already has 30 reviews,"):
        add_to_agenda(later, new_cases[10], REVIEW, coordinator)


def test_the_builder_takes_the_last_review_and_then_says_the_meeting_is_full(
    client, sign_in, make_meeting, make_forum, ready_cases, coordinator
):
    meeting = make_meeting(forum=make_forum(review_capacity=2))
    amy, ben, cara = ready_cases(3, open=True)
    add_to_agenda(meeting, amy, REVIEW, coordinator)
    sign_in(coordinator)
    token = csrf_token_from(client.get(f"/meetings/{meeting.id}/agenda/build").text)

    def add(case):
        return client.post(
            f"/meetings/{meeting.id}/agenda/selected",
            data={"csrf_token": token, "case": case.id, f"kind-{case.id}": "review"},
        )

    assert add(ben).status_code == 302  # the last place
    refused = add(cara)
    assert refused.status_code == 409
    assert (
        "This meeting already has 2 reviews, the forum&#39;s limit: add the review to a later "
        "meeting" in refused.text
    )
    assert _names(meeting) == ["Amy", "Ben"]
