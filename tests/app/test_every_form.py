"""Every form in the product, found by walking every page of `app.url_map` as each kind of
user, is filled by Hypothesis with payloads, scripts and noise (issue 8: "property-based tests
over the services and form handlers: no 500 for any input; XSS payloads come back escaped").

Unlike test_robustness.py, nobody lists the forms: a new form is fuzzed as soon as a page
shows it."""

import lxml.html
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.app.test_robustness import SCRIPT, values
from tests.auth.test_authorisation_matrix import url_for_rule, world  # noqa: F401

ACTORS = ("coord", "admin", "chair", "lead")
# Posting these would end the fuzzing user's session rather than test a form.
SKIPPED_ACTIONS = ("/sign-out", "/account/password")
DOWNLOADS = (".docx", ".csv", ".ics", ".png", ".svg")


def _forms_on(html: str, page_url: str) -> list[tuple[str, list[str]]]:
    document = lxml.html.fromstring(html)
    found = []
    for form in document.xpath("//form[translate(@method, 'POST', 'post') = 'post']"):
        action = form.get("action") or page_url
        if action.startswith(SKIPPED_ACTIONS):
            continue
        names = sorted(
            {
                element.get("name")
                for element in form.xpath(".//input | .//select | .//textarea")
                if element.get("name") and not element.get("name").endswith("csrf_token")
            }
        )
        found.append((action, names))
    return found


@pytest.fixture
def forms_by_actor(app, world):  # noqa: F811
    """(actor, page, action, field names) for every form every actor is shown."""
    pages = [
        url_for_rule(world, rule)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    ]
    found = {}
    for actor in ACTORS:
        client = world.client(actor)
        for page_url in pages:
            if page_url.split("?")[0].endswith(DOWNLOADS):
                continue
            response = client.get(page_url)
            if response.status_code == 200 and response.mimetype == "text/html":
                for action, names in _forms_on(response.text, page_url):
                    found.setdefault((actor, action), (page_url, names))
    assert len(found) > 80, f"the walk found {len(found)} forms: is the world being built?"
    return found


@settings(
    max_examples=8,
    deadline=None,
    # No shrinking: over 50 forms it takes minutes, and the failing form and data are in the
    # assertion message already.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(typed=st.lists(values, min_size=40, max_size=40))
def test_every_form_of_every_page_survives_any_input(world, forms_by_actor, typed):  # noqa: F811
    for (actor, action), (page_url, names) in forms_by_actor.items():
        client = world.client(actor)
        data = {name: typed[number % len(typed)] for number, name in enumerate(names)}
        data["csrf_token"] = world.csrf(actor)
        response = client.post(action, data=data)
        assert response.status_code < 500, (actor, page_url, action, data)
        if "attachment" in response.headers.get("Content-Disposition", ""):
            continue  # a download (the subject access zip), never shown as a page
        assert not SCRIPT.search(response.get_data(as_text=True)), (actor, action, data)
