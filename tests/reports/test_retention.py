"""Retention of closed CAFs (seed 002 D3): "Once a CAF is closed a central copy of the CAF
information should remain accessible for one year and thereafter flagged on the system and
archived for a further six years". After that the child's identifying data is destroyed; the
counts the reports and the quarterly evaluation (seed 002 E) rely on are kept."""

import html
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from maf.agendas.models import AgendaItem, ItemKind
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.models import (
    Case,
    CaseStatus,
    Child,
    ChildMatchKey,
    Consent,
    MatchCandidate,
    MatchVerdict,
    SharingGround,
    SharingWithoutConsent,
)
from maf.dbtypes import LONDON
from maf.extensions import db
from maf.outcomes.models import (
    Action,
    AgreedService,
    ItemRecord,
    LeadKind,
    LeadProfessional,
    Outcome,
    ProgressAnswer,
    ProgressUpdate,
    QuestionnaireAnswer,
)
from maf.reports import retention
from tests.conftest import PASSWORD, submit

TODAY = date(2034, 6, 15)
A_YEAR_AGO = date(2033, 6, 15)
SIX_YEARS_AGO = date(2028, 6, 15)


def _london_midnight(day: date, hours: int = 0) -> datetime:
    return datetime.combine(day, time(hours), LONDON).astimezone(UTC)


@pytest.fixture
def closed_case(make_case):
    """A CAF received through intake (so indexed for the existing-CAF check), then closed."""

    def make(given_name, closed_on, archived_on=None, **kwargs):
        case = make_case(given_name, f"{given_name}son", **kwargs)
        case.status, case.closed_on = CaseStatus.CLOSED, closed_on
        case.status_reason = f"Needs met; {given_name} settled at school"
        if archived_on is not None:
            case.archived_at = _london_midnight(archived_on, 10)
        db.session.commit()
        return case

    return make


def _person(given_name, family_name, dob=date(2012, 5, 17), postcode="LE11 3TU"):
    from maf.cases.matching import PersonDetails

    return PersonDetails(
        given_name=given_name, family_name=family_name, date_of_birth=dob, postcode=postcode
    )


def _found(given_name: str) -> list[int]:
    return [
        child.id
        for child, _ in case_services.find_similar_children(_person(given_name, f"{given_name}son"))
    ]


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_years_before_handles_29_february():
    assert retention.years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)
    assert retention.years_before(date(2034, 6, 15), 6) == SIX_YEARS_AGO


# --- archiving after a year ------------------------------------------------------------------


def test_a_case_closed_exactly_a_year_ago_is_kept_a_day_more_is_archived(closed_case):
    kept = closed_case("Amelia", A_YEAR_AGO)
    archived = closed_case("Bethany", A_YEAR_AGO - timedelta(days=1))

    report = retention.apply_retention(TODAY, dry_run=False)

    assert report.archived == [archived.id]
    assert report.destroyed == []
    db.session.expire_all()
    assert db.session.get(Case, kept.id).archived_at is None
    assert db.session.get(Case, archived.id).archived_at is not None
    event = _events("case_archived")[0]
    assert event.object_id == str(archived.id)
    assert event.detail == f"retention: closed on {A_YEAR_AGO - timedelta(days=1)}"


def test_only_closed_cases_are_archived_and_only_once(closed_case, make_case):
    old = closed_case("Chloe", date(2030, 1, 1))
    open_case = make_case("Daisy", "Daisyson")  # open, whatever its age
    retention.apply_retention(TODAY, dry_run=False)
    first = db.session.get(Case, old.id).archived_at

    again = retention.apply_retention(TODAY + timedelta(days=1), dry_run=False)

    assert again.archived == []
    assert db.session.get(Case, old.id).archived_at == first
    assert db.session.get(Case, open_case.id).archived_at is None


