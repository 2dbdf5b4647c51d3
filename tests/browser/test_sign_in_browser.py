"""A coordinator signs in with a real browser; a wrong password shows the GOV.UK error summary."""

from urllib.parse import urlsplit

from maf.auth.models import Role


def test_coordinator_signs_in_and_sees_the_dashboard(page, make_user, make_district, sign_in_as):
    coordinator = make_user(
        Role.COORDINATOR, name="Priya Shah", districts=[make_district("Charnwood")]
    )
    sign_in_as(coordinator)
    assert page.url.endswith("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Priya Shah"
    assert page.get_by_role("heading", name="CAFs waiting for checks").is_visible()
    assert page.title().startswith("Dashboard")


def test_wrong_password_shows_the_error_summary_focused(page, make_user, sign_in_as):
    user = make_user(Role.COORDINATOR)
    sign_in_as(user, password="not my password")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "There is a problem" in summary.inner_text()
    # GOV.UK Frontend's JavaScript (loaded as a module under our CSP) moves focus to the summary.
    page.wait_for_function("() => document.activeElement.classList.contains('govuk-error-summary')")
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "email"
    assert page.get_by_label("Email address").input_value() == user.email
    assert page.get_by_label("Password", exact=True).input_value() == ""


def test_sign_in_and_out_with_the_keyboard_alone(page, make_user):
    user = make_user(Role.PRACTITIONER, name="Zoë Brennan")
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == (
        "Skip to main content"
    )
    page.keyboard.press("Enter")
    focused_ids = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused_ids.append(page.evaluate("() => document.activeElement.id"))
        if focused_ids[-1] == "email":
            break
    assert focused_ids[-1] == "email"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert "Hello, Zoë Brennan" in page.inner_text("h1")

    sign_out = page.get_by_role("button", name="Sign out")
    sign_out.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in?signed_out=1")
    assert "You have signed out" in page.inner_text("main")
