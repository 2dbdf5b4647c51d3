"""Undoing a wrong "same child" merge (issue 16 point 4): both child records and both cases
come back as they were, compared field by field with a snapshot taken before the merge."""

from datetime import date

import pytest
from sqlalchemy import inspect, select

from maf.auth.models import Role
from maf.cases import services as cases
from maf.cases.models import (
    Case,
    CaseStatus,
    Child,
    ChildMatchKey,
    Consent,
    Gender,
    MatchCandidate,
    MatchVerdict,
)
from maf.corrections import services
from maf.corrections.models import ChildMerge
from maf.extensions import db
from maf.outcomes.followup import case_timeline
from tests.conftest import csrf_token_from

# Row bookkeeping that any save moves; everything else must come back exactly.
BOOKKEEPING = {"version", "updated_at", "updated_by_id"}


def _columns(row) -> dict:
    return {
        attribute.key: getattr(row, attribute.key)
        for attribute in inspect(row).mapper.column_attrs
        if attribute.key not in BOOKKEEPING
    }


def snapshot(*cases_: Case) -> dict:
    """Every column of the cases and their children, and what hangs off them."""
    db.session.expire_all()
    found = {}
    for case in cases_:
        case = db.session.get(Case, case.id)
        child = case.child
        found[f"case {case.id}"] = {
            **_columns(case),
            "needs": sorted(need.id for need in case.needs),
            "consents": sorted((c.id, c.kind.value, c.given) for c in case.consents),
            "candidates": sorted(
                (c.child_id, c.verdict.value if c.verdict else None) for c in case.match_candidates
            ),
        }
        found[f"child of case {case.id}"] = {
            **_columns(child),
            "keys": sorted(
                db.session.scalars(
                    select(ChildMatchKey.key).where(ChildMatchKey.child_id == child.id)
                )
            ),
        }
    return found


@pytest.fixture
def two_records(make_case, coordinator, need_statements, school):
    """Jonathan Smith's open CAF, and a newer CAF for another child the check offers as him."""
    earlier = make_case(
        "Jonathan",
        "Smith",
        date(2013, 9, 1),
        "LE11 3TU",
        needs=need_statements[:1],
        address="12 Ashby Road, Loughborough",
        other_names="Johnny Smith",
    )
    newer = make_case(
        "Jon",
        "Smith",
        date(2013, 9, 1),
        "LE11 5AB",
        needs=need_statements[1:3],
        address="4 Forest Road, Loughborough",
        upn="B801200005001",
        nhs_number="9434765919",
        gender=Gender.MALE,
        school_name="Loughborough Steiner School",
    )
    assert [c.child_id for c in newer.match_candidates] == [earlier.child_id]
    return earlier, newer


def _merge(earlier, newer, coordinator):
    return cases.decide_candidate(newer, newer.match_candidates[0], MatchVerdict.SAME, coordinator)


@pytest.mark.parametrize("earlier_status", [CaseStatus.RECEIVED, CaseStatus.CLOSED])
def test_merge_then_undo_restores_every_field_of_both_records_and_both_cases(
    two_records, coordinator, earlier_status
):
    """With the earlier CAF open, the newer one's information joins it (seed 002 A4) and the
    undo takes it out again; with it closed, only the child records were joined."""
    earlier, newer = two_records
    earlier.status = earlier_status
    db.session.commit()
    duplicate_id = newer.child_id
    before = snapshot(earlier, newer)

    _merge(earlier, newer, coordinator)
    joined = CaseStatus.MERGED if earlier_status == CaseStatus.RECEIVED else CaseStatus.RECEIVED
    assert newer.status == joined and newer.child is earlier.child
    assert db.session.get(Child, duplicate_id) is None, "the duplicate record was joined in"
    assert earlier.child.upn == "B801200005001", "the merge filled the kept record's gap"
    merge = db.session.scalar(select(ChildMerge))
    assert merge.kept_child_id == earlier.child_id and merge.duplicate_child_id == duplicate_id

    assert services.plan_undo(merge).possible
    separated = services.undo_merge(merge, "Different children: twins' cousin", coordinator)
    after = snapshot(earlier, newer)

    assert separated.id == duplicate_id, "the record comes back with its own id"
    # What the undo changes on purpose: the verdict is now "different", so the check is done.
    new_case = after[f"case {newer.id}"]
    assert new_case.pop("candidates") == [(earlier.child_id, "different")]
    assert before[f"case {newer.id}"].pop("candidates") == [(earlier.child_id, None)]
    assert new_case.pop("existing_caf_checked_at") is not None
    assert before[f"case {newer.id}"].pop("existing_caf_checked_at") is None
    assert after == before
    assert newer.status == CaseStatus.RECEIVED and newer.merged_into is None