def test_archived_children_drop_out_of_the_existing_caf_check(closed_case, make_case, coordinator):
    gone = closed_case("Esme", date(2032, 3, 1))
    still_open = closed_case("Freya", date(2032, 3, 1))
    # A new CAF for Freya, recognised as the same child: she stays findable.
    new = make_case("Freya", "Freyason", assessment_completed_on=date(2026, 11, 20))
    (candidate,) = new.match_candidates
    case_services.decide_candidate(new, candidate, MatchVerdict.SAME, coordinator)
    assert new.child_id == still_open.child_id
    assert gone.child_id in _found("Esme")

    report = retention.apply_retention(TODAY, dry_run=False)

    assert report.removed_from_search == [gone.child_id]
    assert _found("Esme") == []
    assert still_open.child_id in _found("Freya")
    # Archived, not destroyed: the archive keeps the identity for six more years.
    child = db.session.get(Child, gone.child_id)
    assert child.given_name == "Esme" and child.identity_destroyed_at is None
    assert _events("child_removed_from_search")[0].object_id == str(gone.child_id)


def test_a_caf_merged_into_an_archived_one_is_archived_with_it(closed_case, make_case, coordinator):
    target = closed_case("Gracie", date(2032, 3, 1))
    merged = make_case("Gracie", "Graciesonn", assessment_completed_on=date(2026, 11, 3))
    merged.status, merged.merged_into_id, merged.child_id = (
        CaseStatus.MERGED,
        target.id,
        target.child_id,
    )
    db.session.commit()

    report = retention.apply_retention(TODAY, dry_run=False)

    assert report.archived == sorted([target.id, merged.id])
    assert target.child_id in report.removed_from_search


# --- destroying identifying data six years after archiving ------------------------------------


@pytest.fixture
def full_history(closed_case, make_meeting, make_agency, coordinator):
    """A closed, long-archived case with something in every free-text field that can name the
    child or family."""
    meetings = []

    def make(given_name, archived_on, **kwargs):
        case = closed_case(given_name, date(2027, 6, 1), archived_on=archived_on, **kwargs)
        case.child_views, case.family_views = "I like my new class", "Mum is relieved"
        case.tier_outcome_reason = f"{given_name} is known to CAMHS"
        case.child.address, case.child.upn = "1 Forest Road, Loughborough", None
        case.child.other_names = f"{given_name}-Rose"
        if not meetings:
            meetings.append(make_meeting(date(2027, 1, 12)))
        meeting = meetings[0]
        item = AgendaItem(
            meeting=meeting,
            case=case,
            kind=ItemKind.NEW_CASE,
            position=1,
            added_by_id=coordinator.id,
        )
        db.session.add(item)
        db.session.flush()
        record = ItemRecord(
            agenda_item_id=item.id,
            discussion=f"{given_name}'s attendance has improved",
            outcome=Outcome.CONTINUE,
            outcome_notes=f"{given_name} to see the school nurse",
            recorded_by_id=coordinator.id,
            services=[AgreedService(agency=make_agency(), what=f"Mentoring for {given_name}")],
        )
        young_person_lead = LeadProfessional(
            case_id=case.id, kind=LeadKind.YOUNG_PERSON, name=given_name, starts_on=meeting.date
        )
        practitioner_lead = LeadProfessional(
            case_id=case.id, kind=LeadKind.PRACTITIONER, name="Zoë Brennan", starts_on=meeting.date
        )
        db.session.add_all(
            [
                record,
                young_person_lead,
                practitioner_lead,
                Action(
                    case_id=case.id,
                    description=f"Book {given_name} a place at the holiday club",
                    owner_name="Zoë Brennan",
                    due_on=date(2027, 2, 1),
                ),
                SharingWithoutConsent(
                    case_id=case.id,
                    decided_by_name="Paul Dennis",
                    decided_on=date(2027, 1, 5),
                    ground=SharingGround.RISK_OF_SIGNIFICANT_HARM,
                    reason=f"{given_name}'s stepfather returned home",
                    shared_with="Children's social care",
                    recorded_by_id=coordinator.id,
                ),
                ProgressUpdate(
                    case=case,
                    meeting=meeting,
                    lead_professional=practitioner_lead,
                    submitted_at=datetime(2027, 1, 10, tzinfo=UTC),
                    summary=f"{given_name} is sleeping better",
                    further_comments="Family moving in spring",
                    answers=[
                        QuestionnaireAnswer(
                            question=1, answer=ProgressAnswer.GOOD, comment="Likes Mr Khan"
                        )
                    ],
                ),
            ]
        )
        db.session.commit()
        return case

    return make


