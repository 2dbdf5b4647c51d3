"""The chair records a whole meeting (3 new cases and 2 reviews) with the keyboard, item by
item on the record's own pages, completes it, and the minutes are approved and circulated."""

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases.models import CaseStatus
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Outcome
from tests.conftest import at_the_meeting

CHILDREN = [
    ("Amy", "Lee", date(2013, 2, 1), "LE11 1AA"),
    ("Ben", "Ward", date(2014, 3, 2), "LE12 2BB"),
    ("Cara", "Fox", date(2012, 4, 3), "LE13 3CC"),
    ("Dan", "Ng", date(2011, 5, 4), "LE14 4DD"),
    ("Eve", "Moss", date(2015, 6, 5), "LE15 5EE"),
]


def _press(locator, key):
    locator.focus()
    locator.press(key)


def _type(locator, text):
    locator.focus()
    locator.page.keyboard.type(text)


def test_record_a_whole_meeting_with_the_keyboard_and_circulate_the_minutes(
    page,
    coordinator,
    make_forum,
    make_meeting,
    make_ready_case,
    make_agency,
    sign_in_as,
    axe_violations,
):
    forum = make_forum()
    january = make_meeting(date(2027, 1, 12), forum=forum)
    april = make_meeting(date(2027, 4, 6), forum=forum)
    member = add_member(
        forum,
        name="Paul Dennis",
        email="paul@example.org",
        agency=make_agency(name="Police"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    cases = [make_ready_case(*child) for child in CHILDREN]
    # Two cases were discussed in January: they come back to April as reviews.
    for case in cases[3:]:
        item = add_to_agenda(january, case, ItemKind.NEW_CASE, coordinator)
        outcomes.save_item_record(
            item,
            outcomes.ItemDetails(
                outcome=Outcome.CONTINUE,
                next_review_on=date(2027, 4, 6),
                lead=outcomes.LeadDetails(
                    LeadKind.PRACTITIONER, "Zoë Brennan", True, "zoe@example.org"
                ),
            ),
            coordinator,
        )
    at_the_meeting(january)
    outcomes.complete_meeting(january, coordinator)
    at_the_meeting(april)  # the chair records April in the room, as it happens
    items = [add_to_agenda(april, case, ItemKind.NEW_CASE, coordinator) for case in cases[:3]]
    items += [add_to_agenda(april, case, ItemKind.REVIEW, coordinator) for case in cases[3:]]

    sign_in_as(forum.chair)
    page.goto(f"/meetings/{april.id}/record")
    assert axe_violations() == []
    with page.expect_navigation():
        _press(page.get_by_role("link", name="Record attendance"), "Enter")
    _press(page.locator(f"#member-{member.id}-present"), "Space")
    with page.expect_navigation():
        _press(page.get_by_role("button", name="Save attendance"), "Enter")
    expect(page.get_by_text("Attendance saved.")).to_be_visible()
    expect(page.get_by_text("1 present, 0 apologies, 0 guests.")).to_be_visible()

    with page.expect_navigation():
        _press(page.get_by_role("link", name="Amy Lee"), "Enter")
    for number, item in enumerate(items):
        expect(page.get_by_role("heading", level=1)).to_have_text(item.case.child.full_name)
        _type(page.get_by_label("Discussion"), f"Discussed item {number + 1}.")
        if item.kind == ItemKind.NEW_CASE:
            _press(page.get_by_label("Practitioner", exact=True), "Space")
            _type(page.get_by_label("Lead professional's name"), "Aisha Rahman")
            _press(page.get_by_label("They agreed to be lead professional"), "Space")
            _type(page.get_by_label("Action 1: what"), "Arrange mentoring")
            _type(page.get_by_label("Action 1: owner", exact=True), "Aisha Rahman")
            for part, value in (("day", "4"), ("month", "5"), ("year", "2027")):
                _type(page.locator(f"#actions-0-due-{part}"), value)
        if number == len(items) - 1:
            _press(page.get_by_label("Close at sign-off"), "Space")
            _press(page.get_by_label("Why the CAF is closing"), "ArrowDown")
            button = "Save and go back to all items"
        else:
            _press(page.get_by_label("Continue, with a review"), "Space")
            button = "Save and go to next item"
        with page.expect_navigation():
            _press(page.get_by_role("button", name=button), "Enter")
        expect(page.get_by_text(f"Saved: {item.case.child.full_name}.")).to_be_visible()

    expect(page.locator(".govuk-task-list__status", has_text="Saved")).to_have_count(5)
    with page.expect_navigation():
        _press(page.get_by_role("button", name="Complete the meeting record"), "Enter")
    expect(page.get_by_text("The record is complete.")).to_be_visible()
    db.session.expire_all()
    assert [c.status for c in cases] == [CaseStatus.OPEN] * 4 + [CaseStatus.CLOSED]
    assert outcomes.current_lead(cases[0]).name == "Aisha Rahman"

    page.get_by_role("link", name="Approve and circulate the minutes").click()
    expect(page.get_by_role("button", name="Approve version 1")).to_be_visible()
    assert axe_violations() == []
    with page.expect_navigation():
        _press(page.get_by_role("button", name="Approve version 1"), "Enter")
    with page.expect_navigation():
        _press(page.get_by_role("button", name="Circulate version 1"), "Enter")
    expect(page.get_by_text("The minutes are on their way")).to_be_visible()
    sent = db.session.scalars(
        select(OutboxMessage.recipient_email).where(OutboxMessage.dedupe_key.like("minutes:%"))
    ).all()
    assert set(sent) == {"paul@example.org", forum.chair.email}
