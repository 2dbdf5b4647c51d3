"""A real OpenID provider for the single sign-on tests: npm `oidc-provider` run with Node
(tests/sso/provider.mjs), and helpers to point MAF at it and to sign in through it.

Imported by tests/sso/conftest.py and tests/browser/test_sso_browser.py.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
TENANT = "6f1c2a7e-council-tenant"
OTHER_TENANT = "0b9d4e21-other-tenant"
CALLBACK_PATH = "/sign-in/oidc/callback"


@dataclass
class OidcProvider:
    issuer: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def person(self, login: str, *, mode: str | None = None, **claims) -> str:
        """Who signs in as `login` at the provider, and what their ID token says (Entra ID's
        tenant by default, verified email)."""
        claims = {"tid": TENANT, "email_verified": True, "name": login.title(), **claims}
        claims = {name: value for name, value in claims.items() if value is not None}
        answer = requests.post(
            f"{self.issuer}/_test/accounts/{login}",
            json={"claims": claims, "mode": mode},
            timeout=10,
        )
        answer.raise_for_status()
        return login

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """A client for MAF (dynamic registration): its id and secret."""
        answer = requests.post(
            f"{self.issuer}/reg",
            json={"redirect_uris": [redirect_uri], "response_types": ["code"]},
            timeout=10,
        )
        answer.raise_for_status()
        client = answer.json()
        return client["client_id"], client["client_secret"]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        missing("Node.js is not installed, so the OpenID provider cannot run")
    if not (ROOT / "node_modules/oidc-provider/package.json").exists():
        missing("npm oidc-provider is not installed: run `npm ci` (make setup does)")
    # Its warnings (development-only features, the Node version) go to a file, read back only
    # if it fails to start.
    log = tmp_path_factory.mktemp("oidc-provider") / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [node, str(SCRIPT)], cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        line = process.stdout.readline()
        if not line.startswith("READY "):
            pytest.fail(f"the OpenID provider did not start: {line!r}\n{log.read_text()[-3000:]}")
        yield OidcProvider(issuer=line.split()[1])
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def use_sso(app, oidc_provider, monkeypatch):
    """Point MAF at the provider, with a client registered for `redirect_uri` (the test client's
    by default); further settings override MAF's (config.py OIDC_*)."""

    def configure(redirect_uri: str = f"http://localhost{CALLBACK_PATH}", **settings):
        client_id, secret = oidc_provider.register_client(redirect_uri)
        values = {
            "OIDC_DISCOVERY_URL": oidc_provider.discovery_url,
            "OIDC_CLIENT_ID": client_id,
            "OIDC_CLIENT_SECRET": secret,
            "OIDC_PROVIDER_NAME": "Microsoft",
            "OIDC_ALLOWED_TENANTS": (TENANT,),
            "OIDC_ALLOWED_EMAIL_DOMAINS": (),
            "OIDC_TRUST_IDP_MFA": False,
        } | settings
        for name, value in values.items():
            monkeypatch.setitem(app.config, name, value)
        return client_id

    return configure


def through_provider(client, login: str, start: str = "/sign-in/oidc") -> str:
    """Start single sign-on in MAF's test client, sign in at the provider's login form as a
    browser would (its cookies kept apart, as the provider's own), and return the URL the
    provider sends the browser back to MAF with (its callback, with code and state)."""
    answer = client.get(start)
    assert answer.status_code == 302, answer.status_code
    browser = requests.Session()
    page = browser.get(answer.headers["Location"], timeout=10)
    assert page.status_code == 200, page.text[:500]
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    response = browser.post(
        urljoin(page.url, action),
        data={"prompt": "login", "login": login, "password": "any password"},
        allow_redirects=False,
        timeout=10,
    )
    provider_host = urlsplit(page.url).netloc
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if urlsplit(location).netloc != provider_host:
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider did not send the browser back: {response.text[:500]}")


def sign_in_at_the_provider(page, login: str) -> None:
    """In Chromium, on the provider's development login form (after "Sign in with ..."): any
    password is accepted for a login the test has set up with `OidcProvider.person`."""
    page.wait_for_url("**/interaction/**")
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def sso_sign_in(client, login: str, start: str = "/sign-in/oidc"):
    """The whole round trip: MAF's answer to the provider sending the person back."""
    back = urlsplit(through_provider(client, login, start))
    assert back.path == CALLBACK_PATH, back
    return client.get(f"{back.path}?{back.query}")
