"""No duplicate from a double click, a retry or a race (issue 13, "Double submission duplicates
records"; DESIGN.md §4 "No duplicate").

Every form that creates something carries a one-time token (maf/submissions.py). The same form
sent twice, one after the other, makes one row and the second answer says "This was already
saved" where the first said what it saved; sent twice at the same moment on real commits, it
still makes one row and neither answer is an error page.
"""

import importlib
import io
import pkgutil
import re
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select
from wtforms import SubmitField
from wtforms.fields.core import UnboundField

from maf import submissions
from maf.agendas.models import AgendaItem, ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role, User
from maf.cases.models import (
    Case,
    CaseStatus,
    Consent,
    InvolvementImport,
    NeedStatement,
    SharingWithoutConsent,
)
from maf.circulation.models import OutboxMessage
from maf.dbtypes import utcnow
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forms import Form, GovSubmitInput
from maf.forums.models import Forum, ForumMember, Meeting, MeetingStatus
from maf.outcomes.models import LeadKind, LeadProfessional, Minutes, MinutesStatus, ProgressUpdate
from maf.reports import board
from maf.reports.models import AuditSample, BoardEntry
from maf.submissions import FormSubmission
from tests.agendas.test_capacity_concurrency import _build_last_slot_scenario, _waiting_on_a_lock
from tests.app.test_concurrent_use import CONSENT
from tests.cases.test_case_pages import _intake_data
from tests.conftest import PASSWORD, IsolatedClient, csrf_token_from

ALREADY_SAVED = "This was already saved"

SHARING = {
    "decided_by_name": "Sam Patel, team manager",
    "decided_on": ["3", "11", "2026"],
    "ground": "significant_harm",
    "shared_with": "Leicestershire Police",
    "reason": "Risk of significant harm from an adult visiting the home",
}
RISK = {"risk-text": "Schools unsure of consent", "risk-response": "Guidance to heads"}


def once_token_from(html: str, name: str = "once") -> str:
    """The one-time token the page drew into the form whose token field is `name`."""
    match = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html) or re.search(
        rf'type="hidden" name="{name}" value="([^"]+)"', html
    )
    assert match, f"the page has no {name} field: the form would not be guarded"
    return match.group(1)


def post_twice(client, page_url: str, data: dict, action: str | None = None, name="once"):
    """Load the form once and send it twice, as a double click or a browser's retry does."""
    page = client.get(page_url).text
    data = {**data, "csrf_token": csrf_token_from(page), name: once_token_from(page, name)}
    first = client.post(action or page_url, data=data, follow_redirects=True)
    second = client.post(action or page_url, data=data, follow_redirects=True)
    return first, second


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def as_coordinator(client, coordinator, sign_in):
    sign_in(coordinator)
    return client


@pytest.fixture
def as_admin(client, make_user, sign_in):
    sign_in(make_user(Role.ADMIN))
    return client


# --- one after the other ---------------------------------------------------------------


def test_add_consent_sent_twice_records_one_consent(as_coordinator, make_case):
    case = make_case()
    before = count(Consent, Consent.case_id == case.id)
    first, second = post_twice(as_coordinator, f"/cases/{case.id}/consents/new", CONSENT)
    assert "Consent recorded." in first.text
    assert ALREADY_SAVED in second.text
    assert second.request.path == f"/cases/{case.id}"  # the case, where the consent is listed
    assert count(Consent, Consent.case_id == case.id) == before + 1


def test_sharing_without_consent_sent_twice_records_one_decision(as_coordinator, make_case):
    case = make_case()
    page = f"/cases/{case.id}/sharing-without-consent"
    first, second = post_twice(as_coordinator, page, SHARING)
    assert "The decision to share without consent has been recorded." in first.text
    assert ALREADY_SAVED in second.text
    assert count(SharingWithoutConsent, SharingWithoutConsent.case_id == case.id) == 1
    assert second.text.count("Risk of significant harm from an adult visiting the home") == 1


