"""What the simulated people do in `make load` (bench/load.py runs this under locust).

Coordinators, the forum chair and practitioners sign in with the demo accounts (several
simulated people share an account where the demo has too few) and move between their main
pages as a person would: each finds its links on the pages it is shown, never by guessing ids.
Two kinds of write go through the real forms with their CSRF tokens: coordinators add risks to
their district's board report, and the chair saves the discussion of an agenda item on the
meeting record. Every write the server acknowledged, and every audited page read, is tallied
to the JSON file named by MAF_LOAD_TALLY, so load.py can check none was lost.
"""

import itertools
import json
import os
import random
import re
from collections import Counter, defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import StatsError

from maf.auth.models import Role
from maf.demo import DEMO_PASSWORD, USERS

COORDINATORS = [user.email for user in USERS if Role.COORDINATOR in user.roles]
# The demo's forums all have this chair; the practitioner who is also a chair chairs none.
CHAIR = "chair@example.org"
PRACTITIONERS = [user.email for user in USERS if Role.PRACTITIONER in user.roles]

# What the server acknowledged; written out when locust quits.
BOARD_ENTRIES: list[str] = []
ITEM_RECORDS: defaultdict[str, list[str]] = defaultdict(list)
AUDITED_READS: Counter[str] = Counter()
PEOPLE: Counter[str] = Counter()


def _timings(entry) -> dict:
    return {
        "method": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        **{f"p{round(q * 100)}": entry.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)},
    }


@events.quitting.add_listener
def _write_tally(environment, **_kwargs):
    # Written here, after every person has finished, rather than from locust's CSV files,
    # which are refreshed each second and can miss the last requests.
    path = os.environ.get("MAF_LOAD_TALLY")
    if not path:
        return
    stats = environment.stats
    with open(path, "w") as tally:
        json.dump(
            {
                "board_entries": BOARD_ENTRIES,
                "item_records": ITEM_RECORDS,
                "audited_reads": AUDITED_READS,
                "people": PEOPLE,
                "timings": [_timings(entry) for _, entry in sorted(stats.entries.items())]
                + [_timings(stats.total)],
                "failures": [
                    f"{error.method} {error.name}: {StatsError.parse_error(error.error)} "
                    f"({error.occurrences}×)"
                    for error in stats.errors.values()
                ],
                # A task that broke (a page without the link or form it should have).
                "exceptions": [
                    f"{exception['msg']} ({exception['count']}×)"
                    for exception in environment.runner.exceptions.values()
                ],
            },
            tally,
        )


class FormReader(HTMLParser):
    """The fields a browser would send from the form that posts to `action` (None: the form
    without an action, which posts to its own page)."""

    def __init__(self, action: str | None):
        super().__init__()
        self.action, self.inside, self.fields = action, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "option" and self.select is not None:
            # The first option unless another is marked selected.
            if self.select[1] is None or "selected" in attrs:
                self.select[1] = attrs.get("value", "")
        elif "name" not in attrs:
            return
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in attrs:
                return
            if kind not in ("submit", "button"):
                self.fields.append([attrs["name"], attrs.get("value") or ""])
        elif tag == "textarea":
            self.textarea = [attrs["name"], ""]
            self.fields.append(self.textarea)
        elif tag == "select":
            self.select = [attrs["name"], None]
            self.fields.append(self.select)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


def form_fields(html: str, action: str | None) -> list[list[str]]:
    reader = FormReader(action)
    reader.feed(html)
    if not reader.fields:
        raise LookupError(f"no form posting to {action}")
    return reader.fields


def pick(options: list):
    return random.choice(options)  # noqa: S311 - which page to visit next, not a secret


def links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(f'href="({pattern})"', html)))


class Person(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)  # quicker than people read, so the load errs on the heavy side
    # Each kind of person numbers its own, and takes its accounts in turn.
    accounts: list[str]
    numbering: itertools.count

    def on_start(self):
        self.number = next(type(self).numbering)
        PEOPLE[type(self).__name__] += 1
        self.email = self.accounts[(self.number - 1) % len(self.accounts)]
        self.writes = itertools.count(1)
        # A person whose sign-in fails tries again, rather than spending the run signed out
        # and turning one failure into a failure on every page after it.
        for _attempt in range(5):
            page = self.client.get("/sign-in", name="sign-in page")
            fields = dict(form_fields(page.text, None))
            fields.update(email=self.email, password=DEMO_PASSWORD)
            if self.post("/sign-in", fields, "sign in", expect="/"):
                break
            self.wait()
        else:
            raise StopUser()
        self.home = self.page("/", "dashboard")
        self.discover()

    def discover(self):
        """Collect the links this person will follow from their own pages."""

    def page(self, url: str, name: str, audited: bool = False) -> str:
        with self.client.get(url, name=name, catch_response=True) as response:
            # A lost session shows the sign-in page with 200: that is a failure too.
            if response.history and urlsplit(response.url).path == "/sign-in":
                response.failure("sent to the sign-in page")
            elif audited and response.ok:
                AUDITED_READS[name] += 1
        return response.text

    def post(self, url: str, fields, name: str, expect: str, stale_ok: bool = False) -> bool:
        """Send a form; the answer must be the redirect a browser follows after a save (or,
        with `stale_ok`, the 409 that refuses a save from a page someone saved after: several
        people on one account save the same item, and none may overwrite another unseen)."""
        with self.client.post(
            url, data=fields, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "")
            if stale_ok and response.status_code == 409 and "saved changes" in response.text:
                response.success()
                return False
            if response.status_code == 302 and location.split("#")[0].endswith(expect):
                response.success()
            else:
                response.failure(f"{response.status_code} to {location or 'no redirect'}")
                return False
        return True

    def unique_text(self, what: str) -> str:
        return f"Load test {type(self).__name__} {self.number} {what} {next(self.writes)}"


