"""Smaller findings of issue 13, each tried as the person who met it: plurals ("1 days ago"),
dashboards that said "will appear here" over work that was there, the "same child" merge,
redirects holding CR/LF, "mark action done" twice, and the CSV formula guard."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import Domain, MatchVerdict, NeedStatement
from maf.csv_guard import neutralised
from maf.extensions import db
from maf.outcomes.models import Action
from maf.words import plural
from tests.conftest import PASSWORD, csrf_token_from, submit

# --- "1 days ago" ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [(0, "day", "0 days"), (1, "day", "1 day"), (2, "day", "2 days"), (1, "child", "1 child")],
)
def test_plural_agrees_with_the_count(count, noun, expected):
    assert plural(count, noun) == expected


def test_plural_takes_an_irregular_plural():
    assert plural(3, "child", "children") == "3 children"


def test_the_coordinators_queue_says_1_day_ago(client, sign_in, make_case, coordinator, app_clock):
    app_clock.london(date(2026, 12, 2), 10, 0)
    make_case(assessment_completed_on=date(2026, 12, 1))
    make_case(
        "Amy", "Lee", date(2013, 2, 1), "LE11 1AA", assessment_completed_on=date(2026, 11, 30)
    )
    sign_in(coordinator)

    page = client.get("/cases/").text

    assert "1 December 2026 (1 day ago)" in page
    assert "30 November 2026 (2 days ago)" in page
    assert "1 days" not in page


def test_a_forum_of_one_new_case_and_one_review_says_so(client, sign_in, make_forum, coordinator):
    forum = make_forum(new_case_capacity=1, review_capacity=1)
    sign_in(coordinator)

    page = client.get(f"/forums/{forum.id}").text

    assert "1 new case and 1 review a meeting" in page


# --- dashboards --------------------------------------------------------------------------


def _page_as(app, user, url):
    browser = app.test_client()
    submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    return browser.get(url).text


def _action(case, description, due_on, owner):
    db.session.add(
        Action(
            case_id=case.id,
            description=description,
            owner_name=owner.name,
            owner_email=owner.email,
            due_on=due_on,
        )
    )
    db.session.commit()


def test_a_practitioner_with_open_and_overdue_actions_sees_them(
    app, make_case, make_user, coordinator, app_clock
):
    app_clock.london(date(2027, 1, 22), 10, 0)
    sam = make_user(Role.PRACTITIONER, name="Sam Patel", districts=coordinator.districts)
    case = make_case()
    _action(case, "Refer to CAMHS", date(2027, 1, 20), sam)
    _action(case, "Book a parenting course", date(2027, 2, 1), sam)

    page = _page_as(app, sam, "/")

    assert "Refer to CAMHS" in page and "due 20 January 2027, overdue by 2 days" in page
    assert "Book a parenting course" in page and "due 1 February 2027" in page
    assert "Actions agreed for you at forum meetings will appear here" not in page


def test_a_coordinator_who_owns_an_action_sees_it_once(app, make_case, coordinator, app_clock):
    app_clock.london(date(2027, 1, 22), 10, 0)
    _action(make_case(), "Ring the school", date(2027, 1, 21), coordinator)

    page = _page_as(app, coordinator, "/")

    assert page.count("Ring the school") == 1
    assert "overdue by 1 day" in page


def test_an_admins_dashboard_lists_the_five_forums(app, make_user, make_district, make_forum):
    admin = make_user(Role.ADMIN, name="Alex Admin")
    names = [
        f"{place} multi-agency forum"
        for place in ("Blaby", "Charnwood", "Hinckley", "Melton", "Oadby")
    ]
    for name in names:
        make_forum(district=make_district(name.split()[0] + " district"), name=name)

    page = _page_as(app, admin, "/")

    assert all(name in page for name in names)
    assert "once they are set up" not in page


def test_the_district_page_shows_its_forum_and_next_meeting(
    app, make_meeting, coordinator, app_clock
):
    app_clock.london(date(2026, 12, 2), 10, 0)
    meeting = make_meeting(date(2027, 1, 12))
    district = coordinator.districts[0]

    page = _page_as(app, coordinator, f"/districts/{district.id}")

    assert f">{meeting.forum.name}</a>:" in page
    assert "next meeting Tuesday 12 January 2027" in page
    assert "will appear here once the forum is set up" not in page


# --- redirects holding CR/LF, and "mark action done" twice ---------------------------------

# `next` as a browser would send it, percent-encoded: Flask hands the view the decoded CR/LF.
SPLIT_HEADER = "/actions%0D%0ASet-Cookie:%20stolen=1"
TAB_TO_ANOTHER_HOST = "/%09/evil.example"


@pytest.mark.parametrize("next_url", [SPLIT_HEADER, TAB_TO_ANOTHER_HOST, "/cases/%0A"])
def test_signing_in_with_a_next_holding_control_characters_goes_to_the_dashboard(
    client, coordinator, next_url
):
    answer = submit(
        client,
        f"/sign-in?next={next_url}",
        {"email": coordinator.email, "password": PASSWORD},
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert "Set-Cookie" not in answer.headers.get("Location", "")
    assert "Hello, Priya Shah" in client.get("/").text


def test_signing_in_still_follows_a_plain_next(client, coordinator):
    answer = submit(
        client, "/sign-in?next=/actions", {"email": coordinator.email, "password": PASSWORD}
    )
    assert answer.headers["Location"] == "/actions"


def test_marking_an_action_done_twice_with_a_bad_next_never_fails(
    client, sign_in, make_case, make_user, coordinator
):
    sam = make_user(Role.PRACTITIONER, name="Sam Patel", districts=coordinator.districts)
    _action(make_case(), "Refer to CAMHS", date(2030, 1, 1), sam)
    action = db.session.scalar(select(Action).where(Action.description == "Refer to CAMHS"))
    sign_in(sam)
    token = csrf_token_from(client.get("/actions").text)
    form = {"csrf_token": token, "next": "/actions\r\nSet-Cookie: stolen=1"}

    first = client.post(f"/actions/{action.id}/done", data=form, follow_redirects=True)
    second = client.post(f"/actions/{action.id}/done", data=form, follow_redirects=True)

    assert first.status_code == 200 and "Action marked as done: Refer to CAMHS" in first.text
    assert second.status_code == 200
    assert "This action was already marked as done: Refer to CAMHS" in second.text
    db.session.expire_all()
    assert action.done_by_id == sam.id


# --- the CSV formula guard ---------------------------------------------------------------

# Formulas a spreadsheet runs (OWASP, CSV injection), including those the first guard missed.
FORMULAS = [
    "=1+1",
    " =1+1",  # after a space
    "\n=1+1",  # after a line break
    '\r\n=HYPERLINK("http://evil.example")',
    "\u200b=1+1",  # after a zero-width space
    "\uff1d1+1",  # full-width =
    "\u3000\uff0bcmd",  # an ideographic space, then a full-width +
    "\uff0d1",  # full-width -
    "\uff20SUM(A1)",  # full-width @
    "|calc",  # dynamic data exchange
    "  |calc",
    "+1",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1",
]
PLAIN = ["Anxiety about school", "Speech - and language", "  Sleep"]


def test_every_formula_is_neutralised_and_plain_text_is_not():
    assert [neutralised(text) for text in FORMULAS] == ["'" + text for text in FORMULAS]
    assert [neutralised(text) for text in PLAIN] == PLAIN
    assert neutralised(-3) == -3, "numbers stay numbers"


def test_the_needs_csv_neutralises_formulas_in_need_statements(
    client, sign_in, make_case, coordinator, app_clock
):
    """Seed 004: needs are counted from statements an admin may add, so their text reaches the
    board's CSV; a statement that is a formula must open as text in a spreadsheet."""
    app_clock.london(date(2026, 12, 2), 10, 0)
    statements = [
        NeedStatement(domain=Domain.DEVELOPMENT, element=f"Element {number}", text=text)
        for number, text in enumerate(FORMULAS + PLAIN)
    ]
    db.session.add_all(statements)
    db.session.commit()
    make_case(needs=statements)
    sign_in(coordinator)

    scope = f"district={coordinator.districts[0].id}&from=2026-11-01&to=2026-11-30"
    answer = client.get(f"/reports/tables/needs.csv?{scope}")

    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"), newline="")))
    cells = {row[0] for row in rows[1:]}
    assert cells == {"'" + text for text in FORMULAS} | set(PLAIN)