def test_undoing_twice_does_it_once(two_records, coordinator):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    merge = db.session.scalar(select(ChildMerge))
    services.undo_merge(merge, "Not the same child", coordinator)
    children = db.session.scalar(select(db.func.count()).select_from(Child))
    with pytest.raises(services.AlreadyUndone, match="undone by Priya Shah"):
        services.undo_merge(merge, "Not the same child", coordinator)
    assert db.session.scalar(select(db.func.count()).select_from(Child)) == children


def test_a_correction_made_after_the_merge_wins(two_records, coordinator):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    kept = earlier.child
    assert kept.address == "4 Forest Road, Loughborough"
    details = services.details_of(kept)
    details.address = "7 Park Street, Loughborough"
    services.correct_child(kept, details, "Moved again in December", coordinator)
    merge = db.session.scalar(select(ChildMerge))
    plan = services.plan_undo(merge)
    assert plan.kept_as_now == [
        "Address has changed since the merge: corrected by Priya Shah on "
        f"{services.date_in_words(services.london_today())}, so it stays as it is now"
    ]
    services.undo_merge(merge, "Not the same child", coordinator)
    assert kept.address == "7 Park Street, Loughborough"
    assert kept.postcode == "LE11 3TU", "what was not corrected goes back"


def test_text_and_needs_added_since_the_merge_are_kept(two_records, coordinator, need_statements):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    earlier.strengths += "\n\nAdded at the forum: enjoys drama club"
    earlier.needs = [*earlier.needs, need_statements[5]]
    db.session.commit()
    services.undo_merge(db.session.scalar(select(ChildMerge)), "Not the same child", coordinator)
    assert earlier.strengths == "Loves football\n\nAdded at the forum: enjoys drama club"
    assert {need.id for need in earlier.needs} == {need_statements[0].id, need_statements[5].id}
    assert sorted(c.case_id for c in db.session.scalars(select(Consent))) == sorted(
        [earlier.id] * 3 + [newer.id] * 3
    )


def test_a_merge_without_an_open_case_is_undone_too(make_case, coordinator):
    earlier = make_case("Chloe", "Smith", date(2011, 4, 4), "LE11 3TU")
    earlier.status = CaseStatus.CLOSED
    db.session.commit()
    newer = make_case("Chloe", "Brown", date(2011, 4, 4), "LE11 3TU")
    cases.decide_candidate(newer, newer.match_candidates[0], MatchVerdict.SAME, coordinator)
    assert newer.child is earlier.child and "Chloe Brown" in earlier.child.other_names
    services.undo_merge(db.session.scalar(select(ChildMerge)), "Different Chloe", coordinator)
    assert newer.child is not earlier.child
    assert newer.child.full_name == "Chloe Brown" and earlier.child.other_names == ""
    found = cases.find_similar_children(cases.person_of_child(newer.child))
    assert newer.child in [child for child, _ in found], "its matcher keys are back"


def test_an_unrecorded_merge_is_listed_as_such(two_records, coordinator):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    db.session.delete(db.session.scalar(select(ChildMerge)))  # as merges made before issue 16
    db.session.commit()
    history = services.history_of(earlier.child)
    assert history.merges == []
    assert [m.case for m in history.unrecorded_merges] == [newer]


def test_undo_needs_a_reason(two_records, coordinator):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    with pytest.raises(services.CorrectionError, match="Enter why"):
        services.undo_merge(db.session.scalar(select(ChildMerge)), "  ", coordinator)
    assert db.session.scalar(select(ChildMerge)).undone_at is None
    assert db.session.scalar(select(MatchCandidate)).verdict == MatchVerdict.SAME


