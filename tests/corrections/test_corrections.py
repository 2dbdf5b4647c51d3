"""Correcting a child's details with a trail (issue 16 point 4): each changed detail keeps its
old value, who changed it, when and why; the timelines of the child's cases show it; search
finds the corrected name; two coordinators cannot overwrite each other."""

from datetime import date

import pytest
from sqlalchemy import func, select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases import matching
from maf.cases import services as cases
from maf.cases.models import CaseStatus, Child, ChildMatchKey, MatchVerdict
from maf.corrections import services
from maf.corrections.models import ChildDetailsChange
from maf.extensions import db
from maf.outcomes.followup import case_timeline
from maf.versioning import StaleEdit
from tests.conftest import PASSWORD, csrf_token_from, submit, version_from


def _form(child: Child, **changes) -> dict:
    """The correction form as the page fills it, with `changes` typed over it."""
    data = {
        "given_name": child.given_name,
        "family_name": child.family_name,
        "other_names": child.other_names,
        "date_of_birth": [
            str(child.date_of_birth.day),
            str(child.date_of_birth.month),
            str(child.date_of_birth.year),
        ],
        "gender": child.gender.value,
        "address": child.address,
        "postcode": child.postcode or "",
        "school": "0",
        "school_name": "",
        "upn": child.upn or "",
        "nhs_number": child.nhs_number or "",
        "reason": "Typed wrongly at intake; the school's records confirm it",
    }
    return {**data, **changes}


@pytest.fixture
def child_with_two_cases(make_case, coordinator):
    """Jessica's closed CAF and her newer one, on one record (the check joined them)."""
    earlier = make_case("Jessica", "Thompson", date(2015, 5, 3), "LE11 3TU")
    earlier.status = CaseStatus.CLOSED
    db.session.commit()
    newer = make_case("Jessica", "Thompson", date(2015, 5, 3), "LE11 3TU")
    cases.decide_candidate(newer, newer.match_candidates[0], MatchVerdict.SAME, coordinator)
    assert newer.child is earlier.child
    return earlier, newer


def test_a_corrected_date_of_birth_keeps_its_old_value_and_shows_on_every_timeline(
    client, sign_in, coordinator, child_with_two_cases
):
    earlier, newer = child_with_two_cases
    child = earlier.child
    sign_in(coordinator)
    url = f"/children/{child.id}/correct"
    response = submit(client, url, _form(child, date_of_birth=["5", "3", "2015"]))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    assert child.date_of_birth == date(2015, 3, 5)
    [change] = db.session.scalars(select(ChildDetailsChange)).all()
    assert (change.field, change.old_value, change.new_value) == (
        "date_of_birth",
        "3 May 2015",
        "5 March 2015",
    )
    assert change.changed_by_id == coordinator.id
    assert change.reason == "Typed wrongly at intake; the school's records confirm it"
    for case in (earlier, newer):
        events = [(e.what, e.detail) for e in case_timeline(case)]
        assert (
            "Date of birth corrected from 3 May 2015 to 5 March 2015 by Priya Shah",
            "Typed wrongly at intake; the school's records confirm it",
        ) in events
        assert case.age_at_assessment == 11, "the age kept with the case follows the correction"
    history = client.get(f"/children/{child.id}/history").text
    assert "3 May 2015" in history and "5 March 2015" in history and "Priya Shah" in history


def test_a_corrected_name_is_found_by_the_matcher(make_case, coordinator):
    case = make_case("Jessika", "Tompson", date(2012, 5, 17), postcode=None)
    old_keys = set(matching.blocking_keys(cases.person_of_child(case.child)))
    details = services.details_of(case.child)
    details.given_name, details.family_name = "Jessica", "Thompson"
    services.correct_child(case.child, details, "Spelt wrongly on the form", coordinator)
    new_keys = set(matching.blocking_keys(cases.person_of_child(case.child)))
    stored = set(
        db.session.scalars(select(ChildMatchKey.key).where(ChildMatchKey.child_id == case.child_id))
    )
    assert stored == new_keys and old_keys - new_keys, "the keys were rebuilt from the new name"
    found = cases.find_similar_children(
        matching.PersonDetails("Jess", "Thomson", date(2012, 5, 17))
    )
    assert [child for child, _ in found] == [case.child]


