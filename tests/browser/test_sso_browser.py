"""Single sign-on in real Chromium against a real OpenID provider (npm oidc-provider, run with
Node by tests/sso/oidc.py): the button on MAF's sign-in page, the provider's own login form,
and back into MAF signed in; a refusal is a clear, accessible page; a role whose password
sign-in is off is pointed to the button."""

import shutil
from urllib.parse import urlsplit

from playwright.sync_api import expect

from maf.auth.models import Role
from tests.browser.test_valid_html import VNU_JAR, Pages
from tests.conftest import missing
from tests.sso import oidc
from tests.sso.oidc import CALLBACK_PATH, sign_in_at_the_provider

# The provider's fixtures (tests/sso/oidc.py), for this folder's tests too.
oidc_provider = oidc.oidc_provider
use_sso = oidc.use_sso

EMAIL = "amira.khan@charnwood-school.example"


def test_a_practitioner_signs_in_with_the_keyboard_through_the_provider(
    page, live_server, use_sso, oidc_provider, make_user, axe_violations
):
    use_sso(f"{live_server}{CALLBACK_PATH}")
    make_user(Role.PRACTITIONER, email=EMAIL, name="Amira Khan")
    oidc_provider.person("amira", email=EMAIL)

    page.goto("/sign-in?next=/account")
    button = page.get_by_role("button", name="Sign in with Microsoft")
    expect(button).to_be_visible()
    assert axe_violations() == []
    button.focus()
    page.keyboard.press("Enter")
    sign_in_at_the_provider(page, "amira")

    page.wait_for_url(f"{live_server}/account")
    expect(page.get_by_role("main")).to_contain_text(EMAIL)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_an_unknown_person_sees_why_and_can_go_back(
    page, live_server, use_sso, oidc_provider, axe_violations
):
    use_sso(f"{live_server}{CALLBACK_PATH}")
    oidc_provider.person("stranger", email="someone@unknown.example")
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    sign_in_at_the_provider(page, "stranger")

    page.wait_for_url(f"**{CALLBACK_PATH}?**")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("You have not been signed in")
    expect(page.get_by_role("main")).to_contain_text("There is no account for you")
    assert axe_violations() == []
    page.get_by_role("link", name="Go to the sign-in page").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/sign-in")
    expect(page.get_by_label("Email address")).to_be_visible()


def test_a_role_without_password_sign_in_is_pointed_to_the_button(
    page, live_server, use_sso, make_user
):
    use_sso(f"{live_server}{CALLBACK_PATH}", PASSWORD_SIGN_IN_ROLES=("practitioner",))
    coordinator = make_user(Role.COORDINATOR, email="priya.shah@leics.gov.example")
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(coordinator.email)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Your account signs in with Microsoft, not with a password")
    expect(page.locator("#email-error")).to_contain_text("Sign in with Microsoft")
    expect(page.get_by_label("Email address")).to_have_value(coordinator.email)


def test_the_single_sign_on_pages_are_valid_html_and_the_down_page_accessible(
    page, live_server, use_sso, oidc_provider, tmp_path, axe_violations
):
    if shutil.which("java") is None or not VNU_JAR.exists():
        missing("the Nu HTML checker needs Java and npm's vnu-jar")
    use_sso(f"{live_server}{CALLBACK_PATH}")
    oidc_provider.person("stranger", email="someone@unknown.example")
    pages = Pages(tmp_path)
    page.goto("/sign-in")
    pages.add("anon", "/sign-in", page.content(), "single sign-on on")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    sign_in_at_the_provider(page, "stranger")
    expect(page.get_by_role("heading", level=1)).to_have_text("You have not been signed in")
    pages.add("anon", CALLBACK_PATH, page.content(), "refused")
    use_sso(OIDC_DISCOVERY_URL="http://127.0.0.1:9/.well-known/openid-configuration")
    page.goto("/sign-in/oidc")
    expect(page.get_by_role("heading", level=1)).to_contain_text("is not working just now")
    pages.add("anon", "/sign-in/oidc", page.content(), "provider down")
    assert axe_violations() == []
    assert pages.errors() == {}