def test_a_board_entry_sent_twice_is_added_once(as_coordinator, coordinator):
    period = board.board_period(
        coordinator.districts[0], date(2026, 4, 1), date(2026, 6, 30), coordinator
    )
    url = f"/reports/board/{period.district_id}/2026-04-01/2026-06-30"
    first, second = post_twice(as_coordinator, url, RISK, f"{url}/entries/risk", "risk-once")
    assert "High risk added." in first.text
    assert ALREADY_SAVED in second.text
    assert count(BoardEntry, BoardEntry.board_period_id == period.id) == 1


def test_the_other_entry_forms_on_the_board_page_keep_their_own_tokens(as_coordinator, coordinator):
    """One page, three forms: adding a risk and then an issue from the same page adds both."""
    period = board.board_period(
        coordinator.districts[0], date(2026, 4, 1), date(2026, 6, 30), coordinator
    )
    url = f"/reports/board/{period.district_id}/2026-04-01/2026-06-30"
    page = as_coordinator.get(url).text
    csrf = csrf_token_from(page)
    as_coordinator.post(
        f"{url}/entries/risk",
        data={**RISK, "csrf_token": csrf, "risk-once": once_token_from(page, "risk-once")},
    )
    issue = {"issue-text": "Few referrals from GPs", "issue-response": "Visit the practices"}
    response = as_coordinator.post(
        f"{url}/entries/issue",
        data={**issue, "csrf_token": csrf, "issue-once": once_token_from(page, "issue-once")},
        follow_redirects=True,
    )
    assert "High-priority issue added." in response.text
    assert count(BoardEntry, BoardEntry.board_period_id == period.id) == 2


def test_a_caf_sent_twice_is_one_case(as_coordinator, school):
    as_coordinator.post(
        "/cases/new", data={"concern": "no", "csrf_token": _csrf(as_coordinator, "/cases/new")}
    )
    data = _intake_data(as_coordinator, school)
    data["once"] = once_token_from(as_coordinator.get("/cases/new/details").text)
    # Both requests of a double click carry the session as it was before the first answer:
    # still screened for safeguarding.
    screened = as_coordinator.get_cookie("maf_session").value
    first = as_coordinator.post("/cases/new/details", data=data, follow_redirects=True)
    as_coordinator.set_cookie("maf_session", screened)
    second = as_coordinator.post("/cases/new/details", data=data, follow_redirects=True)
    case_id = db.session.scalar(select(Case.id))
    assert f"CAF received as case {case_id}" in first.text
    assert ALREADY_SAVED in second.text
    assert second.request.path == f"/cases/{case_id}"
    assert count(Case) == 1


def _csrf(client, url: str) -> str:
    return csrf_token_from(client.get(url).text)


def test_a_forum_sent_twice_is_set_up_once(as_coordinator, coordinator):
    data = {
        "name": "Charnwood multi-agency forum",
        "district": str(coordinator.districts[0].id),
        "venue": "Loughborough Council Offices, Room 2",
        "chair": "0",
        "coordinator": str(coordinator.id),
        "weekday": "1",
        "week_of_month": "2",
        "months": ["1", "4", "7", "10"],
        "start_time": "09:30",
        "length_minutes": "180",
        "new_case_minutes": "20",
        "review_minutes": "10",
        "new_case_capacity": "10",
        "review_capacity": "30",
    }
    first, second = post_twice(as_coordinator, "/forums/new", data)
    forum_id = db.session.scalar(select(Forum.id))
    assert "Forum saved." in first.text, first.text
    # Before the token, the repeat was refused as "A forum with this name already exists".
    assert ALREADY_SAVED in second.text
    assert second.request.path == f"/forums/{forum_id}"
    assert count(Forum) == 1


def test_a_member_sent_twice_is_added_once(as_coordinator, make_forum, school):
    forum = make_forum()
    data = {
        "name": "Anna Brown",
        "email": "anna.brown@example.org",
        "agency": str(school.id),
        "role": "standing",
    }
    first, second = post_twice(
        as_coordinator, f"/forums/{forum.id}", data, f"/forums/{forum.id}/members"
    )
    assert "Anna Brown added to the forum." in first.text
    # Before the token: "anna.brown@example.org is already a member of this forum".
    assert ALREADY_SAVED in second.text
    assert "already a member" not in second.text
    assert count(ForumMember, ForumMember.forum_id == forum.id) == 1


