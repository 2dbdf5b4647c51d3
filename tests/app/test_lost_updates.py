"""No lost update anywhere two people can edit the same thing (issue 13, item 2: "Saves silently
overwrite each other … Same on the board report inputs").

Each test is the same story, told over HTTP for one editable thing: two people open the same
form; A saves; B saves from the page they opened before A's save. B's save is refused (409)
with a notice naming A and listing what A changed, B's typing still in the form and the form
now carrying the newer version; A's value is what is stored. B then saves again, deliberately,
and that save is kept."""

import html
import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import CaseStatus, ConsentKind, MatchVerdict, TierOutcome
from maf.extensions import db
from maf.forums import services as forum_services
from maf.forums.models import MeetingStatus, MemberRole
from maf.outcomes.models import Action, LeadKind, LeadProfessional, ProgressUpdate
from maf.reports import board
from maf.reports.models import BoardPeriod
from tests.conftest import PASSWORD, csrf_token_from, submit, version_from


@pytest.fixture
def second_client(app, database):
    return app.test_client()


def signed_in(client, user):
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    return client


class OpenedForm:
    """A form page as one person loaded it: its CSRF token and the version it was opened at."""

    def __init__(self, client, url: str):
        self.client, self.url = client, url
        self.html = client.get(url).text
        self.token = csrf_token_from(self.html)
        self.version = version_from(self.html)
        assert self.version, f"{url} carries no version"

    def save(self, data: dict, action: str | None = None):
        return self.client.post(
            action or self.url,
            data={"version": self.version, **data, "csrf_token": self.token},
        )

    def save_again(self, refused, data: dict, action: str | None = None):
        """Save from the re-shown form, which carries the version stored now."""
        self.version = version_from(refused.text)
        return self.save(data, action)


@pytest.fixture
def colleague(make_user, coordinator):
    """A second coordinator of the same district."""
    return make_user(Role.COORDINATOR, name="Tom Baker", districts=coordinator.districts)


@pytest.fixture
def open_twice(client, second_client, coordinator, colleague):
    """The coordinator (Priya Shah) and a colleague (Tom Baker) open the same page."""

    def open_(url: str) -> tuple[OpenedForm, OpenedForm]:
        return (
            OpenedForm(signed_in(client, coordinator), url),
            OpenedForm(signed_in(second_client, colleague), url),
        )

    return open_


def assert_refused_as_stale(response, *, changed_by: str, field: str, theirs: str, yours: str):
    """The 409 page: the notice names who saved, and the table lists the field with their
    value and this person's."""
    assert response.status_code == 409
    page = response.text
    assert "<title>Error: " in page, "the page title says the save did not go through"
    assert f"{changed_by} saved changes at" in page
    assert "Your changes have not been saved; they are still in the form below." in page
    notice = html.unescape(page[page.index('id="stale-edit"') :])
    cell = r"\s*<td[^>]*>(.*?)</td>"
    row = re.search(rf'<th scope="row"[^>]*>{re.escape(field)}</th>{cell}{cell}', notice, re.S)
    assert row, f"the notice does not list {field}"
    listed = tuple(value.strip() for value in row.groups())
    assert listed == (theirs, yours)


def typed_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page
    )
    assert match, f"no {name} box on the page"
    return match.group(1)


# --- board report inputs --------------------------------------------------------------------


def test_board_report_figures_saved_from_an_older_page_do_not_overwrite(coordinator, open_twice):
    charnwood = coordinator.districts[0]
    period = board.board_period(charnwood, date(2026, 4, 1), date(2026, 6, 30), coordinator)
    url = f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30"
    figures = {name: "0" for name in board.INPUT_LABELS}
    priya, tom = open_twice(url)

    assert priya.save({**figures, "target_started": "12"}).status_code == 302
    refused = tom.save({**figures, "practitioners_trained": "30"})

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Target for CAFs started",
        theirs="12",
        yours="0",
    )
    assert typed_value(refused.text, "practitioners_trained") == "30"
    db.session.expire_all()
    stored = db.session.scalar(select(BoardPeriod).where(BoardPeriod.id == period.id))
    assert (stored.target_started, stored.practitioners_trained) == (12, 0)

    # Tom keeps Priya's target and saves his training figure from the re-shown form.
    again = tom.save_again(
        refused, {**figures, "target_started": "12", "practitioners_trained": "30"}
    )
    assert again.status_code == 302
    db.session.expire_all()
    stored = db.session.get(BoardPeriod, period.id)
    assert (stored.target_started, stored.practitioners_trained) == (12, 30)


# --- forum details and meetings ---------------------------------------------------------------