class Coordinator(Person):
    weight = 2
    accounts = COORDINATORS
    numbering = itertools.count(1)

    def discover(self):
        queue = self.page("/cases/", "case queue")
        breaches = self.page("/cases/breaches", "time rules")
        self.cases = links(queue + breaches, r"/cases/\d+")
        self.builders = links(self.home, r"/meetings/\d+/agenda/build")
        boards = self.page("/reports/board", "board reports")
        self.boards = links(boards, r"/reports/board/\d+/[\d-]+/[\d-]+")

    @task(3)
    def dashboard(self):
        self.page("/", "dashboard")

    @task(2)
    def queue(self):
        self.page("/cases/", "case queue")

    @task(3)
    def case(self):
        if self.cases:
            self.page(pick(self.cases), "case page", audited=True)

    @task(2)
    def agenda_builder(self):
        if self.builders:
            self.page(pick(self.builders), "agenda builder", audited=True)

    @task(1)
    def reports(self):
        html = self.page("/reports", "reports")
        # A browser fetches every chart the page shows; they are drawn on the server.
        for chart in set(re.findall(r'src="(/reports/charts/[^"]+)"', html)):
            self.client.get(chart.replace("&amp;", "&"), name="report chart (svg)")

    @task(1)
    def my_actions(self):
        self.page("/actions", "my actions")

    @task(2)
    def add_board_risk(self):
        board = pick(self.boards)
        action = f"{board}/entries/risk"
        fields = form_fields(self.page(board, "board report"), action)
        text = self.unique_text("risk")
        for field in fields:
            if field[0] == "risk-text":
                field[1] = text
            elif field[0] == "risk-response":
                field[1] = "Raised at the next cluster meeting"
        if self.post(action, fields, "add board risk", expect=board):
            BOARD_ENTRIES.append(text)
            self.page(board, "board report")


class Chair(Person):
    weight = 1
    accounts = [CHAIR]
    numbering = itertools.count(1)

    def discover(self):
        self.records = links(self.home, r"/meetings/\d+/record")
        self.agendas = [record.replace("/record", "/agenda") for record in self.records]
        # The items of the records, each on its own page, where a discussion can be saved.
        self.items = [
            item
            for record in self.records
            for item in links(
                self.page(record, "meeting record", audited=True),
                r"/meetings/\d+/record/items/\d+",
            )
        ]

    @task(2)
    def dashboard(self):
        self.page("/", "dashboard")

    @task(2)
    def meeting_record(self):
        self.page(pick(self.records), "meeting record", audited=True)

    @task(1)
    def agenda(self):
        self.page(pick(self.agendas), "agenda page", audited=True)

    @task(1)
    def my_actions(self):
        self.page("/actions", "my actions")

    @task(3)
    def save_discussion(self):
        item_page = pick(self.items)
        fields = form_fields(self.page(item_page, "meeting record item", audited=True), item_page)
        item_id = item_page.rsplit("/", 1)[1]
        text = self.unique_text("discussion")
        for field in fields:
            if field[0] == "discussion":
                field[1] = text
        if self.post(item_page, fields, "save item discussion", expect=item_page, stale_ok=True):
            ITEM_RECORDS[item_id].append(text)
            self.page(item_page, "meeting record item", audited=True)


class Practitioner(Person):
    weight = 2
    accounts = PRACTITIONERS
    numbering = itertools.count(1)

    def discover(self):
        mine = self.page("/my-cases", "my cases")
        self.cases = links(self.home + mine, r"/cases/\d+")
        self.agendas = links(self.home, r"/meetings/\d+/agenda")

    @task(3)
    def dashboard(self):
        self.page("/", "dashboard")

    @task(2)
    def my_cases(self):
        self.page("/my-cases", "my cases")

    @task(2)
    def my_actions(self):
        self.page("/actions", "my actions")

    @task(3)
    def case(self):
        if self.cases:
            self.page(pick(self.cases), "case page", audited=True)

    @task(2)
    def agenda(self):
        if self.agendas:
            self.page(pick(self.agendas), "agenda page", audited=True)
