"""The case list (issue 16 point 2): every case the person may see, filtered, sorted on the
server, paged, downloadable as a guarded, audited CSV; and a practitioner's "My referrals"."""

import csv
import io
import itertools
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.models import CaseStatus
from maf.dbtypes import utcnow
from maf.demo import FAMILY_NAMES, GIVEN_NAMES
from maf.extensions import db
from maf.outcomes import followup
from maf.outcomes.models import LeadKind, LeadProfessional
from maf.search import services
from tests.agendas.test_query_counts import statements

TODAY = date(2027, 3, 1)


@pytest.fixture
def child():
    """A different child each time, so no two look alike to the existing-CAF check."""
    numbers = itertools.count()

    def make() -> tuple[str, str, date]:
        number = next(numbers)
        return (
            GIVEN_NAMES[number % len(GIVEN_NAMES)],
            FAMILY_NAMES[(number * 7) % len(FAMILY_NAMES)],
            date(2009, 1, 1) + timedelta(days=41 * number),
        )

    return make


def listed_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/cases/(\d+)">Case \d+</a>', html)]


def lead(case, agency, name="Zoë Brennan", email=""):
    db.session.add(
        LeadProfessional(
            case_id=case.id,
            kind=LeadKind.PRACTITIONER,
            name=name,
            email=email,
            agency=agency,
            agreed=True,
            starts_on=date(2026, 12, 1),
        )
    )
    db.session.commit()


@pytest.fixture
def cases(make_case, child, make_district, make_agency, coordinator, app_clock):
    """Four cases of Charnwood in different states, and one of Melton."""
    app_clock.london(TODAY)
    received = make_case(*child(), assessment_completed_on=date(2027, 2, 20))
    late = make_case(*child(), assessment_completed_on=date(2026, 12, 1))
    review_due = make_case(*child(), assessment_completed_on=date(2026, 9, 1))
    review_due.status, review_due.next_review_on = CaseStatus.OPEN, date(2027, 2, 1)
    reviewed_later = make_case(*child(), assessment_completed_on=date(2026, 9, 1))
    reviewed_later.status, reviewed_later.next_review_on = CaseStatus.OPEN, date(2027, 5, 1)
    melton = make_case(*child(), district=make_district("Melton"))
    db.session.commit()
    youth_service = make_agency(name="Charnwood Youth Service")
    lead(review_due, youth_service)
    return {
        "received": received,
        "late": late,
        "review_due": review_due,
        "reviewed_later": reviewed_later,
        "melton": melton,
        "youth_service": youth_service,
    }


def test_the_list_shows_every_visible_case_and_nothing_else(client, sign_in, coordinator, cases):
    sign_in(coordinator)
    page = client.get("/case-list")
    assert page.status_code == 200
    charnwood = {cases[k].id for k in ("received", "late", "review_due", "reviewed_later")}
    assert set(listed_ids(page.text)) == charnwood
    assert "4 cases" in page.text


def test_filters_status_district_forum_agency(
    client, sign_in, coordinator, cases, make_forum, make_user, make_district
):
    both = make_user(
        Role.COORDINATOR, districts=[coordinator.districts[0], cases["melton"].district]
    )
    forum = make_forum()
    sign_in(both)
    assert len(listed_ids(client.get("/case-list").text)) == 5
    page = client.get("/case-list?status=open")
    assert set(listed_ids(page.text)) == {cases["review_due"].id, cases["reviewed_later"].id}
    page = client.get("/case-list?status=open&status=ready_for_forum")
    assert len(listed_ids(page.text)) == 2
    page = client.get("/case-list?status=received")
    assert set(listed_ids(page.text)) == {cases[k].id for k in ("received", "late", "melton")}
    page = client.get(f"/case-list?district={cases['melton'].district_id}")
    assert listed_ids(page.text) == [cases["melton"].id]
    page = client.get(f"/case-list?forum={forum.id}")
    assert cases["melton"].id not in listed_ids(page.text)
    assert len(listed_ids(page.text)) == 4
    page = client.get(f"/case-list?agency={cases['youth_service'].id}")
    assert listed_ids(page.text) == [cases["review_due"].id]
    # The filter is in the address, and its choices are shown as chosen.
    assert 'value="open" checked' in client.get("/case-list?status=open").text