def forum_form_data(forum, **changes) -> dict:
    data = {
        "district": str(forum.district_id),
        "name": forum.name,
        "venue": forum.venue,
        "chair": str(forum.chair_id or 0),
        "coordinator": str(forum.coordinator_id or 0),
        "week_of_month": str(forum.week_of_month),
        "weekday": str(forum.weekday),
        "months": [str(month) for month in forum.month_numbers],
        "start_time": f"{forum.start_time:%H:%M}",
        "length_minutes": str(forum.length_minutes),
        "new_case_minutes": str(forum.new_case_minutes),
        "review_minutes": str(forum.review_minutes),
        "new_case_capacity": str(forum.new_case_capacity),
        "review_capacity": str(forum.review_capacity),
    }
    return {**data, **changes}


def test_forum_details_saved_from_an_older_page_do_not_overwrite(open_twice, make_forum):
    forum = make_forum(venue="Loughborough Council Offices, Room 2")
    url = f"/forums/{forum.id}/edit"
    before = forum_form_data(forum)
    priya, tom = open_twice(url)

    assert priya.save({**before, "venue": "Southfields, Committee Room 1"}).status_code == 302
    refused = tom.save({**before, "review_capacity": "24"})

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Usual venue",
        theirs="Southfields, Committee Room 1",
        yours="Loughborough Council Offices, Room 2",
    )
    assert typed_value(refused.text, "review_capacity") == "24"
    db.session.expire_all()
    assert (forum.venue, forum.review_capacity) == ("Southfields, Committee Room 1", 30)

    merged = {**before, "venue": "Southfields, Committee Room 1", "review_capacity": "24"}
    assert tom.save_again(refused, merged).status_code == 302
    db.session.expire_all()
    assert (forum.venue, forum.review_capacity) == ("Southfields, Committee Room 1", 24)


def test_a_meeting_changed_from_an_older_page_is_not_moved_back(open_twice, make_meeting):
    meeting = make_meeting(day=date(2027, 1, 12))
    url = f"/meetings/{meeting.id}/edit"
    same = {"start_time": "09:30", "venue": meeting.venue}
    priya, tom = open_twice(url)

    moved = priya.save({**same, "date": ["19", "1", "2027"], "reason": "Room double-booked"})
    assert moved.status_code == 302
    refused = tom.save({**same, "date": ["12", "1", "2027"], "venue": "Southfields, Room 4"})

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Date",
        theirs="19 January 2027",
        yours="12 January 2027",
    )
    assert typed_value(refused.text, "venue") == "Southfields, Room 4"
    db.session.expire_all()
    assert (meeting.date, meeting.venue) == (date(2027, 1, 19), same["venue"])

    again = tom.save_again(
        refused, {**same, "date": ["19", "1", "2027"], "venue": "Southfields, Room 4"}
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert (meeting.date, meeting.venue) == (date(2027, 1, 19), "Southfields, Room 4")


def typed_text(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no {name} text area on the page"
    return html.unescape(match.group(1)).strip()


# --- progress updates -------------------------------------------------------------------------


def progress_form_data(action, summary: str) -> dict:
    data = {
        f"action_{action.id}": "in_progress",
        f"action_{action.id}_note": "",
        "summary": summary,
    }
    for number in range(1, 8):
        data[f"question_{number}"], data[f"question_{number}_comment"] = "good", ""
    return data


def test_a_progress_update_sent_from_an_older_page_does_not_replace_the_one_sent_since(
    client, second_client, coordinator, make_user, make_ready_case, make_meeting
):
    lead_user = make_user(Role.PRACTITIONER, email="zoe.brennan@example.org", name="Zoë Brennan")
    case = make_ready_case()
    lead = LeadProfessional(
        case_id=case.id,
        kind=LeadKind.PRACTITIONER,
        name="Zoë Brennan",
        email=lead_user.email,
        user_id=lead_user.id,
        agreed=True,
        starts_on=date(2027, 1, 12),
    )
    action = Action(
        case_id=case.id,
        description="Refer to the school nurse",
        owner_name="Zoë Brennan",
        due_on=date(2027, 2, 1),
    )
    april = make_meeting(date(2027, 4, 6))
    add_to_agenda(april, case, ItemKind.NEW_CASE, coordinator)  # an update is for an item
    update = ProgressUpdate(case=case, meeting=april, lead_professional=lead)
    db.session.add_all([lead, action, update])
    db.session.commit()
    url = f"/progress/{update.id}"
    zoe = OpenedForm(signed_in(client, lead_user), url)
    priya = OpenedForm(signed_in(second_client, coordinator), url)

    sent = zoe.save(progress_form_data(action, "Attendance is up to 92%."))
    assert sent.status_code == 302
    refused = priya.save(progress_form_data(action, "Mum says mornings are calmer."))

    assert_refused_as_stale(
        refused,
        changed_by="Zoë Brennan",
        field="Summary of progress since the last meeting",
        theirs="Attendance is up to 92%.",
        yours="Mum says mornings are calmer.",
    )
    assert typed_text(refused.text, "summary") == "Mum says mornings are calmer."
    db.session.expire_all()
    assert update.summary == "Attendance is up to 92%."

    both = "Attendance is up to 92%. Mum says mornings are calmer."
    assert priya.save_again(refused, progress_form_data(action, both)).status_code == 302
    db.session.expire_all()
    assert update.summary == both


# --- case and consent -------------------------------------------------------------------------


def test_withdrawing_a_case_from_an_older_page_shows_what_changed_and_keeps_the_reason(
    client, second_client, coordinator, colleague, make_case
):
    case = make_case()
    for candidate in case.match_candidates:
        case_services.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, coordinator)
    case_services.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    tom = OpenedForm(signed_in(second_client, colleague), f"/cases/{case.id}/withdraw")
    priya = signed_in(client, coordinator)
    page = priya.get(f"/cases/{case.id}").text
    ready = priya.post(f"/cases/{case.id}/ready", data={"csrf_token": csrf_token_from(page)})
    assert ready.status_code == 302

    refused = tom.save({"reason": "The family has moved to Derby"})

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Status",
        theirs="Ready for a forum",
        yours="Withdrawn",
    )
    assert typed_text(refused.text, "reason") == "The family has moved to Derby"
    db.session.expire_all()
    assert case.status == CaseStatus.READY_FOR_FORUM

    assert tom.save_again(refused, {"reason": "The family has moved to Derby"}).status_code == 302
    db.session.expire_all()
    assert (case.status, case.status_reason) == (
        CaseStatus.WITHDRAWN,
        "The family has moved to Derby",
    )


