"""Find a case (issue 16 point 1): by name through the existing-CAF matcher, with its
explanation, and by date of birth, case number, NHS number, UPN and postcode; only within what
the searcher may see; audited without the typed values."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.dbtypes import utcnow
from maf.extensions import db
from tests.conftest import submit

NHS_NUMBER = "9434765919"  # a valid check digit
UPN = "B801200005001"


def search(client, **fields):
    data = {
        "name": "",
        "date_of_birth": ["", "", ""],
        "case_number": "",
        "nhs_number": "",
        "upn": "",
        "postcode": "",
    }
    born = fields.pop("born", None)
    if born:
        data["date_of_birth"] = list(born)
    return submit(client, "/search", data | fields)


def found_case_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/cases/(\d+)"', html)]


@pytest.fixture
def jessica(make_case):
    return make_case(
        "Jessica", "Thompson", date(2012, 5, 17), "LE11 3TU", nhs_number=NHS_NUMBER, upn=UPN
    )


@pytest.fixture
def others(make_case):
    """Children who must not be found by a search for Jessica."""
    return [
        make_case("Oliver", "Patel", date(2013, 2, 3), "LE12 7AB"),
        make_case("Jake", "Thompson", date(2010, 9, 1), "LE11 3TU"),
    ]


def last_search_event():
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "case_search")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).one()


def test_a_misspelt_name_with_the_date_of_birth_finds_the_child_with_the_matchers_reasons(
    client, sign_in, coordinator, jessica, others
):
    sign_in(coordinator)
    page = search(client, name="Jesica Thomson", born=("17", "5", "2012"))
    assert page.status_code == 200
    assert found_case_ids(page.text) == [jessica.id]
    assert "1 case found" in page.text
    assert "Why it matched" in page.text
    assert "Same date of birth" in page.text
    assert "Given name sounds alike (Jesica / Jessica)" in page.text


def test_a_short_form_and_a_date_one_digit_out_still_find_the_child(
    client, sign_in, coordinator, make_case, others
):
    elizabeth = make_case("Elizabeth", "Okoro", date(2011, 3, 14), "LE11 2AA")
    sign_in(coordinator)
    page = search(client, name="Liz Okoro", born=("14", "3", "2011"))
    assert found_case_ids(page.text) == [elizabeth.id]
    assert "Given name is a short form (Liz / Elizabeth)" in page.text
    page = search(client, name="Elizabeth Okoro", born=("14", "3", "2017"))
    assert found_case_ids(page.text) == [elizabeth.id]
    assert "Date of birth differs by one digit" in page.text


def test_a_name_alone_finds_the_child_and_says_what_it_may_miss(
    client, sign_in, coordinator, jessica, others
):
    sign_in(coordinator)
    page = search(client, name="Jesica Thompson")
    assert found_case_ids(page.text) == [jessica.id]
    assert "Given name sounds alike (Jesica / Jessica)" in page.text
    assert "Searched by name alone" in page.text
    # "Thompson" alone would list every Thompson: a second name or the date is asked for.
    page = search(client, name="Thompson")
    assert "Enter the child&#39;s given and family names, or add their date of birth" in (page.text)
    assert 'value="Thompson"' in page.text


@pytest.mark.parametrize(
    "fields",
    [
        {"nhs_number": "943 476 5919"},
        {"upn": "b801200005001"},
        {"born": ("17", "05", "2012")},
        {"name": "Thompson, Jessica"},
    ],
    ids=["nhs-number", "upn", "date-of-birth", "family-name-first"],
)
def test_each_identifier_finds_the_child(client, sign_in, coordinator, jessica, others, fields):
    sign_in(coordinator)
    page = search(client, **fields)
    assert found_case_ids(page.text) == [jessica.id]


def test_case_number_and_postcode_must_all_match(client, sign_in, coordinator, jessica, others):
    jake = others[1]
    sign_in(coordinator)
    assert found_case_ids(search(client, case_number=str(jessica.id)).text) == [jessica.id]
    both = found_case_ids(search(client, postcode="le113tu").text)
    assert sorted(both) == sorted([jessica.id, jake.id])
    # Every criterion must match: Jessica's case number with Oliver's postcode finds nothing.
    page = search(client, case_number=str(jessica.id), postcode="LE12 7AB")
    assert found_case_ids(page.text) == []
    assert "No cases found" in page.text


def test_results_show_status_district_forum_lead_and_meetings(
    client, sign_in, coordinator, make_ready_case, make_meeting, school
):
    from maf.agendas.models import ItemKind
    from maf.agendas.services import add_to_agenda
    from maf.outcomes.models import LeadKind, LeadProfessional

    case = make_ready_case("Amara", "Osei", date(2014, 8, 9))
    meeting = make_meeting(date(2027, 1, 12))
    add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
    db.session.add(
        LeadProfessional(
            case_id=case.id,
            kind=LeadKind.PRACTITIONER,
            name="Zoë Brennan",
            agency=school,
            agreed=True,
            starts_on=date(2026, 11, 20),
        )
    )
    db.session.commit()
    sign_in(coordinator)
    page = search(client, name="Amara Osei")
    assert found_case_ids(page.text) == [case.id]
    for shown in (
        case.status.label,
        "Charnwood",
        meeting.forum.name,
        "Zoë Brennan",
        school.name,
        "12 January 2027",
    ):
        assert shown in page.text, shown


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"nhs_number": "943 476 5918"}, "nhs_number", "Enter a valid NHS number"),
        ({"nhs_number": "12345"}, "nhs_number", "NHS number must be 10 digits"),
        ({"born": ("31", "2", "2012")}, "date_of_birth", "Date of birth must be a real date"),
        ({"born": ("1", "1", "2090")}, "date_of_birth", "must be today or in the past"),
        ({"upn": "B80120000500X"}, "upn", ""),
        ({"postcode": "NOT A CODE"}, "postcode", "Enter a real UK postcode"),
        ({"case_number": "twelve"}, "case_number", "Case number must be a number"),
        ({}, "name", "Enter a name, a date of birth, a case number"),
    ],
    ids=[
        "nhs-check-digit",
        "nhs-length",
        "impossible-date",
        "future",
        "upn",
        "postcode",
        "case-number",
        "nothing",
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_keeps_what_was_typed(
    client, sign_in, coordinator, jessica, fields, field_id, message
):
    sign_in(coordinator)
    page = search(client, name="" if not fields else "Jessica Thompson", **fields)
    assert page.status_code == 200
    assert "govuk-error-summary" in page.text
    assert f'id="{field_id}-error"' in page.text
    assert message in page.text
    for value in fields.values():
        for part in value if isinstance(value, tuple) else (value,):
            assert f'value="{part}"' in page.text
    assert found_case_ids(page.text) == []  # nothing searched
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "case_search")) is None
    )


def test_every_search_is_audited_by_kind_and_count_never_by_what_was_typed(
    client, sign_in, coordinator, jessica, others
):
    sign_in(coordinator)
    search(
        client,
        name="Jessica Thompson",
        born=("17", "5", "2012"),
        nhs_number=NHS_NUMBER,
        postcode="LE11 3TU",
    )
    event = last_search_event()
    assert event.user_id == coordinator.id
    assert event.occurred_at is not None
    assert event.detail == "by name, date of birth, NHS number, postcode: 1 case shown"
    search(client, upn=UPN, case_number=str(jessica.id))
    assert last_search_event().detail == "by case number, UPN: 1 case shown"
    # Nothing typed is in any audit row: not the name, the date of birth nor the numbers.
    everything = " ".join(
        f"{e.action} {e.detail or ''} {e.object_id or ''}"
        for e in db.session.scalars(select(AuditEvent))
    )
    for typed in ("Jessica", "Thompson", "2012", "17/05", NHS_NUMBER, UPN, "LE11", "3TU"):
        assert typed.lower() not in everything.lower(), typed


def test_another_districts_coordinator_finds_nothing_as_if_the_child_did_not_exist(
    client, sign_in, make_user, make_district, jessica, others
):
    melton = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    sign_in(melton)
    hidden = search(client, name="Jessica Thompson", born=("17", "5", "2012"))
    absent = search(client, name="Zebedee Quartermaine", born=("17", "5", "2012"))
    assert found_case_ids(hidden.text) == found_case_ids(absent.text) == []

    def without_token(html):
        return re.sub(r'(value|nonce)="[^"]*"', "", html)

    assert "No cases found" in hidden.text
    assert without_token(hidden.text).replace("Jessica Thompson", "") == without_token(
        absent.text
    ).replace("Zebedee Quartermaine", "")
    by_number = search(client, nhs_number=NHS_NUMBER)
    assert found_case_ids(by_number.text) == []


def test_the_chair_finds_the_districts_cases_and_a_practitioner_may_not_search(
    client, sign_in, make_forum, make_user, jessica, others
):
    chair = make_user(Role.CHAIR)
    make_forum(chair=chair)
    sign_in(chair)
    assert found_case_ids(search(client, nhs_number=NHS_NUMBER).text) == [jessica.id]
    client.post("/sign-out", data={})
    practitioner = make_user(Role.PRACTITIONER)
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    fresh = client.application.test_client()
    submit(
        fresh, "/sign-in", {"email": practitioner.email, "password": "correct horse battery staple"}
    )
    assert fresh.get("/search").status_code == 403


def test_archived_cases_are_not_found_and_the_page_points_to_the_archive(
    client, sign_in, coordinator, jessica
):
    jessica.archived_at = utcnow()
    db.session.commit()
    sign_in(coordinator)
    page = search(client, nhs_number=NHS_NUMBER)
    assert found_case_ids(page.text) == []
    assert "Archived cases (closed more than a year ago) are not shown here" in page.text
    assert 'href="/archive"' in page.text


def test_the_archives_not_found_message_leads_to_the_search(client, sign_in, coordinator, jessica):
    """The archive used to say "find it from the case pages", where there was no search."""
    sign_in(coordinator)
    page = client.get(f"/archive?q={jessica.id}")
    assert "No archived case found" in page.text
    assert "find it from the case pages" not in page.text
    assert 'href="/search">Find a case</a>' in page.text
    assert found_case_ids(search(client, case_number=str(jessica.id)).text) == [jessica.id]


def test_a_name_too_common_to_compare_every_child_says_so(
    client, sign_in, coordinator, make_case, jessica, monkeypatch
):
    from maf.search import services

    make_case("Jessica", "Thompson", date(2014, 1, 9), "LE12 1AA")  # a second Jessica Thompson
    monkeypatch.setattr(services, "NAME_ONLY_LIMIT", 1)
    sign_in(coordinator)
    page = search(client, name="Jessica Thompson")
    assert "This name is common" in page.text
    assert len(found_case_ids(page.text)) == 1
