"""What building and recording the seed's largest agenda costs a person (issue 14).

Seed 004: a forum meeting takes up to 10 new cases and 30 reviews. This script makes, through
the real services, a district of its own with a monthly forum whose next meeting has 10 ready
new cases and 30 open cases due a review waiting, and then drives the real UI in Chromium
(Playwright; Debian's /usr/bin/chromium, headless) at 1280x800:

1. the coordinator builds the full 40-item agenda on the builder, once per strategy the page
   offers, each on an identical district of its own:
   - "one form per case": each case's own add button, as the builder offered before issue 14;
   - "fill with what is due": the one button that fills the agenda (issue 14);
   - "tick every case, add selected": each case's tick box, then one button (issue 14);
   a way the builder under test does not offer is reported as "not offered";
   counting actions (clicks + form submissions + key presses), page loads and wall time, and
   measuring the builder's height (document.body.scrollHeight) before and at 40 items;
2. the chair records all 40 items on the meeting record by keyboard only (Tab, Shift+Tab,
   Enter, Space, arrows and typing): from the record's overview to each item's page, a short
   discussion line and an outcome per item (and, for a new case, the lead professional the
   forum agreed, which the record requires), counting key presses, characters typed, page
   loads and wall time.

It is a measuring script, not a test (pytest collects only tests/). Run it against the tree
whose code it should measure, from that tree, e.g. for the code before issue 14:

    git worktree add /tmp/before 9d236a5
    cp bench/agenda_clicks.py /tmp/before/bench/
    cd /tmp/before && PYTHONPATH=/tmp/before /work/main/.venv/bin/python -m bench.agenda_clicks \\
        --label before --json /work/main/bench/results/agenda_clicks_before.json
    cd /work/main && .venv/bin/python -m bench.agenda_clicks --label after \\
        --json bench/results/agenda_clicks_after.json \\
        --compare bench/results/agenda_clicks_before.json --write-results

--write-results puts the table in bench/results/agenda_clicks.txt and its own section of
bench/RESULTS.md. About 2 to 3 minutes a run on 2 cores.

Wall times include Playwright's own round trips (a check of the focused element after each
Tab), so they are the machine's time for the same keystrokes, not a person's; the counts are
what a person would press.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bench import environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
RESULTS_TXT = ROOT / "bench" / "results" / "agenda_clicks.txt"
SECTION_START, SECTION_END = "<!-- agenda-clicks:start -->", "<!-- agenda-clicks:end -->"
CHROMIUM = os.environ.get("MAF_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
NEW_CASES, REVIEWS = 10, 30
ITEMS = NEW_CASES + REVIEWS
PASSWORD = "bench-agenda-clicks-2026"  # noqa: S105 - users of a throw-away database
MAX_TABS = 400  # a page whose target cannot be reached by Tab in this many is a failure


# --- the data ------------------------------------------------------------------------------


@dataclass
class World:
    """One district with its own coordinator, chair and forum, and the meeting to build."""

    slug: str
    coordinator_email: str
    chair_email: str
    meeting_id: int


def seed_world(number: int) -> World:
    """A district whose forum's next meeting has 10 ready new cases and 30 reviews due,
    made through the services as a coordinator would (bench/seed.py's way of taking cases on,
    on a district of its own so that nothing else is due there)."""
    from sqlalchemy import select

    from bench import seed
    from maf import demo
    from maf.auth import services as auth_services
    from maf.auth.models import Role
    from maf.dbtypes import london_today
    from maf.directory.models import Agency
    from maf.extensions import db
    from maf.forums import services as forum_services

    if not db.session.scalar(select(Agency.id).limit(1)):
        # The demo's agencies, county-wide: the referrers, services and lead professionals'
        # agencies the cases name (its districts, forums and cases are not loaded).
        for name, agency_type, _district in demo.AGENCIES:
            demo._agency(name, agency_type, None)
    slug = f"bench-{number}"
    district = demo._district(slug, f"Benchshire {number}")
    db.session.flush()
    coordinator = auth_services.save_user(
        email=f"coordinator.{slug}@example.org",
        name=f"Coordinator {number}",
        password=PASSWORD,
        roles=(Role.COORDINATOR,),
        districts=[district],
        agency=None,
    )
    chair = auth_services.save_user(
        email=f"chair.{slug}@example.org",
        name=f"Chair {number}",
        password=PASSWORD,
        roles=(Role.CHAIR,),
        districts=[district],
        agency=None,
    )
    db.session.commit()
    forum = forum_services.save_forum(
        None,
        forum_services.ForumDetails(
            district=district,
            name=f"Benchshire {number} forum",
            venue="Council offices, committee room 2",
            chair=chair,
            coordinator=coordinator,
            months=list(range(1, 13)),
            length_minutes=360,  # 10 × 20 + 30 × 5 minutes, with room for breaks
        ),
        coordinator,
    )
    today = london_today()
    for year in (today.year - 1, today.year, today.year + 1):
        forum_services.generate_schedule(forum, year, coordinator)
    bench = seed.Bench(coordinator_id=coordinator.id, forum_id=forum.id)
    bench.open_case_ids = seed._take_on_cases(bench, REVIEWS)
    for _ in range(NEW_CASES):
        bench.ready_case()
    meeting = forum_services.upcoming_meetings(forum, max(today, date.today()))[0]
    return World(slug, coordinator.email, chair.email, meeting.id)


def candidates(world: World) -> tuple[int, int]:
    """(ready new cases, reviews proposed) for the world's meeting, from the services."""
    from maf.agendas import services
    from maf.extensions import db
    from maf.forums.models import Meeting

    meeting = db.session.get(Meeting, world.meeting_id)
    return len(services.ready_queue(meeting)), len(services.review_proposals(meeting))


