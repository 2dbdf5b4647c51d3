"""The run's one Chromium (Debian's package), driven by Playwright's sync API.

The browser tests and the journey suite each have a session `browser` fixture; Playwright's sync
API cannot start twice in one process, so whichever starts second borrows the running browser.
This module is imported by name (never as a conftest, which pytest loads by path as a second
copy), so the two fixtures share its state.
"""

import os
import shutil
from contextlib import contextmanager

from tests.conftest import missing

CHROMIUM = os.environ.get("MAF_CHROMIUM", "/usr/bin/chromium")
_running: list = []


@contextmanager
def chromium():
    if _running:
        yield _running[0]
        return
    if not shutil.which(CHROMIUM):
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-gpu",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        _running.append(browser)
        try:
            yield browser
        finally:
            _running.clear()
            browser.close()
