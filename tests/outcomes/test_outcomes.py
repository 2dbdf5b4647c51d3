"""Recording a forum meeting (seed 004: the forum agrees services and a lead professional, who
reports progress at the next meeting; seed 002 C1: reviews within 3 months; seed 002 D1:
closure at a sign-off with reasons; seed 003 §3.8: a parent or young person can be LP)."""

from datetime import date

import pytest

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind, ItemStatus
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.forums.models import MeetingStatus, MemberRole
from maf.forums.services import add_member
from maf.outcomes import services
from maf.outcomes.models import AttendanceStatus, ClosureReason, LeadKind, Outcome
from tests.conftest import at_the_meeting

NEW, REVIEW = ItemKind.NEW_CASE, ItemKind.REVIEW


@pytest.fixture
def forum(make_forum):
    return make_forum()


@pytest.fixture
def january(make_meeting, forum):
    return make_meeting(date(2027, 1, 12), forum=forum)


@pytest.fixture
def april(make_meeting, forum):
    return make_meeting(date(2027, 4, 6), forum=forum)


def _lead(name="Zoë Brennan", kind=LeadKind.PRACTITIONER, agency=None):
    return services.LeadDetails(
        kind=kind, name=name, agreed=True, email="zoe@example.org", agency=agency
    )


def _continue(meeting, **extra):
    return services.ItemDetails(
        outcome=Outcome.CONTINUE, next_review_on=services.propose_next_review(meeting), **extra
    )


def test_review_date_is_the_last_forum_meeting_within_three_months(
    january, april, make_meeting, forum
):
    make_meeting(date(2027, 2, 9), forum=forum)
    make_meeting(date(2027, 4, 20), forum=forum)  # after 12 April: too late
    assert services.propose_next_review(january) == april.date == date(2027, 4, 6)


def test_without_a_meeting_the_three_month_date_moves_back_over_bank_holidays(make_meeting, forum):
    september = make_meeting(date(2026, 9, 25), forum=forum)
    # 25 December 2026 is Christmas Day (a Friday): the review falls on Thursday 24th.
    assert services.propose_next_review(september) == date(2026, 12, 24)
    june = make_meeting(date(2027, 6, 27), forum=forum)
    # 27 September 2027 is a Monday: a working day, kept as it is.
    assert services.propose_next_review(june) == date(2027, 9, 27)


def test_each_outcome_is_checked(january, make_ready_case, coordinator):
    item = agendas.add_to_agenda(january, make_ready_case(), NEW, coordinator)
    refusals = [
        (
            services.ItemDetails(outcome=Outcome.CLOSE, closure_reason=ClosureReason.NEEDS_MET),
            "not closed at its first",
        ),
        (services.ItemDetails(outcome=Outcome.STEP_UP), "Enter why the case is stepping up"),
        (services.ItemDetails(outcome=Outcome.CONTINUE), "Enter the date of the next review"),
        (
            services.ItemDetails(outcome=Outcome.CONTINUE, next_review_on=date(2027, 6, 1)),
            "within 3 months",
        ),
        (_continue(january), "Record the lead professional"),
    ]
    for details, message in refusals:
        with pytest.raises(services.OutcomeError, match=message):
            services.save_item_record(item, details, coordinator)
        db.session.rollback()
    services.save_item_record(
        item, services.ItemDetails(outcome=None, discussion="Started"), coordinator
    )
    assert services.record_for(item).discussion == "Started", "saved as you go, no outcome yet"


def test_completing_needs_every_outcome(january, make_ready_case, coordinator):
    agendas.add_to_agenda(january, make_ready_case(), NEW, coordinator)
    with pytest.raises(services.OutcomeError, match="1 still to do"):
        at_the_meeting(january)
        services.complete_meeting(january, coordinator)


