"""Valid HTML on every page (issue 13), judged by the Nu HTML checker (npm's vnu-jar, on the
system's Java): every page each kind of user may reach, walked from `app.url_map` over a forum's
year (the authorisation matrix says who may see what), each page showing a case or a meeting
again for every case and meeting of the year; one refused page and the page-not-found page;
every form sent empty, showing its errors; the intake form, two-step sign-in and a password
reset, reached part-way through. Each page is loaded in Chromium and checked twice: as the
server sent it, and as its scripts left it (`page.content()`).

Java starts once for all pages: the pages are collected as files first, then checked together.
No message of the checker is ignored.
"""

import json
import mimetypes
import re
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.cases import services as case_services
from maf.cases.models import Gender, SharingGround
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forum_services
from maf.outcomes import minutes as minutes_service
from maf.outcomes import services as outcomes
from maf.outcomes.models import ClosureReason, LeadKind, Outcome
from tests.auth.test_authorisation_matrix import (  # noqa: F401
    EXPECTED,
    FORBIDDEN,
    LP_EMAIL,
    OK,
    REDIRECT,
    url_for_rule,
    world,
)
from tests.conftest import PASSWORD, missing

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / "node_modules/vnu-jar/build/dist/vnu.jar"
# The chair, the coordinator, a practitioner who is a lead professional, an administrator,
# and someone not signed in (sign-in, password and error pages).
ACTORS = ("anon", "admin", "coord", "chair", "lead")
DOWNLOADS = (".docx", ".csv", ".ics", ".svg")
# Posting these would end the session being walked rather than show a form's errors.
SKIPPED_ACTIONS = ("/sign-out", "/account/password", "/account/calendar/reset")
# Fields a person fills: a form with none of these is a button (circulate, approve, ...), whose
# empty post is an action, not a form with errors.
TYPED = (
    ".//textarea | .//select | .//input[not(@type='hidden' or @type='submit' or @type='button')]"
)


