"""axe-core finds no violations on any page a user of each role can reach."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from maf.auth.models import Role
from tests.conftest import at_the_meeting

MAX_PAGES = 60


def _crawl(page, axe_violations, start: str = "/") -> dict[str, list]:
    """Visit every same-site page reachable by links from `start`; axe each one."""
    seen, queue, failures = set(), [start], {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(path)
        violations = axe_violations()
        if violations:
            failures[path] = violations
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            downloads = (".ics", ".docx", ".csv")
            same_site = parts.netloc == urlsplit(page.url).netloc
            if (
                same_site
                and not parts.path.startswith("/static")
                and not parts.path.endswith(downloads)
            ):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert seen, "nothing was crawled"
    return failures


@pytest.fixture
def districts(make_district, make_agency):
    charnwood, melton = make_district("Charnwood"), make_district("Melton")
    make_agency(name="Loughborough Woodgate High School", district=charnwood)
    make_agency(name="Specialist CAMHS", district=None)
    return charnwood, melton


@pytest.mark.parametrize(
    "roles",
    [
        (Role.COORDINATOR,),
        (Role.CHAIR,),
        (Role.PRACTITIONER,),
        (Role.ADMIN,),
        (Role.PRACTITIONER, Role.CHAIR),
    ],
    ids=lambda roles: "+".join(roles),
)
def test_every_page_a_role_reaches_has_no_axe_violations(
    page, make_user, sign_in_as, axe_violations, districts, roles
):
    sign_in_as(make_user(*roles, districts=districts[:1], name="Siân O'Neill-Łukasz"))
    assert _crawl(page, axe_violations) == {}


def test_signed_out_and_error_pages_have_no_axe_violations(
    page, make_user, sign_in_as, axe_violations, districts
):
    page.goto("/sign-in")
    assert axe_violations() == []
    sign_in_as(make_user(Role.COORDINATOR), password="wrong password")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert axe_violations() == [], "sign-in page showing errors"
    sign_in_as(make_user(Role.PRACTITIONER, districts=districts[:1]))
    for path in ("/no-such-page", "/agencies", f"/districts/{districts[1].id}"):
        page.goto(path)
        assert axe_violations() == [], path


def _assert_clean(page, axe_violations, label):
    violations = axe_violations()
    assert violations == [], f"{label}: {violations}"


def test_case_pages_forms_and_their_error_states_have_no_axe_violations(
    page, coordinator, make_case, make_user, sign_in_as, axe_violations, tmp_path
):
    make_case("Jonathan", "Smith")
    case = make_case("Jon", "Smith")  # has an existing-CAF candidate to decide on
    share = case.consents[-1]
    sign_in_as(coordinator)
    for path in (
        "/cases/",
        f"/cases/{case.id}",
        f"/cases/{case.id}/consents/new",
        f"/cases/{case.id}/consents/{share.id}/withdraw",
        f"/cases/{case.id}/sharing-without-consent",
        f"/cases/{case.id}/withdraw",
        "/cases/register",
    ):
        page.goto(path)
        _assert_clean(page, axe_violations, path)
        submit = page.locator("main form button[type=submit], main form input[type=submit]")
        if path != f"/cases/{case.id}" and submit.count():
            submit.last.click()  # submitted empty: the error state
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            _assert_clean(page, axe_violations, f"{path} with errors")

    bad_file = tmp_path / "register.csv"
    bad_file.write_text("given_name,family_name,date_of_birth,service\nAmy,Lee,31/02/2014,CIN\n")
    page.goto("/cases/register")
    page.get_by_label("CSV file from the statutory service").set_input_files(str(bad_file))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("main")).to_contain_text("Rows with problems")
    _assert_clean(page, axe_violations, "register import report")

    # Each click is followed by a wait for the page it leads to: axe run while the next
    # page is still loading reads a document that is not there yet.
    page.goto("/cases/new")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "safeguarding question unanswered")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("follow the safeguarding")
    _assert_clean(page, axe_violations, "safeguarding stop")
    page.goto("/cases/new")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record a completed")
    _assert_clean(page, axe_violations, "intake form")
    page.get_by_role("button", name="Save and run the checks").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "intake form with errors")


def test_need_statements_page_has_no_axe_violations(page, make_user, sign_in_as, axe_violations):
    sign_in_as(make_user(Role.ADMIN))
    page.goto("/cases/needs")
    _assert_clean(page, axe_violations, "need statements")
    page.get_by_role("button", name="Add need statement").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "need statements with errors")


def test_forum_and_agenda_pages_have_no_axe_violations(
    page, coordinator, make_meeting, make_ready_case, make_user, sign_in_as, axe_violations
):
    from datetime import date

    from maf.agendas.models import ItemKind
    from maf.agendas.services import add_to_agenda

    first = make_meeting(date(2027, 1, 12))
    make_meeting(date(2027, 4, 13), forum=first.forum)
    add_to_agenda(first, make_ready_case("Amy", "Lee"), ItemKind.NEW_CASE, coordinator)
    make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    make_user(Role.CHAIR, name="Another Chair")
    sign_in_as(coordinator)
    forum_id = first.forum_id
    for path in (
        "/forums",
        f"/forums/{forum_id}",
        f"/forums/{forum_id}/edit",
        "/forums/new",
        f"/meetings/{first.id}/edit",
        f"/meetings/{first.id}/cancel",
        f"/meetings/{first.id}/agenda/build",
        f"/meetings/{first.id}/agenda",
        f"/meetings/{first.id}/deliveries",
        "/account/calendar",
    ):
        page.goto(path)
        _assert_clean(page, axe_violations, path)

    page.goto("/forums/new")
    page.get_by_role("button", name="Save forum").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "forum form with errors")

    page.goto(f"/forums/{forum_id}")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "add member with errors")

    page.goto(f"/meetings/{first.id}/agenda/build")
    page.get_by_role("button", name="Circulate the agenda").click()
    expect(page.get_by_role("table", name="Who was sent what, and when")).to_be_visible()
    _assert_clean(page, axe_violations, "delivery log")

    page.goto(f"/meetings/{first.id}/cancel")
    page.get_by_label("Why is the meeting cancelled?").fill("Chair unwell")
    page.get_by_role("button", name="Cancel the meeting").click()
    expect(page.get_by_text("Move the items on this meeting's agenda").first).to_be_visible()
    _assert_clean(page, axe_violations, "cancel refused")


def test_follow_up_pages_have_no_axe_violations(
    page,
    coordinator,
    make_forum,
    make_meeting,
    make_ready_case,
    make_user,
    sign_in_as,
    axe_violations,
):
    from datetime import date

    from maf.agendas.models import ItemKind
    from maf.agendas.services import add_to_agenda
    from maf.outcomes import services as outcomes
    from maf.outcomes.models import LeadKind, Outcome
    from maf.outcomes.progress import request_updates, update_for

    lead = make_user(Role.PRACTITIONER, email="zoe@example.org", name="Zoë Brennan")
    forum = make_forum()
    january = make_meeting(date(2027, 1, 12), forum=forum)
    april = make_meeting(date(2027, 4, 6), forum=forum)
    case = make_ready_case()
    item = add_to_agenda(january, case, ItemKind.NEW_CASE, coordinator)
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            next_review_on=date(2027, 4, 6),
            lead=outcomes.LeadDetails(LeadKind.PRACTITIONER, lead.name, True, lead.email),
            actions=[
                outcomes.ActionDetails("Health check", lead.name, date(2027, 2, 1), lead.email)
            ],
        ),
        coordinator,
    )
    at_the_meeting(january)
    outcomes.complete_meeting(january, coordinator)
    add_to_agenda(april, case, ItemKind.REVIEW, coordinator)
    request_updates(april, coordinator)
    update = update_for(case, april)
    assert update is not None

    sign_in_as(lead)
    for path in ("/actions", "/my-cases", f"/cases/{case.id}/timeline", f"/progress/{update.id}"):
        page.goto(path)
        _assert_clean(page, axe_violations, path)
    page.get_by_role("button", name="Send the update").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "progress form with errors")

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(coordinator)
    for path in ("/cases/breaches", f"/cases/{case.id}", f"/meetings/{april.id}/record"):
        page.goto(path)
        _assert_clean(page, axe_violations, path)


def test_two_step_sign_in_pages_have_no_axe_violations(page, make_user, sign_in_as, axe_violations):
    import pyotp

    user = make_user(Role.COORDINATOR)
    sign_in_as(user)
    page.goto("/account/security")
    _assert_clean(page, axe_violations, "set-up")
    secret = page.locator("code").first.inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "set-up with an error")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#recovery-codes")).to_be_visible()
    _assert_clean(page, axe_violations, "recovery codes")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    _assert_clean(page, axe_violations, "code page")


def test_password_pages_and_their_errors_have_no_axe_violations(
    page, make_user, sign_in_as, axe_violations
):
    user = make_user(Role.CHAIR)
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_clean(page, axe_violations, "forgotten password with an error")
    page.get_by_label("Email address").fill(user.email)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    _assert_clean(page, axe_violations, "link sent")

    sign_in_as(user)
    page.goto("/account/password")
    page.get_by_label("Current password").fill("correct horse battery staple")
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("Confirm the new password").fill("too short")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator("#new_password-error")).to_be_visible()
    _assert_clean(page, axe_violations, "change password with an error")
    page.get_by_label("Current password").fill("correct horse battery staple")
    page.get_by_label("New password", exact=True).fill("marmalade lighthouse orbit")
    page.get_by_label("Confirm the new password").fill("marmalade lighthouse orbit")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-panel")).to_contain_text("Your new password is saved")
    _assert_clean(page, axe_violations, "password saved")