def test_a_whole_meeting_applies_every_kind_of_outcome(
    january, april, make_ready_case, make_agency, coordinator
):
    school = make_agency(name="Loughborough Grammar School")
    cont = make_ready_case("Amy", "Lee", date(2013, 2, 1), "LE11 1AA")
    step = make_ready_case("Ben", "Ward", date(2014, 3, 2), "LE12 2BB")
    defer = make_ready_case("Cara", "Fox", date(2012, 4, 3), "LE13 3CC")
    signed_off = make_ready_case("Dan", "Ng", date(2011, 5, 4), "LE14 4DD")
    signed_off.status = CaseStatus.OPEN
    db.session.commit()
    items = {
        case: agendas.add_to_agenda(
            january, case, ItemKind.SIGN_OFF if case is signed_off else NEW, coordinator
        )
        for case in (cont, step, defer, signed_off)
    }
    services.save_item_record(
        items[cont],
        _continue(
            january,
            discussion="School and nursing to support",
            services=[(school, "Mentoring twice a week")],
            actions=[
                services.ActionDetails(
                    "Refer to mentoring", "Daniel Kowalski", date(2027, 2, 1), owner_agency=school
                )
            ],
            lead=_lead("Karen Lee", LeadKind.PARENT_CARER),
        ),
        coordinator,
    )
    services.save_item_record(
        items[step],
        services.ItemDetails(outcome=Outcome.STEP_UP, outcome_notes="Disclosure of harm"),
        coordinator,
    )
    services.save_item_record(
        items[defer], services.ItemDetails(outcome=Outcome.DEFER), coordinator
    )
    services.save_item_record(
        items[signed_off],
        services.ItemDetails(
            outcome=Outcome.CLOSE,
            closure_reason=ClosureReason.NEEDS_MET,
            outcome_notes="All actions done",
        ),
        coordinator,
    )
    at_the_meeting(january)
    minutes = services.complete_meeting(january, coordinator)

    assert january.status == MeetingStatus.HELD and minutes.version == 1
    assert cont.status == CaseStatus.OPEN and cont.next_review_on == date(2027, 4, 6)
    (lead,) = services.lead_history(cont)
    assert (lead.name, lead.kind, lead.starts_on, lead.ends_on) == (
        "Karen Lee",
        LeadKind.PARENT_CARER,
        date(2027, 1, 12),
        None,
    )
    assert [a.description for a in services.outstanding_actions(cont)] == ["Refer to mentoring"]
    assert step.status == CaseStatus.STEPPED_UP and "Disclosure of harm" in step.status_reason
    assert signed_off.status == CaseStatus.CLOSED and "Needs met" in signed_off.status_reason
    assert items[defer].status == ItemStatus.MOVED
    assert [i.case for i in agendas.scheduled_items(april)] == [defer]
    # Carry forward: the open case is proposed as a review at April's meeting with its
    # last outcome and outstanding actions (seed 004: the LP reports at the next meeting).
    proposals = {p.case: p.reasons for p in agendas.review_proposals(april)}
    assert cont in proposals and step not in proposals and signed_off not in proposals
    review = agendas.add_to_agenda(april, cont, REVIEW, coordinator)
    context = services.review_context(review)
    assert context.last_outcome.outcome == Outcome.CONTINUE
    assert [a.description for a in context.outstanding] == ["Refer to mentoring"]
    assert context.lead.name == "Karen Lee"


def test_a_new_lead_professional_closes_the_previous_one(
    january, april, make_ready_case, coordinator
):
    case = make_ready_case()
    item = agendas.add_to_agenda(january, case, NEW, coordinator)
    services.save_item_record(item, _continue(january, lead=_lead("Zoë Brennan")), coordinator)
    at_the_meeting(january)
    services.complete_meeting(january, coordinator)
    review = agendas.add_to_agenda(april, case, REVIEW, coordinator)
    services.save_item_record(
        review,
        _continue(april, lead=_lead("Aisha Rahman", kind=LeadKind.PRACTITIONER)),
        coordinator,
    )
    at_the_meeting(april)
    services.complete_meeting(april, coordinator)
    history = [(lp.name, lp.starts_on, lp.ends_on) for lp in services.lead_history(case)]
    assert history == [
        ("Zoë Brennan", date(2027, 1, 12), date(2027, 4, 6)),
        ("Aisha Rahman", date(2027, 4, 6), None),
    ]