class Pages:
    """HTML pages written to files for one run of the checker, and where each came from."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.origin: dict[str, str] = {}  # file name: the page, as whom, in which state

    def add(self, actor: str, url: str, html: str, state: str = "") -> None:
        label = f"{url} as {actor}" + (f", {state}" if state else "")
        if label in self.origin.values():  # e.g. the dashboard, after signing in again
            return
        slug = re.sub(r"[^a-z0-9]+", "-", f"{actor} {url} {state}".lower()).strip("-")
        name = f"{len(self.origin):03d}-{slug[:80]}.html"
        (self.folder / name).write_text(html, encoding="utf-8")
        self.origin[name] = label

    def errors(self) -> dict[str, list[str]]:
        """Run the checker once over every page: each error message, with an example of the
        markup, and the pages (and lines) where it is."""
        result = subprocess.run(
            # One run, on the quick compiler only (a third of the time on a busy machine);
            # that needs a deeper stack than the checker's 512k minimum.
            ["java", "-Xss16m", "-XX:TieredStopAtLevel=1", "-jar", str(VNU_JAR)]
            + ["--format", "json", "--errors-only", "--stdout"]
            + [str(self.folder / name) for name in self.origin],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            messages = json.loads(result.stdout)["messages"]
        except (ValueError, KeyError):
            pytest.fail(f"the Nu HTML checker did not run: {result.stderr[-2000:]}")
        errors: dict[str, list[str]] = {}
        for message in messages:
            name = Path(urlsplit(message.get("url", "")).path).name
            page = self.origin.get(name, message.get("url", "(no page)"))
            extract = " ".join(message.get("extract", "").split())
            key = f"{message['message']}\n    for example: {extract}"
            errors.setdefault(key, []).append(f"{page} (line {message.get('lastLine', '?')})")
        return errors


def _report(errors: dict[str, list[str]], checked: int) -> str:
    lines = [f"The Nu HTML checker found {len(errors)} kinds of error in {checked} pages:"]
    for message, pages in errors.items():
        more = f"; and {len(pages) - 8} more" if len(pages) > 8 else ""
        lines += [f"\n{message}", f"    on {len(pages)}: " + "; ".join(pages[:8]) + more]
    return "\n".join(lines)


FEBRUARY = date(2027, 2, 15)  # the January meeting has been held, April's is being prepared


@pytest.fixture
def after_january(app_clock):
    """Before the world is made, so that its January meeting can be recorded as held."""
    app_clock.london(FEBRUARY, 10, 0)
    return app_clock


def _record(item, outcome, coordinator, **details):
    outcomes.save_item_record(item, outcomes.ItemDetails(outcome=outcome, **details), coordinator)


@pytest.fixture
def site(after_january, world, coordinator, make_case, make_ready_case, make_meeting):  # noqa: F811
    """The authorisation matrix's world (a forum, a held meeting with minutes, an agenda with a
    review and a progress update asked for, a board report, an audit sample), and a forum
    year around it: cases stepped up, closed at sign-off, on an agenda as a sign-off, due a
    review, waiting for checks, without consent to share, withdrawn; a cancelled meeting."""
    after_january.london(FEBRUARY, 10, 0)  # again, should making the world have moved it
    forum = world.forum
    lead = outcomes.LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", True, LP_EMAIL)
    november = make_meeting(date(2026, 11, 10), forum=forum)
    december = make_meeting(date(2026, 12, 8), forum=forum)
    july = make_meeting(date(2027, 7, 13), forum=forum)
    ben = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB", gender=Gender.MALE)
    cara = make_ready_case("Cara", "Lee", date(2015, 6, 9), "LE11 1AA")
    dan = make_ready_case("Dan", "Patel", date(2011, 1, 20), "LE11 5XY", gender=Gender.MALE)
    eve = make_ready_case("Eve", "Novak", date(2013, 8, 30), "LE12 9QP")
    ready = make_ready_case("Fay", "Hughes", date(2016, 2, 11), "LE11 4RT")

    items = {
        case: agendas.add_to_agenda(november, case, ItemKind.NEW_CASE, coordinator)
        for case in (ben, cara, dan, eve)
    }
    outcomes.save_attendance(
        november, {}, [outcomes.Guest("Dr Ama Mensah", "Charnwood GP practice")], coordinator
    )
    for case, review in (
        (ben, date(2027, 2, 9)),
        (cara, date(2026, 12, 8)),
        (eve, date(2027, 2, 9)),
    ):
        _record(
            items[case],
            Outcome.CONTINUE,
            coordinator,
            next_review_on=review,
            lead=lead,
            discussion="Attendance is improving.",
        )
    _record(
        items[dan],
        Outcome.STEP_UP,
        coordinator,
        outcome_notes="Referred to children's social care.",
    )
    outcomes.complete_meeting(november, coordinator)

    sign_off = agendas.add_to_agenda(december, cara, ItemKind.SIGN_OFF, coordinator)
    _record(sign_off, Outcome.CLOSE, coordinator, closure_reason=ClosureReason.NEEDS_MET)
    minutes_service.approve(outcomes.complete_meeting(december, coordinator), world.users["chair"])

    # Eve is to be signed off in April; Ben, due a review, is left for April's builder to offer
    # as a review or a sign-off (where it once repeated id="case-N").
    agendas.add_to_agenda(world.planned, eve, ItemKind.SIGN_OFF, coordinator)
    forum_services.cancel_meeting(july, "The venue is closed for repairs", coordinator)

    waiting = make_case("Jess", "Thompson")  # looks like the world's Jessica Thompson
    unshared = make_case(
        "Gus", "Reid", date(2010, 9, 1), "LE12 7HH", share_with_forum=False, gender=Gender.MALE
    )
    case_services.record_sharing_without_consent(
        unshared,
        decided_by_name="Priya Shah",
        decided_on=date(2027, 2, 1),
        ground=SharingGround.SIGNIFICANT_HARM,
        reason="Disclosure at school",
        shared_with="Children's social care",
        user=coordinator,
    )
    withdrawn = make_case("Hal", "Moss", date(2012, 12, 12), "LE11 2ZZ", gender=Gender.MALE)
    case_services.withdraw(withdrawn, "The family moved to Derby", coordinator)

    world.variants = {
        "case_id": [c.id for c in (ben, cara, dan, eve, ready, waiting, unshared, withdrawn)],
        "meeting_id": [m.id for m in (world.held, november, december, july)],
    }
    return world


def _targets(app, site) -> list[tuple[str, str, list[str]]]:
    """Every GET page of the url_map, filled in with the world's objects: (its endpoint, its
    address, the same page for each other case or meeting of the world)."""
    targets = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = url_for_rule(site, rule)
        if urlsplit(url).path.endswith(DOWNLOADS):
            continue
        # A page that shows a case or a meeting changes with its state; a form to change one
        # (GET and POST) is the same form for each.
        others = [
            rule.build({name: id_}, append_unknown=False)[1]
            for name, ids in site.variants.items()
            if set(rule.arguments) == {name} and "POST" not in rule.methods
            for id_ in ids
        ]
        targets.append((rule.endpoint, url, others))
    return targets


def _static_from_disk(route) -> None:
    """The test server answers one request at a time: served from the folder, each page's
    style sheet, scripts and icon do not queue behind the pages."""
    path = ROOT / urlsplit(route.request.url).path.lstrip("/")
    kind = "text/javascript" if path.suffix in (".js", ".mjs") else mimetypes.guess_type(path)[0]
    route.fulfill(path=path, content_type=kind or "application/octet-stream")


def _signed_in(browser, live_server, site, actor):
    context = browser.new_context(base_url=live_server)
    context.route("**/static/**", _static_from_disk)
    page = context.new_page()
    page.set_default_timeout(10_000)
    if actor != "anon":
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(site.users[actor].email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("/")
    return context, page


def _visit(page, pages, actor, url) -> tuple[int, str, str]:
    """Load `url` in the browser and keep the HTML the server sent for it. Returns the status,
    the HTML and the address it ended at."""
    response = page.goto(url)
    html = response.text() if "text/html" in response.headers.get("content-type", "") else ""
    if html:
        parts = urlsplit(page.url)  # after any redirect
        shown = parts.path + (f"?{parts.query}" if parts.query else "")
        pages.add(actor, shown, html)
        # The page as its scripts left it (the agency picker, for one, adds its own box).
        pages.add(actor, shown, page.content(), "after its scripts ran")
    return response.status, html, urlsplit(page.url).path


def _walk(page, pages, actor, targets, adapter) -> dict[str, tuple[str, str]]:
    """Every page `actor` may see, and the same page for each other case or meeting; returns
    the forms shown, by the endpoint they post to: (form action, its CSRF token)."""
    forms = {}
    refused = False
    for endpoint, url, others in targets:
        # The pages the authorisation matrix lets them see, and one page refused them.
        expected = EXPECTED[endpoint][actor]
        if expected not in (OK, REDIRECT) and (expected != FORBIDDEN or refused):
            continue
        refused = refused or expected == FORBIDDEN
        status, html, shown_at = _visit(page, pages, actor, url)
        if status == 200:
            for other in others:
                _visit(page, pages, actor, other)
        for action, token in _typed_forms(html, shown_at):
            endpoint = adapter.match(urlsplit(action).path, method="POST")[0]
            forms.setdefault(endpoint, (action, token))
    _visit(page, pages, actor, "/no-such-page")
    return forms


def _typed_forms(html: str, path: str) -> list[tuple[str, str]]:
    """The forms on the page that a person types into or chooses in: (action, CSRF token)."""
    if not html:
        return []
    found = []
    for form in lxml.html.fromstring(html).xpath(
        "//form[translate(@method, 'POST', 'post') = 'post']"
    ):
        action = form.get("action") or path
        if form.xpath(TYPED) and not action.startswith(SKIPPED_ACTIONS):
            found.append((action, "".join(form.xpath(".//input[@name='csrf_token']/@value"))))
    return found


def _post_empty(page, pages, actor, action, token) -> None:
    """Send the form as if nothing were filled in: the page comes back with its errors."""
    response = page.request.post(action, form={"csrf_token": token})
    if "text/html" in response.headers.get("content-type", ""):
        pages.add(actor, action, response.text(), "sent empty")


def _intake_with_errors(page, pages) -> None:
    """The CAF intake form is reached through the safeguarding question."""
    page.goto("/cases/new")
    page.get_by_label("No").check()
    with page.expect_response(lambda r: r.url.endswith("/cases/new/details")) as shown:
        page.get_by_role("button", name="Continue").click()
    pages.add("coord", "/cases/new/details", shown.value.text())
    page.wait_for_load_state()
    pages.add("coord", "/cases/new/details", page.content(), "after its scripts ran")
    with page.expect_response(
        lambda r: r.url.endswith("/cases/new/details") and r.request.method == "POST"
    ) as answered:
        page.get_by_role("button", name="Save and run the checks").click()
    pages.add("coord", "/cases/new/details", answered.value.text(), "sent empty")
    page.wait_for_load_state()
    pages.add("coord", "/cases/new/details", page.content(), "sent empty, after its scripts ran")


def _html_of(page, click, path: str, method: str = "POST") -> str:
    """The HTML the server answers at `path` when `click` is done."""
    with page.expect_response(
        lambda r: urlsplit(r.url).path == path and r.request.method == method
    ) as answer:
        click()
    return answer.value.text()


def _account_pages(page, pages, user) -> None:
    """Pages reached only part-way through something: the recovery codes once two-step sign-in
    is set up, the code asked for at the next sign-in, and a password reset link."""
    page.goto("/account/security")
    secret = page.locator("code").first.inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    button = page.get_by_role("button", name="Continue")
    pages.add(
        "lead",
        "/account/security",
        _html_of(page, button.click, "/account/security"),
        "recovery codes",
    )
    expect(page.locator("#recovery-codes")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    button = page.get_by_role("button", name="Sign in")
    pages.add("lead", "/sign-in/code", _html_of(page, button.click, "/sign-in/code", "GET"))
    page.get_by_label("Code").fill("000000")
    button = page.get_by_role("button", name="Continue")
    pages.add(
        "lead", "/sign-in/code", _html_of(page, button.click, "/sign-in/code"), "a wrong code"
    )

    page.goto("/sign-in/forgotten")
    page.get_by_label("Email address").fill(user.email)
    button = page.get_by_role("button", name="Send me a link")
    pages.add(
        "anon", "/sign-in/forgotten", _html_of(page, button.click, "/sign-in/forgotten"), "sent"
    )
    email = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_email == user.email)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    link = re.search(r"/sign-in/reset/\S+", email.text_body).group(0)
    _visit(page, pages, "anon", link)
    button = page.get_by_role("button", name="Save the new password")
    pages.add(
        "anon",
        "/sign-in/reset",
        _html_of(page, button.click, urlsplit(link).path),
        "sent empty",
    )


def test_every_page_is_valid_html(app, browser, live_server, site):
    if not shutil.which("java"):
        missing("Java not found (apt-get install default-jre-headless)")
    assert VNU_JAR.exists(), "vnu-jar is missing: run `npm ci` (make test does)"
    targets = _targets(app, site)
    # Not pytest's tmp_path: other pytest runs on the machine prune its folders.
    with tempfile.TemporaryDirectory(prefix="maf-vnu-") as folder:
        pages = Pages(Path(folder))
        posted = set()
        adapter = app.url_map.bind("localhost")
        for actor in ACTORS:
            context, page = _signed_in(browser, live_server, site, actor)
            forms = _walk(page, pages, actor, targets, adapter)
            for endpoint, (action, token) in forms.items():
                if endpoint not in posted:  # each form once, by whoever saw it first
                    posted.add(endpoint)
                    _post_empty(page, pages, actor, action, token)
            if actor == "coord":
                _intake_with_errors(page, pages)
            if actor == ACTORS[-1]:  # last: it changes how they sign in
                _account_pages(page, pages, site.users[actor])
            context.close()
        assert len(pages.origin) > 300, f"only {len(pages.origin)} pages: is the world built?"
        errors = pages.errors()
    assert errors == {}, _report(errors, len(pages.origin))
