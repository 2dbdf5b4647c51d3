"""The meeting record in the room, in Chromium (issue 13, item 4): typing is never lost by
moving to another item (a warning, and the draft put back), rows are added without
JavaScript, the agency picker is GOV.UK's accessible autocomplete, and the chair and the
coordinator saving the same item in two browsers are told rather than overwritten."""

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda, timed_agenda
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from maf.outcomes import services as outcomes
from maf.outcomes.models import AgreedService
from tests.conftest import PASSWORD

CHILDREN = [
    ("Amy", "Lee", date(2013, 2, 1), "LE11 1AA"),
    ("Ben", "Ward", date(2014, 3, 2), "LE12 2BB"),
]


@pytest.fixture
def meeting(coordinator, make_forum, make_meeting, make_ready_case, make_agency):
    forum = make_forum()
    january = make_meeting(date(2027, 1, 12), forum=forum)
    make_meeting(date(2027, 4, 6), forum=forum)
    for number in range(22):  # a county's agencies: more than a select suits
        make_agency(name=f"Agency {number:02d}")
    add_member(
        forum,
        name="Paul Dennis",
        email="paul@example.org",
        agency=make_agency(name="Leicestershire Police"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    for child in CHILDREN:
        add_to_agenda(january, make_ready_case(*child), ItemKind.NEW_CASE, coordinator)
    return january


def items_of(meeting):
    return [slot.item for slot in timed_agenda(meeting).slots if slot.item]


def item_path(item) -> str:
    return f"/meetings/{item.meeting_id}/record/items/{item.id}"


def sign_in_context(context, user):
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page


def test_leaving_an_item_with_unsaved_typing_warns_and_the_draft_comes_back(
    page, sign_in_as, meeting
):
    """Issue 13: text typed in item A was gone when the chair moved on, with no warning."""
    first, second = items_of(meeting)
    sign_in_as(meeting.forum.chair)
    page.goto(item_path(first))
    discussion = page.get_by_label("Discussion")
    discussion.click()
    page.keyboard.type("Mum says attendance is better since the mentor started")

    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Next item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amy Lee")
    assert dialogs == ["beforeunload"], "leaving with unsaved typing asks first"
    expect(discussion).to_have_value("Mum says attendance is better since the mentor started")

    # Leaving anyway, then coming back: what was typed is put back, and said to be unsaved.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("link", name="Next item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben Ward")
    with page.expect_navigation():
        page.get_by_role("link", name="Previous item").click()
    expect(page.get_by_label("Discussion")).to_have_value(
        "Mum says attendance is better since the mentor started"
    )
    expect(
        page.get_by_text("What you typed before leaving this page has been put back")
    ).to_be_visible()
    assert outcomes.record_for(first) is None, "a draft is not a save"

    # Saving it: saved, and nothing is put back after that.
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved: Amy Lee.")).to_be_visible()
    page.reload()
    expect(
        page.get_by_text("What you typed before leaving this page has been put back")
    ).to_be_hidden()
    db.session.expire_all()
    assert outcomes.record_for(first).discussion == (
        "Mum says attendance is better since the mentor started"
    )


def test_a_row_added_and_left_unsaved_comes_back_with_the_draft(page, sign_in_as, meeting):
    """The draft can hold more rows than the page has on return: they are made again."""
    first, _ = items_of(meeting)
    sign_in_as(meeting.forum.chair)
    page.goto(item_path(first))
    page.get_by_label("Action 1: what").fill("Health check")
    with page.expect_navigation():
        page.get_by_role("button", name="Add another action").click()
    page.get_by_label("Action 2: what").click()
    page.keyboard.type("Refer to mentoring")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("link", name="Next item").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Previous item").click()
    expect(page.get_by_label("Action 1: what")).to_have_value("Health check")
    expect(page.get_by_label("Action 2: what")).to_have_value("Refer to mentoring")
    expect(page.get_by_role("group", name="Action 2", exact=True)).to_be_visible()


def test_add_another_works_without_javascript(browser, live_server, coordinator, meeting):
    first, _ = items_of(meeting)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = sign_in_context(context, coordinator)
        page.goto(item_path(first))
        page.get_by_label("Discussion").fill("Typed before adding a row")
        page.get_by_label("Service 1: agency").select_option(label="Leicestershire Police")
        page.get_by_label("Service 1: what the agency will do").fill("Neighbourhood officer visits")
        with page.expect_navigation():
            page.get_by_role("button", name="Add another service").click()
        expect(page.get_by_label("Discussion")).to_have_value("Typed before adding a row")
        expect(page.get_by_label("Service 1: what the agency will do")).to_have_value(
            "Neighbourhood officer visits"
        )
        second = page.get_by_label("Service 2: what the agency will do")
        expect(second).to_be_focused()  # where the new row is, for a keyboard user
        page.get_by_label("Service 2: agency").select_option(label="Agency 03")
        second.fill("Family support worker")
        with page.expect_navigation():
            page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Saved: Amy Lee.")).to_be_visible()
    finally:
        context.close()
    db.session.expire_all()
    saved = db.session.scalars(select(AgreedService).order_by(AgreedService.id)).all()
    assert [(s.agency.name, s.what) for s in saved] == [
        ("Leicestershire Police", "Neighbourhood officer visits"),
        ("Agency 03", "Family support worker"),
    ]


def test_the_agency_picker_is_an_autocomplete_used_with_the_keyboard(
    page, sign_in_as, meeting, axe_violations
):
    first, _ = items_of(meeting)
    sign_in_as(meeting.forum.chair)
    page.goto(f"/meetings/{meeting.id}/record")
    assert axe_violations() == []
    page.goto(f"/meetings/{meeting.id}/record/attendance")
    assert axe_violations() == []
    page.goto(item_path(first))
    assert axe_violations() == []

    picker = page.get_by_role("combobox", name="Service 1: agency")
    picker.focus()
    page.keyboard.type("police")
    expect(page.get_by_role("option", name="Leicestershire Police")).to_be_visible()
    page.keyboard.press("Enter")
    expect(picker).to_have_value("Leicestershire Police")
    page.keyboard.press("Tab")
    page.keyboard.type("Neighbourhood officer visits")
    assert axe_violations() == []
    with page.expect_navigation():
        page.keyboard.press("Enter")  # in a box: saves (not "Add another service")
    expect(page.get_by_text("Saved: Amy Lee.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amy Lee")
    db.session.expire_all()
    (service,) = outcomes.record_for(first).services
    assert (service.agency.name, service.what) == (
        "Leicestershire Police",
        "Neighbourhood officer visits",
    )


def test_the_chair_and_the_coordinator_saving_the_same_item_in_two_browsers(
    browser, live_server, coordinator, meeting
):
    """Issue 13: the coordinator's save from a page opened earlier wiped the chair's text."""
    first, _ = items_of(meeting)
    contexts = [browser.new_context(base_url=live_server) for _ in range(2)]
    try:
        chair = sign_in_context(contexts[0], meeting.forum.chair)
        coordinators = sign_in_context(contexts[1], coordinator)
        for page in (chair, coordinators):
            page.goto(item_path(first))
        chair.get_by_label("Discussion").fill("School report shows progress")
        with chair.expect_navigation():
            chair.get_by_role("button", name="Save", exact=True).click()
        coordinators.get_by_label("Notes on the outcome").fill("Parenting course offered")
        with coordinators.expect_navigation():
            coordinators.get_by_role("button", name="Save", exact=True).click()
        expect(coordinators.get_by_text("Margaret Okafor saved changes at")).to_be_visible()
        expect(coordinators.get_by_role("row", name="Discussion")).to_contain_text(
            "School report shows progress"
        )
        expect(coordinators.get_by_label("Notes on the outcome")).to_have_value(
            "Parenting course offered"
        )
        # Having taken the chair's discussion in, the coordinator saves on purpose.
        coordinators.get_by_label("Discussion").fill("School report shows progress")
        with coordinators.expect_navigation():
            coordinators.get_by_role("button", name="Save", exact=True).click()
        expect(coordinators.get_by_text("Saved: Amy Lee.")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
    db.session.expire_all()
    record = outcomes.record_for(first)
    assert (record.discussion, record.outcome_notes) == (
        "School report shows progress",
        "Parenting course offered",
    )