def test_every_changed_detail_is_one_row_and_unchanged_ones_none(make_case, coordinator):
    case = make_case("Jessica", "Thompson", date(2012, 5, 17), address="1 Old Road")
    details = services.details_of(case.child)
    details.address, details.postcode = "2 New Road", "LE12 9QQ"
    details.upn, details.nhs_number = "B801200005001", "9434765919"
    changes = services.correct_child(case.child, details, "Moved house", coordinator)
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("address", "1 Old Road", "2 New Road"),
        ("postcode", "LE11 3TU", "LE12 9QQ"),
        ("upn", "", "B801200005001"),
        ("nhs_number", "", "9434765919"),
    ]


def test_nothing_changed_or_no_reason_is_refused(make_case, coordinator):
    case = make_case()
    with pytest.raises(services.CorrectionError, match="Nothing has been changed"):
        services.correct_child(case.child, services.details_of(case.child), "why", coordinator)
    details = services.details_of(case.child)
    details.given_name = "Jess"
    with pytest.raises(services.CorrectionError, match="Enter why"):
        services.correct_child(case.child, details, "  ", coordinator)
    assert db.session.scalar(select(func.count()).select_from(ChildDetailsChange)) == 0


def test_a_date_of_birth_after_the_assessment_is_refused(make_case, coordinator):
    case = make_case(assessment_completed_on=date(2026, 11, 2))
    details = services.details_of(case.child)
    details.date_of_birth = date(2026, 11, 20)
    with pytest.raises(services.CorrectionError, match="before the assessment of case"):
        services.correct_child(case.child, details, "typo", coordinator)


def test_an_identifier_held_by_another_child_is_refused_beside_the_field(
    client, sign_in, coordinator, make_case
):
    make_case("Marcus", "Reid", date(2010, 2, 2), upn="B801200005001", nhs_number="9434765919")
    case = make_case("Jessica", "Thompson", date(2012, 5, 17))
    sign_in(coordinator)
    url = f"/children/{case.child_id}/correct"
    response = submit(client, url, _form(case.child, upn="b8012 0000 5001"))
    assert response.status_code == 400
    assert "Unique pupil number B801200005001 is already recorded for another child" in (
        response.text
    )
    assert 'value="b8012 0000 5001"' in response.text or "B801200005001" in response.text
    response = submit(client, url, _form(case.child, nhs_number="943 476 5918"))
    assert response.status_code == 400
    assert "Enter a valid NHS number" in response.text, "the intake's checksum, reused"
    assert db.session.scalar(select(func.count()).select_from(ChildDetailsChange)) == 0


