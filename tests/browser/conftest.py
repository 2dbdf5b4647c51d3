"""Real Chromium (Debian's package) driven by Playwright against the app on a live server.

The server runs in a thread on 127.0.0.1 and shares the test's rolled-back transaction, so
browser tests create data with the same factories as every other test.
"""

import logging
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.chromium import chromium
from tests.conftest import PASSWORD

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def live_server(app, database):
    # No access log: a request still being answered as a test ends (a favicon) was logged to
    # the test's closed output and printed a "Logging error" traceback into CI's log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def sign_in_as(page):
    def sign_in(user, password: str = PASSWORD):
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return sign_in


@pytest.fixture(scope="session")
def axe_source():
    assert AXE_JS.exists(), "axe-core is missing: run `npm ci` (make test does)"
    return AXE_JS.read_text()


def axe_violations_on(page, axe_source: str) -> list[dict]:
    """Run axe-core on the page as it is now and return its violations (also used by the
    journey suite, whose people each have a page of their own)."""
    # A caller waits for the page it means (Playwright's expect); this also waits for that
    # page's document to have loaded, so axe never reads one still being built.
    page.wait_for_load_state("load")
    # Evaluated through the DevTools protocol, so the page's CSP does not block it.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'wcag22aa', 'best-practice']},
            });
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }"""
    )


@pytest.fixture
def axe_violations(page, axe_source):
    """Run axe-core on the page as it is now and return its violations."""
    return lambda: axe_violations_on(page, axe_source)


def signed_in_context(browser, live_server, user, *, javascript=True, password=PASSWORD):
    """A browser context of its own (with or without JavaScript), signed in as `user`, for
    tests that need a second person or a page without scripts: (context, page)."""
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").press("Enter")
    page.wait_for_load_state()
    return context, page


def tab_to(page, selector: str, max_tabs: int = 60) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through a form (for
    tests that fill a form with the keyboard alone)."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