def scheduled(world: World) -> dict[str, int]:
    from maf.agendas import services
    from maf.extensions import db
    from maf.forums.models import Meeting

    # A new transaction: one left open since the last read would still see the database as
    # it was then (SQLite keeps a reader's snapshot), not what the browser has since added.
    db.session.rollback()
    meeting = db.session.get(Meeting, world.meeting_id)
    counts: dict[str, int] = {}
    for item in services.scheduled_items(meeting):
        counts[item.kind.value] = counts.get(item.kind.value, 0) + 1
    return counts


# --- counting what a person does --------------------------------------------------------------


@dataclass
class Tally:
    clicks: int = 0
    submits: int = 0  # forms sent with Enter (counted in keys too) or a click
    keys: int = 0  # Tab, Shift+Tab, Enter, Space, arrows
    typed: int = 0  # characters typed
    page_loads: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        """Clicks, key presses and characters typed: everything the person does."""
        return self.clicks + self.keys + self.typed


class Person:
    """A browser page whose every click, key press and page load is counted."""

    def __init__(self, page):
        self.page = page
        self.tally = Tally()
        # Full loads only: a tab's #fragment is a navigation within the page, not a load.
        page.on("load", self._loaded)

    def _loaded(self, _page):
        self.tally.page_loads += 1

    def click(self, locator, submits: bool = True) -> None:
        self.tally.clicks += 1
        self.tally.submits += submits
        if submits:
            with self.page.expect_navigation():
                locator.click()
        else:
            locator.click()

    def press(self, key: str) -> None:
        self.tally.keys += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.tally.typed += len(text)
        self.page.keyboard.type(text)

    def _focused(self) -> dict:
        return self.page.evaluate(
            """() => { const e = document.activeElement;
                return e ? {target: e.hasAttribute('data-bench-target'), id: e.id || '',
                            name: e.name || '', type: e.type || ''} : {}; }"""
        )

    def tab_to(self, locator) -> dict:
        """Tab (forwards) until `locator` has the focus; for a radio, until its group has it
        (a group is one Tab stop). Returns what is focused."""
        target = locator.evaluate(
            """e => { e.setAttribute('data-bench-target', '');
                      return {name: e.name || '', type: e.type || ''}; }"""
        )
        try:
            for _ in range(MAX_TABS):
                focused = self._focused()
                if focused.get("target") or (
                    target["type"] == "radio"
                    and focused.get("type") == "radio"
                    and focused.get("name") == target["name"]
                ):
                    return focused
                self.press("Tab")
        finally:
            if not self.page.is_closed():
                locator.evaluate("e => e.removeAttribute('data-bench-target')")
        raise SystemExit(f"could not reach {locator} by Tab")

    def fill(self, locator, text: str) -> None:
        self.tab_to(locator)
        self.type(text)

    def choose(self, radio) -> None:
        """Select `radio` by keyboard: Tab into its group, arrows to it (which selects it),
        Space if it is focused but not yet selected."""
        focused = self.tab_to(radio)
        target = radio.evaluate("e => e.id")
        group = radio.evaluate(
            "e => [...document.querySelectorAll(`input[type=radio][name='${e.name}']`)]"
            ".map(r => r.id)"
        )
        steps = group.index(target) - group.index(focused["id"])
        for _ in range(abs(steps)):
            self.press("ArrowDown" if steps > 0 else "ArrowUp")
        if not radio.is_checked():
            self.press("Space")

    def activate(self, locator, navigates: bool = True) -> None:
        """Tab to a link or button and press Enter."""
        self.tab_to(locator)
        self.tally.submits += navigates
        if navigates:
            with self.page.expect_navigation():
                self.press("Enter")
        else:
            self.press("Enter")