def test_attendance_and_guests(january, make_agency, coordinator):
    members = [
        add_member(
            january.forum,
            name=n,
            email=f"{n.lower()}@example.org",
            agency=make_agency(),
            role=MemberRole.STANDING,
            user=coordinator,
        )
        for n in ("Zoe", "Paul")
    ]
    services.save_attendance(
        january,
        {members[0].id: AttendanceStatus.PRESENT, members[1].id: AttendanceStatus.APOLOGIES},
        [services.Guest("Dr Amira Patel", "Specialist CAMHS")],
        coordinator,
    )
    rows = {a.name: (a.status, a.agency_name) for a in services.attendance_of(january)}
    assert rows["Zoe"][0] == AttendanceStatus.PRESENT
    assert rows["Paul"][0] == AttendanceStatus.APOLOGIES
    assert rows["Dr Amira Patel"] == (AttendanceStatus.PRESENT, "Specialist CAMHS")


def test_record_page_for_chair_and_coordinator_only(app, january, make_user, coordinator):
    from maf.auth.models import Role
    from tests.conftest import PASSWORD, submit

    outsider = make_user(Role.PRACTITIONER, districts=coordinator.districts)
    for user, status in ((coordinator, 200), (january.forum.chair, 200), (outsider, 404)):
        browser = app.test_client()
        submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
        assert browser.get(f"/meetings/{january.id}/record").status_code == status


def test_saving_an_item_with_bad_input_keeps_what_was_typed(
    client, sign_in, january, make_ready_case, coordinator
):
    from tests.conftest import csrf_token_from

    item = agendas.add_to_agenda(january, make_ready_case(), NEW, coordinator)
    sign_in(coordinator)
    url = f"/meetings/{january.id}/record/items/{item.id}"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token_from(client.get(url).text),
            "version": "0",
            "discussion": "Long discussion typed in the room",
            "outcome": "close",
            "actions-0-what": "Call the family",
        },
    )
    assert response.status_code == 400
    assert "Long discussion typed in the room" in response.text
    assert "Enter who will do action 1" in response.text


def test_the_lead_professional_and_the_chair_can_read_the_case(
    app, january, make_ready_case, make_user, coordinator
):
    from maf.auth.models import Role
    from tests.conftest import PASSWORD, submit

    lead = make_user(Role.PRACTITIONER, email="zoe@example.org")
    stranger = make_user(Role.PRACTITIONER, districts=coordinator.districts)
    case = make_ready_case()
    item = agendas.add_to_agenda(january, case, NEW, coordinator)
    services.save_item_record(item, _continue(january, lead=_lead()), coordinator)
    at_the_meeting(january)
    services.complete_meeting(january, coordinator)
    for user, status in ((lead, 200), (january.forum.chair, 200), (stranger, 404)):
        browser = app.test_client()
        submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
        assert browser.get(f"/cases/{case.id}").status_code == status, user.email


def test_the_next_agenda_shows_the_lead_professional_and_outstanding_actions(
    client, sign_in, january, april, make_ready_case, make_agency, coordinator
):
    """Carry forward (seed 004): the review arrives with its LP and what is still to do."""
    import io

    import docx

    from maf.agendas.document import agenda_document

    nursing = make_agency(name="School Nursing")
    case = make_ready_case()
    item = agendas.add_to_agenda(january, case, NEW, coordinator)
    action = services.ActionDetails("Health check", "Zoë Brennan", date(2027, 2, 1))
    services.save_item_record(
        item, _continue(january, lead=_lead(agency=nursing), actions=[action]), coordinator
    )
    at_the_meeting(january)
    services.complete_meeting(january, coordinator)
    sign_in(coordinator)
    page = client.get(f"/meetings/{april.id}/agenda/build").text
    assert "Lead professional: Zoë Brennan, School Nursing" in page
    assert "Health check (Zoë Brennan, due 1 February 2027)" in page
    agendas.add_to_agenda(april, case, REVIEW, coordinator)
    document = docx.Document(io.BytesIO(agenda_document(april)))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Zoë Brennan, School Nursing" in cells
    assert "Zoë Brennan, School Nursing" in client.get(f"/cases/{case.id}").text