def test_the_years_meetings_sent_twice_are_added_once(as_coordinator, make_forum):
    forum = make_forum()
    first, second = post_twice(
        as_coordinator, f"/forums/{forum.id}", {"year": "2028"}, f"/forums/{forum.id}/schedule"
    )
    assert "4 meetings added for 2028." in first.text
    assert ALREADY_SAVED in second.text
    assert count(Meeting, Meeting.forum_id == forum.id) == 4


def test_adding_a_case_to_the_agenda_twice_adds_it_once(
    as_coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting()
    case = make_ready_case()
    page = as_coordinator.get(f"/meetings/{meeting.id}/agenda/build").text
    # "Add selected to the agenda": its token is the one drawn in the form it posts to.
    action = f"/meetings/{meeting.id}/agenda/selected"
    form = re.search(
        rf'action="{action}"[^>]*>\s*<input type="hidden" name="csrf_token"[^>]*>'
        r'\s*<input type="hidden" name="once" value="([^"]+)"',
        page,
    )
    assert form, "the add form carries no token"
    data = {
        "csrf_token": csrf_token_from(page),
        "case": str(case.id),
        f"kind-{case.id}": "new_case",
        "once": form.group(1),
    }
    first = as_coordinator.post(action, data=data, follow_redirects=True)
    second = as_coordinator.post(action, data=data, follow_redirects=True)
    assert "Added 1 new case." in first.text
    # Before the token: a 409 saying the case "is on an agenda", for the person's own add.
    assert second.status_code == 200
    assert ALREADY_SAVED in second.text
    assert count(AgendaItem, AgendaItem.meeting_id == meeting.id) == 1


def test_a_need_statement_sent_twice_is_added_once(as_admin):
    before = count(NeedStatement)
    data = {"domain": "family_and_environment", "element": "Housing", "text": "Rent arrears"}
    first, second = post_twice(as_admin, "/cases/needs", data)
    assert "Need statement added." in first.text
    assert ALREADY_SAVED in second.text
    assert "That need statement already exists" not in second.text
    assert count(NeedStatement) == before + 1


def test_a_correction_sent_twice_starts_one_new_version(as_coordinator, make_meeting):
    meeting = make_meeting(status=MeetingStatus.HELD)
    db.session.add(
        Minutes(meeting_id=meeting.id, version=1, status=MinutesStatus.APPROVED, document=b"frozen")
    )
    db.session.commit()
    page = f"/meetings/{meeting.id}/minutes"
    action = f"/meetings/{meeting.id}/minutes/correct"
    first, second = post_twice(as_coordinator, page, {"note": "Item 1: the date"}, action)
    assert "Version 2 started as a draft" in first.text
    # Before the token: "Version 2 is still a draft: approve it before correcting it".
    assert ALREADY_SAVED in second.text
    assert count(Minutes, Minutes.meeting_id == meeting.id) == 2


def test_a_register_file_sent_twice_is_imported_once(as_coordinator):
    content = (
        b"given_name,family_name,date_of_birth,postcode,service,status,contact\n"
        b"Jessica,Thompson,2014-03-09,LE11 3AB,CIN,open,\n"
    )
    page = as_coordinator.get("/cases/register").text
    answers = [
        as_coordinator.post(
            "/cases/register",
            data={
                "csrf_token": csrf_token_from(page),
                "once": once_token_from(page),
                "file": (io.BytesIO(content), "cin-export.csv"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        for _ in range(2)
    ]
    assert "1 row imported; 0 rows not imported" in answers[0].text
    assert ALREADY_SAVED in answers[1].text
    assert count(InvolvementImport) == 1
    # The page shown after an import carries a new token, so the next file is imported.
    assert once_token_from(answers[0].text) != once_token_from(page)


def test_a_reset_request_sent_twice_sends_one_email(client, make_user, monkeypatch):
    from itsdangerous import timed

    user = make_user(email="known@example.org")
    # The two posts land in different seconds (a retry after a slow answer): each would
    # otherwise sign a different link and queue a second email.
    seconds = iter(range(1_900_000_000, 1_900_000_010))
    monkeypatch.setattr(timed.TimestampSigner, "get_timestamp", lambda self: next(seconds))
    first, second = post_twice(client, "/sign-in/forgotten", {"email": user.email})
    assert "Check your email" in first.text and "Check your email" in second.text
    assert count(OutboxMessage, OutboxMessage.recipient_email == user.email) == 1


def test_an_audit_sample_drawn_twice_is_drawn_once(as_coordinator, make_case, app_clock):
    """Seed 002 E: 1 in 10 closed CAFs a quarter; one sample per quarter."""
    app_clock.london(date(2026, 11, 2))
    case = make_case()
    case.status, case.closed_on = CaseStatus.CLOSED, date(2026, 8, 10)
    db.session.commit()
    first, second = post_twice(as_coordinator, "/audits", {"quarter": "2026-07-01", "seed": ""})
    sample_id = db.session.scalar(select(AuditSample.id))
    assert "Sample drawn for July to September 2026" in first.text
    # Before the token: "A sample has already been drawn for July to September 2026".
    assert ALREADY_SAVED in second.text
    assert second.request.path == f"/audits/{sample_id}"
    assert count(AuditSample) == 1


def test_a_form_refused_by_a_rule_can_be_corrected_and_sent_with_the_same_token(as_admin):
    """The service claims the token, then a rule refuses: the refusal rolls the token back
    with everything else, so the corrected form (which keeps it) saves."""
    existing = db.session.scalar(select(NeedStatement.text).limit(1))
    page = as_admin.get("/cases/needs").text
    data = {
        "domain": "family_and_environment",
        "element": "Housing",
        "text": existing,
        "csrf_token": csrf_token_from(page),
        "once": once_token_from(page),
    }
    refused = as_admin.post("/cases/needs", data=data)
    assert "That need statement already exists" in refused.text
    assert once_token_from(refused.text) == data["once"], "the corrected form keeps its token"
    saved = as_admin.post(
        "/cases/needs", data={**data, "text": "Rent arrears"}, follow_redirects=True
    )
    assert "Need statement added." in saved.text
    assert count(FormSubmission) == 1


# --- at the same moment, on real commits -------------------------------------------------

# How long A waits for B to block on A's token (PostgreSQL shows it in pg_stat_activity).
BLOCK_TIMEOUT = 3.0
# SQLite cannot show that a connection waits for the write lock; A holds it this long at most
# (B finishing first, before A's commit, ends the wait and fails the test).
SQLITE_HOLD = 0.5
THREAD_TIMEOUT = 15.0


def _signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/sign-in").text
    client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    return client


def _board_period(ids) -> str:
    district = db.session.scalar(select(District))
    user = db.session.get(User, ids["user_a"])
    period = board.board_period(district, date(2026, 4, 1), date(2026, 6, 30), user)
    return f"/reports/board/{period.district_id}/2026-04-01/2026-06-30"


def _race(app, monkeypatch, pause_in, post_a, post_b):
    """Send `post_a`, stop it inside its transaction once it has called `pause_in` (module,
    function name), send `post_b`, wait until B waits for A (seen on PostgreSQL; SQLite gives
    it a moment), then let A finish. Returns the two answers and what B waited on."""
    postgres = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"
    module, name = pause_in
    real = getattr(module, name)
    a_paused, release_a, b_finished = threading.Event(), threading.Event(), threading.Event()

    def pausing_a(*args, **kwargs):
        result = real(*args, **kwargs)
        if threading.current_thread().name == "post-a":
            a_paused.set()
            release_a.wait(THREAD_TIMEOUT)
        return result

    monkeypatch.setattr(module, name, pausing_a)
    answers = {}

    def post(key, send):
        try:
            answers[key] = send()
        except Exception as error:  # noqa: BLE001 (a 500 in a real server; reported below)
            answers[key] = error
        finally:
            if key == "b":
                b_finished.set()

    thread_a = threading.Thread(target=post, args=("a", post_a), name="post-a")
    thread_b = threading.Thread(target=post, args=("b", post_b), name="post-b")
    thread_a.start()
    blocked = []
    try:
        assert a_paused.wait(THREAD_TIMEOUT), f"the first post never got there: {answers}"
        thread_b.start()
        if postgres:
            with app.app_context(), db.engine.connect() as observer:
                deadline = time.monotonic() + BLOCK_TIMEOUT
                while not b_finished.is_set() and time.monotonic() < deadline:
                    blocked = _waiting_on_a_lock(observer)
                    if blocked:
                        break
                    observer.rollback()
                    time.sleep(0.02)
        else:
            b_finished.wait(SQLITE_HOLD)
        assert not b_finished.is_set(), "the second post did not wait for the first"
    finally:
        release_a.set()
        thread_a.join(THREAD_TIMEOUT)
        if thread_b.ident:
            thread_b.join(THREAD_TIMEOUT)
    assert not thread_a.is_alive() and not thread_b.is_alive(), "a post is stuck"
    failed = {key: answer for key, answer in answers.items() if isinstance(answer, Exception)}
    assert failed == {}, "an error page (500) instead of an answer"
    return answers, blocked if postgres else None


SCENARIOS = {
    # name: (page and action from the committed scenario, data, token field, the rows made)
    "add consent": (
        lambda ids: (f"/cases/{ids['case_b']}/consents/new",) * 2,
        CONSENT,
        "once",
        lambda ids: count(Consent, Consent.case_id == ids["case_b"]),
        "Consent recorded.",
    ),
    "sharing without consent": (
        lambda ids: (f"/cases/{ids['case_b']}/sharing-without-consent",) * 2,
        SHARING,
        "once",
        lambda ids: count(SharingWithoutConsent),
        "The decision to share without consent has been recorded.",
    ),
    "board entry": (
        lambda ids: (lambda url: (url, f"{url}/entries/risk"))(_board_period(ids)),
        RISK,
        "risk-once",
        lambda ids: count(BoardEntry),
        "High risk added.",
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_same_form_sent_twice_at_once_makes_one_row(make_scratch_app, monkeypatch, scenario):
    pages, data, token_field, rows, saved_message = SCENARIOS[scenario]
    app = make_scratch_app("idempotent")
    app.test_client_class = IsolatedClient
    with app.app_context():
        ids = _build_last_slot_scenario()
        page_url, action = pages(ids)
        db.session.commit()
        before = rows(ids)
        db.session.remove()

    # One page drawn, its form sent from two connections (a double click whose first request
    # the browser has not finished, or a proxy's retry).
    first, second = (_signed_in(app, "priya.shah@example.org") for _ in range(2))
    page = first.get(page_url).text
    token = once_token_from(page, token_field)
    bodies = {
        "a": {**data, token_field: token, "csrf_token": csrf_token_from(page)},
        "b": {**data, token_field: token, "csrf_token": _csrf(second, page_url)},
    }

    # A stops inside its transaction at the worst moment: it has claimed the token and made
    # its row but not committed. B is sent then, and must wait for A and answer as A did.
    from maf import submissions

    answers, blocked = _race(
        app,
        monkeypatch,
        (submissions, "created"),
        lambda: first.post(action, data=bodies["a"], follow_redirects=True),
        lambda: second.post(action, data=bodies["b"], follow_redirects=True),
    )

    assert answers["a"].status_code == 200 and saved_message in answers["a"].text
    assert answers["b"].status_code == 200, answers["b"].text[:500]
    assert ALREADY_SAVED in answers["b"].text
    if blocked is not None:  # PostgreSQL: B really raced A, waiting on A's token
        assert len(blocked) == 1 and "form_submission" in blocked[0].lower(), blocked
    with app.app_context():
        assert rows(ids) == before + 1
        assert count(FormSubmission) == 1


# --- every submit button ignores a second click ------------------------------------------

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _template_sources():
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield path.relative_to(TEMPLATES), path.read_text()


def test_every_govuk_button_that_submits_prevents_a_double_click():
    """GOV.UK Frontend's prevent-double-click: a second click within a second is ignored, so
    a double click sends one request. A button that is a link ("href") submits nothing."""
    forgotten = [
        f"{name}: {call[:80]}"
        for name, source in _template_sources()
        for call in re.findall(r"govukButton\((\{.*?\})\)\s*}}", source, re.S)
        if '"href"' not in call and '"preventDoubleClick": true' not in call
    ]
    assert forgotten == []


def test_every_hand_written_submit_button_prevents_a_double_click():
    forgotten = [
        f"{name}: {tag}"
        for name, source in _template_sources()
        for tag in re.findall(r"<button\b[^>]*>", source)
        if 'type="button"' not in tag
        and not ('data-module="govuk-button"' in tag and 'data-prevent-double-click="true"' in tag)
    ]
    assert forgotten == []
    inputs = [
        name for name, source in _template_sources() if re.search(r'<input[^>]*"submit"', source)
    ]
    assert inputs == [], "an <input type=submit> cannot be GOV.UK's button; use a <button>"


def _all_form_classes():
    import maf

    for module in pkgutil.walk_packages(maf.__path__, "maf."):
        importlib.import_module(module.name)
    found, waiting = set(), [Form]
    while waiting:
        for subclass in waiting.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                waiting.append(subclass)
    return found


def test_every_submit_field_renders_the_button_that_prevents_a_double_click(app):
    forgotten = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in _all_form_classes()
        for name, field in vars(form).items()
        if isinstance(field, UnboundField)
        and issubclass(field.field_class, SubmitField)
        and not isinstance(field.kwargs.get("widget"), GovSubmitInput)
    ]
    assert forgotten == []
    with app.test_request_context():
        from maf.cases.forms import ConsentForm

        button = str(ConsentForm().submit())
    assert 'data-prevent-double-click="true"' in button
    assert 'data-module="govuk-button"' in button


def _press_twice_at_once(app, monkeypatch, action: str, pause_in):
    """A button of the agenda builder (no form to carry a token) pressed by two signed-in
    coordinators at the same moment."""
    first, second = (_signed_in(app, "priya.shah@example.org") for _ in range(2))
    builder = action.rsplit("/", 1)[0] + "/agenda/build"
    tokens = {"a": _csrf(first, builder), "b": _csrf(second, builder)}
    return _race(
        app,
        monkeypatch,
        pause_in,
        lambda: first.post(action, data={"csrf_token": tokens["a"]}, follow_redirects=True),
        lambda: second.post(action, data={"csrf_token": tokens["b"]}, follow_redirects=True),
    )


def test_asking_for_progress_updates_twice_at_once_asks_once(make_scratch_app, monkeypatch):
    """The button has no form to carry a token; the natural key (one update per case and
    meeting) holds, and the second press waits for the first instead of tripping it (500)."""
    app = make_scratch_app("progress_requests")
    app.test_client_class = IsolatedClient
    with app.app_context():
        ids = _build_last_slot_scenario()
        case = db.session.get(Case, ids["case_a"])
        case.status = CaseStatus.OPEN
        db.session.add(
            LeadProfessional(
                case_id=case.id,
                kind=LeadKind.PRACTITIONER,
                name="Anna Brown",
                email="anna.brown@example.org",
                agreed=True,
                starts_on=date(2026, 10, 13),
            )
        )
        db.session.commit()
        meeting = db.session.get(Meeting, ids["meeting"])
        add_to_agenda(meeting, case, ItemKind.REVIEW, db.session.get(User, ids["user_a"]))
        db.session.remove()
    from maf.outcomes import progress

    answers, blocked = _press_twice_at_once(
        app,
        monkeypatch,
        f"/meetings/{ids['meeting']}/progress-requests",
        (progress, "_queue_request"),
    )

    assert answers["a"].status_code == 200
    assert "Asked 1 lead professional for a progress update." in answers["a"].text
    assert answers["b"].status_code == 200, answers["b"].text[:500]
    assert "No one new to ask" in answers["b"].text
    if blocked is not None:  # PostgreSQL: B waited for A's lock on the meeting
        assert len(blocked) == 1 and blocked[0].lstrip().upper().startswith("UPDATE MEETING")
    with app.app_context():
        assert count(ProgressUpdate) == 1
        assert count(OutboxMessage, OutboxMessage.recipient_email == "anna.brown@example.org") == 1


def test_a_caf_sent_twice_at_once_is_one_case(make_scratch_app, monkeypatch):
    """Both requests of a double click carry the session as it was: screened for
    safeguarding, so only the token stops the second CAF."""
    app = make_scratch_app("intake_race")
    app.test_client_class = IsolatedClient
    with app.app_context():
        _build_last_slot_scenario()
        school = db.session.scalar(select(Agency))
        before = count(Case)
        db.session.remove()
    first, second = (_signed_in(app, "priya.shah@example.org") for _ in range(2))
    bodies = {}
    for key, client in (("a", first), ("b", second)):
        client.post("/cases/new", data={"concern": "no", "csrf_token": _csrf(client, "/cases/new")})
        bodies[key] = _intake_data(client, school, given_name="Ellie", family_name="Marsh")
    token = once_token_from(first.get("/cases/new/details").text)
    bodies["a"]["once"] = bodies["b"]["once"] = token

    from maf import submissions

    answers, blocked = _race(
        app,
        monkeypatch,
        (submissions, "created"),
        lambda: first.post("/cases/new/details", data=bodies["a"], follow_redirects=True),
        lambda: second.post("/cases/new/details", data=bodies["b"], follow_redirects=True),
    )

    with app.app_context():
        case_id = db.session.scalar(select(Case.id).order_by(Case.id.desc()))
        assert count(Case) == before + 1
    assert f"CAF received as case {case_id}" in answers["a"].text
    assert ALREADY_SAVED in answers["b"].text
    assert answers["b"].request.path == f"/cases/{case_id}"
    if blocked is not None:
        assert len(blocked) == 1 and "form_submission" in blocked[0].lower(), blocked


def test_circulating_twice_at_once_sends_the_agenda_once(make_scratch_app, monkeypatch):
    """Circulate pressed twice (or by two coordinators) at the same moment: one set of
    emails, and the second press is answered that nothing has changed, not with an error."""
    app = make_scratch_app("circulate_race")
    app.test_client_class = IsolatedClient
    with app.app_context():
        ids = _build_last_slot_scenario()
        meeting = db.session.get(Meeting, ids["meeting"])
        user = db.session.get(User, ids["user_a"])
        add_to_agenda(meeting, db.session.get(Case, ids["case_a"]), ItemKind.NEW_CASE, user)
        db.session.remove()
    from maf.forums import services as forum_services

    answers, blocked = _press_twice_at_once(
        app,
        monkeypatch,
        f"/meetings/{ids['meeting']}/circulate",
        (forum_services, "change_meeting_status"),
    )

    assert "emails queued" in answers["a"].text
    assert answers["b"].status_code == 200, answers["b"].text[:500]
    assert "Nothing has changed since the agenda was last circulated" in answers["b"].text
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage.dedupe_key)).all()
        assert len(sent) == len(set(sent)) and sent, sent
        assert db.session.get(Meeting, ids["meeting"]).status == MeetingStatus.AGENDA_CIRCULATED
    if blocked is not None:  # PostgreSQL: B waited for A's lock on the meeting
        assert blocked and blocked[0].lstrip().upper().startswith("UPDATE MEETING"), blocked


def test_tokens_are_forgotten_once_no_session_could_send_their_form_again(app_clock, coordinator):
    """The token table does not grow for ever: a form is posted within the session it was
    drawn in, and a session lasts at most 12 hours, so only tokens older than that go; a
    younger one still answers a repeat."""
    app_clock.london(date(2027, 1, 12), 9, 0)
    old = submissions.new_form_token()
    submissions.claim(old, "consent", coordinator)
    db.session.commit()
    app_clock.london(date(2027, 1, 12), 20, 0)
    recent = submissions.new_form_token()
    submissions.claim(recent, "consent", coordinator)
    db.session.commit()

    app_clock.london(date(2027, 1, 12), 20, 59)  # 11 h 59 min after the first
    assert submissions.forget_spent_tokens(utcnow()) == 0
    app_clock.london(date(2027, 1, 12), 21, 1)  # 12 h 1 min after the first
    assert submissions.forget_spent_tokens(utcnow()) == 1
    tokens = db.session.scalars(select(FormSubmission.token)).all()
    assert old not in tokens and recent in tokens
    with pytest.raises(submissions.AlreadySaved):
        submissions.claim(recent, "consent", coordinator)