def test_the_undo_page_separates_the_records_once_however_often_it_is_sent(
    client, sign_in, coordinator, two_records
):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    merge = db.session.scalar(select(ChildMerge))
    kept = earlier.child
    details = services.details_of(kept)
    details.postcode = "LE11 9ZZ"
    services.correct_child(kept, details, "Confirmed by the school", coordinator)
    sign_in(coordinator)
    url = f"/merges/{merge.id}/undo"
    page = client.get(url)
    assert page.status_code == 200
    assert "Postcode has changed since the merge: corrected by Priya Shah" in page.text
    token = csrf_token_from(page.text)
    reason = {"reason": "Different children: the school has two", "csrf_token": token}
    first, second = client.post(url, data=reason), client.post(url, data=reason)
    assert (first.status_code, second.status_code) == (302, 302)
    assert "Nothing more was changed" in client.get(second.headers["Location"]).text
    assert db.session.scalar(select(db.func.count()).select_from(Child)) == 2
    db.session.expire_all()
    assert kept.postcode == "LE11 9ZZ", "the correction made after the merge wins"
    for case in (earlier, newer):
        events = [(event.what, event.detail) for event in case_timeline(case)]
        assert any(what == "Same child: records joined" for what, _ in events), case
        assert any(
            what == "Not the same child: records separated"
            and "Different children: the school has two" in detail
            for what, detail in events
        ), case


def test_an_unrecorded_merge_says_it_cannot_be_undone_and_why(
    client, sign_in, coordinator, two_records
):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    db.session.delete(db.session.scalar(select(ChildMerge)))  # as merges made before issue 16
    db.session.commit()
    sign_in(coordinator)
    page = client.get(f"/children/{earlier.child_id}/history").text
    assert f"Case {newer.id} was judged the same child" in page
    assert "cannot be undone automatically" in page and "was not kept" in page


@pytest.mark.parametrize(("role", "expected"), [("other_coordinator", 404), ("chair", 403)])
def test_only_the_districts_coordinators_undo_a_merge(
    client, sign_in, make_user, make_district, coordinator, two_records, role, expected
):
    earlier, newer = two_records
    _merge(earlier, newer, coordinator)
    merge = db.session.scalar(select(ChildMerge))
    if role == "chair":
        sign_in(make_user(Role.CHAIR))
    else:
        sign_in(make_user(Role.COORDINATOR, districts=[make_district()]))
    url = f"/merges/{merge.id}/undo"
    assert client.get(url).status_code == expected
    token = csrf_token_from(client.get("/").text)
    assert client.post(url, data={"reason": "x", "csrf_token": token}).status_code == expected
    assert db.session.scalar(select(ChildMerge)).undone_at is None


def test_a_chain_of_merges_is_undone_latest_first(make_case, coordinator):
    """A child referred three times: the third CAF is joined to the second, then the second to
    the first. The first merge cannot be undone while the second stands; undone in turn, each
    record comes back with its own case."""
    first = make_case("Jonathan", "Smith", date(2013, 9, 1), "LE11 3TU")
    second = make_case("Jon", "Smith", date(2013, 9, 1), "LE11 3TU")
    third = make_case("Johnny", "Smith", date(2013, 9, 1), "LE11 3TU")
    second_child, third_child = second.child_id, third.child_id
    onto_second = next(c for c in third.match_candidates if c.child_id == second_child)
    cases.decide_candidate(third, onto_second, MatchVerdict.SAME, coordinator)
    onto_first = next(c for c in second.match_candidates if c.child_id == first.child_id)
    cases.decide_candidate(second, onto_first, MatchVerdict.SAME, coordinator)
    assert {case.child_id for case in (first, second, third)} == {first.child_id}
    earlier_merge, later_merge = db.session.scalars(select(ChildMerge).order_by(ChildMerge.id))

    refused = services.plan_undo(earlier_merge)
    assert not refused.possible and f"by the check of case {second.id}" in refused.refusal
    with pytest.raises(services.CorrectionError, match="undo that later merge first"):
        services.undo_merge(earlier_merge, "Three different boys", coordinator)

    services.undo_merge(later_merge, "Three different boys", coordinator)
    assert (second.child_id, third.child_id) == (second_child, second_child)
    services.undo_merge(earlier_merge, "Three different boys", coordinator)
    assert (first.child.full_name, second.child.full_name, third.child.full_name) == (
        "Jonathan Smith",
        "Jon Smith",
        "Johnny Smith",
    )
    assert third.child_id == third_child
    assert {c.status for c in (second, third)} == {CaseStatus.RECEIVED}