def sign_in(page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def height(page) -> int:
    return page.evaluate("document.body.scrollHeight")


# --- the coordinator builds the agenda -----------------------------------------------------


def one_form_per_case(person: Person) -> None:
    """Each case's own button, first the ready new cases, then the reviews."""
    page = person.page
    buttons = [
        page.get_by_role("button", name=re.compile(f"^{name}"))
        for name in ("Add as a new case", "Add as a review")
    ]
    if not any(button.count() for button in buttons):
        raise NotOffered("no add button per case on the builder")
    for button in buttons:
        while button.count():
            person.click(button.first)


def fill_with_what_is_due(person: Person) -> None:
    """The one button that fills the agenda with what is due."""
    page = person.page
    person.click(offered(page.get_by_role("button", name=re.compile("^Fill", re.I)), "Fill"))


def select_all_and_add(person: Person) -> None:
    """Tick every candidate's box, then the one button that adds the ticked cases."""
    page = person.page
    # By its text, not its role: in a hidden tab panel it is not in the accessibility tree.
    add = offered(
        page.locator("button", has_text=re.compile("^\\s*Add selected", re.I)), "Add selected"
    )
    tab = page.get_by_role("tab", name=re.compile("^Cases to add"))
    if tab.count() and not add.is_visible():  # the tabs (JavaScript) show the agenda first
        person.click(tab.first, submits=False)
    boxes = page.locator("input[name=case]").evaluate_all(
        "boxes => boxes.filter(box => !box.checked).map(box => box.id)"
    )
    for box in boxes:
        person.click(page.locator(f"label[for='{box}']"), submits=False)
    person.click(add)


class NotOffered(Exception):
    """The builder under test does not offer this way of adding cases."""


def offered(buttons, name: str):
    """The first of `buttons`, or NotOffered when the builder has none."""
    if not buttons.count():
        raise NotOffered(f"no '{name}' button on the builder")
    return buttons.first


STRATEGIES = {
    "one form per case": one_form_per_case,
    "fill with what is due": fill_with_what_is_due,
    "tick every case, add selected": select_all_and_add,
}


def build(browser, base: str, world: World, strategy) -> dict:
    context = browser.new_context(base_url=base, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, world.coordinator_email)
        page.goto(f"/meetings/{world.meeting_id}/agenda/build")
        empty_height = height(page)
        person = Person(page)
        started = time.perf_counter()
        try:
            strategy(person)
        except NotOffered as reason:
            return {"offered": False, "why": str(reason)}
        person.tally.seconds = time.perf_counter() - started
        problems = page.locator(".govuk-error-summary")
        if problems.count():
            person.tally.notes.append(problems.first.inner_text())
        counts = scheduled(world)
        return {
            "offered": True,
            "tally": asdict(person.tally),
            "actions": person.tally.clicks + person.tally.keys + person.tally.typed,
            "items": counts,
            "height_empty": empty_height,
            "height_full": height(page),
            "height_full_without_js": builder_height_without_js(browser, base, world),
        }
    finally:
        context.close()


def builder_height_without_js(browser, base: str, world: World) -> int:
    """Without JavaScript the builder's tabs are sections one after the other."""
    context = browser.new_context(base_url=base, viewport=VIEWPORT, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, world.coordinator_email)
        page.goto(f"/meetings/{world.meeting_id}/agenda/build")
        return height(page)
    finally:
        context.close()


# --- the chair records it by keyboard --------------------------------------------------------


def record_by_keyboard(browser, base: str, world: World) -> dict:
    from maf.agendas import services
    from maf.dbtypes import set_clock
    from maf.extensions import db
    from maf.forums.models import Meeting

    db.session.rollback()  # a new transaction, which sees the agenda the browser built
    meeting = db.session.get(Meeting, world.meeting_id)
    items = services.scheduled_items(meeting)
    kinds = [item.kind.value for item in items]
    names = [item.case.child.full_name for item in items]
    # The chair records in the room, as the meeting happens.
    set_clock(meeting.starts_at + timedelta(minutes=5))
    context = browser.new_context(base_url=base, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, world.chair_email)
        page.goto(f"/meetings/{world.meeting_id}/record")
        person = Person(page)
        started = time.perf_counter()
        person.activate(page.locator("a[href*='/record/items/']").first)
        keys_by_kind: dict[str, list[int]] = {}
        for number, kind in enumerate(kinds, start=1):
            keys_before = person.tally.keys
            heading = page.get_by_role("heading", level=1).inner_text()
            if heading != names[number - 1]:
                raise SystemExit(f"item {number}: expected {names[number - 1]}, on {heading}")
            person.fill(page.get_by_label("Discussion", exact=True), f"Item {number}: plan agreed.")
            if kind == "new_case":
                person.choose(page.get_by_label("Practitioner", exact=True))
                person.fill(page.get_by_label("Lead professional's name"), "Aisha Rahman")
            person.choose(page.locator("input[name=outcome][value=continue]"))
            button = (
                "Save and go to next item"
                if number < len(kinds)
                else "Save and go back to all items"
            )
            person.activate(page.get_by_role("button", name=button))
            keys_by_kind.setdefault(kind, []).append(person.tally.keys - keys_before)
            if page.locator(".govuk-error-summary").count():
                raise SystemExit(
                    f"item {number} was not saved: "
                    + page.locator(".govuk-error-summary").inner_text()
                )
        person.tally.seconds = time.perf_counter() - started
        saved = page.locator(".govuk-task-list__status", has_text="Saved").count()
        return {
            "tally": asdict(person.tally),
            "items": len(kinds),
            "saved": saved,
            "keys_per_item": {kind: sum(keys) / len(keys) for kind, keys in keys_by_kind.items()},
        }
    finally:
        context.close()
        set_clock(None)


# --- running it -----------------------------------------------------------------------------


def record_quickest(browser, base: str, worlds: dict[str, World], results: dict) -> None:
    """The chair records the agenda that the quickest offered strategy built."""
    built = [
        name
        for name, result in results["builder"].items()
        if result["offered"] and sum(result["items"].values()) == ITEMS
    ]
    quickest = min(built, key=lambda name: results["builder"][name]["actions"])
    results["record"] = record_by_keyboard(browser, base, worlds[quickest])
    results["record"]["agenda_built_by"] = quickest


def serve(app) -> tuple[str, object]:
    """The app on a free port of 127.0.0.1, in a thread of this process (as the browser tests'
    live_server), so that the app's clock moved here moves the server's."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def table(runs: dict[str, dict]) -> str:
    """The results as Markdown, one column per run (before, after)."""
    labels = list(runs)
    lines = [f"| | {' | '.join(labels)} |", "|---|" + "---|" * len(labels)]

    def row(title: str, value) -> None:
        lines.append(f"| {title} | {' | '.join(value(runs[label]) for label in labels)} |")

    for strategy in STRATEGIES:

        def built(run, strategy=strategy):
            return run["builder"].get(strategy, {"offered": False, "why": "not run"})

        def cell(run, pick, strategy=strategy):
            result = built(run, strategy)
            return pick(result) if result["offered"] else "not offered"

        row(f"**Build 40 items: {strategy}**", lambda run: "")
        row(
            "  actions (clicks + keys + characters)",
            lambda run, cell=cell: cell(run, lambda r: str(r["actions"])),
        )
        row(
            "  of which clicks / form submissions",
            lambda run, cell=cell: cell(
                run, lambda r: f"{r['tally']['clicks']} / {r['tally']['submits']}"
            ),
        )
        row(
            "  page loads",
            lambda run, cell=cell: cell(run, lambda r: str(r["tally"]["page_loads"])),
        )
        row("  seconds", lambda run, cell=cell: cell(run, lambda r: f"{r['tally']['seconds']:.1f}"))
        row(
            "  items on the agenda (new + reviews)",
            lambda run, cell=cell: cell(
                run,
                lambda r: (
                    f"{r['items'].get('new_case', 0)} + "
                    f"{r['items'].get('review', 0) + r['items'].get('sign_off', 0)}"
                ),
            ),
        )
        row(
            "  builder height at 0 → 40 items (px, 1280x800)",
            lambda run, cell=cell: cell(run, lambda r: f"{r['height_empty']} → {r['height_full']}"),
        )
        row(
            "  builder height at 40 items without JavaScript (px)",
            lambda run, cell=cell: cell(run, lambda r: str(r.get("height_full_without_js", "?"))),
        )
    record = [("**Record 40 items by keyboard (chair)**", lambda r: "")]
    record += [
        ("  key presses (Tab, Enter, Space, arrows)", lambda r: str(r["tally"]["keys"])),
        (
            "  key presses per new case / per review",
            lambda r: " / ".join(
                f"{r.get('keys_per_item', {}).get(kind, 0):.0f}" for kind in ("new_case", "review")
            ),
        ),
        ("  characters typed", lambda r: str(r["tally"]["typed"])),
        ("  page loads", lambda r: str(r["tally"]["page_loads"])),
        ("  seconds", lambda r: f"{r['tally']['seconds']:.1f}"),
        ("  items saved", lambda r: f"{r['saved']} of {r['items']}"),
    ]
    for title, pick in record:
        row(title, lambda run, pick=pick: pick(run["record"]) if run["record"] else "not run")
    return "\n".join(lines)


def commit() -> str:
    """The measured tree's commit, with "+ changes" when its files differ from it."""

    def git(*arguments: str) -> str:
        return subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *arguments],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if changed else "")