# --- "same child" merging ------------------------------------------------------------------


def test_merging_the_same_child_keeps_every_detail_and_both_timelines_say_so(
    client, sign_in, make_case, make_agency, coordinator, school
):
    """Seed 002 A4: the existing-CAF check joins a new CAF to the child's record. Found: the
    merge took the new address but dropped the new school, and no timeline mentioned it."""
    rawlins = make_agency(name="Rawlins Academy")
    earlier = make_case(
        "Jonathan", "Smith", date(2013, 9, 1), "LE11 3TU", address="1 Ashby Road", school=school
    )
    new = make_case(
        "Jon",
        "Smith",
        date(2013, 9, 1),
        "LE11 2AA",
        address="14 Forest Road",
        school=rawlins,
        upn=None,
    )
    (candidate,) = new.match_candidates
    case_services.decide_candidate(new, candidate, MatchVerdict.SAME, coordinator)
    sign_in(coordinator)

    page = client.get(f"/cases/{earlier.id}").text
    assert "14 Forest Road" in page and "LE11 2AA" in page
    assert "Rawlins Academy" in page, "the new school is kept"
    assert "Jon Smith" in page, "the name on the new CAF is kept"

    changes = (
        "Updated from the newer CAF: also known as Jon Smith; address 14 Forest Road "
        "(was 1 Ashby Road); postcode LE11 2AA (was LE11 3TU); school Rawlins Academy "
        f"(was {school.name})."
    )
    earlier_timeline = client.get(f"/cases/{earlier.id}/timeline").text
    assert "Same child: records joined" in earlier_timeline
    assert f"The CAF received as case {new.id} is for the same child" in earlier_timeline
    assert changes in earlier_timeline
    new_timeline = client.get(f"/cases/{new.id}/timeline").text
    assert "Same child: records joined" in new_timeline
    assert f"The same child as case {earlier.id}" in new_timeline
    assert changes in new_timeline
