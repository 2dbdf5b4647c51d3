"""A forum's year lived by several people at once: real Chromium (the browser tests' launch,
live server and axe fixtures), a real SMTP server (the outbox tests' aiosmtpd), and one browser
context per person so nobody shares a cookie with anyone else."""

import pytest

from tests.browser.chromium import chromium
from tests.browser.conftest import axe_source, live_server  # noqa: F401
from tests.circulation.conftest import _smtp_controller, smtp_server  # noqa: F401
from tests.journeys.helpers import JOURNEY_SUMMARIES, Journey


@pytest.fixture(scope="session")
def browser():
    with chromium() as running:  # the browser tests' Chromium when they run in the same session
        yield running


@pytest.fixture
def journey(request):
    """The story's steps; their summary is shown at the end of the run, passed or failed."""
    recorded = Journey()
    yield recorded
    request.config.stash.setdefault(JOURNEY_SUMMARIES, []).append(
        f"{request.node.nodeid}\n{recorded.summary()}"
    )


def pytest_terminal_summary(terminalreporter, config):
    """Each journey's steps and how many assertions each made, at the end of the run."""
    for summary in config.stash.get(JOURNEY_SUMMARIES, []):
        terminalreporter.section("journey steps asserted")
        terminalreporter.write_line(summary)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/journeys/" in str(item.fspath) and "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