def test_archived_exactly_six_years_ago_is_kept_a_day_more_is_destroyed(full_history):
    kept = full_history("Harriet", SIX_YEARS_AGO)
    destroyed = full_history("Isla", SIX_YEARS_AGO - timedelta(days=1))

    report = retention.apply_retention(TODAY, dry_run=False)

    assert report.destroyed == [destroyed.child_id]
    db.session.expire_all()
    assert db.session.get(Child, kept.child_id).given_name == "Harriet"
    assert db.session.get(Case, kept.id).strengths == "Loves football"
    assert db.session.get(Child, destroyed.child_id).identity_destroyed_at is not None


def test_destruction_removes_identity_and_free_text_but_keeps_the_counts(
    full_history, need_statements
):
    case = full_history(
        "Jasmine",
        SIX_YEARS_AGO - timedelta(days=30),
        needs=need_statements[:2],
        upn="A123456789012",
        nhs_number="9434765919",
        school_name="Home educated by Mrs Jasmine Ward",
    )
    case_id, child_id = case.id, case.child_id
    before = dict(
        cases=db.session.scalar(select(func.count(Case.id))),
        age=case.age_at_assessment,
        setting=case.setting_type,
        district=case.district_id,
        needs=[need.id for need in case.needs],
        dates=(case.assessment_completed_on, case.closed_on, case.archived_at),
        gender=case.child.gender,
        consents=len(case.consents),
    )

    retention.apply_retention(TODAY, dry_run=False)

    db.session.expire_all()
    child = db.session.get(Child, child_id)
    assert (child.given_name, child.family_name, child.other_names) == ("Destroyed", "", "")
    assert child.full_name == "Destroyed"
    assert child.date_of_birth is None and child.address == "" and child.postcode is None
    assert child.upn is None and child.nhs_number is None
    assert child.school_name is None and child.school_or_setting is None
    assert child.identity_destroyed_at is not None
    assert db.session.scalar(select(func.count()).where(ChildMatchKey.child_id == child_id)) == 0

    case = db.session.get(Case, case_id)
    assert (case.strengths, case.child_views, case.family_views) == ("", "", "")
    assert case.status_reason == "" and case.tier_outcome_reason == ""
    assert all(change.reason == "" for change in case.history)
    assert all(c.given_by_name == "" for c in case.consents)
    assert [s.reason for s in case.sharing_without_consent] == [""]
    record = db.session.scalar(
        select(ItemRecord).join(AgendaItem).where(AgendaItem.case_id == case_id)
    )
    assert (record.discussion, record.outcome_notes) == ("", "")
    assert [service.what for service in record.services] == [""]
    assert db.session.scalars(
        select(Action.description).where(Action.case_id == case_id)
    ).all() == [""]
    leads = db.session.scalars(
        select(LeadProfessional).where(LeadProfessional.case_id == case_id)
    ).all()
    assert {(lead.kind, lead.name) for lead in leads} == {
        (LeadKind.YOUNG_PERSON, ""),
        (LeadKind.PRACTITIONER, "Zoë Brennan"),
    }
    update = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.case_id == case_id))
    assert (update.summary, update.further_comments) == ("", "")
    assert [(a.answer, a.comment) for a in update.answers] == [(ProgressAnswer.GOOD, "")]

    # What the reports count is unchanged.
    assert db.session.scalar(select(func.count(Case.id))) == before["cases"]
    assert case.age_at_assessment == before["age"] and case.setting_type == before["setting"]
    assert case.district_id == before["district"]
    assert [need.id for need in case.needs] == before["needs"]
    assert (case.assessment_completed_on, case.closed_on, case.archived_at) == before["dates"]
    assert child.gender == before["gender"] and len(case.consents) == before["consents"]
    assert case.status == CaseStatus.CLOSED


