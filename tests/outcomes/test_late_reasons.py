"""Why a deadline is missed (issue 14 point 2): the coordinator records it on one page, and the
Time rules page shows it. The deadlines are seed 002 B3 (the first meeting within 20 working
days of the assessment) and seed 002 C1 (reviews by the date the forum set, every 3 months).

The case's assessment was completed on Monday 2 November 2026, so its first meeting is due by
Monday 30 November 2026 (20 working days; no bank holiday falls between)."""

import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import event, func, select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.deadlines import first_meeting_deadline
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.outcomes import late_reasons
from maf.outcomes.late_reasons import DeadlineReason
from tests.conftest import PASSWORD, csrf_token_from, submit

COMPLETED = date(2026, 11, 2)
DEADLINE = date(2026, 11, 30)
REASON = "The December forum was cancelled: the chair was ill. Booked for 12 January."


def _page(case, rule="first_meeting", **args) -> str:
    query = "&".join(f"{name}={value}" for name, value in {"rule": rule, **args}.items())
    return f"/cases/{case.id}/late-reason?{query}"


def _text(html: str) -> str:
    """The page as a person reads it: tags gone, entities decoded, white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _reasons() -> list[DeadlineReason]:
    return list(db.session.scalars(select(DeadlineReason).order_by(DeadlineReason.id)))


@pytest.fixture
def late_case(make_ready_case):
    return make_ready_case("Cara", "Waiting", assessment_completed_on=COMPLETED)


@pytest.fixture
def colleague(make_user, coordinator):
    """A second coordinator of the same district."""
    return make_user(Role.COORDINATOR, name="Tom Reed", districts=coordinator.districts)


def _client_of(app, user):
    other = app.test_client()
    submit(other, "/sign-in", {"email": user.email, "password": PASSWORD})
    return other


def test_the_deadline_is_the_seed_rule_b3_date(database):
    assert first_meeting_deadline(COMPLETED) == DEADLINE


def test_a_coordinator_records_why_and_the_time_rules_page_shows_it(
    client, sign_in, coordinator, late_case, app_clock
):
    app_clock.london(date(2027, 1, 12), 10, 15)
    sign_in(coordinator)

    form = client.get(_page(late_case))
    words = _text(form.text)
    assert "First meeting due by 30 November 2026" in words
    assert "20 working days after the assessment was completed on 2 November 2026" in words
    assert "Why is the deadline missed?" in words

    saved = submit(client, _page(late_case), {"reason": REASON})
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/cases/breaches"

    rules = _text(client.get("/cases/breaches").text)
    assert REASON in rules
    assert "Priya Shah, 12 January 2027, 10:15" in rules
    assert "Change the first-meeting deadline of Cara Waiting is missed" in rules
    [reason] = _reasons()
    assert (reason.case_id, reason.rule, reason.due_on) == (late_case.id, "first_meeting", DEADLINE)
    assert reason.recorded_by_id == coordinator.id

    # Opened again, the form holds the reason and says who recorded it.
    again = client.get(_page(late_case))
    assert REASON in unescape(again.text)
    assert "Last saved by Priya Shah on 12 January 2027, 10:15" in _text(again.text)


def test_the_page_is_read_audited_as_a_case_is(client, sign_in, coordinator, late_case):
    sign_in(coordinator)
    client.get(_page(late_case))
    views = db.session.scalar(
        select(func.count()).where(
            AuditEvent.action == "view",
            AuditEvent.object_type == "caf_case",
            AuditEvent.object_id == str(late_case.id),
            AuditEvent.user_id == coordinator.id,
        )
    )
    assert views == 1


def test_on_the_deadline_day_the_case_is_not_late_but_a_reason_can_be_recorded_in_advance(
    client, sign_in, coordinator, late_case, make_ready_case, app_clock
):
    """Seed 002 B3: a first meeting on the 20th working day is on time; the day after, late.
    A coordinator who knowingly books a later meeting can say why before the deadline."""
    make_ready_case("Dan", "Nosay", assessment_completed_on=COMPLETED)
    app_clock.london(DEADLINE, 16)
    sign_in(coordinator)
    on_the_day = _text(client.get("/cases/breaches").text)
    assert "Cara Waiting" not in on_the_day
    assert "Dan Nosay" not in on_the_day
    assert submit(client, _page(late_case), {"reason": REASON}).status_code == 302

    app_clock.london(date(2026, 12, 1), 9)
    sign_in(coordinator)  # a new day, a new session
    day_after = client.get("/cases/breaches").text
    rows = {
        name: _text(row)
        for name in ("Cara Waiting", "Dan Nosay")
        for row in re.findall(r"<tr class=\"govuk-table__row\">.*?</tr>", day_after, re.S)
        if name in row
    }
    assert "Overdue by 1 working day" in rows["Cara Waiting"]
    assert REASON in rows["Cara Waiting"]
    # Nothing false: a miss nobody explained says so.
    assert "No reason recorded" in rows["Dan Nosay"]
    assert "Record why the first-meeting deadline of Dan Nosay is missed" in rows["Dan Nosay"]


def test_a_coordinator_of_another_district_is_not_found_and_a_practitioner_refused(
    app, client, sign_in, late_case, make_user, make_district
):
    sign_in(make_user(Role.COORDINATOR, districts=[make_district("Melton")]))
    assert client.get(_page(late_case)).status_code == 404
    token = csrf_token_from(client.get("/forums/new").text)  # any form of theirs
    post = client.post(_page(late_case), data={"reason": "Not mine", "csrf_token": token})
    assert post.status_code == 404

    practitioner = _client_of(app, make_user(Role.PRACTITIONER))
    assert practitioner.get(_page(late_case)).status_code == 403
    assert _reasons() == []


def test_two_coordinators_at_once_the_second_sees_the_first_and_keeps_their_typing(
    app, client, sign_in, coordinator, colleague, late_case
):
    sign_in(coordinator)
    theirs = _client_of(app, colleague)
    mine_page = client.get(_page(late_case)).text
    their_page = theirs.get(_page(late_case)).text

    first = client.post(
        _page(late_case), data={"reason": REASON, "csrf_token": csrf_token_from(mine_page)}
    )
    assert first.status_code == 302
    mine_once = re.search(r'name="once" type="hidden" value="([^"]+)"', mine_page).group(1)
    their_once = re.search(r'name="once" type="hidden" value="([^"]+)"', their_page).group(1)
    assert mine_once != their_once
    typed = "The family asked to wait until after the school holidays."
    stale = theirs.post(
        _page(late_case),
        data={"reason": typed, "once": their_once, "csrf_token": csrf_token_from(their_page)},
    )

    assert stale.status_code == 409
    words = _text(stale.text)
    assert "Priya Shah saved changes" in words
    assert "Your changes have not been saved; they are still in the form below." in words
    assert typed in unescape(re.search(r"<textarea.*?</textarea>", stale.text, re.S).group(0))
    assert [r.reason for r in _reasons()] == [REASON]

    # Saving again, having seen theirs, is a deliberate change and goes through.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', stale.text).group(1)
    again = theirs.post(
        _page(late_case),
        data={"reason": typed, "version": version, "csrf_token": csrf_token_from(stale.text)},
    )
    assert again.status_code == 302
    [reason] = _reasons()
    assert reason.reason == typed
    assert reason.updated_by_id == colleague.id


def test_a_change_from_a_page_opened_before_someone_elses_change_is_refused(
    app, client, sign_in, coordinator, colleague, late_case
):
    late_reasons.save_reason(
        late_case, late_reasons.deadline_for(late_case, "first_meeting"), REASON, coordinator
    )
    sign_in(coordinator)
    theirs = _client_of(app, colleague)
    their_page = theirs.get(_page(late_case)).text
    assert submit(client, _page(late_case), {"reason": "Chair ill."}).status_code == 302

    stale = theirs.post(
        _page(late_case),
        data={
            "reason": "Venue flooded.",
            "version": re.search(r'name="version" type="hidden" value="(\d+)"', their_page)[1],
            "csrf_token": csrf_token_from(their_page),
        },
    )
    assert stale.status_code == 409
    assert "Venue flooded." in unescape(stale.text)
    assert [r.reason for r in _reasons()] == ["Chair ill."]


def test_a_double_submit_records_one_reason(client, sign_in, coordinator, late_case):
    sign_in(coordinator)
    page = client.get(_page(late_case)).text
    data = {
        "reason": REASON,
        "once": re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1),
        "csrf_token": csrf_token_from(page),
    }
    first = client.post(_page(late_case), data=data)
    second = client.post(_page(late_case), data=data, follow_redirects=True)
    assert first.status_code == 302
    assert "This reason was already saved." in _text(second.text)
    assert len(_reasons()) == 1


@pytest.mark.parametrize(
    "target", ["https://evil.example/steal", "//evil.example/steal", "evil", "/\t/evil.example"]
)
def test_next_to_another_site_is_refused(client, sign_in, coordinator, late_case, target):
    sign_in(coordinator)
    saved = submit(client, _page(late_case, next=target), {"reason": REASON})
    assert saved.headers["Location"] == "/cases/breaches"


def test_next_on_this_site_is_where_the_page_goes_back_to(client, sign_in, coordinator, late_case):
    sign_in(coordinator)
    page = client.get(_page(late_case, next="/meetings/7/agenda"))
    assert 'href="/meetings/7/agenda"' in page.text  # the back link
    saved = submit(client, _page(late_case, next="/meetings/7/agenda"), {"reason": REASON})
    assert saved.headers["Location"] == "/meetings/7/agenda"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Enter why the deadline is missed"),
        ("x" * 1001, "Why is the deadline missed? must be 1,000 characters or fewer"),
    ],
)
def test_bad_input_is_shown_beside_the_field_with_the_typing_kept(
    client, sign_in, coordinator, late_case, typed, message
):
    sign_in(coordinator)
    page = submit(client, _page(late_case), {"reason": typed})
    assert page.status_code == 200
    field = re.search(
        r'<div class="govuk-form-group govuk-form-group--error">.*?</textarea>', page.text, re.S
    )
    assert field and message in _text(field.group(0))
    if typed.strip():
        assert typed in field.group(0)
    assert _reasons() == []


def test_a_review_reason_belongs_to_that_review_date_and_the_next_miss_is_new(
    client, sign_in, coordinator, late_case, app_clock
):
    """Seed 002 C1: the review is due by the date the forum set; a later review's miss is a
    new record and the earlier reason stays as it was."""
    late_case.status, late_case.next_review_on = CaseStatus.OPEN, date(2027, 2, 1)
    db.session.commit()
    app_clock.london(date(2027, 2, 10))
    sign_in(coordinator)
    page = _text(client.get(_page(late_case, "review")).text)
    assert "Review due by 1 February 2027" in page
    submit(client, _page(late_case, "review"), {"reason": "Moved to the March forum."})
    rules = _text(client.get("/cases/breaches").text)
    assert "Moved to the March forum." in rules
    assert "Change the review date of Cara Waiting is missed" in rules

    late_case.next_review_on = date(2027, 5, 1)
    db.session.commit()
    fresh = client.get(_page(late_case, "review")).text
    assert "Review due by 1 May 2027" in _text(fresh)
    assert "Moved to the March forum." not in fresh
    submit(client, _page(late_case, "review"), {"reason": "Family on holiday in May."})
    assert [(r.due_on, r.reason) for r in _reasons()] == [
        (date(2027, 2, 1), "Moved to the March forum."),
        (date(2027, 5, 1), "Family on holiday in May."),
    ]


def test_a_case_without_such_a_deadline_has_no_page(client, sign_in, coordinator, late_case):
    sign_in(coordinator)
    assert late_case.next_review_on is None
    assert client.get(_page(late_case, "review")).status_code == 404
    assert client.get(_page(late_case, "sometime")).status_code == 404


def test_reasons_for_finds_many_deadlines_in_one_query(coordinator, make_ready_case):
    cases = [make_ready_case(f"Child{n}", "Many", assessment_completed_on=COMPLETED) for n in "ab"]
    for case in cases:
        late_reasons.save_reason(
            case, late_reasons.deadline_for(case, "first_meeting"), f"Why {case.id}", coordinator
        )
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    ids = [case.id for case in cases]
    keys = [(case_id, "first_meeting", DEADLINE) for case_id in ids]

    def read(asked):
        db.session.expire_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = late_reasons.reasons_for(asked)
            named = {
                key: (reason.reason, reason.last_changed_by.name) for key, reason in found.items()
            }
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return named, len(statements)

    one, for_one = read(keys[:1])
    every, for_every = read([*keys, (ids[0], "review", date(2027, 2, 1))])
    assert every == {key: (f"Why {key[0]}", "Priya Shah") for key in keys}
    assert one == {keys[0]: (f"Why {ids[0]}", "Priya Shah")}
    # The reasons and who recorded them (the page names them) load in as many queries for
    # many deadlines as for one: nothing per row.
    assert for_every == for_one


def test_current_reasons_for_the_builder_are_those_of_each_cases_current_deadlines(
    coordinator, late_case, make_ready_case
):
    silent = make_ready_case("Dan", "Nosay", assessment_completed_on=COMPLETED)
    late_case.status, late_case.next_review_on = CaseStatus.OPEN, date(2027, 2, 1)
    db.session.commit()
    for rule, why in (("first_meeting", "Chair ill."), ("review", "Half term.")):
        late_reasons.save_reason(
            late_case, late_reasons.deadline_for(late_case, rule), why, coordinator
        )
    late_case.next_review_on = date(2027, 5, 1)  # the next review: its miss is not explained
    db.session.commit()

    found = late_reasons.current_reasons([late_case, silent])

    assert {key: reason.reason for key, reason in found.items()} == {
        (late_case.id, "first_meeting"): "Chair ill."
    }


def test_two_coordinators_recording_at_the_same_moment_make_one_reason(
    make_scratch_app, monkeypatch
):
    """On real commits: Priya's save stops after inserting its row, before committing; Tom's,
    from his own page (his own token), is sent then. It waits for hers, then is answered as a
    stale save showing her reason, his typing kept: one row, nothing overwritten."""
    from maf import submissions
    from tests.agendas.test_capacity_concurrency import _build_last_slot_scenario
    from tests.app.test_idempotent_creates import _race, _signed_in
    from tests.conftest import IsolatedClient

    app = make_scratch_app("late_reasons")
    app.test_client_class = IsolatedClient
    with app.app_context():
        ids = _build_last_slot_scenario()
        db.session.remove()
    url = f"/cases/{ids['case_a']}/late-reason?rule=first_meeting"
    priya = _signed_in(app, "priya.shah@example.org")
    tom = _signed_in(app, "tom.baker@example.org")
    pages = {"a": priya.get(url).text, "b": tom.get(url).text}
    bodies = {
        key: {
            "reason": reason,
            "once": re.search(r'name="once" type="hidden" value="([^"]+)"', pages[key])[1],
            "csrf_token": csrf_token_from(pages[key]),
        }
        for key, reason in (("a", REASON), ("b", "Tom's reason, typed at the same time."))
    }

    answers, blocked = _race(
        app,
        monkeypatch,
        (submissions, "created"),
        lambda: priya.post(url, data=bodies["a"]),
        lambda: tom.post(url, data=bodies["b"]),
    )

    assert answers["a"].status_code == 302
    assert answers["b"].status_code == 409
    assert "Priya Shah saved changes" in _text(answers["b"].text)
    assert "Tom&#39;s reason, typed at the same time." in answers["b"].text
    if blocked is not None:  # PostgreSQL: Tom's insert waited on the unique index
        assert len(blocked) == 1 and "deadline_reason" in blocked[0].lower(), blocked
    with app.app_context():
        assert [r.reason for r in _reasons()] == [REASON]
        db.session.remove()
