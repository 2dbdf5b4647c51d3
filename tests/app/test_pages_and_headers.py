"""The shell every page shares: headers, cookies, the council (not GOV.UK) look, errors."""

import re
from pathlib import Path
from urllib.parse import urljoin

from maf.auth.models import Role

ROOT = Path(__file__).resolve().parents[2]


def test_health_check_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_security_headers_on_every_page(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "style-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_only_inline_script_carries_the_request_nonce(client):
    response = client.get("/sign-in")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert response.text.count("<script") == 2  # the js-enabled marker and the module file
    assert f'<script nonce="{nonce}">' in response.text
    assert (
        client.get("/sign-in").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    ), "the nonce must change with every response"


def test_session_cookie_is_httponly_and_samesite(client, make_user, sign_in):
    response = sign_in(make_user(Role.COORDINATOR))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_council_service_has_no_gov_uk_branding(client, make_user, sign_in):
    """Design System guidance for services not on GOV.UK: no crown, no GOV.UK logo and
    no GDS Transport typeface."""
    sign_in(make_user(Role.COORDINATOR))
    html = client.get("/").text
    assert "govuk-header__logotype" not in html
    assert "govuk-footer__crown" not in html
    assert "Crown copyright" not in html
    assert "Multi-agency forums" in html
    css = (ROOT / "static/css/app.css").read_text()
    assert "GDS Transport" not in css
    assert "arial" in css
    assert not (ROOT / "static/govuk/assets/fonts").exists()


def test_static_assets_are_served(client):
    """What a browser fetches for every page, followed from the page's own links: with nosniff
    on, a stylesheet or module served as another type is not used at all, and the page shows
    unstyled, with no GOV.UK Frontend behaviour."""
    page = client.get("/sign-in").text
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    module = re.search(r'<script type="module" src="([^"]+)"', page).group(1)

    css = client.get(stylesheet)
    assert css.mimetype == "text/css"
    assert ".govuk-button{" in css.text and ".govuk-error-summary" in css.text

    script = client.get(module)
    assert script.mimetype == "text/javascript"
    imported = re.search(r"import \{ initAll \} from '([^']+)'", script.text).group(1)
    assert "initAll()" in script.text
    frontend = client.get(urljoin(module, imported))
    assert frontend.mimetype == "text/javascript"
    assert re.search(r"export\s*\{[^}]*\binitAll\b", frontend.text), "initAll is not exported"


def test_unknown_page_is_a_helpful_404(client, make_user, sign_in):
    sign_in(make_user())
    response = client.get("/no-such-page?child=Jane+Doe")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Jane" not in response.text, "error pages must not echo what was asked for"
