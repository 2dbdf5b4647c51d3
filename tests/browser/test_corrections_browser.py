"""A coordinator joins two records through the existing-CAF check, sees it on the timeline,
undoes it and finds both records back; then corrects a date of birth (issue 16 point 4)."""

from datetime import date

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.cases.models import Case, Child
from maf.extensions import db


def test_merge_undo_and_correct_in_the_browser(
    page, coordinator, make_case, need_statements, sign_in_as, axe_violations
):
    earlier = make_case(
        "Jonathan", "Smith", date(2013, 9, 1), "LE11 3TU", needs=need_statements[:1]
    )
    newer = make_case("Jon", "Smith", date(2013, 9, 1), "LE11 5AB", address="4 Forest Road")
    newer_child_id = newer.child_id
    sign_in_as(coordinator)

    # The existing-CAF check offers Jonathan: the coordinator (wrongly) says same child.
    page.goto(f"/cases/{newer.id}")
    page.get_by_role("group", name="Is Jonathan Smith the same child?").get_by_label(
        "Same child", exact=True
    ).check()
    page.get_by_role("button", name="Save decision about Jonathan Smith").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jonathan Smith")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"added to case {earlier.id}"
    )

    page.get_by_role("link", name="Everything that has happened on this case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Timeline")
    expect(page.get_by_role("main")).to_contain_text("Same child: records joined")

    # Undo it from the history of the child's details.
    page.goto(f"/cases/{earlier.id}")
    page.get_by_role("link", name="History of the child's details: corrections and merges").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("History of Jonathan Smith's details")
    assert axe_violations() == []
    page.get_by_role("link", name="Not the same child: undo this merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Undo the merge of Jon Smith's record"
    )
    assert axe_violations() == []
    page.get_by_role("button", name="Separate the records").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why these are not the same child"
    )
    assert axe_violations() == []
    page.get_by_label("Why are these not the same child?").fill(
        "Different boys: Jon's date of birth was confirmed by his school"
    )
    page.get_by_role("button", name="Separate the records").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The records have been separated: Jon Smith has their own record again"
    )

    db.session.expire_all()
    assert db.session.get(Child, newer_child_id).full_name == "Jon Smith"
    assert db.session.get(Case, newer.id).child_id == newer_child_id
    page.goto(f"/cases/{newer.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jon Smith")
    page.goto(f"/cases/{earlier.id}/timeline")
    expect(page.get_by_role("main")).to_contain_text("Not the same child: records separated")
    page.goto(f"/cases/{newer.id}/timeline")
    expect(page.get_by_role("main")).to_contain_text("Not the same child: records separated")

    # Correct Jon's date of birth.
    page.goto(f"/cases/{newer.id}")
    page.get_by_role("link", name="Correct the child's details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct Jon Smith's details")
    assert axe_violations() == []
    page.locator("#date_of_birth-day").fill("9")
    page.locator("#date_of_birth-month").fill("1")
    page.get_by_label("Why are these details being corrected?").fill(
        "Day and month swapped at intake"
    )
    page.get_by_role("button", name="Save the corrections").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("History of Jon Smith's details")
    expect(page.get_by_role("main")).to_contain_text("9 January 2013")
    page.goto(f"/cases/{newer.id}/timeline")
    expect(page.get_by_role("main")).to_contain_text(
        "Date of birth corrected from 1 September 2013 to 9 January 2013 by Priya Shah"
    )
    assert axe_violations() == []


def test_a_coordinator_of_another_district_cannot_open_the_correction(
    page, make_case, make_user, make_district, sign_in_as
):
    case = make_case()
    sign_in_as(make_user(Role.COORDINATOR, districts=[make_district("Melton")]))
    response = page.goto(f"/children/{case.child_id}/correct")
    assert response.status == 404