def test_a_second_coordinators_stale_correction_is_refused_showing_both(
    app, client, sign_in, coordinator, make_user, make_case
):
    case = make_case("Jessica", "Thompson", date(2012, 5, 17))
    colleague = make_user(Role.COORDINATOR, name="Tom Baker", districts=coordinator.districts)
    url = f"/children/{case.child_id}/correct"
    sign_in(coordinator)
    theirs = app.test_client()
    submit(theirs, "/sign-in", {"email": colleague.email, "password": PASSWORD})
    opened_at = version_from(theirs.get(url).text)

    assert submit(client, url, _form(case.child, address="2 New Road")).status_code == 302
    page = theirs.get(url).text
    response = theirs.post(
        url,
        data={
            **_form(case.child, given_name="Jess", address="9 Other Street"),
            "version": opened_at,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 409
    assert "Someone else saved this after you opened it" in response.text
    assert "Priya Shah saved changes" in response.text
    assert "2 New Road" in response.text and "9 Other Street" in response.text
    assert 'value="Jess"' in response.text, "what they typed is kept"
    db.session.expire_all()
    assert (case.child.given_name, case.child.address) == ("Jessica", "2 New Road")
    # Saving again, knowingly, goes through.
    again = theirs.post(
        url,
        data={
            **_form(case.child, given_name="Jess", address="9 Other Street"),
            "version": version_from(response.text),
            "csrf_token": csrf_token_from(response.text),
        },
    )
    assert again.status_code == 302


@pytest.mark.parametrize(
    ("who", "correct", "history"),
    [
        ("other_coordinator", 404, 404),
        ("chair", 403, 200),
        ("practitioner", 403, 404),
        ("admin", 403, 404),
    ],
)
def test_who_may_correct_and_read_the_history(
    client, sign_in, make_user, make_district, make_forum, make_case, who, correct, history
):
    case = make_case()
    chair = make_user(Role.CHAIR, name="Margaret Okafor")
    make_forum(chair=chair)
    users = {
        "other_coordinator": lambda: make_user(Role.COORDINATOR, districts=[make_district()]),
        "chair": lambda: chair,
        "practitioner": lambda: make_user(Role.PRACTITIONER),
        "admin": lambda: make_user(Role.ADMIN),
    }
    sign_in(users[who]())
    assert client.get(f"/children/{case.child_id}/correct").status_code == correct
    assert client.get(f"/children/{case.child_id}/history").status_code == history
    page = client.get(f"/children/{case.child_id}/correct")
    if correct != 200:
        response = client.post(
            f"/children/{case.child_id}/correct",
            data={**_form(case.child, given_name="Hacked"), "csrf_token": _any_csrf(client)},
        )
        assert response.status_code == correct, page.status_code
    db.session.expire_all()
    assert case.child.given_name == "Jessica"


def _any_csrf(client) -> str:
    return csrf_token_from(client.get("/").text)


def test_a_correction_opened_before_a_merge_is_shown_what_the_merge_changed(make_case, coordinator):
    earlier = make_case("Jonathan", "Smith", date(2013, 9, 1), "LE11 3TU")
    opened_at = earlier.child.version
    details = services.details_of(earlier.child)
    newer = make_case("Jon", "Smith", date(2013, 9, 1), "LE11 5AB")
    cases.decide_candidate(newer, newer.match_candidates[0], MatchVerdict.SAME, coordinator)
    details.given_name = "John"
    with pytest.raises(StaleEdit) as refused:
        services.correct_child(earlier.child, details, "typo", coordinator, opened_at)
    assert refused.value.changed_by == "Priya Shah"
    assert [d.label for d in refused.value.differences] == [
        "Given name",
        "Other or previous names",
        "Postcode",
    ]


def test_an_identifier_taken_at_the_same_moment_is_refused_not_a_500(
    make_case, coordinator, monkeypatch
):
    """Two coordinators giving two children one NHS number at once: the check before saving
    passes for both, and the database's unique key refuses the second, in words."""
    make_case("Marcus", "Reid", date(2010, 2, 2), nhs_number="9434765919")
    case = make_case("Jessica", "Thompson", date(2012, 5, 17))
    monkeypatch.setattr(services, "_holder_of", lambda *args: None)  # as if not yet saved
    details = services.details_of(case.child)
    details.nhs_number = "9434765919"
    with pytest.raises(services.CorrectionError, match="just been recorded for another child"):
        services.correct_child(case.child, details, "From the GP's letter", coordinator)
    db.session.expire_all()
    assert case.child.nhs_number is None
    assert db.session.scalar(select(func.count()).select_from(ChildDetailsChange)) == 0


def test_reading_the_history_is_a_read_of_the_childs_record(
    client, sign_in, coordinator, child_with_two_cases
):
    """Every read of a case record is audited (DESIGN §1), as "view", which the subject
    access export lists under who has looked at the record."""
    earlier, newer = child_with_two_cases
    sign_in(coordinator)
    assert client.get(f"/children/{earlier.child_id}/history").status_code == 200
    reads = db.session.scalars(
        select(AuditEvent.object_id).where(
            AuditEvent.action == "view", AuditEvent.user_id == coordinator.id
        )
    ).all()
    assert sorted(reads) == sorted([str(earlier.id), str(newer.id)])
