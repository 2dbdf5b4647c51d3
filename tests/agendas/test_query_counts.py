"""The SQL statements a page sends do not grow with what it lists (issue 9: "SQL statements per
request ... do not grow with the number of agenda items").

A query per item makes a full agenda many times slower than a short one on a busy server, and
it only shows once a forum's agendas fill up. bench/pages.py measures the time; these tests
hold the shape, counting the statements sent while a signed-in coordinator loads each page.
"""

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases.models import CaseStatus
from maf.demo import FAMILY_NAMES, GIVEN_NAMES
from maf.extensions import db
from maf.outcomes.models import Action, LeadKind, LeadProfessional

MEETING_DAY = date(2027, 1, 12)


def statements(client, path: str) -> int:
    """Statements sent while serving a GET of `path`, after a first GET has warmed up."""
    assert client.get(path).status_code == 200
    connection = db.engine  # the test's one connection, which every request's session uses
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(connection, "before_cursor_execute", counted)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", counted)
    return count


@pytest.fixture
def child():
    """A different child each time, so no two look alike to the existing-CAF check."""
    numbers = itertools.count()

    def make() -> tuple[str, str, date]:
        number = next(numbers)
        return (
            GIVEN_NAMES[number % len(GIVEN_NAMES)],
            FAMILY_NAMES[number % len(FAMILY_NAMES)],
            date(2009, 1, 1) + timedelta(days=41 * number),
        )

    return make


@pytest.fixture
def open_case(make_case, child, school):
    """A case the forum took on earlier, due a review at the meeting, with its lead
    professional and an outstanding action (what a review shows)."""

    def make():
        case = make_case(*child())
        case.status, case.next_review_on = CaseStatus.OPEN, MEETING_DAY
        db.session.add_all(
            [
                LeadProfessional(
                    case_id=case.id,
                    kind=LeadKind.PRACTITIONER,
                    name="Zoë Brennan",
                    agency=school,
                    agreed=True,
                    starts_on=date(2026, 10, 13),
                ),
                Action(
                    case_id=case.id,
                    description="Offer a health and wellbeing check",
                    owner_name="Zoë Brennan",
                    owner_agency=school,
                    due_on=date(2026, 11, 10),
                ),
            ]
        )
        db.session.commit()
        return case

    return make


@pytest.fixture
def meeting(make_meeting):
    return make_meeting(MEETING_DAY)


def test_agenda_page_sends_as_many_statements_for_40_items_as_for_5(
    client, sign_in, coordinator, make_meeting, make_ready_case, open_case, child
):
    reviews = [open_case() for _ in range(30)]
    short = make_meeting(MEETING_DAY)
    full = make_meeting(date(2027, 4, 13), forum=short.forum)
    for meeting, new_cases, review_count in ((short, 1, 4), (full, 10, 30)):
        for _ in range(new_cases):
            add_to_agenda(meeting, make_ready_case(*child()), ItemKind.NEW_CASE, coordinator)
        for case in reviews[:review_count]:
            add_to_agenda(meeting, case, ItemKind.REVIEW, coordinator)
    sign_in(coordinator)

    assert statements(client, f"/meetings/{full.id}/agenda") == statements(
        client, f"/meetings/{short.id}/agenda"
    )


def test_agenda_builder_sends_as_many_statements_for_15_reviews_proposed_as_for_3(
    client, sign_in, coordinator, meeting, make_ready_case, open_case, child
):
    """Each proposed review shows its lead professional and outstanding actions: looked up
    for all the proposals at once, not one by one."""
    add_to_agenda(meeting, make_ready_case(*child()), ItemKind.NEW_CASE, coordinator)
    for _ in range(3):
        open_case()
    sign_in(coordinator)
    page = f"/meetings/{meeting.id}/agenda/build"
    with_three = statements(client, page)
    for _ in range(12):
        open_case()

    assert client.get(page).text.count("Offer a health and wellbeing check") == 15
    assert statements(client, page) == with_three


def test_queue_sends_as_many_statements_for_15_cases_as_for_3(
    client, sign_in, coordinator, make_ready_case, child
):
    for _ in range(3):
        make_ready_case(*child())
    sign_in(coordinator)
    with_three = statements(client, "/cases/")
    for _ in range(12):
        make_ready_case(*child())

    assert statements(client, "/cases/") == with_three