def section(text: str, runs: dict[str, dict]) -> str:
    """This benchmark's section of bench/RESULTS.md: how it was measured, then the table."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    trees = "; ".join(f"{label}: {run.get('commit', '?')}" for label, run in runs.items())
    about = (
        "`bench/agenda_clicks.py` (issue 14). A district of its own, whose monthly forum's next "
        f"meeting has {NEW_CASES} ready new cases and {REVIEWS} open cases due a review (seed "
        "004's largest agenda), made through the services; then Chromium (Playwright, "
        "headless, 1280x800) drives the real pages: the coordinator builds the 40-item agenda "
        "each way the builder offers (each on an identical district), and the chair records "
        "all 40 items on the meeting record by keyboard only, Tab forwards from the top of "
        "each page (no skip link), a one-line discussion and the outcome 'Continue, with a "
        "review' per item, and for a new case the lead professional the forum agreed "
        "(kind and name), which the record requires. "
        f"Columns, by commit: {trees}. Measured on {date.today():%-d %B %Y} on the machine "
        f"above, shared with other work (load average {load} at the end); seconds include "
        "Playwright's round trips (one check of the focused element per Tab), so they are "
        "the machine's time for those keystrokes, not a person's."
    )
    return (
        "## Building and recording a 40-item agenda in the browser\n\n"
        + textwrap.fill(about, 95, break_on_hyphens=False)
        + "\n\n"
        + text
        + "\n"
    )


def write_results(markdown_text: str) -> None:
    """Replace this benchmark's section of bench/RESULTS.md, leaving the rest alone, and
    keep the table in bench/results/agenda_clicks.txt."""
    RESULTS_TXT.write_text(markdown_text)
    block = f"{SECTION_START}\n{markdown_text}{SECTION_END}"
    current = RESULTS_MD.read_text()
    if SECTION_START in current and SECTION_END in current:
        before, rest = current.split(SECTION_START, 1)
        current = before + block + rest.split(SECTION_END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS_MD.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="this tree", help="the run's column heading")
    parser.add_argument("--json", type=Path, help="write this run's results here")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="earlier runs' JSON")
    parser.add_argument(
        "--write-results",
        action="store_true",
        help="write the table to bench/results/agenda_clicks.txt and bench/RESULTS.md",
    )
    parser.add_argument(
        "--strategies", nargs="*", choices=list(STRATEGIES), default=list(STRATEGIES)
    )
    parser.add_argument("--no-record", action="store_true", help="skip the chair's recording")
    args = parser.parse_args()

    url, work = environment.prepare("maf-agenda-clicks", None)
    import flask_migrate
    from playwright.sync_api import sync_playwright

    from maf import create_app
    from maf.extensions import db

    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        flask_migrate.upgrade()
        worlds = {name: seed_world(number) for number, name in enumerate(args.strategies, start=1)}
        for name, world in worlds.items():
            ready, proposed = candidates(world)
            if (ready, proposed) != (NEW_CASES, REVIEWS):
                raise SystemExit(f"{name}: {ready} ready and {proposed} reviews, not 10 and 30")
        db.session.remove()
    print(f"Seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    base, server = serve(app)
    results = {"label": args.label, "commit": commit(), "builder": {}, "record": None}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                with app.app_context():
                    for name in args.strategies:
                        strategy = STRATEGIES[name]
                        results["builder"][name] = build(browser, base, worlds[name], strategy)
                        print(f"{name}: {results['builder'][name]}", file=sys.stderr)
                    if not args.no_record:
                        record_quickest(browser, base, worlds, results)
            finally:
                browser.close()
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    runs = {}
    for earlier in args.compare:
        previous = json.loads(earlier.read_text())
        runs[previous["label"]] = previous
    runs[args.label] = results
    text = table(runs)
    print(text)
    if args.write_results:
        write_results(section(text, runs))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