def test_a_consent_withdrawn_since_the_page_was_opened_is_shown_not_recorded_again(
    open_twice, make_case
):
    case = make_case()
    share = next(consent for consent in case.consents if consent.kind == ConsentKind.SHARE)
    url = f"/cases/{case.id}/consents/{share.id}/withdraw"
    priya, tom = open_twice(url)

    withdrawn = priya.save({"withdrawn_on": ["10", "11", "2026"], "note": "Mum phoned"})
    assert withdrawn.status_code == 302
    refused = tom.save({"withdrawn_on": ["11", "11", "2026"], "note": "Letter from dad"})

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Date consent was withdrawn",
        theirs="10 November 2026",
        yours="11 November 2026",
    )
    assert typed_text(refused.text, "note") == "Letter from dad"
    db.session.expire_all()
    assert (share.withdrawn_on, share.withdrawal_note) == (date(2026, 11, 10), "Mum phoned")

    # Saving again is deliberate, but a consent is withdrawn once: the rule says so.
    again = tom.save_again(
        refused, {"withdrawn_on": ["11", "11", "2026"], "note": "Letter from dad"}
    )
    assert "This consent has already been withdrawn" in again.text
    db.session.expire_all()
    assert share.withdrawal_note == "Mum phoned"


def test_a_tier_check_outcome_recorded_from_an_older_page_does_not_replace_the_one_since(
    open_twice, make_case
):
    make_case()
    # The same child again: the existing-CAF check finds the first case, so this one stays
    # "received" (its candidate undecided) while the tier 3/4 outcome is recorded.
    case = make_case()
    assert case.match_candidates and case.status == CaseStatus.RECEIVED
    url = f"/cases/{case.id}"
    action = f"/cases/{case.id}/tier-check"
    priya, tom = open_twice(url)

    proceed = {"outcome": "proceed", "reason": "CAMHS and school need one plan"}
    assert priya.save(proceed, action=action).status_code == 302
    signpost = {"outcome": "signpost", "reason": "Signposted to specialist CAMHS"}
    refused = tom.save(signpost, action=action)

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Outcome of the tier 3/4 check",
        theirs=TierOutcome.PROCEED.label,
        yours=TierOutcome.SIGNPOST.label,
    )
    assert typed_text(refused.text, "reason") == "Signposted to specialist CAMHS"
    db.session.expire_all()
    assert (case.tier_outcome, case.status) == (TierOutcome.PROCEED, CaseStatus.RECEIVED)

    assert tom.save_again(refused, signpost, action=action).status_code == 302
    db.session.expire_all()
    assert (case.tier_outcome, case.status) == (TierOutcome.SIGNPOST, CaseStatus.WITHDRAWN)


