"""The minutes state only what is stored (issue 13; DESIGN §4 "Nothing false"). Found: the
minutes said "Progress update: asked of X; not received" for three lead professionals when only
one was asked. Seed 004: the lead professional reports progress at the next meeting."""

import io
from datetime import date

import docx
import pytest

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.outcomes import followup, progress, services
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import LeadKind, Outcome
from tests.conftest import at_the_meeting

JANUARY, APRIL = date(2027, 1, 12), date(2027, 4, 6)


def _document_text(document: bytes) -> str:
    read = docx.Document(io.BytesIO(document))
    cells = [cell.text for table in read.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in read.paragraphs] + cells)


@pytest.fixture
def reviews(make_forum, make_meeting, make_ready_case, coordinator, app_clock):
    """Three cases with a lead professional each, reviewed in April: a practitioner with an
    email (asked by email), a parent leading the case and a practitioner with no email address
    (neither can be emailed: the coordinator takes their update)."""
    app_clock.london(date(2026, 12, 2), 10, 0)
    forum = make_forum()
    january, april = make_meeting(JANUARY, forum=forum), make_meeting(APRIL, forum=forum)
    leads = [
        services.LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", True, "zoe@example.org"),
        services.LeadDetails(LeadKind.PARENT_CARER, "Karen Lee", True),
        services.LeadDetails(LeadKind.PRACTITIONER, "Paul Dennis", True),
    ]
    children = [("Amy", "Lee", date(2013, 2, 1)), ("Ben", "Ward", date(2014, 3, 2))]
    children.append(("Cara", "Fox", date(2012, 4, 3)))
    cases = []
    for (given, family, born), lead in zip(children, leads, strict=True):
        case = make_ready_case(given, family, born)
        item = agendas.add_to_agenda(january, case, ItemKind.NEW_CASE, coordinator)
        details = services.ItemDetails(outcome=Outcome.CONTINUE, next_review_on=APRIL, lead=lead)
        services.save_item_record(item, details, coordinator)
        cases.append(case)
    at_the_meeting(january)
    services.complete_meeting(january, coordinator)
    for case in cases:
        agendas.add_to_agenda(april, case, ItemKind.REVIEW, coordinator)
    return april, cases


def test_the_minutes_say_asked_only_of_the_lead_who_was_asked(reviews, coordinator, app_clock):
    april, cases = reviews
    app_clock.london(date(2027, 3, 1), 10, 0)
    assert progress.request_updates(april, coordinator) == 1, "one lead has an email"
    for item in agendas.scheduled_items(april):
        details = services.ItemDetails(outcome=Outcome.CONTINUE, next_review_on=date(2027, 6, 1))
        services.save_item_record(item, details, coordinator)
    at_the_meeting(april)
    minutes = services.complete_meeting(april, coordinator)

    text = _document_text(minutes_service.document_of(minutes))

    assert "Asked of Zoë Brennan on 1 March 2027; not received" in text
    assert text.count("Asked of") == 1, text
    assert "Karen Lee; not received" not in text and "Paul Dennis; not received" not in text
    # The case timelines agree: only Zoë's case says an update was requested.
    requested = [
        [event.detail for event in followup.case_timeline(case) if "requested" in event.what]
        for case in cases
    ]
    assert requested == [["For the meeting on 6 April 2027, asked of Zoë Brennan"], [], []]