def test_the_existing_caf_checks_reasons_are_blanked_both_ways(full_history, make_case):
    case = full_history("Kacey", SIX_YEARS_AGO - timedelta(days=1))
    case_services._index_child(case.child)  # as before archiving, when the CAF below came in
    later = make_case("Kacie", "Kaceyson", assessment_completed_on=date(2026, 11, 20))
    (candidate,) = later.match_candidates
    assert candidate.child_id == case.child_id and "Kacey" in candidate.reasons, candidate.reasons

    retention.apply_retention(TODAY, dry_run=False)

    db.session.expire_all()
    assert db.session.get(MatchCandidate, candidate.id).reasons == ""


def test_a_destroyed_child_cannot_be_found(full_history):
    case = full_history("Kacey", SIX_YEARS_AGO - timedelta(days=1))
    # Indexed again as if it were live, to show destruction clears the index itself.
    case_services._index_child(case.child)
    db.session.commit()
    assert case.child_id in _found("Kacey")

    retention.apply_retention(TODAY, dry_run=False)

    assert _found("Kacey") == []
    assert case_services.find_similar_children(_person("Destroyed", "")) == []


def test_a_child_with_a_more_recent_case_keeps_their_identity(full_history, closed_case):
    old = full_history("Lily", SIX_YEARS_AGO - timedelta(days=400))
    recent = closed_case("Lily", date(2031, 1, 1), archived_on=date(2032, 1, 2))
    recent.child_id = old.child_id
    db.session.commit()

    report = retention.apply_retention(TODAY, dry_run=False)

    assert old.child_id not in report.destroyed
    assert db.session.get(Child, old.child_id).given_name == "Lily"


def test_every_change_is_audited_without_personal_data(full_history, closed_case):
    destroyed = full_history("Maisie", SIX_YEARS_AGO - timedelta(days=1))
    archived = closed_case("Niamh", date(2032, 3, 1))

    retention.apply_retention(TODAY, dry_run=False)

    assert [e.object_id for e in _events("case_archived")] == [str(archived.id)]
    assert [e.object_id for e in _events("child_removed_from_search")] == [str(archived.child_id)]
    (gone,) = _events("child_identity_destroyed")
    assert gone.object_type == "child" and gone.object_id == str(destroyed.child_id)
    assert gone.detail == f"retention: cases {destroyed.id}"
    (run,) = _events("retention_applied")
    assert run.detail == (
        "2034-06-15: 1 cases archived, 1 children removed from search, "
        "1 children's identifying data destroyed "
        "(rules: 1 year accessible, then 6 years archived)"
    )
    details = " ".join(e.detail or "" for e in db.session.scalars(select(AuditEvent)))
    for personal in ("Maisie", "Niamh", "Karen", "2012-05-17", "LE11"):
        assert personal not in details


def test_a_dry_run_changes_nothing_and_lists_the_same_ids(full_history, closed_case):
    destroyed = full_history("Olivia", SIX_YEARS_AGO - timedelta(days=1))
    archived = closed_case("Poppy", date(2032, 3, 1))
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    keys = db.session.scalar(select(func.count()).select_from(ChildMatchKey))

    dry = retention.apply_retention(TODAY, dry_run=True)

    assert dry.dry_run and dry.archived == [archived.id] and dry.destroyed == [destroyed.child_id]
    db.session.expire_all()
    assert db.session.get(Case, archived.id).archived_at is None
    assert db.session.get(Child, destroyed.child_id).given_name == "Olivia"
    assert db.session.get(Case, destroyed.id).strengths == "Loves football"
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert db.session.scalar(select(func.count()).select_from(ChildMatchKey)) == keys

    real = retention.apply_retention(TODAY, dry_run=False)

    assert (real.archived, real.destroyed, real.removed_from_search) == (
        dry.archived,
        dry.destroyed,
        dry.removed_from_search,
    )