def test_a_same_child_verdict_from_an_older_page_does_not_reverse_the_one_given_since(
    open_twice, make_case
):
    make_case()
    case = make_case()  # the same child again, so the existing-CAF check finds the first
    candidate = case.match_candidates[0]
    url = f"/cases/{case.id}"
    action = f"/cases/{case.id}/candidates/{candidate.id}"
    priya, tom = open_twice(url)

    assert priya.save({"verdict": "different"}, action=action).status_code == 302
    refused = tom.save({"verdict": "same"}, action=action)

    assert_refused_as_stale(
        refused,
        changed_by="Priya Shah",
        field="Is Jessica Thompson the same child?",
        theirs="Different child",
        yours="Same child",
    )
    db.session.expire_all()
    assert candidate.verdict == MatchVerdict.DIFFERENT

    assert tom.save_again(refused, {"verdict": "same"}, action=action).status_code == 302
    db.session.expire_all()
    assert candidate.verdict == MatchVerdict.SAME


def test_of_two_saves_in_flight_at_once_the_second_is_refused_and_nothing_half_saved(
    coordinator, open_twice, monkeypatch
):
    """Both requests pass the version check, having read the row before either wrote; the
    second UPDATE names the version it read, finds the row moved on and changes nothing
    (SQLAlchemy's version_id_col), and the person is told rather than shown a failure."""
    charnwood = coordinator.districts[0]
    period = board.board_period(charnwood, date(2026, 4, 1), date(2026, 6, 30), coordinator)
    priya, tom = open_twice(f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30")
    figures = {name: "0" for name in board.INPUT_LABELS}
    assert priya.save({**figures, "target_started": "12"}).status_code == 302

    def read_before_the_first_save_was_committed(row, version, **_):
        set_committed_value(row, "version", version)

    monkeypatch.setattr(board, "require_version", read_before_the_first_save_was_committed)
    refused = tom.save({**figures, "practitioners_trained": "30"})

    assert refused.status_code == 409
    assert "Someone else saved this at the same moment" in refused.text
    assert "Your changes have not been saved." in refused.text
    db.session.expire_all()
    stored = db.session.get(BoardPeriod, period.id)
    assert (stored.target_started, stored.practitioners_trained) == (12, 0)


def test_a_meeting_moved_since_the_cancel_page_was_opened_is_not_cancelled_unseen(
    client, second_client, coordinator, colleague, make_meeting
):
    meeting = make_meeting(day=date(2027, 1, 12))
    priya = OpenedForm(signed_in(client, coordinator), f"/meetings/{meeting.id}/edit")
    tom = OpenedForm(signed_in(second_client, colleague), f"/meetings/{meeting.id}/cancel")

    moved = {"date": ["19", "1", "2027"], "start_time": "09:30", "venue": meeting.venue}
    assert priya.save(moved).status_code == 302
    refused = tom.save({"reason": "The chair is ill on the 12th"})

    assert_refused_as_stale(
        refused, changed_by="Priya Shah", field="Status", theirs="Planned", yours="Cancelled"
    )
    assert "Cancel the meeting on Tuesday 19 January 2027" in refused.text
    assert typed_text(refused.text, "reason") == "The chair is ill on the 12th"
    db.session.expire_all()
    assert meeting.status == MeetingStatus.PLANNED

    assert tom.save_again(refused, {"reason": "Chair ill; no date free"}).status_code == 302
    db.session.expire_all()
    assert meeting.status == MeetingStatus.CANCELLED


def test_removing_a_member_someone_removed_since_says_who_did(
    client, second_client, coordinator, colleague, make_forum, school
):
    forum = make_forum()
    member = forum_services.add_member(
        forum,
        name="Dr Amal Haddad",
        email="amal.haddad@example.org",
        agency=school,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    url, remove = f"/forums/{forum.id}", f"/forums/{forum.id}/members/{member.id}/remove"
    priya, tom = signed_in(client, coordinator), signed_in(second_client, colleague)
    priya_token, tom_token = (csrf_token_from(who.get(url).text) for who in (priya, tom))

    assert priya.post(remove, data={"csrf_token": priya_token}).status_code == 302
    page = tom.post(remove, data={"csrf_token": tom_token}, follow_redirects=True).text

    assert "Dr Amal Haddad had already been removed by Priya Shah." in page


def test_retiring_a_need_statement_someone_retired_since_says_who_did(
    client, second_client, make_user, need_statements
):
    need = need_statements[0]
    amira = make_user(Role.ADMIN, name="Amira Khan")
    other_admin = make_user(Role.ADMIN, name="Sam Patel")
    retire = f"/cases/needs/{need.id}/retire"
    amira_client, sam_client = signed_in(client, amira), signed_in(second_client, other_admin)
    tokens = [csrf_token_from(who.get("/cases/needs").text) for who in (amira_client, sam_client)]

    assert amira_client.post(retire, data={"csrf_token": tokens[0]}).status_code == 302
    page = sam_client.post(retire, data={"csrf_token": tokens[1]}, follow_redirects=True).text

    assert f"{need.text} had already been retired by Amira Khan." in html.unescape(page)