def test_review_overdue_and_first_meeting_missed_agree_with_the_dashboards_rule_breaches(
    client, sign_in, coordinator, cases
):
    """Seed 002 B3 (20 working days to the first meeting) and C1 (reviews every 3 months):
    the list asks the same rules as the rule-breaches page (maf.outcomes.followup)."""
    breaches = followup.rule_breaches(coordinator, TODAY)
    sign_in(coordinator)
    page = client.get("/case-list?late=review")
    assert set(listed_ids(page.text)) == {b.case.id for b in breaches.reviews}
    assert set(listed_ids(page.text)) == {cases["review_due"].id}
    page = client.get("/case-list?late=first-meeting")
    assert set(listed_ids(page.text)) == {b.case.id for b in breaches.first_meeting}
    assert cases["late"].id in listed_ids(page.text)
    assert cases["received"].id not in listed_ids(page.text)  # 20 Feb: deadline not yet passed


def test_sorting_by_each_column_both_ways_with_aria_sort(client, sign_in, coordinator, cases):
    sign_in(coordinator)
    page = client.get("/case-list")
    ids = listed_ids(page.text)
    assert ids == sorted(ids, reverse=True)  # newest case first by default
    assert re.search(r'aria-sort="descending"[^>]*>\s*<a[^>]*>Case<', page.text)
    assert page.text.count('aria-sort="none"') == len(services.SORTS) - 1

    page = client.get("/case-list?sort=number&order=ascending")
    assert listed_ids(page.text) == sorted(ids)
    page = client.get("/case-list?sort=review&order=ascending")
    assert listed_ids(page.text)[:2] == [cases["review_due"].id, cases["reviewed_later"].id]
    page = client.get("/case-list?sort=review&order=descending")
    assert listed_ids(page.text)[:2] == [cases["reviewed_later"].id, cases["review_due"].id]
    page = client.get("/case-list?sort=status&order=ascending")
    statuses = [db.session.get(type(cases["late"]), i).status for i in listed_ids(page.text)]
    order = list(CaseStatus)
    assert statuses == sorted(statuses, key=order.index)
    page = client.get("/case-list?sort=child&order=ascending")
    names = [
        db.session.get(type(cases["late"]), i).child.family_name.lower()
        for i in listed_ids(page.text)
    ]
    assert names == sorted(names)
    # The header links sort the other way once sorted, keeping the filters.
    page = client.get("/case-list?status=open&sort=district&order=ascending")
    assert 'href="/case-list?status=open&amp;sort=district&amp;order=descending"' in page.text
    # A sort that is not offered falls back to the default rather than failing.
    assert client.get("/case-list?sort=drop%20table&order=sideways").status_code == 200


def test_paging(client, sign_in, coordinator, make_case, child, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    monkeypatch.setattr(services.list_cases, "__defaults__", (2,))
    made = [make_case(*child()).id for _ in range(5)]
    sign_in(coordinator)
    first = client.get("/case-list?sort=number&order=ascending")
    assert listed_ids(first.text) == made[:2]
    assert "5 cases: 1 to 2 shown" in first.text
    assert "govuk-pagination" in first.text
    third = client.get("/case-list?sort=number&order=ascending&page=3")
    assert listed_ids(third.text) == made[4:]
    # A page past the end shows the last page.
    assert (
        listed_ids(client.get("/case-list?page=99&sort=number&order=ascending").text) == (made[4:])
    )


def test_csv_download_is_the_filtered_list_guarded_and_audited(
    client, sign_in, coordinator, make_case, cases
):
    formula = make_case('=HYPERLINK("http://evil")', "+Smith", date(2013, 3, 3))
    sign_in(coordinator)
    response = client.get("/case-list.csv?status=received")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store", "children's names: no cache keeps it"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == services.csv_headings()
    assert rows[0][5] == "Lead professional"
    numbers = {int(r[0]) for r in rows[1:]}
    assert numbers == {cases["received"].id, cases["late"].id, formula.id}
    cells = {r[0]: r for r in rows[1:]}
    assert cells[str(formula.id)][1] == '\'=HYPERLINK("http://evil") +Smith'
    event_ = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case_list_download")
    ).one()
    assert event_.user_id == coordinator.id
    assert event_.detail == "status received: 3 cases"
    assert "Smith" not in event_.detail