def test_consent_names_are_blanked_only_for_the_destroyed_child(full_history, closed_case):
    destroyed = full_history("Rosie", SIX_YEARS_AGO - timedelta(days=1))
    other = closed_case("Sienna", date(2032, 3, 1))

    retention.apply_retention(TODAY, dry_run=False)

    names = dict(db.session.execute(select(Consent.case_id, Consent.given_by_name)).all())
    assert names[destroyed.id] == "" and names[other.id] == "Karen Thompson"


# --- the archive search ------------------------------------------------------------------------


def _client_for(app, user):
    client = app.test_client()
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    return client


def test_coordinators_find_an_archived_case_by_number_and_every_look_is_audited(
    app, closed_case, coordinator, make_user, make_district
):
    archived = closed_case("Tilly", date(2025, 3, 1), archived_on=date(2026, 3, 2))
    live = closed_case("Una", date(2026, 10, 1))
    client = _client_for(app, coordinator)

    page = client.get("/archive", query_string={"q": str(archived.id)})

    text = html.unescape(page.text)
    assert page.status_code == 200
    assert f"Case {archived.id}" in text and "Tilly Tillyson" in text
    assert "Needs met; Tilly settled at school" in text
    (event,) = _events("archive_view")
    assert event.object_id == str(archived.id) and event.user_id == coordinator.id

    not_archived = html.unescape(client.get("/archive", query_string={"q": str(live.id)}).text)
    assert "No archived case found" in not_archived and "Una" not in not_archived
    assert _events("archive_search")[0].detail == f"case {live.id}: not found"

    bad = client.get("/archive", query_string={"q": "Tilly"})
    assert "Enter a case number, like 1234" in html.unescape(bad.text)
    assert 'id="q-error"' in bad.text

    elsewhere = _client_for(app, make_user(Role.COORDINATOR, districts=[make_district("Blaby")]))
    other_district = html.unescape(elsewhere.get(f"/archive?q={archived.id}").text)
    assert "No archived case found" in other_district and "Tilly" not in other_district


def test_admins_see_an_archived_case_without_the_childs_details(app, closed_case, make_user):
    archived = closed_case("Violet", date(2025, 3, 1), archived_on=date(2026, 3, 2))
    admin = _client_for(app, make_user(Role.ADMIN))

    text = html.unescape(admin.get(f"/archive?q=case {archived.id}").text)

    assert f"Case {archived.id}" in text and "Charnwood" in text
    assert "Violet" not in text and "Loves football" not in text
    assert len(_events("archive_view")) == 1


def test_practitioners_cannot_search_the_archive(app, make_user):
    client = _client_for(app, make_user(Role.PRACTITIONER))
    assert client.get("/archive?q=1").status_code == 403


def test_the_archive_page_states_the_retention_rule_in_force(app, coordinator, make_user):
    """Seed 002 D3 by default (a year, then six more); a council's own periods once set."""
    from maf.rules import services as rules

    client = _client_for(app, coordinator)
    seed_rule = html.unescape(client.get("/archive").text)
    assert "stays on the case pages for 1 year. It is then archived for 6 more years" in seed_rule

    admin = make_user(Role.ADMIN)
    rules.change("retention_years_accessible", 2, by=admin)
    rules.change("retention_years_archived", 1, by=admin)
    db.session.commit()
    local_rule = html.unescape(client.get("/archive", query_string={"q": "999999"}).text)
    assert "stays on the case pages for 2 years. It is then archived for 1 more year" in local_rule
    assert "A case that ended less than 2 years ago is not archived" in local_rule