def test_viewing_the_list_is_audited_by_filters_and_count(client, sign_in, coordinator, cases):
    sign_in(coordinator)
    client.get(f"/case-list?status=open&agency={cases['youth_service'].id}&late=review")
    detail = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "case_list")
    ).one()
    assert detail == f"status open, agency {cases['youth_service'].id}, review overdue: 1 cases"


def test_scoping_for_each_role(client, sign_in, make_user, make_forum, coordinator, cases, app):
    chair = make_user(Role.CHAIR)
    make_forum(chair=chair)
    referrer = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org")
    cases["late"].referrer_user = referrer
    lead(cases["received"], None, name="Sam Lee", email="sam.lee@example.org")
    led_by = make_user(Role.PRACTITIONER, email="sam.lee@example.org")
    other = make_user(Role.COORDINATOR, districts=[cases["melton"].district])
    admin = make_user(Role.ADMIN)
    cases["reviewed_later"].archived_at = utcnow()
    db.session.commit()

    def seen(user, path="/case-list"):
        fresh = app.test_client()
        from tests.conftest import submit

        submit(fresh, "/sign-in", {"email": user.email, "password": "correct horse battery staple"})
        response = fresh.get(path)
        return response.status_code, listed_ids(response.text)

    charnwood_live = {cases[k].id for k in ("received", "late", "review_due")}
    assert set(seen(coordinator)[1]) == charnwood_live  # the archived case is not listed
    assert set(seen(chair)[1]) == charnwood_live
    assert seen(other)[1] == [cases["melton"].id]
    assert seen(admin)[0] == 403
    assert seen(referrer)[0] == 403
    assert seen(referrer, "/my-referrals")[1] == [cases["late"].id]
    # "My referrals" lists referrals only, not the cases the practitioner leads.
    assert seen(led_by, "/my-referrals")[1] == []


def test_my_referrals_shows_status_and_next_meeting(
    client, sign_in, make_user, make_ready_case, make_meeting, coordinator, child, make_case
):
    me = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org")  # make_case's referrer
    mine = make_ready_case(*child())
    meeting = make_meeting(date(2027, 4, 13))
    add_to_agenda(meeting, mine, ItemKind.NEW_CASE, coordinator)
    someone_elses = make_case(*child())
    someone_elses.referrer_user = None
    db.session.commit()
    assert mine.referrer_user_id == me.id
    sign_in(me)
    page = client.get("/my-referrals")
    assert page.status_code == 200
    assert listed_ids(page.text) == [mine.id]
    assert mine.status.label in page.text
    assert "13 April 2027" in page.text
    assert mine.child.full_name in page.text
    assert someone_elses.child.full_name not in page.text


def test_the_list_sends_as_many_statements_for_50_rows_as_for_10(
    client, sign_in, coordinator, make_case, child, make_meeting, school
):
    """Issue 16: SQL statements constant in the number of rows shown. Every row has a lead
    professional and a meeting, so a lazy load per row would show."""
    from maf.agendas.models import AgendaItem

    meeting = make_meeting(date(2027, 4, 13))
    for number in range(50):
        case = make_case(*child())
        case.status = CaseStatus.OPEN if number < 10 else CaseStatus.ON_AGENDA
        lead(case, school)
        db.session.add(
            AgendaItem(
                meeting_id=meeting.id,
                case_id=case.id,
                kind=ItemKind.REVIEW,
                position=number,
                added_by_id=coordinator.id,
            )
        )
    db.session.commit()
    sign_in(coordinator)
    assert len(listed_ids(client.get("/case-list?status=open").text)) == 10
    assert len(listed_ids(client.get("/case-list").text)) == 50
    assert "13 April 2027" in client.get("/case-list").text
    assert statements(client, "/case-list") == statements(client, "/case-list?status=open")
